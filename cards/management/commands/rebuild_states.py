from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cards.services.rebuild import rebuild_states


class Command(BaseCommand):
    help = (
        "Recompute every memory state from the review logs under each user's current settings, "
        "compare with the stored states, and rewrite the ones that differ (each mismatch is "
        "listed). With --check, only compare: exit status 1 if any state differs. A user whose "
        "settings or history cannot be replayed is reported and skipped (nothing of theirs "
        "changes); the others go on, and the exit status is 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Username; without it, every user with reviews.")
        parser.add_argument("--check", action="store_true", help="Compare only; change nothing.")

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"--user: no user named {options['user']!r}") from None
        failures: list[tuple[str, str]] = []
        mismatches = rebuild_states(
            user=user, progress=self.stdout.write, dry_run=options["check"], failures=failures
        )
        if failures:
            for username, reason in failures:
                self.stderr.write(f"{username}: {reason}")
            verb = "differ from their replay" if options["check"] else "rewritten"
            what = f"{mismatches} stored states {verb}; " if mismatches else ""
            raise CommandError(
                f"{what}{len(failures)} user(s) skipped because their settings or history "
                "cannot be replayed (listed above)"
            )
        if not mismatches:
            self.stdout.write(self.style.SUCCESS("Every stored state matches its replay."))
        elif options["check"]:
            raise CommandError(f"{mismatches} stored states differ from their replay")
        else:
            self.stdout.write(self.style.WARNING(f"Rewrote {mismatches} states that differed."))
