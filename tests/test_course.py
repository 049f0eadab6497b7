"""A course from hand-out to gradebook: the bundle's course file, hand-ins as an LMS delivers them, totals, exports,
feedback that a student understands, progress an instructor can follow, regrades, overrides, shards and partial credit."""

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from submissions import notebook, solved_text, with_answer, write_student
from workbook import chapters
from workbook.__main__ import main
from workbook.bundle import write_bundle
from workbook.grading.judge import hidden_tests
from workbook.grading.submissions import find_notebooks

CHAPTER_00 = chapters.chapter("00").filename
CHAPTER_01 = chapters.chapter("01").filename
HANDED_OUT = [c for c in chapters.all_chapters() if c.number <= "05"]
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
ASSIGNMENT = "Flask workbook 00-05 (4242)"
# one "!" too many: the page holds the welcome, so the public checks pass; a hidden test sees it is not the welcome
TOO_LOUD = solved_text("00.1").replace('"Welcome to Bookshelf!"', '"Welcome to Bookshelf!!"')
assert TOO_LOUD != solved_text("00.1")


def rows_of(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def totals(out: Path) -> dict[str, dict]:
    return {row["student"]: row for row in rows_of(out / "totals.csv")}


def feedback(out: Path, student: str) -> str:
    """Return a feedback page's text as a browser shows it: no tags, entities read, runs of spaces as one."""
    page = (out / "feedback" / f"{student}.html").read_text(encoding="utf-8")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.split("</style>")[-1])).split())


def zip_folder(folder: Path, target: Path, top: str) -> None:
    """Zip a whole folder under one top folder, as a file manager's "Compress" does."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")


def hand_in(bundle_folder: Path, books: dict[str, dict], monkeypatch) -> Path:
    """Put a student's notebooks into their copy of the bundle and run `python -m workbook handin` there."""
    for name, book in books.items():
        (bundle_folder / "notebooks" / name).write_text(json.dumps(book), encoding="utf-8")
    monkeypatch.chdir(bundle_folder)
    assert main(["handin"]) == 0
    return bundle_folder / "handin.zip"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A bundle of chapters 00-05, three students handing in through Canvas and one who handed in nothing."""
    monkeypatch = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("course")
    write_bundle(root / "class.zip", chapters_through="05")
    manifest = json.loads((root / "class.course.json").read_text(encoding="utf-8"))
    copies = {}
    for student in ("ada", "alan", "grace"):
        with zipfile.ZipFile(root / "class.zip") as archive:
            archive.extractall(root / student)
        copies[student] = root / student / "class"
    solved = {c.filename: notebook(c.number, solved=True) for c in HANDED_OUT}
    half = {c.filename: notebook(c.number, solved=c.number <= "02") for c in HANDED_OUT}
    download = root / "canvas"
    download.mkdir()
    try:
        shutil.copy(hand_in(copies["ada"], solved, monkeypatch), download / "lovelaceada_101_9001_handin.zip")
        shutil.copy(hand_in(copies["alan"], half, monkeypatch), download / "turingalan_late_102_9002_handin.zip")
    finally:
        monkeypatch.undo()
    # Grace zipped her whole bundle folder: notebooks/ two levels down, and chapters/ copies beside them
    for name, book in solved.items():
        (copies["grace"] / "notebooks" / name).write_text(json.dumps(book), encoding="utf-8")
    zip_folder(copies["grace"], download / "hoppergrace_103_9003_class.zip", "Downloads/class")
    roster = root / "gradebook.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Flask workbook 00-05 (4242)\n"
        "    Points Possible,,,,,100\n"
        '"Lovelace, Ada",101,s101,ada,Monday,\n'
        '"Turing, Alan",102,s102,alan,Monday,\n'
        '"Hopper, Grace",103,s103,grace,Tuesday,\n'
        '"Knuth, Donald",104,s104,donald,Tuesday,\n', encoding="utf-8")
    out = root / "out"
    command = ["grade", str(download), "--out", str(out), "--course", str(root / "class.course.json"), "--roster",
               str(roster), "--export", "canvas", "--assignment", ASSIGNMENT, "-j", "2"]
    assert main(command) == 0
    return {"out": out, "manifest": manifest, "root": root}


def test_the_course_file_says_what_was_handed_out(course):
    assert course["manifest"]["chapters"] == [c.number for c in HANDED_OUT]


def test_only_what_was_handed_out_is_graded_and_a_solved_course_is_100_percent(course):
    out, manifest = course["out"], course["manifest"]
    graded = {row["exercise"] for row in rows_of(out / "grades.csv")}
    left_out = set(manifest["released"]) | set(manifest["given_away"])
    assert graded == {e.id for c in HANDED_OUT for e in c.exercises} - left_out
    most = sum(chapters.declared(c.check_file(), "POINTS")[e.id] for c in HANDED_OUT for e in c.exercises
               if e.id not in left_out)
    ada = totals(out)["101"]
    assert (float(ada["points"]), float(ada["max_points"]), ada["percent"]) == (most, most, "100.0")
    assert [column for column in ada if column.startswith("chapter ")] == [f"chapter {c.number}" for c in HANDED_OUT]


def test_a_zip_of_the_whole_folder_is_found_and_says_which_notebook_was_taken(course):
    out = course["out"]
    assert totals(out)["103"]["percent"] == "100.0"
    page = feedback(out, "103")
    assert "Downloads/class/notebooks/01_flask.ipynb" in page
    assert "chapters/01_flask.ipynb" not in page  # the library's copies are skipped, not competing


def test_a_student_on_the_roster_with_no_submission_gets_zeros(course):
    donald = totals(course["out"])["104"]
    assert (donald["points"], donald["name"]) == ("0", "Knuth, Donald")
    assert float(donald["max_points"]) == float(totals(course["out"])["101"]["max_points"])
    assert "No submission was found" in feedback(course["out"], "104")


def test_canvas_marks_late_and_half_done_earns_part(course):
    alan = totals(course["out"])["102"]
    assert alan["late"] == "yes"
    assert 0 < float(alan["points"]) < float(alan["max_points"])
    assert "late" in feedback(course["out"], "102")


def test_the_canvas_import_file_has_canvas_columns_and_every_roster_student(course):
    rows = rows_of(course["out"] / "canvas-import.csv")
    assert list(rows[0]) == [*CANVAS_COLUMNS, ASSIGNMENT]
    by_id = {row["ID"]: row for row in rows}
    assert set(by_id) == {"101", "102", "103", "104"}
    for student, row in totals(course["out"]).items():
        assert float(by_id[student][ASSIGNMENT]) == float(row["points"])
    assert by_id["101"]["SIS Login ID"] == "ada" and by_id["104"]["Student"] == "Knuth, Donald"


def test_no_well_done_above_a_failed_exercise(course):
    for student in ("101", "102", "103", "104"):
        page = (course["out"] / "feedback" / f"{student}.html").read_text(encoding="utf-8")
        for section in re.split(r"(?=<section)", page):
            if "Well done!" in section:
                assert re.search(r'class="[^"]*\bpassed\b', section), (student, section[:400])


# ---- hidden tests, partial credit, progress --------------------------------------------------------------


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    """Chapter 00 handed in by a solved, a too-loud (fails a public check and a hidden test) and a blank student."""
    submissions = tmp_path_factory.mktemp("small") / "submissions"
    write_student(submissions, "solved", {CHAPTER_00: notebook("00", solved=True)})
    write_student(submissions, "too_loud", {CHAPTER_00: with_answer(notebook("00", solved=True), "00.1", TOO_LOUD)})
    write_student(submissions, "blank", {CHAPTER_00: notebook("00", solved=False)})
    return submissions


def test_a_hidden_test_failure_names_what_it_checks_and_never_says_well_done(small_class, tmp_path):
    """With --partial the hidden tests run after a public failure too, and the page names what the failed one checks."""
    out = tmp_path / "out"
    assert main(["grade", str(small_class), "--out", str(out), "--chapters", "00", "--partial", "-j", "2"]) == 0
    row = next(r for r in rows_of(out / "grades.csv") if r["student"] == "too_loud")
    assert row["status"] == "failed" and float(row["points"]) < float(row["max_points"])
    page = feedback(out, "too_loud")
    assert "Well done" not in page
    described = hidden_tests(chapters.chapter("00").hidden_file())["00.1"]
    assert any(doc in page for doc in described.values()), described
    assert "Well done" in feedback(out, "solved")


def test_partial_credit_gives_a_share_for_public_and_hidden_tests(small_class, tmp_path):
    out = tmp_path / "out"
    assert main(["grade", str(small_class), "--out", str(out), "--chapters", "00", "--partial", "-j", "2"]) == 0
    points = {row["student"]: float(row["points"]) for row in rows_of(out / "totals.csv")}
    most = float(rows_of(out / "totals.csv")[0]["max_points"])
    assert points["solved"] == most and points["blank"] == 0
    # two of three public checks and one of two hidden tests passed: a share of each half, less than all
    assert 0 < points["too_loud"] < most
    assert "Partial credit" in feedback(out, "too_loud")


def test_progress_shows_a_line_at_once_and_one_per_student_in_a_log_file(small_class, tmp_path):
    log = tmp_path / "grading.log"
    started = time.monotonic()
    with open(log, "w") as stream:
        process = subprocess.Popen([sys.executable, "-m", "workbook", "grade", str(small_class), "--out",
                                    str(tmp_path / "out"), "-j", "2"], stderr=stream, stdout=stream,
                                   cwd=chapters.ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        first = None
        while process.poll() is None and first is None:
            if log.read_text():
                first = time.monotonic() - started
            time.sleep(0.05)
        process.wait(timeout=300)
    assert process.returncode == 0
    assert first is not None and first < 3, first
    text = log.read_text()
    for student in ("blank", "solved", "too_loud"):
        assert re.search(rf"^  {student}: \d+ of \d+ points", text, re.M), text
    assert re.search(r"^graded 3 students .* test runs in", text, re.M), text


# ---- regrade, overrides, shards -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def class_01(tmp_path_factory):
    """Five students of chapters 00 and 01, graded once on one machine."""
    root = tmp_path_factory.mktemp("class01")
    submissions = root / "submissions"
    solved = {CHAPTER_00: notebook("00", solved=True), CHAPTER_01: notebook("01", solved=True)}
    blank = {CHAPTER_00: notebook("00", solved=False), CHAPTER_01: notebook("01", solved=False)}
    write_student(submissions, "amy", solved)
    write_student(submissions, "ben", blank, as_zip=True)
    write_student(submissions, "cat", {**solved, CHAPTER_00: with_answer(notebook("00", solved=True), "00.1", TOO_LOUD)})
    write_student(submissions, "dan", {CHAPTER_01: notebook("01", solved=True)})
    write_student(submissions, "eve", {**blank, CHAPTER_01: notebook("01", solved=True)})
    out = root / "whole"
    assert main(["grade", str(submissions), "--out", str(out), "-j", "2"]) == 0
    return {"root": root, "submissions": submissions, "out": out}


def report_files(out: Path) -> dict[str, str]:
    files = {name: (out / name).read_text(encoding="utf-8") for name in ("grades.csv", "totals.csv")}
    files.update({f"feedback/{p.name}": p.read_text(encoding="utf-8") for p in sorted((out / "feedback").iterdir())})
    return files


def test_shards_merged_equal_one_machine(class_01):
    root, submissions = class_01["root"], class_01["submissions"]
    shards = [root / f"shard-{k}" for k in (1, 2)]
    for k, shard in enumerate(shards, start=1):
        assert main(["grade", str(submissions), "--out", str(shard), "--shard", f"{k}/2", "-j", "2"]) == 0
    sizes = [len(totals(shard)) for shard in shards]
    assert sum(sizes) == 5 and all(sizes), sizes  # each student in exactly one shard
    assert main(["merge", *map(str, shards), "--out", str(root / "merged")]) == 0
    assert report_files(root / "merged") == report_files(class_01["out"])


def test_merge_refuses_a_student_in_two_reports(class_01, tmp_path, capsys):
    assert main(["merge", str(class_01["out"]), str(class_01["out"]), "--out", str(tmp_path / "m")]) == 1
    assert "is graded in both" in capsys.readouterr().err


def test_regrade_one_student_keeps_the_others_and_overrides_apply(class_01, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(class_01["out"], out)
    before = totals(out)
    # Eve hands in chapter 00 solved after a deadline extension; the instructor gives Ben 1 point for 01.1 by hand
    eve = class_01["submissions"] / "eve"
    (eve / CHAPTER_00).write_text(json.dumps(notebook("00", solved=True)), encoding="utf-8")
    try:
        (out / "overrides.csv").write_text("student,exercise,points,reason\nben,01.1,1,the idea was right\n"
                                           "nobody,01.1,1,typo\n", encoding="utf-8")
        assert main(["grade", str(class_01["submissions"]), "--out", str(out), "--only", "eve", "-j", "2"]) == 0
    finally:
        (eve / CHAPTER_00).write_text(json.dumps(notebook("00", solved=False)), encoding="utf-8")
    after = totals(out)
    assert set(after) == set(before)
    assert float(after["eve"]["points"]) > float(before["eve"]["points"])
    assert {k: v for k, v in after.items() if k not in ("eve", "ben")} == \
        {k: v for k, v in before.items() if k not in ("eve", "ben")}
    assert float(after["ben"]["points"]) == float(before["ben"]["points"]) + 1
    assert "the idea was right" in feedback(out, "ben") and "set by your instructor" in feedback(out, "ben")
    assert any(path.name.startswith("previous-") for path in out.iterdir())
    assert (out / "overrides.csv").exists()


# ---- finding the notebooks ----------------------------------------------------------------------------


def write_zip(path: Path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_notebooks_folder_wins_and_chapters_copies_are_skipped(tmp_path):
    book = json.dumps(notebook("01", solved=True)).encode()
    path = write_zip(tmp_path / "a.zip", {"x/class/chapters/01_flask.ipynb": b"library copy",
                                          "x/class/01_flask.ipynb": b"a loose copy",
                                          "x/class/notebooks/01_flask.ipynb": book,
                                          "x/class/notebooks/.ipynb_checkpoints/01_flask-checkpoint.ipynb": b"old",
                                          "__MACOSX/x/class/notebooks/._01_flask.ipynb": b"resource fork"})
    found = find_notebooks([("a.zip", path)])
    assert found.notebooks == {"01": book}
    assert found.names["01"] == "a.zip: x/class/notebooks/01_flask.ipynb"
    assert "it is in a notebooks/ folder" in " ".join(found.notes)


def test_a_damaged_or_encrypted_zip_is_that_students_problem(tmp_path):
    book = json.dumps(notebook("00", solved=True)).encode()
    damaged = bytearray(write_zip(tmp_path / "damaged.zip", {"00_welcome.ipynb": book}).read_bytes())
    damaged[60:90] = b"\0" * 30
    (tmp_path / "damaged.zip").write_bytes(bytes(damaged))
    encrypted = bytearray(write_zip(tmp_path / "encrypted.zip", {"00_welcome.ipynb": book}, zipfile.ZIP_STORED).read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = encrypted.find(signature)
        encrypted[at + offset] |= 1  # the "encrypted" bit of the general purpose flags
    (tmp_path / "encrypted.zip").write_bytes(bytes(encrypted))
    (tmp_path / "garbage.zip").write_bytes(b"not a zip at all")
    for name in ("damaged.zip", "encrypted.zip", "garbage.zip"):
        found = find_notebooks([(name, tmp_path / name)])
        problem = " ".join(found.problems) + " ".join(v for v in found.notebooks.values() if isinstance(v, str))
        assert problem and not any(isinstance(v, bytes) for v in found.notebooks.values()), (name, found)


def test_many_notebook_named_members_are_not_read_whole(tmp_path):
    members = {f"n{i}/00_welcome.ipynb": os.urandom(128 << 10).hex().encode() for i in range(40)}
    found = find_notebooks([("many.zip", write_zip(tmp_path / "many.zip", members))])
    # one of them is taken and read; the 39 others are only named
    assert len(found.notebooks) == 1 and "not graded: " in " ".join(found.notes)


def test_a_zip_bomb_member_is_refused_unread(tmp_path):
    members = {f"n{i}/00_welcome.ipynb": b"{" + b" " * (5 << 20) + b"}" for i in range(3)}
    found = find_notebooks([("bomb.zip", write_zip(tmp_path / "bomb.zip", members))])
    assert not found.notebooks and "unpacks to 1025 times its size" in " ".join(found.notes)


def test_a_student_with_no_notebook_is_warned_about(tmp_path, capsys):
    submissions = tmp_path / "submissions"
    write_student(submissions, "good", {CHAPTER_00: notebook("00", solved=True)})
    write_student(submissions, "lost", {"notes.txt": b"see attachment"})
    assert main(["grade", str(submissions), "--out", str(tmp_path / "out"), "-j", "1"]) == 0
    assert "WARNING: lost: no chapter notebook found" in capsys.readouterr().err
    assert "No chapter notebook" in feedback(tmp_path / "out", "lost")


def test_the_readme_states_the_limits_the_grader_applies():
    from workbook.grading.submissions import LIMITS

    readme = " ".join((chapters.ROOT / "README.md").read_text(encoding="utf-8").split())
    assert LIMITS in readme


def test_a_moodle_download_with_its_worksheet_deadline_and_export(tmp_path):
    """Moodle's download in folders, its grading worksheet as the roster, lateness from its times, and its import file."""
    download = tmp_path / "download"
    jane = download / "Jane Doe_1938201_assignsubmission_file"
    jane.mkdir(parents=True)
    with zipfile.ZipFile(jane / "handin.zip", "w") as archive:
        archive.writestr("notebooks/00_welcome.ipynb", json.dumps(notebook("00", solved=True)))
    for folder, solved in (("Li Wei_1938202_assignsubmission_file", False), ("Zoë Ångström-Berg_1938203_assignsubmission_file", True)):
        (download / folder).mkdir()
        (download / folder / CHAPTER_00).write_text(json.dumps(notebook("00", solved=solved)), encoding="utf-8")
    roster = chapters.ROOT / "tests" / "lms_samples" / "moodle_worksheet.csv"
    out = tmp_path / "out"
    # the worksheet's times are in the downloading teacher's zone: the deadline says which
    assert main(["grade", str(download), "--out", str(out), "--chapters", "00", "--roster", str(roster),
                 "--deadline", "2024-05-07T23:00+02:00", "--export", "moodle", "--assignment", "Workbook 00",
                 "-j", "2"]) == 0
    rows = totals(out)
    jane, li, zoe = rows["1938201"], rows["1938202"], rows["1938203"]
    assert (jane["percent"], jane["late"], jane["hours_late"]) == ("100.0", "", "0.00")
    assert (li["late"], li["hours_late"], li["points"]) == ("yes", "0.08", "0")
    assert zoe["late"] == "yes" and float(zoe["hours_late"]) == pytest.approx(7 * 24 + 1.5, abs=0.01)
    assert "5 min after the deadline" in feedback(out, "1938202")
    absent = [row for student, row in rows.items() if student not in ("1938201", "1938202", "1938203")]
    assert absent and all(row["points"] == "0" for row in absent)
    exported = rows_of(out / "moodle-import.csv")
    assert "Email address" in exported[0] and "Workbook 00" in exported[0]
    by_mail = {row["Email address"]: row for row in exported}
    assert float(by_mail["jane.doe@example.edu"]["Workbook 00"]) == float(jane["points"]) > 0
    assert float(by_mail["am.oneil@example.edu"]["Workbook 00"]) == 0
