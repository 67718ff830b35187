"""`make bench`'s report: the targets it judges and the Markdown it writes (bench/run.py)."""

from bench.run import cpu_reference_ms, markdown, verdicts


def entry(rps, failures=0):
    timings = dict(p50_ms=10, p95_ms=20, p99_ms=30, avg_ms=11.0, max_ms=40.0)
    return dict(requests=int(rps * 60), failures=failures, rps=rps, **timings)


def database(vendor, loop_rps, floor_rps, study_ms, locked=0):
    page = {"median_ms": 1.0, "min_ms": 1.0, "max_ms": 1.0, "n": 30, "queries": 4}
    return {
        "vendor": vendor,
        "loop": {
            "total": entry(loop_rps),
            "requests": {"study GET": entry(loop_rps / 2), "review POST": entry(loop_rps / 2)},
            "errors": [],
            "database_is_locked": locked,
        },
        "floor": {"total": entry(floor_rps), "requests": {}, "errors": [], "database_is_locked": 0},
        "ratio": round(loop_rps / floor_rps, 3),
        "errors": 0,
        "database_is_locked": locked,
        "pages": {
            "study page": {**page, "median_ms": study_ms},
            "review POST": page,
            "dashboard": page,
            "stats page": page,
        },
        "explain": [{"full_scans": []}],
        "optimizer": None,
    }


def result(*databases):
    return {
        "finished": "2026-11-28T16:00:00+00:00",
        "machine": "x86_64 (test CPU), 2 cores, Python 3.11",
        "cpu_reference_ms": {"before": 55.0, "after": 57.5},
        "parameters": dict(
            users=20,
            cards=20000,
            reviews=1000000,
            seed=1,
            workers=3,
            threads=2,
            clients=20,
            duration=60.0,
        ),
        "databases": list(databases),
    }


def test_verdicts_judge_each_target_per_database():
    run = result(database("sqlite", 150, 250, 4.0), database("postgresql", 100, 250, 6.0, 2))
    judged = {name: (value, ok) for name, value, ok in verdicts(run)}
    assert judged["sqlite: loop/floor ≥ 50%"] == ("60%", True)
    assert judged["postgresql: loop/floor ≥ 50%"] == ("40%", False)
    assert judged["sqlite: study page p50 < 5 ms"] == ("4.0 ms", True)
    assert judged["postgresql: study page p50 < 5 ms"] == ("6.0 ms", False)
    assert judged['postgresql: "database is locked" = 0'] == ("2", False)


def test_markdown_reports_ratio_machine_and_unmet_targets():
    report = markdown(result(database("sqlite", 150, 250, 6.5)))
    assert "- sqlite: **60%**" in report
    assert "55.0 ms before the run, 57.5 ms after" in report
    assert "x86_64 (test CPU), 2 cores" in report
    assert "| sqlite: study page p50 < 5 ms | 6.5 ms | **no** |" in report
    assert "| sqlite: loop/floor ≥ 50% | 60% | yes |" in report


def test_cpu_reference_is_a_positive_time():
    assert 0 < cpu_reference_ms() < 10_000
