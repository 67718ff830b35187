"""`make bench`'s card-search step: bench/search.py (p50 per filter kind, in process) run in
its own process per database, its collection cached between runs.

The issue's scale is 20 users × 20,000 cards (`--search-users`, `--search-cards`); building
it takes about 5 minutes per database the first time, then the SQLite file under bench/data/
and the PostgreSQL database bench_search_make are reused while bench/search.py and the
migrations are unchanged (SQLite; PostgreSQL checks the sizes and migrates). Smaller scales
(`--search-cards 2000`) take seconds; `--search-users 0` skips the step.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
TARGET_MS = 30.0
PG_URL = "postgres://postgres@127.0.0.1:5432/bench_search_make"
_ROW = re.compile(r"^(?P<name>.+?)\s+(?P<p50>[0-9.]+)\s+(?P<matches>[0-9]+)$")


def add_arguments(parser) -> None:
    parser.add_argument("--search-users", type=int, default=20, help="0 skips the search step.")
    parser.add_argument("--search-cards", type=int, default=20_000)
    parser.add_argument("--search-repeat", type=int, default=9)


def _key(args) -> str:
    digest = hashlib.sha256((ROOT / "bench" / "search.py").read_bytes())
    for path in sorted((ROOT / "cards" / "migrations").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return f"u{args.search_users}-c{args.search_cards}-{digest.hexdigest()[:10]}"


def parse(output: str) -> dict:
    """{filter: {"p50_ms", "matches"}} from bench/search.py's table."""
    rows = {}
    for line in output.splitlines():
        match = _ROW.match(line.strip())
        if match and match["name"] != "filter":
            rows[match["name"]] = {"p50_ms": float(match["p50"]), "matches": int(match["matches"])}
    return rows


def _create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchall():
            conn.execute(f'CREATE DATABASE "{name}"')


def run_search(vendor: str, env: dict, args, log) -> dict:
    """One database's figures (bench/search.py in a child process, bounded in time)."""
    cmd = [
        sys.executable, "-m", "bench.search", "--users", str(args.search_users),
        "--cards", str(args.search_cards), "--repeat", str(args.search_repeat),
    ]  # fmt: skip
    env = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    if vendor == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        key = _key(args)
        for old in DATA.glob("search-*.sqlite3*"):
            if key not in old.name:
                old.unlink()
        cmd += ["--sqlite", str(DATA / f"search-{key}.sqlite3")]
    else:
        _create_database(PG_URL.rsplit("/", 1)[1])
        env["DATABASE_URL"] = PG_URL
        cmd.append("--reuse")
    log("$ " + " ".join(cmd))
    done = subprocess.run(
        cmd, env=env, cwd=ROOT, timeout=1800, check=True, capture_output=True, text=True
    )
    print(done.stdout, end="", flush=True)
    return {"vendor": vendor, "filters": parse(done.stdout)}


def markdown(search: list[dict], p: dict) -> list[str]:
    if not search:
        return []
    lines = [
        "",
        f"## Card search (in process: count + first page of 50; {p['search_users']} users × "
        f"{p['search_cards']:,} cards; p50 ms)",
        "",
        "| filter | " + " | ".join(db["vendor"] for db in search) + " | matches |",
        "| --- | " + " | ".join("---:" for _ in search) + " | ---: |",
    ]
    for name, row in search[0]["filters"].items():
        cells = [str(db["filters"].get(name, {}).get("p50_ms", "–")) for db in search]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {row['matches']} |")
    return lines


def verdicts(search: list[dict]) -> list[tuple[str, str, bool]]:
    rows = []
    for db in search:
        if not db["filters"]:
            continue
        worst = max(db["filters"].items(), key=lambda item: item[1]["p50_ms"])
        rows.append(
            (
                f"{db['vendor']}: card search p50 < {TARGET_MS:g} ms, every filter",
                f"{worst[1]['p50_ms']} ms ({worst[0]})",
                worst[1]["p50_ms"] < TARGET_MS,
            )
        )
    return rows
