"""The options, fixtures and helpers of every exercise check, public or hidden: the learner's app, its client and runner.

A check must answer within a second, and prove as much as it would at leisure. The warm worker imports this module
before it forks a check (workbook.worker.PRELOAD), so what it imports (WARM_IMPORTS) is ready in every check's process,
and it keeps pytest's rewritten check files on disk (cache_rewritten_checks). Its session fixtures, in both conftests,
remove work that is repeated for each test without being what a test proves: password hashes at a low cost, and
counted (a check proves a login's hashing by counting, never by timing: PasswordHashes), each URL rule's builder and
each template compiled once for the many apps of a check, and SQLite files written without fsync.
tests/test_check_speed_rules.py proves each against the library it stands in for.
"""

import contextlib
import functools
import hashlib
import importlib
import re
import secrets
import socket
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from workbook.app import TEST_CONFIG, load_create_app

# what every check's process imports in pytest's start-up or the tests' first steps (pytest's own plugins and what
# they import, SQLite and its dialect, Flask-Migrate's commands, the e-mail validator of the forms): imported here,
# once, by the warm worker (readline, as pytest does; Python keeps it from writing to an output that is no terminal)
WARM_IMPORTS = (
    "_pytest.junitxml", "_pytest.unittest", "_pytest.skipping", "_pytest.faulthandler", "_pytest.helpconfig",
    "_pytest.pastebin", "_pytest.setuponly", "_pytest.setupplan", "_pytest.tracemalloc", "_pytest.warnings",
    "sqlite3", "sqlalchemy.dialects.sqlite", "flask_sqlalchemy.cli", "flask_migrate.cli", "alembic.migration",
    "logging.config", "flask_wtf.file", "email_validator", "encodings.idna", "encodings.unicode_escape",
    "_pytest._argcomplete", "faulthandler", "readline",
)
for _name in WARM_IMPORTS:
    try:
        importlib.import_module(_name)
    except ImportError:  # a library a chapter has not installed yet: its check finds it missing itself
        pass


class _NoTrace:
    def trace(self, *message) -> None:
        pass


def cache_rewritten_checks(folders=None) -> None:
    """Keep pytest's rewritten checks where pytest looks for them first: a pyc beside each file, checked by its hash.

    pytest rewrites the asserts of every test file and conftest it imports (so that a failure shows the values
    compared), which took a tenth of a check's time: a check writes no bytecode (collector.run_pytest), so pytest
    never keeps the result. Written here, in the warm worker before any check, each check's pytest reads it instead,
    as long as the file's text is the same (pytest compares its hash). Never in a check's own process, which must
    write nothing outside its folder: there, as in any process that writes no bytecode, this does nothing."""
    if sys.dont_write_bytecode:
        return
    try:
        from _pytest.assertion.rewrite import PYC_TAIL, _read_pyc, _rewrite_test, _write_pyc, get_cache_dir
    except ImportError:  # another pytest: each check rewrites its file, as before
        return
    from workbook.chapters import CHECKS, HIDDEN

    for folder in folders or (CHECKS, HIDDEN):
        settings = folder / "pytest.ini"
        if settings.exists() and "enable_assertion_pass_hook" in settings.read_text(encoding="utf-8"):
            continue  # rewritten another way than the default this writes
        for source in sorted(folder.glob("*.py")):
            if source.name != "conftest.py" and not (source.name.startswith("test_") or source.name.endswith("_test.py")):
                continue  # pytest rewrites its test files and conftests only
            try:
                cache = get_cache_dir(source)
                pyc = cache / (source.name[:-3] + PYC_TAIL)
                if _read_pyc(source, pyc) is None:
                    cache.mkdir(exist_ok=True)
                    source_hash, code = _rewrite_test(source, None)
                    _write_pyc(_NoTrace(), code, source_hash, pyc)
            except Exception:  # a folder that cannot be written, a file with an error: pytest rewrites it as before
                continue


cache_rewritten_checks()


def pytest_addoption(parser):
    parser.addoption("--bookshelf", help="the folder that holds the learner's bookshelf package")
    parser.addoption("--exercise", help="run only the tests of this exercise, like 01.2")


def pytest_collection_modifyitems(config, items):
    wanted = config.getoption("--exercise")
    if not wanted:
        return
    selected, deselected = [], []
    for item in items:
        marker = item.get_closest_marker("exercise")
        (selected if marker and marker.args[0] == wanted else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = selected


# a password hash in a check costs at most this: scrypt's n (microseconds, not Werkzeug's 0.1 s), PBKDF2's iterations
CHECK_SCRYPT_N = 16
CHECK_PBKDF2_ITERATIONS = 1000


class PasswordHashes:
    """The slow password hashes of hashlib (scrypt, PBKDF2) at a low cost in a check, and a record of each one computed.

    Werkzeug's generate_password_hash and check_password_hash compute them through hashlib.scrypt and
    hashlib.pbkdf2_hmac, at the cost their method names (scrypt:32768:8:1 by default, about 0.1 s): a check that sets
    and checks a few passwords took seconds. Here each is computed at CHECK_SCRYPT_N or CHECK_PBKDF2_ITERATIONS at most,
    whatever the method asks, an explicit "scrypt:131072:8:1" included. What is stored still names the method and its
    cost, with a new salt each time, and a check computes it the same way, so right and wrong passwords get the answers
    they get at full cost. Time is told by counting instead: `during(action)` returns each hash the action computed, as
    Werkzeug names its method and the cost asked for ("scrypt:32768:8:1", "pbkdf2:sha256:1000000").
    """

    def __init__(self):
        self.computed: list[str] = []

    def during(self, action) -> list[str]:
        """Run action() and return the hashes it computed, in order, each named by its method and cost asked for."""
        start = len(self.computed)
        action()
        return self.computed[start:]

    def cheap_scrypt(self, scrypt):
        @functools.wraps(scrypt)
        def cheap(password, *args, **kwargs):
            n = kwargs.get("n")
            # only a valid cost is lowered: a wrong one (not a power of 2) keeps hashlib's own error
            if type(n) is int and n > CHECK_SCRYPT_N and n & (n - 1) == 0:
                kwargs["n"] = CHECK_SCRYPT_N
            digest = scrypt(password, *args, **kwargs)
            self.computed.append(f"scrypt:{n}:{kwargs.get('r')}:{kwargs.get('p')}")
            return digest

        return cheap

    def cheap_pbkdf2(self, pbkdf2_hmac):
        @functools.wraps(pbkdf2_hmac)
        def cheap(hash_name, password, salt, iterations, dklen=None):
            asked = iterations
            if type(iterations) is int and iterations > CHECK_PBKDF2_ITERATIONS:
                iterations = CHECK_PBKDF2_ITERATIONS
            digest = pbkdf2_hmac(hash_name, password, salt, iterations, dklen)
            self.computed.append(f"pbkdf2:{hash_name}:{asked}")
            return digest

        return cheap


# what Werkzeug's generate_password_hash costs by default (its DUMMY_HASH in chapter 05), in hash_work's units
DEFAULT_WORK = {"scrypt": 2**15 * 8 * 1, "pbkdf2:sha256": 1_000_000}


def hash_kind_and_work(method: str) -> tuple[str, int]:
    """Return a hash's kind and how much work it asked for: ("scrypt", n·r·p) or ("pbkdf2:sha256", iterations)."""
    name, *numbers = method.split(":")
    kind = name if name == "scrypt" else ":".join([name, *numbers[:1]])
    work = 1
    for number in numbers if name == "scrypt" else numbers[1:]:
        work *= int(number) if number.isdigit() else 0
    return kind, work


def hashed_as_much(spent: list[str], wanted: list[str]) -> bool:
    """Tell whether the hashes `spent` cost as much as those `wanted`: each of `wanted` is matched by one of its kind
    asking at least its work, or Werkzeug's default work where that is less (the cost of chapter 05's DUMMY_HASH: a
    member's hash at a higher cost, as chapter 05 suggests, keeps a dummy at the default)."""
    for kind in {hash_kind_and_work(method)[0] for method in wanted}:
        works_wanted = sorted((work for k, work in map(hash_kind_and_work, wanted) if k == kind), reverse=True)
        works_spent = sorted((work for k, work in map(hash_kind_and_work, spent) if k == kind), reverse=True)
        floors = [min(work, DEFAULT_WORK.get(kind, work)) for work in works_wanted]
        if len(works_spent) < len(floors) or any(got < floor for got, floor in zip(works_spent, floors)):
            return False
    return True


def hashes_told(computed: list[str]) -> str:
    """Say how many password hashes were computed, and which: "1 (scrypt:32768:8:1)", "none"."""
    return f"{len(computed)} ({', '.join(computed)})" if computed else "none"


@contextlib.contextmanager
def cheap_password_hashes():
    """Compute hashlib's password hashes at a low cost, and count them, until the end (PasswordHashes)."""
    hashes = PasswordHashes()
    with pytest.MonkeyPatch.context() as patch:
        if hasattr(hashlib, "scrypt"):  # hashlib has scrypt where OpenSSL has it, as Werkzeug's default needs
            patch.setattr(hashlib, "scrypt", hashes.cheap_scrypt(hashlib.scrypt))
        patch.setattr(hashlib, "pbkdf2_hmac", hashes.cheap_pbkdf2(hashlib.pbkdf2_hmac))
        yield hashes


@pytest.fixture(scope="session", autouse=True)
def password_hashes():
    """Every password hash of the check at a low cost, and counted (PasswordHashes); hashlib is itself again after."""
    with cheap_password_hashes() as hashes:
        yield hashes


def builder_key(rule, append_unknown: bool):
    """Return what Werkzeug's URL builder function of a bound rule is made from: its rule text and parts (what
    Rule.compile parsed, domain part included), its defaults as they appear in URLs, and append_unknown."""
    trace = tuple(rule._trace)
    dynamic = {part for is_dynamic, part in trace if is_dynamic}
    defaults = tuple((name, rule._converters[name].to_url(value) if name in dynamic else None)
                     for name, value in (rule.defaults or {}).items())
    key = (bool(append_unknown), rule.rule, trace, defaults)
    hash(key)
    return key


@contextlib.contextmanager
def url_builders_reused():
    """Compile each URL rule's builder once, not once per app, until the end.

    Werkzeug turns every URL rule into a Python function that builds its URLs (Rule._compile_builder: an AST, then
    compile()), in every app: with an app per test, that was most of the time create_app takes. The function is made
    from the rule alone (builder_key) and reads the converters from the rule it is bound to, so a rule equal to one
    compiled before gets the same function. A rule whose key cannot be read is compiled as always."""
    from werkzeug.routing.rules import Rule

    original = getattr(Rule, "_compile_builder", None)
    if original is None:  # another Werkzeug: nothing to reuse
        yield
        return
    compiled = {}

    @functools.wraps(original)
    def compile_builder(self, append_unknown=True):
        try:
            key = builder_key(self, append_unknown)
        except Exception:  # another Werkzeug, or a converter that fails: Werkzeug's own way, and its own error
            return original(self, append_unknown)
        if key not in compiled:
            compiled[key] = original(self, append_unknown)
        return compiled[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", compile_builder)
        yield


@pytest.fixture(scope="session", autouse=True)
def url_builders_compiled_once():
    """The URL builders of the many apps a check creates, compiled once (url_builders_reused)."""
    with url_builders_reused():
        yield


@contextlib.contextmanager
def sqlite_files_unsynced():
    """Write SQLite databases without waiting for the disk at each commit, until the end.

    SQLite waits until the disk has each commit (fsync): 10 to 30 ms here, most of the time of chapter 03's checks,
    which migrate a database file of each test's own. PRAGMA synchronous=OFF on every connection (SQLAlchemy's, and
    plain sqlite3's, which both open it with sqlite3.connect) skips only that wait. What a connection reads and writes,
    its transactions and rollbacks stay the same; only a power cut during the check could lose a file, a copy that the
    check throws away anyway."""
    import sqlite3
    import sqlite3.dbapi2

    connect = sqlite3.connect

    @functools.wraps(connect)
    def unsynced(*args, **kwargs):
        connection = connect(*args, **kwargs)
        connection.execute("PRAGMA synchronous=OFF").close()
        return connection

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite3, "connect", unsynced)
        patch.setattr(sqlite3.dbapi2, "connect", unsynced)  # the module SQLAlchemy's SQLite dialect calls
        yield


@pytest.fixture(scope="session", autouse=True)
def sqlite_without_fsync():
    """The check's SQLite files written without waiting for the disk (sqlite_files_unsynced)."""
    with sqlite_files_unsynced():
        yield


def template_settings(environment, name: str) -> tuple:
    """Return what Jinja's code for a template depends on besides its text: the environment's kind, syntax, options
    and extensions, whether the template is escaped, and the filters and tests it knows with what each is passed."""

    def passed(function):  # what Jinja hands a filter or test first: a context, an eval context, the environment
        return str(getattr(function, "jinja_pass_arg", None))

    autoescape = environment.autoescape
    return (
        type(environment), environment.code_generator_class, environment.undefined, environment.is_async,
        environment.optimized, environment.block_start_string, environment.block_end_string,
        environment.variable_start_string, environment.variable_end_string, environment.comment_start_string,
        environment.comment_end_string, environment.line_statement_prefix, environment.line_comment_prefix,
        environment.trim_blocks, environment.lstrip_blocks, environment.newline_sequence,
        environment.keep_trailing_newline, tuple(sorted(environment.extensions)),
        bool(autoescape(name)) if callable(autoescape) else autoescape,
        None if environment.finalize is None else passed(environment.finalize),
        tuple(sorted((filter_name, passed(f)) for filter_name, f in environment.filters.items())),
        tuple(sorted((test_name, passed(f)) for test_name, f in environment.tests.items())),
    )


class TemplateCode:
    """Jinja's compiled templates, shared by the apps of one check (a Jinja bytecode cache, in memory).

    Each app has its own Jinja environment, which compiled every template again for each test: a fifth of a login
    check's time. A template is compiled once per file, text and template_settings, and its code (made to run in any
    environment, with that environment's own filters and globals) is reused by the other apps. A template whose
    settings cannot be read is compiled as always."""

    def __init__(self):
        self.compiled: dict[tuple, tuple[str, object]] = {}

    def get_bucket(self, environment, name, filename, source):
        from jinja2.bccache import Bucket

        checksum = hashlib.sha1(source.encode("utf-8"), usedforsecurity=False).hexdigest()
        try:
            key = (template_settings(environment, name), name, filename)
            hash(key)
        except Exception:  # settings of another Jinja, or a filter that cannot be read: compiled as always
            key = None
        bucket = Bucket(environment, key, checksum)
        stored = self.compiled.get(key) if key is not None else None
        if stored is not None and stored[0] == checksum:
            bucket.code = stored[1]
        return bucket

    def set_bucket(self, bucket) -> None:
        if bucket.key is not None and bucket.code is not None:
            self.compiled[bucket.key] = (bucket.checksum, bucket.code)


@pytest.fixture(scope="session")
def templates_compiled_once():
    """The templates of the check's apps, compiled once (TemplateCode)."""
    return TemplateCode()


@pytest.fixture
def folder(request) -> Path:
    """The folder whose bookshelf package is checked."""
    given = request.config.getoption("--bookshelf")
    if not given:
        pytest.skip("exercise checks run on a learner's folder: pass --bookshelf DIR")
    return Path(given).resolve()


@pytest.fixture
def app(folder, templates_compiled_once):
    """The learner's app, built by their create_app with the test configuration."""
    built = load_create_app(folder, reuse=True)(dict(TEST_CONFIG))
    try:
        if built.jinja_env.bytecode_cache is None:
            built.jinja_env.bytecode_cache = templates_compiled_once
    except Exception:  # not a Flask app, or a broken Jinja set-up: the test meets it where it did before
        pass
    return built


@pytest.fixture
def client(app):
    return app.test_client()


class CliRunner(FlaskCliRunner):
    """Flask's runner of commands, except that an exercise not written yet is raised, not kept in the result.

    A command's exception ends up in result.exception and exit status 1; a NotImplementedError left there would read
    as a failure of the learner's answer, instead of as an exercise not started."""

    def invoke(self, cli=None, args=None, **kwargs):
        result = super().invoke(cli, args, **kwargs)
        if isinstance(result.exception, NotImplementedError):
            raise result.exception
        return result


@pytest.fixture
def runner(app):
    return CliRunner(app)


def form_token(client, path):
    """Return the CSRF token of the form on the page at path, as a browser would send it back."""
    response = client.get(path)
    assert response.status_code == 200, f"expected GET {path} to show the form (200), got {response.status_code}"
    field = re.search(r"<input[^>]*\bname=\"csrf_token\"[^>]*>", response.get_data(as_text=True))
    assert field, f"expected the form on {path} to carry its CSRF token (form.hidden_tag() in the template)"
    return re.search(r'\bvalue="([^"]*)"', field.group(0)).group(1)


def flashes(response):
    """Return what the page's list of flashed messages holds, or "" when it has none."""
    found = re.search(r'<ul class="flashes">(.*?)</ul>', response.get_data(as_text=True), re.S)
    return found.group(1) if found else ""


def logged_in_client(app, email):
    """Return a test client logged in as the member with this address on a device of its own, as chapter 05's login
    view logs in: a Login row, and its token in the session, which Flask-Login gives to the user loader."""
    from bookshelf.db import db
    from bookshelf.models import Login, User

    token = secrets.token_urlsafe(32)
    # written unlike any answer's lines: this file ships with every chapter, before those answers are released
    with app.app_context():
        session = db.session
        session.add(Login(user=session.scalar(db.select(User).filter_by(email=email)), token=token))
        session.commit()
    device = app.test_client()
    with device.session_transaction() as cookie_session:
        cookie_session.update(_user_id=token, _fresh=True)
    return device


def production_app(folder, monkeypatch, **environ):
    """Build the learner's app as a server would (chapter 10): no test config, debug off, this environment only."""
    for name in ("SECRET_KEY", "DATABASE_URL", "SERVER_NAME", "FLASK_DEBUG", "MAIL_SERVER", "MAIL_PORT",
                 "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME", "MAIL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(folder)
    return load_create_app(folder, reuse=True)()


def refusal(folder, monkeypatch, **environ):
    """Return the RuntimeError that create_app() raises for a server with this environment."""
    try:
        app = production_app(folder, monkeypatch, **environ)
    except NotImplementedError:
        # a RuntimeError too: an exercise not started yet (10.2, or 10.1 before it) says so as itself
        raise
    except RuntimeError as error:
        return error
    pytest.fail(f"expected create_app() to refuse to start (RuntimeError), it started with the key "
                f"{app.config.get('SECRET_KEY')!r}")


@contextlib.contextmanager
def instance_config(folder, text):
    """Give the folder an instance/config.py with this text for the block, as a server keeps its settings there."""
    config = folder / "instance" / "config.py"
    config.parent.mkdir(exist_ok=True)
    kept = config.read_text(encoding="utf-8") if config.exists() else None
    config.write_text(text, encoding="utf-8")
    try:
        yield
    finally:
        if kept is None:
            config.unlink()
        else:
            config.write_text(kept, encoding="utf-8")


def deliveries_recorded(monkeypatch, module: str) -> list:
    """Return the list that the mails a learner's module hands to its `deliver` go to, instead of being sent
    (grading leaves 06.1 blank); a module that is still the blank stub records nothing, and its check says so."""
    sent = []

    def deliver(message):
        sent.append(message)
        return True

    try:
        learner_module = importlib.import_module(module)
    except NotImplementedError:
        return sent
    monkeypatch.setattr(learner_module, "deliver", deliver, raising=False)
    return sent


def unused_port():
    """Return a port on 127.0.0.1 where nothing listens: a mail server that is down refuses connections there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def chapter05_stand_ins(app, monkeypatch):
    """Stand in for the answers to exercises 05.1 and 05.2, which grading leaves blank for a later chapter.

    A later chapter's checks are about its own answers: a member's password and log-ins must work for them,
    whether or not chapter 05's exercises are solved in the folder. The stand-ins do what the exercises ask,
    with a fast hash, as the tests need no slow one."""
    from bookshelf.db import db
    from bookshelf.login import login_manager
    from bookshelf.models import Login, User
    from werkzeug.security import check_password_hash, generate_password_hash

    def store_password(member, password):
        member.password_hash = generate_password_hash(password, "pbkdf2:sha256:1000")
        member.logins.clear()

    def password_is(member, password):
        return member.password_hash is not None and check_password_hash(member.password_hash, password)

    def member_of_login(token):
        login = db.session.scalar(db.select(Login).where(Login.token == token))
        if login is None:
            return None
        login.user.login_token = token
        return login.user

    monkeypatch.setattr(User, "set_password", store_password)
    monkeypatch.setattr(User, "check_password", password_is)
    # kept by monkeypatch, then set by Flask-Login's own decorator: the test's end puts the learner's loader back
    monkeypatch.setattr(login_manager, "_user_callback", login_manager._user_callback)
    login_manager.user_loader(member_of_login)


# chapter 11: its checks add the learner's modules to the app as the chapter's factory adds them at its end; the
# factory skips a module that is still the blank stub, so each is added here again unless it is in place
HARDENED = {
    "limits": lambda app: "guess_limiter" in app.extensions,
    "too_many": lambda app: bool(app.error_handler_spec.get(None, {}).get(429)),
    "headers": lambda app: "talisman" in app.extensions,
}


def hardened(app, *modules):
    """Return the app with chapter 11's modules (limits, too_many, headers) added where the factory has not: a blank
    stub raises NotImplementedError here, and the check says which exercise is not written yet."""
    for name in modules:
        if not HARDENED[name](app):
            importlib.import_module(f"bookshelf.{name}").init_app(app)
    return app


class StoreClock:
    """The time that the rate limits' in-memory store reads, `ahead` seconds in the future: a window passes at once."""

    def __init__(self):
        import time

        self._time, self.ahead = time, 0.0

    def time(self) -> float:
        return self._time.time() + self.ahead

    def __getattr__(self, name):
        return getattr(self._time, name)


@contextlib.contextmanager
def store_clock():
    """Yield the StoreClock that the limits' in-memory store (memory://) reads until the end."""
    import limits.storage.memory as memory

    clock = StoreClock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memory, "time", clock)
        yield clock


# the routes whose POSTs chapter 11 limits (bookshelf/limits.py's GUESSED, which is given)
GUESSED_ENDPOINTS = ("auth.login", "auth.register", "auth.password", "reset.forgot", "api.tokens_tokens")


def guess_answered(endpoint: str):
    """Return a view that answers every request with 200, named after the endpoint (Flask-Limiter tells limited
    views apart by their names)."""
    def answer(**arguments):
        return "a guess, answered"

    answer.__name__ = answer.__qualname__ = "answer_" + endpoint.replace(".", "_")
    return answer


def limited_app(folder, **config):
    """Return the learner's app for tests (CSRF off), its guessed routes answered by views that answer 200, limited by
    the learner's bookshelf/limits.py. The limits are what chapter 11's checks are about: the views of earlier
    chapters, which grading may leave blank, never run. Where the factory has added the limits already, a limiter of
    their own wraps the answering views again."""
    app = load_create_app(folder, reuse=True)({**TEST_CONFIG, "WTF_CSRF_ENABLED": False, **config})
    for endpoint in GUESSED_ENDPOINTS:
        app.view_functions[endpoint] = guess_answered(endpoint)
    importlib.import_module("bookshelf.limits").init_app(app)
    return app


class TimerNotStarted:
    """What the rate limits' in-memory store (limits.storage.memory) gets for threading.Timer in a check: a timer
    that never starts. The store starts one to drop expired counts in the background, and grading's guard ends a run
    that starts a thread. Nothing is lost: the store drops an expired count itself when it reads it (MemoryStorage.get)."""

    def __init__(self, interval, function, *args, **kwargs):
        pass

    def start(self) -> None:
        pass

    def cancel(self) -> None:
        pass

    def is_alive(self) -> bool:
        return False


@pytest.fixture(scope="session", autouse=True)
def rate_limits_without_threads():
    """The rate limits' in-memory store, in every check, with timers that never start (TimerNotStarted)."""
    try:
        import threading
        import types

        import limits.storage.memory as memory
    except ImportError:  # a chapter before 11: no limits installed yet
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memory, "threading", types.SimpleNamespace(RLock=threading.RLock, Timer=TimerNotStarted))
        yield
