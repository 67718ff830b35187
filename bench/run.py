"""`make bench`: the review loop under load against the framework's floor, on SQLite and
PostgreSQL, plus single-request server times and the optimiser's time.

    python -m bench.run [--users 20] [--cards 20000] [--reviews 1000000] [--duration 60]
                        [--databases sqlite,postgresql] [--workers 2] [--threads 4]

For each database: load the dataset (generated once by `manage.py bench_data` and cached under
bench/data/ as a SQLite file, or as a PostgreSQL template database, keyed by the parameters),
start gunicorn with production settings on 127.0.0.1, run locust headless for the review loop
and then for the floor (bench/locustfile.py), stop gunicorn, then time single requests in
process (bench/timings.py). Results: bench/results/latest.json and latest.md.
Every step is bounded in time; all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bench import search_step

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PG_HOST = "postgres://postgres@127.0.0.1:5432"
PG_DB = "bench_studyapp"
LOCKED = "database is locked"


def log(text: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {text}", flush=True)


def run(cmd, env, timeout, **kwargs):
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, env=env, cwd=ROOT, timeout=timeout, check=True, **kwargs)


def base_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        SECRET_KEY="bench-" + hashlib.sha256(str(tmp).encode()).hexdigest(),
        STATIC_ROOT=str(tmp / "static"),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        BENCH="1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def dataset_key(args) -> str:
    """Parameters plus the generator and the migrations: a change to either regenerates."""
    digest = hashlib.sha256()
    digest.update((ROOT / "cards" / "management" / "commands" / "bench_data.py").read_bytes())
    for path in sorted((ROOT / "cards" / "migrations").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return f"u{args.users}-c{args.cards}-r{args.reviews}-s{args.seed}-{digest.hexdigest()[:10]}"


def generate(env, args):
    run(
        [BIN / "python", "manage.py", "migrate", "--noinput", "-v0"],
        env,
        timeout=600,
    )
    run(
        [
            BIN / "python",
            "manage.py",
            "bench_data",
            "--users",
            str(args.users),
            "--cards",
            str(args.cards),
            "--reviews",
            str(args.reviews),
            "--seed",
            str(args.seed),
        ],
        env,
        timeout=1800,
    )


# -- databases ------------------------------------------------------------------------------


def prepare_sqlite(env, args, key) -> dict:
    DATA.mkdir(parents=True, exist_ok=True)
    cached = DATA / f"{key}.sqlite3"
    if not cached.exists():
        for old in DATA.glob("u*.sqlite3*"):
            old.unlink()
        building = DATA / f"{key}.building.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        started = time.monotonic()
        generate({**env, "SQLITE_PATH": str(building)}, args)
        # Fold the WAL into the file so one file is the whole dataset.
        import sqlite3

        db = sqlite3.connect(building)
        try:
            db.execute("ANALYZE")
            db.commit()
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        building.rename(cached)
        log(f"SQLite dataset generated in {time.monotonic() - started:.0f}s: {cached.name}")
    work = DATA / "run.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(cached, work)
    run_env = {**env, "SQLITE_PATH": str(work)}
    run([BIN / "python", "manage.py", "migrate", "--noinput", "-v0"], run_env, timeout=600)
    return run_env


def _psql(sql: str, database: str = "postgres") -> str:
    import psycopg

    with psycopg.connect(f"{PG_HOST}/{database}", autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else ""


def prepare_postgresql(env, args, key) -> dict:
    template = "bench_tpl_" + hashlib.sha256(key.encode()).hexdigest()[:12]
    existing = {row[0] for row in _psql("SELECT datname FROM pg_database")}
    if template not in existing:
        for name in existing:
            if name.startswith("bench_tpl_"):
                _psql(f'DROP DATABASE "{name}"')
        building = template + "_building"
        _psql(f'DROP DATABASE IF EXISTS "{building}"')
        _psql(f'CREATE DATABASE "{building}"')
        started = time.monotonic()
        generate({**env, "DATABASE_URL": f"{PG_HOST}/{building}"}, args)
        _psql("VACUUM ANALYZE", database=building)
        _psql(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
        log(f"PostgreSQL dataset generated in {time.monotonic() - started:.0f}s: {template}")
    _psql(f'DROP DATABASE IF EXISTS "{PG_DB}"')
    _psql(f'CREATE DATABASE "{PG_DB}" TEMPLATE "{template}"')
    run_env = {**env, "DATABASE_URL": f"{PG_HOST}/{PG_DB}"}
    run([BIN / "python", "manage.py", "migrate", "--noinput", "-v0"], run_env, timeout=600)
    return run_env


# -- server and load ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, env, args, logfile: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logfile = logfile
        cmd = [
            BIN / "gunicorn",
            "studyapp.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--error-logfile",
            str(logfile),
            "--log-level",
            "warning",
            "--timeout",
            "60",
            # A kept-alive connection stays with one worker process, and the workers got
            # uneven shares of the 20 clients: some users went 4x faster and drained their
            # queues. Closing after each response spreads the requests over the workers.
            "--keep-alive",
            "0",
        ]
        log("$ " + " ".join(str(c) for c in cmd))
        self.process = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}: see {logfile}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("gunicorn did not answer /healthz within 60 s")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def locked_in_log(self) -> int:
        if not self.logfile.exists():
            return 0
        return self.logfile.read_text(errors="replace").count(LOCKED)


def locust(server: Gunicorn, scenario: str, args, tmp: Path, env) -> dict:
    out = tmp / f"locust-{scenario}.json"
    out.unlink(missing_ok=True)
    locust_env = {
        **env,
        "BENCH_SCENARIO": scenario,
        "BENCH_DURATION": str(args.duration),
        "BENCH_OUT": str(out),
        "BENCH_USERS": str(args.users),
    }
    cmd = [
        BIN / "locust",
        "-f",
        ROOT / "bench" / "locustfile.py",
        "--headless",
        "--users",
        str(args.clients),
        "--spawn-rate",
        str(args.clients),
        "--host",
        server.url,
        # A hard bound: logging in takes seconds, the locustfile stops itself after --duration.
        "--run-time",
        f"{int(args.duration) + 120}s",
        "--stop-timeout",
        "10",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    # locust exits 1 when a request failed; the failures are in the results, so go on.
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run(
        cmd, env=locust_env, cwd=ROOT, timeout=args.duration + 240, stdout=subprocess.DEVNULL
    )
    if not out.exists():
        raise SystemExit(f"locust wrote no results for {scenario} (did every user log in?)")
    return json.loads(out.read_text())


def bench_database(vendor: str, args, key, tmp: Path, env) -> dict:
    log(f"== {vendor} ==")
    started = time.monotonic()
    run_env = (
        prepare_sqlite(env, args, key) if vendor == "sqlite" else prepare_postgresql(env, args, key)
    )
    prepared = time.monotonic() - started
    logfile = tmp / f"gunicorn-{vendor}.log"
    server = Gunicorn(run_env, args, logfile)
    try:
        loop = locust(server, "loop", args, tmp, run_env)
        log(f"review loop: {loop['total']['rps']} req/s, {loop['total']['failures']} failures")
        floor = locust(server, "floor", args, tmp, run_env)
        log(f"floor: {floor['total']['rps']} req/s, {floor['total']['failures']} failures")
    finally:
        server.stop()
    locked_log = server.locked_in_log()
    timings_out = tmp / f"timings-{vendor}.json"
    cmd = [BIN / "python", "-m", "bench.timings", timings_out, "--repeat", str(args.repeat)]
    if vendor == "sqlite" or "sqlite" not in args.databases:
        cmd.append("--optimizer")
    run(cmd, run_env, timeout=900)
    timings = json.loads(timings_out.read_text())
    shutil.copyfile(logfile, RESULTS / f"gunicorn-{vendor}.log") if logfile.stat().st_size else None
    ratio = loop["total"]["rps"] / floor["total"]["rps"] if floor["total"]["rps"] else 0.0
    return {
        "vendor": vendor,
        "prepare_s": round(prepared, 1),
        "loop": loop,
        "floor": floor,
        "ratio": round(ratio, 3),
        "errors": loop["total"]["failures"] + floor["total"]["failures"],
        "database_is_locked": loop["database_is_locked"] + floor["database_is_locked"] + locked_log,
        "pages": timings["pages"],
        "explain": timings["explain"],
        "optimizer": timings.get("optimizer"),
    }


def cpu_reference_ms() -> float:
    """A fixed pure-Python workload, best of 5, in ms: how fast this machine runs Python now.

    Server times scale with it, so runs on different machines (or on a busy one) compare by it;
    the load figures depend on it less, the loop/floor ratio hardly at all."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(i * i for i in range(1_000_000))
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# -- report ---------------------------------------------------------------------------------

TARGETS = {
    "ratio": 0.5,
    "study page": 5.0,
    "review POST": 5.0,
    "dashboard": 20.0,
    "stats page": 300.0,
    "optimiser_s": 2.0,
}


def verdicts(result: dict) -> list[tuple[str, str, bool]]:
    rows = []
    for db in result["databases"]:
        v = db["vendor"]
        rows.append((f"{v}: loop/floor ≥ 50%", f"{db['ratio']:.0%}", db["ratio"] >= 0.5))
        rows.append((f"{v}: errors = 0", str(db["errors"]), db["errors"] == 0))
        locked = db["database_is_locked"]
        rows.append((f'{v}: "database is locked" = 0', str(locked), locked == 0))
        for page in ("study page", "review POST", "dashboard", "stats page"):
            ms = db["pages"][page]["median_ms"]
            rows.append((f"{v}: {page} p50 < {TARGETS[page]:g} ms", f"{ms} ms", ms < TARGETS[page]))
        if db.get("optimizer"):
            seconds = db["optimizer"]["optimiser_s"]
            rows.append(("optimiser on 100,000 reviews < 2 s", f"{seconds} s", seconds < 2.0))
    return rows + search_step.verdicts(result.get("search", []))


def markdown(result: dict) -> str:
    p = result["parameters"]
    lines = [
        "# Benchmark results",
        "",
        f"Run {result['finished']} on {result['machine']}; dataset {p['users']} users × "
        f"{p['cards']:,} cards, {p['reviews']:,} reviews (seed {p['seed']}); gunicorn "
        f"{p['workers']} workers × {p['threads']} threads (gthread); {p['clients']} locust users, "
        f"{p['duration']:g} s per scenario. Reproduce: `make bench` (see docs/performance.md).",
        "",
        f"CPU reference (a fixed pure-Python loop, best of 5; lower is faster): "
        f"{result['cpu_reference_ms']['before']} ms before the run, "
        f"{result['cpu_reference_ms']['after']} ms after. Server times scale with it: compare "
        "runs on different machines by it.",
        "",
        "## Under load (locust, requests through gunicorn)",
        "",
        "| database | scenario | req/s | p50 ms | p95 ms | p99 ms | errors | db locked |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for db in result["databases"]:
        for scenario in ("loop", "floor"):
            s = db[scenario]
            t = s["total"]
            lines.append(
                f"| {db['vendor']} | {'review loop' if scenario == 'loop' else 'floor'} | "
                f"{t['rps']} | {t['p50_ms']} | {t['p95_ms']} | {t['p99_ms']} | {t['failures']} | "
                f"{s['database_is_locked']} |"
            )
            if scenario == "loop":
                for name, e in sorted(s["requests"].items()):
                    if not e["requests"]:
                        continue  # logging in happens before the measurement starts
                    lines.append(
                        f"| | {name} | {e['rps']} | {e['p50_ms']} | {e['p95_ms']} | "
                        f"{e['p99_ms']} | {e['failures']} | |"
                    )
    for db in result["databases"]:
        for scenario in ("loop", "floor"):
            for error in db[scenario]["errors"]:
                lines.append(
                    f"\n{db['vendor']} {scenario} error ×{error['count']}: {error['method']} "
                    f"{error['name']}: {error['error']}"
                )
    lines += ["", "Review loop / floor throughput:"]
    for db in result["databases"]:
        lines.append(f"- {db['vendor']}: **{db['ratio']:.0%}**")
    lines += [
        "",
        "## Single requests (in process, Django test client, warm; median)",
        "",
        "| page | " + " | ".join(db["vendor"] for db in result["databases"]) + " | queries |",
        "| --- | " + " | ".join("---:" for _ in result["databases"]) + " | ---: |",
    ]
    for page in ("study page", "review POST", "dashboard", "stats page"):
        cells = [f"{db['pages'][page]['median_ms']} ms" for db in result["databases"]]
        queries = result["databases"][0]["pages"][page]["queries"]
        lines.append(f"| {page} | " + " | ".join(cells) + f" | {queries} |")
    for db in result["databases"]:
        if db.get("optimizer"):
            o = db["optimizer"]
            lines += [
                "",
                f"Optimiser: {o['reviews']:,} reviews of {o['cards']:,} cards → {o['items']:,} "
                f"training items; items {o['items_s']} s + fit {o['fit_s']} s = "
                f"**{o['optimiser_s']} s** (loading the logs from the database: {o['load_s']} s).",
            ]
    lines += ["", "## Queue queries (EXPLAIN)", ""]
    for db in result["databases"]:
        scans = sorted({t for plan in db["explain"] for t in plan["full_scans"]})
        lines.append(
            f"- {db['vendor']}: {len(db['explain'])} distinct queries; full scans of big "
            f"tables: {', '.join(scans) if scans else 'none'}"
        )
    lines += search_step.markdown(result.get("search", []), p)
    lines += ["", "## Targets", "", "| target | measured | met |", "| --- | ---: | :---: |"]
    for name, value, ok in verdicts(result):
        lines.append(f"| {name} | {value} | {'yes' if ok else '**no**'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the review loop (make bench).")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=float, default=60, help="Seconds per scenario.")
    parser.add_argument("--clients", type=int, default=0, help="Locust users (default: --users).")
    # Measured on 2 cores (docs/performance.md): 3 workers beat 2x4 and 4x2 threads.
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=30, help="Samples per in-process timing.")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--out", default="latest", help="Name of the result files.")
    search_step.add_arguments(parser)  # the card search's p50 per filter (bench/search.py)
    args = parser.parse_args(argv)
    args.clients = args.clients or args.users
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if args.clients > args.users:
        parser.error("--clients cannot exceed --users (each locust user is its own bench user)")
    started = time.monotonic()
    RESULTS.mkdir(parents=True, exist_ok=True)
    key = dataset_key(args)
    cpu_before = cpu_reference_ms()
    log(f"CPU reference: {cpu_before} ms; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="studyapp-bench-") as name:
        tmp = Path(name)
        env = base_env(tmp)
        run([BIN / "python", "manage.py", "collectstatic", "--noinput", "-v0"], env, timeout=300)
        databases = [bench_database(v, args, key, tmp, env) for v in args.databases]
        search = [
            search_step.run_search(v, env, args, log) for v in args.databases if args.search_users
        ]
    result = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} ({cpu_model()}), {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "cpu_reference_ms": {"before": cpu_before, "after": cpu_reference_ms()},
        "parameters": {**vars(args), "dataset": key},
        "seconds": round(time.monotonic() - started, 1),
        "databases": databases,
        "search": search,
    }
    result["targets"] = [{"target": n, "measured": v, "met": ok} for n, v, ok in verdicts(result)]
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    report = markdown(result)
    (RESULTS / f"{args.out}.md").write_text(report)
    print(report)
    log(f"done in {result['seconds']:.0f}s: bench/results/{args.out}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
