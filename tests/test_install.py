"""Installing: the Makefiles (the workbook's and the student bundle's) find a Python 3.11 or newer by running each
candidate, make .venv again when another Python made it, and install each size through the locks; the editable install
puts no finder in grading's way.

The interpreter tests run the real Makefile with real interpreters (`python -m venv` included), and only pip replaced
(PIP=true): a real install takes a minute, and `make lab` from a fresh clone is measured by hand (README).
"""

import glob
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from submissions import notebook, solved_text, with_answer, write_student
from workbook import bundle, chapters
from workbook.__main__ import main

pytestmark = pytest.mark.skipif(shutil.which("make") is None or os.name == "nt", reason="make and a Unix shell needed")

ROOT = chapters.ROOT
MAKE = shutil.which("make") or "make"
STAMP = ".venv/.installed"
MAKEFILES = {"workbook": lambda: (ROOT / "Makefile").read_text(encoding="utf-8"), "bundle": lambda: bundle.MAKEFILE}
# the Python running the tests, as the Makefile names it: what the stamp records
ASK = 'import sys; print(sys.version_info >= (3, 11), "Python %d.%d.%d at" % sys.version_info[:3], sys.executable)'


def identity(python: str) -> str:
    """Return what the Makefile's stamp records for an interpreter: "Python 3.12.3 at /usr/bin/python3.12"."""
    answer = subprocess.run([python, "-c", ASK], capture_output=True, text=True, check=True, timeout=60).stdout
    assert answer.startswith("True "), answer
    return answer[5:].strip()


def base_python() -> str:
    """The interpreter behind the one running the tests (not the .venv's)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def other_python(tmp_path: Path) -> str:
    """Return a second interpreter of 3.11 or newer: another version on this machine if there is one, else a venv of
    this one (another interpreter as far as the stamp can tell: its own path)."""
    mine = platform.python_version()
    names = {shutil.which(f"python3.{minor}") for minor in range(11, 30)} | set(glob.glob("/usr/bin/python3.1[1-9]"))
    names |= set(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[1-9]*/bin/python3")))
    for name in sorted(n for n in names if n):
        found = subprocess.run([name, "-c", ASK], capture_output=True, text=True, timeout=60)
        if found.returncode == 0 and found.stdout.startswith("True ") and f"Python {mine} " not in found.stdout:
            return name
    subprocess.run([base_python(), "-m", "venv", "--without-pip", str(tmp_path / "twin")], check=True, timeout=120)
    return str(tmp_path / "twin" / "bin" / "python")


def folder_with(tmp_path: Path, makefile: str) -> Path:
    """A folder with a Makefile and the files its install needs."""
    folder = tmp_path / "workbook"
    (folder / "requirements").mkdir(parents=True)
    (folder / "Makefile").write_text(MAKEFILES[makefile](), encoding="utf-8")
    for name in ("pyproject.toml", "requirements/learner.txt", "requirements/test.txt"):
        shutil.copyfile(ROOT / name, folder / name)
    return folder


def make(folder: Path, *arguments: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": path if path is not None else os.environ["PATH"]}
    env.pop("PYTHON", None)
    env.pop("MAKEFLAGS", None)
    return subprocess.run([MAKE, "--no-print-directory", *arguments], cwd=folder, capture_output=True, text=True,
                          timeout=600, env=env)


def install(folder: Path, *arguments: str, path: str | None = None) -> subprocess.CompletedProcess:
    """Run the learner's install with pip replaced: `python -m venv` and the stamp are the real ones."""
    return make(folder, STAMP, "PIP=true", "VENV_OPTIONS=--without-pip", *arguments, path=path)


def fake_python(folder: Path, name: str, version: str) -> Path:
    """A stand-in for an old Python: it answers the version question as that version would, and does nothing else."""
    script = folder / name
    script.write_text(
        f"#!{base_python()}\n"
        "import sys\n"
        f"sys.version_info = {tuple(int(n) for n in version.split('.')) + ('final', 0)!r}\n"
        f"sys.version = {version + ' (a stand-in)'!r}\n"
        "sys.executable = __file__\n"
        "if sys.argv[1:2] != ['-c']:\n"
        "    sys.exit('this stand-in only answers -c')\n"
        "exec(sys.argv[2])\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def failing_shim(folder: Path, name: str) -> Path:
    """A name on PATH that does not run, as pyenv's shim for a version that is not selected."""
    script = folder / name
    script.write_text(f"#!/bin/sh\necho 'pyenv: {name}: command not found' >&2\nexit 127\n", encoding="utf-8")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("makefile", list(MAKEFILES))
def test_a_venv_made_by_another_python_is_made_again_after_saying_so(tmp_path, makefile):
    folder = folder_with(tmp_path, makefile)
    first, second = base_python(), other_python(tmp_path)
    done = install(folder, f"PYTHON={first}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (folder / STAMP).read_text().strip() == identity(first)
    (folder / ".venv" / "made-by-the-first").touch()

    again = install(folder, f"PYTHON={first}")
    assert again.returncode == 0 and "-m venv" not in again.stdout, again.stdout  # the same Python: nothing to do

    other = install(folder, f"PYTHON={second}")
    assert other.returncode == 0, other.stdout + other.stderr
    said = f".venv was made by {identity(first)}; making it again with {identity(second)}"
    assert said in other.stdout
    assert other.stdout.index(said) < other.stdout.index("-m venv --without-pip .venv")  # said before it is done
    assert not (folder / ".venv" / "made-by-the-first").exists()
    assert (folder / STAMP).read_text().strip() == identity(second)
    version = "import platform; print(platform.python_version())"
    made = subprocess.run([folder / ".venv" / "bin" / "python", "-c", version], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert made == identity(second).split()[1]

    # without PYTHON, the Python that made .venv is kept, although another comes first on PATH
    kept = install(folder)
    assert kept.returncode == 0 and "-m venv" not in kept.stdout and "making it again" not in kept.stdout, kept.stdout


def test_an_install_that_did_not_finish_is_made_again(tmp_path):
    folder = folder_with(tmp_path, "workbook")
    (folder / ".venv" / "bin").mkdir(parents=True)  # a .venv without a stamp: pip stopped, or another Makefile made it
    done = install(folder, f"PYTHON={base_python()}")
    assert done.returncode == 0, done.stderr
    said = ".venv was made by an install that did not finish or did not record its Python; making it again"
    assert said in done.stdout


@pytest.mark.parametrize("makefile", list(MAKEFILES))
def test_a_python_too_old_is_refused_with_where_to_get_one_and_the_venv_kept(tmp_path, makefile):
    folder = folder_with(tmp_path, makefile)
    assert install(folder, f"PYTHON={base_python()}").returncode == 0
    old = fake_python(tmp_path, "python3.10", "3.10.13")
    refused = install(folder, f"PYTHON={old}")
    assert refused.returncode != 0
    assert f"{old}: Python 3.10.13\n" in refused.stdout
    sentence = refused.stdout.strip().splitlines()[-1]
    assert sentence.startswith("The workbook needs Python 3.11 or newer: on Ubuntu, sudo add-apt-repository ppa:")
    for where in ("uv python install", "on macOS", "python.org", "brew install", "on Windows", "winget install"):
        assert where in sentence
    assert (folder / STAMP).read_text().strip() == identity(base_python()), "a working .venv stays"


def test_names_on_path_that_do_not_run_are_skipped_and_no_version_is_hard_coded(tmp_path):
    folder = folder_with(tmp_path, "workbook")
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    failing_shim(bin_folder, "python3")
    failing_shim(bin_folder, "python3.13")
    fake_python(bin_folder, "python3.10", "3.10.13")
    # a version no Makefile could know of: found because it is on PATH, and taken as the newest
    (bin_folder / "python3.42").symlink_to(base_python())
    done = install(folder, path=f"{bin_folder}:{os.environ['PATH']}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (folder / STAMP).read_text().strip() == f"Python {platform.python_version()} at {bin_folder / 'python3.42'}"


def test_without_any_python_make_says_where_to_get_one_and_clean_still_works(tmp_path):
    folder = folder_with(tmp_path, "workbook")
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("ls", "grep", "sort", "cat", "rm"):
        (tools / tool).symlink_to(shutil.which(tool))
    failing_shim(tools, "python3")
    fake_python(tools, "python3.10", "3.10.13")
    refused = install(folder, path=str(tools))
    assert refused.returncode != 0
    assert "python3: does not run" in refused.stdout and "python3.10: Python 3.10.13" in refused.stdout
    assert refused.stdout.strip().splitlines()[-1].startswith("The workbook needs Python 3.11 or newer")
    assert not (folder / ".venv").exists()
    assert make(folder, "clean", path=str(tools)).returncode == 0


def test_each_install_size_has_its_own_stamp_and_goes_through_a_lock(tmp_path):
    folder = folder_with(tmp_path, "workbook")
    python = f"PYTHON={base_python()}"
    planned = make(folder, "--dry-run", "lab", python).stdout
    pip = [line for line in planned.splitlines() if " -m pip install " in line]
    assert pip == [".venv/bin/python -m pip install --upgrade pip",
                   ".venv/bin/python -m pip install -r requirements/learner.txt -e ."], planned
    # what it installs and how long it takes is said before pip starts; pip's own progress is shown
    assert planned.index("Installing the learner's packages") < planned.index(pip[0]) and "--quiet" not in planned
    assert re.search(r"^\./start \.venv/bin/jupyter lab notebooks/00_welcome\.ipynb$", planned, re.MULTILINE)

    assert install(folder, python).returncode == 0
    assert make(folder, "--question", STAMP, python).returncode == 0  # the learner's size is in place
    test = make(folder, "--dry-run", "test", python).stdout
    assert '.venv/bin/python -m pip install -r requirements/test.txt -e ".[instructor,test]"' in test
    assert "requirements/learner.txt" not in test, "the learner's part is not installed again"
    instructor = make(folder, "--dry-run", "lab-instructor", python).stdout
    assert '.venv/bin/python -m pip install -c requirements/test.txt -e ".[instructor]"' in instructor

    assert make(folder, ".venv/.installed-test", "PIP=true", "VENV_OPTIONS=--without-pip", python).returncode == 0
    assert make(folder, "--question", ".venv/.installed-test", python).returncode == 0
    assert make(folder, "--question", ".venv/.installed-instructor", python).returncode != 0  # a stamp of its own
    # a renewed lock installs again
    os.utime(folder / "requirements" / "test.txt")
    assert make(folder, "--question", ".venv/.installed-test", python).returncode != 0


def test_the_editable_install_puts_the_workbook_folder_on_the_path_without_a_finder():
    """setuptools' meta-path finder (its "Editable installation" notice) is not used: pyproject.toml maps the packages
    from the folder itself (package-dir), so the editable install is one path entry in a .pth file."""
    site = Path(sysconfig.get_paths()["purelib"])
    assert not list(site.glob("__editable___*finder.py")), (
        "an editable finder is installed: pyproject.toml must map the packages from this folder (package-dir), "
        "and `make test` reinstalls the package")
    entries = [p.read_text(encoding="utf-8").strip() for p in site.glob("__editable__.*.pth")]
    assert entries == [str(ROOT)], entries


def test_an_optional_import_in_an_honest_answer_is_not_flagged_by_the_grader(tmp_path):
    """The editable install's path entry (the workbook's folder, which grading protects) is not on a graded run's path:
    an answer that tries an optional import looks along the whole path, and listing the workbook's folder is
    flagged as reaching for the grader's files."""
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    solved = notebook("00", solved=True)
    text = "try:\n    import a_module_that_is_not_installed\nexcept ImportError:\n    pass\n" + solved_text("00.1")
    write_student(submissions, "optional", {chapters.chapter("00").filename: with_answer(solved, "00.1", text)})
    assert main(["grade", str(submissions), "--out", str(out), "-j", "1"]) == 0
    grades = (out / "grades.csv").read_text(encoding="utf-8")
    assert re.search(r"^optional,00\.1,\d+,\d+,passed,", grades, re.MULTILINE), grades
