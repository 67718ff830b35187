"""Uploading images (cards/services/media.py, cards/views/media.py): every accepted format is
re-encoded and stored once under its hash; every refused kind says why and stores nothing."""

import hashlib
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from cards.models import Deck, MediaFile
from tests.conftest import make_user
from tests.media.conftest import stored_files
from tests.media.images import (
    SVG,
    animated_gif,
    image_bytes,
    jpeg_with_exif,
    png_header_only,
    polyglot,
)

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def deck(owner):
    return Deck.objects.create(owner=owner, name="Anatomy")


def upload(client, deck, data: bytes, name: str, **extra):
    url = reverse("media_upload", args=[deck.pk])
    return client.post(url, {"image": SimpleUploadedFile(name, data), **extra}, **JSON)


@pytest.mark.parametrize(
    "fmt,name,ext,content_type",
    [
        ("JPEG", "photo.jpg", "jpg", "image/jpeg"),
        ("JPEG", "photo.JPEG", "jpg", "image/jpeg"),
        ("PNG", "diagram.png", "png", "image/png"),
        ("GIF", "icon.gif", "gif", "image/gif"),
        ("WEBP", "shot.webp", "webp", "image/webp"),
    ],
)
def test_each_valid_format_is_re_encoded_and_stored_under_its_hash(
    owner_client, deck, media_root, fmt, name, ext, content_type
):
    response = upload(owner_client, deck, image_bytes(fmt), name, alt="A heart")
    assert response.status_code == 201, response.content
    media = MediaFile.objects.get()
    stored = (media_root / media.file.name).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == media.sha256
    assert media.file.name == f"media/{media.sha256[:2]}/{media.sha256}.{ext}"
    assert (media.extension, media.content_type, media.size) == (ext, content_type, len(stored))
    assert (media.width, media.height, media.original_name) == (40, 30, name)
    assert Image.open(io.BytesIO(stored)).format == fmt
    body = response.json()
    assert body["url"] == f"/decks/{deck.pk}/media/{media.sha256}.{ext}"
    assert body["markdown"] == f"![A heart]({body['url']})"
    assert stored_files(media_root) == [media.file.name]


def test_exif_and_comments_are_stripped_and_the_photo_stays_upright(owner_client, deck, media_root):
    data = jpeg_with_exif()
    assert b"SpyCam" in data and b"secret comment" in data
    assert upload(owner_client, deck, data, "holiday.jpg").status_code == 201
    media = MediaFile.objects.get()
    stored = (media_root / media.file.name).read_bytes()
    assert b"SpyCam" not in stored and b"secret comment" not in stored
    image = Image.open(io.BytesIO(stored))
    assert dict(image.getexif()) == {}
    assert image.size == (20, 40) == (media.width, media.height) or image.size == (20, 40)


def test_an_animated_gif_keeps_its_frames(owner_client, deck, media_root):
    assert upload(owner_client, deck, animated_gif(4), "spin.gif").status_code == 201
    stored = (media_root / MediaFile.objects.get().file.name).read_bytes()
    assert Image.open(io.BytesIO(stored)).n_frames == 4


def test_the_same_image_twice_in_a_deck_is_one_row_and_one_file(owner_client, deck, media_root):
    data = image_bytes("PNG")
    first = upload(owner_client, deck, data, "a.png")
    second = upload(owner_client, deck, data, "again.png")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["url"] == second.json()["url"]
    assert MediaFile.objects.count() == 1
    assert len(stored_files(media_root)) == 1


def test_the_same_image_in_two_decks_is_two_rows_sharing_one_file(
    owner, owner_client, deck, media_root
):
    other_deck = Deck.objects.create(owner=owner, name="Physiology")
    data = image_bytes("PNG")
    upload(owner_client, deck, data, "a.png")
    upload(owner_client, other_deck, data, "a.png")
    assert MediaFile.objects.count() == 2
    assert len(stored_files(media_root)) == 1


REFUSED = [
    ("polyglot.gif", polyglot, "HTML or script"),
    (
        "page.png",
        lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        "HTML or script",
    ),
    ("bomb.png", lambda: png_header_only(7000, 7000), "pixels; images may have at most"),
    ("wide.png", lambda: image_bytes("PNG", size=(9000, 4)), "each side may be at most 8000"),
    ("header.png", lambda: png_header_only(100_000, 100_000), "(a decompression bomb)"),
    ("drawing.svg", lambda: SVG, "SVG images are not accepted"),
    ("drawing.png", lambda: SVG, "SVG images are not accepted"),
    ("photo.png", lambda: image_bytes("JPEG"), "a JPEG image but its name has .png"),
    ("photo", lambda: image_bytes("JPEG"), "its name has no extension"),
    ("notes.txt", lambda: b"just some text", "not a JPEG, PNG, GIF or WebP"),
    ("scan.bmp", lambda: image_bytes("BMP"), "not a JPEG, PNG, GIF or WebP"),
    ("cut.png", lambda: image_bytes("PNG", size=(200, 200))[:120], "could not be decoded"),
    ("empty.png", lambda: b"", "the file is empty"),
]


@pytest.mark.parametrize("name,make,reason", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_upload_says_why_and_stores_nothing(
    owner_client, deck, media_root, name, make, reason
):
    response = upload(owner_client, deck, make(), name)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith(f"{name}: ") and reason in error and "Nothing was stored" in error
    assert MediaFile.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_decompression_bomb_is_refused_by_pillow_too_when_our_caps_are_lifted(
    owner_client, deck, media_root, settings
):
    settings.MEDIA_MAX_SIDE = settings.MEDIA_MAX_PIXELS = 10**12
    response = upload(owner_client, deck, png_header_only(30_000, 30_000), "bomb.png")
    assert response.status_code == 400
    assert "decompression bomb" in response.json()["error"]
    assert stored_files(media_root) == []


def test_an_animation_with_too_many_pixels_in_all_is_refused(
    owner_client, deck, settings, media_root
):
    settings.MEDIA_MAX_PIXELS = 16 * 16 * 3
    response = upload(owner_client, deck, animated_gif(4), "spin.gif")
    assert response.status_code == 400 and "4 frames" in response.json()["error"]
    assert stored_files(media_root) == []


def test_a_file_over_the_byte_cap_is_refused(owner_client, deck, settings, media_root):
    settings.MEDIA_MAX_BYTES = 100
    response = upload(owner_client, deck, image_bytes("PNG", size=(64, 64)), "big.png")
    assert response.status_code == 400
    assert "images may be at most 100" in response.json()["error"]
    assert stored_files(media_root) == []


def test_going_over_the_quota_is_refused_and_the_same_image_costs_nothing_twice(
    owner, owner_client, deck, settings, media_root
):
    first = image_bytes("PNG", color=(1, 2, 3))
    assert upload(owner_client, deck, first, "one.png").status_code == 201
    used = MediaFile.objects.get().size
    settings.MEDIA_QUOTA_BYTES = used + 10
    other_deck = Deck.objects.create(owner=owner, name="Other")
    # The same picture in another deck is already paid for.
    assert upload(owner_client, other_deck, first, "one.png").status_code == 201
    response = upload(owner_client, deck, image_bytes("PNG", color=(9, 9, 9)), "two.png")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (
        error.startswith("two.png: your images already take") and "quota" not in error.lower()[:0]
    )
    assert MediaFile.objects.count() == 2
    assert len(stored_files(media_root)) == 1


def test_without_javascript_the_page_shows_the_markdown_to_copy(owner_client, deck):
    url = reverse("media_upload", args=[deck.pk])
    form = owner_client.get(url)
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    data = {"image": SimpleUploadedFile("x-ray.png", image_bytes("PNG")), "alt": "Chest [front]"}
    response = owner_client.post(url, data)
    assert response.status_code == 200
    media = MediaFile.objects.get()
    assert f"![Chest \\[front\\]](/decks/{deck.pk}/media/{media.sha256}.png)" in response.text
    refused = owner_client.post(url, {"image": SimpleUploadedFile("a.svg", SVG)})
    assert refused.status_code == 400 and "SVG images are not accepted" in refused.text


def test_only_someone_who_may_edit_the_deck_can_upload(client, owner, deck, media_root):
    bob = make_user("bob")
    public = Deck.objects.create(owner=owner, name="Shared", is_public=True)
    client.force_login(bob)
    for target in (deck, public):  # private: unseen; public: seen but not bob's
        assert upload(client, target, image_bytes("PNG"), "a.png").status_code == 404
    client.logout()
    response = upload(client, deck, image_bytes("PNG"), "a.png")
    assert response.status_code == 302  # to the log-in page
    assert MediaFile.objects.count() == 0 and stored_files(media_root) == []


def test_staff_may_upload_to_a_public_deck(client, owner, media_root):
    public = Deck.objects.create(owner=owner, name="Shared", is_public=True)
    client.force_login(make_user("carol", is_staff=True))
    assert upload(client, public, image_bytes("PNG"), "a.png").status_code == 201


def test_the_upload_needs_the_csrf_token(owner, deck, media_root):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert upload(client, deck, image_bytes("PNG"), "a.png").status_code == 403
    assert stored_files(media_root) == []


def test_the_json_answer_is_json(owner_client, deck):
    response = upload(owner_client, deck, image_bytes("PNG"), "a.png")
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["created"] is True


def test_the_editors_offer_the_upload(owner_client, owner, deck):
    from cards.models import Card

    card = Card.objects.create(deck=deck, question="Q", answer="A")
    action = f'action="{reverse("media_upload", args=[deck.pk])}"'
    assert action in owner_client.get(reverse("card_create", args=[deck.pk])).text
    assert action in owner_client.get(reverse("card_edit", args=[card.pk])).text
    edit = owner_client.get(f"/decks/{deck.pk}/study/cards/{card.pk}/edit/")
    assert edit.status_code == 200 and action in edit.text
    assert "js/media_upload.js" in edit.text


def test_the_admin_card_form_offers_the_upload_for_editable_decks(client, owner, deck):
    from cards.models import Card

    staff = make_user("carol", is_staff=True, is_superuser=True)
    public = Deck.objects.create(owner=owner, name="Shared", is_public=True)
    client.force_login(staff)
    shared_card = Card.objects.create(deck=public, question="Q", answer="A")
    private_card = Card.objects.create(deck=deck, question="Q", answer="A")
    page = client.get(reverse("admin:cards_card_change", args=[shared_card.pk]))
    assert f'action="{reverse("media_upload", args=[public.pk])}"' in page.text
    page = client.get(reverse("admin:cards_card_change", args=[private_card.pk]))
    assert page.status_code == 200 and "data-media-upload" not in page.text


def test_transparency_survives_re_encoding(owner_client, deck, media_root):
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    rgba.putpixel((0, 0), (0, 0, 255, 255))
    palette = rgba.convert("RGB").convert("P")
    palette.info["transparency"] = palette.getpixel((1, 1))
    for image, name in ((rgba, "alpha.png"), (palette, "indexed.png"), (palette, "indexed.gif")):
        out = io.BytesIO()
        image.save(out, name.rsplit(".", 1)[1].upper(), transparency=image.info.get("transparency"))
        assert upload(owner_client, deck, out.getvalue(), name).status_code == 201, name
    for media in MediaFile.objects.all():
        stored = Image.open(io.BytesIO((media_root / media.file.name).read_bytes()))
        assert stored.convert("RGBA").getpixel((1, 1))[3] == 0, media.original_name
        assert stored.convert("RGBA").getpixel((0, 0))[3] == 255, media.original_name


def test_a_phones_multi_picture_jpeg_is_stored_as_its_first_picture(owner_client, deck, media_root):
    first, second = Image.new("RGB", (30, 20), (255, 0, 0)), Image.new("RGB", (30, 20), (0, 0, 255))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    response = upload(owner_client, deck, out.getvalue(), "IMG_0001.jpg")
    assert response.status_code == 201, response.content
    media = MediaFile.objects.get()
    stored = Image.open(io.BytesIO((media_root / media.file.name).read_bytes()))
    assert (stored.format, media.extension, stored.size) == ("JPEG", "jpg", (30, 20))
    assert stored.getpixel((5, 5))[0] > 200  # the first (red) picture
