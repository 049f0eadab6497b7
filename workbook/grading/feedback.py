"""A student's feedback page: one self-contained HTML file, rendered from templates/feedback.html.

The grader fills a StudentPage (its exercises as ExerciseRows) and calls render(). Every string in it may be a
student's text (their id, what their code printed or raised), so the template escapes everything (autoescape) and
render() first replaces what cannot be written as UTF-8 (lone surrogates) or shown in HTML (control characters).

render() also rewrites two things the learner's check() says that are wrong or useless on a grader's page:

- "Well done!" belongs to a passed exercise only. On any other status it is dropped from the row's text; where the
  public checks passed but the hidden tests did not, the verdict gets the line HIDDEN_FAILED_LINE instead.
- Advice to run catch_up("04.1") only makes sense in the learner's notebook: ", or run catch_up(...) to go on" is cut
  out of its sentence, and any other sentence naming catch_up( is dropped (see without_notebook_advice).

The page has inline CSS and nothing else: no script, no font, no image, no link out. The same StudentPage always
gives the same text.
"""

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

__all__ = ["ExerciseRow", "StudentPage", "render", "format_points", "format_percent", "without_notebook_advice",
           "HIDDEN_FAILED_LINE"]

TEMPLATES = Path(__file__).with_name("templates")
HIDDEN_FAILED_LINE = "The checks you can run passed, but the hidden tests did not: see below."
STATUS_WORDS = {"passed": "Passed", "failed": "Failed", "missing": "Missing", "error": "Error", "flagged": "Flagged"}

WELL_DONE = re.compile(r"[ \t]*\bWell done!", re.IGNORECASE)
# ", or run catch_up("04.1") to go on" (and its variants without "run", with backticks, without "to go on")
CATCH_UP_CLAUSE = re.compile(r",?[ \t]+or[ \t]+(?:run[ \t]+)?`?catch_up\([^()\n]*\)`?(?:[ \t]+to[ \t]+go[ \t]+on)?")
SENTENCE_END = re.compile(r"(?<=[.!?:])[ \t]+")
# "3 of 3 hidden tests passed.": any other text in ExerciseRow.hidden says that the hidden tests did not all pass
ALL_HIDDEN_PASSED = re.compile(r"(\d+) of \1 hidden tests? passed\.?")
# C0 and C1 control characters other than tab, newline and carriage return are parse errors in HTML
UNSHOWABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass
class ExerciseRow:
    exercise: str  # "04.1"
    title: str  # "Only web links" (may be "")
    points: float  # may be fractional under partial credit (e.g. 1.5)
    max_points: float
    status: str  # passed, failed, missing, error, flagged
    # the public checks' verdict, as the learner's check() printed it (plain text lines, indented with spaces)
    verdict: list[str] = field(default_factory=list)
    hidden: str = ""  # e.g. "2 of 3 hidden tests passed." or "The hidden tests could not finish."
    hidden_failed: list[str] = field(default_factory=list)  # what each failed hidden test checks, one sentence each
    notes: list[str] = field(default_factory=list)  # the grader's notes: "builds on 04.1, which does not pass", ...
    override: str = ""  # the instructor's decision, e.g. "3 points, set by the instructor: regraded by hand"


@dataclass
class StudentPage:
    student: str  # the id (any text)
    name: str  # a display name, may be ""
    points: float
    max_points: float
    # top notes: which notebook was taken and why, "no chapter notebook was found", "handed in late (...)"
    notes: list[str] = field(default_factory=list)
    # (number, title, points, max) per chapter handed out
    chapters: list[tuple[str, str, float, float]] = field(default_factory=list)
    exercises: list[ExerciseRow] = field(default_factory=list)
    # "03.2 (its answer was handed out in chapter 04's cells)": shown in one small line, never as a row of points
    not_counted: list[str] = field(default_factory=list)


def format_points(value: float) -> str:
    """Return points as a person writes them: 2, 1.5, 1.33 (whole numbers without ".0", else up to 2 decimals)."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_percent(points: float, most: float) -> str:
    """Return points as a percent of most with one decimal ("62.5%"); "–" where there is nothing to earn."""
    points, most = float(points), float(most)
    if not most or not math.isfinite(points / most):
        return "–"
    return f"{100 * points / most:.1f}%"


def unit(most: float) -> str:
    """Return "point" after "of 1", else "points"."""
    return "point" if format_points(most) == "1" else "points"


def clean(text) -> str:
    """Return text that can be written as UTF-8 and shown in HTML: lone surrogates and control characters become �."""
    text = str(text)
    # a surrogate pair that came apart in two str pieces is joined again; a lone one becomes U+FFFD
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return UNSHOWABLE.sub("\ufffd", text)


def without_notebook_advice(line: str) -> str | None:
    """Return a verdict line without advice to run catch_up(), or None where nothing is left of it.

    'Solve it first, or run catch_up("04.1") to go on.' becomes 'Solve it first.'; any other sentence that names
    catch_up( is dropped. The line's indentation is kept."""
    if "catch_up(" not in line:
        return line
    line = CATCH_UP_CLAUSE.sub("", line)
    if "catch_up(" not in line:
        return line
    indent = line[: len(line) - len(line.lstrip())]
    kept = [sentence for sentence in SENTENCE_END.split(line.strip()) if "catch_up(" not in sentence]
    return indent + " ".join(kept) if kept else None


def without_well_done(text: str) -> str:
    return WELL_DONE.sub("", text)


def hidden_failed(row: ExerciseRow) -> bool:
    """Whether the row says that a hidden test failed or that the hidden tests could not finish."""
    hidden = clean(row.hidden).strip()
    return bool(row.hidden_failed) or bool(hidden and not ALL_HIDDEN_PASSED.fullmatch(hidden))


def texts(lines, passed: bool) -> list[str]:
    """Clean lines, without catch_up() advice and, unless passed, without "Well done!"."""
    result = []
    for line in lines:
        line = clean(line)
        if not passed:
            line = without_well_done(line)
        line = without_notebook_advice(line)
        if line is not None:
            result.append(line)
    return result


def text(value: str, passed: bool) -> str:
    return "\n".join(texts([value], passed)) if value else ""


def anchor(index: int, exercise_id: str) -> str:
    return f"exercise-{index}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", exercise_id, flags=re.ASCII)[:40]


def exercise_view(index: int, row: ExerciseRow) -> dict:
    passed = row.status == "passed"
    verdict = texts(row.verdict, passed)
    # the public checks passed ("Well done!" was there) but the exercise did not: say why, under the verdict
    if not passed and any(WELL_DONE.search(clean(line)) for line in row.verdict) and hidden_failed(row):
        verdict.append(HIDDEN_FAILED_LINE)
    status = clean(row.status)
    return {
        "anchor": anchor(index, clean(row.exercise)),
        "exercise": clean(row.exercise),
        "title": clean(row.title),
        "points": format_points(row.points),
        "max_points": format_points(row.max_points),
        "unit": unit(row.max_points),
        "status": status,
        "status_class": status if status in STATUS_WORDS else "other",
        "status_word": STATUS_WORDS.get(status, status.capitalize() or "Unknown"),
        "verdict": "\n".join(verdict),
        "hidden": text(row.hidden, passed),
        "hidden_failed": texts(row.hidden_failed, passed),
        "notes": texts(row.notes, passed),
        "override": text(row.override, passed),
    }


def page_view(page: StudentPage) -> dict:
    return {
        "student": clean(page.student),
        "name": clean(page.name),
        "points": format_points(page.points),
        "max_points": format_points(page.max_points),
        "unit": unit(page.max_points),
        "percent": format_percent(page.points, page.max_points),
        "notes": texts(page.notes, True),
        "chapters": [
            {"number": clean(number), "title": clean(title), "points": format_points(points),
             "max_points": format_points(most), "percent": format_percent(points, most)}
            for number, title, points, most in page.chapters
        ],
        "exercises": [exercise_view(index, row) for index, row in enumerate(page.exercises, 1)],
        "not_counted": texts(page.not_counted, True),
    }


_environment: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    global _environment
    if _environment is None:
        _environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        )
    return _environment


def render(page: StudentPage) -> str:
    """Return a student's feedback page as HTML (write it as UTF-8): the summary table, then each exercise."""
    return environment().get_template("feedback.html").render(page_view(page))
