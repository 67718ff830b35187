from dataclasses import dataclass, field

import pytest

from tests.conftest import make_user

# Text that only alice's private objects hold: it must never appear in a page someone else gets.
PRIVATE_MARKERS = ("PRIVATE-DECK-qz7", "PRIVATE-Q-qz7", "PRIVATE-A-qz7", "PRIVATE-DESC-qz7")


@dataclass
class PrivateWorld:
    owner: object  # alice: owns the private objects
    other: object  # bob: an ordinary user who must reach none of them
    staff: object  # carol: superuser
    deck: object
    card: object
    ids: dict = field(default_factory=dict)


@pytest.fixture
def world(db):
    from cards.models import Card, Deck
    from cards.services.reviews import issue_review_token, record_review
    from cards.services.settings import get_study_settings

    owner, other, staff = (
        make_user("alice"),
        make_user("bob"),
        make_user("carol", is_staff=True, is_superuser=True),
    )
    # A public deck first, so the private objects' ids differ from 1 and from each other.
    public = Deck.objects.create(owner=staff, name="Public deck", is_public=True)
    Card.objects.create(deck=public, question="A public question", answer="A public answer")
    deck = Deck.objects.create(
        owner=owner, name=PRIVATE_MARKERS[0], description=PRIVATE_MARKERS[3], is_public=False
    )
    card = Card.objects.create(deck=deck, question=PRIVATE_MARKERS[1], answer=PRIVATE_MARKERS[2])
    Card.objects.create(deck=deck, question="PRIVATE-Q-qz7 blank one", answer="", position=2)
    for user in (owner, other, staff):
        get_study_settings(user)  # made on first use; made here so a GET in a test writes nothing
    result = record_review(owner, issue_review_token(owner, card, None), 4, duration_ms=3000)
    ids = {
        "deck": deck.pk,
        "card": card.pk,
        "review": result.log.pk,
        "memory": result.memory.pk,
        "settings": owner.study_settings.pk,
        "user": owner.pk,
    }
    from cards.models import OptimizerRun

    ids["optimizer_run"] = OptimizerRun.objects.create(user=owner, status="done").pk
    from cards.models import ImportJob

    ids["import_job"] = ImportJob.objects.create(
        user=owner, kind="deck_file", status="done", filename="PRIVATE-DECK-qz7.csv", deck=deck
    ).pk
    world = PrivateWorld(owner, other, staff, deck, card, ids)
    # An image of the private deck, for the media route's <filename> (urlwalk._candidates).
    from cards.services.media import save_media
    from tests.media.images import image_bytes

    media, _ = save_media(deck, owner, image_bytes("PNG"), "private.png")
    world.media_filename = f"{media.sha256}.{media.extension}"
    return world
