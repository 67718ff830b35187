"""Replace the whole site's database with a backup made by backup_site.

The file's kind is read from its first bytes: an SQLite database, a pg_dump custom-format
archive, or a dumpdata JSON file. Everything in the current database is replaced, so the
command asks for --yes. Stop the app (or put it in maintenance) while restoring.
"""

import shutil
import sqlite3
import tempfile
from pathlib import Path

from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.db import connection, transaction

from cards.management.commands.backup_site import pg_environment, run

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
MAX_PROBLEMS_SHOWN = 20


def kind_of(path: Path) -> str:
    with path.open("rb") as file:
        head = file.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    if head.lstrip()[:1] in (b"[", b"{"):
        return "json"
    raise CommandError(f"{path}: not a backup made by backup_site (unknown file type)")


def check_json_backup(path: Path) -> None:
    """Read the whole backup and run the app's model validation on each of its rows before
    anything is flushed: a truncated file or a bad value is a CommandError naming it."""
    try:
        objects = list(
            # Natural keys of rows not in the database yet are deferred, not an error.
            serializers.deserialize("json", path.read_text("utf-8"), handle_forward_references=True)
        )
    except (DeserializationError, UnicodeDecodeError, RecursionError) as exc:
        cause = exc.__cause__ or exc
        raise CommandError(
            f"{path}: not a complete JSON backup ({cause}); nothing changed"
        ) from None
    problems = []
    for item in objects:
        instance = item.object
        if instance._meta.app_label != "cards":
            continue  # the app's own rules; Django's models keep theirs
        relations = [f.name for f in instance._meta.fields if f.is_relation]
        try:
            instance.clean_fields(exclude=relations)
            instance.clean()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                problems.append(
                    f"{instance._meta.label_lower} {instance.pk}: {name}: {messages[0]}"
                )
    if problems:
        shown = "\n".join(problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        shown += f"\n… and {more} more" if more > 0 else ""
        raise CommandError(f"{path}: {len(problems)} invalid value(s); nothing changed:\n{shown}")


class Command(BaseCommand):
    help = "Replace the whole database with a backup_site file. Asks for --yes."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="Yes, replace all current data.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        kind = kind_of(path)
        vendor = connection.vendor
        if kind not in ("json", vendor):
            raise CommandError(
                f"{path} is a {kind} backup but the database is {vendor}; "
                "make a --format json backup to move between them"
            )
        if not options["yes"]:
            raise CommandError("This replaces every row of the current database: add --yes")
        if kind == "json":
            self._json(path)
        elif kind == "sqlite":
            self._sqlite(path)
        else:
            self._postgresql(path)
        self.stdout.write(self.style.SUCCESS(f"Restored {path}. Run migrate if it is older."))

    def _json(self, path: Path) -> None:
        check_json_backup(path)
        with tempfile.TemporaryDirectory() as folder:
            fixture = Path(folder) / "backup.json"  # loaddata goes by the file's extension
            shutil.copyfile(path, fixture)
            with transaction.atomic():
                call_command("flush", interactive=False, verbosity=0)
                call_command("loaddata", str(fixture), verbosity=0)

    def _sqlite(self, path: Path) -> None:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            try:
                (status,) = source.execute("PRAGMA integrity_check").fetchone()
            except sqlite3.DatabaseError as exc:
                status = str(exc)
            if status != "ok":
                raise CommandError(f"{path}: the backup is damaged ({status}); nothing changed")
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()

    def _postgresql(self, path: Path) -> None:
        db = connection.settings_dict
        args, env = pg_environment(db)
        connection.close()
        run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
             "--single-transaction", "--dbname", db["NAME"], *args, str(path)], env)  # fmt: skip
