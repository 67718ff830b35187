from django.core.management.base import BaseCommand, CommandError

from cards.importers.errors import ImportFileError
from cards.importers.revlog import find_deck, state_rows, write_csv
from cards.management.commands.import_revlog import get_user
from cards.models import MemoryState


class Command(BaseCommand):
    help = (
        "Write a user's FSRS memory states for deck NAME (yours, else the public one) to stdout "
        "as CSV: card_id,state,stability,difficulty,due,last_review,reps,lapses. One row per "
        "card the user has studied, in deck order. state is a name: New, Learning, Review or "
        "Relearning. Times are ISO 8601 in UTC with milliseconds (2026-01-31T04:00:00.000Z). "
        "card_id is the card's imported id, else our card number."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--deck", required=True)

    def handle(self, *args, **options):
        user = get_user(options["user"])
        try:
            deck = find_deck(user, options["deck"])
        except ImportFileError as exc:
            raise CommandError(f"--deck: {exc}") from None
        states = (
            MemoryState.objects.filter(user=user, deck=deck)
            .select_related("card")
            .order_by("card__position", "card_id")
        )
        write_csv(state_rows(states.iterator(chunk_size=2000)), self.stdout)
