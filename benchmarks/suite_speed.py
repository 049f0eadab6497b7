"""Print how long exercise 10.3 (the learner's own test suite) takes: check("10.3") in a kernel, and grading a class.

Usage: python benchmarks/suite_speed.py [--students N]

check("10.3") runs the suite four times (as written, in other words, two broken Bookshelves) in two warm workers of its
own. Grading runs each distinct suite through the grader's SuiteService: four public runs, and four hidden ones for a
suite whose public checks pass. The class is N chapter 10 notebooks whose suites differ by a comment, so no run is
shared; half of them pass, half have a test that fails on every Bookshelf (they fail the public checks).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import submissions as make  # noqa: E402
from helpers import folder_at_check, run  # noqa: E402
from workbook import chapters  # noqa: E402
from workbook.__main__ import main  # noqa: E402


def time_check(runs: int) -> list[float]:
    """Time check("10.3") on a solved folder, through the kernel's warm worker, `runs` times."""
    seconds = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = folder_at_check(Path(scratch), chapters.exercise("10.3"))
        for _ in range(runs):
            started = time.perf_counter()
            passed, text = run(folder, "10.3")
            seconds.append(time.perf_counter() - started)
            assert passed, text
    return seconds


def time_grading(students: int) -> float:
    """Grade a class of chapter 10 notebooks with distinct suites, -j 2; return the seconds."""
    name = chapters.chapter("10").filename
    solved = make.notebook("10", solved=True)
    auth_tests = make.cell_text(solved, "10.3")
    with tempfile.TemporaryDirectory() as scratch:
        submissions = Path(scratch) / "submissions"
        for number in range(students):
            text = f"# student {number}\n" + auth_tests
            if number % 2:
                text += "\n\ndef test_a_wish():\n    assert 1 + 1 == 3\n"
            make.write_student(submissions, f"s{number:02}", {name: make.with_answer(solved, "10.3", text)})
        started = time.perf_counter()
        assert main(["grade", str(submissions), "--out", str(Path(scratch) / "out"), "-j", "2"]) == 0
        return time.perf_counter() - started


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6)
    students = parser.parse_args().students
    seconds = time_check(3)
    print(f'check("10.3") on a solved folder: median {statistics.median(seconds):.1f} s '
          f'(runs: {", ".join(f"{s:.1f}" for s in seconds)})')
    graded = time_grading(students)
    print(f"grading {students} chapter 10 notebooks with distinct suites (-j 2): {graded:.1f} s, "
          f"{graded / students:.1f} s per student")


if __name__ == "__main__":
    main_()
