"""Hidden tests for chapter 10: what grading adds to the public checks."""

import logging

import pytest

from workbook import suite

A_KEY = "5f0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100"


def from_environment(environ):
    """Call the learner's from_environment (the app fixture has imported their bookshelf package)."""
    from bookshelf.config import from_environment as read

    return read(dict(environ))


def production_app(folder, monkeypatch, **environ):
    """Build the learner's app as a server would: no test config, debug off, this environment only."""
    from workbook.app import load_create_app

    for name in ("SECRET_KEY", "DATABASE_URL", "SERVER_NAME", "FLASK_DEBUG", "MAIL_SERVER", "MAIL_PORT",
                 "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME", "MAIL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(folder)
    return load_create_app(folder, reuse=True)()


# 10.1: settings from the environment

@pytest.mark.exercise("10.1")
def test_a_platforms_postgres_address_names_psycopg(app):
    """Platforms hand out postgres://, which SQLAlchemy no longer reads."""
    settings = from_environment({"DATABASE_URL": "postgres://u:p@db:5432/shelf"})
    assert settings.get("SQLALCHEMY_DATABASE_URI") == "postgresql+psycopg://u:p@db:5432/shelf", settings


@pytest.mark.exercise("10.1")
def test_off_words_and_ssl_and_sender(app):
    settings = from_environment({"MAIL_USE_TLS": "0", "MAIL_USE_SSL": "Yes", "MAIL_DEFAULT_SENDER": "Shelf <a@b.org>"})
    assert settings.get("MAIL_USE_TLS") is False and settings.get("MAIL_USE_SSL") is True, settings
    assert settings.get("MAIL_DEFAULT_SENDER") == "Shelf <a@b.org>", settings


# 10.2: what production refuses

@pytest.mark.exercise("10.2")
def test_a_key_from_instance_config_is_accepted(folder, monkeypatch):
    """The key is the app's SECRET_KEY, wherever it came from: instance/config.py is a server's place for it too."""
    config = folder / "instance" / "config.py"
    config.parent.mkdir(exist_ok=True)
    kept = config.read_text(encoding="utf-8") if config.exists() else None
    config.write_text(f"SECRET_KEY = {A_KEY!r}\nSERVER_NAME = 'localhost'\n", encoding="utf-8")
    try:
        app = production_app(folder, monkeypatch)
    finally:
        if kept is None:
            config.unlink()
        else:
            config.write_text(kept, encoding="utf-8")
    assert app.config["SECRET_KEY"] == A_KEY


@pytest.mark.exercise("10.2")
def test_the_remember_cookie_is_secure_and_httponly(folder, monkeypatch):
    app = production_app(folder, monkeypatch, SECRET_KEY=A_KEY, SERVER_NAME="localhost")
    for name in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_SECURE", "REMEMBER_COOKIE_HTTPONLY"):
        assert app.config.get(name) is True, f"{name} is {app.config.get(name)!r}"
    assert app.config.get("REMEMBER_COOKIE_SAMESITE") == "Lax" and app.config.get("SESSION_COOKIE_SAMESITE") == "Lax"
    assert app.config.get("PREFERRED_URL_SCHEME") == "https"


@pytest.mark.exercise("10.2")
def test_no_server_name_is_a_warning(folder, monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    app = production_app(folder, monkeypatch, SECRET_KEY=A_KEY)
    assert app.config["SECRET_KEY"] == A_KEY
    assert any("SERVER_NAME" in record.getMessage() for record in caplog.records), caplog.text


# 10.3: Bookshelf's own tests

NOT_LISTED = '''"""Broken: the list of books is always empty."""
import functools

import bookshelf

made = bookshelf.create_app


@functools.wraps(made)
def create_app(*args, **kwargs):
    app = made(*args, **kwargs)
    app.view_functions["main.index"] = lambda: "<h1>Books</h1><p>No books yet.</p>"
    return app


bookshelf.create_app = create_app
'''
STILL_LOGGED_IN = '''"""Broken: logging out changes nothing."""
import functools

from flask import redirect

import bookshelf

made = bookshelf.create_app


@functools.wraps(made)
def create_app(*args, **kwargs):
    app = made(*args, **kwargs)
    app.view_functions["auth.logout"] = lambda: redirect("/")
    return app


bookshelf.create_app = create_app
'''


@pytest.mark.exercise("10.3")
def test_your_tests_catch_an_empty_list_and_a_logout_that_does_nothing(folder):
    files = suite.suite_files(folder)
    assert "tests/conftest.py" in files
    good, not_listed, still_logged_in = suite.run_suites(files, [suite.NO_BREAKAGE, NOT_LISTED, STILL_LOGGED_IN], "10")
    assert good.exit_code == 0 and not good.dodged() and len(good.passed()) >= 4, good.tail()
    assert not_listed.exit_code == 1 and not_listed.failed(), "no test failed when the list of books is always empty"
    assert still_logged_in.exit_code == 1 and still_logged_in.failed(), "no test failed when logging out does nothing"
