"""A large, realistic, deterministic dataset for the benchmark and the query-budget tests.

    python manage.py bench_data --users 20 --cards 20000 --reviews 1000000
        [--seed 1] [--break-days 14]

Every user gets several decks (their cards spread over them unevenly, a few blank or suspended)
and studies the one public deck as well. A year of review history is simulated day by day with
FSRS (fsrs-rs-python's next_states, the same memory model the app uses) and a cheap copy of the
app's policy: learning steps 1m/10m, relearning 10m, whole-day review intervals starting at the
4:00 UTC day boundary, skipped days and holidays, ratings drawn from the predicted recall.
Every MemoryState is the state after the card's last log, so the queue, undo and the stats see
a consistent history (intervals differ from an exact replay only by the fuzz).

Speed: no model instances and no save(); rows go in 10,000 at a time with COPY on PostgreSQL
and executemany on SQLite, with explicit ids. Card Markdown is rendered once per template text
(the numbers are substituted into the rendered HTML), so 400,000 cards cost a few renders.
"""

from __future__ import annotations

import heapq
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import fsrs_rs_python as fr
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, models, transaction

from cards.markdown import render_markdown
from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings

PASSWORD = "bench-password"
USER_PREFIX = "bench"
BATCH = 10_000
DAY = 86_400
DAY_START = 4 * 3600  # the default "next day starts at 4:00", users are in UTC
LEARNING_STEPS = (60, 600)
RELEARNING_STEPS = (600,)
RETENTION = 0.9
DECAY = fr.DEFAULT_PARAMETERS[20]
FACTOR = 0.9 ** (-1.0 / DECAY) - 1.0
NEW, LEARNING, REVIEW, RELEARNING = 0, 1, 2, 3
AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
# Five-point ratings as the study page asks them; 1 and 2 both map to Again.
RATING_FOR_GRADE = {AGAIN: (1, 2), HARD: (3,), GOOD: (4,), EASY: (5,)}
DECK_SHARES = (0.34, 0.24, 0.18, 0.14, 0.10)  # "several decks", unevenly sized
DECK_TOPICS = ("Vocabulary", "Biology", "History", "Programming", "Music theory")

QUESTIONS = (
    "What is **term N**?",
    "Define *concept N* in one sentence.",
    "Which year did event N happen?",
    "What does `function_N()` return?",
    "Name the three parts of structure N.",
    "How is idea N different from idea N+1?",
    "Translate phrase N.",
    "Why does process N need energy?",
)
ANSWERS = (
    "Term N is the **first** thing you think of.",
    "- part one of N\n- part two of N\n- part three of N",
    "It happened in year N.",
    '```python\ndef function_N():\n    return "N"\n```',
    "Concept N means *exactly* what it says.",
    "1. Observe N\n2. Compare\n3. Conclude",
    "Because N needs it.",
    "Idea N is `faster`; the next one is simpler.",
)
PLACEHOLDER = "N"


MARKER = "XQZNUMQZX"


class Templates:
    """Markdown rendered once per (label, template); card numbers are substituted afterwards."""

    def __init__(self, texts):
        self.texts = [text.replace(PLACEHOLDER, MARKER) for text in texts]
        self.cache = {}

    def get(self, index: int, label: str = "") -> tuple[str, str]:
        key = (index, label)
        if key not in self.cache:
            text = f"{label}: {self.texts[index]}" if label else self.texts[index]
            self.cache[key] = (text, render_markdown(text))
        return self.cache[key]


def day_of(ts: int) -> int:
    """The study day (days since the epoch) of a Unix time, for UTC and a 4:00 day start."""
    return (ts - DAY_START) // DAY


def day_start(day: int) -> int:
    return day * DAY + DAY_START


@dataclass
class Memory:
    """A card's simulated state; mirrors MemoryState."""

    state: int = NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: int = 0
    last: int | None = None
    reps: int = 0
    lapses: int = 0

    def snapshot(self, fmt):
        """The "before" JSON of a log: the MemoryState fields as reviews.py writes them."""
        if self.state == NEW:
            return {"exists": False}
        return {
            "exists": True,
            "state": self.state,
            "step": self.step,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "due": fmt(self.due),
            "last_review": fmt(self.last) if self.last is not None else None,
            "reps": self.reps,
            "lapses": self.lapses,
            "version": self.reps,
        }


@dataclass
class Plan:
    users: int
    cards: int
    reviews: int
    seed: int = 1
    public_cards: int = 300
    decks_per_user: int = 5
    days: int = 365
    today: date | None = None
    # The history stops this many days before today: everyone comes back from a break to a
    # backlog, so the benchmark's review loop (minutes at full speed) does not run dry.
    break_days: int = 14
    blank_share: float = 0.02
    suspended_share: float = 0.005
    # The app's default for new cards; a review limit high enough that the benchmark's review
    # loop never runs dry (each user is studied for minutes at full speed).
    new_per_day_limit: int = 20
    reviews_per_day_limit: int = 9999
    log: object = print
    counts: dict = field(default_factory=dict)


class Writer:
    """Inserts rows of one model fast: COPY on PostgreSQL, executemany on SQLite.

    Columns not given take the model field's default (so a field added later with a default
    does not break the generator)."""

    def __init__(self):
        self.vendor = connection.vendor
        self.now = datetime.now(UTC)

    def ts(self, value: int | None):
        if value is None:
            return None
        moment = datetime.fromtimestamp(value, UTC)
        if self.vendor == "sqlite":
            return moment.replace(tzinfo=None).isoformat(" ")
        return moment

    def columns(self, model, given):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        rest = [name for name in fields if name not in given]
        defaults = []
        for name in rest:
            f = fields[name]
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = self.now
            elif f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif f.empty_strings_allowed:
                value = ""
            else:
                raise CommandError(f"bench_data does not know a value for {model.__name__}.{name}")
            value = f.get_db_prep_save(value, connection)
            if self.vendor == "postgresql" and isinstance(f, models.JSONField):
                value = json.dumps(f.get_default() if f.has_default() else None)
            defaults.append(value)
        return [fields[name].column for name in (*given, *rest)], tuple(defaults)

    def insert(self, model, given, rows):
        """rows: iterable of tuples in the order of `given`; written BATCH at a time."""
        columns, defaults = self.columns(model, given)
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        count = 0
        batch = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append(row + defaults)
                if len(batch) >= BATCH:
                    self._flush(cursor, table, names, len(columns), batch)
                    count += len(batch)
                    batch = []
            if batch:
                self._flush(cursor, table, names, len(columns), batch)
                count += len(batch)
        return count

    def _flush(self, cursor, table, names, width, batch):
        if self.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * width)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)

    def json(self, value):
        return json.dumps(value, separators=(",", ":"))


class Simulator:
    """One user's year of study, day by day."""

    def __init__(self, rng: random.Random, fsrs: fr.FSRS):
        self.rng = rng
        self.fsrs = fsrs

    def grade(self, memory: Memory, retrievability: float | None) -> int:
        r = self.rng.random()
        if memory.state == NEW:
            return AGAIN if r < 0.22 else HARD if r < 0.32 else GOOD if r < 0.90 else EASY
        if memory.state in (LEARNING, RELEARNING):
            return AGAIN if r < 0.12 else HARD if r < 0.22 else GOOD if r < 0.96 else EASY
        recall = 0.96 * (retrievability if retrievability is not None else 0.9)
        if r >= recall:
            return AGAIN
        r = self.rng.random()
        return HARD if r < 0.12 else GOOD if r < 0.90 else EASY

    def days(self, interval: float, minimum: int) -> int:
        days = max(minimum, round(interval))
        if days >= 3:  # a cheap fuzz, like the app's, so due dates spread out
            days += self.rng.randint(-max(1, days // 20), max(1, days // 20))
        return max(minimum, min(days, 36500))

    def review(self, m: Memory, now: int):
        """Apply one review at `now`; returns (grade, elapsed, retrievability, before_state)."""
        elapsed = day_of(now) - day_of(m.last) if m.last is not None else 0
        known = m.state != NEW and m.stability is not None
        mem = fr.MemoryState(m.stability, m.difficulty) if known else None
        r = (1.0 + FACTOR * elapsed / m.stability) ** (-DECAY) if known else None
        nxt = self.fsrs.next_states(mem, RETENTION, elapsed)
        grade = self.grade(m, r)
        chosen = (nxt.again, nxt.hard, nxt.good, nxt.easy)[grade - 1]
        today = day_of(now)
        state, step, delay, days = m.state, m.step, 0, 0
        if m.state == REVIEW:
            if grade == AGAIN:
                state, step, delay = RELEARNING, 0, RELEARNING_STEPS[0]
                m.lapses += 1
            else:
                hard = self.days(nxt.hard.interval, 1)
                good = self.days(nxt.good.interval, hard + 1)
                easy = self.days(nxt.easy.interval, good + 1)
                state, step, days = REVIEW, None, (0, hard, good, easy)[grade - 1]
        else:
            steps = RELEARNING_STEPS if m.state == RELEARNING else LEARNING_STEPS
            phase = RELEARNING if m.state == RELEARNING else LEARNING
            current = min(m.step or 0, len(steps) - 1)
            graduates = current + 1 >= len(steps)
            if grade == AGAIN:
                state, step, delay = phase, 0, steps[0]
            elif grade == HARD:
                delay = (steps[0] + steps[1]) // 2 if current == 0 and len(steps) > 1 else steps[0]
                state, step = phase, current
            elif grade == GOOD and not graduates:
                state, step, delay = phase, current + 1, steps[current + 1]
            else:
                good = self.days(nxt.good.interval, 1)
                days = good if grade == GOOD else self.days(nxt.easy.interval, good + 1)
                state, step = REVIEW, None
        before_state = m.state
        m.state, m.step = state, step
        m.stability, m.difficulty = chosen.memory.stability, chosen.memory.difficulty
        m.due = day_start(today + days) if state == REVIEW else now + delay
        m.last = now
        m.reps += 1
        return grade, elapsed, r, before_state


def generate(plan: Plan) -> dict:
    """Write the dataset; returns counts. Expects no bench users yet."""
    User = get_user_model()
    if User.objects.filter(username__startswith=USER_PREFIX).exists():
        raise CommandError(
            f"users named {USER_PREFIX}* exist already: generate into a fresh database"
        )
    started = time.monotonic()
    log = plan.log
    rng = random.Random(plan.seed)
    writer = Writer()
    fmt = writer.ts
    today = plan.today or (datetime.now(UTC) - timedelta(seconds=DAY_START)).date()
    last_day = (today - date(1970, 1, 1)).days - 1 - plan.break_days
    first_day = last_day - plan.days + 1
    questions = Templates(QUESTIONS)
    answers = Templates(ANSWERS)
    fsrs = fr.FSRS(list(fr.DEFAULT_PARAMETERS))
    password = make_password(PASSWORD)

    def next_id(model):
        return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1

    ids = {m: next_id(m) for m in (User, Deck, Card, MemoryState, ReviewLog, StudySettings)}
    counts = {"users": 0, "decks": 0, "cards": 0, "memory_states": 0, "review_logs": 0}

    def card_rows(deck_id, n, first_card_id, label):
        rows = []
        for i in range(n):
            number = str(first_card_id + i)
            q_text, q_html = questions.get(rng.randrange(len(QUESTIONS)), label)
            a_text, a_html = answers.get(rng.randrange(len(ANSWERS)))
            blank = rng.random() < plan.blank_share
            suspended = not blank and rng.random() < plan.suspended_share
            rows.append(
                (
                    first_card_id + i,
                    deck_id,
                    q_text.replace(MARKER, number),
                    "" if blank else a_text.replace(MARKER, number),
                    q_html.replace(MARKER, number),
                    "" if blank else a_html.replace(MARKER, number),
                    i + 1,
                    suspended,
                )
            )
        return rows

    card_fields = ("id", "deck_id", "question", "answer", "question_html", "answer_html")
    card_fields += ("position", "suspended")

    with transaction.atomic():
        # The public deck, curated by staff (no owner), studied by everyone.
        public_id = ids[Deck]
        ids[Deck] += 1
        writer.insert(
            Deck,
            ("id", "owner_id", "name", "description", "is_public"),
            [(public_id, None, "Bench public deck", "Shared by every bench user.", True)],
        )
        public_rows = card_rows(public_id, plan.public_cards, ids[Card], "Public")
        ids[Card] += len(public_rows)
        counts["cards"] += writer.insert(Card, card_fields, public_rows)
        public_pool = [(r[0], public_id) for r in public_rows if r[3] and not r[7]]
        counts["decks"] += 1
    log(f"public deck: {len(public_rows)} cards")

    per_user = plan.reviews // max(plan.users, 1)
    extra = plan.reviews - per_user * plan.users
    for u in range(plan.users):
        user_started = time.monotonic()
        user_id = ids[User]
        ids[User] += 1
        username = f"{USER_PREFIX}{u + 1:04d}"
        budget = per_user + (1 if u < extra else 0)
        with transaction.atomic():
            writer.insert(
                User,
                ("id", "username", "email", "password", "is_active", "is_staff"),
                [(user_id, username, f"{username}@example.com", password, True, False)],
            )
            writer.insert(
                StudySettings,
                ("id", "user_id", "new_cards_per_day", "reviews_per_day"),
                [(ids[StudySettings], user_id, plan.new_per_day_limit, plan.reviews_per_day_limit)],
            )
            ids[StudySettings] += 1
            deck_rows, pool = [], list(public_pool)
            sizes = _split(plan.cards, plan.decks_per_user)
            for d, size in enumerate(sizes):
                deck_id = ids[Deck]
                ids[Deck] += 1
                topic = DECK_TOPICS[d % len(DECK_TOPICS)]
                name = f"{topic} {d // len(DECK_TOPICS) + 1}" if d >= len(DECK_TOPICS) else topic
                deck_rows.append((deck_id, user_id, name, f"{username}'s {topic.lower()}", False))
                rows = card_rows(deck_id, size, ids[Card], topic)
                ids[Card] += size
                counts["cards"] += writer.insert(Card, card_fields, rows)
                pool += [(r[0], deck_id) for r in rows if r[3] and not r[7]]
            writer.insert(Deck, ("id", "owner_id", "name", "description", "is_public"), deck_rows)
            counts["decks"] += len(deck_rows)
            memories, logs = _simulate(
                Simulator(random.Random(plan.seed * 1_000_003 + u), fsrs),
                pool,
                budget,
                first_day,
                last_day,
            )
            memories = {i: m for i, m in memories.items() if m.reps}
            log_rows = _log_rows(logs, pool, user_id, ids[ReviewLog], writer)
            counts["review_logs"] += writer.insert(ReviewLog, LOG_FIELDS, log_rows)
            ids[ReviewLog] += len(logs)
            state_rows = [
                (
                    ids[MemoryState] + n,
                    user_id,
                    pool[index][0],
                    pool[index][1],
                    m.state,
                    m.step,
                    m.stability,
                    m.difficulty,
                    fmt(m.due),
                    fmt(m.last),
                    m.reps,
                    m.lapses,
                    m.reps,
                )
                for n, (index, m) in enumerate(sorted(memories.items()))
            ]
            ids[MemoryState] += len(state_rows)
            counts["memory_states"] += writer.insert(MemoryState, STATE_FIELDS, state_rows)
            counts["users"] += 1
        log(
            f"{username}: {plan.cards} cards in {len(sizes)} decks, {len(logs)} reviews of "
            f"{len(memories)} cards, {time.monotonic() - user_started:.1f}s "
            f"(total {counts['review_logs']:,} reviews, {time.monotonic() - started:.0f}s)"
        )
    _reset_sequences()
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


LOG_FIELDS = (
    "id", "user_id", "card_id", "deck_id", "rating", "rating_scale", "grade", "reviewed_at",
    "duration_ms", "review_token", "state_before", "before", "elapsed_days", "retrievability",
    "state_after", "stability_after", "difficulty_after", "due_after",
)  # fmt: skip
STATE_FIELDS = (
    "id", "user_id", "card_id", "deck_id", "state", "step", "stability", "difficulty", "due",
    "last_review", "reps", "lapses", "version",
)  # fmt: skip


def _split(total: int, parts: int) -> list[int]:
    shares = [DECK_SHARES[i % len(DECK_SHARES)] for i in range(parts)]
    scale = sum(shares)
    sizes = [int(total * s / scale) for s in shares]
    sizes[0] += total - sum(sizes)
    return sizes


def _simulate(sim: Simulator, pool, budget: int, first_day: int, last_day: int):
    """Returns ({pool index: Memory}, [(pool index, time, grade, elapsed, r, before, after)])."""
    rng = sim.rng
    memories: dict[int, Memory] = {}
    logs: list = []
    due: list[tuple[int, int]] = []  # (due time, pool index)
    next_new = 0
    ndays = last_day - first_day + 1
    base_new = max(1.0, budget / ndays / 9.0)
    holiday_until = first_day - 1
    for day in range(first_day, last_day + 1):
        if len(logs) >= budget:
            break
        if day <= holiday_until:
            continue
        if rng.random() < 0.008:  # a holiday: 3 to 12 days off
            holiday_until = day + rng.randint(2, 11)
            continue
        if rng.random() < 0.12:  # an ordinary skipped day
            continue
        now = day_start(day) + rng.randint(10 * 3600, 19 * 3600)  # 14:00 to 23:00 UTC
        end = day_start(day + 1) - 1
        target = budget * (day - first_day + 1) / ndays
        deficit = target - len(logs)
        new_today = int(max(0.0, min(4 * base_new, base_new + deficit / 12.0)))
        todo: list[int] = []
        while due and due[0][0] <= end:
            todo.append(heapq.heappop(due)[1])
        while new_today > 0 and next_new < len(pool):
            todo.append(next_new)
            memories[next_new] = Memory()
            next_new += 1
            new_today -= 1
        later: list[tuple[int, int]] = []  # learning steps due later today
        for index in todo:
            if len(logs) >= budget:
                break
            now = _review(sim, memories[index], index, now, logs, later, due, end)
        while later and len(logs) < budget:
            at, index = heapq.heappop(later)
            now = max(now, at) + rng.randint(5, 60)
            if now > end:
                heapq.heappush(due, (at, index))
                continue
            now = _review(sim, memories[index], index, now, logs, later, due, end)
        for item in later:
            heapq.heappush(due, item)
    return memories, logs


def _review(sim, m: Memory, index, now, logs, later, due, end):
    before = Memory(m.state, m.step, m.stability, m.difficulty, m.due, m.last, m.reps, m.lapses)
    grade, elapsed, r, _ = sim.review(m, now)
    logs.append((index, now, grade, elapsed, r, before, m.state, m.stability, m.difficulty, m.due))
    if m.due <= end and m.state != REVIEW:
        heapq.heappush(later, (m.due, index))
    else:
        heapq.heappush(due, (m.due, index))
    return now + int(sim.rng.lognormvariate(2.0, 0.6)) + 2  # seconds spent on the card


def _log_rows(logs, pool, user_id, first_id, writer):
    fmt = writer.ts
    rng = random.Random(first_id)
    for n, (index, at, grade, elapsed, r, before, state, s, d, due) in enumerate(logs):
        card_id, deck_id = pool[index]
        rating = RATING_FOR_GRADE[grade]
        yield (
            first_id + n,
            user_id,
            card_id,
            deck_id,
            rating[0] if len(rating) == 1 else rating[rng.random() < 0.6],
            "five",
            grade,
            fmt(at),
            int(rng.lognormvariate(8.8, 0.5)),
            "",
            before.state,
            writer.json(before.snapshot(fmt_iso)),
            elapsed,
            r,
            state,
            s,
            d,
            fmt(due),
        )


def fmt_iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _reset_sequences():
    """PostgreSQL identity sequences must move past the explicit ids (SQLite needs nothing)."""
    if connection.vendor != "postgresql":
        return
    User = get_user_model()
    sql = connection.ops.sequence_reset_sql(
        no_style(), [User, Deck, Card, MemoryState, ReviewLog, StudySettings]
    )
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


class Command(BaseCommand):
    help = (
        "Generate a large deterministic dataset for benchmarks: users bench0001… (password "
        f"{PASSWORD!r}), several decks each plus one public deck, and a year of reviews."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, required=True)
        parser.add_argument("--cards", type=int, required=True, help="Cards per user.")
        parser.add_argument("--reviews", type=int, required=True, help="Reviews in total.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--public-cards", type=int, default=300)
        parser.add_argument("--decks", type=int, default=5, help="Decks per user.")
        parser.add_argument(
            "--today", type=date.fromisoformat, help="Study day the history ends before."
        )
        parser.add_argument(
            "--break-days",
            type=int,
            default=14,
            help="Days without reviews before today, so that a backlog is due (default 14).",
        )

    def handle(self, *args, **opts):
        for name in ("users", "cards", "reviews", "public_cards", "break_days"):
            if opts[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} must not be negative")
        if opts["decks"] < 1:
            raise CommandError("--decks must be at least 1")
        plan = Plan(
            users=opts["users"],
            cards=opts["cards"],
            reviews=opts["reviews"],
            seed=opts["seed"],
            public_cards=opts["public_cards"],
            decks_per_user=opts["decks"],
            today=opts["today"],
            break_days=opts["break_days"],
            log=lambda text: self.stdout.write(text),
        )
        counts = generate(plan)
        self.stdout.write(
            self.style.SUCCESS(
                "Done: {users} users, {decks} decks, {cards:,} cards, {memory_states:,} memory "
                "states, {review_logs:,} reviews in {seconds}s".format(**counts)
            )
        )
