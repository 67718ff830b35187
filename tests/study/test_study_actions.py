"""Card actions on the study page (cards/views/study_actions.py): suspend, bury, flag, edit,
card info, each as a plain form and for htmx; Z (undo) takes the newest of the last review and
the last action; the leech notice; access (404, login, methods); query counts of card info."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog, StudyAction
from cards.scheduling import State
from cards.services.settings import get_study_settings

HTMX = {"HTTP_HX_REQUEST": "true"}
ACTIONS = ["suspend", "bury", "flag", "edit", "info"]
KOLKATA = ZoneInfo("Asia/Kolkata")


def study_url(deck):
    return f"/decks/{deck.pk}/study/"


def action_url(card, name, deck=None):
    prefix = f"/decks/{deck.pk}/study/" if deck else "/study/"
    return f"{prefix}cards/{card.pk}/{name}/"


def token_in(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture
def fsrs(deck):
    return Card.objects.get(deck=deck, question="What is **FSRS**?")


@pytest.fixture
def htmx_card(deck):
    return Card.objects.get(deck=deck, question="What is htmx?")


def memory(owner, card) -> MemoryState:
    return MemoryState.objects.get(user=owner, card=card)


# -- the toolbar ----------------------------------------------------------------------------


def test_the_study_page_offers_every_action_with_its_key(owner_client, deck, fsrs):
    html = owner_client.get(study_url(deck)).content.decode()
    for name in ACTIONS:
        assert action_url(fsrs, name, deck) in html
    for key in ['"E"', '"I"', '"@"', '"-"', '"Control+1"', '"Control+7"', '"?"']:
        assert f"aria-keyshortcuts={key}" in html
    assert 'id="study-help"' in html and "<dialog" in html


def test_someone_who_cannot_edit_gets_no_edit_button(other_client, other, owner):
    public = Deck.objects.create(owner=owner, name="Shared", is_public=True)
    card = Card.objects.create(deck=public, question="Q?", answer="A", position=1)
    html = other_client.get("/study/").content.decode()
    assert action_url(card, "info") in html
    assert action_url(card, "edit") not in html


# -- suspend, bury, flag --------------------------------------------------------------------


def test_suspend_with_htmx_shows_the_next_card_and_announces_it(
    owner_client, owner, deck, fsrs, htmx_card
):
    response = owner_client.post(action_url(fsrs, "suspend", deck), **HTMX)

    assert response.status_code == 200
    assert memory(owner, fsrs).suspended
    assert response.context["current"].card == htmx_card
    assert "Card suspended. Press Z to undo." in response.content.decode()
    assert 'id="study-undo"' in response.content.decode()


def test_suspend_without_javascript_redirects_with_a_message(owner_client, owner, deck, fsrs):
    response = owner_client.post(action_url(fsrs, "suspend", deck))
    assert response.status_code == 302
    assert response["Location"] == study_url(deck)
    page = owner_client.get(study_url(deck))
    assert "Card suspended." in page.content.decode()
    assert page.context["current"].card != fsrs
    assert 'id="study-undo"' in page.content.decode()  # before any review today


def test_bury_hides_the_card_until_tomorrow(owner_client, owner, deck, fsrs):
    response = owner_client.post(action_url(fsrs, "bury"), **HTMX)
    assert response.status_code == 200
    assert memory(owner, fsrs).buried_until > timezone.now()
    assert response.context["current"].card != fsrs


def test_flag_keeps_the_card_revealed_and_shows_its_colour(owner_client, owner, deck, fsrs):
    url = action_url(fsrs, "flag", deck)
    response = owner_client.post(url, {"flag": "4", "reveal": "1"}, **HTMX)

    assert memory(owner, fsrs).flag == 4
    assert response.context["current"].card == fsrs
    assert response.context["revealed"]
    html = response.content.decode()
    assert 'data-flag="4"' in html and "Blue flag" in html
    assert "Flag: blue." in html

    response = owner_client.post(url, {"flag": "4"}, **HTMX)
    assert memory(owner, fsrs).flag == 0  # the same colour again removes it
    assert "Flag removed." in response.content.decode()


def test_flag_without_javascript_comes_back_to_the_card(owner_client, deck, fsrs):
    response = owner_client.post(action_url(fsrs, "flag", deck), {"flag": "1", "reveal": "1"})
    assert response["Location"] == f"{study_url(deck)}?card={fsrs.pk}&reveal=1"


@pytest.mark.parametrize("value", ["8", "-1", "red", ""])
def test_a_bad_flag_is_a_400_with_a_message(owner_client, deck, fsrs, value):
    response = owner_client.post(action_url(fsrs, "flag", deck), {"flag": value}, **HTMX)
    assert response.status_code == 400
    assert "flag" in response.content.decode().lower()
    assert not MemoryState.objects.exists()


# -- undo (Z) -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, data", [("suspend", {}), ("bury", {}), ("flag", {"flag": "2"})])
def test_z_undoes_an_action_and_brings_the_card_back(owner_client, owner, deck, fsrs, name, data):
    owner_client.post(action_url(fsrs, name, deck), data, **HTMX)
    response = owner_client.post(f"{study_url(deck)}undo/", **HTMX)

    marks = memory(owner, fsrs)
    assert (marks.suspended, marks.buried_until, marks.flag) == (False, None, 0)
    assert response.context["current"].card == fsrs
    assert f"{name.title()} undone. Back to:" in response.content.decode()
    assert not StudyAction.objects.exists()


def test_z_takes_the_newest_of_a_rating_and_an_action(owner_client, owner, deck, fsrs, htmx_card):
    owner_client.post(action_url(fsrs, "flag", deck), {"flag": "3"}, **HTMX)
    page = owner_client.get(study_url(deck))
    owner_client.post(
        f"{study_url(deck)}review/", {"token": token_in(page), "rating": 4}, **HTMX
    )  # rates the flagged card
    owner_client.post(action_url(htmx_card, "suspend", deck), **HTMX)

    owner_client.post(f"{study_url(deck)}undo/", **HTMX)  # the suspension
    assert not memory(owner, htmx_card).suspended and ReviewLog.objects.count() == 1
    owner_client.post(f"{study_url(deck)}undo/", **HTMX)  # the rating
    assert ReviewLog.objects.count() == 0 and memory(owner, fsrs).flag == 3
    owner_client.post(f"{study_url(deck)}undo/", **HTMX)  # the flag
    assert memory(owner, fsrs).flag == 0


def test_undo_without_javascript_goes_back_to_the_card(owner_client, deck, fsrs):
    owner_client.post(action_url(fsrs, "suspend", deck))
    response = owner_client.post(f"{study_url(deck)}undo/")
    assert response["Location"] == f"{study_url(deck)}?card={fsrs.pk}"


# -- edit -----------------------------------------------------------------------------------


def test_edit_in_place_saves_and_comes_back_to_the_card_revealed(owner_client, owner, deck, fsrs):
    url = action_url(fsrs, "edit", deck)
    form = owner_client.get(url, **HTMX)
    assert form.status_code == 200
    assert "<html" not in form.content.decode() and 'name="answer"' in form.content.decode()

    data = {"question": "What is *FSRS*?", "answer": "Free Spaced Repetition Scheduler"}
    response = owner_client.post(url, data, **HTMX)
    fsrs.refresh_from_db()
    assert fsrs.answer == "Free Spaced Repetition Scheduler"
    assert response.context["current"].card == fsrs and response.context["revealed"]
    assert "Card saved. Press Z to undo the edit." in response.content.decode()

    undone = owner_client.post(f"{study_url(deck)}undo/", **HTMX)
    fsrs.refresh_from_db()
    assert (fsrs.question, fsrs.answer) == ("What is **FSRS**?", "A scheduler")
    assert undone.context["revealed"]


def test_edit_without_javascript_is_a_page_that_redirects_back(owner_client, deck, fsrs):
    url = action_url(fsrs, "edit", deck)
    assert "<html" in owner_client.get(url).content.decode()
    response = owner_client.post(url, {"question": "Q", "answer": "A"})
    assert response["Location"] == f"{study_url(deck)}?card={fsrs.pk}&reveal=1"


def test_a_bad_edit_shows_the_form_with_its_error(owner_client, deck, fsrs):
    response = owner_client.post(action_url(fsrs, "edit", deck), {"answer": "A"}, **HTMX)
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    fsrs.refresh_from_db()
    assert fsrs.answer == "A scheduler"
    assert not StudyAction.objects.exists()


def test_a_learner_cannot_edit_a_public_card(other_client, owner):
    public = Deck.objects.create(owner=owner, name="Shared", is_public=True)
    card = Card.objects.create(deck=public, question="Q?", answer="A", position=1)
    assert other_client.get(action_url(card, "edit")).status_code == 404
    assert other_client.post(action_url(card, "edit"), {"question": "x"}).status_code == 404


def test_staff_edit_a_public_card(client, staff, owner):
    public = Deck.objects.create(owner=owner, name="Shared", is_public=True)
    card = Card.objects.create(deck=public, question="Q?", answer="A", position=1)
    client.force_login(staff)
    response = client.post(action_url(card, "edit"), {"question": "Q?", "answer": "B"})
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.answer == "B"


# -- card info ------------------------------------------------------------------------------


def reviewed(owner, card, count: int):
    """`count` reviews of the card a day apart, and its memory state after them."""
    start = timezone.now() - timedelta(days=count + 1)
    logs = []
    for i in range(count):
        lapse = i % 3 == 0
        logs.append(
            ReviewLog(user=owner, card=card, deck=card.deck, rating=1 if lapse else 4,
                      grade=1 if lapse else 3, reviewed_at=start + timedelta(days=i),
                      state_before=2, state_after=2, stability_after=3.0 + i,
                      difficulty_after=5.5, due_after=start + timedelta(days=i + 2))
        )  # fmt: skip
    ReviewLog.objects.bulk_create(logs)
    MemoryState.objects.create(
        user=owner, card=card, deck=card.deck, state=State.REVIEW, stability=12.0,
        difficulty=5.5, due=timezone.now() + timedelta(days=3),
        last_review=timezone.now() - timedelta(days=2), reps=count, lapses=2, flag=5, leech=True,
    )  # fmt: skip


def test_card_info_shows_history_memory_and_marks(owner_client, owner, deck, fsrs):
    settings = get_study_settings(owner)
    settings.timezone = "Asia/Kolkata"
    settings.save()
    reviewed(owner, fsrs, 3)
    fsrs.imported_question = "what is\n\nWhat is **FSRS**?"
    fsrs.save()

    response = owner_client.get(action_url(fsrs, "info", deck), **HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert html.count("<tr") == 4  # the header and three reviews
    assert "Retrievability now" in html and re.search(r"\d+%", html)
    assert "Pink" in html and "Yes: tagged leech" in html
    assert "As imported" in html and "what is" in html
    first = ReviewLog.objects.earliest("reviewed_at").reviewed_at.astimezone(KOLKATA)
    assert first.strftime("%Y-%m-%d %H:%M") in html  # in the learner's time zone


def test_card_info_of_a_new_card(owner_client, deck, fsrs):
    html = owner_client.get(action_url(fsrs, "info", deck)).content.decode()
    assert "<html" in html  # a page of its own without JavaScript
    assert "You have not reviewed this card yet." in html
    assert "Retrievability now" not in html


@pytest.mark.parametrize("count", [1, 40])
def test_card_info_makes_the_same_queries_for_few_or_many_reviews(
    owner_client, owner, deck, fsrs, count, django_assert_num_queries
):
    reviewed(owner, fsrs, count)
    # Expect 6 queries: session, user (with study settings), deck, card (visible, with its
    #  deck), memory state, review logs
    with django_assert_num_queries(6):
        response = owner_client.get(action_url(fsrs, "info", deck), **HTMX)
    assert response.status_code == 200


# -- leeches --------------------------------------------------------------------------------


def test_the_learner_is_told_when_a_card_becomes_a_leech(owner_client, owner, deck, fsrs):
    settings = get_study_settings(owner)
    settings.leech_action = "suspend"
    settings.save()
    now = timezone.now()
    MemoryState.objects.create(
        user=owner, card=fsrs, deck=deck, state=State.REVIEW, stability=5.0, difficulty=6.0,
        due=now - timedelta(hours=1), last_review=now - timedelta(days=5), reps=10, lapses=7,
    )  # fmt: skip
    page = owner_client.get(study_url(deck))
    assert page.context["current"].card == fsrs
    response = owner_client.post(
        f"{study_url(deck)}review/", {"token": token_in(page), "rating": 1}, **HTMX
    )
    text = "This card is a leech (8 lapses): it was tagged leech and suspended."
    assert text in response.content.decode()
    assert memory(owner, fsrs).suspended and memory(owner, fsrs).leech


def test_the_settings_page_sets_the_leech_threshold_and_action(owner_client, owner):
    page = owner_client.get("/settings/").content.decode()
    assert 'name="leech_threshold"' in page and 'name="leech_action"' in page


# -- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIONS)
@pytest.mark.parametrize("in_deck", [True, False])
def test_another_users_private_card_is_a_404(other_client, deck, fsrs, name, in_deck):
    url = action_url(fsrs, name, deck if in_deck else None)
    assert other_client.get(url).status_code in (404, 405)
    response = other_client.post(url, {"flag": "1", "question": "x", "answer": "y"})
    assert response.status_code in (404, 405)
    assert other_client.get(url, **HTMX).status_code in (404, 405)
    assert not MemoryState.objects.exists() and not StudyAction.objects.exists()
    fsrs.refresh_from_db()
    assert fsrs.question == "What is **FSRS**?"


@pytest.mark.parametrize("name", ACTIONS)
def test_a_card_of_another_deck_is_a_404_in_a_decks_study(owner_client, owner, deck, name):
    second = Deck.objects.create(owner=owner, name="Second")
    card = Card.objects.create(deck=second, question="Q", answer="A", position=1)
    method = owner_client.get if name in ("info", "edit") else owner_client.post
    assert method(action_url(card, name, deck)).status_code == 404


@pytest.mark.parametrize("name", ACTIONS)
def test_it_requires_login(client, deck, fsrs, name):
    response = client.post(action_url(fsrs, name, deck))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "name, method", [("suspend", "get"), ("bury", "get"), ("flag", "get"), ("info", "post")]
)
def test_it_rejects_the_wrong_method(owner_client, deck, fsrs, name, method):
    assert getattr(owner_client, method)(action_url(fsrs, name, deck)).status_code == 405


def test_a_suspended_or_buried_card_named_in_the_url_is_not_shown(owner_client, deck, fsrs):
    owner_client.post(action_url(fsrs, "suspend", deck))
    response = owner_client.get(f"{study_url(deck)}?card={fsrs.pk}&reveal=1")
    assert response.context["current"].card != fsrs
    owner_client.post(f"{study_url(deck)}undo/")
    owner_client.post(action_url(fsrs, "bury", deck))
    response = owner_client.get(f"{study_url(deck)}?card={fsrs.pk}&reveal=1")
    assert response.context["current"].card != fsrs
