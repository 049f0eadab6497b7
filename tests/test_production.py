"""Chapter 10's Bookshelf as a production server runs it: gunicorn with two worker processes, and waitress, on PostgreSQL.

The reference of chapter 10 is built once, its migrations run on a PostgreSQL server this module starts, and each
server is started on it from the folder with `wsgi:app` and settings from the environment only, as chapter 10 teaches.
A member registers, logs in, adds a book and reads it back over real HTTP. gunicorn ends each worker after one
request (--max-requests 1), so that no two requests of the story share a process: whatever one request leaves for the
next must be in the database or the signed cookie. Skips where PostgreSQL or gunicorn is missing, unless
WORKBOOK_REQUIRE_POSTGRES is set (.ci/run).
"""

import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy

import postgres
from helpers import free_port
from workbook import mailbox, reference

CHAPTER = "10"
PASSWORD = "a long enough passphrase"


@pytest.fixture(scope="module")
def database_url():
    yield from postgres.server_or_skip()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, database_url):
    """Chapter 10's reference Bookshelf, its tables made on PostgreSQL by `flask db upgrade`."""
    folder = tmp_path_factory.mktemp("bookshelf")
    reference.restore_created(folder, CHAPTER)
    reference.build(folder, CHAPTER)
    upgraded = subprocess.run([sys.executable, "-m", "flask", "--app", "bookshelf", "db", "upgrade"], cwd=folder,
                              env=server_environment(database_url, 0), capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    return folder


def server_environment(database_url: str, port: int) -> dict[str, str]:
    """Return what a server's environment holds for Bookshelf: a key, the database, the host, one proxy in front."""
    kept = {name: value for name, value in os.environ.items()
            if not name.startswith(("FLASK_", "PYTEST_", "MAIL_")) and name not in ("SECRET_KEY", "SERVER_NAME")}
    return {**kept, "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": database_url,
            "SERVER_NAME": f"127.0.0.1:{port}", "PROXY_HOPS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


class Browser:
    """A client that keeps cookies, sends what a proxy in front would add (HTTPS), and never follows redirects."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []
        self.forged: dict[str, str] = {}  # headers an attacker sends in place of the proxy's

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        # a browser sends the Referer that Flask-WTF checks on HTTPS (WTF_CSRF_SSL_STRICT)
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7",
                   "Referer": f"https://127.0.0.1:{self.port}/"}
        headers.update(self.forged)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(header)
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Expires=Thu, 01 Jan 1970" in header or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, dict(response.headers), text

    def token(self, path: str) -> str:
        status, _, page = self.request("GET", path)
        assert status == 200, f"GET {path}: {status}"
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1]

    def post(self, path: str, form: dict, token_from: str | None = None) -> tuple[int, dict, str]:
        return self.request("POST", path, {**form, "csrf_token": self.token(token_from or path)})


def confirm_address(database_url: str, email: str) -> None:
    """Mark the member's address confirmed, as the link of their welcome mail would: writing waits for it."""
    engine = sqlalchemy.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE users SET confirmed_at = CURRENT_TIMESTAMP WHERE email = :email"),
                           {"email": email})
    engine.dispose()


def story(port: int, name: str, database_url: str) -> None:
    """Register (which logs nobody in), confirm, log in, add a book, and read it back on its page, in the list and
    through the API."""
    email, title = f"{name.lower()}@example.com", f"{name}'s Middlemarch"
    browser = Browser(port)
    status, headers, page = browser.post("/auth/register", {"name": name, "email": email, "password": PASSWORD,
                                                            "confirm": PASSWORD})
    assert status == 302, page[:500]
    assert "_user_id" not in browser.cookies.get("session", ""), "registering logs nobody in"
    confirm_address(database_url, email)
    status, _, _ = browser.request("GET", "/books/new")
    assert status == 302, "a visitor is sent to log in"
    status, _, page = browser.post("/auth/login", {"email": email.upper(), "password": PASSWORD})
    assert status == 302, page[:500]
    status, headers, page = browser.post("/books/new", {"title": title, "author": "George Eliot", "year": "1871"})
    assert status == 302, page[:500]
    book_path = headers["Location"].removeprefix(f"https://127.0.0.1:{port}")
    status, _, page = browser.request("GET", book_path)
    assert status == 200 and title.replace("'", "&#39;") in page
    status, _, page = browser.request("GET", "/")
    assert title.replace("'", "&#39;") in page
    status, _, api = browser.request("GET", "/api/books?per_page=100")
    assert status == 200 and title in json.dumps(json.loads(api), ensure_ascii=False), api[:500]
    # case 6: the production config's cookies
    session_cookies = [header for header in browser.set_cookies if header.startswith("session=")]
    assert session_cookies and all(re.search(r"; Secure(;|$)", header) and "HttpOnly" in header
                                   and "SameSite=Lax" in header for header in session_cookies), session_cookies


def run_server(command: list[str], folder: Path, environment: dict, ready: str) -> tuple[subprocess.Popen, list]:
    """Start a server and return once its log says it listens; its later lines are kept in the list returned."""
    process = subprocess.Popen(command, cwd=folder, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace")
    lines = []
    for line in process.stdout:  # each line as the server writes it; the loop ends if the server exits
        lines.append(line)
        if ready in line:
            break
    else:
        process.wait(timeout=30)
        raise AssertionError(f"the server stopped before it listened:\n{''.join(lines)}")
    # keep reading, so that a full pipe never blocks the server
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    process.reader = reader
    return process, lines


def stop(process: subprocess.Popen) -> None:
    """Stop the server, read the rest of its log, and close the pipe."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    process.reader.join(timeout=30)
    process.stdout.close()


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on Linux and macOS only")
def test_gunicorn_with_two_workers_on_postgresql(folder, database_url, tmp_path):
    port = free_port()
    access = tmp_path / "access.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--max-requests", "1", "--bind", f"127.0.0.1:{port}",
               "--access-logfile", str(access), "--access-logformat", "%(p)s %(r)s %(s)s", "wsgi:app"]
    server, log = run_server(command, folder, server_environment(database_url, port), "Listening at")
    try:
        story(port, "Pat", database_url)
    finally:
        stop(server)
    assert "Traceback" not in "".join(log), "".join(log)
    workers = {line.split()[0] for line in access.read_text().splitlines()}
    requests = access.read_text().count("\n")
    assert len(workers) >= 2 and len(workers) == requests, f"expected a process per request:\n{access.read_text()}"


# waitress deletes X-Forwarded-* headers unless it is told which proxy may send them
WAITRESS_BEHIND_A_PROXY = ["--trusted-proxy=127.0.0.1", "--trusted-proxy-headers=x-forwarded-for x-forwarded-proto"]


def test_waitress_on_postgresql(folder, database_url):
    port = free_port()
    command = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=4", *WAITRESS_BEHIND_A_PROXY,
               "wsgi:app"]
    server, log = run_server(command, folder, server_environment(database_url, port), "Serving on")
    try:
        story(port, "Sam", database_url)
    finally:
        stop(server)
    assert "Traceback" not in "".join(log), "".join(log)


def test_production_refuses_to_start_without_a_key(folder, database_url):
    """waitress cannot load the app: it exits, and says why."""
    environment = {**server_environment(database_url, 0)}
    del environment["SECRET_KEY"]
    port = free_port()
    completed = subprocess.run([sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "wsgi:app"],
                               cwd=folder, env=environment, capture_output=True, text=True, timeout=120)
    assert completed.returncode != 0
    assert "will not start without a secret key" in completed.stderr, completed.stderr[-2000:]


def test_a_forged_host_gets_a_mailed_link_to_the_configured_host(folder, database_url):
    """Case 12 under the production config: a reset asked for with `Host: evil.example` (passed on by the proxy)
    mails a link to SERVER_NAME, over https."""
    inbox = mailbox.Inbox()
    port = free_port()
    environment = {**server_environment(database_url, port), "MAIL_SERVER": mailbox.HOST, "MAIL_PORT": str(inbox.port)}
    command = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=4", *WAITRESS_BEHIND_A_PROXY,
               "wsgi:app"]
    server, log = run_server(command, folder, environment, "Serving on")
    try:
        email = "kit@example.com"
        status, _, page = Browser(port).post("/auth/register", {"name": "Kit", "email": email, "password": PASSWORD,
                                                                "confirm": PASSWORD})
        assert status == 302, page[:500]
        attacker = Browser(port)
        attacker.forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example",
                           "Referer": "https://evil.example/auth/forgot"}
        status, _, page = attacker.post("/auth/forgot", {"email": email})
        assert status in (200, 302), page[:500]
    finally:
        stop(server)
        inbox.stop()
    assert "Traceback" not in "".join(log), "".join(log)
    resets = [mailbox.describe(message) for message in inbox.messages if "/auth/reset/" in mailbox.describe(message)]
    assert resets, f"expected a reset mail, the inbox holds {[m['Subject'] for m in inbox.messages]}"
    links = re.findall(r"(https?)://([^/\s]+)/auth/reset/", resets[-1])
    assert links and set(links) == {("https", f"127.0.0.1:{port}")}, links


@pytest.fixture(scope="module")
def sqlite_folder(tmp_path_factory):
    """Chapter 10's reference Bookshelf, for starts that need no database server."""
    folder = tmp_path_factory.mktemp("bookshelf-sqlite")
    reference.build(folder, CHAPTER)
    return folder


def start_as_a_server(folder: Path, **environ: str) -> subprocess.CompletedProcess:
    """Run create_app() in a new process as a server would: debug off, settings from this environment only."""
    kept = {name: value for name, value in os.environ.items()
            if not name.startswith(("FLASK_", "PYTEST_", "MAIL_")) and name not in ("SECRET_KEY", "SERVER_NAME")}
    return subprocess.run([sys.executable, "-c", "from bookshelf import create_app; create_app()"], cwd=folder,
                          env={**kept, "DATABASE_URL": "sqlite://", "PYTHONDONTWRITEBYTECODE": "1", **environ},
                          capture_output=True, text=True, timeout=120)


def test_issue_24_3_production_refuses_to_start_without_server_name(sqlite_folder):
    """Without SERVER_NAME a forged Host header names the attacker's site in mailed links: no start, as without a
    key; with SERVER_NAME it starts."""
    refused = start_as_a_server(sqlite_folder, SECRET_KEY=secrets.token_hex(32))
    assert refused.returncode != 0, "expected create_app() to refuse to start without SERVER_NAME"
    assert "will not start without SERVER_NAME" in refused.stderr, refused.stderr[-2000:]
    started = start_as_a_server(sqlite_folder, SECRET_KEY=secrets.token_hex(32), SERVER_NAME="books.example.org")
    assert started.returncode == 0, started.stderr[-2000:]


@pytest.mark.parametrize("key", ["a", "secret", "correct horse battery staple", "x" * 31])
def test_issue_24_11_production_refuses_a_key_shorter_than_32_bytes_and_says_how_to_make_one(sqlite_folder, key):
    refused = start_as_a_server(sqlite_folder, SECRET_KEY=key, SERVER_NAME="books.example.org")
    assert refused.returncode != 0, f"expected create_app() to refuse the key {key!r}"
    assert "python -c 'import secrets; print(secrets.token_hex(32))'" in refused.stderr, refused.stderr[-2000:]


def test_issue_24_11_a_key_of_32_random_bytes_starts(sqlite_folder):
    started = start_as_a_server(sqlite_folder, SECRET_KEY=secrets.token_hex(32), SERVER_NAME="books.example.org")
    assert started.returncode == 0, started.stderr[-2000:]


# a request as the server passes it on: from 192.0.2.1, claiming (X-Forwarded-For) to come from 203.0.113.7
WHERE_FROM = """
from flask import request
import wsgi

@wsgi.app.before_request
def say_where_from():
    print("remote_addr", request.remote_addr)

wsgi.app.test_client().get("/", headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "192.0.2.1"})
"""


@pytest.mark.parametrize(("hops", "seen"), [(None, "192.0.2.1"), ("0", "192.0.2.1"), ("1", "203.0.113.7")])
def test_issue_24_a_visitor_chooses_no_address_unless_a_proxy_is_declared(sqlite_folder, hops, seen):
    """wsgi.py trusts X-Forwarded-For only when PROXY_HOPS says a proxy is in front: by default a visitor's own header
    is ignored (else a visitor picks the address that log-in limits and logs count)."""
    environ = {"SECRET_KEY": secrets.token_hex(32), "SERVER_NAME": "books.example.org"}
    if hops is not None:
        environ["PROXY_HOPS"] = hops
    kept = {name: value for name, value in os.environ.items()
            if not name.startswith(("FLASK_", "PYTEST_", "MAIL_", "PROXY_")) and name not in ("SECRET_KEY", "SERVER_NAME")}
    ran = subprocess.run([sys.executable, "-c", WHERE_FROM], cwd=sqlite_folder,
                         env={**kept, "DATABASE_URL": "sqlite://", "PYTHONDONTWRITEBYTECODE": "1", **environ},
                         capture_output=True, text=True, timeout=120)
    assert f"remote_addr {seen}\n" in ran.stdout, ran.stdout + ran.stderr[-2000:]
