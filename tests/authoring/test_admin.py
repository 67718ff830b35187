from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog
from tests.conftest import make_user

from .conftest import add_cards, review

FILL = reverse("admin:cards_card_fill_answers")
PREVIEW = reverse("admin:cards_card_preview")
CHANGELIST = reverse("admin:cards_card_changelist")


def blank_cards(deck):
    return list(deck.cards.needing_answer().order_by("position"))


def test_missing_answer_filter_shows_the_18_blank_seed_cards(staff_client, seed_deck):
    response = staff_client.get(CHANGELIST, {"answer": "missing", "deck__id__exact": seed_deck.pk})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 18
    present = staff_client.get(CHANGELIST, {"answer": "present"})
    assert present.context["cl"].result_count == 24


def test_card_list_searches_question_and_answer(staff_client, seed_deck):
    response = staff_client.get(CHANGELIST, {"q": "RAG"})
    assert response.context["cl"].result_count >= 2


def test_card_change_page_shows_the_rendered_answer(staff_client, seed_deck):
    card = seed_deck.cards.answered().first()
    response = staff_client.get(reverse("admin:cards_card_change", args=[card.pk]))
    assert response.status_code == 200
    assert card.answer_html in response.content.decode()
    assert "hx-disable" in response.content.decode()


def test_deck_list_counts_cards_and_missing_answers_in_one_query(
    staff_client, seed_deck, django_assert_max_num_queries
):
    url = reverse("admin:cards_deck_changelist")
    response = staff_client.get(url)
    deck = response.context["cl"].result_list[0]
    assert (deck.card_count, deck.needs_answer_count) == (42, 18)
    # Expect: session, user, count, full count, the decks with both counts annotated.
    with django_assert_max_num_queries(6) as few:
        staff_client.get(url)
    for i in range(20):
        Deck.objects.create(name=f"Deck {i}", is_public=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get(url)


def test_fill_answers_saves_an_answer_and_moves_to_the_next(staff_client, seed_deck):
    first, second = blank_cards(seed_deck)[:2]
    page = staff_client.get(FILL, {"deck": seed_deck.pk})
    assert page.context["card"] == first
    assert b"18 of 18 left" in page.content
    response = staff_client.post(
        FILL,
        {"card": first.pk, "deck": seed_deck.pk, "answer": "A **bold** answer", "action": "save"},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.answer == "A **bold** answer"
    assert "<strong>bold</strong>" in first.answer_html
    page = staff_client.get(response["Location"])
    assert page.context["card"] == second
    assert b"17 of 18 left" in page.content


def test_fill_answers_skip_reaches_every_blank_card_then_summarises(staff_client, seed_deck):
    url, seen = f"{FILL}?deck={seed_deck.pk}", []
    for i in range(18):
        page = staff_client.get(url)
        card = page.context["card"]
        seen.append(card.pk)
        data = {"card": card.pk, "deck": seed_deck.pk, "skipped": page.context["skipped_ids"],
                "answered": page.context["answered"]}  # fmt: skip
        if i % 2:
            data |= {"action": "save", "answer": f"Answer {i}"}
        else:
            data |= {"action": "skip"}
        url = staff_client.post(FILL, data)["Location"]
    assert sorted(seen) == sorted(
        c.pk
        for c in Card.objects.filter(
            deck=seed_deck, external_id__in=[str(n) for n in [8, *range(25, 42)]]
        )
    )
    summary = staff_client.get(url)
    assert summary.context["card"] is None
    assert b"You answered 9 cards and skipped 9." in summary.content
    assert seed_deck.cards.needing_answer().count() == 9


def test_fill_answers_refuses_a_blank_answer_and_keeps_the_card(staff_client, seed_deck):
    card = blank_cards(seed_deck)[0]
    response = staff_client.post(FILL, {"card": card.pk, "answer": "  ", "action": "save"})
    assert response.status_code == 200
    assert response.context["card"] == card
    assert b"Write an answer, or press Skip." in response.content


def test_fill_answers_preview_without_javascript(staff_client, seed_deck):
    card = blank_cards(seed_deck)[0]
    response = staff_client.post(
        FILL, {"card": card.pk, "answer": "- one\n- two", "action": "preview"}
    )
    assert b"<li>one</li>" in response.content
    assert b"- one\n- two</textarea>" in response.content
    card.refresh_from_db()
    assert card.needs_answer


def test_preview_endpoint_renders_markdown_safely(staff_client):
    response = staff_client.post(
        PREVIEW, {"answer": "**hi** <script>alert(1)</script>"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<strong>hi</strong>" in html and "<script>" not in html
    assert "hx-disable" in html


def test_preview_endpoint_rejects_get(staff_client):
    assert staff_client.get(PREVIEW).status_code == 405


def test_an_answered_card_joins_the_learners_queue_and_other_schedules_stay(
    staff_client, seed_deck
):
    from cards.services.queue import next_card

    learner = make_user("dora")
    future = timezone.now() + timedelta(days=30)
    for card in seed_deck.cards.answered():
        MemoryState.objects.create(
            user=learner, card=card, deck=seed_deck, state=2, stability=20, difficulty=5,
            due=future, last_review=timezone.now() - timedelta(days=3), reps=2,
        )  # fmt: skip
    before = list(MemoryState.objects.order_by("pk").values())
    assert next_card(learner, seed_deck) is None
    card = blank_cards(seed_deck)[0]
    staff_client.post(FILL, {"card": card.pk, "answer": "Now answered", "action": "save"})
    queued = next_card(learner, seed_deck)
    assert queued.card == card and queued.kind == "new"
    assert list(MemoryState.objects.order_by("pk").values()) == before
    assert not MemoryState.objects.filter(card=card).exists()


def test_editing_an_answer_in_the_admin_keeps_schedules(staff_client, seed_deck, other):
    card = seed_deck.cards.answered().first()
    state = review(other, card)
    response = staff_client.post(
        reverse("admin:cards_card_change", args=[card.pk]),
        {"deck": seed_deck.pk, "question": card.question, "answer": "Better answer",
         "position": card.position, "external_id": card.external_id, "tags": ""},
    )  # fmt: skip
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.answer == "Better answer"
    assert MemoryState.objects.get(pk=state.pk).due == state.due


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        CHANGELIST,
        FILL,
        reverse("admin:cards_card_duplicates"),
        reverse("admin:cards_card_merge"),
        reverse("admin:cards_reviewlog_changelist"),
    ],
)
def test_a_non_staff_user_gets_no_admin_access(owner_client, url):
    response = owner_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_non_staff_user_cannot_post_answers_or_previews(owner_client, seed_deck):
    card = blank_cards(seed_deck)[0]
    assert (
        owner_client.post(FILL, {"card": card.pk, "answer": "x", "action": "save"}).status_code
        == 302
    )
    assert owner_client.post(PREVIEW, {"answer": "x"}).status_code == 302
    card.refresh_from_db()
    assert card.needs_answer


def test_anonymous_is_sent_to_the_admin_login(client):
    response = client.get(FILL)
    assert response.status_code == 302 and "login/" in response["Location"]


def test_duplicates_page_lists_the_seed_near_duplicates(staff_client, seed_deck):
    response = staff_client.get(reverse("admin:cards_card_duplicates"), {"deck": seed_deck.pk})
    pairs = {
        frozenset((p.first.question.lower(), p.second.question.lower()))
        for p in response.context["pairs"]
    }
    questions = [q for pair in pairs for q in pair]
    assert any("x-formers" in q for q in questions) and any("xformers" in q for q in questions)
    assert sum(1 for pair in pairs if all(q.startswith("what is rag?") for q in pair)) == 1


def test_merge_keeps_every_users_history_of_the_kept_card(staff_client, own_deck, other, staff):
    kept, removed = own_deck.cards.order_by("position")[:2]
    both, only_removed, only_kept = other, staff, make_user("erin")
    review(both, kept)
    review(both, removed, days=20)
    review(only_kept, kept)
    review(only_removed, removed, days=11)
    review(only_removed, removed, days=13)
    kept_history = list(ReviewLog.objects.filter(card=kept).order_by("pk").values())
    url = reverse("admin:cards_card_merge")
    page = staff_client.get(url, {"ids": f"{kept.pk},{removed.pk}"})
    assert page.status_code == 200
    response = staff_client.post(url, {"ids": f"{kept.pk},{removed.pk}", "keep": kept.pk})
    assert response.status_code == 302
    assert not Card.objects.filter(pk=removed.pk).exists()
    logs = ReviewLog.objects.filter(card=kept)
    assert list(logs.filter(user__in=[both, only_kept]).order_by("pk").values()) == kept_history
    assert logs.filter(user=only_removed).count() == 2
    moved = MemoryState.objects.get(user=only_removed, card=kept)
    assert moved.deck_id == kept.deck_id
    assert MemoryState.objects.get(user=both, card=kept).stability == 3.5
    assert MemoryState.objects.filter(card=kept).count() == 3


def test_merge_fills_a_blank_answer_from_the_removed_card(staff_client, own_deck):
    blank = own_deck.cards.get(question="Blank one")
    donor = own_deck.cards.get(question="Question 1")
    staff_client.post(
        reverse("admin:cards_card_merge"), {"ids": f"{blank.pk},{donor.pk}", "keep": blank.pk}
    )
    blank.refresh_from_db()
    assert blank.answer == "Answer 1"


def test_move_to_deck_moves_memory_states_and_logs(staff_client, own_deck, public_deck, other):
    cards = list(own_deck.cards.order_by("position")[:2])
    review(other, cards[0])
    data = {"action": "move_to_deck", "_selected_action": [c.pk for c in cards]}
    page = staff_client.post(CHANGELIST, data)
    assert page.status_code == 200 and b"Move cards" in page.content
    response = staff_client.post(CHANGELIST, data | {"apply": "1", "deck": public_deck.pk})
    assert response.status_code == 302
    assert set(public_deck.cards.values_list("question", flat=True)) >= {"Question 1", "Question 2"}
    assert MemoryState.objects.get(card=cards[0]).deck == public_deck
    assert set(ReviewLog.objects.filter(card=cards[0]).values_list("deck", flat=True)) == {
        public_deck.pk
    }


def test_suspend_and_unsuspend_actions(staff_client, own_deck):
    ids = list(own_deck.cards.values_list("pk", flat=True))
    staff_client.post(CHANGELIST, {"action": "suspend", "_selected_action": ids})
    assert own_deck.cards.filter(suspended=True).count() == len(ids)
    staff_client.post(CHANGELIST, {"action": "unsuspend", "_selected_action": ids})
    assert own_deck.cards.filter(suspended=True).count() == 0


def test_review_logs_are_read_only(staff_client, own_deck, other):
    review(other, own_deck.cards.first())
    log = ReviewLog.objects.get()
    assert staff_client.get(reverse("admin:cards_reviewlog_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:cards_reviewlog_add")).status_code == 403
    assert (
        staff_client.post(reverse("admin:cards_reviewlog_change", args=[log.pk]), {}).status_code
        == 403
    )
    assert (
        staff_client.post(
            reverse("admin:cards_reviewlog_delete", args=[log.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert ReviewLog.objects.count() == 1


def test_card_list_query_count_does_not_grow(staff_client, own_deck, django_assert_max_num_queries):
    staff_client.get(CHANGELIST)
    # Expect: session, user, deck filter choices, counts, the page of cards with their decks.
    with django_assert_max_num_queries(8) as few:
        staff_client.get(CHANGELIST)
    add_cards(own_deck, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get(CHANGELIST)


def test_fill_answers_page_query_count_does_not_grow(
    staff_client, own_deck, django_assert_num_queries
):
    url = f"{FILL}?deck={own_deck.pk}"
    staff_client.get(url)
    # Expect 5: session, user, deck, the next blank card, how many are left; plus the deck
    # choices with their counts.
    with django_assert_num_queries(6) as few:
        staff_client.get(url)
    Card.objects.bulk_create(
        Card(deck=own_deck, question=f"Blank {i}", answer="", position=10 + i) for i in range(40)
    )
    with django_assert_num_queries(len(few.captured_queries)):
        response = staff_client.get(url)
    assert b"41 of 41 left" in response.content


def test_duplicates_page_query_count_does_not_grow(
    staff_client, own_deck, django_assert_num_queries
):
    url = reverse("admin:cards_card_duplicates")
    staff_client.get(url)
    # Expect 4: session, user, every card with its deck, the deck choices.
    with django_assert_num_queries(4):
        staff_client.get(url)
    add_cards(own_deck, 40)
    with django_assert_num_queries(4):
        staff_client.get(url)


def test_big_decks_still_find_near_copies_changed_at_both_ends(own_deck, monkeypatch):
    from cards.services import curation

    monkeypatch.setattr(curation, "EXACT_LIMIT", 3)
    add_cards(own_deck, 30)
    Card.objects.create(deck=own_deck, question="How does the attention mechanism scale?")
    Card.objects.create(deck=own_deck, question="So how does the attention mechanism scale")
    pairs = curation.find_duplicates(Card.objects.filter(deck=own_deck))
    assert {
        (p.first.question, p.second.question) for p in pairs if "attention" in p.first.question
    } == {("How does the attention mechanism scale?", "So how does the attention mechanism scale")}


@pytest.mark.parametrize("how", ["delete-view", "delete-selected"])
def test_deleting_decks_in_the_admin_goes_batch_by_batch(staff_client, own_deck, how):
    # (A deck with review history cannot be deleted in the admin: the logs are read-only there.)
    add_cards(own_deck, 7)
    with override_settings(IMPORT_BATCH_CARDS=2), CaptureQueriesContext(connection) as queries:
        if how == "delete-view":
            url = reverse("admin:cards_deck_delete", args=[own_deck.pk])
            response = staff_client.post(url, {"post": "yes"})
        else:
            data = {"action": "delete_selected", "_selected_action": [own_deck.pk], "post": "yes"}
            response = staff_client.post(reverse("admin:cards_deck_changelist"), data)
    assert response.status_code == 302
    assert not Deck.objects.filter(pk=own_deck.pk).exists()
    assert not Card.objects.filter(deck=own_deck.pk).exists()
    # 11 cards in batches of 2: six DELETEs of cards, not one.
    card_deletes = [q for q in queries if q["sql"].startswith('DELETE FROM "cards_card"')]
    assert len(card_deletes) == 6
