"""Images in Markdown (cards/markdown.py): only this app's media URLs, alt text escaped, lazy."""

from html.parser import HTMLParser

import pytest

from cards.markdown import render_markdown
from cards.models import Card, Deck
from cards.services.media import media_url, save_media
from tests.media.images import image_bytes

SHA = "0123456789abcdef" * 4
URL = f"/decks/7/media/{SHA}.png"


def test_a_media_image_becomes_a_lazy_img():
    html = render_markdown(f"![A heart]({URL})")
    assert html == (f'<p><img src="{URL}" alt="A heart" loading="lazy" decoding="async"></p>\n')


@pytest.mark.parametrize(
    "src",
    [
        "https://evil.example/pixel.png",
        f"https://evil.example{URL}",
        f"//evil.example{URL}",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "/static/favicon.svg",
        f"/decks/7/media/{SHA}.svg",
        f"/decks/7/media/{SHA[:-1]}.png",
        f"{URL}?x=1",
        f"/decks/7/media/../../admin/{SHA}.png",
    ],
)
def test_any_other_image_is_dropped_leaving_its_alt_text(src):
    html = render_markdown(f"before ![the alt]({src}) after")
    assert "<img" not in html and "the alt" in html and "before" in html


@pytest.mark.parametrize(
    "alt",
    [
        '"><script>alert(1)</script>',
        '" onerror="alert(1)',
        "<img src=x onerror=alert(1)>",
        "' onload='alert(1)",
    ],
)
def test_alt_text_is_escaped(alt):
    """The alt text comes back as one attribute's value, whatever it holds: no tag, no
    attribute of its own."""
    html = render_markdown(f"![{alt}]({URL})")
    parsed = _Tags()
    parsed.feed(html)
    assert [tag for tag, _ in parsed.tags] == ["p", "img"]
    attrs = dict(parsed.tags[1][1])
    assert sorted(attrs) == ["alt", "decoding", "loading", "src"]
    assert attrs["alt"] == alt.replace("\\", "") and attrs["src"] == URL


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def test_a_typed_img_tag_stays_text():
    html = render_markdown(f'<img src="{URL}" onerror="alert(1)">')
    assert "<img" not in html and "&lt;img" in html


def test_markdown_inside_the_alt_text_is_plain_text():
    html = render_markdown(f"![**bold** and `code`]({URL})")
    assert 'alt="bold and code"' in html


def test_a_card_shows_its_image_on_the_study_page(owner_client, owner):
    deck = Deck.objects.create(owner=owner, name="Pictures")
    media, _ = save_media(deck, owner, image_bytes("PNG"), "heart.png")
    card = Card.objects.create(deck=deck, question=f"![Heart]({media_url(media)})", answer="A")
    response = owner_client.get(f"/decks/{deck.pk}/study/?card={card.pk}")
    assert response.status_code == 200
    assert f'<img src="{media_url(media)}" alt="Heart" loading="lazy" decoding="async">' in (
        response.text
    )
    assert owner_client.get(media_url(media)).status_code == 200


def test_the_csp_still_allows_images_from_this_site_only(client):
    from django.conf import settings

    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert "img-src" not in directives or directives["img-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
