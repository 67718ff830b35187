"""The import job page in Chromium: it polls itself (htmx, under the CSP) until the job is done."""

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_the_job_page_follows_the_job_to_the_deck(page, live_server, page_errors, owner, tmp_path):
    from cards.models import Deck, ImportJob

    log_in(page, live_server, "alice")
    # An import the worker is still writing: the page shows how far it has got.
    deck = Deck.objects.create(owner=owner, name="Spanish")
    job = ImportJob.objects.create(user=owner, kind="deck_file", status="running", done=500,
                                   total=2000, filename="spanish.csv", deck=deck)  # fmt: skip
    page.goto(f"{live_server.url}{job.get_absolute_url()}")
    page.wait_for_selector("text=500 of 2000 cards written (25%)")
    ImportJob.objects.filter(pk=job.pk).update(done=1500)
    page.wait_for_selector("text=1500 of 2000 cards written (75%)", timeout=5_000)
    ImportJob.objects.filter(pk=job.pk).update(done=2000, status="done", message="All there.")
    page.wait_for_selector("text=All there.", timeout=5_000)  # polled every second
    page.click("text=Open the deck")
    page.wait_for_url(f"{live_server.url}{deck.get_absolute_url()}")

    # The whole path from the form: the file is checked, queued and (here at once) written.
    path = tmp_path / "maths.csv"
    path.write_text("question,answer\nWhat is 2+2?,4\nWhat is 3+3?,6\n")
    page.goto(f"{live_server.url}/decks/import/")
    page.set_input_files("input[type=file]", str(path))
    page.click("button:has-text('Import')")
    page.wait_for_selector("text=Read 2 cards. maths: 2 cards created")
    page.click("text=Open the deck")
    page.wait_for_selector("text=What is 3+3?")
    assert page_errors == []
