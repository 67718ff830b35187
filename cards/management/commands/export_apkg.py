from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cards.anki.export import ExportError, export_deck
from cards.management.commands.import_revlog import get_user
from cards.models import Deck


class Command(BaseCommand):
    help = (
        "Write a deck as an Anki deck package (.apkg) that Anki imports with the same notes, "
        "cards and images, and (unless --no-history) USER's review history and schedules."
    )

    def add_arguments(self, parser):
        parser.add_argument("deck_id", type=int, help="The deck's id (in its page's address).")
        parser.add_argument("out", help="Path of the .apkg file to write (replaced if it exists).")
        parser.add_argument("--user", required=True, help="Whose history and schedules to add.")
        parser.add_argument(
            "--no-history", action="store_true", help="Only the content: every card new."
        )

    def handle(self, *args, **options):
        user = get_user(options["user"])
        deck = Deck.objects.filter(pk=options["deck_id"]).first()
        if deck is None:
            raise CommandError(f"deck_id: no deck {options['deck_id']}")
        out = Path(options["out"])
        partial = out.with_name(out.name + ".part")
        try:
            with partial.open("wb") as file:
                summary = export_deck(deck, user, file, with_history=not options["no_history"])
            partial.replace(out)  # never a half-written package under the name asked for
        except OSError as exc:
            raise CommandError(f"{out}: cannot write the file ({exc.strerror})") from None
        except ExportError as exc:
            raise CommandError(f"deck {deck.pk}: {exc}") from None
        finally:
            partial.unlink(missing_ok=True)
        history = f", {summary.reviews:,} reviews" if summary.with_history else ""
        self.stdout.write(self.style.SUCCESS(
            f"{deck.name}: wrote {out}: {summary.notes:,} notes, {summary.cards:,} cards"
            f"{history}, {summary.media:,} images"
        ))  # fmt: skip
        if summary.missing_media:
            missing = ", ".join(summary.missing_media)
            self.stdout.write(f"Images shown but not in this deck: {missing}")
