"""`make bench-import`: how long another user's writes wait on SQLite while a 1,000,000-row
import runs on the task worker.

    python -m bench.import_contention [--rows 1000000] [--duration 30] [--batch 500]

On a fresh SQLite file (WAL, the app's settings): queue alice's import of a CSV of `--rows`
cards, start `manage.py db_worker` in a subprocess, and once it is writing, have bob write
(one transaction: a new card in his deck, as the card form does) every 50 ms for `--duration`
seconds. Prints and saves (bench/results/import_contention.{json,md}) the wait of bob's
writes — median, p99, max, the same before the import started — any "database is locked",
and the import's cards per second. The worker is stopped at the end; nothing else is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def log(text: str) -> None:
    print(f"[bench-import {datetime.now():%H:%M:%S}] {text}", flush=True)


def configure(tmp: Path, rows: int, batch: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        SQLITE_PATH=str(tmp / "contention.sqlite3"), TASKS_BACKEND="database", DEBUG="0",
        SECRET_KEY="bench-import-not-secret", IMPORT_MAX_CARDS=str(rows),
        DECK_MAX_CARDS=str(rows), IMPORT_BATCH_CARDS=str(batch),
        IMPORT_MAX_BYTES=str(max(5 * 1024 * 1024, 4 * rows + 1024)),
    )  # fmt: skip
    os.environ.update(env)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studyapp.settings")
    return env


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def write_loop(deck, seconds: float, pause: float = 0.05):
    """Bob's writes for `seconds`: (latencies in ms, errors)."""
    from django.db import OperationalError, transaction

    from cards.models import Card

    latencies, errors, n = [], [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        n += 1
        started = time.perf_counter()
        try:
            with transaction.atomic():
                Card.objects.create(deck=deck, question=f"Bob's card {n}", answer="**yes**")
                deck.save(update_fields=["updated_at"])
        except OperationalError as exc:
            errors.append(str(exc))
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(pause)
    return latencies, errors


def figures(latencies: list[float]) -> dict:
    return {
        "writes": len(latencies),
        "median_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=500, help="IMPORT_BATCH_CARDS")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="studyapp-bench-import-") as tmp:
        env = configure(Path(tmp), args.rows, args.batch)
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from cards.models import Deck
        from cards.services import imports

        call_command("migrate", verbosity=0)
        users = get_user_model().objects
        alice, bob = users.create_user("alice"), users.create_user("bob")
        deck = Deck.objects.create(owner=bob, name="Bob's deck")
        log("bob's writes with nothing else running")
        idle = figures(write_loop(deck, 3)[0])

        data = b"question,answer\n" + b"q,\n" * args.rows
        job = imports.start_deck_import(alice, data=data, filename="million.csv", deck=None,
                                        name="million", total=args.rows)  # fmt: skip
        log(f"queued an import of {args.rows:,} rows ({len(data):,} bytes); starting the worker")
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
             "--interval", "0.2", "--max-tasks", "1"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                job.refresh_from_db(fields=["done", "status"])
                if job.done >= args.batch or job.status == "failed" or worker.poll() is not None:
                    break
                time.sleep(0.1)
            if job.done < args.batch:
                raise SystemExit(f"the import did not start writing (status {job.status})")
            log(f"the worker is writing ({job.done:,} cards so far); bob writes for "
                f"{args.duration:.0f} s")  # fmt: skip
            start_done, start_time = job.done, time.monotonic()
            latencies, errors = write_loop(deck, args.duration)
            job.refresh_from_db(fields=["done", "status"])
            rate = (job.done - start_done) / (time.monotonic() - start_time)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

    busy = figures(latencies)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": args.rows, "batch_cards": args.batch, "duration_s": args.duration,
        "idle": idle, "during_import": busy, "locked_errors": len(errors),
        "import_cards_per_s": round(rate), "import_done": job.done,
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import_contention.json").write_text(json.dumps(result, indent=2) + "\n")
    table = "\n".join([
        f"# Import contention (SQLite, {args.rows:,}-row import, batches of {args.batch})",
        "", f"Run {result['when']}.", "",
        "| bob's writes | count | median ms | p99 ms | max ms |", "| --- | --- | --- | --- | --- |",
        *(f"| {label} | {f['writes']} | {f['median_ms']} | {f['p99_ms']} | {f['max_ms']} |"
          for label, f in (("nothing else running", idle), ("during the import", busy))),
        "", f"\"database is locked\": {len(errors)}. The import wrote {rate:,.0f} cards a second "
        f"({job.done:,} of {args.rows:,} when stopped).", "",
    ])  # fmt: skip
    (RESULTS / "import_contention.md").write_text(table)
    print(table)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
