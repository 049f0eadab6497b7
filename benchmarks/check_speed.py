"""Print how long check() takes: every exercise on its chapter's reference Bookshelf (warm worker, median of 3),
then the worker's start-up: cold, after start_chapter(), warm vs a fresh interpreter, small app vs the full stack.

    python benchmarks/check_speed.py                   # the table of every exercise, then the start-up figures
    python benchmarks/check_speed.py --only 05.1,05.4  # those exercises only
    python benchmarks/check_speed.py --runs 5 --table-only

Goal (issue 22): every exercise's median at most 1 s, the median exercise at most 250 ms (quiet machine).
"""

import argparse
import contextlib
import importlib.util
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from workbook import chapters, check, reference, runner, start_chapter
from workbook.errors import CheckFailed

EXTENSIONS = {  # module: the line that binds it in the factory
    "flask_sqlalchemy": "SQLAlchemy(app)",
    "flask_migrate": None,
    "flask_login": "LoginManager(app).user_loader(lambda user_id: None)",
    "flask_wtf": "CSRFProtect(app)",
    "flask_mail": "Mail(app)",
    "flask_principal": "Principal(app)",
    "flask_restx": 'Api(app, doc="/api/docs")',
}
STACK = {"flask_sqlalchemy": "SQLAlchemy", "flask_migrate": "Migrate", "flask_login": "LoginManager",
         "flask_wtf": "CSRFProtect", "flask_mail": "Mail", "flask_principal": "Principal", "flask_restx": "Api"}
GOAL_MAX, GOAL_MEDIAN = 1.0, 0.25


def solved_chapter01(folder: Path) -> None:
    """Write Bookshelf as it stands at the end of chapter 01."""
    reference.build(folder, "01")


def add_extension_stack(folder: Path) -> list[str]:
    """Make the factory import and bind every installed extension; return their names."""
    present = [name for name in STACK if importlib.util.find_spec(name)]
    lines = [f"from {name} import {STACK[name]}" for name in present]
    lines += ["", "", "def bind_all(app):", '    """Bind every extension to the app."""',
              '    app.config.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite:///:memory:")']
    for name in present:
        call = EXTENSIONS[name]
        if call:
            lines.append(f"    {call}")
    (folder / "bookshelf" / "stack.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    init = folder / "bookshelf" / "__init__.py"
    init.write_text(
        init.read_text(encoding="utf-8").replace(
            "    return app\n", "    from .stack import bind_all\n\n    bind_all(app)\n    return app\n"
        ),
        encoding="utf-8",
    )
    return present


def timed_check(exercise_id: str) -> tuple[float, bool]:
    """Run check(exercise_id) in the current folder; return its time in seconds and whether it passed."""
    start = time.perf_counter()
    passed = True
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            check(exercise_id)
        except CheckFailed:
            passed = False
    return time.perf_counter() - start, passed


def timed_checks(exercise_id: str, runs: int) -> list[float]:
    return [timed_check(exercise_id)[0] for _ in range(runs)]


def report(label: str, times: list[float]) -> None:
    print(f"{label:<52} median {statistics.median(times) * 1000:7.0f} ms"
          f"   min {min(times) * 1000:5.0f}   max {max(times) * 1000:5.0f}   (n={len(times)})")


def exercise_table(runs: int, only: set[str] | None) -> bool:
    """Time every exercise's check on its chapter's reference Bookshelf; print the table; return whether all passed."""
    print(f"check() of every exercise on its chapter's reference Bookshelf, warm worker, median of {runs}\n")
    print(f"{'exercise':<10}{'median ms':>10}{'min':>8}{'max':>8}  verdict")
    medians: dict[str, float] = {}
    all_passed = True
    runner.warm_up()
    for chapter in chapters.all_chapters():
        wanted = [e.id for e in chapter.exercises if only is None or e.id in only]
        if not wanted:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            reference.build(folder, chapter.number)
            os.chdir(folder)
            for exercise_id in wanted:
                if not medians:
                    timed_check(exercise_id)  # untimed: the worker finishes starting (its imports) on the first
                timed = [timed_check(exercise_id) for _ in range(runs)]
                times = [seconds for seconds, _ in timed]
                passed = all(ok for _, ok in timed)
                all_passed = all_passed and passed
                medians[exercise_id] = statistics.median(times)
                over = "  over 1 s" if medians[exercise_id] > GOAL_MAX else ""
                print(f"{exercise_id:<10}{medians[exercise_id] * 1000:10.0f}{min(times) * 1000:8.0f}"
                      f"{max(times) * 1000:8.0f}  {'passed' if passed else 'FAILED'}{over}", flush=True)
            os.chdir(tempfile.gettempdir())
    if medians:
        slowest = max(medians, key=medians.get)
        middle = statistics.median(medians.values())
        print(f"\n{len(medians)} exercises: median {middle * 1000:.0f} ms (goal {GOAL_MEDIAN * 1000:.0f}), "
              f"max {medians[slowest] * 1000:.0f} ms ({slowest}; goal {GOAL_MAX * 1000:.0f} ms, 10.3 aside)")
        print(f"load average when done: {', '.join(f'{load:.2f}' for load in os.getloadavg())}\n")
    return all_passed


def start_up(runs: int) -> None:
    """The worker's start-up and warm figures for check('01.1'), small app and full extension stack."""
    print(f"check('01.1'), {runs} runs each\n")
    with tempfile.TemporaryDirectory() as small, tempfile.TemporaryDirectory() as full:
        small, full = Path(small), Path(full)
        for folder in (small, full):
            solved_chapter01(folder)
        present = add_extension_stack(full)
        print(f"full stack app binds: {', '.join(present)}\n")

        os.chdir(small)
        runner._worker.stop()
        start = time.perf_counter()
        timed_checks("01.1", 1)
        report("first check, worker started cold", [time.perf_counter() - start])
        runner._worker.stop()
        (small / "01_flask.ipynb").write_text("{}", encoding="utf-8")
        with contextlib.redirect_stdout(io.StringIO()):
            start_chapter("01")  # starts the worker in the background, as a chapter's set-up cell does
        # a learner reads the chapter's first cells before the first check: a few seconds at least
        time.sleep(3)
        report("first check, 3 s after start_chapter()", timed_checks("01.1", 1))
        for label, folder in (("warm worker, chapter 01 app", small), ("warm worker, full extension stack", full)):
            os.chdir(folder)
            report(label, timed_checks("01.1", runs))

        os.environ["WORKBOOK_WARM_WORKER"] = "0"
        try:
            for label, folder in (("fresh interpreter, chapter 01 app", small),
                                  ("fresh interpreter, full extension stack", full)):
                os.chdir(folder)
                report(label, timed_checks("01.1", max(3, runs // 3)))
        finally:
            del os.environ["WORKBOOK_WARM_WORKER"]
            os.chdir(tempfile.gettempdir())
        runner._worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per exercise (the median is shown); default 3")
    parser.add_argument("--only", help="comma-separated exercise ids, like 05.1,05.4")
    parser.add_argument("--table-only", action="store_true", help="skip the start-up figures of check('01.1')")
    parser.add_argument("--startup-runs", type=int, default=15, help="runs of each warm start-up figure; default 15")
    options = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load average {', '.join(f'{load:.2f}' for load in os.getloadavg())}\n")
    only = set(options.only.split(",")) if options.only else None
    all_passed = exercise_table(options.runs, only)
    if not options.table_only:
        start_up(options.startup_runs)
    runner._worker.stop()
    if not all_passed:
        sys.exit("some check failed on the reference Bookshelf: its time says nothing")


if __name__ == "__main__":
    main()
