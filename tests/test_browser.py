"""In a real browser, the learner's JupyterLab runs a chapter: a pass shows green, a failure pink, and no nbgrader;
the pages that show() shows are visible, stored and live."""

import contextlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from helpers import free_port, jupyterlab, learner_environment
from workbook import chapters

CHROMIUM = Path("/usr/bin/chromium")
# the flags that make Debian's chromium start headless as root on a machine without a network
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"
PASSED = "Exercise 00.1: all 3 checks passed. Well done!"

if not CHROMIUM.exists():
    if os.environ.get("WORKBOOK_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package")
    pytest.skip(f"{CHROMIUM} is not installed (apt install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):
    """The learner's JupyterLab, started as `make lab` starts it, over a student and a solution copy of chapter 00."""
    root = tmp_path_factory.mktemp("lab")
    for kind, source in (("student", chapters.NOTEBOOKS), ("solution", chapters.SOLUTIONS)):
        (root / kind).mkdir()
        shutil.copyfile(source / "00_welcome.ipynb", root / kind / "00_welcome.ipynb")
    # settings of its own, so that no answer given to JupyterLab on this machine hides the news question
    env = {**learner_environment(), "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings")}
    with jupyterlab(root, f"--LabApp.workspaces_dir={root / '.workspaces'}", env=env) as (base, token):
        yield browser, base, token, root


def notebook_text_contains(page, text, timeout_ms=180_000):
    """Wait until the notebook holds this text; cells scrolled out of view count too (JupyterLab renders lazily)."""
    page.wait_for_function(
        "text => (document.querySelector('.jp-Notebook') || {}).textContent?.includes(text)", arg=text, timeout=timeout_ms
    )


def open_notebook(browser, url):
    """Open a notebook's page in JupyterLab, wait for its kernel, and return the page."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached", timeout=60_000)
    # the status bar says "| Idle" once the kernel has started and answered
    page.wait_for_function("document.querySelector('.jp-StatusBar-Widget') && "
                           "document.body.textContent.includes('| Idle')", timeout=120_000)
    return page


def open_chapter(lab, kind):
    """Open the student or the solution copy of chapter 00 in the learner's JupyterLab."""
    browser, base, token, root = lab
    # a workspace of its own, reset, so that no tab restored from an earlier page takes the Run menu's command
    return open_notebook(browser, f"{base}/lab/workspaces/{kind}/tree/{kind}/00_welcome.ipynb?reset&token={token}")


def run_all(page):
    """Run all the chapter's cells from the Run menu."""
    page.click(".lm-MenuBar-item >> text=Run")
    page.click("[data-command='runmenu:run-all']")


def verdict_look(page, text):
    """Return the computed look of the verdict block that shows this text, and of the error bar under it."""
    return page.evaluate(
        """text => {
          const output = [...document.querySelectorAll('.jp-OutputArea-output')].find(o => o.textContent.includes(text));
          const block = output.querySelector('div');
          const error = output.closest('.jp-OutputArea').querySelector('[data-mime-type="application/vnd.jupyter.stderr"]');
          const style = getComputedStyle(block), box = block.getBoundingClientRect();
          return {mime: output.dataset.mimeType, background: style.backgroundColor, bar: style.borderLeftWidth,
                  bar_colour: style.borderLeftColor, font: getComputedStyle(block.firstElementChild).fontFamily,
                  left: box.left, right: box.right,
                  error: error && {background: getComputedStyle(error).backgroundColor,
                                   left: error.getBoundingClientRect().left, right: error.getBoundingClientRect().right}};
        }""",
        text,
    )


def rgba(css_colour: str) -> tuple[float, ...]:
    """Return (red, green, blue, alpha) of a computed CSS colour such as 'rgba(56, 142, 60, 0.2)'."""
    values = [float(v) for v in css_colour[css_colour.index("(") + 1:-1].split(",")]
    return tuple(values) if len(values) == 4 else (*values, 1.0)


def assert_green_with_a_bar(look):
    red, green, blue, alpha = rgba(look["background"])
    assert look["mime"] == "text/html" and green > red and green > blue and alpha > 0, look
    assert look["bar"] == "4px" and rgba(look["bar_colour"])[1] > rgba(look["bar_colour"])[0], look
    assert "monospace" in look["font"], look


def assert_no_nbgrader_and_no_news_question(page):
    text = page.text_content("body")
    assert NEWS_QUESTION not in text
    assert "Nbgrader" not in page.eval_on_selector_all(".lm-MenuBar-item", "items => items.map(i => i.textContent)")
    assert page.locator(".jp-NotebookPanel-toolbar >> text=Validate").count() == 0
    assert page.locator(".jp-SideBar .lm-TabBar-tab[title*='Create Assignment']").count() == 0


def test_a_solved_exercise_shows_a_green_pass_stored_untrusted_and_live(lab):
    page = open_chapter(lab, "solution")
    # the stored outputs of a notebook opened fresh are untrusted: JupyterLab sanitizes their HTML
    notebook_text_contains(page, PASSED)
    assert_green_with_a_bar(verdict_look(page, PASSED))
    page.locator(".jp-Cell", has_text=PASSED).last.screenshot(path=str(lab[3] / "solution-stored.png"))
    page.click(".lm-MenuBar-item >> text=Edit")
    page.click("[data-command='editmenu:clear-all']")
    page.wait_for_function("!document.querySelector('.jp-Notebook').textContent.includes('exercises solved.')")
    run_all(page)
    notebook_text_contains(page, "exercises solved.")
    assert_green_with_a_bar(verdict_look(page, PASSED))
    page.locator(".jp-Cell", has_text=PASSED).last.screenshot(path=str(lab[3] / "solution-pass.png"))
    assert_no_nbgrader_and_no_news_question(page)


def test_an_unsolved_exercise_shows_the_error_pink_and_one_short_message_not_a_traceback(lab):
    page = open_chapter(lab, "student")
    run_all(page)
    notebook_text_contains(page, "Not solved yet: exercise 00.1")
    failed_cell = page.locator(".jp-Cell", has_text="Not solved yet: exercise 00.1").last
    failed_cell.screenshot(path=str(lab[3] / "student-fail.png"))
    text = page.text_content(".jp-Notebook")
    assert "Exercise 00.1:" in text and "checks passed" not in text
    assert "Traceback" not in text
    look = verdict_look(page, "Exercise 00.1:")
    # the verdict and the error bar under it read as one pink block: same colour, same width
    assert look["error"] and look["background"] == look["error"]["background"], look
    red, green, blue, alpha = rgba(look["background"])
    assert red > green and alpha > 0, look
    assert (look["left"], look["right"]) == (look["error"]["left"], look["error"]["right"]), look
    assert_no_nbgrader_and_no_news_question(page)


def test_the_instructors_plain_jupyter_lab_has_nbgrader_and_asks_about_news(tmp_path, browser):
    # the other side of the learner's settings: what `make lab-instructor` shows, and what the tests above look for
    shutil.copyfile(chapters.NOTEBOOKS / "00_welcome.ipynb", tmp_path / "00_welcome.ipynb")
    env = {"JUPYTERLAB_SETTINGS_DIR": str(tmp_path / ".settings")}
    # no update check: a test sends no request to PyPI (the machine may be offline)
    options = (f"--LabApp.workspaces_dir={tmp_path / '.workspaces'}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    with jupyterlab(tmp_path, *options, env=env) as (base, token):
        page = open_notebook(browser, f"{base}/lab/tree/00_welcome.ipynb?reset&token={token}")
        page.wait_for_selector(f"text={NEWS_QUESTION}", timeout=60_000)
        page.wait_for_selector(".jp-NotebookPanel-toolbar >> text=Validate", timeout=60_000)
        assert "Nbgrader" in page.eval_on_selector_all(".lm-MenuBar-item", "items => items.map(i => i.textContent)")
        assert page.locator(".jp-SideBar .lm-TabBar-tab[title*='Create Assignment']").count() == 1
        page.screenshot(path=str(tmp_path / "instructor.png"))
        page.close()


SHOWN_PAGE_CELL = '''\
from flask import Flask, flash, redirect, render_template_string
from workbook import show

app = Flask("shown")
app.secret_key = "test"
PAGE = """<!doctype html><title>Join</title>
<script>document.title = "script ran"; document.body.insertAdjacentHTML("beforeend", "<p id=script-ran>x</p>")</script>
{% for message in get_flashed_messages() %}<p>{{ message }}</p>{% endfor %}
<form method=post><input type=hidden name=csrf_token value="{{ token }}">
<label>Member name <input name=name></label> <label>E-mail address <input name=email></label>
<button>Join</button></form><img src=x onerror="document.title = 'onerror ran'">"""

@app.get("/join")
def join():
    import secrets
    return render_template_string(PAGE, token=secrets.token_hex(16))

@app.post("/join")
def joined():
    flash("Welcome aboard!")
    return redirect("/join")

show(app.test_client().post("/join", follow_redirects=True))
'''


def test_a_page_shown_by_show_is_readable_untrusted_and_live_and_its_scripts_do_not_run(lab, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    browser, base, token, root = lab
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SHOWN_PAGE_CELL)])
    (root / "shown").mkdir()
    NotebookClient(notebook, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    nbformat.write(notebook, root / "shown" / "shown.ipynb")  # saved unsigned: JupyterLab opens it untrusted
    page = open_notebook(browser, f"{base}/lab/workspaces/shown/tree/shown/shown.ipynb?reset&token={token}")

    def assert_page_readable_and_inert():
        # the cell's source holds the flash text too: wait for the output that shows it
        page.wait_for_function("[...document.querySelectorAll('.jp-OutputArea-output')]"
                               ".some(o => o.textContent.includes('Welcome aboard!'))", timeout=30_000)
        shown = page.evaluate("""() => {
          const output = [...document.querySelectorAll('.jp-OutputArea-output')]
            .find(o => o.textContent.includes('Welcome aboard!'));
          return {mime: output.dataset.mimeType, text: output.innerText,
                  labels: [...output.querySelectorAll('label')].map(l => l.textContent.trim()),
                  title: document.title, marker: !!document.getElementById('script-ran')};
        }""")
        assert shown["mime"] == "text/html", shown
        assert "200 OK" in shown["text"] and "POST /join → 302 FOUND → GET /join → 200 OK" in shown["text"], shown
        assert shown["labels"] == ["Member name", "E-mail address"], shown
        assert "ran" not in shown["title"] and not shown["marker"], shown

    assert_page_readable_and_inert()  # the stored output, sanitized by JupyterLab
    page.click(".lm-MenuBar-item >> text=Edit")
    page.click("[data-command='editmenu:clear-all']")
    page.wait_for_function("!document.querySelector('.jp-OutputArea-output')")
    run_all(page)
    assert_page_readable_and_inert()  # the live output is trusted: JupyterLab would run a script it was given
    page.locator(".jp-Cell").last.screenshot(path=str(root / "shown.png"))
    page.close()


CHAPTER_04 = "04_forms.ipynb"
# what chapter 04 shows with show(): a form, a refused POST, field errors, a followed redirect and its flash, a 413
CHAPTER_04_PAGES = ("Your e-mail address", "The CSRF token is missing.", "Invalid email address.",
                    "Number must be between 1 and 5.", "POST /books/3/review → 302 FOUND → GET /books/3 → 200 OK",
                    "Thank you for your review.", "That was too large")


def open_chapter_04(lab, folder):
    """Open a fresh copy of chapter 04's solution, its outputs stored, in a folder of its own in the learner's Lab."""
    browser, base, token, root = lab
    (root / folder).mkdir()
    shutil.copyfile(chapters.SOLUTIONS / CHAPTER_04, root / folder / CHAPTER_04)
    return open_notebook(browser, f"{base}/lab/workspaces/{folder}/tree/{folder}/{CHAPTER_04}?reset&token={token}")


def assert_chapter_04_pages_shown(page):
    """Assert that chapter 04's pages are on screen as HTML, with the form, colours and box the sanitizer keeps."""
    # only a page that show() shows counts, under its status line: the chapter's source and verdicts hold such texts too
    pages = page.locator(".jp-OutputArea-output[data-mime-type='text/html']").filter(
        has=page.get_by_text(re.compile(r"^\d{3} [A-Z ]+$")))
    for text in CHAPTER_04_PAGES:
        shown = pages.get_by_text(text).first
        expect(shown, f"no HTML output shows {text!r}").to_be_attached(timeout=30_000)
        shown.scroll_into_view_if_needed(timeout=30_000)  # cells off screen are not painted (content-visibility)
        expect(shown).to_be_visible(timeout=30_000)
    looks = page.evaluate("""texts => texts.map(text => {
      const output = [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="text/html"]')]
        .find(o => o.textContent.includes(text) && /^\\d{3} /.test(o.querySelector('span')?.textContent));
      const status = output.querySelector('span'), box = output.firstElementChild.lastElementChild;
      return {text, status: status.textContent, colour: getComputedStyle(status).color,
              border: getComputedStyle(box).borderTopWidth,
              labels: [...output.querySelectorAll('label')].map(l => l.textContent.trim()),
              fields: output.querySelectorAll('input, textarea').length};
    })""", ["Your e-mail address", "The CSRF token is missing.", "That was too large"])
    form, refused, too_large = looks
    assert form["status"] == "200 OK" and rgba(form["colour"])[1] > rgba(form["colour"])[0], form
    assert {"Your e-mail address", "Rating, 1 to 5"} <= set(form["labels"]) and form["fields"] >= 3, form
    for look in (refused, too_large):
        assert look["status"].startswith(("400", "413")) and rgba(look["colour"])[0] > rgba(look["colour"])[1], look
    assert all(look["border"] == "1px" for look in looks), looks


def test_chapter_04s_pages_are_visible_in_its_stored_outputs_untrusted(lab):
    page = open_chapter_04(lab, "forms-stored")
    assert_chapter_04_pages_shown(page)  # the stored outputs of a notebook opened fresh: sanitized by JupyterLab
    page.screenshot(path=str(lab[3] / "forms-stored.png"))
    page.close()


def test_chapter_04_run_in_jupyterlab_passes_every_check_and_shows_its_pages(lab):
    page = open_chapter_04(lab, "forms-live")
    page.click(".lm-MenuBar-item >> text=Edit")
    page.click("[data-command='editmenu:clear-all']")
    # cleared outputs and counts: a count seen below is this run's
    page.wait_for_function("!document.querySelector('.jp-OutputArea-output') && [...document.querySelectorAll("
                           "'.jp-CodeCell .jp-InputPrompt')].every(p => !/\\d/.test(p.textContent))", timeout=30_000)
    run_all(page)
    # the run has ended when no cell waits or runs ([*]) and the first has run; after an error the rest stay [ ]
    page.wait_for_function("""() => {
      const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
      return /\\[\\d+\\]/.test(prompts[0]) && !prompts.some(p => p.includes('*'));
    }""", timeout=180_000)
    outcome = page.evaluate("""() => ({
      prompts: [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim()),
      errors: [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(o => o.textContent.slice(0, 500)),
    })""")
    # an exception shows as stderr, and the solution writes nothing else there: any stderr is an error
    assert outcome["errors"] == [], outcome["errors"]
    assert all(prompt[1:-2].isdigit() for prompt in outcome["prompts"]), outcome["prompts"]
    for exercise in chapters.chapter("04").exercises:
        expect(page.locator(".jp-OutputArea-output", has_text=f"Exercise {exercise.id}: all").first).to_contain_text(
            "checks passed. Well done!", timeout=30_000)
    assert_chapter_04_pages_shown(page)
    page.screenshot(path=str(lab[3] / "forms-live.png"))
    page.close()


# ---- Bookshelf live, through jupyter-server-proxy, under a JupyterHub-like base URL ---------------------------

BASE_URL = "/user/learner/"
SERVE_CELLS = ["from workbook import serve", "serve()"]
PROXY_LINK = re.compile(r"http://127\.0\.0\.1:\d+/user/learner/proxy/absolute/\d+/")


@contextlib.contextmanager
def lab_serving(tmp_path_factory, chapter: str):
    """The learner's JupyterLab under /user/learner/ (as JupyterHub starts it), over a folder at the end of the
    chapter whose notebook shelf/live.ipynb serves Bookshelf; yield the folder, Lab's address and its token."""
    import nbformat

    from workbook import flask, reference

    root = tmp_path_factory.mktemp(f"lab{chapter}")
    shelf = root / "shelf"
    shelf.mkdir()
    reference.restore_created(shelf, chapter)
    reference.build(shelf, chapter)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(shelf)
        flask("db upgrade")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in SERVE_CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nbformat.write(notebook, shelf / "live.ipynb")
    env = {**learner_environment(), "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings")}
    workspaces = f"--LabApp.workspaces_dir={root / '.workspaces'}"
    with jupyterlab(root, workspaces, env=env, base_url=BASE_URL) as (base, token):
        yield root, base, token


@pytest.fixture(scope="module")
def hub_lab(tmp_path_factory, browser):
    """Lab over a folder at the end of chapter 05, whose notebook serves Bookshelf."""
    with lab_serving(tmp_path_factory, "05") as (root, base, token):
        yield browser, base, token, root


def test_bookshelf_served_from_a_notebook_works_through_the_proxy_with_forms_flashes_and_a_log_in(hub_lab):
    browser, base, token, root = hub_lab
    page = open_notebook(browser, f"{base}/lab/workspaces/live/tree/shelf/live.ipynb?reset&token={token}")
    run_all(page)
    printed = page.locator(".jp-OutputArea-output", has_text="Bookshelf is live")
    expect(printed).to_contain_text("proxy/absolute/", timeout=120_000)
    text = printed.inner_text()
    (link,) = PROXY_LINK.findall(text.split("(through JupyterLab)")[0])
    prefix = link.removeprefix(base.removesuffix(BASE_URL.rstrip("/")))
    assert "Its first page answered" not in text, text

    # the printed link is a link: follow it, into a tab of its own, as a learner would
    with page.context.expect_page(timeout=30_000) as opened:
        printed.locator(f"a[href='{link}']").click()
    app = opened.value
    app.wait_for_load_state(timeout=30_000)
    assert app.url == link
    expect(app.locator("header")).to_contain_text("Log in", timeout=30_000)

    # a link followed, and a redirect: "Add a book" needs a member, so the app sends the browser to its login page
    app.click("header >> text=Add a book")
    expect(app.locator("h1")).to_have_text("Log in", timeout=30_000)
    assert app.url.startswith(link + "auth/login?next="), app.url
    expect(app.locator(".flashes")).to_contain_text("Please log in to see this page.")

    # a form with its CSRF token: registering logs the member in, and the flashed welcome shows on the next page
    app.click("main >> text=Register")
    expect(app.locator("h1")).to_have_text("Register", timeout=30_000)
    assert app.locator("input[name=csrf_token]").get_attribute("value")
    for field, value in (("name", "Ada"), ("email", "ada@example.com"), ("password", "correct horse battery staple"),
                         ("confirm", "correct horse battery staple")):
        app.fill(f"#{field}", value)
    app.click("main button[type=submit]")
    expect(app.locator(".flashes")).to_contain_text("Welcome to Bookshelf, Ada.", timeout=30_000)
    assert app.url.startswith(link), app.url

    # the log-in holds across pages: the members-only form opens, and adding a book flashes on the book's page
    app.click("header >> text=Add a book")
    expect(app.locator("h1")).to_have_text("Add a book", timeout=30_000)
    app.fill("#title", "The Left Hand of Darkness")
    app.fill("#author", "Ursula K. Le Guin")
    app.click("main button[type=submit]")
    expect(app.locator(".flashes")).to_contain_text("Added The Left Hand of Darkness.", timeout=30_000)
    expect(app.locator("header")).to_contain_text("Ada")
    assert app.url.startswith(link + "books/"), app.url
    cookies = {cookie["name"]: cookie for cookie in app.context.cookies(link)}
    assert cookies["session"]["path"] == prefix.rstrip("/"), cookies  # the app's cookie, not all of Jupyter's
    app.screenshot(path=str(root / "live-book.png"))
    app.close()

    # the proxy opens only with Jupyter's own login: without it, the request ends at Jupyter's login page
    with urllib.request.urlopen(link, timeout=30) as anonymous:
        assert urllib.parse.urlsplit(anonymous.url).path == f"{BASE_URL}login", anonymous.url
        assert "Bookshelf" not in anonymous.read().decode()
    page.close()


# ---- chapter 10: the whole Bookshelf in a browser, served live through the proxy and by a production server ------

# a 1×1 PNG, enough for the cover form, which judges an upload by its bytes
COVER_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5270de10000000049454e44ae426082")
SHOT_SIZE = {"width": 1100, "height": 900}


@pytest.fixture(scope="module")
def shelf_10(tmp_path_factory):
    """A folder at the end of chapter 10, its development database made by `flask db upgrade`."""
    from workbook import flask, reference

    root = tmp_path_factory.mktemp("ship")
    shelf = root / "shelf"
    shelf.mkdir()
    reference.restore_created(shelf, "10")
    reference.build(shelf, "10")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(shelf)
        flask("db upgrade")
    return root, shelf


def bookshelf_story(app, link: str, name: str, shots: Path) -> None:
    """Register (which logs nobody in, chapter 07), confirm, log in with chapter 05's form, add a book with a cover, see
    it in the list and through Swagger UI with a bearer token, and log out; link is the app's address, with its final
    slash; the shelf's development database is in shots/shelf/instance."""
    email, password, title = f"{name.lower()}@example.com", "correct horse battery staple", f"{name}'s Kindred"
    app.set_viewport_size(SHOT_SIZE)
    app.goto(link + "auth/register")
    for field, value in (("name", name), ("email", email), ("password", password), ("confirm", password)):
        app.fill(f"#{field}", value)
    app.click("main button[type=submit]")
    expect(app.locator(".flashes")).to_contain_text(f"Thank you, {name}.", timeout=30_000)
    expect(app.locator("header")).to_contain_text("Log in")
    # what the link of the welcome mail would do (no mail server here): writing waits for a confirmed address
    database = sqlite3.connect(shots / "shelf" / "instance" / "bookshelf.sqlite")
    with database:
        database.execute("UPDATE users SET confirmed_at = CURRENT_TIMESTAMP WHERE email = ?", (email,))
    database.close()

    app.click("header >> text=Log in")
    expect(app.locator("h1")).to_have_text("Log in", timeout=30_000)
    app.fill("#email", email)
    app.fill("#password", password)
    app.click("main button[type=submit]")
    expect(app.locator(".flashes")).to_contain_text(f"Welcome back, {name}.", timeout=30_000)

    app.click("header >> text=Add a book")
    app.fill("#title", title)
    app.fill("#author", "Octavia E. Butler")
    app.click("main button[type=submit]")
    expect(app.locator(".flashes")).to_contain_text(f"Added {title}.", timeout=30_000)
    app.click("text=Upload a cover")
    app.set_input_files("#cover", files=[{"name": "kindred.png", "mimeType": "image/png", "buffer": COVER_PNG}])
    app.click("main button[type=submit]")
    expect(app.locator(f'img[alt="Cover of {title}"]')).to_be_visible(timeout=30_000)
    app.click("header >> text=Bookshelf")
    expect(app.locator("main")).to_contain_text(title, timeout=30_000)

    # the API in Swagger UI: a token for the e-mail address and password, then Authorize with it, then the books
    app.goto(link + "api/doc")
    tokens = operation(app, "post", "/tokens")
    tokens.locator("button.try-out__btn").click()
    tokens.locator("textarea.body-param__text").fill(json.dumps({"email": email, "password": password}))
    tokens.locator("button.execute").click()
    answer = tokens.locator(".live-responses-table .response-col_description pre").first
    expect(answer).to_contain_text('"token"', timeout=30_000)
    token = json.loads(answer.inner_text())["token"]
    app.click("button.authorize")
    app.locator(".auth-container input").fill(f"Bearer {token}")
    app.click(".auth-btn-wrapper button.authorize")
    app.click(".auth-btn-wrapper button.btn-done")
    for path, expected in (("/me", email), ("/books", title)):
        found = operation(app, "get", path)
        found.locator("button.try-out__btn").click()
        found.locator("button.execute").click()
        body = found.locator(".live-responses-table .response-col_description pre").first
        expect(body).to_contain_text(expected, timeout=30_000)
    found.locator(".live-responses-table").scroll_into_view_if_needed()
    app.screenshot(path=str(shots / f"{name.lower()}-swagger.png"))

    app.goto(link)
    app.click("header >> text=Log out")
    expect(app.locator(".flashes")).to_contain_text("You are logged out.", timeout=30_000)
    app.goto(link + "books/new")
    expect(app.locator("h1")).to_have_text("Log in", timeout=30_000)


def keep_artifact(screenshot: Path) -> None:
    """Copy a screenshot to WORKBOOK_ARTIFACTS (CI keeps that folder), if it is set; chapter 10 shows one of them."""
    folder = os.environ.get("WORKBOOK_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, Path(folder) / f"chapter-10-{screenshot.name}")


def operation(app, method: str, path: str):
    """Open one operation of the Swagger UI page (its namespace first: Flask-RESTX shows them folded), return its block."""
    block = app.locator(f".opblock-{method}", has=app.locator(f".opblock-summary-path[data-path='{path}']"))
    if not block.is_visible():
        app.locator(f"h3.opblock-tag[data-tag='{path.strip('/').split('/')[0]}']").click()
    expect(block).to_be_visible(timeout=30_000)
    block.locator(".opblock-summary").click()
    return block


def test_chapter_10s_bookshelf_served_live_through_the_proxy_with_swagger_ui(shelf_10, browser):
    """The learner serves chapter 10's Bookshelf from a notebook under JupyterHub's base URL, and uses it whole."""
    import nbformat

    root, shelf = shelf_10
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in SERVE_CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nbformat.write(notebook, shelf / "live.ipynb")
    env = {**learner_environment(), "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings")}
    with jupyterlab(root, f"--LabApp.workspaces_dir={root / '.workspaces'}", env=env, base_url=BASE_URL) as (base, token):
        page = open_notebook(browser, f"{base}/lab/workspaces/live/tree/shelf/live.ipynb?reset&token={token}")
        run_all(page)
        printed = page.locator(".jp-OutputArea-output", has_text="Bookshelf is live")
        expect(printed).to_contain_text("proxy/absolute/", timeout=120_000)
        (link,) = PROXY_LINK.findall(printed.inner_text().split("(through JupyterLab)")[0])
        # the printed link opens a tab of its own, with Jupyter's log-in, which the proxy asks for
        with page.context.expect_page(timeout=30_000) as opened:
            printed.locator(f"a[href='{link}']").click()
        app = opened.value
        bookshelf_story(app, link, "Ada", root)
        keep_artifact(root / "ada-swagger.png")
        app.close()
        page.close()


def test_chapter_10s_bookshelf_on_waitress_in_a_browser(shelf_10, browser):
    """The production server of chapter 10, with its Secure, HttpOnly, SameSite cookies, straight from wsgi.py."""
    root, shelf = shelf_10
    port = free_port()
    environment = {**{name: value for name, value in os.environ.items() if not name.startswith(("FLASK_", "PYTEST_"))},
                   "SECRET_KEY": secrets.token_hex(32), "SERVER_NAME": f"127.0.0.1:{port}", "PROXY_HOPS": "0"}
    server = subprocess.Popen([sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "wsgi:app"], cwd=shelf,
                              env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in server.stdout:  # waitress says when it listens
            if "Serving on" in line:
                break
        context = browser.new_context()
        app = context.new_page()
        bookshelf_story(app, f"http://127.0.0.1:{port}/", "Grace", root)
        cookies = {cookie["name"]: cookie for cookie in context.cookies(f"http://127.0.0.1:{port}/")}
        assert cookies["session"]["secure"] and cookies["session"]["httpOnly"], cookies
        keep_artifact(root / "grace-swagger.png")
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()


# ---- chapter 11: the same story under Flask-Talisman's Content-Security-Policy, with no violation of it ----------

# every violation of the policy that a page of the context meets, reported to the test as it happens (a page's own
# window is gone after the next navigation): the event's directive, the blocked address and the page's address
REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', event => window.reportViolation({
  directive: event.violatedDirective, blocked: event.blockedURI, page: document.location.href,
  sample: event.sample, line: event.lineNumber}));"""


def test_chapter_11s_bookshelf_and_swagger_ui_work_under_its_policy(tmp_path_factory, browser):
    """Chapter 11's Bookshelf, served live through the proxy: the whole story (forms, a cover, Swagger UI's Try it out
    with a bearer token) works, every answer carries the policy, and the browser reports no violation of it."""
    with lab_serving(tmp_path_factory, "11") as (root, base, token):
        page = open_notebook(browser, f"{base}/lab/workspaces/live/tree/shelf/live.ipynb?reset&token={token}")
        run_all(page)
        printed = page.locator(".jp-OutputArea-output", has_text="Bookshelf is live")
        expect(printed).to_contain_text("proxy/absolute/", timeout=120_000)
        (link,) = PROXY_LINK.findall(printed.inner_text().split("(through JupyterLab)")[0])
        violations, console, policies = [], [], []
        page.context.expose_binding("reportViolation", lambda source, found: violations.append(found))
        page.context.add_init_script(REPORT_VIOLATIONS)
        with page.context.expect_page(timeout=30_000) as opened:
            printed.locator(f"a[href='{link}']").click()
        app = opened.value
        app.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        app.on("response", lambda response: response.url.startswith(link) and policies.append(
            (response.url, response.headers.get("content-security-policy", ""))))
        bookshelf_story(app, link, "Hedy", root)
        app.close()
        page.close()
    ours = [found for found in violations if found["page"].startswith(link)]
    assert ours == [], ours
    assert not [line for line in console if "Content Security Policy" in line], console
    # the policy was there to be violated: on the pages, Swagger UI's and the API's answers alike
    documents = [url for url, found in policies if "frame-ancestors 'none'" in found and "'nonce-" in found]
    assert any(url.endswith("/api/doc") for url in documents), policies
    assert any("/api/" in url and not url.endswith("/api/doc") for url, _ in policies), policies
    # every other answer has Bookshelf's policy, but a cover, which keeps its own stricter one (chapter 04)
    covers = [url for url, found in policies if found.startswith("default-src 'none'")]
    assert covers and all("/covers/" in url for url in covers), policies
    assert all("script-src 'self'" in found for url, found in policies if found and url not in covers), policies
