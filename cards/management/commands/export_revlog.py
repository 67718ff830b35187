from django.core.management.base import BaseCommand, CommandError

from cards.importers.errors import ImportFileError
from cards.importers.revlog import find_deck, revlog_rows, write_csv
from cards.management.commands.import_revlog import get_user
from cards.models import ReviewLog


class Command(BaseCommand):
    help = (
        "Write a user's review history to stdout as an FSRS revlog CSV: "
        "card_id,review_time,review_rating,review_state,review_duration (review_time in "
        "milliseconds since 1970, review_rating the FSRS grade 1-4, review_state the state "
        "before the review 0 New/1 Learning/2 Review/3 Relearning, review_duration in ms). "
        "card_id is the card's imported id, else our card number. import_revlog reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--deck", help="Only this deck (yours, else the public one).")

    def handle(self, *args, **options):
        user = get_user(options["user"])
        logs = ReviewLog.objects.filter(user=user)
        if options["deck"]:
            try:
                logs = logs.filter(deck=find_deck(user, options["deck"]))
            except ImportFileError as exc:
                raise CommandError(f"--deck: {exc}") from None
        logs = logs.select_related("card").order_by("reviewed_at", "id")
        write_csv(revlog_rows(logs.iterator(chunk_size=2000)), self.stdout)
