"""In-process server times on the big dataset, for `make bench` (run by bench/run.py).

    python -m bench.timings OUT.json [--repeat 30] [--optimizer]

Uses the database of the environment (SQLITE_PATH or DATABASE_URL) and production settings.
Each page is requested through Django's test client (the whole middleware stack, no HTTP
parsing or network), warm, `repeat` times; the median is reported. Also: EXPLAIN of every query
the queue makes (next_card, queue_counts, deck_queue_counts), so a full scan shows up, and the
optimiser's time on 100,000 reviews.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studyapp.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
# Tables whose full scan would grow with the data; small tables (settings, users) may be scanned.
BIG_TABLES = ("cards_reviewlog", "cards_memorystate", "cards_card")


def _median_ms(samples: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 2),
        "min_ms": round(min(samples) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
        "n": len(samples),
    }


def _timed(fn, repeat: int, warmup: int = 3):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


class QueryCounter:
    """Counts the queries run inside the block (an execute wrapper survives connection resets)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self._block = connection.execute_wrapper(self)
        self._block.__enter__()
        return self

    def __exit__(self, *exc):
        self._block.__exit__(*exc)


def page_times(username: str, repeat: int) -> dict:
    user = get_user_model().objects.get(username=username)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    results = {}

    def get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    for name, url in (("dashboard", "/"), ("study page", "/study/"), ("stats page", "/stats/")):
        with QueryCounter() as queries:
            get(url)()
        stat = _median_ms(_timed(get(url), repeat if name != "stats page" else max(5, repeat // 3)))
        stat["queries"] = queries.count
        results[name] = stat

    # The review POST: a fresh page (untimed) gives the token, then the POST is timed.
    samples, queries_seen = [], 0
    for i in range(repeat + 3):
        page = client.get("/study/")
        match = TOKEN_RE.search(page.content.decode())
        if match is None:
            raise SystemExit(f"{username} has no card to study: the queue ran dry")
        data = {"token": match.group(1), "rating": "4", "duration_ms": "5000"}
        with QueryCounter() as queries:
            started = time.perf_counter()
            response = client.post("/study/review/", data)
            elapsed = time.perf_counter() - started
        assert response.status_code == 302, response.status_code
        if i >= 3:
            samples.append(elapsed)
            queries_seen = queries.count
    results["review POST"] = {**_median_ms(samples), "queries": queries_seen}
    return results


def explain_queue(username: str) -> list[dict]:
    """EXPLAIN every query of the queue functions; flag full scans of the big tables."""
    from cards.models import Deck
    from cards.services.queue import deck_queue_counts, next_card, queue_counts

    user = get_user_model().objects.get(username=username)
    deck = Deck.objects.filter(owner=user).first()
    decks = list(Deck.objects.visible_to(user))
    with CaptureQueriesContext(connection) as captured:
        next_card(user)
        next_card(user, deck)
        queue_counts(user)
        queue_counts(user, deck)
        deck_queue_counts(user, decks)
    plans = []
    seen = set()
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT") or sql in seen:
            continue
        seen.add(sql)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                scans = [
                    t for t in BIG_TABLES if re.search(rf"Seq Scan on {t}\b", plan) is not None
                ]
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
                scans = [
                    t for t in BIG_TABLES if re.search(rf"SCAN {t}\b(?! USING)", plan) is not None
                ]
        plans.append({"sql": sql, "plan": plan, "full_scans": scans})
    return plans


def optimizer_time(target_reviews: int = 100_000) -> dict:
    """Fit FSRS parameters to the first bench users' histories, 100,000 reviews in all."""
    from cards.models import ReviewLog
    from cards.scheduling import DEFAULT_PARAMETERS, Grade, optimize, to_fsrs_items

    started = time.perf_counter()
    histories: dict[tuple[int, int], list] = {}
    logs = (
        ReviewLog.objects.order_by("user_id", "card_id", "reviewed_at", "id")
        .values_list("user_id", "card_id", "grade", "reviewed_at")
        .filter(user__username__startswith="bench")
    )
    count = 0
    for user_id, card_id, grade, reviewed_at in logs.iterator(chunk_size=10_000):
        histories.setdefault((user_id, card_id), []).append((Grade(grade), reviewed_at))
        count += 1
        if count >= target_reviews:
            break
    loaded = time.perf_counter()
    items = to_fsrs_items(list(histories.values()), "UTC", 4)
    converted = time.perf_counter()
    result = optimize(items, DEFAULT_PARAMETERS)
    fitted = time.perf_counter()
    return {
        "reviews": count,
        "cards": len(histories),
        "items": len(items),
        "load_s": round(loaded - started, 2),
        "items_s": round(converted - loaded, 2),
        "fit_s": round(fitted - converted, 2),
        "optimiser_s": round(fitted - loaded, 2),
        "improved": result.improved,
        "message": result.message,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--user", default="bench0001")
    parser.add_argument("--optimizer", action="store_true")
    args = parser.parse_args(argv)
    result = {"vendor": connection.vendor, "user": args.user}
    result["pages"] = page_times(args.user, args.repeat)
    result["explain"] = explain_queue(args.user)
    if args.optimizer:
        result["optimizer"] = optimizer_time()
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=2, default=str)
    for name, stat in result["pages"].items():
        print(f"  {name:12} median {stat['median_ms']:7.2f} ms  ({stat['queries']} queries)")
    scans = sorted({t for p in result["explain"] for t in p["full_scans"]})
    print(f"  queue queries: {len(result['explain'])} explained, full scans: {scans or 'none'}")
    if "optimizer" in result:
        o = result["optimizer"]
        print(f"  optimiser: {o['reviews']:,} reviews, {o['items']:,} items, {o['optimiser_s']}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
