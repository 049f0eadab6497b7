"""`python -m workbook grade`: honest verdicts for a class, and none for a submission that cheats or breaks."""

import csv
import html
import re
import sys
from pathlib import Path

import pytest

from helpers import ALL_EXERCISES
from submissions import (blank_text, cell_text, notebook, solved_text, whole_workbook, with_answer, with_cell_source,
                         with_extra_cell, write_student)
from workbook import chapters, grading
from workbook.grading.judge import hidden_tests
from workbook.__main__ import main

CHAPTER_01 = chapters.chapter("01").filename
# exercises whose answer is a test suite, which the grader's SuiteService runs
SUITES = {e for c in chapters.all_chapters() for e in chapters.declared(c.check_file(), "SUITES", [])}
assert SUITES == {"10.3"}
HIDDEN_01 = (chapters.HIDDEN / "test_01_flask.py").read_text(encoding="utf-8")
# a public test of 01.1 that the hidden file lacks: how a submission could tell which run it is in
PUBLIC_ONLY = "def test_book_page_shows_the_book"
assert PUBLIC_ONLY not in HIDDEN_01

# module-level code a student puts in front of 01.1's answer; {other} is another student's notebook
HOSTILE = {
    "patches_callinfo": ("import sys\nrunner = sys.__dict__['modu' + 'les']['_py' + 'test.runner']\n"
                         "runner.CallInfo.from_call = classmethod(lambda cls, *a, **k: None)\n"),
    "patches_runtest": ("import sys\npython = sys.__dict__['modu' + 'les']['_py' + 'test.python']\n"
                        "python.Function.runtest = lambda self: None\n"),
    "rebinds_pytest_function": ("import sys\nrunner = sys.__dict__['modu' + 'les']['_py' + 'test.runner']\n"
                                "real = runner.call_and_report\n"
                                "def call_and_report(item, when, log=True, **kw):\n"
                                "    item.runtest = lambda: None\n"
                                "    return real(item, when, log, **kw)\n"
                                "runner.call_and_report = call_and_report\n"),
    "plain_import_of_pytest": "import _pytest.runner\n_pytest.runner.CallInfo.from_call = None\n",
    "appends_to_conftest": (f"with open(bytes.fromhex({str(chapters.CHECKS / 'conftest.py').encode().hex()!r}).decode(), 'a') as f:\n"
                            "    f.write('\\ndef py' + 'test_runtest_call(item):\\n    item.runtest = lambda: None\\n')\n"),
    "writes_into_the_library": ("import sys, pathlib\nlibrary = pathlib.Path(sys.__dict__['modu' + 'les']['work' + 'book']"
                                ".__file__).parent\n(library / 'learner.py').write_text('')\n"),
    "reads_the_solutions": f"ANSWER = open({str(chapters.SOLUTIONS / CHAPTER_01)!r}).read()\n",
    "reads_another_submission": "ANSWER = open(bytes.fromhex({other!r}).decode()).read()\n",
    "sets_pytest_addopts": "import os\nos.environ['PYTEST_ADDOPTS'] = '-p no:terminal --co'\n",
    "forks_forever": "import os\nwhile True:\n    os.fork()\n",
    "loops_forever": "while True:\n    pass\n",
    "exits": "import sys\nsys.exit(0)\n",
    "ends_the_process": "import os\ngetattr(os, '_ex' + 'it')(0)\n",
    "raises_a_lone_surrogate": "raise RuntimeError(chr(0xD800))\n",
    "eats_memory": "HOARD = bytearray(8 << 30)\n",
    "prints_100_mb": "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1_000_000)\n",
    "takes_a_frame": ("try:\n    raise ValueError\nexcept ValueError as error:\n"
                      "    frame = getattr(error.__traceback__, 'tb_' + 'frame')\n"),
    "logging_hands_a_frame": "import logging\nframe = getattr(logging, 'current' 'frame')()\n",
    "registers_a_plugin": ("import os\nmodules = vars(getattr(os, 'sy' 's'))['mod' 'ules']\n"
                           "config = vars(modules['_py' 'test.assertion.util'])['_con' 'fig']\n"
                           "class Quiet:\n    def pytest_runtest_makereport(self, item, call):\n        call.excinfo = None\n"
                           "if config is not None:\n    getattr(config, 'plugin' 'manager').register(Quiet())\n"),
    "opens_a_folder_for_dir_fd": (f"import os\nroot = os.open({str(chapters.ROOT)!r}, os.O_RDONLY)\n"
                                  "TEXT = os.read(os.open('tests/hid' 'den/test_01_flask.py', os.O_RDONLY, dir_fd=root), 99)\n"),
    "climbs_out_with_dots": ("import os\nhere = os.open('.', os.O_RDONLY)\n"
                             "os.open('../../../x', os.O_WRONLY | os.O_CREAT, dir_fd=here)\n"),
    "writes_a_database_elsewhere": "import sqlite3\nsqlite3.connect('/tmp/elsewhere.sqlite').execute('create table t (x)')\n",
    "starts_a_thread": "import threading\nthreading.Thread(target=print).start()\n",
    "names_a_frame": "try:\n    raise ValueError\nexcept ValueError as error:\n    frame = error.__traceback__.tb_frame\n",
}
# hostile code in front of a correct answer: the points would be earned, but the run is void
HOSTILE_BUT_SOLVED = {"appends_to_conftest", "patches_callinfo", "rebinds_pytest_function"}
# smuggles the hidden tests out through an exception message, in the hidden run only
SMUGGLER = (
    "import glob, os\n"
    "def _smuggle():\n"
    "    text = open(glob.glob(os.path.dirname(os.getcwd()) + '/tests/test_*.py')[0]).read()\n"
    f"    if {PUBLIC_ONLY!r} not in text:\n"
    "        raise RuntimeError(text[:3000])\n"
)


def text_of(page: str) -> str:
    """Return a feedback page's text as a browser shows it: no tags, entities read, runs of spaces as one."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.split("</style>")[-1])).split())


def grades(out: Path) -> dict[tuple[str, str], dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as stream:
        return {(row["student"], row["exercise"]): row for row in csv.DictReader(stream)}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Grade one class of chapter 01 submissions: honest, blank, broken and hostile students."""
    root = tmp_path_factory.mktemp("class")
    submissions, out = root / "submissions", root / "out"
    solved, blank = notebook("01", solved=True), notebook("01", solved=False)
    write_student(submissions, "honest", {CHAPTER_01: solved})
    write_student(submissions, "zipped", {CHAPTER_01: solved}, as_zip=True)
    write_student(submissions, "aaa-blank-first", {CHAPTER_01: blank})
    # blank in words of its own, so that its runs are not shared with aaa-blank-first's and come after the hostile ones
    own_blank = blank
    for exercise in chapters.chapter("01").exercises:
        own_blank = with_answer(own_blank, exercise.id, "# not done yet\n" + blank_text(exercise.id))
    write_student(submissions, "zzz-blank-last", {CHAPTER_01: own_blank})
    write_student(submissions, "redefines_check", {CHAPTER_01: with_extra_cell(
        blank, "def check(exercise_id):\n    print(f'Exercise {exercise_id}: all checks passed. Well done!')\n")})
    write_student(submissions, "catches_up", {CHAPTER_01: with_cell_source(blank, "01.1", 'catch_up("01.1")\n')})
    write_student(submissions, "invalid_json", {CHAPTER_01: b'{"cells": [ this is not json'})
    write_student(submissions, "no_notebook", {"notes.txt": b"I forgot"})
    write_student(submissions, "warns", {CHAPTER_01: with_answer(
        solved, "01.1", "import warnings\nwarnings.warn('a note from the student')\n" + solved_text("01.1"))})
    write_student(submissions, "smuggles_hidden_tests", {CHAPTER_01: with_answer(
        solved, "01.1", solved_text("01.1").replace("    found = find_book(book_id)", "    _smuggle()\n    found = find_book(book_id)")
        .replace("bp = Blueprint", SMUGGLER + "\n\nbp = Blueprint"))})
    write_student(submissions, "=HYPERLINK(<script>)", {CHAPTER_01: blank})
    write_student(submissions, "lone_surrogate", {CHAPTER_01: with_answer(blank, "01.1", "# \ud800\n" + blank_text("01.1"))})
    other = str(submissions / "honest" / CHAPTER_01).encode().hex()
    for name, code in HOSTILE.items():
        answer = (solved_text if name in HOSTILE_BUT_SOLVED else blank_text)("01.1")
        write_student(submissions, name, {CHAPTER_01: with_answer(blank, "01.1", code.format(other=other) + answer)})
    guarded = (chapters.ROOT / "workbook", chapters.CHECKS, chapters.HIDDEN, chapters.SOLUTIONS, chapters.NOTEBOOKS)
    before, given = grading.tree_digest(*guarded), grading.tree_digest(submissions)
    # every chapter, so that a chapter nobody handed in is a row of `missing` for each student
    status = main(["grade", str(submissions), "--out", str(out), "-j", "2", "--timeout", "20", "--chapters", "00-11",
                   "--count-released"])
    return {"status": status, "out": out, "grades": grades(out), "unchanged": grading.tree_digest(*guarded) == before,
            "submissions_unchanged": grading.tree_digest(submissions) == given}


def feedback(graded_class, student: str) -> str:
    return (graded_class["out"] / "feedback" / f"{grading.safe_name(student)}.html").read_text(encoding="utf-8")


def test_grading_ends_well_and_changes_no_file_of_the_grader(graded_class):
    assert graded_class["status"] == 0
    assert graded_class["unchanged"], "a submission changed the workbook's own files"
    assert graded_class["submissions_unchanged"], "grading changed a submission"


def test_csv_has_one_row_per_student_and_exercise(graded_class):
    rows = graded_class["grades"]
    students = {student for student, _ in rows}
    exercises = {e.id for e in ALL_EXERCISES}
    assert {exercise for _, exercise in rows} == exercises
    assert len(rows) == len(students) * len(exercises)
    assert all(row["status"] in grading.STATUSES for row in rows.values())


@pytest.mark.parametrize("student", ["honest", "zipped", "warns"])
def test_a_solved_chapter_earns_every_point(graded_class, student):
    rows = graded_class["grades"]
    for exercise in chapters.chapter("01").exercises:
        row = rows[(student, exercise.id)]
        assert (row["status"], row["points"]) == ("passed", row["max_points"]), (exercise.id, feedback(graded_class, student))
    assert rows[(student, "02.1")]["status"] == "missing"


def test_a_warning_is_a_note_not_a_failure(graded_class):
    assert "a note from the student" in feedback(graded_class, "warns")


@pytest.mark.parametrize("student", ["aaa-blank-first", "zzz-blank-last", "redefines_check", "catches_up",
                                     "=HYPERLINK(<script>)", *HOSTILE])
def test_no_point_for_an_exercise_not_solved(graded_class, student):
    rows = graded_class["grades"]
    assert all(row["points"] == "0" for (who, _), row in rows.items() if who == student), feedback(graded_class, student)


@pytest.mark.parametrize("student", sorted(set(HOSTILE) - {"exits", "loops_forever", "ends_the_process",
                                                           "prints_100_mb", "sets_pytest_addopts", "eats_memory",
                                                           "raises_a_lone_surrogate"}))
def test_tampering_is_flagged_with_its_reason(graded_class, student):
    row = graded_class["grades"][(student, "01.1")]
    assert row["status"] == "flagged", feedback(graded_class, student)
    assert re.search(r"(stopped your code because it|your answer) \w+", feedback(graded_class, student))


@pytest.mark.parametrize(("student", "status", "words"), [
    ("loops_forever", "error", "time limit"),
    ("ends_the_process", "error", "stopped before it could report"),
    ("exits", "failed", "SystemExit: 0 (in bookshelf/main.py, line 2)"),
    ("prints_100_mb", "failed", "File too large (in bookshelf/main.py"),
    ("eats_memory", "failed", "MemoryError"),
    ("raises_a_lone_surrogate", "failed", "RuntimeError"),
    ("sets_pytest_addopts", "failed", "not started yet"),
    ("catches_up", "failed", "%%writefile bookshelf/main.py"),
    ("invalid_json", "error", "not valid JSON"),
    ("no_notebook", "missing", "No notebook for chapter 01"),
    ("lone_surrogate", "error", "cannot be saved as UTF-8 text"),
])
def test_a_broken_submission_gets_a_clear_line(graded_class, student, status, words):
    assert graded_class["grades"][(student, "01.1")]["status"] == status
    assert words in feedback(graded_class, student)


@pytest.mark.parametrize(("student", "reason"), [
    ("registers_a_plugin", "registered a pytest plugin"),
    ("patches_runtest", "replaced _pytest.python.Function.runtest"),
    ("rebinds_pytest_function", "changed what the test test_book_page_shows_the_book"),
    ("appends_to_conftest", "wrote to " + str(chapters.CHECKS / "conftest.py")),
    ("opens_a_folder_for_dir_fd", "read " + str(chapters.ROOT)),
    ("takes_a_frame", "took a stack frame"),
    ("starts_a_thread", "started a thread"),
    ("plain_import_of_pytest", "your answer uses `_pytest`"),
])
def test_each_layer_of_the_guard_gives_its_own_reason(graded_class, student, reason):
    assert reason in feedback(graded_class, student)


def test_a_blank_student_after_a_hostile_one_is_not_helped(graded_class):
    """The conftest appender ran before the last blank student: that student still earns nothing."""
    rows = graded_class["grades"]
    assert [rows[("zzz-blank-last", e.id)]["status"] for e in chapters.chapter("01").exercises] == ["failed"] * 3


def test_hidden_tests_are_counted_never_shown(graded_class):
    page = feedback(graded_class, "smuggles_hidden_tests")
    assert graded_class["grades"][("smuggles_hidden_tests", "01.1")]["status"] == "failed"
    assert re.search(r"\b0 of \d+ hidden tests passed", page)
    # what each failed hidden test checks is shown: the first line of its docstring, read by the grader itself
    described = set(hidden_tests(chapters.chapter("01").hidden_file())["01.1"].values())
    assert any(html.escape(doc) in page for doc in described)
    for line in HIDDEN_01.splitlines():
        if len(line.strip()) > 25 and line.strip().strip('"') not in described:
            assert html.escape(line.strip()) not in page and line.strip() not in page, line
    assert re.search(r"\b(\d+) of \1 hidden tests passed", feedback(graded_class, "honest"))


def test_two_ids_that_share_a_file_name_keep_a_page_each():
    assert len({grading.safe_name(name) for name in ("a b", "a_b", "a-b", "josé", "josè")}) == 5


def test_feedback_escapes_and_the_csv_keeps_an_id_as_text(graded_class):
    assert "<script>" not in feedback(graded_class, "=HYPERLINK(<script>)")
    assert ("'=HYPERLINK(<script>)", "01.1") in graded_class["grades"]


def test_public_verdict_is_the_learners_own(graded_class):
    """The feedback for a public check is what check() prints in the notebook."""
    page = feedback(graded_class, "aaa-blank-first")
    assert "Exercise 01.1: not started yet. bookshelf/main.py, line" in page
    assert "Exercise 01.1: all 4 checks passed. Well done!" in feedback(graded_class, "honest")


def test_the_whole_workbook_solved_earns_everything_and_blank_nothing(tmp_path):
    """Every chapter's answers, hidden tests included, pass through the grader; the blank workbook earns 0."""
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    write_student(submissions, "solved", whole_workbook(solved=True))
    write_student(submissions, "blank", whole_workbook(solved=False))
    assert main(["grade", str(submissions), "--out", str(out), "-j", "2", "--count-released"]) == 0
    rows = grades(out)
    for exercise in ALL_EXERCISES:
        assert rows[("solved", exercise.id)]["status"] == "passed", (exercise.id, (out / "feedback" / "solved.html").read_text())
        assert rows[("blank", exercise.id)]["status"] == "failed", exercise.id
        assert rows[("blank", exercise.id)]["points"] == "0"


def test_equal_answers_share_a_run_and_its_verdict(tmp_path, capsys):
    """Two students with the same answer get one run; a third whose answer differs by one word gets a run of its own."""
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    solved = notebook("00", solved=True)
    name = chapters.chapter("00").filename
    write_student(submissions, "first", {name: solved})
    write_student(submissions, "same", {name: solved})
    write_student(submissions, "wrong", {name: with_answer(solved, "00.1", solved_text("00.1").replace("Welcome to Bookshelf!", "Welcome!"))})
    assert main(["grade", str(submissions), "--out", str(out), "-j", "2"]) == 0
    rows = grades(out)
    assert [rows[(student, "00.1")]["status"] for student in ("first", "same", "wrong")] == ["passed", "passed", "failed"]
    # public runs: the shared answer and the wrong one; hidden: the shared answer, once
    assert "with 3 test runs in" in capsys.readouterr().err


def test_an_exercise_that_builds_on_a_failing_one_says_so(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    book = with_answer(notebook("01", solved=True), "01.1", blank_text("01.1"))
    write_student(submissions, "student", {CHAPTER_01: book})
    assert main(["grade", str(submissions), "--out", str(out), "-j", "2"]) == 0
    rows = grades(out)
    assert [rows[("student", e)]["status"] for e in ("01.1", "01.2", "01.3")] == ["failed", "passed", "failed"]
    assert "Exercise 01.3 builds on 01.1, which does not pass: fix it first." in (out / "feedback" / "student.html").read_text()


def test_a_missing_folder_is_one_sentence(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 1
    assert "is not a folder of submissions" in capsys.readouterr().err


def test_no_reference_answer_is_screened_out():
    """The screen for grader-reaching names passes every answer and every given cell of the workbook."""
    for chapter in chapters.all_chapters():
        for book in (notebook(chapter.number, solved=True), notebook(chapter.number, solved=False)):
            for cell in book["cells"]:
                written = chapters.writefile_cell(cell) if cell["cell_type"] == "code" else None
                if written:  # the learner's own test suite (tests/) is screened as one: it may name pytest
                    assert grading.screen(written[1], written[0].startswith("tests/")) == "", chapters.source(cell)[:200]


def test_correct_answers_in_other_words_are_not_screened_out():
    """Every CORRECT answer of tests/answers passes the screen: it never fails an answer for its words."""
    from test_answers import cases

    checked = 0
    for param in cases("CORRECT"):
        exercise_id, answer = param.values
        parts = answer.values() if isinstance(answer, dict) else answer if isinstance(answer, tuple) else (answer,)
        for part in parts:
            assert grading.screen(part, exercise_id in SUITES) == "", part[:200]
            checked += 1
    assert checked >= 2 * len(ALL_EXERCISES)


@pytest.mark.parametrize("code", [
    "import pytest", "from _pytest import runner", "import gc", "x = __import__('os')", "exec('1')",
    "import sys\nsys.modules['x'] = 1", "getattr(error, '__globals__')", "import importlib",
    "import os\nos._exit(0)", "frame = error.__traceback__.tb_frame",
])
def test_the_screen_catches_the_plain_ways_into_the_grader(code):
    assert grading.screen(code)


def test_the_screen_ignores_comments_docstrings_and_attribute_calls():
    text = '"""Seed data for the workbook, checked by pytest."""\n# checked with pytest\nfrom re import compile\n'
    assert grading.screen(text + "pattern = compile('x')\nvalue = obj.eval\n") == ""


def test_chapter_06s_hidden_tests_send_to_the_graders_real_mail_server(tmp_path):
    """A graded run may not start a server: the grader's own records each connection, and refuses or hangs up where
    a test asks. A digest sent over one connection per member, and a deliver() that catches only a refused
    connection, fail the public checks; with --partial their hidden tests run too, and fail there as well."""
    from answers.answers_06_mail import HIDDEN
    from test_answers import with_answer as files_with_answer

    def answered(book, exercise_id, answer):
        (text,) = files_with_answer(chapters.exercise(exercise_id), answer).values()
        return with_answer(book, exercise_id, text)

    solved = notebook("06", solved=True)
    name = chapters.chapter("06").filename
    per_member = next(text for number, text in HIDDEN if number == "06.3" and "for member in members:\n        mail" in text)
    refused_only = next(text for number, text in HIDDEN if number == "06.1")
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    write_student(submissions, "solved", {name: solved})
    write_student(submissions, "half", {name: answered(answered(solved, "06.3", per_member), "06.1", refused_only)})
    assert main(["grade", str(submissions), "--out", str(out), "-j", "2", "--partial"]) == 0
    rows = grades(out)
    assert [rows[("solved", e)]["status"] for e in ("06.1", "06.3")] == ["passed", "passed"]
    assert [rows[("half", e)]["status"] for e in ("06.1", "06.3")] == ["failed", "failed"]
    def hidden_line(student, exercise):
        section = text_of((out / "feedback" / f"{student}.html").read_text()).split(f"Exercise {exercise}:")[1]
        return re.search(r"Hidden tests: (.*?hidden tests passed\.)", section).group(1)

    assert [hidden_line("solved", e) for e in ("06.1", "06.3")] == [
        "1 of 1 hidden tests passed.", "2 of 2 hidden tests passed."]
    # a parametrised test counts once: every refusal must be survived
    assert [hidden_line("half", e) for e in ("06.1", "06.3")] == [
        "0 of 1 hidden tests passed.", "1 of 2 hidden tests passed."]


# chapter 10's last exercise is a test suite: the grader's SuiteService runs it, each run under the guard
SUITE_OF_OWN = {
    # opens another student's notebook from a test
    "suite_peeks": "\n\ndef test_peek():\n    assert open(bytes.fromhex({other!r}).decode()).read()\n",
    "suite_runs_a_shell": "\n\nimport os\n\n\ndef test_shell():\n    assert os.system('true') == 0\n",
    # makes every test pass, whatever it asserts
    "suite_patches_pytest": "\n\nimport pytest\n\npytest.Function.runtest = lambda self: None\n",
    "suite_reads_the_source": ("\n\nimport inspect\n\nfrom bookshelf import passwords\n\n\ndef test_source():\n"
                               "    assert 'check_password_hash' in inspect.getsource(passwords)\n"),
    # a change detector: it passes on the reference's exact source, and so fails on every other Bookshelf
    "suite_fingerprints": ("\n\nimport hashlib\nimport pathlib\n\nimport bookshelf\n\n\ndef test_unchanged():\n"
                           "    root = pathlib.Path(bookshelf.__file__).parent\n"
                           "    found = hashlib.sha256(b''.join(p.read_bytes() for p in sorted(root.rglob('*.py'))))\n"
                           "    assert found.hexdigest() == {digest!r}\n"),
    "suite_loops_forever": "\n\ndef test_forever():\n    while True:\n        pass\n",
}


def reference_digest(tmp_path) -> str:
    """Return the digest suite_fingerprints asks for: the reference Bookshelf's sources, in path order."""
    import hashlib

    from workbook import suite

    suite.reference_bookshelf(tmp_path, "10")
    paths = sorted((tmp_path / "bookshelf").rglob("*.py"))
    return hashlib.sha256(b"".join(path.read_bytes() for path in paths)).hexdigest()


@pytest.fixture(scope="module")
def graded_suites(tmp_path_factory):
    """Grade a class of chapter 10 submissions whose test suites are honest, blank, or reach for what they may not."""
    root = tmp_path_factory.mktemp("suites")
    submissions, out = root / "submissions", root / "out"
    name = chapters.chapter("10").filename
    solved = notebook("10", solved=True)
    write_student(submissions, "honest", {name: solved})
    write_student(submissions, "blank", {name: notebook("10", solved=False)})
    words = {"other": str(submissions / "honest" / name).encode().hex(), "digest": reference_digest(root / "reference")}
    for student, extra in SUITE_OF_OWN.items():
        text = cell_text(solved, "10.3") + extra.format(**words)
        write_student(submissions, student, {name: with_answer(solved, "10.3", text)})
    given = grading.tree_digest(submissions)
    status = main(["grade", str(submissions), "--out", str(out), "-j", "2", "--timeout", "30"])
    return {"status": status, "out": out, "grades": grades(out), "submissions_unchanged": grading.tree_digest(submissions) == given}


def test_an_honest_suite_earns_its_points_hidden_tests_included(graded_suites):
    assert graded_suites["status"] == 0 and graded_suites["submissions_unchanged"]
    assert graded_suites["grades"][("honest", "10.3")]["status"] == "passed"
    assert "Hidden tests: 1 of 1 hidden tests passed." in text_of(feedback(graded_suites, "honest"))
    assert graded_suites["grades"][("blank", "10.3")]["status"] == "failed"


@pytest.mark.parametrize(("student", "reason"), [
    ("suite_peeks", "its test suite read"),
    ("suite_runs_a_shell", "its test suite ran a shell command"),
    ("suite_patches_pytest", "its test suite replaced _pytest.python.Function.runtest"),
    ("suite_reads_the_source", "uses `getsource`"),
])
def test_a_suite_that_reaches_for_the_grader_is_flagged(graded_suites, student, reason):
    row = graded_suites["grades"][(student, "10.3")]
    assert (row["status"], row["points"]) == ("flagged", "0")
    assert reason in feedback(graded_suites, student) + (graded_suites["out"] / "grading-log.txt").read_text()


@pytest.mark.parametrize(("student", "words"), [
    ("suite_fingerprints", "expected your tests to pass on the workbook's Bookshelf rewritten in other words"),
    ("suite_loops_forever", "your tests ran for longer than their time limit and were stopped"),
])
def test_a_suite_that_does_not_test_the_app_fails_and_says_why(graded_suites, student, words):
    assert graded_suites["grades"][(student, "10.3")]["status"] == "failed"
    assert words in text_of(feedback(graded_suites, student))
