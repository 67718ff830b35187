"""The card browser's search, timed per filter kind, in process: p50 of a first results page.

    python -m bench.search [--users 2] [--cards 20000] [--repeat 15] [--sqlite FILE]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_search python -m bench.search [--reuse]

Builds its own collection (users × cards, every user with memory states for 70% of their
cards and some review history) in a fresh SQLite file, or in the PostgreSQL database of
DATABASE_URL, which must be named bench_search* (it is flushed). Each query is what /cards/
runs for one search: the count and the first page of 50 (cards.search.browse.page_of) for the
first user, who sees their own cards and the public deck.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from urllib.parse import urlparse

QUERIES = {
    "word": "chat",
    "word (accents)": "élève",
    "phrase": '"chat chien"',
    "wildcard": "ch*n",
    "front:": "front:chat*",
    "deck:": "deck:French*",
    "tag:": "tag:verbs",
    "is:due": "is:due",
    "is:new": "is:new",
    "is:suspended": "is:suspended",
    "flag:": "flag:1",
    "prop:ivl": "prop:ivl>=10",
    "prop:due": "prop:due<=3",
    "prop:r": "prop:r<0.8",
    "rated:": "rated:7",
    "introduced:": "introduced:30",
    "added:": "added:7",
    "combined": "deck:French* (chat or chien) -is:suspended prop:ivl>=3",
}
WORDS = ["Chat", "chien", "Élève", "cafe", "naïve", "strasse", "œuvre", "verb", "noun", "x"]
SYLLABLES = ["ka", "to", "mi", "ré", "lu", "sen", "dar", "po", "vi", "né", "gro", "sha", "tu"]


def vocabulary(rng: random.Random, size: int = 4000) -> tuple[list[str], list[float]]:
    """Made-up words with a Zipf frequency (the n-th word 1/n as common), the test words
    among the common ones, so a word search matches what it would in real text: a few
    per cent of the cards for a common word, a handful for a rare one."""
    made = set()
    while len(made) < size - len(WORDS):
        made.add("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))))
    words = sorted(made)
    rng.shuffle(words)
    words[20:20] = WORDS  # ranks 21-30: each in about 1% of the cards
    return words, [1 / (rank + 1) for rank in range(len(words))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2)
    parser.add_argument("--cards", type=int, default=20000, help="Cards per user.")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--sqlite", help="Build the SQLite collection in this file, or reuse it if it exists."
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: keep the collection built by an earlier run with these sizes.",
    )
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if url and not urlparse(url).path.lstrip("/").startswith("bench_search"):
        print("DATABASE_URL must name a database bench_search*: it is flushed", file=sys.stderr)
        return 2
    reuse = bool(not url and args.sqlite and os.path.exists(args.sqlite))
    if not url:
        path = args.sqlite or os.path.join(tempfile.mkdtemp(), "search.sqlite3")
        os.environ["SQLITE_PATH"] = path
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studyapp.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if url and args.reuse:
        reuse = _built(args.users, args.cards)
    if reuse:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(username="search0")
        print(f"{connection.vendor}: reusing {args.sqlite or 'the database'}", flush=True)
    else:
        call_command("flush", interactive=False, verbosity=0)
        started = time.perf_counter()
        user = build(args.users, args.cards)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # the planner's statistics, as after any bulk load
        print(
            f"{connection.vendor}: {args.users} users × {args.cards} cards built in "
            f"{time.perf_counter() - started:.0f}s",
            flush=True,
        )
    print(f"{'filter':<16} {'p50 ms':>8} {'matches':>8}")
    for name, query in QUERIES.items():
        p50, total = time_query(user, query, args.repeat)
        print(f"{name:<16} {p50:8.1f} {total:>8}", flush=True)
    return 0


def _built(users: int, cards: int) -> bool:
    """Whether the database holds the collection of these sizes (users × cards)."""
    from django.contrib.auth import get_user_model

    from cards.models import Card

    found = get_user_model().objects.filter(username__startswith="search").count()
    return found == users and Card.objects.count() == users * cards


def build(users: int, cards: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from cards.models import Card, Deck, MemoryState, ReviewLog
    from cards.scheduling import State

    rng = random.Random(1)
    words, weights = vocabulary(rng)

    def text(low: int, high: int) -> str:
        return " ".join(rng.choices(words, weights, k=rng.randint(low, high)))

    now = timezone.now()
    first = None
    public = None
    for u in range(users):
        user = get_user_model().objects.create_user(f"search{u}", password="x")
        first = first or user
        decks = [
            Deck.objects.create(owner=user, name=name, is_public=(u == 0 and name == "Misc"))
            for name in ("French", "French::Verbs", "German", "Misc")
        ]
        public = public or decks[-1]
        for start in range(0, cards, 5000):
            batch = Card.objects.bulk_create(
                Card(
                    deck=decks[i % len(decks)],
                    question=f"{text(5, 12)} {i}",
                    answer=text(3, 10),
                    tags=" ".join(rng.sample(["verbs", "noun", "a::b", "geo"], rng.randint(0, 2))),
                    position=i,
                )
                for i in range(start, min(start + 5000, cards))
            )
            memories, logs = [], []
            for card in batch:
                if rng.random() < 0.3:
                    continue
                state = rng.choice([State.LEARNING, State.REVIEW, State.REVIEW, State.NEW])
                last = now - timedelta(days=rng.uniform(0, 60))
                memories.append(
                    MemoryState.of(
                        user,
                        card,
                        state=state,
                        due=now + timedelta(days=rng.uniform(-5, 60)),
                        last_review=None if state == State.NEW else last,
                        stability=None if state == State.NEW else rng.uniform(0.5, 100),
                        difficulty=None if state == State.NEW else rng.uniform(1, 10),
                        reps=rng.randint(0, 9),
                        flag=rng.choice([0, 0, 0, 1]),
                        suspended=rng.random() < 0.05,
                    )  # fmt: skip
                )
                if state != State.NEW:
                    logs.append(
                        ReviewLog(
                            user=user,
                            card=card,
                            deck_id=card.deck_id,
                            rating=3,
                            grade=3,
                            reviewed_at=last,
                            state_before=State.REVIEW,
                            state_after=State.REVIEW,
                            due_after=last,
                        )  # fmt: skip
                    )
            MemoryState.objects.bulk_create(memories, batch_size=1000)
            ReviewLog.objects.bulk_create(logs, batch_size=1000)
    return type(first).objects.get(pk=first.pk)


def time_query(user, query: str, repeat: int) -> tuple[float, int]:
    from django.utils import timezone

    from cards.search import parse
    from cards.search.browse import page_of
    from cards.search.compiler import Context, compile_node, scans_text, visible_cards

    def run():  # what the browser view runs (cards/views/browser.py)
        ctx = Context.of(user, timezone.now())
        node = parse(query)
        cards = visible_cards(user).filter(compile_node(node, ctx))
        return page_of(cards, ctx, "added", True, None, one_pass=scans_text(node))

    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        page = run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000, page.total


if __name__ == "__main__":
    sys.exit(main())
