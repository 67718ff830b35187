"""Instructions per review-loop step, counted by valgrind's callgrind: `make bench-instructions`.

    python -m bench.instructions [--pairs 40]

Timings on a shared 2-core machine move by a third between runs; instruction counts do not
(the same code on the same data gives the same count to 0.1%, whatever else runs). So code
changes to the loop are compared by this count: on the SQLite bench dataset, in process
(Django's test client, production settings), the instructions of GET /study/ + POST a rating,
and of one floor POST, each as (count after N + warm-up) - (count after warm-up alone), / N.
SQLite runs inside the process, so its work is counted; a PostgreSQL server's is not, which is
why this measures SQLite only. Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.run import BIN, DATA, ROOT, base_env, dataset_key, log, prepare_sqlite

WARM_UP = 20
USER = "bench0003"
COLLECTED = re.compile(r"Collected : (\d+)")


def child(scenario: str, count: int) -> None:
    """Run in the measured process: `count` loop pairs or floor POSTs after the warm-up."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studyapp.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    token_re = re.compile(r'name="token" value="([^"]+)"')
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=USER))

    def step():
        if scenario == "floor":
            assert client.post("/bench/floor").status_code == 200
            return
        page = client.get("/study/").content.decode()
        data = {"token": token_re.search(page).group(1), "rating": "4", "duration_ms": "5000"}
        assert client.post("/study/review/", data).status_code == 302

    for _ in range(WARM_UP + count):
        step()


def instructions(env: dict, scenario: str, count: int, work: Path) -> int:
    """Instructions of a fresh process on a fresh copy of the dataset doing `count` steps."""
    database = Path(env["SQLITE_PATH"])
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(work, database)
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        BIN / "python",
        "-m",
        "bench.instructions",
        "--child",
        scenario,
        str(count),
    ]
    done = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=True
    )
    return int(COLLECTED.search(done.stderr).group(1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Instructions per review-loop step (callgrind).")
    parser.add_argument("--pairs", type=int, default=40, help="Measured steps per scenario.")
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    dataset = argparse.Namespace(users=20, cards=20_000, reviews=1_000_000, seed=1)
    with tempfile.TemporaryDirectory(prefix="studyapp-instructions-") as name:
        tmp = Path(name)
        env = base_env(tmp)
        subprocess.run(
            [BIN / "python", "manage.py", "collectstatic", "--noinput", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=300,
        )
        env = prepare_sqlite(env, dataset, dataset_key(dataset))
        work = tmp / "dataset.sqlite3"
        shutil.copyfile(DATA / "run.sqlite3", work)
        for scenario, what in (("loop", "GET /study/ + POST a rating"), ("floor", "floor POST")):
            log(f"callgrind: {scenario}, {args.pairs} steps after {WARM_UP} (a few minutes)")
            base = instructions(env, scenario, 0, work)
            total = instructions(env, scenario, args.pairs, work)
            per_step = (total - base) / args.pairs
            print(f"{what}: {per_step / 1e6:.2f} M instructions", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
