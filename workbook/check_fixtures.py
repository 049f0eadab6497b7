"""The options, fixtures and helpers of every exercise check, public or hidden: the learner's app, its client and runner."""

import re
import secrets
import socket
import statistics
import time
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from workbook.app import TEST_CONFIG, load_create_app


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


@pytest.fixture
def folder(request) -> Path:
    """The folder whose bookshelf package is checked."""
    given = request.config.getoption("--bookshelf")
    if not given:
        pytest.skip("exercise checks run on a learner's folder: pass --bookshelf DIR")
    return Path(given).resolve()


@pytest.fixture
def app(folder):
    """The learner's app, built by their create_app with the test configuration."""
    return load_create_app(folder, reuse=True)(dict(TEST_CONFIG))


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


def median_seconds(action, runs=5):
    """Return the median time, in seconds, that action() takes over a few runs."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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
