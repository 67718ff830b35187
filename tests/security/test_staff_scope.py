"""Staff curate public and site decks; another user's private deck stays out of their reach
outside the admin (issue 13, item 6): not listed on the import page, not writable by an import,
not editable.

The URL walk (test_url_walk.py) repeats the 404 check for every route with a staff account.
"""

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cards.models import Card, Deck
from tests.conftest import make_user
from tests.security.conftest import PRIVATE_MARKERS

CSV = b"question,answer\nStaff question,Staff answer\n"


@dataclass
class Decks:
    owner: object
    other: object
    deck: Deck  # alice's private deck
    card: Card
    public: Deck


@pytest.fixture
def world(db):
    """alice's private deck and a public one (lighter than the URL walk's world: no reviews)."""
    owner, other = make_user("alice"), make_user("bob")
    public = Deck.objects.create(owner=None, name="Public deck", is_public=True)  # a site deck
    deck = Deck.objects.create(owner=owner, name=PRIVATE_MARKERS[0], description=PRIVATE_MARKERS[3])
    card = Card.objects.create(deck=deck, question=PRIVATE_MARKERS[1], answer=PRIVATE_MARKERS[2])
    return Decks(owner, other, deck, card, public)


@pytest.fixture(params=["staff", "superuser"])
def staff_client(request, client, world):
    """A staff account with no permissions at all, and a superuser: the rule is the same."""
    superuser = request.param == "superuser"
    user = make_user(f"dave-{request.param}", is_staff=True, is_superuser=superuser)
    client.force_login(user)
    return client


def test_the_import_page_lists_no_private_deck_of_another_user(staff_client, world):
    response = staff_client.get("/decks/import/")
    assert response.status_code == 200
    for marker in PRIVATE_MARKERS:
        assert marker not in response.text
    assert "Public deck" in response.text  # the control: public decks are staff's to curate


def test_an_import_into_a_private_deck_of_another_user_is_refused(staff_client, world):
    before = Card.objects.filter(deck=world.deck).count()
    response = staff_client.post(
        "/decks/import/", {"file": SimpleUploadedFile("x.csv", CSV), "deck": world.deck.pk}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert Card.objects.filter(deck=world.deck).count() == before
    assert not Card.objects.filter(question="Staff question").exists()


def test_staff_still_import_into_a_public_deck(staff_client, world):
    public = world.public
    response = staff_client.post(
        "/decks/import/", {"file": SimpleUploadedFile("x.csv", CSV), "deck": public.pk}
    )
    assert response.status_code == 302
    assert Card.objects.filter(deck=public, question="Staff question").exists()


@pytest.mark.parametrize(
    "path",
    ["edit/", "delete/", "cards/new/", "study/", "export.csv", ""],
)
def test_every_editor_page_of_a_private_deck_is_404_for_staff(staff_client, world, path):
    url = f"/decks/{world.deck.pk}/{path}"
    assert staff_client.get(url).status_code == 404
    assert staff_client.post(url, {"name": "Taken over", "question": "q"}).status_code in (404, 405)
    world.deck.refresh_from_db()
    assert world.deck.name == PRIVATE_MARKERS[0]


def test_card_pages_of_a_private_deck_are_404_for_staff(staff_client, world):
    assert staff_client.get(f"/cards/{world.card.pk}/").status_code == 404
    for path in ("edit/", "answer/", "delete/"):
        url = f"/cards/{world.card.pk}/{path}"
        assert staff_client.get(url).status_code in (404, 405), url
        assert staff_client.post(url, {"answer": "Overwritten"}).status_code == 404, url
    world.card.refresh_from_db()
    assert world.card.answer == PRIVATE_MARKERS[2]


def test_the_rule_lives_on_the_model(world):
    staff = make_user("erin", is_staff=True)
    public = world.public
    own = Deck.objects.create(owner=staff, name="Erin's own")
    site = Deck.objects.create(owner=None, name="A site deck being prepared")  # private, no owner
    bobs_public = Deck.objects.create(owner=world.other, name="Bob's shared", is_public=True)
    assert set(Deck.objects.editable_by(staff)) == {public, own, site, bobs_public}
    assert not world.deck.can_edit(staff)
    assert all(deck.can_edit(staff) for deck in (public, own, site, bobs_public))
    # An ordinary user edits only their own decks, never a public or a site one.
    assert set(Deck.objects.editable_by(world.other)) == {bobs_public}
    assert not public.can_edit(world.other) and not site.can_edit(world.other)
    assert world.deck.can_edit(world.owner)
