"""Build a scratch nbgrader course from the workbook and grade it with nbgrader's own command line.

Importable without pytest (the grading benchmark times autograde with it): `sys.path.insert(0, "tests")`.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from workbook import chapters

# one assignment holds every chapter, as a learner's notebooks/ folder does: the chapters share one bookshelf/
ASSIGNMENT = "workbook"
# nbgrader's default limit per cell is 30 s; the slowest cell took 14 s here on two busy cores (05.1's check), and
# a check allows itself 120 s (WORKBOOK_CHECK_TIMEOUT): a loaded CI machine must not turn a slow pass into a zero
CELL_TIMEOUT = 180


def make_course(
    root: Path, numbers: list[str] | None = None, assignment: str = ASSIGNMENT, cell_timeout: int = CELL_TIMEOUT,
) -> Path:
    """Make an nbgrader course in root whose assignment holds the solution notebooks of these chapters (all if None).

    Nothing else is copied: the notebooks import the installed workbook and write bookshelf/ beside themselves.
    """
    root.mkdir(parents=True, exist_ok=True)
    source = root / "source" / assignment
    source.mkdir(parents=True)
    for chapter in chapters.all_chapters():
        if numbers is None or chapter.number in numbers:
            shutil.copy(chapters.SOLUTIONS / chapter.filename, source / chapter.filename)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'flask-workbook'\n"
        f"c.Execute.timeout = {cell_timeout}\n",
        encoding="utf-8",
    )
    return root


def environment(course: Path) -> dict[str, str]:
    """Return an environment in which Jupyter, IPython and nbgrader read and write only inside the course."""
    private = course / ".home"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "IPYTHON", "PYTEST"))}
    env.update(
        HOME=str(private),
        JUPYTER_CONFIG_DIR=str(private / "config"),
        JUPYTER_DATA_DIR=str(private / "data"),
        JUPYTER_RUNTIME_DIR=str(private / "runtime"),
        # no system or environment-wide Jupyter settings either: only the course's nbgrader_config.py
        JUPYTER_CONFIG_PATH=str(private / "config"),
        IPYTHONDIR=str(private / "ipython"),
        # jupyter_core warns about its coming move to platformdirs unless this opts in (the dirs above are explicit)
        JUPYTER_PLATFORM_DIRS="1",
        # nbgrader runs `alembic` by name to check its gradebook: this environment's scripts come first
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )
    return env


def nbgrader(course: Path, *arguments: str, timeout: float = 1800) -> str:
    """Run an nbgrader command in the course and return its log; raise with the log if it fails or times out."""
    # its own process group, so that a time-out ends nbgrader and what it started (a kernel ends with its parent)
    process = subprocess.Popen(
        [sys.executable, "-m", "nbgrader", *arguments], cwd=course, env=environment(course),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        log, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        log, _ = process.communicate()
        raise RuntimeError(f"nbgrader {' '.join(arguments)} took more than {timeout} s:\n{log}") from None
    if process.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(arguments)} exited with {process.returncode}:\n{log}")
    return log


def generate(course: Path, assignment: str = ASSIGNMENT) -> Path:
    """Generate the student version of the assignment and return its release folder."""
    nbgrader(course, "generate_assignment", assignment, "--force")
    return course / "release" / assignment


def submit(course: Path, student: str, notebooks: dict[str, Path], assignment: str = ASSIGNMENT) -> Path:
    """Put a student's notebooks (file name to the notebook to copy) where nbgrader collects submissions."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    for name, notebook in notebooks.items():
        shutil.copy(notebook, folder / name)
    return folder


def autograde(
    course: Path, assignment: str = ASSIGNMENT, student: str = "*", timeout: float = 1800,
) -> dict[str, dict[str, tuple[float, float]]]:
    """Autograde the submissions of the students that match `student` (an id or a glob, as nbgrader's --student),
    one after the other as nbgrader does; return, per student and notebook, (score, max score)."""
    nbgrader(course, "autograde", assignment, f"--student={student}", "--force", timeout=timeout)
    return read_gradebook(course, assignment)


def cell_scores(course: Path, assignment: str = ASSIGNMENT) -> dict[str, dict[str, tuple[float, float]]]:
    """Read, per student and graded cell (its grade_id), (score, max score) from the course's gradebook."""
    return read_gradebook(course, assignment, by_cell=True)


# nbgrader's Gradebook is read in a child process, so its imports and warnings stay out of the caller's
GRADEBOOK_READER = """
import json, sys
from nbgrader.api import Gradebook

url, assignment, by_cell = sys.argv[1], sys.argv[2], sys.argv[3] == "cells"
found = {}
with Gradebook(url) as book:
    for submission in book.assignment_submissions(assignment):
        mine = found.setdefault(submission.student.id, {})
        for notebook in submission.notebooks:
            if by_cell:
                mine.update({grade.name: (grade.score, grade.max_score) for grade in notebook.grades})
            else:
                mine[notebook.name + ".ipynb"] = (notebook.score, notebook.max_score)
print(json.dumps(found))
"""


def read_gradebook(
    course: Path, assignment: str = ASSIGNMENT, by_cell: bool = False,
) -> dict[str, dict[str, tuple[float, float]]]:
    """Read, per student, each notebook's (or with by_cell, each graded cell's) (score, max score)."""
    done = subprocess.run(
        [sys.executable, "-c", GRADEBOOK_READER, f"sqlite:///{course / 'gradebook.db'}", assignment,
         "cells" if by_cell else "notebooks"],
        check=False, cwd=course, env=environment(course), capture_output=True, text=True, timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"reading the gradebook failed:\n{done.stderr}")
    return {
        student: {key: tuple(pair) for key, pair in found.items()}
        for student, found in json.loads(done.stdout).items()
    }
