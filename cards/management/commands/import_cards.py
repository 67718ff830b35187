from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cards.importers.csvfile import parse_cards_csv
from cards.importers.errors import ImportFileError
from cards.importers.load import save_deck
from cards.importers.text import decode_text
from cards.management.commands.import_revlog import get_user, read_file


class Command(BaseCommand):
    help = (
        "Import cards from CSV (header: question,answer[,id][,tags], any order) into your own "
        "deck NAME, created if missing. Cards are matched on id (else on the question), so "
        "importing again updates them in place. Nothing is saved if any row is malformed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file.")
        parser.add_argument("--user", required=True, help="Username of the deck's owner.")
        parser.add_argument("--deck", required=True, help="Name of the deck (created if missing).")

    def handle(self, *args, **options):
        path = Path(options["file"])
        user = get_user(options["user"])
        name = options["deck"].strip()
        if not name:
            raise CommandError("--deck: the deck name is empty")
        try:
            parsed = parse_cards_csv(decode_text(read_file(path)), title=name)
            self.stdout.write(f"{path.name}: read {len(parsed.cards)} cards")
            result = save_deck(
                parsed,
                owner=user,
                name=name,
                progress=lambda done, total: self.stdout.write(f"  saved {done}/{total}"),
            )
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported") from None
        self.stdout.write(self.style.SUCCESS(result.summary()))
