"""Bookshelf live: the learner's app served by a real server beside the kernel, at a link their browser can open.

serve() starts a child process that imports Bookshelf from the notebook's folder with the development configuration
(the instance/ database), debug off and a secret key made for that server, and serves it with Werkzeug's threaded
server on 127.0.0.1. Behind a Jupyter server with jupyter-server-proxy (a laptop, Binder, JupyterHub) the app is
mounted at `<base_url>proxy/absolute/<port>/`: the proxy passes that path on whole, so the app's links, redirects
and cookie paths are right without rewriting anything. The Jupyter server checks its own login before it proxies.

The child dies with the kernel (Linux's parent-death signal, and a watch on its parent elsewhere); its output, the
request log and any traceback, goes to .workbook/server.log, which server_log() shows.
"""

import atexit
import errno
import importlib.util
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import LearnerError, WorkbookError

LOG = Path(".workbook") / "server.log"
READY = Path(".workbook") / "server-ready.json"
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
TRACEBACK = "Traceback (most recent call last):"
# `-m workbook.live` would import this module twice (the package imports it too)
ENTRY = "import sys; from workbook.live import main; sys.exit(main(sys.argv[1:]))"


@dataclass
class Server:
    """The one server this kernel runs: its process, port, links and log."""

    process: subprocess.Popen
    folder: Path
    port: int
    links: list[str]


_server: Server | None = None


# ---- the kernel's side ------------------------------------------------------------------------------


def jupyter_server() -> dict | None:
    """Return the runtime info of the running Jupyter server that started this kernel, or None."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return None
    # the files jupyter_server's list_running_servers() reads; importing jupyter_server.serverapp would take 2 s
    parent = os.getppid()
    for path in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and info.get("pid") == parent:
            return info
    return None


def origin_of(url: str) -> str:
    """Return the scheme and host of an address: https://hub.example.org."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def where_jupyter_is() -> tuple[str | None, str]:
    """Return (the base URL of this kernel's Jupyter server if its proxy can reach us, its public origin or "")."""
    if importlib.util.find_spec("jupyter_server_proxy") is None:
        return None, ""
    hub_prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    info = jupyter_server()
    base_url = (info or {}).get("base_url") or hub_prefix
    if not base_url:
        return None, ""
    # behind JupyterHub the server's own address is an internal one: only the hub knows the public one
    public = os.environ.get("JUPYTERHUB_PUBLIC_URL", "") if hub_prefix else (info or {}).get("url", "")
    origin = origin_of(public)
    return "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/", origin


def port_given(port) -> int:
    """Return the port the learner asked for (0: any free one), or say what is wrong with it."""
    if port is None:
        return 0
    if isinstance(port, bool) or not isinstance(port, int) or not 1024 <= port <= 65535:
        raise LearnerError(f"serve(port=...) takes a whole number from 1024 to 65535, not {port!r}: or leave it out.")
    return port


def serve(port: int | None = None, origin: str | None = None) -> None:
    """Serve the Bookshelf in this folder live, as it is now (again: restart it), and print where to open it."""
    global _server
    requested = port_given(port)
    if origin is not None and not origin_of(origin):
        raise LearnerError(f"serve(origin=...) takes an address such as 'https://hub.example.org', not {origin!r}.")
    # a restart keeps the port, so that a tab open on the app needs only a reload
    previous = _server.port if _server else 0
    started = time.perf_counter()
    stop_server(quiet=True)
    folder = Path.cwd()
    if not (folder / "bookshelf" / "__init__.py").exists():
        raise LearnerError(
            f"There is no bookshelf/__init__.py in {folder}. Run the chapter's first code cell "
            "(start_chapter) and the %%writefile cells above this one, then try again."
        )
    base_url, found_origin = where_jupyter_is()
    (folder / LOG.parent).mkdir(exist_ok=True)
    ready = folder / READY
    ready.unlink(missing_ok=True)
    settings = {"folder": str(folder), "port": requested or previous, "base_url": base_url,
                "origin": origin or found_origin, "parent": os.getpid(), "ready": str(ready)}
    process, answer = start(folder, settings)
    if answer.get("port_in_use") and not requested:
        process, answer = start(folder, {**settings, "port": 0})  # the old port was taken meanwhile: any will do
    if "error" in answer:
        raise LearnerError(answer["error"])
    _server = Server(process, folder, answer["port"], answer["links"])
    first_page = first_page_status(answer["links"][-1])
    seconds = time.perf_counter() - started
    print(f"Bookshelf is live, from the files in this folder as they are now ({seconds:.1f} s to the first page).")
    labels = ["open", "or"] if len(answer["links"]) > 1 else ["open"]
    where = ["through JupyterLab", "directly, from this computer only"] if len(answer["links"]) > 1 else [""]
    for label, link, note in zip(labels, answer["links"], where):
        print(f"  {label:4} {link}" + (f"   ({note})" if note else ""))
    if answer.get("note"):
        print(answer["note"])
    if first_page >= 500:
        error = last_error(read_log(folder))
        hint = ' (flask("db upgrade") brings the database up to date)' if "no such table" in error else ""
        print(f"Its first page answered {first_page}" + (f", with {error}" if error else "") + hint
              + ": server_log() shows the traceback.")
    print("After you change a file, run serve() again; server_log() shows its log; stop_server() stops it.")


def start(folder: Path, settings: dict) -> tuple[subprocess.Popen, dict]:
    """Start the server's process, wait until it is ready, and return it with what it said (stopped if an error)."""
    from .runner import clean_environment  # the same clean start as a check's

    ready = Path(settings["ready"])
    with open(folder / LOG, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-P", "-c", ENTRY, json.dumps(settings)], cwd=folder, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**clean_environment(), "SECRET_KEY": secrets.token_hex(32), "FLASK_DEBUG": "0",
                 "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"},
        )
    try:
        answer = wait_until_ready(process, ready)
    except BaseException:
        stop(process)
        raise
    finally:
        ready.unlink(missing_ok=True)
    if "error" in answer:
        stop(process)
    return process, answer


def wait_until_ready(process: subprocess.Popen, ready: Path) -> dict:
    """Wait until the server says it is ready or what went wrong, or ends, or takes too long; return what it said."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready.exists():
        if process.poll() is not None:
            raise LearnerError(
                f"Bookshelf's server ended before it was ready (exit status {process.returncode}): "
                "server_log() shows why."
            )
        if time.monotonic() > deadline:
            raise LearnerError(
                f"Bookshelf's server did not start within {START_TIMEOUT:.0f} s and was stopped: "
                "server_log() shows how far it got. Does create_app() wait for something?"
            )
        time.sleep(0.02)  # the child writes the file once, atomically; a pipe would not work on Windows
    return json.loads(ready.read_text(encoding="utf-8"))


def first_page_status(link: str) -> int:
    """Ask the server for its first page, as a browser would, and return the status."""
    try:
        with urllib.request.urlopen(link, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except OSError:
        return 0


def stop(process: subprocess.Popen) -> None:
    """End the server and whatever the learner's app started."""
    from .flask_command import stop as stop_command

    stop_command(process)  # also when it has ended: what it started may still run, in its process group


def stop_server(quiet: bool = False) -> None:
    """Stop the live Bookshelf this kernel serves."""
    global _server
    if _server is None:
        if not quiet:
            print("No Bookshelf is being served from this notebook.")
        return
    stop(_server.process)
    if not quiet:
        print(f"Bookshelf's server on port {_server.port} is stopped.")
    _server = None


def server_log(lines: int = 40) -> None:
    """Print the last lines of the live server's log: requests, and the traceback of a failing one."""
    folder = _server.folder if _server else Path.cwd()
    text = read_log(folder)
    if text is None:
        print("Nothing has been served from this folder yet: run serve() first.")
        return
    from .flask_command import relative_paths

    shown = text.splitlines()[-lines:]
    if _server is None or _server.process.poll() is not None:
        shown.append("(the server is not running: serve() starts it)")
    print(relative_paths("\n".join(shown), folder) or "(the log is empty)")


def read_log(folder: Path) -> str | None:
    """Return the server's log as text, without the colours Werkzeug gives a terminal, or None if there is none."""
    try:
        text = (folder / LOG).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def last_error(log: str | None) -> str:
    """Return the exception that ends the log's last traceback, short: "OperationalError: no such table: books"."""
    if not log or TRACEBACK not in log:
        return ""
    tail = log.rsplit(TRACEBACK, 1)[1].splitlines()[1:]
    line = next((line for line in tail if line and not line.startswith(" ")), "")
    name, colon, message = line.partition(": ")
    return name.rsplit(".", 1)[-1] + colon + message


atexit.register(stop_server, quiet=True)


# ---- the server's side: the child process -----------------------------------------------------------


class PublicOrigin:
    """Give every request the public scheme and host, whatever Host header it came with.

    So url_for(..., _external=True) (a link in a mail) points where the learner's browser can follow it, and a forged
    Host header never reaches one (SECURITY case 12)."""

    def __init__(self, app, origin: str):
        parts = urlsplit(origin)
        self.app, self.scheme, self.host = app, parts.scheme, parts.netloc

    def __call__(self, environ, start_response):
        environ["wsgi.url_scheme"], environ["HTTP_HOST"] = self.scheme, self.host
        return self.app(environ, start_response)


def to_prefix(prefix: str):
    """Return a WSGI app that sends "/" to the prefix where Bookshelf is mounted, and answers 404 elsewhere."""
    from werkzeug.exceptions import NotFound
    from werkzeug.utils import redirect

    def app(environ, start_response):
        if environ.get("PATH_INFO", "/") in ("", "/"):
            return redirect(prefix)(environ, start_response)
        return NotFound(f"Bookshelf is served under {prefix}")(environ, start_response)

    return app


def say(ready: str, answer: dict) -> None:
    """Tell the kernel, once, that the server is ready or what went wrong."""
    temporary = Path(ready + ".tmp")
    temporary.write_text(json.dumps(answer), encoding="utf-8")
    os.replace(temporary, ready)


def watch_parent(parent: int) -> None:
    """End this process when the kernel has gone (where no parent-death signal did it already)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def build(folder: Path, prefix: str, origin: str):
    """Import Bookshelf afresh, create the development app with this server's settings, and return it mounted."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from .app import explain, load_create_app, syntax_problem

    # the host links name, as a server's environment gives it: chapter 10's create_app() refuses to start without
    # (a forged Host header would name the site in a mailed link); PublicOrigin gives every request this host too
    os.environ.setdefault("SERVER_NAME", urlsplit(origin).netloc)
    try:
        create_app = load_create_app(folder)
        app = create_app()
    except WorkbookError:
        raise  # load_create_app() said it in one sentence already
    except SyntaxError as error:  # a module that create_app() imports
        raise LearnerError(
            f"{syntax_problem(error, folder, Path(''))}. "
            "Fix the %%writefile cell that writes this file, run it, then serve() again."
        ) from None
    except Exception as error:
        traceback.print_exc()
        raise LearnerError(
            f"Bookshelf did not start: importing it or create_app() raised {explain(error, folder)}. "
            "Fix it, run its %%writefile cell, then serve() again (server_log() shows the traceback)."
        ) from None
    if not (hasattr(app, "config") and hasattr(app, "wsgi_app")):
        raise LearnerError(f"Bookshelf did not start: create_app() returned {type(app).__name__}, not a Flask app.")
    # debug stays off: Werkzeug's debugger would run any code for whoever reaches the page
    app.config.update(SECRET_KEY=os.environ["SECRET_KEY"], DEBUG=False)
    if not origin.startswith("https://"):
        # a production config (chapter 10) marks cookies Secure: a browser on plain http://127.0.0.1 or
        # http://localhost:8888 would not send them back, and no log-in would last a click
        app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
        # chapter 11's Flask-Talisman (kept in app.extensions by bookshelf/headers.py) would send every request of
        # such a browser to https://, where nothing listens
        talisman = getattr(app, "extensions", {}).get("talisman")
        if talisman is not None:
            talisman.force_https = False
    if prefix:
        # cookie paths follow these settings, not SCRIPT_NAME; without them a log-in would not survive a page
        root = prefix.rstrip("/")
        app.config.update(APPLICATION_ROOT=root, SESSION_COOKIE_PATH=root, REMEMBER_COOKIE_PATH=root)
        return PublicOrigin(DispatcherMiddleware(to_prefix(prefix), {root: app}), origin)
    return PublicOrigin(app, origin)


def port_in_use(port: int) -> bool:
    """Say whether another program listens on this port (Werkzeug would print it and exit)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Werkzeug's server binds
        try:
            probe.bind((HOST, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def main(arguments: list[str]) -> int:
    """In the child: serve Bookshelf until stopped, or say in one sentence why it cannot start."""
    from werkzeug.serving import make_server

    from .processes import die_with_parent

    settings = json.loads(arguments[0])
    folder, ready = Path(settings["folder"]), settings["ready"]
    die_with_parent(settings["parent"])
    threading.Thread(target=watch_parent, args=(settings["parent"],), daemon=True).start()
    if settings["port"] and port_in_use(settings["port"]):
        say(ready, {"port_in_use": True, "error": f"Port {settings['port']} is in use by another program: "
                                                  "call serve() without a port, and it picks a free one."})
        return 1
    # Werkzeug's threaded server, as run_simple() makes it; the app is put in once the port is known
    server = make_server(HOST, settings["port"], lambda environ, start_response: [], threaded=True)
    port = server.socket.getsockname()[1]
    base_url = settings["base_url"]
    prefix = f"{base_url}proxy/absolute/{port}/" if base_url else ""
    direct = f"http://{HOST}:{port}{prefix or '/'}"
    links, note = [direct], ""
    if base_url:
        if settings["origin"]:
            links.insert(0, settings["origin"] + prefix)
        else:
            links.insert(0, prefix)
            note = ("Open the first link after your JupyterHub's address (https://<your hub>). Links the app writes "
                    f"out in full (in a mail) use http://{HOST}:{port}: serve(origin='https://<your hub>') fixes them.")
    origin = origin_of(links[0]) or f"http://{HOST}:{port}"
    try:
        server.app = build(folder, prefix, origin)
    except WorkbookError as error:
        say(ready, {"error": str(error)})
        return 1
    print(f"Serving Bookshelf at {' and '.join(links)}", flush=True)
    say(ready, {"port": port, "links": links, "note": note})
    server.serve_forever()
    return 0
