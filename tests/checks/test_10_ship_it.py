"""Checks for chapter 10: settings from the environment, what production refuses, and Bookshelf's own tests."""

import re

import pytest

from workbook import suite
from workbook.check_fixtures import production_app

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"10.1": 2, "10.2": 2, "10.3": 3}
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


def refusal(folder, monkeypatch, **environ):
    """Return the RuntimeError that create_app() raises for a server with this environment."""
    with pytest.raises(RuntimeError) as raised:
        production_app(folder, monkeypatch, **environ)
    # NotImplementedError is a RuntimeError: an exercise not started yet (10.2, or 10.1 before it) says so as itself
    if isinstance(raised.value, NotImplementedError):
        raise raised.value
    return raised.value


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
def test_mail_settings_get_their_types(app):
    """MAIL_PORT is a number, MAIL_USE_TLS a bool ("true" on; "false" or "0" off), the others are text."""
    settings = from_environment(MAIL)
    expected = {"MAIL_SERVER": "smtp.example.org", "MAIL_PORT": 587, "MAIL_USE_TLS": True,
                "MAIL_USERNAME": "bookshelf", "MAIL_PASSWORD": "s3cret"}
    assert {name: settings.get(name) for name in expected} == expected, f"got {settings}"
    assert from_environment({"MAIL_USE_TLS": "false"}).get("MAIL_USE_TLS") is False, \
        "expected MAIL_USE_TLS=false to turn TLS off (a non-empty string is true in Python: use is_true)"


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
    error = refusal(folder, monkeypatch)
    assert "SECRET_KEY" in str(error), f"expected the message to name SECRET_KEY, got {error!r}"
    refusal(folder, monkeypatch, SECRET_KEY="dev")


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
    """With a key of its own the app starts, and its session cookie says Secure; HttpOnly; SameSite=Lax."""
    app = production_app(folder, monkeypatch, SECRET_KEY=A_KEY, SERVER_NAME="localhost")
    assert app.config["SECRET_KEY"] == A_KEY
    header = cookie(app.test_client().get("/auth/login", base_url="https://localhost"), "session")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert re.search(rf";\s*{flag}(;|$)", header), f"expected the session cookie to say {flag}: {header}"
    assert app.config.get("REMEMBER_COOKIE_SECURE") is True, "expected the remember cookie to be Secure too"


# 10.3: Bookshelf's own tests

def learner_suite(folder):
    files = suite.suite_files(folder)
    assert "tests/conftest.py" in files, "expected tests/conftest.py in your folder: run its %%writefile cell"
    tests = {path: text for path, text in files.items() if re.fullmatch(r"tests/test_\w+\.py", path)}
    assert tests, "expected test files tests/test_*.py beside tests/conftest.py"
    missing = [name for name in suite.FIXTURES if name not in suite.fixtures_defined(files["tests/conftest.py"])]
    assert not missing, f"expected tests/conftest.py to define the fixtures {', '.join(missing)} (@pytest.fixture)"
    return files


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
}


@pytest.mark.exercise("10.3")
def test_your_tests_pass_on_bookshelf_and_catch_a_wrong_password_and_an_open_door(folder):
    """Your suite passes on Bookshelf as written and in other words, and fails where any password or any visitor gets in.
    Test what the app does, not its source: that a wrong password does not log in, and that /books/new sends a visitor
    to the login page."""
    files = learner_suite(folder)
    good, rewritten, any_password, open_door = suite.run_suites(files, SUITE_RUNS)
    must_pass(good)
    must_pass(rewritten, "the workbook's Bookshelf rewritten in other words (it behaves the same)")
    must_fail(any_password, "any password logs in")
    must_fail(open_door, "a visitor may open /books/new")


@pytest.mark.exercise("10.3")
def test_every_test_asserts_something(folder):
    """A test without an assert passes whatever the app does."""
    files = learner_suite(folder)
    silent = [f"{path}::{name}" for path, text in files.items() if path != "tests/conftest.py"
              for name in re.findall(r"^def (test\w*)", text, re.M) if name not in suite.asserting_tests(text)]
    assert not silent, f"expected every test to assert something, these do not: {silent}"
