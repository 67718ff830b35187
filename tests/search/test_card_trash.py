"""Delete in the card browser, and its undo (services/card_trash): Undo puts back the cards, the
notes left without a card, every learner's memory states, marks, review logs and undo records,
with the same ids, in one step — or refuses with a message and changes nothing."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import serializers
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cards.models import (
    Card,
    CardTrash,
    Deck,
    MediaFile,
    MemoryState,
    Note,
    ReviewLog,
    StudyAction,
)
from cards.search import parse
from cards.search.compiler import Context, compile_node, visible_cards
from cards.services import card_bulk, card_marks, card_trash, deck_counts
from cards.services.notes import create_note
from cards.services.reviews import issue_review_token, record_review

ACTION = reverse("card_browser_action")
UNDO = reverse("card_browser_undo")
KEPT = (Note, Card, MemoryState, ReviewLog, StudyAction)


def review(user, card, rating=3):
    memory = MemoryState.objects.filter(user=user, card=card).first()
    record_review(user, issue_review_token(user, card, memory), rating)


@pytest.fixture
def deck(owner, other):
    """Alice's public deck, studied by Bob too: notes of every shape, reviews and marks by
    both, an image, and a deck that stays out of it."""
    deck = Deck.objects.create(owner=owner, name="Mine", is_public=True)
    create_note(deck, "reversed", {"Front": "perro", "Back": "dog"}, tags="es animal")
    create_note(deck, "cloze", {"Text": "{{c1::Madrid}} is in {{c2::Spain}}", "Back Extra": ""})
    create_note(deck, "basic", {"Front": "gato", "Back": "cat"})
    media = MediaFile.objects.create(
        deck=deck, sha256="ab" * 32, extension="png", content_type="image/png", size=1,
        width=1, height=1, file="media/ab/x.png",
    )  # fmt: skip
    Card.objects.create(deck=deck, question=f"![map](/media/{media.pk}/)", answer="map")
    for user in (owner, other):
        for card in Card.objects.filter(deck=deck):
            review(user, card, 3)
            review(user, card, 1)
    card_marks.suspend(owner, Card.objects.filter(note__kind="reversed"))
    card_marks.flag(other, Card.objects.filter(deck=deck), 4)
    other_deck = Deck.objects.create(owner=owner, name="Spare")
    Card.objects.create(deck=other_deck, question="stays", answer="here")
    return deck


def rows():
    """Every row of the kept models, as serialized (ids, times to the microsecond)."""
    return {
        model.__name__: serializers.serialize("python", model.objects.order_by("pk"))
        for model in KEPT
    }


def counts(*users):
    return [deck_counts.today(user).counts for user in users]


def post(client, url, data) -> str:
    response = client.post(url, data)
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def delete_some(client, deck):
    """Both cards of the reversed note, one of the cloze note's two, the image card: 4."""
    chosen = list(Card.objects.filter(deck=deck).exclude(question__contains="gato"))
    chosen = [c for c in chosen if c.note.kind != "cloze" or c.ord == 0]
    data = {"action": "delete", "scope": "selected", "ids": [c.pk for c in chosen], "q": ""}
    return post(client, ACTION, data), chosen


def test_undo_puts_back_everything_with_the_same_ids(owner_client, owner, other, deck):
    before, queues = rows(), counts(owner, other)
    message, chosen = delete_some(owner_client, deck)
    assert message == "Delete (your own cards): 4 cards deleted. Undo puts them back."
    assert not Card.objects.filter(pk__in=[c.pk for c in chosen]).exists()
    # The reversed note and the image's went; the cloze note kept a card; gato's, Spare's stay.
    assert Note.objects.count() == 3
    assert rows() != before and counts(owner, other) != queues
    assert post(owner_client, UNDO, {"q": ""}) == "Undid delete: 4 cards restored."
    assert rows() == before
    assert counts(owner, other) == queues
    assert not CardTrash.objects.exists()
    # The search tables (triggers, generated columns) have the cards again.
    found = visible_cards(owner).filter(
        compile_node(parse("perro"), Context.of(owner, timezone.now()))
    )
    assert found.count() == 2
    # Undo goes on down the stack: Bob's flag came back with the cards, Alice's suspend too.
    assert post(owner_client, UNDO, {"q": ""}) == "Undid suspend: 2 cards."


def test_undo_by_the_trash_id_and_another_user_gets_404(owner_client, owner, other, deck):
    _, chosen = delete_some(owner_client, deck)
    trash = CardTrash.objects.get(user=owner)
    bob = Client()
    bob.force_login(other)
    assert bob.post(UNDO, {"trash": trash.pk}).status_code == 404
    assert bob.post(UNDO, {"trash": "x1"}).status_code == 404
    assert post(bob, UNDO, {}).startswith("There is no suspend")  # Bob's own stack is empty
    assert CardTrash.objects.filter(pk=trash.pk).exists()
    message = post(owner_client, UNDO, {"trash": trash.pk})
    assert message == "Undid delete: 4 cards restored."
    assert owner_client.post(UNDO, {"trash": trash.pk}).status_code == 404  # used up


def test_refused_when_the_deck_was_deleted_since(owner, deck):
    card_bulk.delete(owner, [c.pk for c in Card.objects.filter(deck=deck)])
    deck.delete()
    with pytest.raises(card_trash.TrashError, match="the deck “Mine” was deleted since"):
        card_trash.restore(card_trash.latest(owner))
    assert not Card.objects.filter(deck_id=deck.pk).exists()
    assert not CardTrash.objects.exists()  # it can never come back


def test_refused_when_an_id_was_taken_since(owner, deck):
    gato = Card.objects.get(question__contains="gato")
    card_bulk.delete(owner, [gato.pk])
    Card.objects.create(pk=gato.pk, deck=deck, question="another", answer="card")
    with pytest.raises(card_trash.TrashError, match="the id of a card it would put back was"):
        card_trash.restore(card_trash.latest(owner))
    assert Card.objects.get(pk=gato.pk).question == "another"
    assert not MemoryState.objects.filter(card_id=gato.pk).exists()


def test_refused_when_the_note_the_card_shared_was_deleted_since(owner, deck):
    madrid, spain = Card.objects.filter(note__kind="cloze").order_by("ord")
    card_bulk.delete(owner, [madrid.pk])
    Note.objects.filter(pk=spain.note_id).delete()
    with pytest.raises(card_trash.TrashError, match="a note its cards belonged to was deleted"):
        card_trash.restore(card_trash.latest(owner))
    assert not Card.objects.filter(pk=madrid.pk).exists()


def test_refused_when_a_card_added_since_has_its_import_id(owner, deck):
    card = Card.objects.create(deck=deck, question="q", answer="a", external_id="row-7")
    card_bulk.delete(owner, [card.pk])
    Card.objects.create(deck=deck, question="new q", answer="a", external_id="row-7")
    with pytest.raises(card_trash.TrashError, match="clashes with one it would put back"):
        card_trash.restore(card_trash.latest(owner))
    assert not Card.objects.filter(pk=card.pk).exists()


def test_too_old_trash_is_nothing_to_undo(owner_client, owner, deck):
    card = Card.objects.get(question__contains="gato")
    long_ago = timezone.now() - card_trash.TRASH_KEPT_FOR - timedelta(minutes=1)
    _, trash = card_trash.delete(owner, [card.pk], now=long_ago)
    assert card_trash.latest(owner) is None
    assert post(owner_client, UNDO, {}) == "Undid suspend: 2 cards."  # the action before it
    assert post(owner_client, UNDO, {"trash": trash.pk}) == (
        "Delete was not undone: it is too old to undo."
    )


def test_the_next_delete_replaces_the_trash_and_expired_trash_goes(owner, other, deck):
    first, second = Card.objects.filter(deck=deck)[:2]
    old = timezone.now() - card_trash.TRASH_KEPT_FOR - timedelta(hours=1)
    Card.objects.create(deck=Deck.objects.create(owner=other, name="B"), question="b", answer="b")
    card_trash.delete(
        other, Card.objects.filter(deck__owner=other).values_list("pk", flat=True), now=old
    )
    card_trash.delete(owner, [first.pk])
    card_trash.delete(owner, [second.pk])
    assert list(CardTrash.objects.values_list("user", "card_count")) == [(owner.pk, 1)]
    assert card_trash.restore(card_trash.latest(owner)) == 1
    assert Card.objects.filter(pk=second.pk).exists()
    assert not Card.objects.filter(pk=first.pk).exists()


def test_a_deleted_learners_history_stays_deleted(owner, other, deck):
    before = ReviewLog.objects.filter(user=owner).count()
    card_bulk.delete(owner, [c.pk for c in Card.objects.filter(deck=deck)])
    other.delete()
    assert card_trash.restore(card_trash.latest(owner)) == 6
    assert ReviewLog.objects.filter(user=owner).count() == before
    assert not ReviewLog.objects.exclude(user=owner).exists()


def test_only_the_users_own_cards_are_deleted(owner, other, staff, deck):
    ids = list(Card.objects.filter(deck=deck).values_list("pk", flat=True))
    for user in (other, staff):  # a learner of the public deck, and staff: the admin's job
        assert card_bulk.delete(user, ids) == card_bulk.Result(0, len(ids))
    assert not CardTrash.objects.exists()
    assert Card.objects.filter(deck=deck).count() == len(ids)


def test_undo_takes_the_newest_action_first(owner_client, owner, deck):
    gato = Card.objects.get(question__contains="gato")
    card_bulk.delete(owner, [gato.pk])
    card_marks.bury(owner, Card.objects.filter(question__contains="map"))
    assert post(owner_client, UNDO, {}) == "Undid bury: 1 card."
    assert post(owner_client, UNDO, {}) == "Undid delete: 1 card restored."


def test_every_row_that_goes_with_a_card_is_kept():
    # What a delete cascades to is read from the models (card_trash._dependents); what those
    # rows have hanging from them would go unseen, so there must be nothing.
    dependents = {model for model, _ in card_trash._dependents(Card)}
    assert dependents == {MemoryState, ReviewLog, StudyAction}
    assert card_trash._dependents(Note) == [(Card, "note")]
    for model in dependents:
        assert card_trash._dependents(model) == []
        assert not [f for f in model._meta.get_fields() if isinstance(f, models.ManyToManyField)]


def make(owner, other, size):
    deck = Deck.objects.create(owner=owner, name=f"Deck {size}", is_public=True)
    for i in range(size // 2):
        create_note(deck, "reversed", {"Front": f"f{i}", "Back": "b"})
    for user in (owner, other):
        for card in Card.objects.filter(deck=deck):
            review(user, card)
    card_marks.flag(other, Card.objects.filter(deck=deck), 2)
    return list(Card.objects.filter(deck=deck).values_list("pk", flat=True))


@pytest.mark.parametrize("size", [4, 24])
def test_delete_and_undo_queries_constant(owner_client, owner, other, size,
                                          django_assert_num_queries):  # fmt: skip
    ids = make(owner, other, size)
    data = {"action": "delete", "scope": "selected", "ids": ids, "q": ""}
    # The request's own (session, user, decks, settings), the cards read locked, the rows of
    # memory states, review logs and undo records read, the cascade's deletes, the notes left
    # without a card read and deleted, the decks' names, the trash replaced.
    with django_assert_num_queries(22):
        assert post(owner_client, ACTION, data).endswith(
            f"{size} cards deleted. Undo puts them back."
        )
    # Session, user, the newest undo record and trash, the trash locked and dropped, the decks,
    # the living learners, each model's ids free, the parents there, one INSERT per model.
    with django_assert_num_queries(22):
        assert post(owner_client, UNDO, {}) == f"Undid delete: {size} cards restored."


def test_anki_undoes_delete_note_exactly_too(tmp_path):
    # The oracle for what undo of a delete should do: Anki's own backend puts back the note
    # and its cards with their ids, schedule, flag and suspension (its review log it never
    # deleted; ours goes with the card, so it comes back too).
    collection = pytest.importorskip("anki.collection")
    col = collection.Collection(str(tmp_path / "oracle.anki2"))
    try:
        note = col.new_note(col.models.by_name("Basic (and reversed card)"))
        note["Front"], note["Back"] = "perro", "dog"
        col.add_note(note, col.decks.id("Default"))
        ids = [card.id for card in note.cards()]
        col.sched.set_due_date(ids, "5!")
        col.sched.suspend_cards([ids[1]])
        col.set_user_flag_for_cards(3, [ids[0]])

        def state():
            return [
                col.db.all(f"SELECT {columns} FROM {table} ORDER BY id")
                for table, columns in [
                    ("cards", "id, nid, did, ord, type, queue, due, ivl, reps, lapses, flags"),
                    ("notes", "id, guid, flds, tags"),
                    ("revlog", "id, cid, ease, ivl, type"),
                ]
            ]

        before = state()
        assert col.remove_notes([note.id]).count == 2
        assert state()[:2] == [[], []]
        assert col.undo_status().undo == "Delete Note"
        col.undo()
        assert state() == before
    finally:
        col.close()
