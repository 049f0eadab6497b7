"""Hidden tests for chapter 02: what grading adds to the public checks."""

import contextlib
import sqlite3

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError


def learner_models():
    """Return the learner's db and models; the app fixture has already imported the package."""
    from bookshelf.db import db
    from bookshelf.models import Book, Review, User

    return db, Book, Review, User


def add_books(app, reviews_per_book, titles):
    """Add one book per title, with that many reviews from different members; return the books' ids."""
    db, Book, Review, User = learner_models()
    with app.app_context():
        members = [User(email=f"m{n}@example.com", name=f"Member {n}") for n in range(max(reviews_per_book))]
        books = [Book(title=title, author=f"Author {n}", year=2000) for n, title in enumerate(titles)]
        db.session.add_all(members + books)
        for book, count in zip(books, reviews_per_book):
            db.session.add_all(Review(book=book, user=member, rating=4, text="Fine.") for member in members[:count])
        db.session.commit()
        return [book.id for book in books]


# 02.1: the commands

@pytest.mark.exercise("02.1")
def test_unknown_book_error_goes_to_stderr(runner):
    """The error for an unknown id goes to standard error, as a click.ClickException's does, not to standard output."""
    result = runner.invoke(args=["remove-book", "999"])
    assert result.exit_code != 0, f"expected `flask remove-book 999` to fail, it exited with 0: {result.output!r:.200}"
    # sys.exit("message") is a fair answer too: Python prints that message to standard error, the test runner to stdout
    exit_message = getattr(result.exception, "code", None)
    stdout, stderr = result.stdout, result.stderr
    if isinstance(exit_message, str):
        stdout, stderr = stdout.replace(exit_message, "", 1), stderr + exit_message
    assert "999" in stderr, f"expected the error naming 999 on standard error, it says {result.stderr!r:.200}"
    assert "999" not in stdout, f"expected the error on standard error, not on standard output: {result.stdout!r:.200}"


# 02.2: pagination

TITLES = [f"Title {n:02d}" for n in range(1, 26)]


def shelf_of_25(app):
    """Add 25 books, inserted in reverse title order, so that id order is not title order."""
    add_books(app, [0] * 25, titles=TITLES[::-1])


def shown(response):
    assert response.status_code == 200, f"expected 200 for {response.request.full_path}, got {response.status_code}"
    return [title for title in TITLES if title in response.text]


@pytest.mark.exercise("02.2")
@pytest.mark.parametrize(("query", "expected"), [
    ("per_page=5", TITLES[:10]), ("per_page=0", TITLES[:10]), ("page=2&per_page=5", TITLES[10:20]),
])
def test_page_size_cannot_be_changed_from_the_url(app, client, query, expected):
    """A smaller or zero ?per_page= in the URL still shows pages of 10 books."""
    shelf_of_25(app)
    listed = shown(client.get(f"/books/?{query}"))
    assert listed == expected, f"expected {expected[0]} to {expected[-1]} for ?{query}, found {listed}"


@pytest.mark.exercise("02.2")
def test_page_size_follows_per_page(app, client, monkeypatch):
    """The page size is PER_PAGE: with PER_PAGE at 4, page 1 shows 4 books, page 7 the last one, page 8 is 404."""
    import bookshelf.main

    monkeypatch.setattr(bookshelf.main, "PER_PAGE", 4)
    shelf_of_25(app)
    first = shown(client.get("/books/"))
    assert first == TITLES[:4], f"expected {TITLES[0]} to {TITLES[3]} with PER_PAGE = 4, found {first}"
    last = shown(client.get("/books/?page=7"))
    assert last == TITLES[24:], f"expected only {TITLES[24]} on ?page=7 with PER_PAGE = 4, found {last}"
    status = client.get("/books/?page=8").status_code
    assert status == 404, f"expected 404 for ?page=8 with PER_PAGE = 4, got {status}"


# 02.3: a duplicate e-mail is a conflict, and only that

@contextlib.contextmanager
def database_locked(app):
    """Make every INSERT into users fail as a locked SQLite database does: an error that is not a conflict."""
    db = learner_models()[0]
    with app.app_context():
        engine = db.engine

    def refuse(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO USERS"):
            raise sqlite3.OperationalError("database is locked")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


@pytest.mark.exercise("02.3")
def test_other_database_errors_are_not_409(app, client):
    """A commit that fails for another reason than a taken address (a locked database) is not answered 409 Conflict."""
    with database_locked(app):
        try:
            status = client.post("/api/members", json={"email": "ann@example.com", "name": "Ann"}).status_code
        except OperationalError:
            status = 500  # the test app lets an unhandled error through, where a server would answer 500
    assert status != 409, "expected a locked database not to be answered 409 Conflict: only a taken address is a conflict"


# 02.4: the book list in one query

@pytest.mark.exercise("02.4")
def test_books_with_the_same_title_are_listed_apart(app, client):
    """Two books with the same title are two entries, each with its own number of reviews."""
    ids = add_books(app, [2, 0, 3], titles=["Dune", "Dune", "Emma"])
    response = client.get("/api/books")
    assert response.status_code == 200, f"expected 200 for /api/books, got {response.status_code}"
    got = {book["id"]: book["reviews"] for book in response.json["books"]}
    assert got == dict(zip(ids, [2, 0, 3])), f"expected {{book id: reviews}} {dict(zip(ids, [2, 0, 3]))}, got {got}"
