import re

import pytest

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.services.settings import get_study_settings
from tests.study.conftest import add_cards

HTMX = {"HTTP_HX_REQUEST": "true"}


def study_url(deck):
    return f"/decks/{deck.pk}/study/"


def token_in(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no review token in the page"
    return match.group(1)


def rate(client, deck, response, rating=4, **extra):
    data = {"token": token_in(response), "rating": rating, "duration_ms": 1500}
    return client.post(f"{study_url(deck)}review/", data, **HTMX, **extra)


# -- the states of the page -----------------------------------------------------------------


def test_it_shows_the_first_question_with_the_answer_hidden(owner_client, deck):
    response = owner_client.get(study_url(deck))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html  # the full page
    assert response.context["current"].card.question == "What is **FSRS**?"
    assert "<strong>FSRS</strong>" in html
    assert re.search(r'id="study-answer"[^>]*hidden', html)
    assert 'id="study-reveal"' in html
    assert "How well did you know this?" in html
    assert "hx-disable" in html
    # Five buttons, each with the interval it leads to.
    assert html.count('name="rating"') == 5
    assert "Not at all" in html and "Perfectly" in html
    assert re.search(r'class="rating-interval">\d+(\.\d)?(m|h|d|mo|y)<', html)
    assert 'id="study-undo"' not in html  # nothing to undo yet


def test_reveal_without_javascript_shows_the_same_card_answered(owner_client, deck):
    card = Card.objects.get(question="What is htmx?")

    response = owner_client.get(f"{study_url(deck)}?card={card.pk}&reveal=1")

    html = response.content.decode()
    assert response.context["current"].card == card
    assert not re.search(r'id="study-answer"[^>]*hidden', html)
    assert 'id="study-reveal"' not in html
    assert "A library" in html


def test_it_never_shows_a_blank_card_and_ends_on_the_finished_view(owner_client, deck):
    seen = []
    response = owner_client.get(study_url(deck))
    while response.context["current"] is not None:
        seen.append(response.context["current"].card.question)
        assert len(seen) < 10
        response = rate(owner_client, deck, response, rating=5)  # Easy: gone for days

    assert seen == ["What is **FSRS**?", "What is htmx?"]
    html = response.content.decode()
    assert "All done for now" in html
    assert "You did <strong>2</strong> reviews today." in html
    assert "The next card is due in" in html
    assert "Blank one?" not in html


def test_a_blank_card_named_in_the_url_is_not_shown(owner_client, deck):
    blank = Card.objects.get(question="Blank one?")

    response = owner_client.get(f"{study_url(deck)}?card={blank.pk}&reveal=1")

    assert response.context["current"].card.question == "What is **FSRS**?"


def test_it_says_when_nothing_can_be_studied(owner_client, owner):
    deck = Deck.objects.create(owner=owner, name="Only blanks")
    Card.objects.create(deck=deck, question="Who knows?", answer="", position=1)

    response = owner_client.get(study_url(deck))

    html = response.content.decode()
    assert response.context["current"] is None
    assert "Nothing to study here yet" in html
    assert "1 card still needs an answer." in html


def test_study_all_mixes_own_and_public_decks(owner_client, deck, other):
    public = Deck.objects.create(owner=other, name="Bob's public", is_public=True)
    Card.objects.create(deck=public, question="Public?", answer="Yes", position=1)
    private = Deck.objects.create(owner=other, name="Bob's private")
    Card.objects.create(deck=private, question="Secret?", answer="Yes", position=1)

    seen = []
    response = owner_client.get("/study/")
    while response.context["current"] is not None:
        seen.append(response.context["current"].card.question)
        data = {"token": token_in(response), "rating": 5}
        response = owner_client.post("/study/review/", data, **HTMX)

    assert sorted(seen) == ["Public?", "What is **FSRS**?", "What is htmx?"]


# -- htmx fragments -------------------------------------------------------------------------


def test_an_htmx_get_returns_the_card_with_counters_out_of_band(owner_client, deck):
    response = owner_client.get(study_url(deck), **HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="study-counts" class="study-counts" hx-swap-oob="true"' in html
    assert 'id="study-progress" class="study-progress" hx-swap-oob="true"' in html
    assert 'id="study-announce" hx-swap-oob="innerHTML">Next card: What is **FSRS**?' in html


def test_a_rating_records_the_review_and_swaps_in_the_next_card(owner_client, owner, deck):
    first = owner_client.get(study_url(deck))

    response = rate(owner_client, deck, first, rating=4)

    assert response.status_code == 200
    log = ReviewLog.objects.get()
    assert (log.user, log.card.question, log.rating, log.duration_ms) == (
        owner,
        "What is **FSRS**?",
        4,
        1500,
    )
    assert response.context["current"].card.question == "What is htmx?"
    assert "cardReviewed" in response["HX-Trigger"]
    html = response.content.decode()
    assert "<html" not in html
    # Counters moved (the learning card is due again in 10 minutes: within the 20-minute
    # learn-ahead limit, so counted as Anki counts it).
    assert "<strong>1</strong> learning" in html
    assert "<strong>1</strong> new" in html
    assert "1 of 3 studied today" in html  # the learning card ahead is still to study
    assert 'id="study-undo"' in html


def test_a_rating_without_javascript_redirects_back(owner_client, deck):
    first = owner_client.get(study_url(deck))
    data = {"token": token_in(first), "rating": 3, "shown": first.context["shown_ms"] - 2000}

    response = owner_client.post(f"{study_url(deck)}review/", data)

    assert response.status_code == 302
    assert response["Location"] == study_url(deck)
    # The server measured the time from showing the question.
    assert 2000 <= ReviewLog.objects.get().duration_ms < 60_000


def test_a_resent_rating_counts_once(owner_client, deck):
    first = owner_client.get(study_url(deck))

    one = rate(owner_client, deck, first)
    two = rate(owner_client, deck, first)

    assert (one.status_code, two.status_code) == (200, 200)
    assert ReviewLog.objects.count() == 1
    assert two.context["current"].card.question == "What is htmx?"
    assert two.context["notice"] == ""


def test_a_rating_from_another_tab_is_refused_calmly(owner_client, deck):
    tab_one = owner_client.get(study_url(deck))
    tab_two = owner_client.get(study_url(deck))
    rate(owner_client, deck, tab_one)

    response = rate(owner_client, deck, tab_two, rating=1)

    assert response.status_code == 200
    assert ReviewLog.objects.count() == 1
    assert "already answered in another tab" in response.content.decode()
    assert response.context["current"].card.question == "What is htmx?"


def test_a_stale_rating_without_javascript_says_so_after_the_redirect(owner_client, deck):
    tab_one = owner_client.get(study_url(deck))
    tab_two = owner_client.get(study_url(deck))
    owner_client.post(f"{study_url(deck)}review/", {"token": token_in(tab_one), "rating": 4})

    response = owner_client.post(
        f"{study_url(deck)}review/", {"token": token_in(tab_two), "rating": 4}, follow=True
    )

    assert ReviewLog.objects.count() == 1
    assert "already answered in another tab" in response.content.decode()
    assert response.context["current"].card.question == "What is htmx?"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rating": "9"}, "The rating must be a whole number from 1 to 5."),
        ({"rating": "abc"}, "The rating must be a whole number from 1 to 5."),
        ({"rating": ""}, "Choose a rating from 1 to 5."),
        ({"token": ""}, "The review token is missing."),
        ({"token": "garbled"}, "The review token is not valid"),
    ],
)
def test_a_bad_rating_is_a_400_with_a_clear_message(owner_client, deck, data, message):
    first = owner_client.get(study_url(deck))
    post = {"token": token_in(first), "rating": "3", **data}

    response = owner_client.post(f"{study_url(deck)}review/", post, **HTMX)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert ReviewLog.objects.count() == 0


def test_the_four_grade_scale_shows_again_hard_good_easy(owner_client, owner, deck):
    settings = get_study_settings(owner)
    settings.rating_scale = "four"
    settings.save()

    response = owner_client.get(study_url(deck))

    html = response.content.decode()
    assert html.count('name="rating"') == 4
    for label in ("Again", "Hard", "Good", "Easy"):
        assert f'<span class="rating-num">{label}</span>' in html
    five = rate(owner_client, deck, response, rating=5)
    assert five.status_code == 400
    assert "four-point scale (1-4)" in five.content.decode()


def test_rating_buttons_put_the_number_or_the_name_first():
    from cards.views.study import RatingButton, rating_buttons

    five = rating_buttons([(1, "Forgot", "1m"), (2, "", "6m")], "five")
    assert five == [
        RatingButton("1", "1", "Forgot", "1m", "1 Forgot: next in 1m", forgotten=True),
        # A blank line keeps the height; "2" is a lapse on this scale, and says so.
        RatingButton("2", "2", "\u00a0", "6m", "2 (counts as forgotten): next in 6m", True),
    ]
    four = rating_buttons([(3, "Good", "10m")], "four")
    assert four == [RatingButton("3", "Good", "3", "10m", "3 Good: next in 10m")]


# -- undo -----------------------------------------------------------------------------------


def test_undo_brings_back_the_previous_card(owner_client, owner, deck):
    first = owner_client.get(study_url(deck))
    rate(owner_client, deck, first)

    response = owner_client.post(f"{study_url(deck)}undo/", **HTMX)

    assert response.status_code == 200
    assert ReviewLog.objects.count() == 0
    assert response.context["current"].card.question == "What is **FSRS**?"
    assert "Rating undone. Back to: What is **FSRS**?" in response.content.decode()
    # The card is new again, and the old token is stale.
    assert MemoryState.objects.get(user=owner).state == 0
    assert "already answered" in rate(owner_client, deck, first).content.decode()


def test_undo_without_javascript_redirects_to_that_card(owner_client, deck):
    rate(owner_client, deck, owner_client.get(study_url(deck)))
    card = Card.objects.get(question="What is **FSRS**?")

    response = owner_client.post(f"{study_url(deck)}undo/")

    assert response.status_code == 302
    assert response["Location"] == f"{study_url(deck)}?card={card.pk}"


def test_undo_with_nothing_to_undo_says_so(owner_client, deck):
    response = owner_client.post(f"{study_url(deck)}undo/", **HTMX)

    assert response.status_code == 200
    assert "There is nothing to undo." in response.content.decode()


# -- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("post", "review/"), ("post", "undo/")]
)
def test_another_users_private_deck_is_a_404(other_client, deck, method, suffix):
    response = getattr(other_client, method)(f"{study_url(deck)}{suffix}")
    assert response.status_code == 404


def test_another_users_private_card_cannot_be_named(other_client, deck):
    card = Card.objects.get(question="What is htmx?")

    response = other_client.get(f"/study/?card={card.pk}&reveal=1")

    assert response.context["current"] is None
    assert "A library" not in response.content.decode()


@pytest.mark.parametrize("path", ["/study/", "/study/review/", "/study/undo/"])
def test_it_requires_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/study/"), ("get", "/study/review/"), ("get", "/study/undo/")],
)
def test_it_rejects_the_wrong_method(owner_client, method, path):
    assert getattr(owner_client, method)(path).status_code == 405


# -- query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("cards", [10, 5000])
def test_the_review_post_makes_the_same_queries_with_few_or_many_cards(
    owner_client, owner, cards, django_assert_num_queries
):
    deck = Deck.objects.create(owner=owner, name="Big")
    add_cards(deck, cards)
    first = owner_client.get(study_url(deck))
    rate(owner_client, deck, first)  # a card in learning, so every part of the queue has rows
    second = owner_client.get(study_url(deck))
    data = {"token": token_in(second), "rating": 4, "duration_ms": 900}

    # Expect 13 queries:
    #  session, user (with study settings), deck (access),
    #  record_review: the memory state with its card (none: the card is new), the card,
    #    the rating gate: today's logs (a new card is rated while new cards are left), [savepoint],
    #    memory state insert, review log insert, [release],
    #  the queue: its snapshot (today's logs, due and new counts, first cards due: the one in
    #    learning is not due yet), the first new card, that card with its deck
    with django_assert_num_queries(13):
        response = owner_client.post(f"{study_url(deck)}review/", data, **HTMX)
    assert response.status_code == 200
    assert ReviewLog.objects.count() == 2


@pytest.mark.parametrize("cards", [10, 5000])
def test_the_study_page_makes_the_same_queries_with_few_or_many_cards(
    owner_client, owner, cards, django_assert_num_queries
):
    deck = Deck.objects.create(owner=owner, name="Big")
    add_cards(deck, cards)
    rate(owner_client, deck, owner_client.get(study_url(deck)))

    # Expect 6 queries: session, user (with study settings), deck, the queue's snapshot (today's
    #  logs, due and new counts, first cards due: none yet), the first new card, that card
    with django_assert_num_queries(6):
        owner_client.get(study_url(deck))


def test_code_highlighting_styles_come_only_with_a_card_that_has_code(owner_client, owner):
    """pygments.css (7.7 KB) is left out of the study page unless the card shown has code,
    which keeps the page inside its 100 KB budget; a swapped-in card with code brings it."""
    deck = Deck.objects.create(owner=owner, name="Code")
    Card.objects.create(deck=deck, question="Plain?", answer="Yes.", position=1)
    Card.objects.create(deck=deck, question="Code?", answer="```python\nx = 1\n```", position=2)
    plain = owner_client.get(study_url(deck)).content.decode()
    assert "Plain?" in plain and "css/pygments" not in plain

    swapped = rate(owner_client, deck, owner_client.get(study_url(deck)), rating=4)
    html = swapped.content.decode()
    assert "Code?" in html and "css/pygments" in html
    assert "css/pygments" in owner_client.get(f"/decks/{deck.pk}/").content.decode()
