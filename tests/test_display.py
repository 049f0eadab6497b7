"""A verdict shows as a coloured block in a notebook and keeps its plain text for nbval and plain Python."""

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from helpers import read_html
from workbook.display import FAILED_STYLE, PASSED_STYLE, show_verdict, verdict_html

# a learner's strings end up in verdict lines: an answer that returned markup, a quote, an ampersand
LEARNER_TEXT = ("Exercise 00.1: 1 of 2 checks failed.\n  ✔ The page answers\n  ✘ The page says hello\n"
                "      expected 'Hello' but got '<script>alert(\"hi\")</script> & <b>bold</b>'")


def test_the_html_shows_the_verdict_text_exactly_and_runs_no_markup_of_the_learner():
    for passed in (True, False):
        fragment = verdict_html(passed, LEARNER_TEXT)
        shown = read_html(fragment)
        assert shown.tags == ["div", "pre"]
        assert shown.text == LEARNER_TEXT
        assert "<script" not in fragment and "<b>" not in fragment


def test_a_pass_is_a_green_block_with_a_bar_and_a_failure_the_error_pink():
    assert read_html(verdict_html(True, "x")).styles[0] == PASSED_STYLE
    assert read_html(verdict_html(False, "x")).styles[0] == FAILED_STYLE
    assert "border-left: 4px solid #388e3c" in PASSED_STYLE and "border-left" not in FAILED_STYLE
    assert "rgba(255, 0, 0, 0.134)" in FAILED_STYLE  # #fdd on white, JupyterLab's light error background


def test_every_theme_variable_comes_after_a_plain_value_that_an_untrusted_notebook_keeps():
    for style in (PASSED_STYLE, FAILED_STYLE, *read_html(verdict_html(True, "x")).styles):
        seen = set()
        for declaration in filter(None, (d.strip() for d in style.split(";"))):
            name, _, value = (part.strip() for part in declaration.partition(":"))
            assert "var(" not in value or name in seen, f"{name} has no plain value before {value}"
            seen.add(name)


def test_without_ipython_the_verdict_is_printed_as_plain_text(capsys):
    show_verdict(False, LEARNER_TEXT)
    assert capsys.readouterr().out == LEARNER_TEXT + "\n"


def test_in_a_kernel_the_stored_output_has_both_parts_and_nothing_that_changes_from_run_to_run():
    code = f"from workbook.display import show_verdict\nshow_verdict(True, {LEARNER_TEXT!r})"
    notebook = new_notebook(cells=[new_code_cell(code)])
    NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
    [output] = notebook.cells[0]["outputs"]
    # nbval compares every part of data (text/plain and text/html): both are functions of the verdict alone
    assert output == {"output_type": "display_data", "metadata": {},
                      "data": {"text/plain": LEARNER_TEXT, "text/html": verdict_html(True, LEARNER_TEXT)}}
