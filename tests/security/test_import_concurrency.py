"""A 1,000,000-row import running on a real task worker (`manage.py db_worker` in a subprocess,
on this test's SQLite file in WAL mode) while another user writes: the import's short
transactions let the other user's writes through, with no "database is locked".

How long those writes wait is measured by `make bench-import` (bench/import_contention.py),
not asserted here. SQLite only: PostgreSQL's row locks never make writers queue like this.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from cards.models import Deck, ImportJob
from cards.services import imports
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1_000_000
LIMITS = {"IMPORT_MAX_CARDS": ROWS, "DECK_MAX_CARDS": ROWS}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock"),
]


def start_worker(database: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SQLITE_PATH=database, TASKS_BACKEND="database", DEBUG="0",
               **{name: str(value) for name, value in LIMITS.items()})  # fmt: skip
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
               "--interval", "0.2", "--max-tasks", "1"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def wait_for_batches(job: ImportJob, worker: subprocess.Popen, done: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db(fields=["done", "status"])
        if job.done >= done or worker.poll() is not None:
            break
        time.sleep(0.2)
    return job.done


@override_settings(TASKS=DATABASE_TASKS, **LIMITS)
def test_another_users_writes_go_through_during_a_million_card_import(client):
    alice, bob = make_user("alice"), make_user("bob")
    deck = Deck.objects.create(owner=bob, name="Bob's")
    data = b"question,answer\n" + b"q,\n" * ROWS
    job = imports.start_deck_import(alice, data=data, filename="million.csv", deck=None,
                                    name="million", total=ROWS)  # fmt: skip
    worker = start_worker(connection.settings_dict["NAME"])
    try:
        done = wait_for_batches(job, worker, done=2_000, timeout=50)
        assert done >= 2_000, worker.stdout.read1().decode() if worker.poll() else done
        # Bob adds cards while alice's import is writing batch after batch.
        client.force_login(bob)
        for i in range(5):
            response = client.post(f"/decks/{deck.pk}/cards/new/", {"question": f"Q{i}"})
            assert response.status_code == 302
        job.refresh_from_db()
        assert job.status == "running" and done <= job.done < ROWS  # still going meanwhile
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker dies mid-import
        worker.wait(timeout=30)
    assert deck.cards.count() == 5
    # What the sweep does to a job whose worker died: failed, its half-written deck removed.
    imports.fail_stale_job(ImportJob.objects.get(pk=job.pk))
    job.refresh_from_db()
    assert job.status == "failed" and "the deck it had started was removed" in job.message
    assert not Deck.objects.filter(owner=alice).exists()
