"""`make bench-apkg` (part of `make bench`): importing a 100,000-card Anki package with
1,000,000 reviews, its time and peak memory (targets: under 60 s, under 500 MB).

    python -m bench.apkg_import [--cards 100000] [--reviews 1000000] [--no-memory]
                                [--databases sqlite,postgresql]

The package is made once by Anki itself (bench/apkg_package.py) and cached under bench/data/,
keyed by the parameters and the generator's hash. For each database: a fresh, migrated
database (a SQLite file, or a PostgreSQL database on 127.0.0.1:5432), then a child process
imports the package through the web's own path — the upload saved as a private file
(services/uploads.py), an ImportJob queued and run by the task runner (TASKS_BACKEND=immediate,
so in the same process), the package read and written by cards/anki/ — and reports its wall
time, its CPU time (which a busy machine does not inflate) and its peak resident memory
(VmHWM: the whole process, Django included; the figure before the import is printed too).
Results: bench/results/apkg_import.{json,md}.
`--no-memory` makes a package without Anki's FSRS memory, so every card's history is replayed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
PG = "postgres://postgres@127.0.0.1:5432"
PG_DB = "bench_apkg"
TARGET_SECONDS, TARGET_MB = 60, 500


def log(text: str) -> None:
    print(f"[bench-apkg {datetime.now():%H:%M:%S}] {text}", flush=True)


def package(args) -> Path:
    """The cached package, made by Anki if missing."""
    from bench.apkg_package import build

    digest = hashlib.sha256((ROOT / "bench" / "apkg_package.py").read_bytes()).hexdigest()[:10]
    memory = "nomem" if args.no_memory else "mem"
    path = DATA / f"apkg-c{args.cards}-r{args.reviews}-{memory}-{digest}.apkg"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        log(f"making {path.name} with Anki (about 30 s for 100,000 cards)")
        started = time.monotonic()
        build(path, cards=args.cards, reviews=args.reviews, memory=not args.no_memory)
        log(f"made in {time.monotonic() - started:.0f} s, {path.stat().st_size / 2**20:.0f} MB")
    return path


def psql(command: str) -> None:
    env = {**os.environ, "PGOPTIONS": "--client-min-messages=warning"}
    subprocess.run(["psql", PG, "-qc", command], check=True, env=env)


def environment(database: str, tmp: Path, args) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(
        DJANGO_SETTINGS_MODULE="studyapp.settings", DEBUG="0", LOG_LEVEL="WARNING",
        SECRET_KEY="bench-apkg-not-secret", TASKS_BACKEND="immediate",
        IMPORT_UPLOAD_DIR=str(tmp / "uploads"), MEDIA_ROOT=str(tmp / "media"),
        IMPORT_MAX_CARDS=str(args.cards), DECK_MAX_CARDS=str(args.cards),
        APKG_MAX_CARDS=str(args.cards),
        PYTHONUNBUFFERED="1",
    )  # fmt: skip
    if database == "sqlite":
        env["SQLITE_PATH"] = str(tmp / "apkg.sqlite3")
    else:
        psql(f"DROP DATABASE IF EXISTS {PG_DB}")
        psql(f"CREATE DATABASE {PG_DB}")
        env["DATABASE_URL"] = f"{PG}/{PG_DB}"
    return env


def measure(database: str, path: Path, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-apkg-") as tmp:
        env = environment(database, Path(tmp), args)
        python = sys.executable
        subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
                       check=True, timeout=600)  # fmt: skip
        log(f"{database}: importing {path.name}")
        child = subprocess.run(
            [python, "-m", "bench.apkg_import", "--child", str(path)], cwd=ROOT, env=env,
            check=True, timeout=3600, capture_output=True, text=True,
        )  # fmt: skip
        sys.stderr.write(child.stderr)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        if database != "sqlite":
            psql(f"DROP DATABASE IF EXISTS {PG_DB}")
    result["database"] = database
    # Other work on the machine stretches the wall time, not the CPU time: say how busy it was.
    result["load_average"] = round(os.getloadavg()[1], 1)
    result["time_met"] = result["seconds"] < TARGET_SECONDS
    result["memory_met"] = result["peak_mb"] < TARGET_MB
    log(
        f"{database}: {result['status']} in {result['seconds']:.1f} s "
        f"({result['cpu_seconds']:.1f} s of CPU), peak "
        f"{result['peak_mb']:.0f} MB (before the import {result['baseline_mb']:.0f} MB); "
        f"{result['items_per_second']:,.0f} cards and reviews a second"
    )
    return result


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that over
    from the parent through fork and exec, so it would report the generator's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def child(path: Path) -> None:
    """In the child: one import through the job path; prints one JSON line."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from cards.models import ImportJob, ReviewLog
    from cards.services import imports

    user = get_user_model().objects.create_user("bench", "bench@example.com", "bench-password")
    baseline = peak_mb()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    with path.open("rb") as handle:
        job = imports.start_apkg_import(user, upload=File(handle, name=path.name))
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    job = ImportJob.objects.get(pk=job.pk)
    peak = peak_mb()
    if job.status != ImportJob.Status.DONE:
        print(job.message, file=sys.stderr)
    print(json.dumps({
        "status": job.status, "seconds": round(seconds, 2), "peak_mb": round(peak, 1),
        "cpu_seconds": round(cpu_seconds, 2),
        "baseline_mb": round(baseline, 1), "items": job.total,
        "items_per_second": round(job.total / seconds), "cards": user.decks.aggregate(
            n=django.db.models.Count("cards"))["n"],
        "reviews": ReviewLog.objects.filter(user=user).count(), "message": job.message,
    }))  # fmt: skip


def report(results: list[dict], args, path: Path) -> None:
    RESULTS.mkdir(exist_ok=True)
    data = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "package": path.name, "package_mb": round(path.stat().st_size / 2**20, 1),
        "cards": args.cards, "reviews": args.reviews, "fsrs_memory": not args.no_memory,
        "targets": {"seconds": TARGET_SECONDS, "peak_mb": TARGET_MB}, "results": results,
    }  # fmt: skip
    (RESULTS / "apkg_import.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [
        f"# Anki package import ({data['when']})", "",
        f"{args.cards:,} cards, {args.reviews:,} reviews, FSRS memory "
        f"{'stored' if data['fsrs_memory'] else 'replayed'}; package {data['package_mb']} MB.",
        "", "| database | status | time | CPU time | load (5 min) | peak memory | before import "
        f"| items/s | time < {TARGET_SECONDS} s | memory < {TARGET_MB} MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for r in results:
        lines.append(
            f"| {r['database']} | {r['status']} | {r['seconds']:.1f} s | {r['cpu_seconds']:.1f} s "
            f"| {r.get('load_average', '?')} | {r['peak_mb']:.0f} MB | {r['baseline_mb']:.0f} MB "
            f"| {r['items_per_second']:,} | {'yes' if r['time_met'] else 'no'} "
            f"| {'yes' if r['memory_met'] else 'no'} |"
        )
    (RESULTS / "apkg_import.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return
    path = package(args)
    results = [measure(db, path, args) for db in args.databases.split(",")]
    report(results, args, path)


if __name__ == "__main__":
    main()
