"""Hidden tests for chapter 10: what grading adds to the public checks."""


import pytest

from workbook import suite
from workbook.check_fixtures import instance_config, production_app, refusal
from workbook.sql import count_statements

A_KEY = "5f0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100"


def from_environment(environ):
    """Call the learner's from_environment (the app fixture has imported their bookshelf package)."""
    from bookshelf.config import from_environment as read

    return read(dict(environ))


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
    with instance_config(folder, f"SECRET_KEY = {A_KEY!r}\nSERVER_NAME = 'localhost'\n"):
        app = production_app(folder, monkeypatch)
    assert app.config["SECRET_KEY"] == A_KEY


@pytest.mark.exercise("10.2")
def test_an_instance_config_that_empties_the_key_is_refused(folder, monkeypatch):
    """instance/config.py read after the environment sets SECRET_KEY = "": the app's key is empty, and refused."""
    with instance_config(folder, "SECRET_KEY = ''\n"):
        error = refusal(folder, monkeypatch, SECRET_KEY=A_KEY, SERVER_NAME="localhost")
    assert "SECRET_KEY" in str(error), f"expected the message to name SECRET_KEY, got {error!r}"


@pytest.mark.exercise("10.2")
def test_the_remember_cookie_is_secure_and_httponly(folder, monkeypatch):
    app = production_app(folder, monkeypatch, SECRET_KEY=A_KEY, SERVER_NAME="localhost")
    for name in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_SECURE", "REMEMBER_COOKIE_HTTPONLY"):
        assert app.config.get(name) is True, f"{name} is {app.config.get(name)!r}"
    assert app.config.get("REMEMBER_COOKIE_SAMESITE") == "Lax" and app.config.get("SESSION_COOKIE_SAMESITE") == "Lax"
    assert app.config.get("PREFERRED_URL_SCHEME") == "https"


@pytest.mark.exercise("10.2")
def test_an_empty_server_name_is_refused(folder, monkeypatch):
    """instance/config.py sets SERVER_NAME = "": no host name, so no start."""
    with instance_config(folder, "SERVER_NAME = ''\n"):
        error = refusal(folder, monkeypatch, SECRET_KEY=A_KEY)
    assert "SERVER_NAME" in str(error), f"expected the message to name SERVER_NAME, got {error!r}"


@pytest.mark.exercise("10.2")
def test_a_key_one_byte_short_is_refused_and_32_bytes_start(folder, monkeypatch):
    error = refusal(folder, monkeypatch, SECRET_KEY=A_KEY[:31], SERVER_NAME="localhost")
    assert "SECRET_KEY" in str(error), f"expected the message to name SECRET_KEY, got {error!r}"
    app = production_app(folder, monkeypatch, SECRET_KEY=A_KEY[:32], SERVER_NAME="localhost")
    assert app.config["SECRET_KEY"] == A_KEY[:32]


# 10.3: Bookshelf's own tests

# Bookshelves the public checks do not show, rewritten where exercises' answers are (hidden tests never ship)
SUITE_RUNS = {
    "as written": [],
    "rewritten again": [
        ("bookshelf/passwords.py",
         "from werkzeug.security import check_password_hash, generate_password_hash",
         "from werkzeug.security import check_password_hash as hash_matches, generate_password_hash"),
        ("bookshelf/passwords.py",
         "        if self.password_hash is None:\n            return False\n"
         "        return check_password_hash(self.password_hash, password)",
         "        stored = self.password_hash\n        return stored is not None and hash_matches(stored, password)"),
        ("bookshelf/main.py",
         "    page = db.paginate(db.select(Book).order_by(Book.title, Book.id), per_page=PER_PAGE)\n"
         '    return render_template("main/index.html", page=page)',
         "    by_title = db.select(Book).order_by(Book.title, Book.id)\n"
         '    return render_template("main/index.html", page=db.paginate(by_title, per_page=PER_PAGE))'),
        ("bookshelf/auth.py",
         "    if current_user.is_authenticated:\n"
         "        # deleting the row is what kills a copied session cookie or remember_token: logout_user alone does not\n"
         "        db.session.execute(db.delete(Login).where(Login.token == current_user.get_id()))\n"
         "        db.session.commit()\n    logout_user()\n    flash(\"You are logged out.\")",
         "    token = current_user.get_id() if current_user.is_authenticated else None\n    logout_user()\n"
         "    if token is not None:\n        db.session.execute(db.delete(Login).where(Login.token == token))\n"
         "        db.session.commit()\n    flash(\"You are logged out.\")"),
    ],
    # the route's methods forgotten: the form shows, and posting it gets 405
    "the new-book form only answers GET": [
        ("bookshelf/books.py", '@bp.route("/new", methods=["GET", "POST"])', '@bp.route("/new")'),
    ],
    "logging out changes nothing": [
        ("bookshelf/auth.py",
         "    if current_user.is_authenticated:\n"
         "        # deleting the row is what kills a copied session cookie or remember_token: logout_user alone does not\n"
         "        db.session.execute(db.delete(Login).where(Login.token == current_user.get_id()))\n"
         "        db.session.commit()\n    logout_user()\n    flash(\"You are logged out.\")",
         "    flash(\"You are logged out.\")"),
    ],
}


@pytest.mark.exercise("10.3")
def test_your_tests_catch_a_form_that_cannot_be_posted_and_a_logout_that_does_nothing(folder):
    files = suite.suite_files(folder)
    assert "tests/conftest.py" in files
    good, rewritten, get_only, still_logged_in = suite.run_suites(files, SUITE_RUNS)
    for run in (good, rewritten):
        assert run.exit_code == 0 and not run.failed() and not run.dodged() and len(run.passed()) >= 4, run.tail()
    assert get_only.exit_code == 1 and get_only.failed(), "no test failed when /books/new could not be posted"
    assert still_logged_in.exit_code == 1 and still_logged_in.failed(), "no test failed when logging out does nothing"


# 10.4: a health check for the platform

def asked(app, method="GET"):
    """Ask /health as a visitor; return the answer and the SQL statements run while answering."""
    import importlib

    importlib.import_module("bookshelf.health")
    with count_statements(app) as counted:
        response = app.test_client().open("/health", method=method)
    return response, counted.statements


@pytest.mark.exercise("10.4")
def test_health_on_a_long_shelf(app):
    """With 300 books and their reviews, /health says ok, reads no table, is not cached and sets no cookie."""
    from bookshelf.db import db
    from bookshelf.models import Book

    with app.app_context():
        db.session.add_all(Book(title=f"Book {number}", author="Ursula K. Le Guin") for number in range(300))
        db.session.commit()
    for method in ("HEAD", "GET"):
        response, statements = asked(app, method)
        assert response.status_code == 200, response.status_code
        assert statements, "no query reached the database"
        assert not [s for s in statements if " from " in f" {s.lower()} ".replace("\n", " ")], statements
        assert "no-store" in response.headers.get("Cache-Control", "")
        assert not response.headers.getlist("Set-Cookie")
    data = response.get_json(silent=True) or {}
    assert (data.get("status"), data.get("database")) == ("ok", "ok"), data


@pytest.mark.exercise("10.4")
def test_health_when_the_database_path_is_a_folder(folder):
    """The database 'file' is a folder SQLite cannot open: 503 on HEAD and GET, the fixed JSON, and nothing of why."""
    from workbook.app import TEST_CONFIG, load_create_app

    where = folder / "archive-volume"
    where.mkdir(exist_ok=True)
    app = load_create_app(folder, reuse=True)({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{where}"})
    for method in ("HEAD", "GET"):
        response, statements = asked(app, method)
        assert response.status_code == 503, response.status_code
        assert "no-store" in response.headers.get("Cache-Control", "")
        assert not response.headers.getlist("Set-Cookie")
    data = response.get_json(silent=True) or {}
    assert (data.get("status"), data.get("database")) == ("unavailable", "unreachable"), data
    body = response.get_data(as_text=True)
    for secret in ("archive-volume", "sqlite", "Error", "Traceback", "unable to open", "sqlalche.me"):
        assert secret not in body, body
