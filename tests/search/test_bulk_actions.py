"""The browser's bulk actions (POST /cards/actions/): each changes what it may, in one
transaction, says how many cards changed, and never touches another user's cards or
another learner's schedule."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cards.models import Card, Deck, MemoryState
from cards.scheduling import State
from cards.services.settings import get_study_settings, study_day_bounds

URL = reverse("card_browser_action")


@pytest.fixture
def decks(owner, other):
    return {
        "mine": Deck.objects.create(owner=owner, name="Mine"),
        "spare": Deck.objects.create(owner=owner, name="Spare"),
        "public": Deck.objects.create(owner=other, name="Shared", is_public=True),
        "private": Deck.objects.create(owner=other, name="Bob only"),
    }


@pytest.fixture
def cards(decks):
    return {
        name: Card.objects.create(deck=decks[deck], question=name, answer="a", tags="old")
        for name, deck in [("a", "mine"), ("b", "mine"), ("p", "public"), ("x", "private")]
    }


def post(client, action, ids=(), **fields):
    data = {"action": action, "scope": "selected", "ids": [c.pk for c in ids], **fields}
    response = client.post(URL, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("card_browser"))
    return [str(m) for m in get_messages(response.wsgi_request)]


def studied(user, card, **fields):
    now = timezone.now()
    values = dict(
        state=State.REVIEW, due=now + timedelta(days=3), last_review=now - timedelta(days=2),
        stability=4.0, difficulty=5.0, reps=4, lapses=1,
    )  # fmt: skip
    memory = MemoryState.of(user, card, **{**values, **fields})
    memory.save()
    return memory


def test_it_requires_login(client):
    assert client.post(URL).status_code == 302


def test_it_rejects_get(owner_client):
    assert owner_client.get(URL).status_code == 405


def test_suspend_the_ticked_cards_for_me_only(owner_client, owner, other, cards):
    messages = post(owner_client, "suspend", [cards["a"], cards["p"], cards["x"]])
    assert messages == [
        "Suspend: 2 cards changed. 1 left as they were (not yours to change, or no change due)."
    ]  # noqa: E501
    mine = MemoryState.objects.filter(user=owner, suspended=True)
    assert set(mine.values_list("card_id", flat=True)) == {cards["a"].pk, cards["p"].pk}
    assert not MemoryState.objects.filter(card=cards["x"]).exists()
    assert not MemoryState.objects.filter(user=other).exists()


def test_every_card_the_search_finds(owner_client, owner, cards):
    response = owner_client.post(URL, {"action": "flag", "flag": "2", "scope": "all", "q": "-b"})
    assert "Flag: 2 cards changed." in [str(m) for m in get_messages(response.wsgi_request)]
    flagged = MemoryState.objects.filter(user=owner, flag=2).values_list("card_id", flat=True)
    assert set(flagged) == {cards["a"].pk, cards["p"].pk}


def test_a_malformed_search_changes_nothing(owner_client, owner, cards):
    response = owner_client.post(URL, {"action": "suspend", "scope": "all", "q": "flag:9"})
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Nothing changed: flag: takes a number 0–7")
    assert not MemoryState.objects.exists()


def test_nothing_ticked_is_an_error(owner_client, cards):
    assert post(owner_client, "bury")[0].startswith("Nothing changed: Tick the cards")


def test_bury_until_the_study_day_ends(owner_client, owner, cards):
    post(owner_client, "bury", [cards["a"]])
    _, _, end = study_day_bounds(get_study_settings(owner))
    assert MemoryState.objects.get(user=owner, card=cards["a"]).buried_until == end


def test_tags_change_on_my_cards_only(owner_client, cards):
    messages = post(owner_client, "add_tags", [cards["a"], cards["p"]], tags="new::one old")
    assert messages[0].startswith("Add tags: 1 card changed. 1 left")
    cards["a"].refresh_from_db()
    cards["p"].refresh_from_db()
    assert cards["a"].tags == "old new::one"
    assert cards["p"].tags == "old"
    post(owner_client, "remove_tags", [cards["a"]], tags="OLD")
    cards["a"].refresh_from_db()
    assert cards["a"].tags == "new::one"


def test_too_many_tags_change_nothing(owner_client, cards):
    messages = post(owner_client, "add_tags", [cards["a"], cards["b"]], tags="t" * 499)
    assert "more than 500" in messages[0]
    assert set(Card.objects.values_list("tags", flat=True)) == {"old"}


def test_move_to_my_deck_with_memory_states(owner_client, owner, decks, cards):
    memory = studied(owner, cards["a"])
    messages = post(owner_client, "move", [cards["a"], cards["p"]], deck=decks["spare"].pk)
    assert messages[0].startswith("Move to deck: 1 card changed. 1 left")
    memory.refresh_from_db()
    assert memory.deck_id == decks["spare"].pk
    assert Card.objects.get(pk=cards["p"].pk).deck_id == decks["public"].pk


def test_move_to_another_users_deck_is_refused(owner_client, decks, cards):
    messages = post(owner_client, "move", [cards["a"]], deck=decks["public"].pk)
    assert messages[0].startswith("Nothing changed:")
    assert Card.objects.get(pk=cards["a"].pk).deck_id == decks["mine"].pk


def test_forget_makes_my_cards_new_and_leaves_others(owner_client, owner, other, cards):
    mine = studied(owner, cards["p"], flag=3)
    theirs = studied(other, cards["p"])
    assert post(owner_client, "forget", [cards["p"]])[0].startswith("Forget (make new): 1 card")
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.state, mine.stability, mine.reps, mine.flag) == (State.NEW, None, 4, 3)
    assert theirs.state == State.REVIEW
    post(owner_client, "forget", [cards["p"]], reset_counts="on")
    mine.refresh_from_db()
    assert mine.reps == 4  # already new: nothing to forget


@pytest.mark.parametrize("spec, low, high", [("0", 0, 0), ("1-7", 1, 7), ("30!", 30, 30)])
def test_set_due_date(owner_client, owner, cards, spec, low, high):
    memory = studied(owner, cards["a"], state=State.LEARNING)
    messages = post(owner_client, "set_due", [cards["a"], cards["b"]], due=spec)
    assert messages[0].startswith("Set due date: 1 card changed. 1 left")
    memory.refresh_from_db()
    settings = get_study_settings(owner)
    today, start, _ = study_day_bounds(settings)
    assert memory.state == State.REVIEW
    days = round((memory.due - start).total_seconds() / 86400)
    assert low <= days <= high
    if spec.endswith("!"):
        assert memory.last_review == start


def test_set_due_date_refuses_nonsense(owner_client, owner, cards):
    studied(owner, cards["a"])
    messages = post(owner_client, "set_due", [cards["a"]], due="soon")
    assert "Set due date takes days" in messages[0]


def test_delete_only_my_own_cards(owner_client, cards):
    messages = post(owner_client, "delete", [cards["a"], cards["p"], cards["x"]])
    assert messages[0].startswith("Delete (your own cards): 1 card deleted. 2 left")
    assert messages[0].endswith(" Undo puts them back.")
    assert set(Card.objects.values_list("question", flat=True)) == {"b", "p", "x"}


def test_undo_puts_back_a_whole_bulk_suspend(owner_client, owner, cards):
    post(owner_client, "suspend", [cards["a"], cards["b"]])
    response = owner_client.post(reverse("card_browser_undo"), {"q": "x"})
    assert response["Location"] == reverse("card_browser") + "?q=x"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages[-1] == "Undid suspend: 2 cards."
    assert not MemoryState.objects.filter(user=owner, suspended=True).exists()
    response = owner_client.post(reverse("card_browser_undo"))
    message = str(list(get_messages(response.wsgi_request))[-1])
    assert "no suspend, bury, flag, tag change, move, forget, due date or delete to undo" in message


def test_undo_never_touches_another_learners_action(owner_client, other, cards):
    from cards.services import card_marks

    card_marks.suspend(other, [cards["p"]])
    response = owner_client.post(reverse("card_browser_undo"))
    assert "no suspend" in str(list(get_messages(response.wsgi_request))[0])
    assert MemoryState.objects.get(user=other, card=cards["p"]).suspended


def test_undo_rejects_get(owner_client):
    assert owner_client.get(reverse("card_browser_undo")).status_code == 405
