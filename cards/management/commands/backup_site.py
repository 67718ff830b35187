"""Back up the whole site's database to one file (see docs/security.md, "Backup and restore").

SQLite: SQLite's online backup API copies the live database page by page, consistent even
while the app is serving. PostgreSQL: pg_dump's custom format (restored with pg_restore).
--format json: Django's dumpdata, portable between the two databases but slower.
"""

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

# Rebuilt by migrate, or bound to one process: never worth restoring.
JSON_EXCLUDE = ["contenttypes", "auth.permission", "sessions"]


def pg_environment(db: dict) -> tuple[list[str], dict]:
    """pg_dump / pg_restore connection arguments and environment for Django's database."""
    args = ["--host", db.get("HOST") or "localhost", "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {}
    return args, env


def run(cmd: list[str], env: dict) -> None:
    if shutil.which(cmd[0]) is None:
        raise CommandError(f"{cmd[0]} is not installed (apt-get install postgresql-client)")
    done = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise CommandError(f"{cmd[0]} failed: {done.stderr.strip()}")


class Command(BaseCommand):
    help = (
        "Back up the whole database to one file: an SQLite copy (online backup API), a "
        "PostgreSQL custom-format dump (pg_dump), or with --format json a portable dumpdata "
        "file. Restore with restore_site."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", help="Where to write (default: studyapp-backup-<time>.<ext> here)."
        )
        parser.add_argument("--format", choices=["native", "json"], default="native")

    def handle(self, *args, **options):
        vendor = connection.vendor
        fmt = options["format"]
        ext = "json" if fmt == "json" else {"sqlite": "sqlite3", "postgresql": "pgdump"}[vendor]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        output = Path(options["output"] or f"studyapp-backup-{stamp}.{ext}")
        partial = output.with_name(output.name + ".partial")
        try:
            if fmt == "json":
                call_command("dumpdata", natural_foreign=True, exclude=JSON_EXCLUDE,
                             output=str(partial), verbosity=0)  # fmt: skip
            elif vendor == "sqlite":
                self._sqlite(partial)
            else:
                self._postgresql(partial)
            partial.replace(output)  # a backup file is complete or absent
        finally:
            partial.unlink(missing_ok=True)
        size = output.stat().st_size
        self.stdout.write(self.style.SUCCESS(f"Backed up the {vendor} database to {output} "
                                             f"({size:,} bytes)"))  # fmt: skip

    def _sqlite(self, output: Path) -> None:
        connection.ensure_connection()
        target = sqlite3.connect(output)
        try:
            connection.connection.backup(target)
        finally:
            target.close()

    def _postgresql(self, output: Path) -> None:
        db = connection.settings_dict
        args, env = pg_environment(db)
        run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file",
             str(output), *args, db["NAME"]], env)  # fmt: skip
