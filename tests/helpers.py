"""Builders shared by the workbook's own tests: Bookshelf folders, check runs and a JupyterLab server."""

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from workbook import chapters, reference, runner
from workbook.verdict import verdict

ALL_EXERCISES = [e for c in chapters.all_chapters() for e in c.exercises]


def write_files(folder: Path, files: dict[str, str]) -> None:
    """Write these files (path relative to the folder, to text) into the folder."""
    for relative, text in files.items():
        reference.write(folder, relative, text)


def folder_at_check(
    folder: Path, exercise: chapters.Exercise, blank: bool = False, blank_others: frozenset[str] = frozenset(),
) -> Path:
    """Build the folder a learner has when reaching an exercise's check: solved, or with that exercise left blank,
    and with the chapter's exercises named in blank_others left blank too."""
    chapter = chapters.chapter(exercise.chapter)
    student = nbformat.read(chapters.NOTEBOOKS / chapter.filename, as_version=4)
    blanks = {index for other in chapter.exercises if other.id in blank_others for index in other.solution_cells}
    if blank:
        blanks.update(exercise.solution_cells)

    def text_of(written: chapters.WrittenFile) -> str:
        if written.cell_index not in blanks:
            return written.text
        path, body = chapters.writefile_cell(student.cells[written.cell_index])
        assert path == written.path, "notebooks/ is out of step with solutions/"
        return chapters.file_text(body)

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "exercise.ipynb").write_text("{}", encoding="utf-8")  # a chapter folder holds a notebook
    reference.build(folder, chapter.number, until_cell=exercise.check_cell, text_of=text_of)
    return folder


def run(folder: Path, exercise_id: str, **kwargs) -> tuple[bool, str]:
    """Run an exercise's check on a folder and return (passed, the text a learner would read)."""
    exercise = chapters.exercise(exercise_id)
    return verdict(runner.run_check(folder, exercise_id, chapters.chapter(exercise.chapter).check_file(), **kwargs))


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root: Path, *options: str, env: dict | None = None, base_url: str = "/"):
    """Run a real JupyterLab server over root on a free port, under base_url (as JupyterHub's /user/<name>/);
    yield (its URL without the final slash, token)."""
    port, token = free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", f"--ServerApp.base_url={base_url}",
         "--allow-root", *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(root / ".run"), **(env or {})},
    )
    base = f"http://127.0.0.1:{port}{base_url.rstrip('/')}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None, "JupyterLab exited at start"
                assert time.monotonic() < deadline, "JupyterLab did not start within 60 s"
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def chapter00_app(view: str = 'return "Welcome to Bookshelf!"', factory: str = "", top: str = "") -> str:
    """Return a bookshelf/__init__.py for exercise 00.1 whose index view runs `view` (correct by default)."""
    indent = lambda code, spaces: "\n".join(" " * spaces + line for line in code.strip("\n").split("\n"))  # noqa: E731
    return (
        f"from flask import Flask\n{top}\n\n"
        "def create_app(test_config=None):\n"
        "    app = Flask(__name__)\n"
        "    app.config.from_mapping(test_config or {})\n"
        f"{indent(factory, 4) if factory else ''}\n\n"
        '    @app.get("/")\n'
        "    def index():\n"
        f"{indent(view, 8)}\n\n"
        "    return app\n"
    )


def chapter_folder(folder: Path, notebook: str = "00_welcome.ipynb") -> Path:
    """Make folder look like a chapter's folder: it holds a notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / notebook).write_text("{}", encoding="utf-8")
    return folder


def learner_environment() -> dict[str, str]:
    """Return the environment that `make lab` and Binder start JupyterLab in: the one ./start sets up."""
    shown = subprocess.run(
        [str(chapters.ROOT / "start"), sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
        capture_output=True, text=True, check=True, timeout=30,
    )
    return json.loads(shown.stdout)


class HtmlReader(HTMLParser):
    """Collect the tags, style attributes and text of an HTML fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.styles, self.text = [], [], ""

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.styles.extend(value for name, value in attrs if name == "style")

    def handle_data(self, data):
        self.text += data


def read_html(fragment: str) -> HtmlReader:
    """Return the tags, style attributes and text of an HTML fragment."""
    reader = HtmlReader()
    reader.feed(fragment)
    reader.close()
    return reader


class FormReader(HTMLParser):
    """Collect the inputs, selects and text areas of a page's forms as (name, type, value)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inputs = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "select", "textarea") and attributes.get("name"):
            kind = attributes.get("type", "text") if tag == "input" else tag
            self.inputs.append((attributes["name"], kind.lower(), attributes.get("value") or ""))


def form_inputs(page: str) -> list[tuple[str, str, str]]:
    """Return the named inputs of a page's forms as (name, type, value), in page order."""
    reader = FormReader()
    reader.feed(page)
    reader.close()
    return reader.inputs


def csrf_token_in(page: str) -> str | None:
    """Return the value of the page's hidden csrf_token input, as a browser would send it, or None."""
    return next((value for name, kind, value in form_inputs(page) if name == "csrf_token" and kind == "hidden"), None)


def has_route(app, path: str) -> bool:
    """Say whether the app has a route spelt exactly so."""
    return any(rule.rule == path for rule in app.url_map.iter_rules())


def is_logged_in(client) -> bool:
    """Say whether the client's session holds a Flask-Login member."""
    with client.session_transaction() as session:
        return "_user_id" in session


MEMBER_EMAIL, MEMBER_PASSWORD = "reader@example.com", "a long passphrase, 42 ünïcode"


def filled_form(page: str, email: str, password: str, **values: str) -> dict[str, str]:
    """Fill a page's form as a person would: hidden fields kept, e-mail and password typed, other text made up."""
    filled = {}
    for name, kind, value in form_inputs(page):
        if name in values:
            filled[name] = values[name]
        elif kind in ("hidden", "submit"):
            filled[name] = value
        elif kind == "email" or "email" in name:
            filled[name] = email
        elif kind == "password":
            filled[name] = password  # a confirmation field gets the same
        elif kind == "number":
            filled[name] = "3"
        elif kind == "url":
            filled[name] = "https://example.com/"
        elif kind in ("text", "textarea", "search"):
            filled[name] = "Reader"
        # boxes (remember me) stay unticked, as a browser leaves them; files are the caller's
    return filled


def logged_in(client, email: str = MEMBER_EMAIL, password: str = MEMBER_PASSWORD):
    """Register and log in through the app's own forms (chapter 05 on: /auth/register); return the client."""
    if not has_route(client.application, "/auth/register"):
        return client  # before chapter 05 there are no members who log in
    for path in ("/auth/register", "/auth/login"):
        if is_logged_in(client):
            break
        client.post(path, data=filled_form(client.get(path).text, email, password))
    assert is_logged_in(client), f"expected to be logged in after registering and logging in as {email}"
    confirm_address(client.application, email)
    return client


def confirm_address(app, email: str) -> None:
    """From chapter 07 on, mark the member's address confirmed, as its link would: writing waits for it."""
    if "confirm" not in app.blueprints:
        return
    from sqlalchemy import text

    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        session.execute(text("UPDATE users SET confirmed_at = CURRENT_TIMESTAMP WHERE email = :email"),
                        {"email": email.lower()})
        session.commit()


def reference_factory(tmp_path_factory, chapter: str):
    """Build the chapter's reference Bookshelf in a folder of the test's; yield its create_app, then forget the
    package, so that the next module's chapter imports its own."""
    from workbook.app import forget_package, load_create_app

    folder = tmp_path_factory.mktemp(f"bookshelf{chapter}")
    reference.build(folder, chapter)
    yield load_create_app(folder)
    forget_package(folder)
    if str(folder.resolve()) in sys.path:
        sys.path.remove(str(folder.resolve()))
