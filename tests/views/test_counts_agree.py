"""The dashboard, the deck page and the study page show the same figures under the same labels
(issue 15, item 5): each deck's "learning due", "to review" and "new" on the dashboard, on its
deck page and on its study page; the dashboard's "All decks" on the study-all page; "in
learning (all)" on the dashboard and the deck page. Read from the rendered HTML of each page.
"""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.scheduling import State
from cards.services.settings import get_study_settings, study_day_bounds
from tests.conftest import make_user, start_days_far_from_now

QUEUE_LABELS = {"learning": "learning due", "review": "to review", "new": "new"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class Figures(HTMLParser):
    """{deck key: {count name: text}} for every element with data-count, keyed by the nearest
    data-deck around it (None: none, as on the study page)."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.found: dict[str | None, dict[str, str]] = {}
        self.headers: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, dict(attrs)))
            if tag == "th":
                self.headers.append("")

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, attrs = self.stack.pop()
            if "data-count" in attrs:
                deck = next((a["data-deck"] for _, a in self.stack if "data-deck" in a), None)
                self.found.setdefault(deck, {})[attrs["data-count"]] = " ".join(
                    attrs["_text"].split()
                )
            if open_tag == tag:
                return

    def handle_data(self, data):
        for _, attrs in self.stack:
            if "data-count" in attrs:
                attrs["_text"] = attrs.get("_text", "") + data
        if any(tag == "th" for tag, _ in self.stack) and self.headers:
            self.headers[-1] += data


def figures(client, url) -> Figures:
    response = client.get(url)
    assert response.status_code == 200, url
    parser = Figures()
    parser.feed(response.content.decode())
    return parser


def queue_figures(texts: dict) -> dict[str, int]:
    """ "3 learning due" → {"learning": 3}; the label must be the one all pages use."""
    out = {}
    for name, label in QUEUE_LABELS.items():
        number, _, said = texts[name].partition(" ")
        assert said in ("", label), (name, texts[name])  # a table cell holds the number alone
        out[name] = int(number)
    return out


def memory(user, card, state, due, **fields):
    return MemoryState.objects.create(
        user=user, card=card, deck=card.deck, state=state, due=due, step=0, stability=3.0,
        difficulty=5.0, last_review=timezone.now() - timedelta(days=3), reps=2,
        studyable=card.is_studyable, **fields,
    )  # fmt: skip


def cards(deck, count, start=0, **fields) -> list[Card]:
    return Card.objects.bulk_create(
        Card(deck=deck, question=f"{deck.name} Q{i}", answer=f"A{i}", position=i, **fields)
        for i in range(start, start + count)
    )


def log(user, card, state_before):
    when = timezone.now() - timedelta(minutes=5)
    ReviewLog.objects.create(
        user=user, card=card, deck=card.deck, rating=4, grade=3, reviewed_at=when,
        state_before=state_before, state_after=State.REVIEW, stability_after=3.0,
        difficulty_after=5.0, due_after=when + timedelta(days=3), before={"exists": False},
    )  # fmt: skip


def build(learner, new_per_day, reviews_per_day):
    """Own decks A and B, Bob's public deck C and his private deck D, with every kind of card:
    new (some left by undo, some buried while new), learning due now, within the learn-ahead
    limit and later today, day learning, reviews due and not, suspended by the card and by the
    learner, buried, blank; and today's reviews that use up part of the limits."""
    start_days_far_from_now(learner)
    settings = get_study_settings(learner)
    settings.new_cards_per_day, settings.reviews_per_day = new_per_day, reviews_per_day
    settings.save()
    now = timezone.now()
    _, day_start, day_end = study_day_bounds(settings, now)
    bob = make_user("bob")
    a = Deck.objects.create(owner=learner, name="A")
    b = Deck.objects.create(owner=learner, name="B")
    c = Deck.objects.create(owner=bob, name="C", is_public=True)
    d = Deck.objects.create(owner=bob, name="D")

    a_cards = cards(a, 33)
    new_a, rest = a_cards[:15], a_cards[15:]
    memory(learner, new_a[0], State.NEW, now)  # left by an undone first review: still new
    memory(learner, new_a[1], State.NEW, now, buried_until=day_end)  # buried while new
    memory(learner, new_a[2], State.NEW, now, suspended=True)  # suspended while new
    for card in rest[0:2]:
        memory(learner, card, State.LEARNING, now - timedelta(minutes=10))  # due now
    memory(learner, rest[2], State.RELEARNING, now + timedelta(minutes=10))  # within learn-ahead
    memory(learner, rest[3], State.LEARNING, now + timedelta(hours=3))  # later today
    memory(learner, rest[4], State.LEARNING, day_start)  # day learning, due today
    memory(learner, rest[5], State.LEARNING, day_end)  # day learning, due tomorrow
    for card in rest[6:9]:
        memory(learner, card, State.REVIEW, now - timedelta(days=1))  # reviews due
    for card in rest[9:11]:
        memory(learner, card, State.REVIEW, now + timedelta(days=5))  # not due
    memory(learner, rest[11], State.REVIEW, now - timedelta(days=1), suspended=True)
    memory(learner, rest[12], State.REVIEW, now - timedelta(days=1), buried_until=day_end)
    memory(learner, rest[13], State.LEARNING, now - timedelta(minutes=1), buried_until=day_end)
    memory(learner, rest[14], State.LEARNING, now - timedelta(minutes=1), suspended=True)
    Card.objects.filter(pk__in=[c.pk for c in rest[15:17]]).update(suspended=True)
    memory(learner, Card.objects.get(pk=rest[15].pk), State.REVIEW, now - timedelta(days=1))
    memory(learner, Card.objects.get(pk=rest[16].pk), State.LEARNING, now - timedelta(hours=1))
    Card.objects.filter(pk=rest[17].pk).update(answer="")  # blank: never studied
    log(learner, rest[6], State.NEW)  # today: two new cards started and one review
    log(learner, rest[7], State.NEW)
    log(learner, rest[8], State.REVIEW)

    b_cards = cards(b, 12)
    for card in b_cards[:2]:
        memory(learner, card, State.REVIEW, now - timedelta(hours=20))
    memory(learner, b_cards[2], State.LEARNING, now - timedelta(minutes=3))
    memory(learner, b_cards[3], State.RELEARNING, now + timedelta(days=2))  # not due

    c_cards = cards(c, 9)
    for card in c_cards[:4]:
        memory(learner, card, State.REVIEW, now - timedelta(days=2))
    memory(bob, c_cards[5], State.LEARNING, now - timedelta(minutes=3))  # Bob's, not ours
    d_cards = cards(d, 5)  # Bob's private deck: in no count of ours
    memory(learner, d_cards[0], State.LEARNING, now - timedelta(minutes=3))
    return [a, b, c], d


@pytest.mark.parametrize(
    ("new_per_day", "reviews_per_day"),
    [(10, 200), (10, 9), (3, 200)],
    ids=["new-limit-hit", "review-limit-hit", "small-new-limit"],
)
def test_the_three_pages_show_the_same_figures(owner_client, owner, new_per_day, reviews_per_day):
    decks, private = build(owner, new_per_day, reviews_per_day)
    dashboard = figures(owner_client, "/")
    assert str(private.pk) not in dashboard.found
    for label in ("Learning due", "To review", "New", "In learning (all)"):
        assert label in dashboard.headers
    all_decks = queue_figures(dashboard.found["all"])
    assert all_decks == queue_figures(figures(owner_client, "/study/").found[None])

    per_deck = {}
    for deck in decks:
        row = dashboard.found[str(deck.pk)]
        deck_page = figures(owner_client, f"/decks/{deck.pk}/").found[str(deck.pk)]
        study_page = figures(owner_client, f"/decks/{deck.pk}/study/").found[None]
        per_deck[deck.name] = queue_figures(row)
        assert queue_figures(deck_page) == per_deck[deck.name], deck.name
        assert queue_figures(study_page) == per_deck[deck.name], deck.name
        assert int(row["in-learning"]) == int(deck_page["in-learning"].split()[0]), deck.name
    in_learning = int(dashboard.found["all"]["in-learning"].split()[0])
    assert in_learning == sum(int(dashboard.found[str(d.pk)]["in-learning"]) for d in decks)

    # The figures themselves, so that agreeing is not agreeing on nothing. Deck A: 2 learning
    # due now, 1 within the learn-ahead limit, 1 day learning; 7 in learning in all (the
    # buried one and the two due later count, the suspended ones do not).
    assert int(dashboard.found[str(decks[0].pk)]["in-learning"]) == 7
    assert in_learning == 7 + 2 + 0
    new_left = min(new_per_day - 2, reviews_per_day - 1 - 2)
    assert all_decks["new"] <= new_left  # the limit is shared: all decks give at most that
    if reviews_per_day == 200:
        assert per_deck["A"] == {"learning": 4, "review": 3, "new": min(13, new_left)}
        assert per_deck["B"] == {"learning": 1, "review": 2, "new": min(8, new_left)}
        assert per_deck["C"] == {"learning": 0, "review": 4, "new": min(5, new_left)}
        assert all_decks == {"learning": 5, "review": 9, "new": new_left}
        assert sum(counts["new"] for counts in per_deck.values()) > all_decks["new"]
    else:  # 6 reviews left today: day learning first, then reviews, nothing for new cards
        assert all_decks == {"learning": 5, "review": 5, "new": 0}
        assert per_deck["C"] == {"learning": 0, "review": 4, "new": 2}


def test_the_pages_say_the_new_card_limit_is_shared(owner_client, owner):
    build(owner, 10, 200)
    dashboard = owner_client.get("/").content.decode()
    assert "Your limit of 10 new cards a day is shared by all decks: 8 left today." in dashboard
    deck = Deck.objects.get(name="A")
    page = owner_client.get(f"/decks/{deck.pk}/").content.decode()
    assert "within your limit of 10 a day, shared by all decks (8 left today)" in page


def test_another_users_private_deck_page_is_a_404(other_client, owner):
    deck = Deck.objects.create(owner=owner, name="Mine")
    assert other_client.get(f"/decks/{deck.pk}/").status_code == 404
