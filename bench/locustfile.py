"""Locust scenarios for `make bench` (bench/run.py starts locust with this file, headless).

BENCH_SCENARIO=loop  — the review loop of a learner without JavaScript: GET /study/, read the
                       review token and the CSRF token from the form, POST a rating (302), repeat.
BENCH_SCENARIO=floor — the framework's floor: POST /bench/floor (one session write), repeat.

Every locust user logs in through the login form as its own bench user (bench0001…, password
"bench-password"), so no two users answer the same queue. Measurement starts when every user
has logged in (the statistics are reset then: password hashing is not what we measure) and
lasts BENCH_DURATION seconds; the results go to BENCH_OUT as JSON.
"""

import json
import os
import random
import re
import time

import gevent
from locust import FastHttpUser, events, task

SCENARIO = os.environ.get("BENCH_SCENARIO", "loop")
DURATION = float(os.environ.get("BENCH_DURATION", "60"))
OUT = os.environ.get("BENCH_OUT", "")
USERS = int(os.environ.get("BENCH_USERS", "20"))
PASSWORD = "bench-password"

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
RATING_RE = re.compile(r'name="rating" value="(\d)"')
TITLE_RE = re.compile(r"<title>([^<]*)</title>")
# Mostly "4", as in the generated history.
RATING_WEIGHTS = {1: 4, 2: 6, 3: 10, 4: 70, 5: 10}

_free = list(range(USERS, 0, -1))  # pop() hands out bench0001 first
_logged_in: set[str] = set()
_state = {"started": None, "stopped": None}
counters = {
    "database_is_locked": 0,
    "finished_pages": 0,
    "logged_out": 0,
    "login_failed": 0,
    "on_start_calls": 0,
}


def _check_locked(text: str) -> None:
    if "database is locked" in text:
        counters["database_is_locked"] += 1


class BenchUser(FastHttpUser):
    # Closed loop with no think time: each user sends its next request as soon as it can.
    def on_start(self):
        counters["on_start_calls"] += 1
        # One bench user per locust user, kept if on_start runs again after an error: two
        # locust users on one account would share (and twice as fast drain) one queue.
        if not getattr(self, "username", None):
            if not _free:
                raise RuntimeError(f"more locust users than the {USERS} bench users")
            self.username = f"bench{_free.pop():04d}"
        page = self.client.get("/accounts/login/", name="login form")
        csrf = CSRF_RE.search(page.text or "")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": csrf.group(1) if csrf else "",
            },
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                counters["login_failed"] += 1
                response.failure(f"login as {self.username}: {response.status_code}")
        if SCENARIO == "floor":
            page = self.client.get("/bench/floor", name="floor token")
            csrf = CSRF_RE.search(page.text or "")
            self.csrf = csrf.group(1) if csrf else ""
        _logged_in.add(self.username)
        target = self.environment.runner.target_user_count
        if _state["started"] is None and len(_logged_in) == target:
            _start_measuring(self.environment)

    @task
    def work(self):
        if _state["started"] is None:
            # Wait for everyone to log in: the first ones would otherwise drain their queues
            # alone while password hashing keeps the server busy.
            gevent.sleep(0.2)
            return
        if SCENARIO == "floor":
            self.floor()
        else:
            self.review()

    def floor(self):
        with self.client.post(
            "/bench/floor",
            headers={"X-CSRFToken": self.csrf},
            name="floor POST",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                _check_locked(response.text or "")
                response.failure(f"floor: {response.status_code}")

    def review(self):
        with self.client.get("/study/", name="study GET", catch_response=True) as page:
            text = page.text or ""
            if page.status_code != 200:
                _check_locked(text)
                page.failure(f"study page: {page.status_code}")
                return
            token = TOKEN_RE.search(text)
            csrf = CSRF_RE.search(text)
            if token is None or csrf is None:
                if 'name="password"' in text:
                    counters["logged_out"] += 1
                    page.failure("logged out: the study page redirected to the login form")
                elif "study-done" in text:
                    counters["finished_pages"] += 1
                    page.failure("no card to study (the queue ran dry)")
                else:
                    title = TITLE_RE.search(text)
                    page.failure(f"no review form on {title.group(1) if title else 'the page'}")
                return
        offered = [int(r) for r in RATING_RE.findall(text)] or [1, 2, 3, 4, 5]
        weights = [RATING_WEIGHTS.get(r, 1) for r in offered]
        rating = random.choices(offered, weights)[0]
        with self.client.post(
            "/study/review/",
            data={
                "csrfmiddlewaretoken": csrf.group(1),
                "token": token.group(1),
                "rating": str(rating),
                "duration_ms": str(random.randint(2000, 15000)),
            },
            name="review POST",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                _check_locked(response.text or "")
                response.failure(f"review: {response.status_code}")


def _start_measuring(environment):
    environment.runner.stats.reset_all()
    _state["started"] = time.time()

    def stop():
        _state["stopped"] = time.time()
        _write(environment)
        environment.runner.quit()

    gevent.spawn_later(DURATION, stop)


def _entry(stats_entry, seconds):
    return {
        "requests": stats_entry.num_requests,
        "failures": stats_entry.num_failures,
        "rps": round(stats_entry.num_requests / seconds, 1) if seconds else 0.0,
        "p50_ms": stats_entry.get_response_time_percentile(0.50),
        "p95_ms": stats_entry.get_response_time_percentile(0.95),
        "p99_ms": stats_entry.get_response_time_percentile(0.99),
        "avg_ms": round(stats_entry.avg_response_time, 2),
        "max_ms": round(stats_entry.max_response_time or 0, 1),
    }


def _write(environment):
    if not OUT or _state["started"] is None:
        return
    stats = environment.runner.stats
    seconds = (_state["stopped"] or time.time()) - _state["started"]
    errors = [
        {"name": e.name, "method": e.method, "error": str(e.error), "count": e.occurrences}
        for e in stats.errors.values()
    ]
    result = {
        "scenario": SCENARIO,
        "users": environment.runner.target_user_count,
        "seconds": round(seconds, 2),
        "total": _entry(stats.total, seconds),
        "requests": {name: _entry(entry, seconds) for (name, _), entry in stats.entries.items()},
        "errors": errors,
        **counters,
    }
    with open(OUT, "w") as handle:
        json.dump(result, handle, indent=2)


@events.quitting.add_listener
def _on_quit(environment, **_kwargs):
    if _state["stopped"] is None and _state["started"] is not None:
        _state["stopped"] = time.time()
        _write(environment)
