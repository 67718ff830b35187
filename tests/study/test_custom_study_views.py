"""Custom study's pages: the form on the deck page and the All-done view, each mode started and
studied to its end through the session page (htmx and plain forms), 404s, and the rating gate
on the study page (item 7: only cards due today or in the custom study session)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cards.models import Card, CustomStudySession, Deck, MemoryState, ReviewLog
from cards.scheduling import State
from cards.services.reviews import issue_review_token
from tests.study.conftest import add_cards

HTMX = {"HTTP_HX_REQUEST": "true"}
SESSION = "/study/custom/"


def form_url(deck=None):
    return f"/decks/{deck.pk}/custom-study/" if deck else "/study/custom-study/"


def token_in(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no review token in the page"
    return match.group(1)


def study_to_the_end(client, rating="4", limit=30) -> list[str]:
    """Rate every card the session shows (htmx); the questions in the order shown."""
    seen = []
    response = client.get(SESSION)
    while response.context["current"] is not None:
        seen.append(response.context["current"].card.question)
        assert len(seen) < limit
        data = {"token": token_in(response), "rating": rating}
        response = client.post(f"{SESSION}review/", data, **HTMX)
        assert response.status_code == 200, response.content
    assert "Custom study session finished" in response.content.decode()
    return seen


def make_due(user, card, due, state=State.REVIEW):
    MemoryState.of(
        user, card, state=state, stability=4.0, difficulty=5.0, due=due,
        last_review=due - timedelta(days=4), reps=2,
    ).save()  # fmt: skip


# -- the form ---------------------------------------------------------------------------------


def test_the_deck_page_and_the_all_done_view_offer_custom_study(owner_client, deck):
    assert form_url(deck) in owner_client.get(f"/decks/{deck.pk}/").content.decode()
    for card in Card.objects.exclude(answer=""):
        MemoryState.of(deck.owner, card, state=State.NEW, due=timezone.now(), suspended=True).save()

    done = owner_client.get(f"/decks/{deck.pk}/study/").content.decode()

    assert "All done for now" in done
    assert f'id="study-custom" href="{form_url(deck)}"' in done


def test_the_form_lists_every_mode_and_says_which_reschedule(
    owner_client, deck, django_assert_num_queries
):
    # session, user, deck (access), the current custom study session
    with django_assert_num_queries(4):
        response = owner_client.get(form_url(deck))

    html = response.content.decode()
    for mode in ("new_limit", "review_limit", "forgot", "ahead", "preview", "cram"):
        assert f'id="start-{mode}"' in html
    assert html.count("does not reschedule</span>") == 3
    assert html.count('class="badge reschedules">reschedules</span>') == 1
    assert re.search(r"Review ahead\s*<span class=\"badge reschedules\">", html)


def test_another_users_private_deck_is_a_404(other_client, deck):
    assert other_client.get(form_url(deck)).status_code == 404
    assert other_client.post(form_url(deck), {"mode": "cram"}).status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "forgot", "amount": "0"}, "Days: give a whole number from 1 to 365."),
        ({"mode": "cram", "amount": "x"}, "Give a whole number."),
        ({"mode": "backwards"}, "Choose one of the custom study modes."),
        ({"mode": "forgot", "amount": "1"}, "No cards match these criteria."),
        ({"mode": "cram", "tag": "a b"}, "Give one tag"),
    ],
)
def test_bad_input_shows_a_message_on_the_form(owner_client, deck, data, message):
    response = owner_client.post(form_url(deck), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CustomStudySession.objects.exists()


def test_raising_the_new_card_limit_goes_back_to_studying_with_more_new_cards(
    owner_client, owner, deck
):
    add_cards(deck, 30, start=10)
    response = owner_client.post(form_url(deck), {"mode": "new_limit", "amount": "5"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/decks/{deck.pk}/study/"
    assert "Today&#x27;s new-card limit is raised by 5." in response.content.decode()
    assert response.context["counts"].new == 25  # 20 a day + 5


# -- each mode, studied to its end ------------------------------------------------------------


def test_preview_new_cards_to_the_end_changes_nothing(owner_client, deck):
    response = owner_client.post(form_url(deck), {"mode": "preview", "amount": "1"})
    assert response["Location"] == SESSION

    page = owner_client.get(SESSION)
    html = page.content.decode()
    assert "Custom study: Preview new cards" in html and "Does not reschedule" in html
    assert [b.interval for b in page.context["buttons"]] == ["1m", "1m", "10m", "done", "done"]
    assert study_to_the_end(owner_client) == ["What is **FSRS**?", "What is htmx?"]
    assert not ReviewLog.objects.exists() and not MemoryState.objects.exists()


def test_again_brings_a_card_back_within_the_session(owner_client, deck):
    owner_client.post(form_url(deck), {"mode": "cram", "amount": "10"})
    first = owner_client.get(SESSION)
    card = first.context["current"].card

    again = owner_client.post(
        f"{SESSION}review/", {"token": token_in(first), "rating": "1"}, **HTMX
    )

    assert again.context["current"].card != card
    assert "<strong>1</strong> learning" in again.content.decode()
    later = study_to_the_end(owner_client)
    assert later[-1] == card.question  # shown again once nothing else is left
    assert not ReviewLog.objects.exists()


def test_review_forgotten_cards_to_the_end(owner_client, owner, deck):
    card = Card.objects.get(question="What is htmx?")
    memory = MemoryState.objects.filter(user=owner, card=card).first()
    owner_client.post(
        f"/decks/{deck.pk}/study/review/",
        {"token": issue_review_token(owner, card, memory), "rating": "1"},
    )
    before = MemoryState.objects.get(card=card)

    owner_client.post(form_url(deck), {"mode": "forgot", "amount": "1"})

    assert study_to_the_end(owner_client) == ["What is htmx?"]
    after = MemoryState.objects.get(card=card)
    assert (after.version, after.due) == (before.version, before.due)
    assert ReviewLog.objects.count() == 1


def test_review_ahead_to_the_end_reschedules(owner_client, owner, deck):
    cards = list(Card.objects.exclude(answer="").order_by("position"))
    for days, card in enumerate(cards, start=2):
        make_due(owner, card, timezone.now() + timedelta(days=days))

    owner_client.post(form_url(deck), {"mode": "ahead", "amount": "5"})

    assert study_to_the_end(owner_client) == [card.question for card in cards]
    assert ReviewLog.objects.count() == 2
    assert all(memory.reps == 3 for memory in MemoryState.objects.all())


def test_cram_a_tag_across_all_decks_without_javascript(owner_client, owner, deck, other):
    Card.objects.filter(question="What is htmx?").update(tags="web")
    public = Deck.objects.create(owner=other, name="Bob's public", is_public=True)
    Card.objects.create(deck=public, question="What is HTTP?", answer="A protocol", tags="Web")
    private = Deck.objects.create(owner=other, name="Bob's private")
    Card.objects.create(deck=private, question="Secret?", answer="Yes", tags="web")

    response = owner_client.post(form_url(), {"mode": "cram", "amount": "50", "tag": "web"})
    assert response["Location"] == SESSION
    seen = set()
    page = owner_client.get(SESSION)
    while page.context["current"] is not None:
        seen.add(page.context["current"].card.question)
        revealed = owner_client.get(f"{SESSION}?card={page.context['current'].card.pk}&reveal=1")
        assert revealed.context["revealed"]
        post = owner_client.post(f"{SESSION}review/", {"token": token_in(revealed), "rating": "5"})
        assert post.status_code == 302 and post["Location"] == SESSION
        page = owner_client.get(SESSION)

    assert seen == {"What is htmx?", "What is HTTP?"}
    assert "Custom study session finished" in page.content.decode()


def test_undo_in_a_session_shows_the_card_again(owner_client, deck):
    owner_client.post(form_url(deck), {"mode": "preview", "amount": "1"})
    first = owner_client.get(SESSION)
    owner_client.post(f"{SESSION}review/", {"token": token_in(first), "rating": "4"}, **HTMX)

    response = owner_client.post(f"{SESSION}undo/", **HTMX)

    assert response.context["current"].card == first.context["current"].card
    assert CustomStudySession.objects.get().done == 0
    assert "Nothing to undo" not in response.content.decode()
    nothing = owner_client.post(f"{SESSION}undo/", **HTMX)
    assert "There is nothing to undo in this session." in nothing.content.decode()


def test_the_session_page_without_a_session_leads_to_the_form(owner_client):
    response = owner_client.get(SESSION)
    assert response.status_code == 302 and response["Location"] == form_url()


def test_ending_a_session_deletes_it(owner_client, deck):
    owner_client.post(form_url(deck), {"mode": "cram", "amount": "5"})
    response = owner_client.post(f"{SESSION}end/")
    assert response["Location"] == f"/decks/{deck.pk}/study/"
    assert not CustomStudySession.objects.exists()


@pytest.mark.parametrize("cards", [5, 500])
def test_the_session_page_makes_the_same_queries_with_few_or_many_cards(
    owner_client, owner, cards, django_assert_num_queries
):
    deck = Deck.objects.create(owner=owner, name="Big")
    add_cards(deck, cards)
    owner_client.post(form_url(deck), {"mode": "cram", "amount": "9999"})
    owner_client.get(SESSION)

    # session, user, the custom study session (with its deck), the states of the cards left,
    # the first card (with its deck), its memory state
    with django_assert_num_queries(6):
        response = owner_client.get(SESSION)
    assert response.context["counts"].new == cards


# -- the rating gate on the study page (item 7) ----------------------------------------------


def forged_rating(client, owner, deck, card, **extra):
    memory = MemoryState.objects.filter(user=owner, card=card).first()
    data = {"token": issue_review_token(owner, card, memory), "rating": "4"}
    return client.post(f"/decks/{deck.pk}/study/review/", data, **extra)


def test_a_forged_rating_of_a_card_not_due_is_refused(owner_client, owner, deck):
    card = Card.objects.get(question="What is htmx?")
    make_due(owner, card, timezone.now() + timedelta(days=10))
    before = MemoryState.objects.get(card=card).version

    htmx = forged_rating(owner_client, owner, deck, card, **HTMX)
    plain = forged_rating(owner_client, owner, deck, card, follow=True)

    assert htmx.status_code == 400
    assert "not due today" in htmx.content.decode()
    assert plain.redirect_chain == [(f"/decks/{deck.pk}/study/", 302)]
    assert "not due today" in plain.content.decode()
    assert MemoryState.objects.get(card=card).version == before
    assert not ReviewLog.objects.exists()


def test_a_new_card_past_the_daily_limit_is_refused(owner_client, owner, deck):
    settings = owner.study_settings
    settings.new_cards_per_day = 0
    settings.save()
    card = Card.objects.get(question="What is htmx?")

    assert forged_rating(owner_client, owner, deck, card, **HTMX).status_code == 400


def test_a_card_of_the_custom_session_may_be_rated_on_the_study_page(owner_client, owner, deck):
    card = Card.objects.get(question="What is htmx?")
    make_due(owner, card, timezone.now() + timedelta(days=1, hours=1))
    owner_client.post(form_url(deck), {"mode": "ahead", "amount": "3"})

    assert forged_rating(owner_client, owner, deck, card, **HTMX).status_code == 200
    assert ReviewLog.objects.count() == 1


def test_a_reveal_link_no_longer_pins_a_card_that_is_not_due(owner_client, owner, deck):
    card = Card.objects.get(question="What is htmx?")
    make_due(owner, card, timezone.now() + timedelta(days=10))

    response = owner_client.get(f"/decks/{deck.pk}/study/?card={card.pk}&reveal=1")

    assert response.context["current"].card.question == "What is **FSRS**?"
