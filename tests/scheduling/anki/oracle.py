"""Drive the Anki worker under libfaketime and compare its steps with our policy.

Every step starts from Anki's own state before the answer (converted to a CardState) and is
given Anki's fuzz draw (ported in rng.py), so each step is judged on its own.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import fsrs_rs_python as fr

from cards.scheduling import CardState, Grade, Policy, Scheduler, State, study_day
from cards.scheduling.days import study_day_start
from cards.scheduling.fuzz import f32

from .rng import anki_draw

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
ROOT = Path(__file__).resolve().parents[3]
HOUR = 4
ZONES = ("UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Auckland")
# 2024's DST changes of the zones that have them (local dates).
DST_CHANGES = {
    "America/Los_Angeles": (date(2024, 3, 10), date(2024, 11, 3)),
    "Pacific/Auckland": (date(2024, 4, 7), date(2024, 9, 29)),
}
PARAMETERS = list(fr.DEFAULT_PARAMETERS)
GROUPS = {
    "A": {"learning_steps": [60, 600], "relearning_steps": [600], "desired_retention": 0.9,
          "maximum_interval": 36500},
    "B": {"learning_steps": [600], "relearning_steps": [], "desired_retention": 0.85,
          "maximum_interval": 30},
    "C": {"learning_steps": [60, 600, 86400], "relearning_steps": [600, 3600],
          "desired_retention": 0.95, "maximum_interval": 36500},
}  # fmt: skip
for _group in GROUPS.values():
    _group.update(new_per_day=20, reviews_per_day=200, parameters=PARAMETERS)


def policy_of(group: str, tz: str) -> Policy:
    g = GROUPS[group]
    return Policy(
        parameters=tuple(PARAMETERS),
        desired_retention=g["desired_retention"],
        learning_steps=tuple(g["learning_steps"]),
        relearning_steps=tuple(g["relearning_steps"]),
        maximum_interval=g["maximum_interval"],
        timezone=tz,
        day_start_hour=HOUR,
    )


def created_at(tz: str) -> int:
    """The collection is created at noon local on 2023-12-01: Anki's day 0 is that date."""
    return int(datetime(2023, 12, 1, 12, tzinfo=ZoneInfo(tz)).timestamp())


def generate(tz: str, count: int, seed: int) -> list[dict]:
    """Histories: start moments across 2024, near DST changes and near 04:00, groups A-C."""
    rng = random.Random(f"{seed}:{tz}")
    zone = ZoneInfo(tz)
    histories = []
    for i in range(count):
        changes = DST_CHANGES.get(tz)
        if changes and rng.random() < 0.4:
            day = rng.choice(changes) + timedelta(days=rng.randint(-3, 1))
        else:
            day = date(2024, 1, 1) + timedelta(days=rng.randint(0, 365))
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        if rng.random() < 0.25:
            moment = start.replace(hour=HOUR) + timedelta(seconds=rng.randint(-90, 90))
        else:
            moment = start + timedelta(seconds=rng.randint(0, 86399))
        histories.append(
            {"group": "ABC"[i % 3], "start": int(moment.timestamp()), "length": rng.randint(5, 22)}
        )
    return histories


def start_worker(tz: str, histories: list[dict], seed: int, tmp: str) -> subprocess.Popen:
    job = {"seed": seed, "tz": tz, "created": created_at(tz), "groups": GROUPS,
           "histories": histories}  # fmt: skip
    return start_anki(job, "tests.scheduling.anki.worker", tmp)


def start_anki(job: dict, module: str, tmp: str) -> subprocess.Popen:
    """Run `module` on `job` (JSON on stdin, with "clock_file" added) in TZ=job["tz"], its clock
    read by libfaketime from that file, starting at job["created"]."""
    tz = job["tz"]
    clock = Path(tmp) / f"clock-{tz.replace('/', '_')}"
    clock.write_text(f"{job['created']}\n")  # libfaketime must find a time at start-up
    env = dict(
        os.environ,
        TZ=tz,
        LD_PRELOAD=LIBFAKETIME,
        FAKETIME_TIMESTAMP_FILE=str(clock),
        FAKETIME_NO_CACHE="1",
        FAKETIME_FMT="%s",
    )
    job = dict(job, clock_file=str(clock))
    errors = clock.with_suffix(".err")
    with errors.open("w") as stderr:  # a file: a full pipe would block the worker
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    proc.errors = errors
    proc.stdin.write(json.dumps(job))
    proc.stdin.close()
    return proc


def run_anki(jobs: dict[str, list[dict]], seed: int) -> dict[str, list[dict]]:
    """{zone: histories} -> {zone: steps}, one worker process per zone, run side by side."""
    with tempfile.TemporaryDirectory() as tmp:
        procs = {tz: start_worker(tz, histories, seed, tmp) for tz, histories in jobs.items()}
        return collect(procs)


def run_module(module: str, jobs: dict[str, dict]) -> dict[str, list[dict]]:
    """{zone: job} -> {zone: the JSON lines `module` printed}, one process per zone."""
    with tempfile.TemporaryDirectory() as tmp:
        return collect({tz: start_anki(job, module, tmp) for tz, job in jobs.items()})


def collect(procs: dict[str, subprocess.Popen]) -> dict[str, list[dict]]:
    lines = {}
    for tz, proc in procs.items():
        out = proc.stdout.read()
        if proc.wait() != 0:
            raise RuntimeError(f"Anki worker for {tz} failed:\n{proc.errors.read_text()}")
        lines[tz] = [json.loads(line) for line in out.splitlines() if line.strip()]
    return lines


# -- comparison -----------------------------------------------------------------------------


def _index(left: int, steps: list[int]) -> int:
    return min(max(len(steps) - left % 1000, 0), max(len(steps) - 1, 0))


def _day(n: int, tz: str) -> date:
    return datetime.fromtimestamp(created_at(tz), ZoneInfo(tz)).date() + timedelta(days=n)


def card_state(fields: dict, group: str, tz: str) -> CardState:
    """Anki's card as our CardState (the state a step starts from)."""
    kind = State(fields["type"])
    if kind == State.NEW:
        return CardState.new()
    g = GROUPS[group]
    step = None
    if kind != State.REVIEW:
        steps = g["relearning_steps"] if kind == State.RELEARNING else g["learning_steps"]
        step = _index(fields["left"], steps)
    if fields["queue"] == 1:
        due = datetime.fromtimestamp(fields["due"], UTC)
    else:
        due = study_day_start(_day(fields["due"], tz), tz, HOUR)
    return CardState(
        state=kind,
        step=step,
        stability=fields["stability"],
        difficulty=fields["difficulty"],
        due=due,
        last_review=datetime.fromtimestamp(fields["last_review"], UTC),
        reps=fields["reps"],
        lapses=fields["lapses"],
    )


def comparable(state: CardState, scheduled_days: int, tz: str) -> dict:
    """The fields compared at every step, in one form for both sides."""
    on_day_start = state.due == study_day_start(study_day(state.due, tz, HOUR), tz, HOUR)
    return {
        "state": int(state.state),
        "step": state.step,
        # As FSRS reads them (f32): Anki's stored f32 holds 4 decimals only up to S ~ 800.
        "stability": f32(state.stability),
        "difficulty": f32(state.difficulty),
        "interval": scheduled_days if state.state == State.REVIEW else None,
        "due_day": study_day(state.due, tz, HOUR) if on_day_start else None,
        "learning_due": None if on_day_start else int(state.due.timestamp()),
        "reps": state.reps,
        "lapses": state.lapses,
    }


def dst_artefact(at: int, tz: str) -> bool:
    """`at` falls on a study day with a DST change: Anki's day boundary is then today's 04:00
    in the UTC offset of the moment it computed it, plus 24 h (cached for the day), and can be
    an hour off ours; our day starts at 04:00 local (the intended difference)."""
    day = study_day(datetime.fromtimestamp(at, UTC), tz, HOUR)
    start = study_day_start(day, tz, HOUR)
    return study_day_start(day + timedelta(days=1), tz, HOUR) - start != timedelta(days=1)


@dataclass
class Tally:
    total: int = 0
    agreed: int = 0
    artefacts: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)


def compare(tz: str, histories: list[dict], steps: list[dict], tally: Tally) -> None:
    schedulers = {g: Scheduler(policy_of(g, tz)) for g in GROUPS}
    for step in steps:
        group = histories[step["history"]]["group"]
        before = card_state(step["before"], group, tz)
        at = datetime.fromtimestamp(step["at"], UTC)
        draw = anki_draw(step["card_id"], step["before"]["reps"])
        ours = schedulers[group].review(before, Grade(step["rating"]), at, draw)
        after = card_state(step["after"], group, tz)
        theirs = comparable(after, step["after"]["ivl"], tz)
        mine = comparable(ours.after, ours.scheduled_days, tz)
        tally.total += 1
        if theirs == mine:
            tally.agreed += 1
            continue
        diff = {k: (theirs[k], mine[k]) for k in theirs if theirs[k] != mine[k]}
        line = f"{tz} {group} {at.astimezone(ZoneInfo(tz))} rating {step['rating']}: {diff}"
        last = step["before"]["last_review"]
        if dst_artefact(step["at"], tz) or (last and dst_artefact(last, tz)):
            tally.artefacts.append(line)
        else:
            tally.mismatches.append(line)
