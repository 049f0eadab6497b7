"""Checks for chapter 03: the migrations, run for real on a SQLite file of their own."""

import sqlite3

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workbook.app import TEST_CONFIG, load_create_app
from workbook.errors import LearnerError

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"03.1": 2, "03.2": 2, "03.3": 2}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"03.2": ["03.1"], "03.3": ["03.1", "03.2"]}

TITLES = ["The Left Hand of Darkness", "Kindred", "<script>alert('gotcha')</script>"]
SLUGS = ["the-left-hand-of-darkness", "kindred", "script-alert-gotcha-script"]


class Database:
    """A SQLite file migrated with the learner's migrations/, read with plain sqlite3."""

    def __init__(self, app, path, directory):
        self.app, self.path, self.directory = app, path, str(directory)

    def upgrade(self, revision="head"):
        self.migrate(flask_migrate.upgrade, "upgrade", revision)

    def downgrade(self, revision):
        self.migrate(flask_migrate.downgrade, "downgrade", revision)

    def migrate(self, command, name, revision):
        """Run a Flask-Migrate command; its sys.exit(1) on failure becomes an ordinary error."""
        # a SystemExit escaping a fixture leaves pytest's fixture bookkeeping broken for the next test
        with self.app.app_context():
            try:
                command(directory=self.directory, revision=revision)
            except SystemExit:
                raise RuntimeError(f"flask db {name} {revision} failed: see the error above") from None

    def query(self, sql, parameters=()):
        with sqlite3.connect(self.path) as connection:
            return connection.execute(sql, parameters).fetchall()

    def columns(self, table):
        """Return {column name: is NOT NULL} for a table."""
        return {row[1]: bool(row[3]) for row in self.query(f"PRAGMA table_info({table})")}

    def indexes(self, table):
        return {row[1] for row in self.query(f"PRAGMA index_list({table})")}

    def add_books(self, titles=TITLES):
        with sqlite3.connect(self.path) as connection:
            connection.executemany(
                "INSERT INTO books (title, author, year, created_at) VALUES (?, 'Someone', 2000, '2024-01-01')",
                [(title,) for title in titles],
            )

    def count_books(self):
        return self.query("SELECT count(*) FROM books")[0][0]


@pytest.fixture
def database(folder, tmp_path):
    """A database file of the check's own, with the learner's app and migrations."""
    directory = folder / "migrations"
    if not (directory / "env.py").exists():
        raise LearnerError('There is no migrations/ folder yet: run the cell with flask("db init") and the ones after it.')
    path = tmp_path / "check.sqlite"
    app = load_create_app(folder)({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    return Database(app, path, directory)


@pytest.fixture
def at_0002(database):
    database.upgrade("0001")
    database.add_books()
    database.upgrade("0002")
    return database


@pytest.mark.exercise("03.1")
def test_language_is_added_and_existing_books_get_en(at_0002):
    """After upgrading to 0002, books has a language column, and the books already there read "en".
    A NOT NULL column on a table that already has rows needs a value for those rows: a server default.
    """
    columns = at_0002.columns("books")
    assert columns.get("language") is True, f"expected books.language, NOT NULL; found the columns {columns} (name: NOT NULL)"
    languages = at_0002.query("SELECT language FROM books")
    assert languages == [("en",)] * len(TITLES), f'expected "en" for the {len(TITLES)} books already there, got {languages}'


@pytest.mark.exercise("03.1")
def test_slug_is_added_empty_and_nullable(at_0002):
    """0002 adds books.slug as a nullable column, with no index yet, and no slug (NULL) for the books already there.
    The slugs are filled in by 0003, so for now the column must accept NULL and give the books no value of its own;
    its index comes in 0004.
    """
    columns = at_0002.columns("books")
    assert columns.get("slug") is False, f"expected books.slug, allowing NULL; found the columns {columns} (name: NOT NULL)"
    slugs = [slug for slug, in at_0002.query("SELECT slug FROM books ORDER BY id")]
    assert slugs == [None] * len(TITLES), f"expected no slug (NULL) yet for the {len(TITLES)} books already there, found {slugs}"
    assert "ix_books_slug" not in at_0002.indexes("books"), "expected no index on books.slug before 0004"


@pytest.mark.exercise("03.1")
def test_language_is_indexed(at_0002):
    """0002 creates the index ix_books_language.
    Create the index inside the same batch, named as the naming convention names it: ix_books_language.
    """
    indexes = at_0002.indexes("books")
    assert "ix_books_language" in indexes, f"expected the index ix_books_language, found {sorted(indexes) or 'no index'}"


@pytest.mark.exercise("03.1")
def test_language_and_slug_are_sized_as_the_models_say(at_0002):
    """0002 gives language and slug the lengths of bookshelf/models.py: VARCHAR(8) and VARCHAR(220).
    A migration writes the schema the models describe, type and length included: compare each column with its model.
    """
    declared = {row[1]: row[2].upper() for row in at_0002.query("PRAGMA table_info(books)")}
    found = {name: declared.get(name) for name in ("language", "slug")}
    assert found == {"language": "VARCHAR(8)", "slug": "VARCHAR(220)"}, (
        f"expected language VARCHAR(8) and slug VARCHAR(220), found {found}"
    )


@pytest.mark.exercise("03.1")
def test_0002_round_trip_keeps_the_books(at_0002):
    """Downgrading to 0001 and upgrading again keeps every book.
    The given downgrade() drops what upgrade() adds: keep the same names in both.
    """
    at_0002.downgrade("0001")
    assert "language" not in at_0002.columns("books"), "expected books.language gone after downgrading to 0001"
    at_0002.upgrade("0002")
    books = at_0002.count_books()
    assert books == len(TITLES), f"expected {len(TITLES)} books after going down and up again, found {books}"


@pytest.fixture
def at_0003(at_0002):
    at_0002.upgrade("0003")
    return at_0002


@pytest.mark.exercise("03.2")
def test_every_book_gets_the_slug_of_its_title(at_0003):
    """After upgrading to 0003, every book has the slug of its title.
    The migration's connection runs statements on the table that sa.table() describes: one to read the titles, others to write.
    """
    slugs = [slug for slug, in at_0003.query("SELECT slug FROM books ORDER BY id")]
    assert slugs == SLUGS, f"expected the slugs {SLUGS} for the titles {TITLES}, got {slugs}"


@pytest.mark.exercise("03.2")
def test_0003_round_trip_keeps_the_books(at_0003):
    """Going down to 0002 and up to 0003 again keeps every book and fills in the slugs again.
    upgrade() must work on any number of books, including those a downgrade emptied.
    """
    at_0003.downgrade("0002")
    at_0003.upgrade("0003")
    books = at_0003.count_books()
    assert books == len(TITLES), f"expected {len(TITLES)} books after going down and up again, found {books}"
    (empty,), = at_0003.query("SELECT count(*) FROM books WHERE slug IS NULL")
    assert empty == 0, f"expected every book to get its slug again, {empty} have none"


@pytest.mark.exercise("03.2")
def test_titles_with_accents_digits_and_underscores_get_slugify_slugs(database):
    """0003 gives each title the slug of the migration's slugify, accents, digits, underscores and spaces included.
    The migration carries its own slugify: call it for each title, rather than a rule of your own, which treats some
    letters and signs otherwise.
    """
    expected = {"Cien años de soledad": "cien-a-os-de-soledad", "Brave_New_World": "brave-new-world",
                "2001: A Space Odyssey": "2001-a-space-odyssey", " Beloved ": "beloved", "Beloved": "beloved"}
    database.upgrade("0001")
    database.add_books(list(expected))
    database.upgrade("0003")
    slugs = [slug for slug, in database.query("SELECT slug FROM books ORDER BY id")]
    assert slugs == list(expected.values()), f"expected the slugs {list(expected.values())}, got {slugs}"


@pytest.mark.exercise("03.2")
def test_0003_runs_when_the_shelf_is_empty(at_0002):
    """0003 runs when the table has no book, as on every new install.
    upgrade() must work for any number of books, none included: a statement run once for a list of no books may run
    without the values it needs.
    """
    at_0002.query("DELETE FROM books")
    at_0002.upgrade("0003")
    assert at_0002.count_books() == 0, f"expected no book after 0003 on an empty table, found {at_0002.count_books()}"


@pytest.fixture
def at_head(at_0003):
    at_0003.upgrade("head")
    return at_0003


@pytest.mark.exercise("03.3")
def test_slug_is_required(at_head):
    """After upgrading to the head, books.slug is NOT NULL: a book without a slug is refused.
    Change the existing column inside op.batch_alter_table("books"), rather than adding a new one.
    """
    assert at_head.columns("books").get("slug") is True, "expected books.slug to be NOT NULL at the head"
    try:
        at_head.query("INSERT INTO books (title, author, language, slug, created_at) VALUES ('X', 'Y', 'en', NULL, '2024-01-01')")
    except sqlite3.IntegrityError:
        return
    pytest.fail("expected the database to refuse a book without a slug, it saved it")


@pytest.mark.exercise("03.3")
def test_book_that_names_no_slug_is_refused(at_head):
    """After upgrading to the head, a book inserted without naming its slug is refused, not saved with a made-up one.
    A required column must have no value of its own to fall back on: the slugs come from the titles, in 0003.
    """
    try:
        at_head.query("INSERT INTO books (title, author, year, language, created_at) VALUES ('Beloved', 'Toni Morrison', 1987, 'en', '2025-06-01')")
    except sqlite3.IntegrityError:
        return
    saved = at_head.query("SELECT slug FROM books WHERE title = 'Beloved'")
    pytest.fail(f"expected the database to refuse a book that names no slug, it saved it with the slug {saved[0][0]!r}")


@pytest.mark.exercise("03.3")
def test_slug_is_indexed(at_head):
    """The head creates the index ix_books_slug.
    Create the index in the same batch, named as the naming convention names it: ix_books_slug.
    """
    indexes = at_head.indexes("books")
    assert "ix_books_slug" in indexes, f"expected the index ix_books_slug, found {sorted(indexes) or 'no index'}"


@pytest.mark.exercise("03.3")
def test_0004_round_trip_keeps_the_books(at_head):
    """Going down to 0003 and up to the head again keeps every book and its slug.
    The given downgrade() drops the index and lets slug be NULL again.
    """
    at_head.downgrade("0003")
    assert at_head.columns("books").get("slug") is False, "expected books.slug to allow NULL again after downgrading to 0003"
    at_head.upgrade("head")
    slugs = [slug for slug, in at_head.query("SELECT slug FROM books ORDER BY id")]
    assert slugs == SLUGS, f"expected every book and its slug kept, got {slugs}"


@pytest.mark.exercise("03.3")
def test_migrations_and_models_agree(at_head):
    """The migrated schema matches the models: `flask db check` would find nothing to do.
    Compare the names and types in your migrations with bookshelf/models.py.
    """
    from bookshelf.db import db

    with at_head.app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    assert not differences, f"expected no difference between the migrated schema and the models, found {differences}"
