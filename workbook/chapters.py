"""Read the chapters, their exercises and the reference Bookshelf from the solution notebooks."""

import ast
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InstallError, LearnerError, WorkbookBug

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
# a student bundle has no solutions/: its chapters/ holds the chapter notebooks, unreleased answers left blank
BUNDLED_CHAPTERS = ROOT / "chapters"
if not SOLUTIONS.is_dir() and BUNDLED_CHAPTERS.is_dir():
    SOLUTIONS = BUNDLED_CHAPTERS
NOTEBOOKS = ROOT / "notebooks"
CHECKS = ROOT / "tests" / "checks"
# the tests grading adds to the public checks; never part of check() nor of a student bundle
HIDDEN = ROOT / "tests" / "hidden"

WRITEFILE = re.compile(r"^%%writefile\s+(?P<path>\S+)\s*$")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](?P<id>\d\d\.\d+)["']\s*\)""", re.ASCII)
CHAPTER_FILE = re.compile(r"^(?P<number>\d\d)_\w+\.ipynb$", re.ASCII)
CHAPTER_CHECK = re.compile(r"^test_(?P<number>\d\d)_\w+\.py$", re.ASCII)
# a chapter is asked for as "01", "1" or 1; ASCII digits only ("²".isdigit() is True, int("²") fails)
CHAPTER_NUMBER = re.compile(r"[0-9]{1,2}")
# a value longer than this is shown cut short in a message (a pasted 5,000-digit number)
SHOWN_LENGTH = 20
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
REPLAY_TAG = "workbook-replay"
REPLAY_PRELUDE = "from workbook import flask\n"


@dataclass(frozen=True)
class WrittenFile:
    """One %%writefile cell: where it stands and what it writes."""

    cell_index: int
    path: str
    text: str


@dataclass(frozen=True)
class Replay:
    """A code cell tagged `workbook-replay`: a command whose files (like `flask db init`'s) belong to the reference."""

    cell_index: int
    source: str

    @property
    def script(self) -> str:
        """Return the cell as a stand-alone script, with the import the notebook made earlier."""
        return REPLAY_PRELUDE + self.source


@dataclass(frozen=True)
class Exercise:
    """An exercise: its id, its check cell and the solution cells it asks for."""

    id: str
    chapter: str
    check_cell: int
    solution_cells: tuple[int, ...]


@dataclass(frozen=True)
class Chapter:
    """A chapter notebook with the files it writes and the exercises it checks."""

    number: str
    name: str
    title: str
    files: tuple[WrittenFile, ...]
    exercises: tuple[Exercise, ...]
    # paths the chapter makes afresh with commands (e.g. `flask db init`); a previous run's are set aside
    creates: tuple[str, ...] = ()
    # files of earlier chapters this one retires: later chapters do not restore them
    removes: tuple[str, ...] = ()
    # reference files this chapter always starts from, because its commands read them (a learner's copy is backed up)
    resets: tuple[str, ...] = ()
    replays: tuple[Replay, ...] = ()
    # exercises whose answer this copy of the workbook does not hold (a student bundle): their cells are blank
    unreleased: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.name}.ipynb"

    def check_file(self) -> Path:
        return CHECKS / f"test_{self.name}.py"

    def hidden_file(self) -> Path:
        return HIDDEN / f"test_{self.name}.py"


def source(cell) -> str:
    """Return a cell's source as one string (the .ipynb format may store a list of lines)."""
    text = cell.get("source", "")
    return text if isinstance(text, str) else "".join(text)


def is_solution_cell(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def file_text(body: str) -> str:
    """Return what IPython's %%writefile writes for a cell body, without nbgrader's markers."""
    lines, hidden = [], False
    for line in body.split("\n"):
        if HIDDEN_BEGIN in line:
            hidden = True
        elif HIDDEN_END in line:
            hidden = False
        elif not hidden and not any(marker in line for marker in SOLUTION_MARKERS):
            lines.append(line)
    text = "\n".join(lines)
    return text if text.endswith("\n") else text + "\n"


def writefile_cell(cell) -> tuple[str, str] | None:
    """Return (path, body) of a %%writefile code cell, or None for any other cell."""
    if cell.get("cell_type") != "code":
        return None
    first, _, body = source(cell).partition("\n")
    match = WRITEFILE.match(first.strip())
    return (match["path"], body) if match else None


def shown_value(value) -> str:
    """Show a value the learner passed, cut short when it is long (a pasted 5,000-digit number)."""
    try:
        text = repr(value)
    except Exception:
        # repr of a huge int raises ValueError (Python's limit on digits); other objects may raise anything
        kind = type(value).__name__
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} too long to show"
    return text if len(text) <= SHOWN_LENGTH else f"{text[:SHOWN_LENGTH]}… ({len(text)} characters)"


def read_notebook(path: Path) -> dict:
    """Return a solution notebook's JSON, or say which file is damaged."""
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    try:
        # plain json rather than nbformat: importing nbformat costs a learner a second at every chapter start
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InstallError(f"The solution notebook {name} could not be read ({error.strerror or error}).") from None
    except UnicodeDecodeError:
        raise InstallError(f"The solution notebook {name} is damaged: it is not UTF-8 text.") from None
    except ValueError as error:
        reason = f"{error.msg} at line {error.lineno}" if isinstance(error, json.JSONDecodeError) else str(error)
        raise InstallError(f"The solution notebook {name} is damaged or cut short ({reason}).") from None
    if not (isinstance(notebook, dict) and isinstance(notebook.get("cells"), list)
            and all(isinstance(cell, dict) for cell in notebook["cells"])):
        raise InstallError(f"The solution notebook {name} is damaged: it is not a notebook with a list of cells.")
    return notebook


def read_chapter(path: Path) -> Chapter:
    """Parse one solution notebook into a Chapter."""
    notebook = read_notebook(path)
    try:
        return parse_chapter(path, notebook)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        # valid JSON in the wrong shape: a cell without a type, metadata that is not a mapping, ...
        name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        raise InstallError(
            f"The solution notebook {name} is damaged: it is not a notebook the workbook can read "
            f"({type(error).__name__} {error})."
        ) from None


def parse_chapter(path: Path, notebook: dict) -> Chapter:
    """Turn a solution notebook's JSON into a Chapter."""
    number = CHAPTER_FILE.match(path.name)["number"]
    cells = notebook["cells"]
    heading = next((source(c).split("\n", 1)[0] for c in cells if c["cell_type"] == "markdown"), path.stem)
    # "# 01 · Flask: ..." gives the title "Flask: ..."
    title = re.sub(r"^#*\s*\d\d\s*·\s*", "", heading).strip()
    files, exercises, pending, replays = [], [], [], []
    for index, cell in enumerate(cells):
        written = writefile_cell(cell)
        if written:
            files.append(WrittenFile(index, written[0], file_text(written[1])))
        if REPLAY_TAG in cell.get("metadata", {}).get("tags", ()):
            replays.append(Replay(index, source(cell)))
        if is_solution_cell(cell):
            pending.append(index)
        if cell["cell_type"] == "code":
            for match in CHECK_CALL.finditer(source(cell)):
                exercises.append(Exercise(match["id"], number, index, tuple(pending)))
                pending = []
    settings = notebook.get("metadata", {}).get("workbook", {})
    return Chapter(
        number, path.stem, title, tuple(files), tuple(exercises),
        tuple(settings.get("creates", ())), tuple(settings.get("removes", ())), tuple(settings.get("resets", ())),
        tuple(replays), tuple(settings.get("unreleased", ())),
    )


@functools.cache
def _chapters(stamp) -> tuple[Chapter, ...]:
    return tuple(read_chapter(path) for path, _ in stamp)


def all_chapters() -> tuple[Chapter, ...]:
    """Return every chapter in order, re-read only when a solution notebook changed."""
    if not SOLUTIONS.is_dir():
        raise InstallError(f"The solution notebooks are not in {SOLUTIONS}.")
    paths = sorted(p for p in SOLUTIONS.glob("*.ipynb") if CHAPTER_FILE.match(p.name))
    return _chapters(tuple((p, p.stat().st_mtime_ns) for p in paths))


def chapter(number: str) -> Chapter:
    """Return the chapter with this two-digit number, or explain which ones exist."""
    if isinstance(number, bool) or not isinstance(number, (str, int)):
        raise LearnerError(f'A chapter is named by its two-digit number in quotes, like "01", not {shown_value(number)}.')
    wanted = number.strip() if isinstance(number, str) else shown_value(number)
    if CHAPTER_NUMBER.fullmatch(wanted):
        wanted = f"{int(wanted):02d}"
    for found in all_chapters():
        if found.number == wanted:
            return found
    known = ", ".join(c.number for c in all_chapters())
    raise LearnerError(f"There is no chapter {shown_value(number)}; the chapters are {known}.")


def exercise(exercise_id: str) -> Exercise:
    """Return the exercise with this id (like "01.2"), or explain which ones exist."""
    if not isinstance(exercise_id, str):
        # check(1.2) loses the leading zero, and check(01.2) is a syntax error: ask for the quotes
        raise LearnerError(f'An exercise is named by its number in quotes, like "01.2", not {shown_value(exercise_id)}.')
    for found in all_chapters():
        for candidate in found.exercises:
            if candidate.id == exercise_id:
                return candidate
    known = ", ".join(e.id for c in all_chapters() for e in c.exercises)
    raise LearnerError(f"There is no exercise {shown_value(exercise_id)}; the exercises are {known}.")


def is_released(exercise_id: str) -> bool:
    """Tell whether this copy of the workbook holds an exercise's answer (a student bundle may not)."""
    found = exercise(exercise_id)
    return found.id not in chapter(found.chapter).unreleased


def state_before(number: str) -> dict[str, str]:
    """Return the reference files, path to text, as they stand when a chapter starts."""
    files: dict[str, str] = {}
    start = chapter(number).number
    for earlier in all_chapters():
        if earlier.number >= start:
            break
        files.update((f.path, f.text) for f in earlier.files)
        for retired in earlier.removes:
            files.pop(retired, None)
    return files


ANSWER_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(?P<answer>.*?)^[ \t]*### END SOLUTION", re.S | re.M)


def answer_lines(exercise: Exercise) -> list[str]:
    """Return the lines of an exercise's answer that say something: stripped, without blanks and comments."""
    cells = read_notebook(SOLUTIONS / chapter(exercise.chapter).filename)["cells"]
    text = "".join(match["answer"] for i in exercise.solution_cells for match in ANSWER_REGION.finditer(source(cells[i])))
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def answers_given_away(number: str) -> list[str]:
    """Return the earlier exercises whose whole answer a chapter's given (non-exercise) cells repeat.

    Handing out that chapter hands out those answers too."""
    given_chapter = chapter(number)
    cells = read_notebook(SOLUTIONS / given_chapter.filename)["cells"]
    exercise_cells = {i for exercise in given_chapter.exercises for i in exercise.solution_cells}
    given = {line.strip() for i, cell in enumerate(cells)
             if cell.get("cell_type") == "code" and i not in exercise_cells for line in source(cell).splitlines()}
    found = []
    for earlier in all_chapters():
        if earlier.number >= given_chapter.number:
            break
        for exercise in earlier.exercises:
            lines = answer_lines(exercise)
            if lines and all(line in given for line in lines):
                found.append(exercise.id)
    return found


def declared(check_file: Path, name: str, default=None):
    """Return a literal that a check file declares at its top level (POINTS, NEEDS, SUITES), without importing it."""
    for node in ast.parse(check_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    if default is not None:
        return default
    raise WorkbookBug(f"{check_file.name} declares no {name}")
