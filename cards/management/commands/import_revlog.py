from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cards.importers.errors import ImportFileError
from cards.importers.revlog import find_deck, import_revlog
from cards.importers.text import decode_text


def get_user(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"--user: no user named {username!r}") from None


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: cannot read the file ({exc.strerror})") from None


class Command(BaseCommand):
    help = (
        "Import review history from an FSRS revlog CSV: "
        "card_id,review_time,review_rating[,review_state,review_duration] — review_time in "
        "milliseconds since 1970, review_rating 1-4 (Again, Hard, Good, Easy), review_state the "
        "state before the review (0-3; checked, then recomputed), review_duration in "
        "milliseconds. card_id is a card's id from the card import (or our card number for cards "
        "without one) in deck NAME: yours, else the public deck of that name. Every row is "
        "checked first; any bad row is reported with its row number and nothing is imported. "
        "Reviews already imported (same card, time and rating) are skipped. The affected cards' "
        "memory states are then recomputed from their whole history under your settings."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the revlog CSV file.")
        parser.add_argument("--user", required=True, help="Whose history this is.")
        parser.add_argument("--deck", required=True, help="Name of the deck the cards are in.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        user = get_user(options["user"])
        data = read_file(path)
        try:
            deck = find_deck(user, options["deck"])
            result = import_revlog(decode_text(data), user, deck, progress=self.stdout.write)
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}\nNothing was imported.") from None
        self.stdout.write(self.style.SUCCESS(f"{path.name} into {deck.name}: {result.summary()}"))
