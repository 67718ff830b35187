from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cards.importers.errors import ImportFileError
from cards.importers.load import parse_deck_file, save_deck


class Command(BaseCommand):
    help = (
        "Import a deck from the flashcard site's export format (title line, then N / Q / question "
        "/ A / answer) or from CSV (header: question,answer[,id][,tags]). Importing the same file "
        "again updates the deck in place. Nothing is saved if any line is malformed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the export or CSV file.")
        parser.add_argument(
            "--owner",
            help="Username of the deck's owner; without it, a site deck curated by staff.",
        )
        parser.add_argument("--public", action="store_true", help="Let every user study the deck.")
        parser.add_argument("--name", help="Deck name (default: the file's title or file name).")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read the file ({exc.strerror})") from None
        owner = None
        if options["owner"]:
            try:
                owner = get_user_model().objects.get(username=options["owner"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"--owner: no user named {options['owner']!r}") from None
        try:
            parsed = parse_deck_file(data, path.name)
            self.stdout.write(f"{path.name}: read {len(parsed.cards)} cards")
            result = save_deck(
                parsed,
                owner=owner,
                name=options["name"],
                public=True if options["public"] else None,
                progress=lambda done, total: self.stdout.write(f"  saved {done}/{total}"),
            )
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported") from None
        self.stdout.write(self.style.SUCCESS(result.summary()))
