"""What a chapter gives to read: its prose is counted as the issue defines it, and every chapter keeps the limits."""

import pytest

from workbook import chapters, prose
from workbook.__main__ import main


def test_code_blocks_inline_code_tables_html_and_list_markers_are_not_prose():
    text = prose.prose(
        "# A heading here\n"
        "Two words `not_counted(at, all)`.\n"
        "\n"
        "```python\nthese = 'are not words'\n```\n"
        "~~~\nnor these\n~~~\n"
        "| not | a | table |\n| --- | --- | --- |\n"
        "- one item\n"
        "2. second item\n"
        "> quoted words\n"
        "<details><summary>Summary text</summary> and a [link text](https://example.org/no/words)</details>\n"
    )
    assert prose.words(text) == 17, text
    for gone in ("not_counted", "these", "nor", "table", "details", "example", "-", "2."):
        assert gone not in text.split()


def test_a_sentence_ends_at_a_stop_before_a_space_or_a_line_end():
    text = "Flask 3.1 reads app.config here. Is it set? Yes! It is\nset.\nDone"
    assert [prose.words(s) for s in prose.sentences(text)] == [5, 3, 1, 3, 1]


def test_an_exercise_cells_given_lines_are_those_outside_its_solution_region():
    code = "%%writefile a.py\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    assert prose.given_lines(code) == ["%%writefile a.py", "def f():"]


def test_diff_cells_are_not_prose(tmp_path):
    notebook = ('{"cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "One two three."},'
                ' {"cell_type": "markdown", "id": "b", "metadata": {"tags": ["workbook-diff"]}, "source": "Four five."}],'
                ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    (tmp_path / "42_sample.ipynb").write_text(notebook, encoding="utf-8")
    [measured] = prose.measure_all(tmp_path)
    assert (measured.words, measured.sentences, measured.longest_cell) == (3, 1, 3)


def test_the_command_prints_a_row_per_chapter(capsys):
    assert main(["prose"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split()[:2] == ["chapter", "words"]
    assert [row.split()[0] for row in rows[1:-1]] == [c.number for c in chapters.all_chapters()]


@pytest.mark.parametrize("measured", prose.measure_all(), ids=lambda m: m.number)
def test_every_chapter_reads_in_short_sentences_and_short_cells(measured):
    assert measured.mean_sentence <= prose.MEAN_SENTENCE_LIMIT, (
        f"chapter {measured.number}: sentences average {measured.mean_sentence:.1f} words")
    assert measured.longest_cell <= prose.CELL_WORDS_LIMIT, (
        f"chapter {measured.number}: markdown cell {measured.longest_cell_id} has {measured.longest_cell} words")
