"""Fit a user's FSRS parameters to their own review history.

`optimize_user` is what both `manage.py optimize_fsrs` and the settings page's button call.
The page starts it with `start_optimization`: a daemon thread that records its progress in an
OptimizerRun row (which the page polls) and runs the fit itself in a child process, because
fsrs-rs-python holds the GIL while it trains and would otherwise stall every other request
served by the same worker process.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from cards.models import OptimizerRun, ReviewLog, StudySettings
from cards.scheduling import DEFAULT_PARAMETERS, FitResult, Grade, optimize, to_fsrs_items
from cards.services.settings import get_study_settings

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
# A run still "running" after this long died with its process (a restart); it is closed as failed.
STALE_AFTER = timedelta(minutes=20)
CHILD_TIMEOUT_S = 15 * 60

# Runs in a fresh interpreter: the pure core only (no Django), JSON in on stdin, JSON out.
CHILD_CODE = """
import json, os, sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
try:
    os.nice(10)  # the web requests come first
except OSError:
    pass
from cards.scheduling import optimize, to_fsrs_items
job = json.load(sys.stdin)
epoch = datetime(1970, 1, 1, tzinfo=UTC)
histories = [
    [(grade, epoch + timedelta(microseconds=us)) for grade, us in card] for card in job["histories"]
]
items = to_fsrs_items(histories, job["timezone"], job["day_start_hour"])
result = optimize(items, job["parameters"], **job["options"])
json.dump({"result": asdict(result), "items": len(items)}, sys.stdout)
"""


class OptimizerBusy(Exception):
    """The user already has a fit running."""


def user_histories(user) -> list[list[tuple[int, datetime]]]:
    """Every card's (grade, reviewed_at) history of this user, each in time order."""
    histories: dict[int, list[tuple[int, datetime]]] = {}
    logs = (
        ReviewLog.objects.filter(user=user)
        .order_by("card_id", "reviewed_at", "id")
        .values_list("card_id", "grade", "reviewed_at")
    )
    for card_id, grade, reviewed_at in logs.iterator(chunk_size=5000):
        histories.setdefault(card_id, []).append((grade, reviewed_at))
    return list(histories.values())


def fit_for_user(user, *, in_subprocess: bool = False, **options) -> tuple[FitResult, int]:
    """(the fit, how many training items it used); saves nothing. `options` go to optimize()."""
    settings = get_study_settings(user)
    histories = user_histories(user)
    parameters = list(settings.fsrs_parameters)
    if not in_subprocess:
        graded = [[(Grade(g), at) for g, at in card] for card in histories]
        items = to_fsrs_items(graded, settings.timezone, settings.day_start_hour)
        return optimize(items, parameters, **options), len(items)
    job = {
        "histories": [[(g, (at - EPOCH) // ONE_US) for g, at in card] for card in histories],
        "timezone": settings.timezone,
        "day_start_hour": settings.day_start_hour,
        "parameters": parameters,
        "options": options,
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD_CODE],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the fitting process failed: {done.stderr.strip()[-500:]}")
    answer = json.loads(done.stdout)
    fields = answer["result"]
    fields["parameters"] = tuple(fields["parameters"])
    return FitResult(**fields), answer["items"]


def optimize_user(user, *, in_subprocess: bool = False, **options) -> tuple[FitResult, int]:
    """Fit and keep the new parameters only if they predict this history better.

    If the parameters were changed meanwhile (reset on the settings page while the fit ran),
    nothing is saved: the fit was judged against the old ones.
    """
    started_with = list(get_study_settings(user).fsrs_parameters)
    result, items = fit_for_user(user, in_subprocess=in_subprocess, **options)
    if not result.improved:
        return result, items
    with transaction.atomic():
        settings = StudySettings.objects.select_for_update().get(user=user)
        if list(settings.fsrs_parameters) != started_with:
            result.improved = False
            result.message = (
                "Your parameters were changed while the fit ran, so the fit was not saved. "
                "Run it again to fit from the new ones."
            )
            return result, items
        settings.fsrs_parameters = list(result.parameters)
        settings.save(update_fields=["fsrs_parameters", "updated_at"])
    if hasattr(user, "study_settings"):
        user.study_settings.fsrs_parameters = list(result.parameters)
    return result, items


def reset_parameters(user) -> None:
    settings = get_study_settings(user)
    settings.fsrs_parameters = list(DEFAULT_PARAMETERS)
    settings.save(update_fields=["fsrs_parameters", "updated_at"])


# -- the background runner for the settings page ----------------------------------------------


def close_stale_runs(user) -> None:
    OptimizerRun.objects.filter(
        user=user, status=OptimizerRun.RUNNING, started_at__lt=timezone.now() - STALE_AFTER
    ).update(
        status=OptimizerRun.FAILED,
        finished_at=timezone.now(),
        message="The fit was interrupted (the server restarted). Please start it again.",
    )


def latest_run(user) -> OptimizerRun | None:
    return OptimizerRun.objects.filter(user=user).first()


def start_optimization(user) -> OptimizerRun:
    """Record a running fit and start it in a daemon thread once that row is committed.

    Raises OptimizerBusy if this user already has one running (a database constraint, so two
    clicks served by two processes cannot both start one).
    """
    close_stale_runs(user)
    try:
        with transaction.atomic():
            run = OptimizerRun.objects.create(user=user)
    except IntegrityError:
        raise OptimizerBusy("An optimisation is already running for you.") from None
    transaction.on_commit(lambda: _spawn(run.pk))
    return run


def _spawn(run_id: int) -> threading.Thread:
    thread = threading.Thread(
        target=run_in_background, args=(run_id,), name=f"optimizer-{run_id}", daemon=True
    )
    thread.start()
    return thread


def run_in_background(run_id: int) -> None:
    """The thread's body: fit in a child process, then record the outcome on the run."""
    close_old_connections()
    try:
        run = OptimizerRun.objects.select_related("user").get(pk=run_id)
        try:
            result, items = optimize_user(run.user, in_subprocess=True)
        except Exception as exc:  # the page must learn that it failed, whatever the cause
            logger.exception("optimizer run %s failed", run_id)
            run.status = OptimizerRun.FAILED
            run.message = f"The optimiser failed: {exc}"
        else:
            run.status = OptimizerRun.DONE
            run.message = result.message
            run.reviews = items
            run.improved = result.improved
            for name in ("log_loss_before", "rmse_before", "log_loss_after", "rmse_after"):
                setattr(run, name, getattr(result, name))
        run.finished_at = timezone.now()
        run.save()
    except Exception:
        logger.exception("optimizer run %s could not record its outcome", run_id)
    finally:
        connection.close()
