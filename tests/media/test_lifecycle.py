"""Copies share stored files; a file goes when its last row goes (cards/services/media.py)."""

import pytest

from cards.models import Card, Deck, MediaFile
from cards.services.deletion import delete_deck
from cards.services.imports import copy_deck
from cards.services.media import media_url, save_media
from tests.conftest import make_user
from tests.media.conftest import stored_files
from tests.media.images import image_bytes


@pytest.fixture
def picture_deck(owner):
    deck = Deck.objects.create(owner=owner, name="Pictures", is_public=True)
    media, _ = save_media(deck, owner, image_bytes("PNG"), "heart.png")
    Card.objects.create(deck=deck, question=f"Which organ? ![Heart]({media_url(media)})",
                        answer="The heart")  # fmt: skip
    return deck


@pytest.mark.django_db(transaction=True)
def test_a_copy_has_its_own_rows_and_urls_but_shares_the_file(owner, picture_deck, media_root):
    bob = make_user("bob")
    copy = copy_deck(picture_deck, bob)
    original, copied = MediaFile.objects.get(deck=picture_deck), MediaFile.objects.get(deck=copy)
    assert copied.file.name == original.file.name and copied.sha256 == original.sha256
    assert copied.uploaded_by is None  # the copier uploaded nothing: no quota used
    card = copy.cards.get()
    assert media_url(copied) in card.question and media_url(copied) in card.question_html
    assert f"/decks/{picture_deck.pk}/" not in card.question + card.question_html
    assert len(stored_files(media_root)) == 1
    # The original deck goes private and then away: the copy's image still works for bob.
    delete_deck(picture_deck)
    assert stored_files(media_root) == [copied.file.name]
    from django.test import Client

    client = Client()
    client.force_login(bob)
    assert client.get(media_url(copied)).status_code == 200
    # The last row goes: so does the file.
    delete_deck(copy)
    assert stored_files(media_root) == []


def test_a_rolled_back_delete_keeps_the_file(
    owner, picture_deck, media_root, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        MediaFile.objects.filter(deck=picture_deck).delete()
        transaction.set_rollback(True)
    assert callbacks == [] and len(stored_files(media_root)) == 1
    assert MediaFile.objects.count() == 1


def test_deleting_a_row_deletes_its_file_after_commit(
    picture_deck, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        MediaFile.objects.get().delete()
    assert stored_files(media_root) == []


def test_staff_remove_an_image_in_the_admin_and_its_file_goes(
    client, picture_deck, media_root, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    client.force_login(make_user("carol", is_staff=True, is_superuser=True))
    media = MediaFile.objects.get()
    listing = client.get(reverse("admin:cards_mediafile_changelist"))
    assert listing.status_code == 200 and "heart.png" in listing.text
    url = reverse("admin:cards_mediafile_delete", args=[media.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not MediaFile.objects.exists() and stored_files(media_root) == []
