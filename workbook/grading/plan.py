"""What a grading run grades: the course's chapters and counted exercises, and each exercise's blank folder."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import chapters, reference
from .. import folder as folders
from ..errors import LearnerError, WorkbookBug

RANGE = re.compile(r"^(\d\d)(?:-(\d\d))?$", re.ASCII)


@dataclass
class Course:
    """The chapters a class was handed, and the exercises left out of the totals (with why)."""

    chapters: tuple[str, ...]
    # exercise id: why its points are not counted (its answer was handed out)
    left_out: dict[str, str] = field(default_factory=dict)
    # how the chapters were chosen, for the console and the log
    source: str = ""

    def exercises(self) -> list[chapters.Exercise]:
        """Return the exercises to grade: every exercise of the course's chapters that is counted."""
        return [e for c in chapters.all_chapters() if c.number in self.chapters for e in c.exercises
                if e.id not in self.left_out]


def course_from_manifest(path: Path, count_released: bool) -> Course:
    """Read the course a bundle handed out from the manifest `bundle` wrote beside it."""
    from ..bundle import read_manifest

    manifest = read_manifest(path)
    reasons = {e: "its answer was released with the bundle" for e in manifest["released"]}
    for given in manifest["chapters"]:
        for exercise_id in chapters.answers_given_away(given):
            if exercise_id in manifest["given_away"]:
                reasons.setdefault(exercise_id, f"its answer is in chapter {given}'s given cells")
    for exercise_id in manifest["given_away"]:
        reasons.setdefault(exercise_id, "its answer was handed out with the bundle")
    return Course(tuple(manifest["chapters"]), {} if count_released else reasons, f"the course file {path.name}")


def course_from_range(text: str, count_released: bool) -> Course:
    """Read `--chapters`: NN-MM or NN, or several separated by commas."""
    numbers: set[str] = set()
    known = [c.number for c in chapters.all_chapters()]
    for part in text.split(","):
        found = RANGE.match(part.strip())
        if not found or found[1] not in known or (found[2] or found[1]) not in known or (found[2] or found[1]) < found[1]:
            raise LearnerError(f"--chapters takes chapter numbers like 00-05 or 01,03 (chapters {known[0]} to "
                               f"{known[-1]}), not {text!r}.")
        numbers.update(n for n in known if found[1] <= n <= (found[2] or found[1]))
    return given_away_left_out(tuple(sorted(numbers)), count_released, f"--chapters {text}")


def given_away_left_out(numbers: tuple[str, ...], count_released: bool, source: str) -> Course:
    """Return a course of these chapters; an answer that a later chapter's given cells repeat is left out."""
    left_out: dict[str, str] = {}
    if not count_released:
        for given in numbers:
            for exercise_id in chapters.answers_given_away(given):
                if exercise_id.split(".")[0] in numbers:
                    left_out.setdefault(exercise_id, f"its answer is in chapter {given}'s given cells")
    return Course(numbers, left_out, source)


# ---- what the workbook declares ----------------------------------------------------------------------


@dataclass
class Declarations:
    """What the check files declare: points, the exercises each builds on, and the answers that are test suites."""

    points: dict[str, int]
    needs: dict[str, list[str]]
    suites: set[str]

    @classmethod
    def read(cls) -> "Declarations":
        every = chapters.all_chapters()
        return cls(points={e: p for c in every for e, p in chapters.declared(c.check_file(), "POINTS").items()},
                   needs={e: n for c in every for e, n in chapters.declared(c.check_file(), "NEEDS").items()},
                   suites={e for c in every for e in chapters.declared(c.check_file(), "SUITES", [])})


# ---- an exercise's folder ----------------------------------------------------------------------------


def blank_text(number: str, written: chapters.WrittenFile) -> str:
    """Return what an exercise's %%writefile cell writes in the student notebook: the answer is a stub."""
    body = chapters.writefile_cell(folders.cells_of(number)[written.cell_index])[1]
    return chapters.file_text(folders.SOLUTION_REGION.sub(lambda m: folders.STUB.format(indent=m["indent"]), body))


def exercise_cells(chapter: chapters.Chapter) -> set[int]:
    return {index for exercise in chapter.exercises for index in exercise.solution_cells}


def build_base(folder: Path, exercise: chapters.Exercise) -> None:
    """Build the folder a learner has at an exercise's check, with every exercise of every chapter blank."""
    chapter = chapters.chapter(exercise.chapter)
    files: dict[str, str] = {}
    for earlier in chapters.all_chapters():
        if earlier.number >= chapter.number:
            break
        answers = exercise_cells(earlier)
        for written in earlier.files:
            files[written.path] = blank_text(earlier.number, written) if written.cell_index in answers else written.text
        for retired in earlier.removes:
            files.pop(retired, None)
    for relative, text in files.items():
        reference.write(folder, relative, text)
    answers = exercise_cells(chapter)
    for step in sorted([*chapter.files, *chapter.replays], key=lambda step: step.cell_index):
        if step.cell_index > exercise.check_cell:
            break
        if isinstance(step, chapters.Replay):
            reference.replay(folder, step)
        else:
            reference.write(folder, step.path, blank_text(chapter.number, step) if step.cell_index in answers else step.text)


def answer_cells(exercise: chapters.Exercise, needs: dict[str, list[str]]) -> list[int]:
    """Return the solution cells whose student text goes into an exercise's folder: its own and those it builds on."""
    chapter = chapters.chapter(exercise.chapter)
    wanted = [exercise.id, *needs.get(exercise.id, [])]
    cells = sorted(i for other in chapter.exercises if other.id in wanted for i in other.solution_cells)
    # a student's text is laid over the blank folder: that is the folder the learner had only if nothing after the
    # cell (before the check) writes the same file or runs a command that reads it
    for index in cells:
        path = next(w.path for w in chapter.files if w.cell_index == index)
        later = [s for s in (*chapter.files, *chapter.replays) if index < s.cell_index <= exercise.check_cell
                 and (isinstance(s, chapters.Replay) or s.path == path)]
        if later:
            raise WorkbookBug(f"Exercise {exercise.id} cannot be graded from its answer: cell {later[0].cell_index} "
                              f"changes what cell {index} wrote before the check")
    return cells
