"""A deck with reversed and cloze notes and an image through the CSV zip
(services/media_transfer.py, cards/importers/csvnotes.py): same notes, cards and ords, and the
notes' fields point at the new deck's copy of the image."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cards.models import Deck, ImportJob, MediaFile, Note, NoteKind
from cards.services.media import media_url, save_media
from cards.services.notes import create_note
from tests.conftest import make_user
from tests.media.images import image_bytes

pytestmark = pytest.mark.django_db


def shape(deck):
    return [
        (n.kind, sorted(n.fields), [(c.ord, c.tags) for c in n.cards.order_by("ord")])
        for n in Note.objects.filter(deck=deck).order_by("pk")
    ]


def test_notes_with_an_image_round_trip_through_the_zip(owner, owner_client):
    deck = Deck.objects.create(owner=owner, name="Body")
    media, _ = save_media(deck, owner, image_bytes("PNG"), "heart.png")
    url = media_url(media)
    create_note(deck, NoteKind.REVERSED, {"Front": f"![Heart]({url})", "Back": "heart"}, "a")
    create_note(deck, NoteKind.OPTIONAL_REVERSED, {"Front": "lung", "Back": "poumon"})
    create_note(deck, NoteKind.CLOZE,
                {"Text": f"The {{{{c1::heart}}}} ![Heart]({url}) {{{{c2::beats}}}}",
                 "Back Extra": ""})  # fmt: skip
    data = owner_client.get(reverse("deck_export_zip", args=[deck.pk])).content

    bob = make_user("bob")
    client = Client()
    client.force_login(bob)
    response = client.post(reverse("deck_import"), {"file": SimpleUploadedFile("b.zip", data)})
    assert response.status_code == 302, response.content[:800]
    job = ImportJob.objects.get(user=bob)
    assert job.status == ImportJob.Status.DONE, job.message
    copy = Deck.objects.get(owner=bob)
    assert shape(copy) == shape(deck)
    new_url = media_url(MediaFile.objects.get(deck=copy))
    cloze = Note.objects.get(deck=copy, kind=NoteKind.CLOZE)
    assert new_url in cloze.fields["Text"] and url not in cloze.fields["Text"]
    reversed_ = Note.objects.get(deck=copy, kind=NoteKind.REVERSED)
    assert reversed_.fields["Front"] == f"![Heart]({new_url})"
    for card in copy.cards.all():
        assert url not in card.question + card.answer + card.question_html + card.answer_html
    assert sorted(c.ord for c in cloze.cards.all()) == [0, 1]
    assert client.get(new_url).status_code == 200
    assert client.get(url).status_code == 404  # the owner's private deck's image
