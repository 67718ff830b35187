"""Serving images (cards/views/media.py): access follows the deck, caching follows access."""

import pytest
from django.test import Client
from django.urls import reverse

from cards.models import Deck, MediaFile
from cards.services.media import media_url, save_media
from tests.conftest import make_user
from tests.media.images import image_bytes


@pytest.fixture
def private_image(owner):
    deck = Deck.objects.create(owner=owner, name="Private")
    return save_media(deck, owner, image_bytes("PNG"), "secret.png")[0]


@pytest.fixture
def public_image(owner):
    deck = Deck.objects.create(owner=owner, name="Public", is_public=True)
    return save_media(deck, owner, image_bytes("JPEG"), "open.jpg")[0]


def test_a_private_decks_image_is_the_owners_only(client, owner, private_image):
    url = media_url(private_image)
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == private_image.file.open("rb").read()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    client.force_login(make_user("bob"))
    assert client.get(url).status_code == 404
    assert Client().get(url).status_code == 404  # logged out: the same 404, no log-in redirect


def test_a_public_decks_image_is_for_everyone_and_cacheable(client, public_image, settings):
    url = media_url(public_image)
    client.force_login(make_user("bob"))
    for response in (client.get(url), Client().get(url)):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        cache = response["Cache-Control"]
        # PrivateCacheMiddleware leaves it alone, even for a logged-in browser.
        assert cache == f"public, max-age={settings.MEDIA_PUBLIC_MAX_AGE}, immutable"


def test_an_image_stays_with_its_deck(client, owner, private_image):
    other_deck = Deck.objects.create(owner=owner, name="Other")
    client.force_login(owner)
    wrong_deck = reverse("media_serve", args=[other_deck.pk, f"{private_image.sha256}.png"])
    wrong_ext = reverse("media_serve", args=[private_image.deck_id, f"{private_image.sha256}.gif"])
    for url in (wrong_deck, wrong_ext, media_url(private_image) + "x"):
        assert client.get(url).status_code == 404


def test_the_etag_answers_not_modified(client, owner, private_image):
    client.force_login(owner)
    url = media_url(private_image)
    etag = client.get(url)["ETag"]
    assert etag == f'"{private_image.sha256}"'
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_the_web_server_can_send_the_file(client, owner, private_image, settings, media_root):
    client.force_login(owner)
    url = media_url(private_image)
    settings.MEDIA_SERVE_WITH = "x-accel-redirect"
    response = client.get(url)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == "/protected-media/" + private_image.file.name
    assert response["Content-Type"] == "image/png"
    settings.MEDIA_SERVE_WITH = "x-sendfile"
    response = client.get(url)
    assert response["X-Sendfile"] == str(media_root / private_image.file.name)
    client.force_login(make_user("bob"))
    assert client.get(url).status_code == 404  # access is checked before the handing over


def test_serving_takes_a_fixed_number_of_queries(
    client, owner, private_image, django_assert_num_queries
):
    client.force_login(owner)
    url = media_url(private_image)
    client.get(url)
    with django_assert_num_queries(3):  # session, user, the image with its deck
        client.get(url)


def test_a_missing_file_is_a_404(client, owner, private_image):
    private_image.file.storage.delete(private_image.file.name)
    client.force_login(owner)
    assert client.get(media_url(private_image)).status_code == 404
    assert MediaFile.objects.count() == 1
