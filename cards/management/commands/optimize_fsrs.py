from django.core.management.base import BaseCommand

from cards.management.commands.import_revlog import get_user
from cards.services.optimize import optimize_user


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"


class Command(BaseCommand):
    help = (
        "Fit a user's FSRS-6 parameters to their own review history (fsrs-rs-python, as Anki "
        "does), print log loss and RMSE(bins) before and after, and keep the new parameters only "
        "if they predict the history better. With too little history, says so and keeps the "
        "current parameters. Existing memory states are not rescheduled."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument(
            "--min-reviews",
            type=int,
            default=None,
            help="Training items (reviews on a later day than the card's previous one) needed "
            "before fitting; default 400.",
        )

    def handle(self, *args, **options):
        user = get_user(options["user"])
        extra = {}
        if options["min_reviews"] is not None:
            extra["min_reviews"] = options["min_reviews"]
        self.stdout.write(f"Fitting FSRS parameters for {user.username}…")
        result, items = optimize_user(user, **extra)
        self.stdout.write(f"Training items: {items}")
        before, after = result.log_loss_before, result.log_loss_after
        self.stdout.write(f"Log loss:    before {_fmt(before)}   after {_fmt(after)}")
        before, after = result.rmse_before, result.rmse_after
        self.stdout.write(f"RMSE(bins):  before {_fmt(before)}   after {_fmt(after)}")
        if result.improved:
            self.stdout.write(self.style.SUCCESS(f"Saved the new parameters. {result.message}"))
            self.stdout.write("Parameters: " + ", ".join(f"{w:.4f}" for w in result.parameters))
        else:
            self.stdout.write(self.style.WARNING(result.message))
