"""Canvas and Moodle downloads and rosters in, gradebook files out (workbook.grading.lms)."""

import csv
import io
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from workbook.grading import lms

SAMPLES = Path(__file__).parent / "lms_samples"
CANVAS_ROSTER = SAMPLES / "canvas_gradebook.csv"
MOODLE_WORKSHEET = SAMPLES / "moodle_worksheet.csv"
MOODLE_PARTICIPANTS = SAMPLES / "moodle_participants.csv"
# what Canvas's "Download Submissions" holds for the students of canvas_gradebook.csv, and one more
CANVAS_FILES = [
    "smithjohn_4501_880101_01_flask.ipynb",
    "smithjohn_4501_880102_02_routes-1.ipynb",  # uploaded twice under one name: Canvas adds -1
    "o_brienmary_ann_LATE_4502_880210_01_flask.ipynb",
    "müllerjürgen_4503_880301_01_flask.ipynb",
    "müllerjürgen_4503_880302_02_routes.ipynb",
    "müllerjürgen_4503_880303_workbook.zip",
    "newstudentalex_4777_880401_01_flask.ipynb",  # enrolled after the gradebook was exported
    "smithjohn_4501_text.html",
    "readme.txt",
    ".DS_Store",
]
MOODLE_FOLDERS = {
    "Jane Doe_1938201_assignsubmission_file_": ["01_flask.ipynb", "02_routes.ipynb"],  # Moodle 3.1 to 4.0
    "Li Wei_1938202_assignsubmission_file": ["work.zip", ".DS_Store"],  # Moodle 4.1 on
    "Li Wei_1938202_assignsubmission_onlinetext_": ["onlinetext.html"],
    "Ghost Person_1999999_assignsubmission_file": ["01_flask.ipynb"],
}
MOODLE_FLAT = [
    "Jane Doe_1938201_assignsubmission_file_01_flask.ipynb",
    "Jane Doe_1938201_assignsubmission_file_01_02_extra.ipynb",
    "Zoë Ångström-Berg_1938203_assignsubmission_file_work.zip",
    "Ghost Person_1999999_assignsubmission_file_01_flask.ipynb",
    "notes.txt",
]


def write_files(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"{}")
    return folder


def canvas_download(tmp_path: Path) -> Path:
    return write_files(tmp_path / "canvas", CANVAS_FILES)


def moodle_folders(tmp_path: Path) -> Path:
    root = tmp_path / "moodle"
    for folder, names in MOODLE_FOLDERS.items():
        write_files(root / folder, names)
    (root / "__MACOSX").mkdir()
    return root


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def by_id(submissions: list[lms.Submission]) -> dict[str, lms.Submission]:
    return {submission.student: submission for submission in submissions}


# ---- downloads -----------------------------------------------------------------------------------------------------


def test_a_canvas_download_is_grouped_by_user_id(tmp_path):
    folder = canvas_download(tmp_path)
    submissions, lines = lms.read_submissions(folder)
    assert [s.student for s in submissions] == ["4501", "4502", "4503", "4777"]
    assert lines[0] == "read as a Canvas download: 7 files of 4 students"
    students = by_id(submissions)
    assert students["4501"].sources == [("01_flask.ipynb", folder / CANVAS_FILES[0]),
                                        ("02_routes.ipynb", folder / CANVAS_FILES[1])]
    assert [name for name, _ in students["4503"].sources] == ["01_flask.ipynb", "02_routes.ipynb", "workbook.zip"]
    assert (students["4502"].name, students["4502"].late) == ("o_brienmary_ann", True)
    assert (students["4501"].name, students["4501"].late) == ("smithjohn", False)
    assert {s.layout for s in submissions} == {"canvas"}


def test_every_canvas_entry_not_read_says_why(tmp_path):
    _, lines = lms.read_submissions(canvas_download(tmp_path))
    assert lines[1:] == [
        "skipped .DS_Store: a hidden file",
        "skipped readme.txt: not named <name>_<user id>_<file id>_<file name> as Canvas names files",
        "skipped smithjohn_4501_text.html: a text or URL entry, not a file",
    ]


@pytest.mark.parametrize("name, student, sortable, late, original", [
    ("o_brien_mary_4502_17_lab.ipynb", "4502", "o_brien_mary", False, "lab.ipynb"),
    ("smithjohn_late_4501_17_01_02_x-3.ipynb", "4501", "smithjohn", True, "01_02_x.ipynb"),  # older Canvases: late
    ("anon_Ab3dE_17_lab.ipynb", "anon_Ab3dE", "", False, "lab.ipynb"),  # anonymous grading
    ("LATE_anon_Ab3dE_17_lab.ipynb", "anon_Ab3dE", "", True, "lab.ipynb"),
    ("日本語なまえ_12_34_ノート 1.ipynb", "12", "日本語なまえ", False, "ノート 1.ipynb"),
    ("lee_12_34_archive.tar.gz", "12", "lee", False, "archive.tar.gz"),
])
def test_a_canvas_file_name_is_read_from_its_numbers(tmp_path, name, student, sortable, late, original):
    folder = write_files(tmp_path / "canvas", [name])
    [submission], lines = lms.read_submissions(folder, "canvas")
    assert (submission.student, submission.name, submission.late) == (student, sortable, late)
    assert submission.sources == [(original, folder / name)]
    assert lines == ["read as a Canvas download: 1 files of 1 students"]


ODD_NAMES = ["_", "__", "_1_2_", "1_2_", "late_1_2_", "a b_c__d", "x_1_2_3_4_5", "\u00e9\u0301_9_9_\u2603",
             "Ghost_1_assignsubmission_", "_assignsubmission_file_x", "n_1_assignsubmission_file_", "-1", "a.zip.zip",
             "trailing space ", "tab\tname", "€uro.ZIP"]


@pytest.mark.parametrize("layout", ["auto", "folders", "canvas", "moodle"])
def test_odd_names_are_read_or_skipped_never_raised(tmp_path, layout):
    folder = write_files(tmp_path / "odd", ODD_NAMES)
    (folder / "a dir_1_2_").mkdir()
    submissions, lines = lms.read_submissions(folder, layout)
    read = sum(len(submission.sources) for submission in submissions)
    assert read + len(lines) - 1 == len(ODD_NAMES) + 1


def test_a_moodle_download_in_folders_is_grouped_by_participant(tmp_path):
    folder = moodle_folders(tmp_path)
    submissions, lines = lms.read_submissions(folder)
    assert [(s.student, s.name, s.late, s.layout) for s in submissions] == [
        ("1938201", "Jane Doe", None, "moodle"), ("1938202", "Li Wei", None, "moodle"),
        ("1999999", "Ghost Person", None, "moodle")]
    jane = folder / "Jane Doe_1938201_assignsubmission_file_"
    assert submissions[0].sources == [("01_flask.ipynb", jane / "01_flask.ipynb"),
                                      ("02_routes.ipynb", jane / "02_routes.ipynb")]
    assert [name for name, _ in submissions[1].sources] == ["work.zip"]
    assert lines == [
        "read as a Moodle download: 4 files of 3 students",
        "skipped Li Wei_1938202_assignsubmission_file/.DS_Store: a hidden file",
        "skipped Li Wei_1938202_assignsubmission_onlinetext_: a Moodle onlinetext submission, not files",
        "skipped __MACOSX: macOS archive metadata",
    ]


def test_a_flat_moodle_download_is_grouped_by_participant(tmp_path):
    folder = write_files(tmp_path / "flat", MOODLE_FLAT)
    submissions, lines = lms.read_submissions(folder)
    students = by_id(submissions)
    assert list(students) == ["1938201", "1938203", "1999999"]
    assert students["1938201"].sources == [("01_02_extra.ipynb", folder / MOODLE_FLAT[1]),
                                           ("01_flask.ipynb", folder / MOODLE_FLAT[0])]
    assert students["1938203"].name == "Zoë Ångström-Berg"
    assert lines[0] == "read as a Moodle download: 4 files of 3 students"
    assert lines[1].startswith("skipped notes.txt: not named <full name>_<participant number>")


def test_folders_layout_takes_each_folder_or_zip_and_reports_the_rest(tmp_path):
    folder = write_files(tmp_path / "class", ["bob.zip", "alice.zip", "notes.txt", ".DS_Store", "Zoë.zip"])
    for name in ("alice", "carol", "__MACOSX"):
        (folder / name).mkdir()
    (folder / "dave").symlink_to(folder / "carol")
    submissions, lines = lms.read_submissions(folder)
    assert [(s.student, s.sources) for s in submissions] == [
        ("Zoë", [("Zoë.zip", folder / "Zoë.zip")]), ("alice", [("alice", folder / "alice")]),
        ("bob", [("bob.zip", folder / "bob.zip")]), ("carol", [("carol", folder / "carol")])]
    assert {(s.name, s.late, s.layout) for s in submissions} == {("", None, "folders")}
    assert lines == [
        "read as one folder or .zip per student: 4 students",
        "skipped .DS_Store: a hidden file",
        "skipped __MACOSX: macOS archive metadata",
        "skipped alice.zip: alice also has a folder, which is used",
        "skipped dave: a symbolic link",
        "skipped notes.txt: not a folder or .zip",
    ]


def test_auto_takes_the_layout_most_entries_follow(tmp_path):
    mixed = write_files(tmp_path / "mixed", CANVAS_FILES[:2] + ["a.zip", "b.zip", "c.zip"])
    submissions, lines = lms.read_submissions(mixed)
    assert lines[0] == "read as one folder or .zip per student: 3 students"
    assert len(lines) == 3  # the two Canvas files, skipped
    submissions, lines = lms.read_submissions(mixed, "canvas")
    assert [s.student for s in submissions] == ["4501"]


def test_a_download_one_folder_down_is_pointed_out(tmp_path):
    inner = canvas_download(tmp_path / "outer")
    _, lines = lms.read_submissions(inner.parent)
    assert lines == ["read as one folder or .zip per student: 1 students",
                     f"note: canvas looks like an LMS download itself: pass {inner} instead"]


def test_only_a_missing_folder_or_an_unknown_layout_raises(tmp_path):
    with pytest.raises(lms.SubmissionsError, match="unzip it first"):
        lms.read_submissions(write_files(tmp_path, ["download.zip"]) / "download.zip")
    with pytest.raises(lms.SubmissionsError, match="is not a folder"):
        lms.read_submissions(tmp_path / "absent")
    with pytest.raises(lms.SubmissionsError, match="unknown layout 'blackboard'"):
        lms.read_submissions(tmp_path, "blackboard")
    assert issubclass(lms.SubmissionsError, lms.WorkbookError)


# ---- rosters -------------------------------------------------------------------------------------------------------


def test_a_canvas_gradebook_export_leaves_out_its_extra_rows():
    roster = lms.read_roster(CANVAS_ROSTER)
    assert roster.kind == "canvas"
    assert roster.columns[:6] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Flask workbook (20417)"]
    assert [row["ID"] for row in roster.rows] == ["4501", "4502", "4503", "4504", "4599"]
    assert roster.rows[2]["Student"] == "Müller, Jürgen"


def test_moodle_rosters_are_told_apart():
    worksheet = lms.read_roster(MOODLE_WORKSHEET)
    assert worksheet.kind == "moodle-worksheet"
    assert worksheet.columns[:3] == ["Identifier", "Full name", "Email address"]  # the BOM is not in the name
    assert worksheet.rows[2]["Full name"] == "Zoë Ångström-Berg"
    participants = lms.read_roster(MOODLE_PARTICIPANTS)
    assert participants.kind == "moodle-participants"
    assert [row["ID number"] for row in participants.rows] == ["20240117", "20240342", "20240555", "20240601"]


@pytest.mark.parametrize("encoding, delimiter", [("utf-8-sig", ";"), ("cp1252", ","), ("utf-16", "\t"),
                                                 ("utf-8", ";")])
def test_a_roster_saved_by_a_spreadsheet_reads_the_same(tmp_path, encoding, delimiter):
    original = lms.read_roster(CANVAS_ROSTER)
    table = parse(CANVAS_ROSTER.read_text(encoding="utf-8"))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([*table, [""] * 3])  # Excel leaves empty rows behind
    path = tmp_path / "saved.csv"
    path.write_bytes(out.getvalue().encode(encoding))
    assert lms.read_roster(path) == original


def test_any_csv_is_a_roster(tmp_path):
    path = tmp_path / "class.csv"
    path.write_text("Student number,Name\n17,Ann\n18\n", encoding="utf-8")
    roster = lms.read_roster(path)
    assert roster == lms.Roster("csv", ["Student number", "Name"],
                                [{"Student number": "17", "Name": "Ann"}, {"Student number": "18", "Name": ""}])
    path.write_text("\n , \n", encoding="utf-8")
    with pytest.raises(lms.SubmissionsError, match="is empty"):
        lms.read_roster(path)
    with pytest.raises(lms.SubmissionsError, match="cannot read the roster"):
        lms.read_roster(tmp_path / "absent.csv")


# ---- matching ------------------------------------------------------------------------------------------------------


def test_default_columns():
    canvas = lms.read_roster(CANVAS_ROSTER)
    assert lms.default_match(canvas, "canvas") == "ID"
    assert lms.default_match(canvas, "folders") == "SIS Login ID"
    assert lms.default_match(lms.read_roster(MOODLE_WORKSHEET), "moodle") == "Identifier"
    assert lms.default_match(lms.read_roster(MOODLE_PARTICIPANTS), "folders") == "Email address"
    assert lms.default_match(lms.Roster("csv", ["Name", "ID number"], []), "folders") == "ID number"
    assert lms.default_match(lms.Roster("csv", ["Name", "Number"], []), "folders") == "Name"


def test_a_canvas_download_matches_the_gradebook_by_id(tmp_path):
    roster = lms.read_roster(CANVAS_ROSTER)
    submissions, _ = lms.read_submissions(canvas_download(tmp_path))
    matched, unmatched, missing = lms.match(submissions, roster, lms.default_match(roster, "canvas"))
    assert {student: row["Student"] for student, row in matched.items()} == {
        "4501": "Smith, John", "4502": "O_Brien, Mary_Ann", "4503": "Müller, Jürgen"}
    assert unmatched == ["4777"]
    assert [row["ID"] for row in missing] == ["4504", "4599"]
    assert [lms.roster_key(roster, row) for row in missing] == ["4504", "4599"]


def test_a_moodle_download_matches_the_worksheet_by_participant_number(tmp_path):
    roster = lms.read_roster(MOODLE_WORKSHEET)
    submissions, _ = lms.read_submissions(write_files(tmp_path / "flat", MOODLE_FLAT))
    matched, unmatched, missing = lms.match(submissions, roster, "Identifier")
    assert {student: row["Full name"] for student, row in matched.items()} == {
        "1938201": "Jane Doe", "1938203": "Zoë Ångström-Berg"}
    assert unmatched == ["1999999"]
    assert [lms.roster_key(roster, row) for row in missing] == ["1938202", "1938204"]


def test_folders_match_ignoring_case_space_and_unicode_form(tmp_path):
    folder = tmp_path / "class"
    for name in ("JSmith", " mobrien", "Jane.Doe@Example.EDU", "zoe\u0308.angstrom@example.edu"):
        (folder / name).mkdir(parents=True)
    submissions, _ = lms.read_submissions(folder)
    canvas = lms.read_roster(CANVAS_ROSTER)
    matched, unmatched, _ = lms.match(submissions, canvas, lms.default_match(canvas, "folders"))
    assert {student: row["ID"] for student, row in matched.items()} == {"JSmith": "4501", " mobrien": "4502"}
    assert lms.roster_key(canvas, matched["JSmith"], "SIS Login ID") == "jsmith"
    participants = lms.read_roster(MOODLE_PARTICIPANTS)
    participants.rows[2]["Email address"] = "zo\u00eb.angstrom@example.edu"  # NFC here, NFD in the folder name
    matched, _, _ = lms.match(submissions, participants, "email address")
    assert {student: row["ID number"] for student, row in matched.items()} == {
        "Jane.Doe@Example.EDU": "20240117", "zoe\u0308.angstrom@example.edu": "20240555"}


def test_a_column_the_roster_lacks_is_named_with_those_it_has(tmp_path):
    roster = lms.read_roster(MOODLE_PARTICIPANTS)
    with pytest.raises(lms.SubmissionsError, match="no column 'Username'; its columns are: First name, Last name, "
                                                   "ID number, Email address"):
        lms.match([], roster, "Username")


def test_two_submissions_for_one_student_raise(tmp_path):
    roster = lms.read_roster(CANVAS_ROSTER)
    twins = [lms.Submission("jsmith"), lms.Submission("JSMITH ")]
    with pytest.raises(lms.SubmissionsError, match="jsmith and JSMITH  both match the roster row with SIS Login ID"):
        lms.match(twins, roster, "SIS Login ID")
    roster.rows[1]["SIS Login ID"] = "jsmith"
    with pytest.raises(lms.SubmissionsError, match="jsmith matches 2 roster rows"):
        lms.match(twins[:1], roster, "SIS Login ID")
    roster.rows[1]["SIS Login ID"] = ""  # an empty cell matches nobody, however many there are
    roster.rows[2]["SIS Login ID"] = ""
    assert lms.match([lms.Submission("")], roster, "SIS Login ID")[1] == [""]


def test_moodle_submission_times_are_read_in_the_zone_given():
    roster = lms.read_roster(MOODLE_WORKSHEET)
    assert lms.submission_times(roster) == {
        "1938201": datetime(2024, 5, 6, 9, 41), "1938202": datetime(2024, 5, 7, 23, 5),
        "1938203": datetime(2024, 5, 15, 0, 30)}
    assert lms.submission_times(roster, timezone.utc)["1938203"] == datetime(2024, 5, 15, 0, 30, tzinfo=timezone.utc)
    roster.rows[0]["Last modified (submission)"] = "Montag, 6. Mai 2024, 09:41"
    assert "1938201" not in lms.submission_times(roster)
    assert lms.submission_times(lms.read_roster(CANVAS_ROSTER)) == {}


# ---- gradebook files -----------------------------------------------------------------------------------------------


def test_the_canvas_export_is_what_canvas_imports():
    roster = lms.read_roster(CANVAS_ROSTER)
    text = lms.canvas_export(roster, {"4501": 42, "4502": 37.5, "4503": 2 / 3, "4777": 99}, "Flask workbook (20417)",
                             extra={"Chapter 01": {"4501": 10.0}})
    table = parse(text)
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Flask workbook (20417)",
                        "Chapter 01"]
    assert table[1:] == [
        ["Smith, John", "4501", "S1001", "jsmith", "Web Development 01", "42", "10"],
        ["O_Brien, Mary_Ann", "4502", "S1002", "mobrien", "Web Development 01", "37.5", "0"],
        ["Müller, Jürgen", "4503", "S1003", "jmuller", "Web Development 02", "0.67", "0"],
        ["Nguyen, Thi", "4504", "S1004", "tnguyen", "Web Development 02", "0", "0"],
        ["Student, Test", "4599", "", "", "Web Development 01", "0", "0"],
    ]
    assert text.endswith("\r\n")


def test_the_canvas_export_finds_totals_by_the_column_matched():
    roster = lms.read_roster(CANVAS_ROSTER)
    table = parse(lms.canvas_export(roster, {"JSmith": 5}, "Flask", key_column="SIS Login ID"))
    assert [row[5] for row in table[1:]] == ["5", "0", "0", "0", "0"]
    with pytest.raises(lms.SubmissionsError, match="needs Canvas's gradebook export"):
        lms.canvas_export(lms.read_roster(MOODLE_WORKSHEET), {}, "Flask")


def test_a_canvas_export_with_split_names_writes_the_student_column(tmp_path):
    path = tmp_path / "split.csv"
    path.write_text("LastName,FirstName,ID,SIS Login ID,Section,Flask (1)\nSmith,John,4501,jsmith,A,\n",
                    encoding="utf-8")
    table = parse(lms.canvas_export(lms.read_roster(path), {"4501": 3}, "Flask (1)"))
    assert table[1] == ["Smith, John", "4501", "", "jsmith", "A", "3"]


def test_the_moodle_export_has_what_moodle_maps():
    worksheet = lms.read_roster(MOODLE_WORKSHEET)
    table = parse(lms.moodle_export(worksheet, {"1938201": 88, "1938203": 12.25}, "Flask workbook"))
    assert table[0] == ["Full name", "Email address", "Flask workbook"]
    assert table[1:] == [["Jane Doe", "jane.doe@example.edu", "88"], ["Li Wei", "li.wei@example.edu", "0"],
                         ["Zoë Ångström-Berg", "zoe.angstrom@example.edu", "12.25"],
                         ["Anne-Marie O'Neil", "am.oneil@example.edu", "0"]]
    participants = lms.read_roster(MOODLE_PARTICIPANTS)
    table = parse(lms.moodle_export(participants, {"Li.Wei@example.edu": 7}, "Flask", {"Bonus": {}}))
    assert table[0] == ["First name", "Last name", "ID number", "Email address", "Flask", "Bonus"]
    assert table[2] == ["Li", "Wei", "20240342", "li.wei@example.edu", "7", "0"]
    table = parse(lms.moodle_export(participants, {"20240342": 7}, "Flask", key_column="ID number"))
    assert table[2][-1] == "7"


def test_a_roster_moodle_cannot_map_is_refused():
    worksheet = lms.read_roster(MOODLE_WORKSHEET)
    worksheet.columns.remove("Email address")
    with pytest.raises(lms.SubmissionsError, match="email address, ID number or username"):
        lms.moodle_export(worksheet, {}, "Flask")
    generic = lms.Roster("csv", ["Student number", "Name"], [{"Student number": "17", "Name": "Ann"}])
    assert parse(lms.moodle_export(generic, {"17": 1}, "Flask")) == [["Student number", "Flask"], ["17", "1"]]


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x.test\",\"Eve\")", "+1+1", "-2+3", "@SUM(A1)", "\tEve",
                                  "\rEve"])
def test_a_formula_looking_cell_is_made_text(tmp_path, name):
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["Student", "ID", "SIS Login ID", "Section"], [name, "1", "eve", "A"]])
    canvas = lms.read_roster(path)
    assert parse(lms.canvas_export(canvas, {"1": -1}, "Flask"))[1] == ["'" + name, "1", "", "eve", "A", "-1"]
    moodle = lms.Roster("csv", ["Full name", "Email address"], [{"Full name": name, "Email address": "e@x.test"}])
    assert parse(lms.moodle_export(moodle, {}, "Flask"))[1] == ["'" + name, "e@x.test", "0"]
    plain = lms.Roster("csv", ["Full name", "Email address"], [{"Full name": "Eve = Adam", "Email address": "e"}])
    assert parse(lms.moodle_export(plain, {}, "Flask"))[1][0] == "Eve = Adam"
