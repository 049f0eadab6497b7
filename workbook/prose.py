"""How much a chapter asks a learner to read: its prose and its given code.

`python -m workbook prose` prints, per chapter: the words of markdown prose, the mean sentence length,
the words of the longest markdown cell, and the given lines (the lines of code cells that are not exercise
cells). Prose is markdown without fenced code blocks, inline code, tables, HTML tags and list markers;
the `workbook-diff` cells (see changes.py) are code shown as markdown, not prose. A sentence ends at
`.`, `!` or `?` followed by a space or a line end.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import chapters

DIFF_TAG = "workbook-diff"
# the limits tests/test_prose.py holds every chapter to
MEAN_SENTENCE_LIMIT = 18
CELL_WORDS_LIMIT = 250

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<!--.*?-->", re.S)
LIST_MARKER = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")
HEADING_MARKER = re.compile(r"^[ \t]*#{1,6}[ \t]+")
QUOTE_MARKER = re.compile(r"^[ \t]*(?:>[ \t]?)+")
TABLE_ROW = re.compile(r"^[ \t]*\|")
# markdown links and images: keep the text, drop the address
LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
WORD = re.compile(r"[A-Za-z0-9À-ÿ]+(?:['’.-][A-Za-z0-9À-ÿ]+)*")


def prose(markdown: str) -> str:
    """Return the prose of a markdown cell: no code blocks, inline code, tables, HTML tags nor list markers."""
    kept, fence = [], None
    for line in markdown.split("\n"):
        opening = FENCE.match(line)
        if fence:
            if opening and opening[1][0] == fence[0] and len(opening[1]) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening[1]
            continue
        if TABLE_ROW.match(line):
            continue
        for pattern in (LIST_MARKER, HEADING_MARKER, QUOTE_MARKER):
            line = pattern.sub("", line)
        kept.append(line)
    text = "\n".join(kept)
    text = INLINE_CODE.sub(" ", text)
    text = HTML_TAG.sub(" ", text)
    return LINK.sub(r"\1", text)


def given_lines(code: str) -> list[str]:
    """Return the lines of an exercise cell outside its solution regions (and hidden tests): what it gives."""
    kept, inside = [], False
    for line in code.splitlines():
        if any(marker in line for marker in (chapters.SOLUTION_MARKERS[0], chapters.HIDDEN_BEGIN)):
            inside = True
        elif any(marker in line for marker in (chapters.SOLUTION_MARKERS[1], chapters.HIDDEN_END)):
            inside = False
        elif not inside:
            kept.append(line)
    return kept


def words(text: str) -> int:
    return len(WORD.findall(text))


def sentences(text: str) -> list[str]:
    """Split prose into sentences that hold at least one word."""
    parts = SENTENCE_END.split(text)
    return [part for part in parts if words(part)]


@dataclass(frozen=True)
class ChapterProse:
    number: str
    words: int
    sentences: int
    longest_cell: int
    longest_cell_id: str
    given_lines: int

    @property
    def mean_sentence(self) -> float:
        return self.words / self.sentences if self.sentences else 0.0


def measure(path: Path) -> ChapterProse:
    """Measure one notebook's prose and given code."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    number = chapters.CHAPTER_FILE.match(path.name)["number"]
    total_words = total_sentences = given = 0
    longest, longest_id = 0, ""
    for cell in notebook["cells"]:
        text = chapters.source(cell)
        if cell["cell_type"] == "markdown":
            if DIFF_TAG in cell.get("metadata", {}).get("tags", ()):
                continue
            body = prose(text)
            count = words(body)
            total_words += count
            total_sentences += len(sentences(body))
            if count > longest:
                longest, longest_id = count, cell.get("id", "")
        elif cell["cell_type"] == "code":
            given += len(given_lines(text) if chapters.is_solution_cell(cell) else text.splitlines())
    return ChapterProse(number, total_words, total_sentences, longest, longest_id, given)


def measure_all(folder: Path | None = None) -> list[ChapterProse]:
    folder = folder or chapters.SOLUTIONS
    return [measure(p) for p in sorted(folder.glob("*.ipynb")) if chapters.CHAPTER_FILE.match(p.name)]


def table(measured: list[ChapterProse]) -> list[str]:
    rows = [("chapter", "words", "sentences", "mean sentence", "longest cell", "given lines")]
    for m in measured:
        rows.append((m.number, str(m.words), str(m.sentences), f"{m.mean_sentence:.1f}",
                     f"{m.longest_cell} ({m.longest_cell_id})", str(m.given_lines)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows]
    lines.append(f"limits: mean sentence <= {MEAN_SENTENCE_LIMIT} words, no markdown cell over {CELL_WORDS_LIMIT} words")
    return lines
