"""Checks for chapter 10: settings from the environment, what production refuses, Bookshelf's own tests, and its
health check."""

import re

import pytest

from workbook import suite
from workbook.app import TEST_CONFIG, load_create_app
from workbook.check_fixtures import instance_config, production_app, refusal
from workbook.sql import count_statements

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"10.1": 2, "10.2": 2, "10.3": 3, "10.4": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"10.2": ["10.1"]}
# exercises whose answer is a test suite: grading lets it name pytest, and runs it through the grader's SuiteService
SUITES = ["10.3"]
A_KEY = "0c1f4e2b9a7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"
MAIL = {"MAIL_SERVER": "smtp.example.org", "MAIL_PORT": "587", "MAIL_USE_TLS": "true",
        "MAIL_USERNAME": "bookshelf", "MAIL_PASSWORD": "s3cret"}


def from_environment(environ):
    """Call the learner's from_environment (the app fixture has imported their bookshelf package)."""
    from bookshelf.config import from_environment as read

    return read(dict(environ))


def cookie(response, name):
    """Return the Set-Cookie header that sets this cookie, or say there is none."""
    found = [header for header in response.headers.getlist("Set-Cookie") if header.startswith(f"{name}=")]
    assert found, f"expected the response to set the {name} cookie, it set {response.headers.getlist('Set-Cookie')}"
    return found[0]


# 10.1: settings from the environment

@pytest.mark.exercise("10.1")
def test_the_secret_key_and_server_name_come_from_the_environment(app):
    """SECRET_KEY and SERVER_NAME come from the environment as they are, and no other variable does."""
    settings = from_environment({"SECRET_KEY": A_KEY, "SERVER_NAME": "books.example.org", "HOME": "/root"})
    assert settings.get("SECRET_KEY") == A_KEY, f"expected SECRET_KEY from the environment, got {settings}"
    assert settings.get("SERVER_NAME") == "books.example.org", f"expected SERVER_NAME, got {settings}"
    assert "HOME" not in settings, "expected only Bookshelf's settings, not every variable of the environment"


@pytest.mark.exercise("10.1")
def test_database_url_names_the_database_and_its_driver(app):
    """DATABASE_URL becomes SQLALCHEMY_DATABASE_URI; a postgresql:// address names the psycopg driver."""
    settings = from_environment({"DATABASE_URL": "postgresql://shelf:pw@db.example.org:5432/bookshelf"})
    assert settings.get("SQLALCHEMY_DATABASE_URI") == "postgresql+psycopg://shelf:pw@db.example.org:5432/bookshelf", \
        f"expected postgresql+psycopg://shelf:pw@db.example.org:5432/bookshelf, got {settings}"
    settings = from_environment({"DATABASE_URL": "sqlite:////srv/bookshelf.sqlite"})
    assert settings.get("SQLALCHEMY_DATABASE_URI") == "sqlite:////srv/bookshelf.sqlite", \
        f"expected any other address as it is, got {settings}"


@pytest.mark.exercise("10.1")
def test_a_postgres_address_from_a_platform_names_psycopg_too(app):
    """postgres://, the name hosting platforms still hand out, becomes postgresql+psycopg:// as well.
    Both names of the scheme, postgres:// and postgresql://, are PostgreSQL: SQLAlchemy 1.4 and later no longer read
    the short one, so replace either with postgresql+psycopg://.
    """
    settings = from_environment({"DATABASE_URL": "postgres://app:secret@db.internal:6543/shelf"})
    assert settings.get("SQLALCHEMY_DATABASE_URI") == "postgresql+psycopg://app:secret@db.internal:6543/shelf", \
        f"expected postgresql+psycopg://app:secret@db.internal:6543/shelf, got {settings}"


@pytest.mark.exercise("10.1")
def test_mail_settings_get_their_types(app):
    """MAIL_PORT is a number, MAIL_USE_TLS a bool ("true" on; "false" or "0" off), the others are text."""
    settings = from_environment(MAIL)
    expected = {"MAIL_SERVER": "smtp.example.org", "MAIL_PORT": 587, "MAIL_USE_TLS": True,
                "MAIL_USERNAME": "bookshelf", "MAIL_PASSWORD": "s3cret"}
    assert {name: settings.get(name) for name in expected} == expected, f"got {settings}"
    assert from_environment({"MAIL_USE_TLS": "false"}).get("MAIL_USE_TLS") is False, \
        "expected MAIL_USE_TLS=false to turn TLS off (a non-empty string is true in Python: use is_true)"


@pytest.mark.exercise("10.1")
def test_every_mail_variable_is_read(app):
    """MAIL_USE_SSL is a bool as MAIL_USE_TLS is, in any of is_true's words, and MAIL_DEFAULT_SENDER is text.
    Every variable the exercise lists gives its setting: the AS_GIVEN ones as they are, both on/off ones with is_true.
    """
    settings = from_environment({"MAIL_USE_SSL": "ON", "MAIL_USE_TLS": "no", "MAIL_DEFAULT_SENDER": "Shelf <books@example.org>"})
    expected = {"MAIL_USE_SSL": True, "MAIL_USE_TLS": False, "MAIL_DEFAULT_SENDER": "Shelf <books@example.org>"}
    assert {name: settings.get(name) for name in expected} == expected, f"got {settings}"
    assert from_environment({"MAIL_USE_SSL": "off"}).get("MAIL_USE_SSL") is False, "expected MAIL_USE_SSL=off to be False"


@pytest.mark.exercise("10.1")
def test_unset_or_empty_variables_give_no_setting(app):
    """The factory's defaults stand where the environment says nothing."""
    assert from_environment({}) == {}, f"expected no settings from an empty environment, got {from_environment({})}"
    empty = from_environment({"SECRET_KEY": "", "DATABASE_URL": "", "MAIL_PORT": ""})
    assert empty == {}, f"expected empty variables to be ignored, got {empty}"


# 10.2: what production refuses

@pytest.mark.exercise("10.2")
def test_production_refuses_the_development_key(folder, monkeypatch):
    """Without SECRET_KEY, create_app() raises RuntimeError with the message NO_SECRET_KEY."""
    error = refusal(folder, monkeypatch, SERVER_NAME="localhost")
    assert "SECRET_KEY" in str(error), f"expected the message to name SECRET_KEY, got {error!r}"
    refusal(folder, monkeypatch, SECRET_KEY="dev", SERVER_NAME="localhost")


@pytest.mark.exercise("10.2")
@pytest.mark.parametrize("key", ["a", "secret", "correct horse battery staple"])
def test_production_refuses_a_short_key(folder, monkeypatch, key):
    """A key shorter than MIN_KEY_BYTES (32 bytes) is refused with NO_SECRET_KEY, which says how to make one.
    Count the key's bytes with key_bytes(key): a script tries every short key against one signed cookie, offline.
    """
    error = refusal(folder, monkeypatch, SECRET_KEY=key, SERVER_NAME="localhost")
    assert "SECRET_KEY" in str(error), f"expected the message to name SECRET_KEY, got {error!r}"
    assert "token_hex(32)" in str(error), f"expected the message to say how to make a key, got {error!r}"


@pytest.mark.exercise("10.2")
@pytest.mark.parametrize("key", ["", None], ids=["empty", "None"])
def test_production_refuses_an_empty_key(folder, monkeypatch, key):
    """An empty SECRET_KEY (or None), set in instance/config.py, is refused as the development key is.
    Judge the app's own SECRET_KEY, wherever it came from, and refuse it when it is missing, empty or the development
    key: a factory that refuses only "dev" starts with a key anyone can forge cookies for.
    """
    with instance_config(folder, f"SECRET_KEY = {key!r}\nSERVER_NAME = 'localhost'\n"):
        error = refusal(folder, monkeypatch)
    assert "SECRET_KEY" in str(error), f"expected the message to name SECRET_KEY, got {error!r}"


@pytest.mark.exercise("10.2")
def test_a_key_of_its_own_in_instance_config_starts_the_app(folder, monkeypatch):
    """A key of its own in instance/config.py, and none in the environment, starts the app with that key.
    Judge app.config["SECRET_KEY"], the key the app will sign with, not the environment's variable: instance/config.py
    is a server's place for it too.
    """
    with instance_config(folder, f"SECRET_KEY = {A_KEY[::-1]!r}\nSERVER_NAME = 'localhost'\n"):
        app = production_app(folder, monkeypatch)
    assert app.config["SECRET_KEY"] == A_KEY[::-1], "expected the key of instance/config.py"


@pytest.mark.exercise("10.2")
def test_production_refuses_to_start_without_server_name_or_trusted_hosts(folder, monkeypatch):
    """Without SERVER_NAME, create_app() raises RuntimeError with NO_SERVER_NAME; TRUSTED_HOSTS alone will do instead.
    Refuse, do not warn: a forged Host header would name the attacker's site in a mailed reset link.
    """
    error = refusal(folder, monkeypatch, SECRET_KEY=A_KEY)
    assert "SERVER_NAME" in str(error), f"expected the message to name SERVER_NAME, got {error!r}"
    with instance_config(folder, "TRUSTED_HOSTS = ['books.example.org']\n"):
        app = production_app(folder, monkeypatch, SECRET_KEY=A_KEY)
    assert app.config["TRUSTED_HOSTS"] == ["books.example.org"]


@pytest.mark.exercise("10.2")
def test_debug_and_testing_keep_the_development_key(folder, monkeypatch):
    """In debug and in tests the development key is accepted, and the cookies of tests are not Secure."""
    app = production_app(folder, monkeypatch, FLASK_DEBUG="1")
    assert app.config["SECRET_KEY"] == "dev"
    from workbook.app import TEST_CONFIG, load_create_app

    testing = load_create_app(folder, reuse=True)({**TEST_CONFIG, "SECRET_KEY": "dev"})
    assert testing.config["SECRET_KEY"] == "dev"
    assert not testing.config.get("SESSION_COOKIE_SECURE"), "expected no Secure cookies in tests"


@pytest.mark.exercise("10.2")
def test_production_cookies_are_secure_httponly_and_samesite(folder, monkeypatch):
    """With a key of its own the app starts; its session and remember cookies say Secure; HttpOnly; SameSite=Lax.
    Mark the remember cookie as the session cookie (it carries a log-in too), and set PREFERRED_URL_SCHEME to https:
    a link made outside a request (a command's mail) must not say http://.
    """
    app = production_app(folder, monkeypatch, SECRET_KEY=A_KEY, SERVER_NAME="localhost")
    assert app.config["SECRET_KEY"] == A_KEY
    header = cookie(app.test_client().get("/auth/login", base_url="https://localhost"), "session")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert re.search(rf";\s*{flag}(;|$)", header), f"expected the session cookie to say {flag}: {header}"
    for name, value in (("REMEMBER_COOKIE_SECURE", True), ("REMEMBER_COOKIE_HTTPONLY", True),
                        ("REMEMBER_COOKIE_SAMESITE", "Lax"), ("PREFERRED_URL_SCHEME", "https")):
        assert app.config.get(name) == value, (
            f"expected {name} = {value!r}, found {app.config.get(name)!r}: the remember cookie carries a log-in as the "
            "session cookie does, and links made outside a request (a command's mails) must say https://"
        )


# 10.3: Bookshelf's own tests

def learner_suite(folder):
    files = suite.suite_files(folder)
    assert "tests/conftest.py" in files, "expected tests/conftest.py in your folder: run its %%writefile cell"
    tests = {path: text for path, text in files.items() if re.fullmatch(r"tests/test_\w+\.py", path)}
    assert tests, "expected test files tests/test_*.py beside tests/conftest.py"
    missing = [name for name in suite.FIXTURES if name not in suite.fixtures_defined(files["tests/conftest.py"])]
    assert not missing, f"expected tests/conftest.py to define the fixtures {', '.join(missing)} (@pytest.fixture)"
    return files


# whether a suite passed on the Bookshelf as written and rewritten, by its text: the check of the other stories runs
# only a suite that did (one that fails there, or never ends, is told so once, not made to run twice as long)
PASSES_ON_BOOKSHELF: dict[str, bool] = {}


def passes(run):
    return run.exit_code == 0 and not run.failed() and not run.dodged() and len(run.passed()) >= 4


def must_pass(run, what="the workbook's Bookshelf"):
    assert run.exit_code == 0 and not run.failed(), f"expected your tests to pass on {what}:\n{run.tail()}"
    assert not run.dodged(), f"expected no skipped or xfail tests, found {run.dodged()}"
    assert len(run.passed()) >= 4, f"expected at least 4 tests that pass on {what}, found {len(run.passed())}"


def must_fail(run, what):
    assert run.exit_code == 1 and run.failed(), (
        f"expected a test to fail on a Bookshelf where {what}; "
        + ("every test passed" if run.exit_code == 0 else f"pytest ended with status {run.exit_code}:\n{run.tail()}"))


# The Bookshelves your suite runs on, each the workbook's with a few lines changed: (file, lines or "def function",
# what instead). Rewritten in other words, Bookshelf behaves the same: a test that passes there tests behaviour.
SUITE_RUNS = {
    "as written": [],
    "in other words": [
        ("bookshelf/books.py", "from flask import Blueprint, flash, redirect, render_template, url_for",
         "from flask import Blueprint, current_app, flash, redirect, render_template, url_for"),
        ("bookshelf/books.py",
         '@login_required\ndef add():\n    """Show the form for a new book; after a valid POST, add the book and go to its page."""\n',
         'def add():\n    """Show the form for a new book; after a valid POST, add the book and go to its page."""\n'
         "    if not current_user.is_authenticated:\n        return current_app.login_manager.unauthorized()\n"),
    ],
    "any password logs in": [
        ("bookshelf/passwords.py", "def PasswordMixin.check_password", "return self.password_hash is not None"),
    ],
    "a visitor may open /books/new": [
        ("bookshelf/books.py", '@bp.route("/new", methods=["GET", "POST"])\n@login_required\ndef add():',
         '@bp.route("/new", methods=["GET", "POST"])\ndef add():'),
    ],
    # two more broken Bookshelves, one for each of the exercise's other stories: adding a book, and logging out;
    # the form never reads what is posted: every POST shows the form again, with errors, and adds nothing
    "a book cannot be added": [
        ("bookshelf/books.py", "    form = BookForm()\n    if form.validate_on_submit():\n        book = Book(",
         "    form = BookForm(formdata=None)\n    if form.validate_on_submit():\n        book = Book("),
    ],
    # the member's log-ins on other devices end, and this one stays
    "logging out leaves the member logged in": [
        ("bookshelf/auth.py", "def logout",
         "if current_user.is_authenticated:\n"
         "    on_other_devices = db.and_(Login.user_id == current_user.id, Login.token != current_user.get_id())\n"
         "    db.session.execute(db.delete(Login).where(on_other_devices))\n"
         "    db.session.commit()\n"
         'flash("You are logged out.")\n'
         'return redirect(url_for("main.index"))'),
    ],
}


@pytest.fixture(scope="module")
def suite_workers():
    """The processes that run your suite, started once for 10.3's checks."""
    with suite.suite_runner() as runner:
        yield runner


@pytest.mark.exercise("10.3")
def test_your_tests_pass_on_bookshelf_and_catch_a_wrong_password_and_an_open_door(folder, suite_workers):
    """Your suite passes on Bookshelf as written and in other words, and fails where any password or any visitor gets in.
    Test what the app does, not its source: that a wrong password does not log in, and that /books/new sends a visitor
    to the login page."""
    files = learner_suite(folder)
    runs = ("as written", "in other words", "any password logs in", "a visitor may open /books/new")
    good, rewritten, any_password, open_door = suite.run_suites(files, {name: SUITE_RUNS[name] for name in runs}, workers=suite_workers)
    PASSES_ON_BOOKSHELF[repr(sorted(files.items()))] = passes(good) and passes(rewritten)
    must_pass(good)
    must_pass(rewritten, "the workbook's Bookshelf rewritten in other words (it behaves the same)")
    must_fail(any_password, "any password logs in")
    must_fail(open_door, "a visitor may open /books/new")


@pytest.mark.exercise("10.3")
def test_your_tests_catch_a_book_that_cannot_be_added_and_a_logout_that_ends_nothing(folder, suite_workers):
    """Your suite fails where a member cannot add a book, and where logging out leaves the member logged in.
    Each story of the exercise needs a test that can fail: add a book as a member and look for it on /; log in, log
    out, and ask for a members' page. A story without such a test lets a broken Bookshelf through."""
    files = learner_suite(folder)
    if PASSES_ON_BOOKSHELF.get(repr(sorted(files.items()))) is False:
        pytest.fail("expected your tests to pass on the workbook's Bookshelf first: see the check above")
    runs = ("a book cannot be added", "logging out leaves the member logged in")
    not_added, still_logged_in = suite.run_suites(files, {name: SUITE_RUNS[name] for name in runs}, workers=suite_workers)
    must_fail(not_added, "a book cannot be added")
    must_fail(still_logged_in, "logging out leaves the member logged in")


@pytest.mark.exercise("10.3")
def test_every_test_asserts_something(folder):
    """A test without an assert passes whatever the app does."""
    files = learner_suite(folder)
    silent = [f"{path}::{name}" for path, text in files.items() if path != "tests/conftest.py"
              for name in re.findall(r"^def (test\w*)", text, re.M) if name not in suite.asserting_tests(text)]
    assert not silent, f"expected every test to assert something, these do not: {silent}"


# 10.4: a health check for the platform (a design exercise: only the URL, the statuses, the JSON and the headers are
# fixed)

HEALTHY = {"status": "ok", "database": "ok"}
UNHEALTHY = {"status": "unavailable", "database": "unreachable"}


def health_module():
    """Import the learner's bookshelf/health.py: the factory starts without a blank one, a check says it is blank."""
    import importlib

    return importlib.import_module("bookshelf.health")


def app_without_database(folder, where):
    """The learner's app with its database at `where`, a path SQLite cannot open."""
    return load_create_app(folder, reuse=True)({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{where}"})


def ask(app, method="GET"):
    """Ask /health as a visitor (no cookie); return the answer and the SQL statements run while answering."""
    with count_statements(app) as counted:
        try:
            response = app.test_client().open("/health", method=method)
        except Exception as error:  # TESTING lets a view's exception reach the test client
            pytest.fail(f"expected an answer, the view raised {type(error).__name__}: a 500 page, or a traceback, "
                        "for whoever asks")
    return response, counted.statements


def add_books(app, count):
    from bookshelf.db import db
    from bookshelf.models import Book

    with app.app_context():
        db.session.add_all(Book(title=f"Volume {number}", author="N. K. Jemisin") for number in range(count))
        db.session.commit()


def says(response):
    """The JSON of an answer, or say it is not JSON."""
    data = response.get_json(silent=True)
    assert isinstance(data, dict), (
        f"expected a JSON object, got {response.status_code} {response.content_type}: {response.get_data(as_text=True)[:200]}"
    )
    return data


def told(response, wanted):
    data = says(response)
    return {key: data.get(key) for key in wanted} == wanted


@pytest.mark.exercise("10.4")
def test_health_is_ok_when_the_database_answers(app):
    """GET /health answers 200 with {"status": "ok", "database": "ok"}, after a query that reached the database.
    Healthy means the database answers: an answer given without asking it says "ok" when it is down.
    """
    health_module()
    response, statements = ask(app)
    assert response.status_code == 200, f"expected 200, got {response.status_code}"
    assert told(response, HEALTHY), f"expected {HEALTHY}, got {says(response)}"
    assert statements, "expected a query to reach the database before the answer says it is ok"


@pytest.mark.exercise("10.4")
def test_health_reads_no_table(app):
    """With 40 books on the shelf, GET /health runs queries that read no table (SELECT 1 reads none).
    The platform asks every few seconds: a count or a list of rows costs more as the shelf grows.
    """
    health_module()
    add_books(app, 40)
    response, statements = ask(app)
    assert response.status_code == 200, f"expected 200, got {response.status_code}"
    reading = [statement for statement in statements if " from " in f" {statement.lower()} ".replace("\n", " ")]
    assert not reading, f"expected queries that read no table, got {reading}"


@pytest.mark.exercise("10.4")
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_health_is_public_uncached_and_sets_no_cookie(app, method):
    """A visitor's GET and HEAD of /health get 200, with Cache-Control: no-store, and no Set-Cookie header.
    The platform sends no log-in, and a proxy must not keep an answer; touching the session (or flash) sets its cookie.
    """
    health_module()
    response, statements = ask(app, method)
    assert response.status_code == 200, (
        f"expected 200 for a visitor's {method}, got {response.status_code} {response.headers.get('Location', '')}"
    )
    assert "no-store" in response.headers.get("Cache-Control", ""), (
        f"expected Cache-Control: no-store, got {response.headers.get('Cache-Control')!r}"
    )
    cookies = response.headers.getlist("Set-Cookie")
    assert not cookies, f"expected no cookie, got {cookies}"


@pytest.mark.exercise("10.4")
def test_health_is_503_when_the_database_is_unreachable(folder):
    """With its database file in a missing folder, GET and HEAD /health answer 503: {"status": "unavailable", ...}.
    The JSON is {"status": "unavailable", "database": "unreachable"}.
    The database's error is yours to catch (SQLAlchemy's errors share a base class): an uncaught one is a 500.
    """
    health_module()
    app = app_without_database(folder, folder / "no-such-folder" / "shelf.sqlite")
    for method in ("GET", "HEAD"):
        response, statements = ask(app, method)
        assert response.status_code == 503, f"expected 503 for {method}, got {response.status_code}"
    response, statements = ask(app)
    assert told(response, UNHEALTHY), f"expected {UNHEALTHY}, got {says(response)}"


@pytest.mark.exercise("10.4")
def test_health_never_says_why(folder):
    """When the database is unreachable, the answer tells nothing of why, is not cached, and sets no cookie.
    No exception text, traceback or path: the answer is public, so the reason goes to the log (current_app.logger),
    for you alone.
    """
    health_module()
    where = folder / "no-such-folder" / "shelf.sqlite"
    app = app_without_database(folder, where)
    response, statements = ask(app)
    body = response.get_data(as_text=True)
    for secret in ("no-such-folder", "shelf.sqlite", "sqlite", "Error", "Traceback", "unable to open", "sqlalche.me"):
        assert secret not in body, f"expected the answer to say nothing of {secret!r}, it says {body[:300]}"
    assert "no-store" in response.headers.get("Cache-Control", ""), (
        f"expected Cache-Control: no-store on the 503 too, got {response.headers.get('Cache-Control')!r}"
    )
    assert not response.headers.getlist("Set-Cookie"), f"expected no cookie, got {response.headers.getlist('Set-Cookie')}"
