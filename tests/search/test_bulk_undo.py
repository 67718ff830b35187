"""Undo of the browser's forget and set due date (Anki undoes both): the whole call comes
back in one step, and a card studied since makes the undo refuse, changing nothing."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, StudyAction
from cards.scheduling import State
from cards.services import card_bulk, card_marks

UNDO = reverse("card_browser_undo")


@pytest.fixture
def cards(owner):
    deck = Deck.objects.create(owner=owner, name="Mine")
    return [Card.objects.create(deck=deck, question=f"q{i}", answer="a") for i in range(3)]


def studied(user, card, days=3):
    now = timezone.now()
    memory = MemoryState.of(
        user, card, state=State.REVIEW, due=now + timedelta(days=days),
        last_review=now - timedelta(days=2), stability=4.0 + days, difficulty=5.0, reps=4,
        lapses=1, step=None,
    )  # fmt: skip
    memory.save()
    return memory


SCHEDULE = ("state", "step", "stability", "difficulty", "last_review", "due", "reps", "lapses")


def schedules(user):
    rows = MemoryState.objects.filter(user=user).order_by("card_id")
    return [tuple(getattr(m, name) for name in SCHEDULE) for m in rows]


def undo(client) -> str:
    response = client.post(UNDO, {"q": "deck:Mine"})
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


@pytest.mark.parametrize("action", ["forget", "set_due"])
def test_undo_puts_back_every_cards_schedule(owner_client, owner, cards, action):
    for days, card in enumerate(cards, start=2):
        studied(owner, card, days)
    before = schedules(owner)
    fields = {"reset_counts": "on"} if action == "forget" else {"due": "10-20!"}
    data = {"action": action, "scope": "all", "q": "deck:Mine", **fields}
    owner_client.post(reverse("card_browser_action"), data)
    assert schedules(owner) != before
    label = "forget" if action == "forget" else "set due date"
    assert undo(owner_client) == f"Undid {label}: 3 cards."
    assert schedules(owner) == before
    assert not StudyAction.objects.filter(user=owner).exists()


def test_undo_refuses_when_a_card_was_studied_since(owner_client, owner, cards):
    for card in cards:
        studied(owner, card)
    card_bulk.forget(owner, [c.pk for c in cards])
    after = schedules(owner)
    review = MemoryState.objects.get(user=owner, card=cards[1])
    review.version += 1  # what a review does
    review.save(update_fields=["version"])
    message = undo(owner_client)
    assert message == "Forget was not undone: some of its cards were studied or changed since."
    assert schedules(owner) == after  # not even the untouched cards came back


def test_the_study_pages_undo_takes_a_forget_back_too(owner, cards):
    memory = studied(owner, cards[0])
    card_bulk.set_due(owner, [cards[0].pk], "0")
    card_marks.undo_action(card_marks.last_action(owner))
    changed = MemoryState.objects.get(pk=memory.pk)
    assert (changed.due, changed.stability) == (memory.due, memory.stability)
    assert changed.version == memory.version + 2  # the action, then its undo


def test_nothing_changed_records_nothing(owner, cards):
    assert card_bulk.forget(owner, [c.pk for c in cards]).changed == 0  # all new already
    assert not StudyAction.objects.filter(user=owner).exists()


def test_another_learner_cannot_undo_my_forget(owner, other, other_client, cards):
    memory = studied(owner, cards[0])
    card_bulk.forget(owner, [cards[0].pk])
    assert undo(other_client).startswith("There is no suspend")
    assert MemoryState.objects.get(pk=memory.pk).state == State.NEW


# -- add tags, remove tags, change deck (services/content_undo) --------------------------------

ACTION = reverse("card_browser_action")


def act(client, action, cards, **fields):
    data = {"action": action, "scope": "selected", "ids": [c.pk for c in cards], "q": "", **fields}
    response = client.post(ACTION, data)
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def tags_of(*objects):
    return [type(o).objects.get(pk=o.pk).tags for o in objects]


@pytest.fixture
def note(owner, cards):
    from cards.services.notes import create_note

    return create_note(cards[0].deck, "reversed", {"Front": "perro", "Back": "dog"}, tags="es")


@pytest.mark.parametrize(
    ("action", "typed", "after", "label"),
    [("add_tags", "new", "es new", "add tags"), ("remove_tags", "ES", "", "remove tags")],
)
def test_undo_tags_puts_back_cards_siblings_and_note(
    owner_client, owner, cards, note, action, typed, after, label
):
    front, back = note.cards.order_by("ord")
    Card.objects.filter(pk=cards[0].pk).update(tags="es old")
    message = act(owner_client, action, [front, cards[0]], tags=typed)
    assert "changed" in message
    assert tags_of(front, back, note) == [after] * 3  # the sibling and note followed
    assert undo(owner_client) == f"Undid {label}: 3 cards."
    assert tags_of(front, back, note, cards[0], cards[1]) == ["es", "es", "es", "es old", ""]
    assert not StudyAction.objects.filter(user=owner).exists()


def test_undo_tags_refuses_when_a_card_was_retagged_since(owner_client, owner, cards, note):
    card_bulk.add_tags(owner, [c.pk for c in cards], "x")
    Card.objects.filter(pk=cards[1].pk).update(tags="x later")
    message = undo(owner_client)
    assert message == (
        "Add tags was not undone: some of its cards were changed or deleted since, or are no "
        "longer yours to edit."
    )
    assert tags_of(*cards) == ["x", "x later", "x"]  # nothing came back


def test_undo_move_puts_back_cards_siblings_memory_logs_and_note(owner_client, owner, other, note):
    from cards.models import ReviewLog

    home = note.deck
    spare = Deck.objects.create(owner=owner, name="Spare")
    front, back = note.cards.order_by("ord")
    places = {c.pk: c.position for c in (front, back)}
    mine, theirs = studied(owner, front), studied(other, back)  # another learner's state too
    now = timezone.now()
    ReviewLog.objects.create(
        user=owner, card=front, deck=home, rating=3, grade=2, reviewed_at=now, state_before=2,
        elapsed_days=1, state_after=2, due_after=now,
    )  # fmt: skip
    assert "2 cards changed" in act(owner_client, "move", [front], deck=spare.pk)
    assert set(Card.objects.filter(note=note).values_list("deck", flat=True)) == {spare.pk}
    assert undo(owner_client) == "Undid change deck: 2 cards."
    for card in (front, back):
        card.refresh_from_db()
        assert (card.deck_id, card.position) == (home.pk, places[card.pk])
    note.refresh_from_db()
    assert note.deck_id == home.pk
    assert {MemoryState.objects.get(pk=m.pk).deck_id for m in (mine, theirs)} == {home.pk}
    assert ReviewLog.objects.get(card=front).deck_id == home.pk


def test_undo_move_refuses_when_a_card_moved_again(owner_client, owner, cards):
    spare = Deck.objects.create(owner=owner, name="Spare")
    third = Deck.objects.create(owner=owner, name="Third")
    card_bulk.move(owner, [c.pk for c in cards], spare.pk)
    card_bulk.move(owner, [cards[0].pk], third.pk)
    StudyAction.objects.filter(user=owner, card=cards[0], before__to=third.pk).delete()
    message = undo(owner_client)
    assert message == (
        "Change deck was not undone: some of its cards were moved again or deleted since."
    )
    decks = [Card.objects.get(pk=c.pk).deck_id for c in cards]
    assert decks == [third.pk, spare.pk, spare.pk]


def test_undo_move_refuses_when_the_deck_it_left_has_the_import_id(owner_client, owner, cards):
    spare = Deck.objects.create(owner=owner, name="Spare")
    Card.objects.filter(pk=cards[0].pk).update(external_id="e1")
    card_bulk.move(owner, [cards[0].pk], spare.pk)
    Card.objects.create(deck=cards[1].deck, question="again", answer="a", external_id="e1")
    assert "same import id" in undo(owner_client)
    assert Card.objects.get(pk=cards[0].pk).deck_id == spare.pk


def test_tags_and_moves_leave_another_users_cards_alone(owner_client, owner, other, cards):
    theirs = Deck.objects.create(owner=other, name="Bob's", is_public=True)
    foreign = Card.objects.create(deck=theirs, question="f", answer="a", tags="keep")
    spare = Deck.objects.create(owner=owner, name="Spare")
    act(owner_client, "add_tags", [cards[0], foreign], tags="x")
    act(owner_client, "move", [cards[0], foreign], deck=spare.pk)
    assert undo(owner_client) == "Undid change deck: 1 card."
    assert undo(owner_client) == "Undid add tags: 1 card."
    foreign.refresh_from_db()
    assert (foreign.deck_id, foreign.tags) == (theirs.pk, "keep")
    assert StudyAction.objects.filter(user=other).count() == 0


def test_another_user_cannot_undo_my_move(owner, other_client, cards):
    spare = Deck.objects.create(owner=owner, name="Spare")
    card_bulk.move(owner, [cards[0].pk], spare.pk)
    assert undo(other_client).startswith("There is no suspend")
    assert Card.objects.get(pk=cards[0].pk).deck_id == spare.pk


def test_nothing_moved_or_retagged_records_nothing(owner, cards):
    card_bulk.move(owner, [cards[0].pk], cards[0].deck_id)
    card_bulk.remove_tags(owner, [cards[0].pk], "absent")
    assert not StudyAction.objects.filter(user=owner).exists()


def test_the_study_pages_undo_takes_a_move_back_too(owner, cards):
    spare = Deck.objects.create(owner=owner, name="Spare")
    card_bulk.move(owner, [cards[0].pk], spare.pk)
    card_marks.undo_action(card_marks.last_action(owner))
    assert Card.objects.get(pk=cards[0].pk).deck_id == cards[1].deck_id


@pytest.mark.parametrize("size", [6, 60])
@pytest.mark.parametrize(("action", "queries"), [("add_tags", 14), ("move", 17)])
def test_undo_queries_constant(owner_client, owner, django_assert_num_queries, size, action,
                               queries):  # fmt: skip
    from cards.services.notes import create_note

    home = Deck.objects.create(owner=owner, name="Mine")
    spare = Deck.objects.create(owner=owner, name="Spare")
    ids = []
    for i in range(size // 2):  # half of them reversed notes' cards (siblings), half plain
        ids += [
            c.pk for c in create_note(home, "reversed", {"Front": f"f{i}", "Back": "b"}).cards.all()
        ][:1]
        ids.append(Card.objects.create(deck=home, question=f"q{i}", answer="a").pk)
    for card in Card.objects.filter(deck=home):
        studied(owner, card)
    if action == "add_tags":
        card_bulk.add_tags(owner, ids, "new")
    else:
        card_bulk.move(owner, ids, spare.pk)
    with django_assert_num_queries(queries):
        message = undo(owner_client)
    assert message.startswith("Undid") and message.endswith(f"{size + size // 2} cards.")
