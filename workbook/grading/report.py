"""The report of a class: results.json (every verdict, as plain values), grades.csv, totals.csv, the feedback pages,
the instructor's overrides, and the LMS exports."""

import csv
import functools
import hashlib
import json
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .. import chapters
from .. import folder as folders
from ..errors import LearnerError
from .judge import Result

FORMAT = 1
# every file a report writes: a new report moves the old ones to previous-<time>/ (overrides.csv is the instructor's)
REPORT_FILES = ("results.json", "grades.csv", "totals.csv", "feedback", "grading-log.txt", "canvas-import.csv",
                "moodle-import.csv")
OVERRIDES = "overrides.csv"


@dataclass
class StudentRecord:
    """One student's grade: where it came from, what the grader noticed, and each exercise's result."""

    student: str
    name: str = ""
    notes: list[str] = field(default_factory=list)
    late: str = ""
    hours_late: float | None = None
    roster_row: int | None = None
    results: list[Result] = field(default_factory=list)

    def points(self) -> float:
        return round(sum(r.points for r in self.results), 2)

    def max_points(self) -> float:
        return round(sum(r.max_points for r in self.results), 2)


@dataclass
class ClassReport:
    """What a grading run decided, with the settings it was graded under (a regrade and a merge must share them)."""

    settings: dict
    students: list[StudentRecord] = field(default_factory=list)
    roster: dict | None = None

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "settings": self.settings, "roster": self.roster,
                           "students": [asdict(s) for s in self.students]}, indent=1, ensure_ascii=True) + "\n"

    @classmethod
    def load(cls, out: Path) -> "ClassReport":
        """Read OUT/results.json, written by an earlier run; refuse anything else with one sentence."""
        path = out / "results.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("unknown format")
            names = {f.name for f in fields(Result)}
            students = [StudentRecord(**{**s, "results": [Result(**{k: v for k, v in r.items() if k in names})
                                                          for r in s["results"]]}) for s in data["students"]]
            return cls(data["settings"], students, data.get("roster"))
        except FileNotFoundError:
            raise LearnerError(f"{out} holds no results.json of an earlier grading run.") from None
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise LearnerError(f"{path} is not a report this grader wrote ({type(error).__name__}).") from None


# ---- names and cells ---------------------------------------------------------------------------------


DIGESTED = re.compile(r"-[0-9a-f]{8}$")


def safe_name(student: str) -> str:
    """Return a file name for a student's feedback: letters, digits, dot, dash and underscore only, one per id.

    An id that had to change gets a short digest of itself, so that "a b" and "a_b" keep a page each; so does an id
    that already ends like a digest, so that no student can choose an id equal to another's file name."""
    name = re.sub(r"[^\w.-]", "_", student, flags=re.ASCII).strip(".") or "student"
    if name == student and not DIGESTED.search(student):
        return name
    return f"{name}-{hashlib.sha256(student.encode('utf-8', 'replace')).hexdigest()[:8]}"


def as_text(value: str) -> str:
    """Keep a cell a spreadsheet would run as a formula (= + - @, or a tab or CR first) as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def number(value: float) -> str:
    """Write points as a person would: 3, not 3.0; 1.5; at most two decimals."""
    value = round(float(value), 2)
    return str(int(value)) if value.is_integer() else f"{value:g}"


@functools.cache
def exercise_title(exercise_id: str) -> str:
    """Return the heading of the notebook section an exercise stands in."""
    exercise = chapters.exercise(exercise_id)
    cells = folders.cells_of(exercise.chapter)
    for cell in reversed(cells[:exercise.solution_cells[0]]):
        if cell.get("cell_type") == "markdown":
            for line in chapters.source(cell).splitlines():
                if line.startswith("## "):
                    return line[3:].strip()
    return ""


# ---- overrides ---------------------------------------------------------------------------------------


def apply_overrides(out: Path, report: ClassReport) -> list[str]:
    """Apply OUT/overrides.csv (student, exercise, points, reason); return a line for each row that applies to nobody."""
    path = out / OVERRIDES
    if not path.exists():
        return []
    problems = []
    results = {(s.student, r.exercise): r for s in report.students for r in s.results}
    with open(path, newline="", encoding="utf-8-sig") as stream:
        for line, row in enumerate(csv.DictReader(stream), start=2):
            key = ((row.get("student") or "").strip(), (row.get("exercise") or "").strip())
            result = results.get(key)
            try:
                points = float((row.get("points") or "").strip())
            except ValueError:
                problems.append(f"{OVERRIDES}, line {line}: the points {row.get('points')!r} are not a number; ignored.")
                continue
            if result is None:
                problems.append(f"{OVERRIDES}, line {line}: no student {key[0]!r} with exercise {key[1]!r} was graded; ignored.")
                continue
            if not 0 <= points <= result.max_points:
                problems.append(f"{OVERRIDES}, line {line}: {number(points)} points is outside 0 to "
                                f"{number(result.max_points)} for {key[1]}; ignored.")
                continue
            reason = (row.get("reason") or "").strip()
            result.points = round(points, 2)
            result.override = f"{number(points)} of {number(result.max_points)} points, set by your instructor" + \
                              (f": {reason}" if reason else ".")
    return problems


# ---- writing the report ------------------------------------------------------------------------------


def move_previous(out: Path) -> Path | None:
    """Move an earlier report's files to OUT/previous-<time>-*/; return that folder."""
    previous = [out / name for name in REPORT_FILES if (out / name).exists()]
    if not previous:
        return None
    backup = Path(tempfile.mkdtemp(prefix=f"previous-{time.strftime('%Y%m%d-%H%M%S')}-", dir=out))
    for path in previous:
        shutil.move(str(path), backup / path.name)
    return backup


def write_report(out: Path, report: ClassReport, log: list[str], export: str = "", assignment: str = "") -> list[str]:
    """Write every file of the report into OUT (an earlier one moved aside first); return lines for the console."""
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    backup = move_previous(out)
    if backup:
        lines.append(f"the earlier report was moved to {backup}")
    (out / "results.json").write_text(report.to_json(), encoding="utf-8")
    lines += apply_overrides(out, report)
    overridden = sum(bool(r.override) for s in report.students for r in s.results)
    if overridden:
        lines.append(f"{overridden} result{'s' * (overridden != 1)} set by {OVERRIDES}")
    write_grades(out / "grades.csv", report)
    write_totals(out / "totals.csv", report)
    write_feedback(out / "feedback", report)
    (out / "grading-log.txt").write_text("\n".join(log) + ("\n" if log else ""), encoding="utf-8", errors="replace")
    if export:
        lines.append(write_export(out, report, export, assignment))
    return lines


def write_grades(path: Path, report: ClassReport) -> None:
    # a student's code chooses the text of its error messages: one that is not UTF-8 must not lose the report
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as stream:
        table = csv.writer(stream)
        table.writerow(["student", "exercise", "points", "max_points", "status", "late", "override"])
        for student in report.students:
            for result in student.results:
                table.writerow([as_text(student.student), result.exercise, number(result.points),
                                number(result.max_points), result.status, "yes" if student.late else "",
                                as_text(result.override)])


def chapter_points(student: StudentRecord, numbers: list[str]) -> list[str]:
    return [number(sum(r.points for r in student.results if r.exercise[:2] == n)) for n in numbers]


def write_totals(path: Path, report: ClassReport) -> None:
    numbers = list(report.settings["chapters"])
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as stream:
        table = csv.writer(stream)
        table.writerow(["student", "name", "points", "max_points", "percent", *[f"chapter {n}" for n in numbers],
                        "flagged", "error", "missing", "late", "hours_late"])
        for student in report.students:
            most = student.max_points()
            statuses = [r.status for r in student.results]
            table.writerow([as_text(student.student), as_text(student.name), number(student.points()), number(most),
                            f"{100 * student.points() / most:.1f}" if most else "0.0",
                            *chapter_points(student, numbers), statuses.count("flagged"), statuses.count("error"),
                            statuses.count("missing"), "yes" if student.late else "",
                            "" if student.hours_late is None else f"{student.hours_late:.2f}"])


def write_feedback(folder: Path, report: ClassReport) -> None:
    from .feedback import ExerciseRow, StudentPage, render

    folder.mkdir()
    left_out = report.settings.get("left_out", {})
    titles = {c.number: c.title for c in chapters.all_chapters()}
    for student in report.students:
        rows = [ExerciseRow(exercise=r.exercise, title=exercise_title(r.exercise), points=r.points,
                            max_points=r.max_points, status=r.status, verdict=list(r.lines), hidden=r.hidden,
                            hidden_failed=list(r.hidden_failed), notes=list(r.notes), override=r.override)
                for r in student.results]
        page = StudentPage(
            student=student.student, name=student.name, points=student.points(), max_points=student.max_points(),
            notes=[*student.notes, *([student.late] if student.late else [])],
            chapters=[(n, titles.get(n, ""), sum(r.points for r in student.results if r.exercise[:2] == n),
                       sum(r.max_points for r in student.results if r.exercise[:2] == n))
                      for n in report.settings["chapters"]],
            exercises=rows, not_counted=[f"{e} ({why})" for e, why in left_out.items()])
        (folder / f"{safe_name(student.student)}.html").write_text(render(page), encoding="utf-8", errors="replace")


def write_export(out: Path, report: ClassReport, kind: str, assignment: str) -> str:
    """Write the gradebook import file for Canvas or Moodle from the roster the class was graded with."""
    from . import lms

    if report.roster is None:
        raise LearnerError(f"--export {kind} needs --roster: the export has one row per student of the roster.")
    column = report.roster["match"]
    roster = lms.Roster(report.roster["kind"], report.roster["columns"], report.roster["rows"])
    totals: dict[str, float] = {}
    per_chapter: dict[str, dict[str, float]] = {f"{assignment} chapter {n}": {} for n in report.settings["chapters"]}
    for student in report.students:
        if student.roster_row is None:
            continue
        key = lms.roster_key(roster, roster.rows[student.roster_row], column)
        totals[key] = student.points()
        for n, points in zip(report.settings["chapters"], chapter_points(student, report.settings["chapters"])):
            per_chapter[f"{assignment} chapter {n}"][key] = float(points)
    extra = per_chapter if report.settings.get("export_chapters") else None
    if kind == "canvas":
        text, name = lms.canvas_export(roster, totals, assignment, extra, key_column=column), "canvas-import.csv"
    else:
        text, name = lms.moodle_export(roster, totals, assignment, extra, key_column=column), "moodle-import.csv"
    (out / name).write_text(text, encoding="utf-8")
    return f"{kind.capitalize()} import file: {out / name} (column {assignment!r})"


def merge_reports(parts: list[Path], out: Path, export: str = "", assignment: str = "") -> list[str]:
    """Join the reports of several shards (graded with the same settings) into one report in OUT."""
    reports = [ClassReport.load(part) for part in parts]
    first = reports[0]
    for part, report in zip(parts[1:], reports[1:]):
        if report.settings != first.settings or report.roster != first.roster:
            raise LearnerError(f"{part} was graded with other chapters, options or roster than {parts[0]}: "
                               "only shards of one grading command can be merged.")
    seen: dict[str, Path] = {}
    for part, report in zip(parts, reports):
        for student in report.students:
            if student.student in seen:
                raise LearnerError(f"{student.student!r} is graded in both {seen[student.student]} and {part}.")
            seen[student.student] = part
    students = sorted((s for r in reports for s in r.students), key=lambda s: s.student)
    logs = [(part / "grading-log.txt").read_text(encoding="utf-8", errors="replace").rstrip("\n")
            for part in parts if (part / "grading-log.txt").exists()]
    merged = ClassReport(first.settings, students, first.roster)
    lines = write_report(out, merged, [line for log in logs for line in log.splitlines()], export, assignment)
    return [*lines, f"merged {len(parts)} reports: {len(students)} students in {out}/"]
