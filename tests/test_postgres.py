"""Bookshelf's migrations and pages on a real PostgreSQL server, the database it meets in production.

The reference of the last chapter is built once; its migrations (chapter 03 on) run unchanged against a server this
module starts and stops. A machine without PostgreSQL skips, saying so, unless WORKBOOK_REQUIRE_POSTGRES is set (as
.ci/run sets it, after installing PostgreSQL).
"""

import logging
import secrets
import sys

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

import postgres
from helpers import confirm_address
from workbook import chapters, reference
from workbook.app import forget_package, load_create_app

LAST = chapters.all_chapters()[-1].number
TITLES = ["Émile, ou De l'éducation", "The C Programming Language (2nd ed.)"]


@pytest.fixture(scope="module")
def database_url():
    yield from postgres.server_or_skip()


@pytest.fixture(autouse=True)
def logging_kept():
    """Undo what the migrations' env.py does to logging: its fileConfig() disables every logger that exists.

    Otherwise a later test in this process that reads an app's log (caplog) finds it silent.
    """
    loggers = {logger: (logger.disabled, logger.level, list(logger.handlers), logger.propagate)
               for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)}
    root = (logging.root.level, list(logging.root.handlers))
    yield
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.disabled, logger.level, logger.handlers[:], logger.propagate = loggers.get(
                logger, (False, logging.NOTSET, [], True))
    logging.root.level, logging.root.handlers[:] = root[0], root[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory, database_url):
    """The last chapter's reference Bookshelf, configured for the PostgreSQL database (not TESTING: a real one)."""
    folder = tmp_path_factory.mktemp("bookshelf")
    # first what chapter 03 made by command (`flask db init`, the first `db migrate`), as start_chapter does
    reference.restore_created(folder, LAST)
    reference.build(folder, LAST)
    # not TESTING: production's checks run, and want a key of 32 bytes and a host name
    app = load_create_app(folder)({"SECRET_KEY": secrets.token_hex(32), "SERVER_NAME": "localhost",
                                   "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False})
    app.config["MIGRATIONS"] = str(folder / "migrations")
    yield app
    with app.app_context():  # close the pooled connections before the server stops
        app.extensions["sqlalchemy"].engine.dispose()
    forget_package(folder)
    if str(folder.resolve()) in sys.path:
        sys.path.remove(str(folder.resolve()))


def revisions(app) -> list[str]:
    """Return the migration revisions in order, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(app.config["MIGRATIONS"])
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def schema_differences(app) -> list:
    """Return what alembic's autogenerate finds between the models and the database (`flask db check`)."""
    db = app.extensions["sqlalchemy"]
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)


def test_migrations_run_unchanged_on_postgresql_and_match_the_models(app):
    """Up to the head with books already in place (the slug data migration fills them), down to nothing, and up."""
    steps = revisions(app)
    assert len(steps) >= 6, steps
    slugs_added = next(i for i, step in enumerate(steps) if step == "0002")
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS"], revision=steps[slugs_added - 1])
        with db.engine.begin() as connection:
            for title in TITLES:
                connection.execute(sa.text("INSERT INTO books (title, author, created_at) VALUES (:title, 'someone', now())"),
                                   {"title": title})
        upgrade(directory=app.config["MIGRATIONS"])
        with db.engine.connect() as connection:
            slugs = connection.execute(sa.text("SELECT slug FROM books ORDER BY id")).scalars().all()
        assert slugs == ["mile-ou-de-l-ducation", "the-c-programming-language-2nd-ed"]
        assert schema_differences(app) == [], "the models and the migrated PostgreSQL schema differ"
        downgrade(directory=app.config["MIGRATIONS"], revision="base")
        with db.engine.connect() as connection:
            left = sa.inspect(connection).get_table_names()
        assert left == ["alembic_version"], f"downgrade to base left tables: {left}"
        upgrade(directory=app.config["MIGRATIONS"])
        assert schema_differences(app) == []


def test_bookshelf_works_on_postgresql(app):
    """A member registers and logs in, adds a book and reviews it; the pages show them (the schema from migrations)."""
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS"])
    client = app.test_client()
    password = "a long enough passphrase"
    registered = client.post("/auth/register", data={"name": "Pat", "email": "pat@example.com", "password": password,
                                                     "confirm": password})
    assert registered.status_code == 302, registered.get_data(as_text=True)[:500]
    confirm_address(app, "pat@example.com")  # writing waits for a confirmed address (chapter 07)
    client.post("/auth/logout")
    logged_in = client.post("/auth/login", data={"email": "PAT@example.com", "password": password})
    assert logged_in.status_code == 302
    added = client.post("/books/new", data={"title": "Middlemarch", "author": "George Eliot", "year": "1871",
                                            "language": "en"})
    assert added.status_code == 302, added.get_data(as_text=True)[:500]
    book_page = client.get(added.headers["Location"])
    assert book_page.status_code == 200 and "Middlemarch" in book_page.get_data(as_text=True)
    assert "Middlemarch" in client.get("/").get_data(as_text=True)
