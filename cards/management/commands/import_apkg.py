import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cards.anki.importer import import_package
from cards.anki.package import PackageError, open_package
from cards.importers.errors import ImportFileError
from cards.management.commands.import_revlog import get_user


class Progress:
    """Prints how far the import has got, at most once every `every` seconds: items done,
    items a second and the time left at that rate."""

    def __init__(self, write, every: float = 1.0):
        self.write, self.every = write, every
        self.started = self.shown = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.shown < self.every and done < total:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-9)
        left = f", about {round((total - done) / rate)} s left" if rate and done < total else ""
        percent = 100 * done // total if total else 100
        self.write(
            f"  {done:,} of {total:,} cards and reviews ({percent}%), {rate:,.0f} a second{left}"
        )


class Command(BaseCommand):
    help = (
        "Import an Anki package (.apkg or .colpkg, any Anki 2.1 format) for USER: notes, cards, "
        "decks, tags, images, review history and schedules (docs/anki.md). Importing the same "
        "package again updates its notes by their Anki GUID. Nothing is kept if it fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the .apkg or .colpkg file.")
        parser.add_argument(
            "--user", required=True,
            help="Whose decks (unless --site) and whose review history and schedules.",
        )  # fmt: skip
        parser.add_argument("--public", action="store_true", help="Let every user study the decks.")
        parser.add_argument(
            "--site", action="store_true",
            help="Make site decks (no owner, curated by staff) instead of the user's own.",
        )  # fmt: skip

    def handle(self, *args, **options):
        path = Path(options["file"])
        user = get_user(options["user"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        started = time.monotonic()
        try:
            with open_package(path, path.name) as package:
                self.stdout.write(
                    f"{path.name}: {package.note_count:,} notes, {package.card_count:,} cards, "
                    f"{package.review_count:,} reviews, {len(package.media):,} media files"
                )
                summary = import_package(
                    package, user, public=options["public"], site=options["site"],
                    progress=Progress(self.stdout.write),
                )  # fmt: skip
        except PackageError as exc:
            raise CommandError(f"{exc}; nothing was imported") from None
        except ImportFileError as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        self.stdout.write(self.style.SUCCESS(summary.text()))
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s.")
