"""A generated collection for the search tests, and a plain-Python reading of each query.

`build` writes decks, cards, memory states and review logs from a seed (the same rows on
SQLite and PostgreSQL); `expected` answers a query by walking its tree over those rows in
Python, so the database's answer can be checked against it term by term.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.scheduling import State, study_day, study_day_start
from cards.scheduling.policy import elapsed_days_anki, forgetting_curve
from cards.search import nodes as n
from cards.search import parse
from cards.search.fold import fold
from cards.services.settings import get_study_settings

NOW = datetime(2026, 3, 20, 15, 30, tzinfo=UTC)
TZ, HOUR = "Europe/Paris", 4
WORDS = [
    "Chat", "chien", "Élève", "eleve", "CAFÉ", "cafe", "naïve", "Straße", "strasse", "œuvre",
    "dog_bone", "100%", "a*b", "well-known", "x", "Ünïcödé", "ΣΟΦΙΑ", "sofia", "back\\slash",
]  # fmt: skip
TAGS = ["verbs", "verbs::irregular", "Verbs::Regular", "géo", "leech", "a::b", "a::bc", "ab"]


@dataclass
class Row:
    card: Card
    deck: Deck
    memory: MemoryState | None = None
    logs: list = field(default_factory=list)


def day_start(offset: int) -> datetime:
    return study_day_start(study_day(NOW, TZ, HOUR) + timedelta(days=offset), TZ, HOUR)


def build(user, other, staff=None, cards: int = 240, seed: int = 7) -> list[Row]:
    """The collection; returns the rows `user` may see (their own decks and public ones)."""
    settings = get_study_settings(user)
    settings.timezone, settings.day_start_hour = TZ, HOUR
    settings.save()
    rng = random.Random(seed)
    mine = [
        Deck.objects.create(owner=user, name=name)
        for name in ("French", "French::Verbs", "Café Crème", "Misc")
    ]
    public = Deck.objects.create(owner=other, name="Géographie", is_public=True)
    hidden = [
        Deck.objects.create(owner=other, name="French secret"),
        Deck.objects.create(owner=None, name="Site deck"),
    ]
    decks = [*mine, public, *hidden]
    made = []
    for i in range(cards):
        deck = decks[i % len(decks)]
        question = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
        answer = "" if rng.random() < 0.1 else " ".join(rng.sample(WORDS, rng.randint(1, 2)))
        tags = " ".join(rng.sample(TAGS, rng.randint(0, 2)))
        made.append(
            Card(
                deck=deck,
                question=question,
                answer=answer,
                tags=tags,
                position=i,
                suspended=rng.random() < 0.05,
                external_id=f"g{i}",
            )
        )
    made = Card.objects.bulk_create(made)
    for card in made:
        card.created_at = NOW - timedelta(days=rng.uniform(0, 40))
        card.updated_at = card.created_at + timedelta(days=rng.uniform(0, 5))
    Card.objects.bulk_update(made, ["created_at", "updated_at"])
    rows = [Row(card, card.deck) for card in made]
    memories, logs = [], []
    for row in rows:
        if rng.random() < 0.3:
            continue
        memory = _memory(rng, user, row.card)
        row.memory = memory
        memories.append(memory)
        for _ in range(rng.randint(0, 3) if memory.state != State.NEW else 0):
            at = NOW - timedelta(days=rng.uniform(0, 30))
            log = ReviewLog(
                user=user,
                card=row.card,
                deck=row.deck,
                rating=3,
                grade=rng.randint(1, 4),
                reviewed_at=at,
                state_before=State.REVIEW,
                state_after=State.REVIEW,
                due_after=at,
            )
            row.logs.append(log)
            logs.append(log)
        # The other learner's marks and history must never leak into this user's results.
        other_memory = _memory(rng, other, row.card)
        other_memory.flag, other_memory.suspended = 5, True
        memories.append(other_memory)
    MemoryState.objects.bulk_create(memories)
    ReviewLog.objects.bulk_create(logs)
    visible = {deck.pk for deck in (*mine, public)}
    return [row for row in rows if row.deck.pk in visible]


def _memory(rng, user, card) -> MemoryState:
    state = rng.choice(list(State))
    fields = {"state": state, "flag": rng.choice([0, 0, 0, 1, 2, 7])}
    fields["suspended"] = rng.random() < 0.1
    fields["leech"] = rng.random() < 0.05
    if rng.random() < 0.1:
        fields["buried_until"] = NOW + timedelta(hours=rng.choice([-3, 5]))
    if state == State.NEW:
        return MemoryState.of(user, card, due=NOW, **fields)
    last_day = rng.randint(-60, 0)
    # Reviewed somewhere in the first 90% of a study day (the interval's rounding is exact).
    last = day_start(last_day) + timedelta(hours=rng.uniform(0, 21))
    last = min(last, NOW - timedelta(minutes=1))
    if state == State.REVIEW:
        due = day_start(last_day + rng.randint(1, 80))
    else:
        due = NOW + timedelta(minutes=rng.choice([-600, -30, 10, 30, 600, 3000]))
    return MemoryState.of(
        user,
        card,
        due=due,
        last_review=last,
        stability=round(rng.uniform(0.2, 120), 4),
        difficulty=round(rng.uniform(1, 10), 3),
        reps=rng.randint(1, 12),
        lapses=rng.randint(0, 5),
        **fields,
    )


# -- The same queries answered in Python -------------------------------------------------------


def expected(rows: list[Row], query: str, user) -> set[int]:
    node = parse(query)
    decay = get_study_settings(user).fsrs_parameters[20]
    return {row.card.pk for row in rows if node is None or _matches(node, row, decay)}


def _glob(raw: str, any_char: str = ".") -> str:
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            out.append(re.escape(fold(raw[i + 1])))
            i += 2
            continue
        out.append(f"{any_char}*" if ch == "*" else any_char if ch == "_" else re.escape(fold(ch)))
        i += 1
    return "".join(out)


_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _matches(node, row: Row, decay: float) -> bool:  # noqa: C901 — one branch per term
    card, memory = row.card, row.memory
    studied = memory is not None and memory.state != State.NEW
    buried = memory is not None and memory.buried_until is not None and memory.buried_until > NOW
    if isinstance(node, n.And):
        return all(_matches(child, row, decay) for child in node.children)
    if isinstance(node, n.Or):
        return any(_matches(child, row, decay) for child in node.children)
    if isinstance(node, n.Not):
        return not _matches(node.child, row, decay)
    if isinstance(node, n.Text):
        pattern = _glob(node.value)
        return any(re.search(pattern, fold(text), re.S) for text in (card.question, card.answer))
    if isinstance(node, n.FieldText):
        return re.fullmatch(_glob(node.value), fold(getattr(card, node.field)), re.S) is not None
    if isinstance(node, n.Deck):
        return node.value == "*" or bool(
            re.fullmatch(_glob(node.value) + "(::.*)?", fold(row.deck.name), re.S)
        )
    if isinstance(node, n.Tag):
        tags = fold(card.tags).split()
        if node.value.lower() == "none":
            return not tags
        return any(re.fullmatch(_glob(node.value, "[^ ]") + "(::.*)?", t) for t in tags)
    if isinstance(node, n.Flag):
        return (memory.flag if memory else 0) == node.flag
    if isinstance(node, n.State):
        return _state(node.kind, card, memory, studied, buried)
    if isinstance(node, n.Prop):
        return _prop(node, memory, studied, buried, decay)
    if isinstance(node, n.Rated):
        since = day_start(1 - node.days)
        return any(log.reviewed_at >= since and node.ease in (None, log.grade) for log in row.logs)
    if isinstance(node, n.Introduced):
        return bool(row.logs) and min(log.reviewed_at for log in row.logs) >= day_start(
            1 - node.days
        )
    if isinstance(node, n.Added):
        return card.created_at >= day_start(1 - node.days)
    if isinstance(node, n.Edited):
        return card.updated_at >= day_start(1 - node.days)
    if isinstance(node, n.CardIds):
        return card.pk in node.ids
    raise AssertionError(node)


def _state(kind, card, memory, studied, buried) -> bool:
    if kind == "new":
        return not studied
    if kind == "learn":
        return studied and memory.state in (State.LEARNING, State.RELEARNING)
    if kind == "review":
        return studied and memory.state in (State.REVIEW, State.RELEARNING)
    if kind == "suspended":
        return card.suspended or (memory is not None and memory.suspended)
    if kind == "buried":
        return buried
    if kind == "leech":
        return memory is not None and memory.leech
    assert kind == "due"
    if not studied or buried or memory.suspended or card.suspended or not card.answer:
        return False
    if memory.state == State.REVIEW:
        return memory.due < day_start(1)
    return memory.due <= NOW + timedelta(minutes=20)


def _prop(node, memory, studied, buried, decay) -> bool:
    op = _OPS[node.op]
    if node.kind in ("reps", "lapses"):
        return op(getattr(memory, node.kind) if memory else 0, node.value)
    if node.kind == "ivl":
        ivl = 0
        if memory is not None and memory.state == State.REVIEW:
            ivl = (study_day(memory.due, TZ, HOUR) - study_day(memory.last_review, TZ, HOUR)).days
        return op(ivl, node.value)
    if not studied:
        return False
    if node.kind == "due":
        if buried or memory.suspended:
            return False
        today = study_day(NOW, TZ, HOUR)
        return op((study_day(memory.due, TZ, HOUR) - today).days, node.value)
    if node.kind == "s":
        return op(memory.stability, node.value)
    if node.kind == "d":
        return op(memory.difficulty, node.value * 9 + 1)
    elapsed = elapsed_days_anki(memory.last_review, day_start(1))
    r = forgetting_curve(elapsed, memory.stability, decay)
    if node.op == "=":
        return node.value - 0.005 <= r < node.value + 0.005
    if node.op == "!=":
        return not node.value - 0.005 <= r < node.value + 0.005
    return op(r, node.value)
