"""In a real browser, JupyterLab runs a chapter: check() shows its verdict, and an unsolved exercise one short message."""

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from helpers import jupyterlab
from workbook import chapters

CHROMIUM = Path("/usr/bin/chromium")
# the flags that make Debian's chromium start headless as root on a machine without a network
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]

if not CHROMIUM.exists():
    if os.environ.get("WORKBOOK_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package")
    pytest.skip(f"{CHROMIUM} is not installed (apt install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server over a folder with a student copy and a solution copy of chapter 00."""
    root = tmp_path_factory.mktemp("lab")
    for kind, source in (("student", chapters.NOTEBOOKS), ("solution", chapters.SOLUTIONS)):
        (root / kind).mkdir()
        shutil.copyfile(source / "00_welcome.ipynb", root / kind / "00_welcome.ipynb")
    options = (f"--LabApp.workspaces_dir={root / '.workspaces'}", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    with jupyterlab(root, *options) as (base, token), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser, base, token, root
        browser.close()


def notebook_text_contains(page, text, timeout_ms=180_000):
    """Wait until the notebook holds this text; cells scrolled out of view count too (JupyterLab renders lazily)."""
    page.wait_for_function(
        "text => (document.querySelector('.jp-Notebook') || {}).textContent?.includes(text)", arg=text, timeout=timeout_ms
    )


def run_all(lab, kind):
    """Open a copy of chapter 00 in JupyterLab, run all its cells from the Run menu, and return the page."""
    browser, base, token, root = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    # a workspace of its own, reset, so that no tab restored from an earlier page takes the Run menu's command
    page.goto(f"{base}/lab/workspaces/{kind}/tree/{kind}/00_welcome.ipynb?reset&token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached", timeout=60_000)
    # the status bar says "| Idle" once the kernel has started and answered
    page.wait_for_function("document.querySelector('.jp-StatusBar-Widget') && "
                           "document.body.textContent.includes('| Idle')", timeout=120_000)
    page.click(".lm-MenuBar-item >> text=Run")
    page.click("[data-command='runmenu:run-all']")
    return page


def test_a_solved_exercise_shows_its_checks_passing(lab):
    page = run_all(lab, "solution")
    notebook_text_contains(page, "exercises solved.")
    page.screenshot(path=str(lab[3] / "solution.png"))
    assert "Exercise 00.1: all 2 checks passed. Well done!" in page.text_content(".jp-Notebook")


def test_an_unsolved_exercise_shows_one_short_message_not_a_traceback(lab):
    page = run_all(lab, "student")
    notebook_text_contains(page, "Not solved yet: exercise 00.1")
    page.screenshot(path=str(lab[3] / "student.png"))
    text = page.text_content(".jp-Notebook")
    assert "Exercise 00.1: 2 of 2 checks failed." in text
    assert "still raises NotImplementedError" in text
    assert "Traceback" not in text
