"""serve(): the learner's Bookshelf as a real server, restarted, stopped, explained when it cannot start, ended with
its kernel, and safe from a forged Host header and from Werkzeug's debugger."""

import http.cookiejar
import json
import re
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from helpers import MEMBER_EMAIL, MEMBER_PASSWORD, chapter00_app, csrf_token_in, filled_form, write_files
from workbook import LearnerError, flask, live, reference, serve, server_log, stop_server

PROBE_ROUTES = '''\
@app.get("/boom")
def boom():
    raise RuntimeError("boom for the log")

@app.get("/visits")
def visits():
    from flask import session
    session["visits"] = session.get("visits", 0) + 1
    return str(session["visits"])
'''
# the index shows an external link to itself, and the host the app believes it is at
EXTERNAL_INDEX = 'from flask import request, url_for\nreturn url_for("index", _external=True) + " " + request.host'


@pytest.fixture(scope="module")
def chapter_05(tmp_path_factory):
    """A learner's folder at the end of chapter 05, its development database migrated."""
    folder = tmp_path_factory.mktemp("chapter05")
    (folder / "05_login.ipynb").write_text("{}", encoding="utf-8")
    reference.restore_created(folder, "05")
    reference.build(folder, "05")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        flask("db upgrade")
    assert (folder / "instance" / "bookshelf.sqlite").exists()
    return folder


@pytest.fixture
def learner_folder(tmp_path, chapter_05, monkeypatch):
    """A copy of the chapter 05 folder, as the notebook's working folder; its server is stopped afterwards."""
    folder = tmp_path / "notebooks"
    shutil.copytree(chapter_05, folder)
    monkeypatch.chdir(folder)
    yield folder
    stop_server(quiet=True)


@pytest.fixture
def probe_folder(tmp_path, monkeypatch):
    """A small Bookshelf whose index builds an external URL, with a failing route and a session counter."""
    folder = tmp_path / "probe"
    folder.mkdir()
    write_files(folder, {"bookshelf/__init__.py": chapter00_app(view=EXTERNAL_INDEX, factory=PROBE_ROUTES)})
    monkeypatch.chdir(folder)
    yield folder
    stop_server(quiet=True)


def links_printed(output: str) -> list[str]:
    return re.findall(r"^  (?:open|or)\s+(\S+)", output, flags=re.MULTILINE)


def get(url: str, opener=None, **headers) -> tuple[int, str, dict]:
    """GET a page without following redirects; return (status, body, headers)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with (opener or urllib.request.build_opener(NoRedirects)).open(request, timeout=30) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(), dict(error.headers)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def gone(pid: int, seconds: float = 10) -> bool:
    """Wait until a process has ended (a zombie counts as ended); say whether it did within the time."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def refused(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError:
        return False
    except OSError:
        return True
    return False


def test_serve_prints_a_link_that_a_plain_client_follows_into_the_development_database(learner_folder, capsys):
    started = time.perf_counter()
    serve()
    output = capsys.readouterr().out
    (link,) = links_printed(output)  # no Jupyter server here: the laptop's link alone
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", link), output
    assert "Its first page answered" not in output, output
    print(f"serve() to first page: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    status, page, _ = get(link)
    assert status == 200 and "Bookshelf" in page

    # register through the form, CSRF token and all, as a browser would: the member lands in instance/'s database
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = get(link + "auth/register", browser)[1]
    assert csrf_token_in(form)
    data = urllib.parse.urlencode(filled_form(form, MEMBER_EMAIL, MEMBER_PASSWORD)).encode()
    with browser.open(link + "auth/register", data=data, timeout=30) as answer:
        assert answer.status == 200 and MEMBER_EMAIL not in answer.url
    database = sqlite3.connect(learner_folder / "instance" / "bookshelf.sqlite")
    with database:
        assert database.execute("select count(*) from users where email = ?", (MEMBER_EMAIL,)).fetchone() == (1,)
    database.close()

    pid = live._server.process.pid
    stop_server()
    assert "stopped" in capsys.readouterr().out
    assert gone(pid) and refused(link)


def test_serve_again_restarts_with_the_current_files_on_the_same_port_and_one_server(learner_folder, capsys):
    serve()
    (link,) = links_printed(capsys.readouterr().out)
    first = live._server.process.pid
    base = learner_folder / "bookshelf" / "templates" / "base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("<main>", "<main><p>Edited live</p>"), encoding="utf-8")
    assert "Edited live" not in get(link)[1]
    serve()
    assert links_printed(capsys.readouterr().out) == [link]  # an open tab needs only a reload
    assert live._server.process.pid != first and gone(first, seconds=0)
    assert "Edited live" in get(link)[1]


def test_a_port_in_use_is_one_sentence(learner_folder):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(LearnerError, match=rf"^Port {port} is in use by another program: call serve\(\) without"):
            serve(port=port)
    assert live._server is None


@pytest.mark.parametrize("path", ["bookshelf/__init__.py", "bookshelf/main.py"])
def test_a_syntax_error_names_the_file_and_line(learner_folder, path):
    broken = learner_folder / path
    broken.write_text(broken.read_text(encoding="utf-8") + "\ndef broken(:\n", encoding="utf-8")
    line = broken.read_text(encoding="utf-8").count("\n")
    with pytest.raises(LearnerError) as raised:
        serve()
    assert str(raised.value).startswith(f"{path}, line {line}: invalid syntax"), raised.value
    assert "Fix the %%writefile cell that writes this file" in str(raised.value)
    assert live._server is None and not servers_left()


@pytest.mark.parametrize("where", ["in create_app()", "at import"])
def test_an_app_that_does_not_start_is_one_sentence_and_leaves_no_process(learner_folder, capsys, where):
    init = learner_folder / "bookshelf" / "__init__.py"
    text = init.read_text(encoding="utf-8")
    failing = 'raise RuntimeError("no config today")\n'
    if where == "at import":
        text = text.replace("\nIN_MEMORY = ", "\n" + failing + "IN_MEMORY = ")
    else:
        text = text.replace('    """Create and configure an instance of the Bookshelf app."""\n',
                            '    """Create and configure an instance of the Bookshelf app."""\n    ' + failing)
    assert failing in text
    init.write_text(text, encoding="utf-8")
    with pytest.raises(LearnerError) as raised:
        serve()
    message = str(raised.value)
    assert message.startswith("Bookshelf did not start: importing it or create_app() raised RuntimeError: "
                              "no config today (in bookshelf/__init__.py, line "), message
    assert live._server is None and not servers_left()
    server_log()
    assert "RuntimeError: no config today" in capsys.readouterr().out  # the traceback is in the log


def servers_left() -> list[psutil.Process]:
    """Return the live servers this process started that still run."""
    left = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and live.ENTRY in " ".join(child.cmdline()):
                left.append(child)
        except psutil.NoSuchProcess:
            pass  # it ended while being looked at
    return left


KERNEL = """\
import contextlib, json, sys
from workbook import live, serve
with contextlib.redirect_stdout(sys.stderr):  # the one line on stdout is the test's
    serve()
print(json.dumps({"pid": live._server.process.pid, "link": live._server.links[-1]}), flush=True)
sys.stdin.read()  # a kernel waits for its next cell
"""


def test_the_server_ends_when_its_kernel_is_killed(learner_folder):
    kernel = subprocess.Popen([sys.executable, "-c", KERNEL], cwd=learner_folder, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        with selectors.DefaultSelector() as waiting:
            waiting.register(kernel.stdout, selectors.EVENT_READ)
            assert waiting.select(timeout=60), "no server within 60 s"
        line = kernel.stdout.readline()
        assert line, "the kernel ended without starting a server"
        started = json.loads(line)
        assert get(started["link"])[0] == 200
        kernel.send_signal(signal.SIGKILL)
        kernel.wait(timeout=10)
        assert gone(started["pid"], seconds=10), "the server outlived its kernel"
        assert refused(started["link"])
    finally:
        kernel.kill()
        kernel.communicate()  # and close its pipes


def test_behind_a_hub_the_app_is_mounted_at_the_proxy_prefix_and_a_forged_host_never_reaches_a_link(
        probe_folder, monkeypatch, capsys):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/learner/")
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_URL", "https://hub.example.org/user/learner/")
    serve()
    proxied, direct = links_printed(capsys.readouterr().out)
    port = live._server.port
    prefix = f"/user/learner/proxy/absolute/{port}/"
    assert (proxied, direct) == (f"https://hub.example.org{prefix}", f"http://127.0.0.1:{port}{prefix}")
    for host in ("evil.example", f"127.0.0.1:{port}", "hub.example.org"):
        assert get(direct, Host=host)[:2] == (200, f"{proxied} hub.example.org"), host
    # the session cookie is the app's alone: its path is the prefix
    status, body, headers = get(direct + "visits")
    assert status == 200 and re.search(rf"Path={re.escape(prefix.rstrip('/'))}(;|$)", headers["Set-Cookie"]), headers
    assert get(f"http://127.0.0.1:{port}/")[2]["Location"] == prefix  # the bare port leads to the app


def test_the_debugger_is_never_reachable_and_a_failing_request_is_in_the_log(probe_folder, capsys):
    serve()
    (link,) = links_printed(capsys.readouterr().out)
    status, body, _ = get(link + "boom")
    assert status == 500 and "Traceback" not in body and "__debugger__" not in body and "Werkzeug Debugger" not in body
    status, body, headers = get(link + "?__debugger__=yes&cmd=resource&f=debugger.js")
    assert "javascript" not in headers.get("Content-Type", "") and "debugger" not in body.lower()
    server_log()
    log = capsys.readouterr().out
    assert "RuntimeError: boom for the log" in log and '"GET /boom HTTP/1.1" 500' in log, log
    assert "\x1b[" not in log  # Werkzeug's terminal colours are left out


def test_behind_a_hub_that_does_not_say_its_address_the_path_is_printed_and_full_links_stay_local(
        probe_folder, monkeypatch, capsys):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/learner/")
    monkeypatch.delenv("JUPYTERHUB_PUBLIC_URL", raising=False)
    serve()
    output = capsys.readouterr().out
    path, direct = links_printed(output)
    port = live._server.port
    assert path == f"/user/learner/proxy/absolute/{port}/" and direct == f"http://127.0.0.1:{port}{path}"
    assert "serve(origin='https://<your hub>')" in output
    assert get(direct, Host="evil.example")[1] == f"http://127.0.0.1:{port}{path} 127.0.0.1:{port}"
