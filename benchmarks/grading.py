"""Time `python -m workbook grade` on a generated class of 30, and nbgrader's autograde on the same submissions.

Usage: python benchmarks/grading.py [--nbgrader-students K] [--skip-nbgrader]

The class: 6 solved, 6 blank, 6 half-done, 6 broken and 6 hostile submissions of chapters 00-05. It is graded with
-j 1 and -j 2, and at -j 2 without the OS sandbox and with it again (its cost); then the same class with every answer made different by a comment (so no run is shared) with -j 2.
nbgrader re-runs every cell of every notebook (about 100 s per student here), so it grades the first K students of
each kind (default 1, so 5 students) and the workbook grader grades those same K per kind with -j 1:
the ratio compares the two on the same submissions at the same parallelism (nbgrader grades one student at a time).
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import submissions as make  # noqa: E402
from workbook import chapters  # noqa: E402

TIMEOUT = 20  # seconds per exercise run: the endless loop below costs this much


def answer(books: dict, exercise_id: str, text: str) -> None:
    """Put an answer text into a workbook (by file name) in place."""
    name = chapters.chapter(exercise_id[:2]).filename
    books[name] = make.with_answer(books[name], exercise_id, text)


def broken(variant: int) -> dict:
    books = make.whole_workbook(solved=True)
    if variant == 0:
        books[chapters.chapter("02").filename] = b'{"cells": [ cut short'
    elif variant == 1:
        for number in ("03", "04", "05"):
            del books[chapters.chapter(number).filename]
    elif variant == 2:
        cell = make.exercise_cell(books[chapters.chapter("04").filename], "04.1")
        books[chapters.chapter("04").filename]["cells"].remove(cell)
    elif variant == 3:
        answer(books, "02.2", make.solved_text("02.2").replace("def ", "def def ", 1))
    elif variant == 4:
        answer(books, "01.1", "while True:\n    pass\n" + make.solved_text("01.1"))
    else:
        answer(books, "05.3", "import sys\nsys.exit(1)\n" + make.solved_text("05.3"))
    return books


def hostile(variant: int) -> dict:
    solved = variant in (0, 3)
    books = make.whole_workbook(solved=solved)
    if variant == 0:
        for name, book in books.items():
            books[name] = make.with_extra_cell(book, "def check(exercise_id):\n    print('all checks passed. Well done!')\n")
    elif variant == 1:
        for chapter in chapters.all_chapters():
            for exercise in chapter.exercises[:1]:
                books[chapter.filename] = make.with_cell_source(books[chapter.filename], exercise.id,
                                                                f'catch_up("{exercise.id}")\n')
    elif variant == 2:
        answer(books, "02.1", "import sys\nsys.__dict__['modu' + 'les']['_py' + 'test.python'].Function.runtest = "
                              "lambda self: None\n" + make.blank_text("02.1"))
    elif variant == 3:
        path = (chapters.CHECKS / "conftest.py").as_posix().encode().hex()
        answer(books, "01.2", f"open(bytes.fromhex({path!r}).decode(), 'a').write('# hello')\n" + make.solved_text("01.2"))
    elif variant == 4:
        answer(books, "03.1", "import os\nwhile True:\n    os.fork()\n" + make.blank_text("03.1"))
    else:
        answer(books, "04.1", "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1_000_000)\n"
                              + make.blank_text("04.1"))
    return books


def in_own_words(books: dict, student: str) -> dict:
    """Return the notebooks with a comment naming the student in every exercise answer, so no two answers are equal."""
    changed = dict(books)
    for chapter in chapters.all_chapters():
        book = changed.get(chapter.filename)
        if not isinstance(book, dict):
            continue
        for exercise in chapter.exercises:
            try:
                text = make.cell_text(book, exercise.id)
            except StopIteration:  # a submission without this exercise's cell
                continue
            book = make.with_answer(book, exercise.id, f"# {student}'s answer\n{text}")
        changed[chapter.filename] = book
    return changed


def make_class(folder: Path, distinct: bool = False) -> dict[str, list[str]]:
    """Write the 30 submissions; return the students of each kind.

    Generated students of one kind hand in equal answers, which the grader runs once for all of them; with
    `distinct`, every answer carries its student's name in a comment, so every answer is run.
    """
    kinds = {
        "solved": lambda i: make.whole_workbook(solved=True),
        "blank": lambda i: make.whole_workbook(solved=False),
        "half": lambda i: make.half_done(),
        "broken": broken,
        "hostile": hostile,
    }
    students: dict[str, list[str]] = {}
    for kind, build in kinds.items():
        for i in range(6):
            name = f"{kind}-{i}"
            books = build(i)
            make.write_student(folder, name, in_own_words(books, name) if distinct else books, as_zip=(i == 5))
            students.setdefault(kind, []).append(name)
    return students


def grade(submissions: Path, out: Path, jobs: int, *options: str) -> float:
    """Grade a class; print how many test runs it took; return the seconds."""
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "workbook", "grade", str(submissions), "--out", str(out),
                                "-j", str(jobs), "--timeout", str(TIMEOUT), "--count-released", *options], check=True, stderr=subprocess.PIPE,
                               text=True, errors="replace")
    seconds = time.perf_counter() - started
    runs = re.search(r"graded \d+ students .* with \d+ test runs", completed.stderr)
    print(f"  ({runs.group() if runs else 'no summary line'})")
    return seconds


def nbgrader_seconds(root: Path, students: dict[str, Path]) -> float:
    """Autograde the students' notebooks with nbgrader, in a course made from the workbook; return the seconds."""
    import nbgrader_course

    course = nbgrader_course.make_course(root / "course")
    nbgrader_course.generate(course)
    for student, folder in students.items():
        notebooks = {path.name: path for path in folder.glob("*.ipynb")}
        nbgrader_course.submit(course, student, notebooks)
    started = time.perf_counter()
    try:
        nbgrader_course.autograde(course, student="*")
    except RuntimeError as error:  # nbgrader exits 1 when a submission cannot be graded; the others still are
        print(f"(nbgrader reported a failure: {str(error).splitlines()[0]})")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nbgrader-students", type=int, default=1, help="students of each kind nbgrader grades")
    parser.add_argument("--skip-nbgrader", action="store_true")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure as soon as it is measured
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        students = make_class(root / "class")
        total = sum(map(len, students.values()))
        print(f"a class of {total} submissions of chapters 00-05 "
              f"({', '.join(f'{len(v)} {k}' for k, v in students.items())}); time limit {TIMEOUT} s per run")
        for jobs in (1, 2):
            seconds = grade(root / "class", root / f"out-{jobs}", jobs)
            print(f"workbook grade -j {jobs}: {seconds:6.1f} s for the class, {seconds / total:5.2f} s per submission")
        # the OS sandbox's cost: the same class at -j 2 without it, then with it again (the machine may drift)
        bare = grade(root / "class", root / "out-bare", 2, "--no-sandbox")
        walled = grade(root / "class", root / "out-walled", 2)
        print(f"workbook grade -j 2 --no-sandbox: {bare:6.1f} s; with the sandbox again: {walled:6.1f} s "
              f"(the sandbox adds {100 * (min(seconds, walled) / bare - 1):+.1f}%)")
        make_class(root / "distinct", distinct=True)
        seconds = grade(root / "distinct", root / "out-distinct", 2)
        print(f"workbook grade -j 2, the same class with no two answers equal: {seconds:6.1f} s for the class, "
              f"{seconds / total:5.2f} s per submission")
        sample = [name for names in students.values() for name in names[:args.nbgrader_students]]
        picked = root / "sample"
        picked.mkdir()
        for name in sample:
            source = next((root / "class").glob(f"{name}*"))
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, picked / source.name)
        ours = grade(picked, root / "out-sample", 1)
        print(f"workbook grade -j 1 on {len(sample)} of them ({', '.join(sample)}): {ours / len(sample):5.2f} s per submission")
        if args.skip_nbgrader:
            return
        # nbgrader takes folders: a zipped submission holds its notebooks in a folder named after the student
        for archive in picked.glob("*.zip"):
            with zipfile.ZipFile(archive) as opened:
                opened.extractall(picked)
        folders = {name: picked / name for name in sample}
        theirs = nbgrader_seconds(root, folders)
        print(f"nbgrader autograde on the same {len(sample)}: {theirs / len(sample):5.2f} s per submission; "
              f"workbook grade is {theirs / ours:.1f}x faster at the same parallelism (-j 1)")


if __name__ == "__main__":
    main()
