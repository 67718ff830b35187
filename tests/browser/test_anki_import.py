"""An Anki package in Chromium, end to end: upload it, watch the job's progress bar move while
a worker (a thread here, slowed down so that the bar can be seen) imports it, study one of
its cards and find the history it had in Anki in the card's info."""

import threading
import time

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser
ITEM = "#study-card .study-item"
MOVING = """() => {
  const bar = document.querySelector('#import-job progress');
  return bar !== null && bar.value > 0 && bar.value < bar.max;
}"""


@pytest.fixture
def package(tmp_path):
    from tests.anki.builders import build_collection, export_apkg

    col = build_collection(tmp_path)
    try:
        return export_apkg(col, tmp_path / "spanish.apkg", legacy=False)
    finally:
        col.close()


@pytest.fixture
def slow_worker(settings, monkeypatch):
    """Jobs wait in the queue (the dummy backend keeps them) until `run` takes one up in a
    thread, reporting after every card and pausing at each report."""
    from django.db import connection

    from cards.services import imports

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.IMPORT_BATCH_CARDS = 1
    beat = imports._beat

    def slow_beat(job, **fields):
        beat(job, **fields)
        time.sleep(0.4)

    monkeypatch.setattr(imports, "_beat", slow_beat)
    threads = []

    def run(job_id):
        def work():
            try:
                imports.run_job(job_id)
            finally:
                connection.close()

        thread = threading.Thread(target=work)
        thread.start()
        threads.append(thread)

    yield run
    for thread in threads:
        thread.join(timeout=60)


def test_an_anki_package_is_imported_studied_and_its_history_shown(
    page, live_server, page_errors, owner, package, slow_worker
):
    from cards.models import Card, Deck, ImportJob, ReviewLog
    from tests.anki.builders import DECK
    from tests.conftest import start_days_far_from_now

    start_days_far_from_now(owner)
    log_in(page, live_server, "alice")
    page.click("text=Import from Anki")
    page.set_input_files("input[type=file]", str(package))
    page.click("button:has-text('Import')")
    page.wait_for_selector("text=Waiting for the worker")
    job = ImportJob.objects.get(user=owner)
    assert page.url == f"{live_server.url}{job.get_absolute_url()}"

    slow_worker(job.pk)
    page.wait_for_function(MOVING, timeout=20_000)  # the page polls itself every second
    assert "cards and reviews written" in page.inner_text("#import-job")
    page.wait_for_selector("text=notes added", timeout=30_000)
    assert ImportJob.objects.get(pk=job.pk).status == "done"

    deck = Deck.objects.get(owner=owner, name=DECK)
    page.goto(f"{live_server.url}{deck.get_absolute_url()}")
    page.click("a.button:has-text('Study')")
    page.wait_for_selector(ITEM)
    page.wait_for_load_state("load")  # the study page's keys are bound by a deferred script
    page.keyboard.press("Space")
    page.wait_for_selector("#study-answer", state="visible")
    card = Card.objects.get(pk=page.get_attribute(ITEM, "data-card"))
    imported = ReviewLog.objects.filter(user=owner, card=card)
    assert imported.exists() and all(log.review_token.startswith("anki:") for log in imported)

    page.keyboard.press("i")
    dialog = page.locator("#study-info-dialog")
    dialog.wait_for(state="visible")
    count = imported.count()
    assert dialog.locator(".study-history tbody tr").count() == count
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    # Studied here: its history goes on from Anki's.
    page.keyboard.press("4")
    page.wait_for_selector("#study-answer", state="hidden")  # the next card (or all done)
    assert ReviewLog.objects.filter(user=owner, card=card).count() == count + 1
    assert page_errors == []
