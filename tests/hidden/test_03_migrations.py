"""Hidden tests for chapter 03: what grading adds to the public checks, on a SQLite file of their own."""

import sqlite3

import flask_migrate
import pytest

from workbook.app import TEST_CONFIG, load_create_app


class Database:
    """A SQLite file migrated with the learner's migrations/, read with plain sqlite3."""

    def __init__(self, folder, path):
        self.path = path
        self.directory = str(folder / "migrations")
        self.app = load_create_app(folder)({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})

    def upgrade(self, revision):
        with self.app.app_context():
            try:
                flask_migrate.upgrade(directory=self.directory, revision=revision)
            except SystemExit:  # Flask-Migrate's sys.exit(1): an ordinary failure here
                raise RuntimeError(f"flask db upgrade {revision} failed: see the error above") from None

    def query(self, sql, parameters=()):
        with sqlite3.connect(self.path) as connection:
            return connection.execute(sql, parameters).fetchall()

    def add_books(self, titles):
        with sqlite3.connect(self.path) as connection:
            connection.executemany(
                "INSERT INTO books (title, author, year, created_at) VALUES (?, 'Someone', 2000, '2024-01-01')",
                [(title,) for title in titles],
            )

    def slugs(self):
        return [slug for slug, in self.query("SELECT slug FROM books ORDER BY id")]


@pytest.fixture
def database(folder, tmp_path):
    return Database(folder, tmp_path / "hidden.sqlite")


# 03.1: language and slug added to a full table

@pytest.mark.exercise("03.1")
def test_0002_columns_have_their_lengths(database):
    """0002 adds language as String(8) and slug as String(220), as the models declare them."""
    database.upgrade("0002")
    types = {row[1]: row[2].upper() for row in database.query("PRAGMA table_info(books)")}
    assert (types.get("language"), types.get("slug")) == ("VARCHAR(8)", "VARCHAR(220)"), (
        f"expected language VARCHAR(8) and slug VARCHAR(220), found the columns {types}"
    )


@pytest.mark.exercise("03.1")
def test_0002_leaves_the_slugs_of_existing_books_empty(database):
    """The books already there have no slug after 0002 (NULL): 0003 fills them in from their titles."""
    database.upgrade("0001")
    database.add_books(["Kindred", "Dune"])
    database.upgrade("0002")
    slugs = database.slugs()
    assert slugs == [None, None], f"expected no slug yet for the books already there, found {slugs}"


# 03.2: the data migration

@pytest.mark.exercise("03.2")
def test_0003_gives_other_titles_the_slugs_of_slugify(database):
    """Accents, underscores, digits, duplicates and spaces around a title all get slugify's slug."""
    titles = {"Les Misérables": "les-mis-rables", "snake_case_title": "snake-case-title", "1984": "1984",
              "  Dune  ": "dune", "Kindred": "kindred", "Kindred ": "kindred", "¡Olé! Ça va?": "ol-a-va"}
    database.upgrade("0001")
    database.add_books(list(titles))
    database.upgrade("0003")
    slugs = database.slugs()
    assert slugs == list(titles.values()), f"expected the slugs {list(titles.values())}, got {slugs}"


@pytest.mark.exercise("03.2")
def test_0003_runs_on_a_database_without_books(database):
    """A new database has no books yet: 0003 runs on it too, as it does on every fresh install."""
    database.upgrade("0003")
    assert database.query("SELECT count(*) FROM books") == [(0,)]


# 03.3: slug required and indexed

@pytest.mark.exercise("03.3")
def test_a_book_inserted_without_a_slug_is_refused(database):
    """At the head, a book that gives no slug at all is refused, rather than saved with a made-up one."""
    database.upgrade("head")
    with pytest.raises(sqlite3.IntegrityError):
        database.query("INSERT INTO books (title, author, language, created_at) VALUES ('X', 'Y', 'en', '2024-01-01')")


@pytest.mark.exercise("03.3")
def test_books_sharing_a_title_reach_the_head(database):
    """Two books with the same title have the same slug: the index allows it, and both keep their slug."""
    database.upgrade("0001")
    database.add_books(["Kindred", "Kindred", "Dune"])
    database.upgrade("head")
    slugs = database.slugs()
    assert slugs == ["kindred", "kindred", "dune"], f"expected every book kept with its slug, got {slugs}"
