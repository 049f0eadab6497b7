"""Read Canvas and Moodle bulk downloads and rosters, and write gradebook files they import.

What the LMSs write (from their source code and documentation):

Canvas, Assignment ▸ Download Submissions: one flat zip of
`<sortable name>[_LATE]_<user id>_<file id>_<file name>`. The sortable name ("Smith, John") is lower-cased and loses
every character that is not a letter, digit or underscore (`smithjohn`, `o_brienmary`); older Canvases wrote `late`
in lower case. The user id is the gradebook's `ID`; the second number is the file's (attachment's) id. A file that the
student uploaded twice under one name is renamed by Canvas to `name-1.ext`, `name-2.ext`. With anonymous grading the
prefix is `anon_<anonymous id>` and there is no name. Text and URL entries come as `<prefix>_text.html` and
`<prefix>_link.html`.

Canvas, Grades ▸ Export: `Student, ID, SIS User ID, SIS Login ID, Section` (SIS User ID only for teachers who may see
it; `LastName, FirstName` instead of `Student` where the course shows split names), custom columns, then one column
per assignment, `Title (assignment id)`, then totals. A row of "Manual Posting" (formerly "Muted") may follow the
header, then a `    Points Possible` row; the Test Student comes last. The user may pick `;` as separator and a BOM.
Grades ▸ Import reads the same layout: the header must start `Student, ID`, may have `SIS User ID, SIS Login ID`, and
its student columns must end with `Section`; the Points Possible and Manual Posting rows are optional. A student is
found by `ID`, then SIS User ID or SIS Login ID, then name. An assignment column is matched by the id in its
`(...)`, else by its exact title; an unknown title creates a new assignment.

Moodle, assignment ▸ Download all submissions: each participant's prefix is `<full name>_<participant number>`
(underscores in the name become spaces; blind marking writes "Participant" as the name; team submissions use the
group's name and id). With "Download submissions in folders" (the default since 3.1) each participant gets a folder
`<prefix>_assignsubmission_file_` (Moodle 3.1–4.0) or `<prefix>_assignsubmission_file` (4.1 on) holding the files as
uploaded, subfolders kept; without it the files are flat, `<prefix>_assignsubmission_file_<file name>`. Online text
comes as `..._assignsubmission_onlinetext_...`. The participant number is the grading worksheet's `Identifier`,
"Participant 1938201" (the word is translated; the number is not).

Moodle, assignment ▸ Download grading worksheet: a CSV (UTF-8 with a BOM) of `Identifier, Full name`, the site's
identity fields (`Email address`, `ID number`, ...), `Status, Grade, Maximum grade, Grade can be changed,
Last modified (submission)`, online text, `Last modified (grade), Feedback comments`. Times are written in the
downloading user's time zone with no offset, English ones as "Monday, 6 May 2024, 9:41 AM"; "-" for none.
Participants ▸ Download table data: `First name, Last name` and the identity fields.
Gradebook ▸ Import ▸ CSV file: any columns; the teacher maps one column to the user (email address, ID number,
username or user id) and the grade columns to grade items on the preview screen.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from ..errors import WorkbookError

LAYOUTS = ("folders", "canvas", "moodle")
# read from the left: a sortable name has no `_<digits>_` (Canvas removes those), a file name may
CANVAS_FILE = re.compile(
    r"(?:(?P<name>.*?)_)??(?:(?P<late>late)_)?(?P<user>\d+|anon_[A-Za-z0-9]+)_(?P<file_id>\d+)_(?P<file>.+)",
    re.IGNORECASE | re.DOTALL)
CANVAS_ENTRY = re.compile(r"(?:(?P<name>.*?)_)??(?:late_)?(?P<user>\d+|anon_[A-Za-z0-9]+)_(?:text|link)\.html",
                          re.IGNORECASE | re.DOTALL)
MOODLE_ENTRY = re.compile(r"(?P<name>.+?)_(?P<number>\d+)_assignsubmission_(?P<type>[a-z]+)(?:_(?P<file>.*))?",
                          re.DOTALL)
RESUBMITTED = re.compile(r"-\d+(?=\.[^.]*$)")  # Canvas's `-N` before the extension
IDENTIFIER = re.compile(r"\D*?(\d+)")  # "Participant 1938201", in any language
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_IDENTITY = ("Email address", "ID number", "Username")
MOODLE_NAMES = ("Full name", "First name", "Last name")
SUBMITTED = "Last modified (submission)"
MONTHS = {name: number for number, names in enumerate(
    ("jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july", "aug august",
     "sep sept september", "oct october", "nov november", "dec december"), 1) for name in names.split()}
MOODLE_TIME = re.compile(r"(?:[^\W\d]+,\s*)?(\d{1,2})\s+([^\W\d]+)\s+(\d{4}),?\s+(\d{1,2}):(\d{2})\s*([AaPp][Mm])?")
ISO_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class SubmissionsError(WorkbookError):
    heading = "Cannot grade"


@dataclass
class Submission:
    """One student's work in a submissions folder."""

    student: str
    sources: list[tuple[str, Path]] = field(default_factory=list)
    name: str = ""
    late: bool | None = None
    layout: str = "folders"


@dataclass
class Roster:
    """A class list: an LMS's export or any CSV with a header."""

    kind: str
    columns: list[str]
    rows: list[dict[str, str]]


# ---- submissions ---------------------------------------------------------------------------------------------------


def read_submissions(folder: Path, layout: str = "auto") -> tuple[list[Submission], list[str]]:
    """Group a submissions folder by student; return lines to print: the layout found, each entry skipped and why."""
    if not folder.is_dir():
        hint = " (unzip it first)" if folder.suffix.lower() == ".zip" else ""
        raise SubmissionsError(f"{folder} is not a folder of submissions{hint}.")
    if layout not in ("auto", *LAYOUTS):
        raise SubmissionsError(f"unknown layout {layout!r}: use auto, {', '.join(LAYOUTS)}.")
    entries = sorted(folder.iterdir(), key=lambda entry: entry.name)
    visible = [entry for entry in entries if not _hidden(entry.name)]
    chosen = _detect(visible) if layout == "auto" else layout
    read = {"folders": _read_folders, "canvas": _read_canvas, "moodle": _read_moodle}[chosen]
    students: dict[str, Submission] = {}
    skipped: list[str] = []
    for entry in entries:
        if reason := _hidden_reason(entry.name) or ("a symbolic link" if entry.is_symlink() else ""):
            skipped.append(f"skipped {entry.name}: {reason}")
        else:
            read(entry, students, skipped)
    found = sorted(students.values(), key=lambda submission: _id_order(submission.student))
    files = sum(len(submission.sources) for submission in found)
    lines = [{
        "folders": f"read as one folder or .zip per student: {len(found)} students",
        "canvas": f"read as a Canvas download: {files} files of {len(found)} students",
        "moodle": f"read as a Moodle download: {files} files of {len(found)} students",
    }[chosen], *skipped]
    if layout == "auto" and chosen == "folders" and len(visible) == 1 and visible[0].is_dir() \
            and _detect([inner for inner in visible[0].iterdir() if not _hidden(inner.name)]) != "folders":
        lines.append(f"note: {visible[0].name} looks like an LMS download itself: pass {visible[0]} instead")
    return found, lines


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _hidden_reason(name: str) -> str:
    if name == "__MACOSX":
        return "macOS archive metadata"
    return "a hidden file" if name.startswith(".") else ""


def _detect(entries: list[Path]) -> str:
    """Return the layout most entries follow: moodle, canvas, else folders."""
    moodle = sum(1 for entry in entries if MOODLE_ENTRY.fullmatch(entry.name))
    canvas = sum(1 for entry in entries if CANVAS_FILE.fullmatch(entry.name) or CANVAS_ENTRY.fullmatch(entry.name))
    # a flat Moodle file can look like a Canvas one ("..._file_01_02_x.ipynb"), never the other way round
    return "moodle" if 2 * moodle > len(entries) else "canvas" if 2 * canvas > len(entries) else "folders"


def _id_order(student: str) -> tuple:
    return (0, int(student), "") if student.isdigit() else (1, 0, student)


def _read_folders(entry: Path, students: dict[str, Submission], skipped: list[str]) -> None:
    """Add a folder or .zip as one student's submission."""
    if entry.is_dir():
        student = entry.name
    elif entry.suffix.lower() == ".zip" and entry.is_file():
        student = entry.stem
    else:
        skipped.append(f"skipped {entry.name}: not a folder or .zip")
        return
    if student in students:  # entries come in name order: a folder "alice" before "alice.zip"
        skipped.append(f"skipped {entry.name}: {student} also has a folder, which is used")
        return
    students[student] = Submission(student, [(entry.name, entry)])


def _read_canvas(entry: Path, students: dict[str, Submission], skipped: list[str]) -> None:
    """Add one file of a Canvas download to its student's submission."""
    found = CANVAS_FILE.fullmatch(entry.name)
    if not entry.is_file():
        reason = "a folder in a Canvas download, which holds files only"
    elif found:
        submission = students.setdefault(found["user"], Submission(
            found["user"], name=found["name"] or "", late=False, layout="canvas"))
        submission.sources.append((RESUBMITTED.sub("", found["file"]), entry))
        submission.late = submission.late or bool(found["late"])
        return
    elif CANVAS_ENTRY.fullmatch(entry.name):
        reason = "a text or URL entry, not a file"
    else:
        reason = "not named <name>_<user id>_<file id>_<file name> as Canvas names files"
    skipped.append(f"skipped {entry.name}: {reason}")


def _read_moodle(entry: Path, students: dict[str, Submission], skipped: list[str]) -> None:
    """Add one participant's folder, or one flat file, of a Moodle download to its student's submission."""
    found = MOODLE_ENTRY.fullmatch(entry.name)
    parts = []
    if not found:
        reason = "not named <full name>_<participant number>_assignsubmission_... as Moodle names them"
    elif found["type"] != "file":
        reason = f"a Moodle {found['type']} submission, not files"
    elif entry.is_dir():
        for inner in sorted(entry.iterdir(), key=lambda path: path.name):
            if inner_reason := _hidden_reason(inner.name) or ("a symbolic link" if inner.is_symlink() else ""):
                skipped.append(f"skipped {entry.name}/{inner.name}: {inner_reason}")
            else:
                parts.append((inner.name, inner))
        reason = "" if parts else "an empty folder"
    elif found["file"]:
        parts, reason = [(found["file"], entry)], ""
    else:
        reason = "named like a Moodle folder, but a file"
    if reason:
        skipped.append(f"skipped {entry.name}: {reason}")
    else:
        number = found["number"]
        students.setdefault(number, Submission(number, name=found["name"], layout="moodle")).sources.extend(parts)


# ---- rosters -------------------------------------------------------------------------------------------------------


def read_roster(path: Path) -> Roster:
    """Read a roster CSV (Canvas, Moodle or any with a header), whatever its encoding and separator."""
    try:
        text = _decode(path.read_bytes())
    except OSError as error:
        raise SubmissionsError(f"cannot read the roster {path}: {error.strerror or error}") from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=lambda candidate: len(next(csv.reader([first], delimiter=candidate))))
    table = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if any(map(str.strip, row))]
    if not table:
        raise SubmissionsError(f"the roster {path} is empty.")
    header = [name.strip() for name in table[0]]
    columns = list(dict.fromkeys(name for name in header if name))
    kind = _kind({name.casefold() for name in columns})
    rows = []
    for cells in table[1:]:
        if kind == "canvas" and _canvas_extra_row(cells):
            continue
        row: dict[str, str] = {}
        for index, name in enumerate(header):
            if name and name not in row:
                row[name] = cells[index] if index < len(cells) else ""
        rows.append(row)
    return Roster(kind, columns, rows)


def _decode(data: bytes) -> str:
    """Return a CSV file's text: UTF-8 (with or without a BOM), UTF-16 (Excel's "Unicode text"), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # what Excel's "CSV (Comma delimited)" writes on Windows


def _kind(columns: set[str]) -> str:
    """Tell the roster's kind from its case-folded column names."""
    if {"id", "section"} <= columns and ("student" in columns or "lastname" in columns):
        return "canvas"
    if "identifier" in columns:
        return "moodle-worksheet"
    return "moodle-participants" if {"first name", "last name"} <= columns else "csv"


def _canvas_extra_row(cells: list[str]) -> bool:
    """Tell Canvas's Points Possible and Manual Posting (or Muted) rows from a student's, as Canvas's import does."""
    if cells[0].strip() == "Points Possible":
        return True
    return all(re.fullmatch(r"\s*(muted|manual posting.*)?\s*", cell, re.IGNORECASE) for cell in cells)


def _column(roster: Roster, name: str) -> str | None:
    """Return the roster's spelling of a column, found whatever its case."""
    return next((column for column in roster.columns if column.casefold() == name.casefold()), None)


def _known_column(roster: Roster, name: str) -> str:
    if found := _column(roster, name):
        return found
    raise SubmissionsError(f"the roster has no column {name!r}; its columns are: {', '.join(roster.columns)}.")


def default_match(roster: Roster, layout: str) -> str:
    """Return the roster column a submission's id is matched against."""
    if roster.kind == "canvas":
        return (layout == "folders" and _column(roster, "SIS Login ID")) or _column(roster, "ID")
    if roster.kind == "moodle-worksheet":
        return _column(roster, "Identifier")
    return _column(roster, "Email address") or _column(roster, "ID number") or roster.columns[0]


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def _value(row: dict[str, str], column: str) -> str:
    """Return a row's id in a column: the cell stripped, and only the number of an Identifier."""
    value = row.get(column, "").strip()
    if column.casefold() == "identifier" and (number := IDENTIFIER.fullmatch(value)):
        return number[1]
    return value


def match(submissions: list[Submission], roster: Roster,
          column: str) -> tuple[dict[str, dict[str, str]], list[str], list[dict[str, str]]]:
    """Return {student id: roster row}, the submissions that match nobody, and the roster rows with no submission.

    The rule: a submission matches the row whose `column` holds its id, both stripped and case-folded (and in Unicode
    NFC); in an `Identifier` column only the number counts ("Participant 1938201" matches 1938201). An empty cell
    matches nothing. Two submissions for one row, or one submission for two rows, raise SubmissionsError: which work
    or which student to grade is the teacher's choice.
    """
    column = _known_column(roster, column)
    rows_by_key: dict[str, list[int]] = {}
    for index, row in enumerate(roster.rows):
        if key := _key(_value(row, column)):
            rows_by_key.setdefault(key, []).append(index)
    matched: dict[str, dict[str, str]] = {}
    taken: dict[int, str] = {}
    unmatched: list[str] = []
    for submission in submissions:
        found = rows_by_key.get(_key(submission.student), [])
        if len(found) > 1:
            raise SubmissionsError(f"{submission.student} matches {len(found)} roster rows in {column!r}: "
                                   "make the roster's values unique, or match on another column.")
        if not found:
            unmatched.append(submission.student)
        elif found[0] in taken:
            raise SubmissionsError(f"{taken[found[0]]} and {submission.student} both match the roster row with "
                                   f"{column} {roster.rows[found[0]][column]!r}: keep one of them.")
        else:
            taken[found[0]] = submission.student
            matched[submission.student] = roster.rows[found[0]]
    return matched, unmatched, [row for index, row in enumerate(roster.rows) if index not in taken]


def roster_key(roster: Roster, row: dict[str, str], column: str | None = None) -> str:
    """Return the id reports use for a roster row: its value in `column` (default: the roster's own id column)."""
    own = default_match(roster, "canvas" if roster.kind == "canvas" else "moodle")
    return _value(row, _known_column(roster, column) if column else own)


def submission_times(roster: Roster, tz: tzinfo | None = None) -> dict[str, datetime]:
    """Return a Moodle worksheet's "Last modified (submission)" times by roster_key; {} for other rosters.

    Moodle writes them in the downloading user's time zone and without an offset: pass that zone as `tz` for aware
    datetimes (naive without it). Times it cannot read ("-", or a language other than English) are left out.
    """
    column = _column(roster, SUBMITTED)
    if roster.kind != "moodle-worksheet" or column is None:
        return {}
    times = {}
    for row in roster.rows:
        if (when := _moodle_time(row.get(column, ""))) is not None:
            times[roster_key(roster, row)] = when.replace(tzinfo=tz)
    return times


def _moodle_time(text: str) -> datetime | None:
    """Read Moodle's English "Monday, 6 May 2024, 9:41 AM" (or an ISO time); None for anything else."""
    try:
        if found := MOODLE_TIME.fullmatch(text.strip()):
            day, month, year, hour, minute, half = found.groups()
            hour = int(hour) % 12 + (12 if half.casefold() == "pm" else 0) if half else int(hour)
            return datetime(int(year), MONTHS[month.casefold()], int(day), hour, int(minute))
        if found := ISO_TIME.match(text.strip()):
            return datetime(*map(int, found.groups()))
    except (KeyError, ValueError):  # an unknown month's name, a 31 June
        pass
    return None


# ---- gradebook files -----------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    """Write a grade as Canvas exports one: two decimals at most, none when whole."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text(value: str) -> str:
    """Make a cell that a spreadsheet would run as a formula plain text."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _scores(roster: Roster, totals: dict[str, float], extra: dict[str, dict[str, float]] | None,
            key_column: str | None) -> list[list[str]]:
    """Return each roster row's total and extra cells, found by its roster_key stripped and case-folded (else 0)."""
    columns = [{_key(key): value for key, value in column.items()} for column in (totals, *(extra or {}).values())]
    return [[_number(column.get(_key(roster_key(roster, row, key_column)), 0)) for column in columns]
            for row in roster.rows]


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def canvas_export(roster: Roster, totals: dict[str, float], assignment: str,
                  extra: dict[str, dict[str, float]] | None = None, key_column: str | None = None) -> str:
    """Return CSV text for Canvas's gradebook import, one row per roster row, in roster order.

    Columns: Student, ID, SIS User ID, SIS Login ID, Section, then `assignment` (the total), then the `extra` columns.
    Totals are keyed by the row's roster_key in `key_column` (default ID; pass the column the submissions were
    matched on), compared stripped and case-folded; a missing one is 0. Canvas finds each student by ID, and the
    assignment by the id in "Title (1234)", else by its exact title, else creates it.
    """
    if roster.kind != "canvas":
        raise SubmissionsError("a Canvas gradebook import needs Canvas's gradebook export as the roster.")
    rows = []
    for row, scores in zip(roster.rows, _scores(roster, totals, extra, key_column)):
        cells = {name: row.get(_column(roster, name) or name, "") for name in CANVAS_IDENTITY}
        if _column(roster, "Student") is None:  # an export with LastName, FirstName columns
            last, first = (row.get(_column(roster, name) or name, "") for name in ("LastName", "FirstName"))
            cells["Student"] = ", ".join(part for part in (last, first) if part)
        rows.append([_text(cells[name]) for name in CANVAS_IDENTITY] + scores)
    return _csv([*CANVAS_IDENTITY, assignment, *(extra or {})], rows)


def moodle_export(roster: Roster, totals: dict[str, float], assignment: str,
                  extra: dict[str, dict[str, float]] | None = None, key_column: str | None = None) -> str:
    """Return CSV text for Moodle's grade import, one row per roster row, in roster order.

    Columns: the roster's identifying ones (Email address, ID number, Username, `key_column` unless it is the
    worksheet's Identifier) and names (Full name, or First name and Last name), then `assignment` and the `extra`
    columns. Totals are keyed as in canvas_export, by default in the roster's own id column.
    """
    ids = {name.casefold() for name in MOODLE_IDENTITY}
    key = _known_column(roster, key_column) if key_column else default_match(roster, "moodle")
    if key.casefold() != "identifier":  # "Participant 1938201" means nothing to the gradebook
        ids.add(key.casefold())
    names = {name.casefold() for name in MOODLE_NAMES}
    identifying = [column for column in roster.columns if column.casefold() in ids | names]
    if not any(column.casefold() in ids for column in identifying):
        raise SubmissionsError("Moodle's grade import finds students by email address, ID number or username, "
                               f"and the roster has none of them (its columns: {', '.join(roster.columns)}).")
    rows = [[_text(row[column]) for column in identifying] + scores
            for row, scores in zip(roster.rows, _scores(roster, totals, extra, key_column))]
    return _csv([*identifying, assignment, *(extra or {})], rows)
