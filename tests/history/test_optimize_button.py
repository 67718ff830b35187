import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

import cards.services.optimize as optimize_service
from cards.importers.revlog import from_ms
from cards.models import Card, Deck, OptimizerRun, ReviewLog, StudySettings
from cards.scheduling import DEFAULT_PARAMETERS

from .simulate import simulate_revlog

START = "/settings/optimize/"
STATUS = "/settings/optimize/status/"
HTMX = {"HTTP_HX_REQUEST": "true"}
POLL = 'hx-trigger="every 2s"'


def _store_history(user, n_cards=300, reviews_per_card=8):
    deck = Deck.objects.create(owner=user, name="Sim")
    cards = Card.objects.bulk_create(
        Card(deck=deck, question=f"Q{i}", answer="A", external_id=f"s{i}") for i in range(n_cards)
    )
    by_id = {card.external_id: card for card in cards}
    ReviewLog.objects.bulk_create(
        ReviewLog(
            user=user,
            card=by_id[card_id],
            deck=deck,
            rating=rating,
            grade=rating,
            reviewed_at=from_ms(ms),
            state_before=0,
            state_after=0,
            due_after=from_ms(ms),
        )
        for card_id, ms, rating in simulate_revlog(n_cards, reviews_per_card)
    )


# -- without the thread (the run stays "running": on_commit never fires inside a test transaction)


def test_start_records_a_running_fit_and_the_panel_polls(owner_client, owner):
    response = owner_client.post(START, **HTMX)

    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<div id="fsrs-parameters"')
    assert POLL in page and 'hx-get="/settings/optimize/status/"' in page
    assert "Optimising from your history" in page
    run = OptimizerRun.objects.get(user=owner)
    assert run.status == "running"
    assert POLL in owner_client.get(STATUS, **HTMX).content.decode()


def test_start_without_htmx_redirects_back_to_the_page(owner_client, owner):
    response = owner_client.post(START)
    assert response.status_code == 302 and response.url == "/settings/"
    page = owner_client.get("/settings/").content.decode()
    assert "Optimising from your history" in page and "Refresh" in page


def test_a_second_start_while_running_is_refused(owner_client, owner, other):
    owner_client.post(START, **HTMX)

    page = owner_client.post(START, **HTMX).content.decode()

    assert "already running" in page
    assert OptimizerRun.objects.filter(user=owner).count() == 1
    # Someone else may start their own meanwhile.
    bob = Client()
    bob.force_login(other)
    bob.post(START, **HTMX)
    assert OptimizerRun.objects.filter(status="running").count() == 2


def test_the_start_spawns_the_thread_once_committed(
    owner_client, owner, django_capture_on_commit_callbacks, monkeypatch
):
    spawned = []
    monkeypatch.setattr(optimize_service, "_spawn", spawned.append)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        owner_client.post(START, **HTMX)
    assert len(callbacks) == 1
    assert spawned == [OptimizerRun.objects.get(user=owner).pk]


def test_a_finished_run_stops_the_polling_and_shows_the_figures(owner_client, owner):
    OptimizerRun.objects.create(
        user=owner,
        status="done",
        finished_at=timezone.now(),
        message="New parameters fit your history better.",
        reviews=2100,
        log_loss_before=0.3731,
        log_loss_after=0.3578,
        rmse_before=0.0670,
        rmse_after=0.0305,
        improved=True,
    )
    page = owner_client.get(STATUS, **HTMX).content.decode()
    assert POLL not in page
    assert "New parameters fit your history better." in page
    assert "0.3731" in page and "0.3578" in page and "2100 of your reviews" in page


def test_a_run_left_running_by_a_dead_process_is_closed(owner_client, owner):
    run = OptimizerRun.objects.create(user=owner)
    OptimizerRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))

    page = owner_client.get(STATUS, **HTMX).content.decode()

    assert POLL not in page and "interrupted" in page
    owner_client.post(START, **HTMX)  # and a new one may start
    assert OptimizerRun.objects.filter(user=owner, status="running").count() == 1


def test_the_status_without_htmx_goes_to_the_page(owner_client):
    response = owner_client.get(STATUS)
    assert response.status_code == 302 and response.url == "/settings/"


# -- with the real background thread -----------------------------------------------------------


def _wait_until_done(client, timeout=30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = client.get(STATUS, **HTMX).content.decode()
        if POLL not in page:
            return page
        time.sleep(0.1)
    raise AssertionError("the optimiser did not finish in time")


@pytest.mark.django_db(transaction=True)
def test_the_button_fits_in_the_background_and_saves_a_better_fit(owner):
    _store_history(owner)
    client = Client()
    client.force_login(owner)

    assert POLL in client.post(START, **HTMX).content.decode()
    page = _wait_until_done(client)

    run = OptimizerRun.objects.get(user=owner)
    assert run.status == "done" and run.improved and run.reviews == 2100
    assert run.log_loss_after < run.log_loss_before and run.rmse_after < run.rmse_before
    assert "fit your history better" in page
    assert StudySettings.objects.get(user=owner).fsrs_parameters != list(DEFAULT_PARAMETERS)


@pytest.mark.django_db(transaction=True)
def test_other_requests_are_served_while_a_fit_runs(owner, other, monkeypatch):
    """The fit runs in a child process: even a CPU-bound one leaves this process free."""
    busy = "import time\nend = time.time() + 3\nwhile time.time() < end:\n    pass\n"
    monkeypatch.setattr(optimize_service, "CHILD_CODE", busy + optimize_service.CHILD_CODE)
    _store_history(owner, n_cards=20, reviews_per_card=4)
    alice, bob = Client(), Client()
    alice.force_login(owner)
    bob.force_login(other)

    alice.post(START, **HTMX)
    latencies = []
    while OptimizerRun.objects.filter(user=owner, status="running").exists():
        started = time.monotonic()
        assert bob.get("/settings/").status_code == 200
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)

    # The fit spins for 3 s; a blocked process would answer once, after it. Ours answers many times.
    assert len(latencies) >= 3, "the fit should have taken a few seconds"
    assert max(latencies) < 1.5
    assert OptimizerRun.objects.get(user=owner).status == "done"


@pytest.mark.django_db(transaction=True)
def test_a_failed_fit_is_reported_and_stops_the_polling(owner, monkeypatch):
    def broken(user, **options):
        raise RuntimeError("the fitting process failed: out of memory")

    monkeypatch.setattr(optimize_service, "optimize_user", broken)
    run = OptimizerRun.objects.create(user=owner)

    optimize_service._spawn(run.pk).join(timeout=10)

    run.refresh_from_db()
    assert run.status == "failed" and "out of memory" in run.message
    client = Client()
    client.force_login(owner)
    page = client.get(STATUS, **HTMX).content.decode()
    assert POLL not in page and "The optimiser failed" in page
