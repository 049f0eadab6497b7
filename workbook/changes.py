"""Show what each given %%writefile cell changes: a `diff` block above every given cell that rewrites a file.

A given cell that rewrites a file written earlier (in its chapter or an earlier one) gets a markdown cell
tagged `workbook-diff` just above it, holding a unified diff of the change since that file's previous
version. Both versions are taken from the student notebooks, exercise regions blank exactly as `generate`
writes them, so a diff shows nothing a learner's notebook does not show already: never an answer that is
not handed out. The cell goes into solutions/ (and from there, by `generate`, into notebooks/), so student
and solution notebooks keep the same cells at the same indices.

`python -m workbook changes` writes the cells (and regenerates notebooks/); `--check` writes nothing and
exits 1 when a cell is missing, stale or extra; `--stats` prints how many given lines a learner reads to
find how many changed lines, with the whole cells and with the diffs.
"""

import copy
import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell

from . import chapters, generate
from .errors import WorkbookBug

DIFF_TAG = "workbook-diff"
# lines of context around each change
CONTEXT = 3
# a diff longer than this many lines is folded inside <details>
FOLDED = 40


@dataclass(frozen=True)
class Change:
    """A given cell that rewrites a file: the file's previous version and this one, both as the learner sees them."""

    chapter: str
    cell_index: int          # the given cell's index in the notebook without diff cells
    path: str
    occurrence: int          # the n-th write of this path in its chapter, from 1
    since: str               # where the previous version was written: "02" (a chapter) or "" (this chapter)
    before: str
    after: str

    @property
    def cell_id(self) -> str:
        """A stable cell id, from the file and its position: the n-th write of that file in the chapter."""
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", self.path).strip("-")
        digest = hashlib.sha256(self.path.encode("utf-8")).hexdigest()[:6]
        return f"diff-{slug[:40]}-{digest}-{self.occurrence}"

    def lines(self) -> list[str]:
        """The unified diff, without its two header lines."""
        diff = difflib.unified_diff(self.before.splitlines(), self.after.splitlines(), lineterm="", n=CONTEXT)
        return list(diff)[2:]

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines() if line.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines() if line.startswith("-"))

    @property
    def shown(self) -> int:
        """The diff lines a learner reads: changes and context, without the @@ lines."""
        return sum(1 for line in self.lines() if not line.startswith("@@"))

    @property
    def given(self) -> int:
        """The lines of the file the given cell writes: what a learner reads without the diff."""
        return len(self.after.splitlines())

    def markdown(self) -> str:
        """The diff cell's text."""
        where = f"chapter {self.since}" if self.since else "its version above"
        lines = self.lines()
        if not lines:
            return f"`{self.path}` is written again below, unchanged since {where}."
        counts = f"{self.added} line{'s' * (self.added != 1)} added, {self.removed} removed"
        body = "\n".join([f"--- {self.path} ({where})", f"+++ {self.path} (below)", *lines])
        longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
        fence = "`" * max(3, longest + 1)
        block = f"{fence}diff\n{body}\n{fence}"
        if len(lines) > FOLDED:
            return (f"<details><summary>What changed in <code>{self.path}</code> since {where} ({counts}): "
                    f"click to open</summary>\n\n{block}\n\n</details>")
        return f"What changed in `{self.path}` since {where} ({counts}):\n\n{block}"

    def cell(self) -> nbformat.NotebookNode:
        return new_markdown_cell(self.markdown(), id=self.cell_id, metadata={"tags": [DIFF_TAG]})


def is_diff_cell(cell) -> bool:
    return cell.get("cell_type") == "markdown" and DIFF_TAG in cell.get("metadata", {}).get("tags", ())


def without_diffs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of a notebook without its diff cells."""
    bare = copy.deepcopy(notebook)
    bare.cells = [cell for cell in bare.cells if not is_diff_cell(cell)]
    return bare


@dataclass
class Chapter:
    """A solution notebook, the same without diff cells, and its given cells that rewrite a file."""

    path: Path
    number: str
    notebook: nbformat.NotebookNode
    bare: nbformat.NotebookNode
    changes: list[Change] = field(default_factory=list)

    def expected(self) -> nbformat.NotebookNode:
        """The solution notebook with a diff cell above each given cell that rewrites a file, and no other."""
        notebook = copy.deepcopy(self.bare)
        above = {change.cell_index: change.cell() for change in self.changes}
        notebook.cells = []
        for index, cell in enumerate(self.bare.cells):
            if index in above:
                notebook.cells.append(above[index])
            notebook.cells.append(cell)
        return notebook


def solution_paths() -> list[Path]:
    return sorted(p for p in chapters.SOLUTIONS.glob("*.ipynb") if chapters.CHAPTER_FILE.match(p.name))


def read_chapters() -> list[Chapter]:
    """Read every solution notebook in order and find the given cells that rewrite a file written before."""
    found = []
    # path -> (its text as the learner's notebook writes it, the chapter that wrote it)
    state: dict[str, tuple[str, str]] = {}
    for path in solution_paths():
        number = chapters.CHAPTER_FILE.match(path.name)["number"]
        notebook = generate.read_solution(path)
        bare = without_diffs(notebook)
        student = generate.student_notebook(bare)
        chapter = Chapter(path, number, notebook, bare)
        occurrences: dict[str, int] = {}
        for index, cell in enumerate(bare.cells):
            written = chapters.writefile_cell(cell)
            if not written:
                continue
            file, _ = written
            # the student form: exercise regions blank, as generate writes them
            text = chapters.file_text(chapters.writefile_cell(student.cells[index])[1])
            occurrences[file] = occurrences.get(file, 0) + 1
            if file in state and not chapters.is_solution_cell(cell):
                before, where = state[file]
                chapter.changes.append(Change(number, index, file, occurrences[file],
                                              "" if where == number else where, before, text))
            state[file] = (text, number)
        for retired in notebook.metadata.get("workbook", {}).get("removes", ()):
            state.pop(retired, None)
        ids = [change.cell_id for change in chapter.changes]
        if len(ids) != len(set(ids)):
            raise WorkbookBug(f"{path.name}: two diff cells would have the same id")
        found.append(chapter)
    return found


def stale_solutions(found: list[Chapter] | None = None) -> list[Path]:
    """Return the solution notebooks whose diff cells are missing, stale or extra."""
    return [c.path for c in (found if found is not None else read_chapters())
            if generate.render(c.expected()) != generate.render(c.notebook)]


def write_solutions() -> list[Path]:
    """Write the diff cells into the solution notebooks that need them; return the notebooks written."""
    written = []
    for chapter in read_chapters():
        expected = generate.render(chapter.expected())
        if expected != generate.render(chapter.notebook) or chapter.path.read_text(encoding="utf-8") != expected:
            chapter.path.write_text(expected, encoding="utf-8")
            written.append(chapter.path)
    return written


def stats(found: list[Chapter] | None = None) -> list[str]:
    """Lines a learner reads to find what the given cells change: whole cells before, diffs after."""
    found = found if found is not None else read_chapters()
    rows = [("chapter", "rewrites", "given lines", "changed (+/-)", "diff lines", "before", "after")]
    totals = [0, 0, 0, 0]
    for chapter in found:
        given = sum(c.given for c in chapter.changes)
        changed = sum(c.added + c.removed for c in chapter.changes)
        shown = sum(c.shown for c in chapter.changes)
        for i, value in enumerate((len(chapter.changes), given, changed, shown)):
            totals[i] += value
        rows.append((chapter.number, str(len(chapter.changes)), str(given), str(changed), str(shown),
                     ratio(given, changed), ratio(shown, changed)))
    rows.append(("all", *map(str, totals), ratio(totals[1], totals[2]), ratio(totals[3], totals[2])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows]
    lines.append("before: given lines read per changed line (every line of each rewriting cell);")
    lines.append(f"after: diff lines read per changed line (the + and - lines and {CONTEXT} lines of context).")
    return lines


def ratio(read: int, changed: int) -> str:
    return f"{read / changed:.1f}" if changed else "-"
