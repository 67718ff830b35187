"""Exports with images as a zip, and importing such a zip (cards/services/media_transfer.py)."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cards.models import Card, Deck, ImportJob, MediaFile
from cards.services.media import media_url, save_media
from tests.conftest import make_user
from tests.media.conftest import stored_files
from tests.media.images import image_bytes, polyglot


@pytest.fixture
def picture_deck(owner):
    deck = Deck.objects.create(owner=owner, name="Pictures")
    media, _ = save_media(deck, owner, image_bytes("JPEG"), "heart.jpg")
    gif, _ = save_media(deck, owner, image_bytes("GIF"), "dot.gif")
    Card.objects.create(deck=deck, question=f"Which organ? ![Heart]({media_url(media)})",
                        answer=f"The heart ![dot]({media_url(gif)})")  # fmt: skip
    Card.objects.create(deck=deck, question="No picture", answer="None")
    return deck


def _bob():
    bob = make_user("bob")
    client = Client()
    client.force_login(bob)
    return bob, client


def test_the_json_export_zip_round_trips_into_another_account(owner_client, picture_deck):
    response = owner_client.get(reverse("data_export_zip"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    shas = {m.sha256: m.extension for m in MediaFile.objects.all()}
    assert names == sorted(["data.json", *(f"media/{s}.{e}" for s, e in shas.items())])
    # The JSON inside is the plain export's.
    plain = b"".join(owner_client.get(reverse("data_export")).streaming_content)
    assert archive.read("data.json").split(b'"exported_at"')[0] == plain.split(b'"exported_at"')[0]

    bob, client = _bob()
    upload = SimpleUploadedFile("backup.zip", response.content)
    result = client.post(reverse("data_import"), {"file": upload})
    assert result.status_code == 302, result.content[:600]
    job = ImportJob.objects.get(user=bob)
    assert job.status == ImportJob.Status.DONE, job.message
    deck = Deck.objects.get(owner=bob)
    rows = {m.sha256: m for m in MediaFile.objects.filter(deck=deck)}
    assert len(rows) == 2 and all(m.uploaded_by == bob for m in rows.values())
    card = deck.cards.get(question__startswith="Which")
    for media in rows.values():
        assert media_url(media) in card.question + card.answer
        assert media_url(media) in card.question_html + card.answer_html
        assert client.get(media_url(media)).status_code == 200
    assert f"/decks/{picture_deck.pk}/" not in card.question + card.answer + card.question_html


def test_the_csv_export_zip_round_trips(owner_client, picture_deck):
    response = owner_client.get(reverse("deck_export_zip", args=[picture_deck.pk]))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert "pictures.csv" in archive.namelist()
    csv = b"".join(owner_client.get(reverse("deck_export_csv", args=[picture_deck.pk]))
                   .streaming_content)  # fmt: skip
    assert archive.read("pictures.csv") == csv  # the CSV inside is the plain export

    bob, client = _bob()
    upload = SimpleUploadedFile("pictures.zip", response.content)
    result = client.post(reverse("deck_import"), {"file": upload})
    assert result.status_code == 302, result.content[:800]
    job = ImportJob.objects.get(user=bob)
    assert job.status == ImportJob.Status.DONE, job.message
    deck = Deck.objects.get(owner=bob)
    assert deck.name == "pictures"
    card = deck.cards.get(question__startswith="Which")
    media = MediaFile.objects.filter(deck=deck)
    assert media.count() == 2
    for row in media:
        assert media_url(row) in card.question + card.answer
        assert client.get(media_url(row)).status_code == 200


def _zip(files: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_zip_with_a_bad_image_imports_nothing(owner_client, owner, picture_deck, media_root):
    exported = owner_client.get(reverse("data_export_zip")).content
    json_text = zipfile.ZipFile(io.BytesIO(exported)).read("data.json")
    bad = _zip({"data.json": json_text, f"media/{'a' * 64}.gif": polyglot()})
    bob, client = _bob()
    before = stored_files(media_root)
    result = client.post(reverse("data_import"), {"file": SimpleUploadedFile("b.zip", bad)})
    assert result.status_code == 200
    assert "HTML or script" in result.text and "Nothing was imported" in result.text
    assert not Deck.objects.filter(owner=bob).exists() and not ImportJob.objects.exists()
    assert stored_files(media_root) == before


def test_a_zip_over_the_quota_imports_nothing(owner_client, picture_deck, settings):
    exported = owner_client.get(reverse("data_export_zip")).content
    settings.MEDIA_QUOTA_BYTES = 10
    bob, client = _bob()
    result = client.post(reverse("data_import"),
                         {"file": SimpleUploadedFile("b.zip", exported)})  # fmt: skip
    assert result.status_code == 200 and "past your quota" in result.text
    assert not Deck.objects.filter(owner=bob).exists()


def test_a_zip_without_its_text_or_a_broken_zip_is_refused(owner_client):
    no_csv = SimpleUploadedFile("d.zip", _zip({"x.txt": b"hi"}))
    result = owner_client.post(reverse("deck_import"), {"file": no_csv})
    assert result.status_code == 200 and "the zip has no .csv file" in result.text
    broken = SimpleUploadedFile("d.zip", b"PK\x03\x04broken")
    result = owner_client.post(reverse("data_import"), {"file": broken})
    assert "cannot be read" in result.text


def test_a_zip_member_bigger_than_allowed_is_refused(owner_client, settings):
    settings.MEDIA_MAX_BYTES = 1000
    bomb = _zip({"data.json": b"{}", f"media/{'b' * 64}.png": b"\0" * 50_000})
    result = owner_client.post(reverse("data_import"), {"file": SimpleUploadedFile("z.zip", bomb)})
    assert "unpacked; at most" in result.text and not ImportJob.objects.exists()


def test_the_data_page_offers_the_zip_only_with_images(owner_client, owner, picture_deck):
    assert reverse("data_export_zip") in owner_client.get(reverse("data_page")).text
    _, client = _bob()
    assert reverse("data_export_zip") not in client.get(reverse("data_page")).text
