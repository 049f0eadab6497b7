"""A student's feedback page (workbook.grading.feedback): escaped, honest about hidden tests, free of notebook-only
advice, with a summary table of exactly the exercises graded; and, in a real browser, readable and error-free."""

import os
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest

from workbook.grading.feedback import (HIDDEN_FAILED_LINE, ExerciseRow, StudentPage, format_percent, format_points,
                                       render, without_notebook_advice)

CHROMIUM = Path("/usr/bin/chromium")
# the flags that make Debian's chromium start headless as root on a machine without a network (as test_browser.py)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]
HOSTILE_ID = '=HYPERLINK("<script>alert(1)</script>")'
CATCH_UP_LINE = ('Exercise 04.2 cannot be checked yet: app.py, line 3 still raises NotImplementedError, and that is '
                 'exercise 04.1. Solve it first, or run catch_up("04.1") to go on.')


class Page(HTMLParser):
    """The text of a rendered page: its tables' rows of cells, its sections' text, and every tag it opens."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.sections: dict[str, str] = {}
        self.tags: list[tuple[str, dict]] = []
        self.text_parts: list[str] = []
        self._table = self._row = self._cell = self._section = None
        self.feed(html)
        self.close()
        self.text = "".join(self.text_parts)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "section":
            self._section = attrs.get("id", "")
            self.sections[self._section] = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data):
        self.text_parts.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._section is not None:
            self.sections[self._section] += data


def section_of(page: Page, exercise_id: str) -> str:
    [text] = [text for anchor, text in page.sections.items() if anchor.endswith("-" + exercise_id)]
    return text


def example_page() -> StudentPage:
    """A student with a pass, a public pass but a hidden failure, a stub left for 04.1, partial credit and a missing."""
    return StudentPage(
        student="s1234567",
        name="Ada Lovelace",
        points=4.5,
        max_points=10,
        notes=["Chapter 04 was taken from 04_links (2).ipynb, the newest of two copies.",
               "Handed in late (Canvas marks it late)."],
        chapters=[("03", "Templates", 3, 4), ("04", "Links", 1.5, 6)],
        exercises=[
            ExerciseRow("03.1", "Base template", 2, 2, "passed",
                        ["Exercise 03.1: all 2 checks passed. Well done!", "  ✔ the page extends base.html",
                         "  ✔ the title block is filled"], hidden="3 of 3 hidden tests passed."),
            ExerciseRow("03.2", "A list of books", 1, 2, "failed",
                        ["Exercise 03.2: 1 of 2 checks failed.", "  ✔ the list shows every book",
                         "  ✘ an empty shelf says so", "      Hint: use {% else %} in the for loop"],
                        notes=["Partial credit: 1 of 2 points for the checks that passed."]),
            ExerciseRow("04.1", "Only web links", 0, 3, "failed",
                        ["Exercise 04.1: all 3 checks passed. Well done!", "  ✔ http links are kept",
                         "  ✔ mailto links are dropped", "  ✔ relative links are kept"],
                        hidden="2 of 3 hidden tests passed.",
                        hidden_failed=["that a javascript: link is dropped, whatever its letters' case."]),
            ExerciseRow("04.2", "", 1.5, 2, "failed", [CATCH_UP_LINE],
                        notes=["Exercise 04.2 builds on 04.1, which does not pass: fix it first."],
                        override="1.5 points, set by the instructor: regraded by hand"),
            ExerciseRow("04.3", "A link checker", 0, 1, "missing",
                        ["No notebook for chapter 04 (04_links.ipynb) was submitted."]),
        ],
        not_counted=["03.3 (its answer was handed out in chapter 04's cells)"],
    )


# ---- formatting -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, text", [(2, "2"), (2.0, "2"), (1.5, "1.5"), (1.333333, "1.33"), (0.125, "0.12"),
                                         (0.999, "1"), (0, "0"), (-0.0, "0"), (10.10, "10.1")])
def test_points_are_written_without_a_needless_fraction(value, text):
    assert format_points(value) == text


def test_a_percent_has_one_decimal_and_nothing_to_earn_has_none():
    assert format_percent(6.5, 10) == "65.0%"
    assert format_percent(2, 3) == "66.7%"
    assert format_percent(0, 0) == "–"


@pytest.mark.parametrize("line, kept", [
    (CATCH_UP_LINE, CATCH_UP_LINE.removesuffix(', or run catch_up("04.1") to go on.') + "."),
    ("  Solve it first, or catch_up('02.1').", "  Solve it first."),
    ("Solve it first or run `catch_up(\"09.2\")` to go on.", "Solve it first."),
    ("Nothing to do here. Run catch_up(\"04.1\") now. Then go on.", "Nothing to do here. Then go on."),
    ("    catch_up(\"04.1\") puts its answer in place.", None),
    ("Exercise 04.1: 1 of 2 checks failed.", "Exercise 04.1: 1 of 2 checks failed."),
])
def test_advice_to_run_catch_up_is_cut_out_or_dropped(line, kept):
    assert without_notebook_advice(line) == kept


# ---- the page -------------------------------------------------------------------------------------------


def test_a_hostile_id_and_verdict_are_escaped_and_a_lone_surrogate_does_not_crash():
    page = example_page()
    page.student = HOSTILE_ID + "\ud800"
    page.name = '<img src=x onerror="alert(2)">\udfff'
    page.exercises[1].verdict.append("      AssertionError: <script>alert(3)</script>\x00 & \ud83d")
    page.exercises[1].title = "</td><script>alert(4)</script>"
    page.notes.append("<b>bold</b>")
    html = render(page)
    html.encode("utf-8")  # strict: no surrogate is left
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "\x00" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;script&gt;alert(3)&lt;/script&gt;" in html
    parsed = Page(html)
    assert f"Feedback for {HOSTILE_ID}\ufffd" in parsed.text
    assert '<img src=x onerror="alert(2)">\ufffd' in parsed.text
    assert "AssertionError: <script>alert(3)</script>\ufffd & \ufffd" in section_of(parsed, "03.2")
    # no cell was opened or closed by the student's text
    cells = [tag for tag, _ in Page(render(example_page())).tags].count("td")
    assert [tag for tag, _ in parsed.tags].count("td") == cells


def test_a_surrogate_pair_split_in_two_is_joined_again():
    page = example_page()
    page.student = "\ud83d\ude00"  # 😀 as two surrogates, as surrogateescape or a UTF-16 source may hand it over
    assert "Feedback for 😀" in Page(render(page)).text


def test_well_done_is_shown_for_a_passed_exercise_only():
    parsed = Page(render(example_page()))
    assert "Exercise 03.1: all 2 checks passed. Well done!" in section_of(parsed, "03.1")
    hidden_failure = section_of(parsed, "04.1")
    assert "Well done!" not in hidden_failure
    assert "Exercise 04.1: all 3 checks passed.\n" in hidden_failure
    assert HIDDEN_FAILED_LINE in hidden_failure
    assert HIDDEN_FAILED_LINE not in section_of(parsed, "03.1") and HIDDEN_FAILED_LINE not in section_of(parsed, "03.2")


@pytest.mark.parametrize("status", ["failed", "error", "flagged", "missing"])
def test_no_well_done_on_any_status_but_passed_even_in_notes(status):
    page = example_page()
    row = page.exercises[0]
    row.status, row.notes, row.hidden = status, ["Well done! But late."], "The hidden tests could not finish."
    section = section_of(Page(render(page)), "03.1")
    assert "Well done" not in section
    assert "But late." in section and HIDDEN_FAILED_LINE in section


def test_a_failed_exercise_whose_hidden_tests_passed_gets_no_line_about_hidden_tests():
    page = example_page()
    page.exercises[0].status = "flagged"
    section = section_of(Page(render(page)), "03.1")
    assert "Well done!" not in section and HIDDEN_FAILED_LINE not in section


def test_advice_to_run_catch_up_is_not_on_the_page():
    page = example_page()
    page.exercises[2].notes.append('Run catch_up("04.1") in your notebook. It counts no points.')
    html = render(page)
    assert "catch_up" not in html
    parsed = Page(html)
    assert "and that is exercise 04.1. Solve it first.\n" in section_of(parsed, "04.2") + "\n"
    assert "It counts no points." in section_of(parsed, "04.1")


def test_the_summary_lists_exactly_the_exercises_given_with_the_total_and_percent():
    page = example_page()
    parsed = Page(render(page))
    header, *rows, total = parsed.tables["summary"]
    assert header == ["Exercise", "Title", "Points", "Status"]
    assert rows == [
        ["03.1", "Base template", "2 of 2", "Passed"],
        ["03.2", "A list of books", "1 of 2", "Failed"],
        ["04.1", "Only web links", "0 of 3", "Failed"],
        ["04.2", "", "1.5 of 2", "Failed"],
        ["04.3", "A link checker", "0 of 1", "Missing"],
    ]
    assert total == ["Total", "4.5 of 10", "45.0%"]
    assert "Total: 4.5 of 10 points (45.0%)" in parsed.text
    assert parsed.tables["chapters"][1:] == [["03", "Templates", "3 of 4", "75.0%"],
                                             ["04", "Links", "1.5 of 6", "25.0%"]]
    # what is not counted is one line, never a row of points
    assert "Not counted: 03.3 (its answer was handed out in chapter 04's cells)" in parsed.text
    assert not any("03.3" in cell for table in parsed.tables.values() for row in table for cell in row)
    assert list(parsed.sections) == [f"exercise-{i}-{row.exercise}" for i, row in enumerate(page.exercises, 1)]


def test_a_status_has_a_word_and_a_badge_not_a_colour_alone():
    parsed = Page(render(example_page()))
    badges = [attrs["class"] for tag, attrs in parsed.tags if "badge" in attrs.get("class", "").split()]
    assert (badges.count("badge passed"), badges.count("badge failed"), badges.count("badge missing")) == (2, 6, 2)


def test_each_exercise_shows_its_hidden_tests_notes_and_the_instructors_decision():
    parsed = Page(render(example_page()))
    assert "A hidden test checks: that a javascript: link is dropped, whatever its letters' case." in \
        section_of(parsed, "04.1")
    assert "2 of 3 hidden tests passed." in section_of(parsed, "04.1")
    decided = section_of(parsed, "04.2")
    assert "1.5 points, set by the instructor: regraded by hand" in decided
    assert "Exercise 04.2 builds on 04.1, which does not pass: fix it first." in decided
    assert "Partial credit: 1 of 2 points for the checks that passed." in section_of(parsed, "03.2")
    assert "1.5 of 2 points" in decided and "0 of 1 point" in section_of(parsed, "04.3")
    assert "Handed in late (Canvas marks it late)." in parsed.text


def test_the_verdict_keeps_its_lines_and_indentation_in_a_pre():
    html = render(example_page())
    assert ("<pre class=\"verdict\">Exercise 03.2: 1 of 2 checks failed.\n  ✔ the list shows every book\n"
            "  ✘ an empty shelf says so\n      Hint: use {% else %} in the for loop</pre>") in html


def test_the_page_is_self_contained_deterministic_and_says_its_language_and_charset():
    page = example_page()
    html = render(page)
    assert render(example_page()) == html
    assert html.startswith("<!doctype html>\n<html lang=\"en\">")
    tags = Page(html).tags
    assert ("meta", {"charset": "utf-8"}) in tags
    names = {tag for tag, _ in tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}
    assert all(attrs.get("href", "#").startswith("#") for _, attrs in tags)
    assert not re.search(r"url\(|@import|https?:", html)


def test_a_page_without_exercises_still_renders():
    html = render(StudentPage("s1", "", 0, 0, notes=["No chapter notebook was found."]))
    parsed = Page(html)
    assert parsed.tables["summary"][1:] == [["No exercise was graded."], ["Total", "0 of 0", "–"]]
    assert "No chapter notebook was found." in parsed.text


# ---- in a real browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("WORKBOOK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_page_opens_in_a_browser_without_errors_and_shows_the_summary(browser, tmp_path):
    from playwright.sync_api import expect

    page_data = example_page()
    page_data.student = HOSTILE_ID
    file = tmp_path / "feedback.html"
    file.write_text(render(page_data), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems, requests = [], []
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(file.as_uri())
    expect(page.locator("h1")).to_have_text(f"Feedback for {HOSTILE_ID} (Ada Lovelace)")
    expect(page.locator("table#summary")).to_be_visible()
    expect(page.locator("table#summary tbody tr")).to_have_count(5)
    expect(page.locator("table#summary tfoot tr")).to_have_text(re.compile(r"Total\s*4\.5 of 10\s*45\.0%"))
    badge = page.locator("table#summary tbody tr").nth(2).locator(".badge")
    expect(badge).to_have_text("Failed")
    look = badge.evaluate("b => { const s = getComputedStyle(b); return [s.color, s.backgroundColor]; }")
    assert look == ["rgb(164, 14, 38)", "rgb(255, 235, 233)"], look
    assert page.evaluate("document.body.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    assert requests == [file.as_uri()], requests
    screenshot = tmp_path / "feedback.png"
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    assert problems == []
    width, height = png_size(screenshot)
    assert width == 1100 and 900 <= height <= 6000, (width, height)
    assert screenshot.stat().st_size > 30_000
