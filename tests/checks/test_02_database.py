"""Checks for chapter 02: commands, pagination, a 409 for a conflict, and the N+1 trap."""

import contextlib
import sqlite3

import pytest
from sqlalchemy import event, func
from sqlalchemy.exc import OperationalError

from workbook.sql import count_statements

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"02.1": 2, "02.2": 3, "02.3": 2, "02.4": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {}


def learner_models():
    """Return the learner's db and models; the app fixture has already imported the package."""
    from bookshelf.db import db
    from bookshelf.models import Book, Review, User

    return db, Book, Review, User


def add_books(app, reviews_per_book, tag="a", titles=None):
    """Add one book per entry, with that many reviews from different members; return the books' ids."""
    db, Book, Review, User = learner_models()
    with app.app_context():
        members = [User(email=f"{tag}{n}@example.com", name=f"Member {tag}{n}") for n in range(max(reviews_per_book))]
        books = [
            Book(title=titles[n] if titles else f"Book {tag}{n:03d}", author="A. Writer", year=2000)
            for n in range(len(reviews_per_book))
        ]
        db.session.add_all(members + books)
        for book, count in zip(books, reviews_per_book):
            db.session.add_all(Review(book=book, user=member, rating=4, text="Fine.") for member in members[:count])
        db.session.commit()
        return [book.id for book in books]


def invoke(runner, *args):
    """Run a flask command; an exception other than a clean exit reaches the learner as itself."""
    result = runner.invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def count_rows(app, model, **where):
    """Return how many rows of a model match the keyword filters."""
    db = learner_models()[0]
    with app.app_context():
        return len(db.session.scalars(db.select(model).filter_by(**where)).all())


# 02.1: the commands

@pytest.mark.exercise("02.1")
def test_seed_fills_an_empty_database_once(app, runner):
    """`flask seed` fills an empty database with members, books and reviews, and refuses to run twice.
    The seed command is given in bookshelf/commands.py: run that cell,
    and the factory's cell that calls commands.init_app(app).
    """
    _, Book, Review, User = learner_models()
    result = invoke(runner, "seed")
    assert result.exit_code == 0, f"expected `flask seed` to succeed, it exited with {result.exit_code}: {result.output}"
    books, members, reviews = count_rows(app, Book), count_rows(app, User), count_rows(app, Review)
    assert books >= 4 and members >= 1 and reviews >= 1, (
        f"expected demo books, members and reviews after `flask seed`, found {books}, {members} and {reviews}"
    )
    again = invoke(runner, "seed")
    assert again.exit_code != 0, "expected a second `flask seed` to refuse, it exited with 0"
    assert count_rows(app, Book) == books, f"expected {books} books after the refused seed, found {count_rows(app, Book)}"


@pytest.mark.exercise("02.1")
def test_remove_book_removes_it_and_its_reviews(app, runner):
    """`flask remove-book ID` removes that book and its reviews, and nothing else.
    Only a delete through the session follows the relationship's cascade to the reviews (see "Models"),
    and nothing is saved before the session commits.
    """
    _, Book, Review, User = learner_models()
    kept, removed, empty = add_books(app, [2, 3, 0])
    result = invoke(runner, "remove-book", str(removed))
    assert result.exit_code == 0, f"expected `flask remove-book {removed}` to succeed, it exited with {result.exit_code}: {result.output}"
    assert count_rows(app, Book, id=removed) == 0, f"expected book {removed} gone, it is still there: was it committed?"
    left = count_rows(app, Review, book_id=removed)
    assert left == 0, f"expected the book's reviews gone with it, {left} of them are still there"
    assert count_rows(app, Book) == 2, f"expected the 2 other books kept, found {count_rows(app, Book)}"
    assert count_rows(app, Review, book_id=kept) == 2, "expected the other book's 2 reviews kept"
    assert count_rows(app, User) == 3, f"expected the 3 members kept, found {count_rows(app, User)}"


@pytest.mark.exercise("02.1")
@pytest.mark.parametrize("book_id", ["999", "0", "abc"])
def test_remove_unknown_book_says_so(app, runner, book_id):
    """An unknown or malformed id gets a short error naming it and a non-zero exit status, not a traceback.
    "Commands" shows how a command stops with a short message and a non-zero exit status; let the message name the id.
    """
    _, Book, _, _ = learner_models()
    add_books(app, [1])
    result = invoke(runner, "remove-book", book_id)
    assert result.exit_code != 0, f"expected `flask remove-book {book_id}` to fail, it exited with 0"
    assert book_id in result.output, f"expected the error to name {book_id}, it says {result.output!r:.200}"
    assert count_rows(app, Book) == 1, "expected the one book kept"


@pytest.mark.exercise("02.1")
def test_remove_book_error_is_on_standard_error(app, runner):
    """The error for an unknown id is written to standard error, and standard output stays empty of it.
    A script reads a command's standard output as its result: an error belongs on standard error, where "Commands" shows
    that a command's short error message goes by itself.
    """
    add_books(app, [0, 1])
    result = runner.invoke(args=["remove-book", "31337"])
    assert result.exit_code != 0, f"expected `flask remove-book 31337` to fail, it exited with 0: {result.output!r:.200}"
    out, err = result.stdout, result.stderr
    # a message given to sys.exit() is printed by Python on standard error; the test runner shows it on stdout
    code = getattr(result.exception, "code", None)
    if isinstance(code, str) and code in out:
        out, err = out.replace(code, "", 1), err + code
    assert "31337" in err, f"expected the error naming 31337 on standard error, it has {result.stderr!r:.200}"
    assert "31337" not in out, f"expected nothing about 31337 on standard output, it has {result.stdout!r:.200}"


# 02.2: pagination, and the pages from the database

TITLES = [f"Title {n:02d}" for n in range(1, 26)]


def shelf_of_25(app):
    """Add 25 books, inserted in reverse title order, so that id order is not title order."""
    add_books(app, [0] * 25, titles=TITLES[::-1])


def shown(text):
    return [title for title in TITLES if title in text]


@pytest.mark.exercise("02.2")
@pytest.mark.parametrize("path", ["/books/", "/"])
def test_first_page_lists_ten_books_by_title(app, client, path):
    """The book list shows the first 10 books in title order, and links to page 2.
    "One page at a time" shows what db.paginate takes and returns; the template expects the pagination as page.
    """
    shelf_of_25(app)
    response = client.get(path)
    assert response.status_code == 200, f"expected 200 for {path}, got {response.status_code}"
    assert shown(response.text) == TITLES[:10], f"expected {TITLES[0]} to {TITLES[9]} on {path}, found {shown(response.text)}"
    assert "page=2" in response.text, f"expected a link to page=2 on {path}"


@pytest.mark.exercise("02.2")
def test_later_pages(app, client):
    """?page=2 shows the next 10 books, and the last page (?page=3) the remaining 5.
    Where does db.paginate take the page number from when the view gives none? See "One page at a time".
    """
    shelf_of_25(app)
    second = shown(client.get("/books/?page=2").text)
    assert second == TITLES[10:20], f"expected {TITLES[10]} to {TITLES[19]} on ?page=2, found {second}"
    last = client.get("/books/?page=3")
    assert last.status_code == 200, f"expected 200 for ?page=3, got {last.status_code}"
    assert shown(last.text) == TITLES[20:], f"expected {TITLES[20]} to {TITLES[24]} on ?page=3, found {shown(last.text)}"
    assert "page=2" in last.text, "expected a link back to page=2 on ?page=3"


@pytest.mark.exercise("02.2")
@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999"])
def test_page_that_does_not_exist_is_404(app, client, page):
    """A page that does not exist (0, -1, abc, 99999) answers 404 with the friendly page, never 500.
    db.paginate answers these with 404 by itself, unless it is told otherwise: see "One page at a time".
    """
    shelf_of_25(app)
    response = client.get(f"/books/?page={page}")
    assert response.status_code == 404, f"expected 404 for /books/?page={page}, got {response.status_code}"
    assert "Page not found" in response.text, f'expected the friendly "Page not found" page for ?page={page}'


@pytest.mark.exercise("02.2")
def test_page_size_cannot_be_raised_from_the_url(app, client):
    """?per_page=1000 in the URL still shows 10 books.
    Which page size does db.paginate use when the view does not give one? See "One page at a time".
    """
    shelf_of_25(app)
    listed = shown(client.get("/books/?per_page=1000").text)
    assert listed == TITLES[:10], f"expected 10 books with ?per_page=1000, found {len(listed)}"


@pytest.mark.exercise("02.2")
@pytest.mark.parametrize("query", ["per_page=3", "page=1&per_page=1", "per_page=-2"])
def test_page_size_cannot_be_lowered_from_the_url(app, client, query):
    """A smaller ?per_page= in the URL, or a nonsense one, still shows the first 10 books.
    The page size is the app's to choose, not the visitor's: what does db.paginate read from the URL when the view gives
    no size, and what does it read when the view gives one?
    """
    shelf_of_25(app)
    listed = shown(client.get(f"/books/?{query}").text)
    assert listed == TITLES[:10], f"expected {TITLES[0]} to {TITLES[9]} with ?{query}, found {listed}"


@pytest.mark.exercise("02.2")
def test_pages_are_per_page_long(app, client, monkeypatch):
    """The page size is PER_PAGE: set to 7, the pages hold 7, 7, 7 and 4 books, and page 5 answers 404.
    The view reads its size from the module's constant: a size written out in the view does not follow it.
    """
    import bookshelf.main

    monkeypatch.setattr(bookshelf.main, "PER_PAGE", 7)
    shelf_of_25(app)
    first = shown(client.get("/books/").text)
    assert first == TITLES[:7], f"expected {TITLES[0]} to {TITLES[6]} on page 1 with PER_PAGE = 7, found {first}"
    fourth = client.get("/books/?page=4")
    assert fourth.status_code == 200, f"expected 200 for ?page=4 with PER_PAGE = 7, got {fourth.status_code}"
    assert shown(fourth.text) == TITLES[21:], f"expected {TITLES[21]} to {TITLES[24]} on ?page=4 with PER_PAGE = 7, found {shown(fourth.text)}"
    status = client.get("/books/?page=5").status_code
    assert status == 404, f"expected 404 for ?page=5 with PER_PAGE = 7, got {status}"


@pytest.mark.exercise("02.2")
def test_empty_shelf_is_one_empty_page(client):
    """With no books yet, the list still answers 200.
    Page 1 of an empty list is not an error for db.paginate: look for what else fails when there are no books.
    """
    status = client.get("/books/").status_code
    assert status == 200, f"expected 200 for /books/ with no books, got {status}"


@pytest.mark.exercise("02.2")
def test_pages_and_api_read_the_database(app, client):
    """Book pages, the API and its JSON 404 read the database, and a <script> title stays escaped.
    These views are given: run the cells that write bookshelf/main.py, bookshelf/api.py, errors.py and the templates.
    """
    script = "<script>alert(1)</script>"
    plain, scripted = add_books(app, [2, 0], titles=["Kindred", script])
    page = client.get(f"/books/{plain}")
    assert page.status_code == 200, f"expected 200 for /books/{plain}, got {page.status_code}"
    assert "Kindred" in page.text, f"expected /books/{plain} to show Kindred from the database"
    listed = client.get("/books/")
    assert script not in listed.text and "&lt;script&gt;" in listed.text, "expected the <script> title escaped on /books/"
    assert "<script>" not in client.get(f"/books/{scripted}").text, f"expected the <script> title escaped on /books/{scripted}"
    api = client.get(f"/api/books/{plain}")
    assert api.status_code == 200 and (api.json or {}).get("title") == "Kindred", (
        f"expected /api/books/{plain} to answer Kindred as JSON, got {api.status_code} {api.text[:200]!r}"
    )
    status = client.get("/books/999").status_code
    assert status == 404, f"expected 404 for /books/999, got {status}"
    for path in ("/api/books/999", "/api/nothing-here"):
        missing = client.get(path)
        assert missing.status_code == 404 and missing.mimetype == "application/json", (
            f"expected a JSON 404 for {path}, got {missing.status_code} {missing.mimetype}"
        )


# 02.3: a duplicate e-mail is a conflict

def join(client, **body):
    return client.post("/api/members", json=body)


def described(response):
    """Return a response's status and the start of its body, for a message."""
    return f"{response.status_code} {response.get_data(as_text=True)[:150]!r}"


@contextlib.contextmanager
def joined_meanwhile(app):
    """Save each new member once more just before the view's own INSERT, as a second request joining at once would."""
    db = learner_models()[0]
    with app.app_context():
        engine = db.engine
    inserted = []

    def insert_first(connection, cursor, statement, parameters, context, executemany):
        if not inserted and statement.lstrip().upper().startswith("INSERT INTO USERS"):
            inserted.append(statement)
            cursor.connection.execute(statement, parameters)

    event.listen(engine, "before_cursor_execute", insert_first)
    try:
        yield inserted
    finally:
        event.remove(engine, "before_cursor_execute", insert_first)


@pytest.mark.exercise("02.3")
def test_new_member_is_created(client):
    """POST /api/members with an e-mail and a name answers 201 with the new member.
    A new member is saved only when the session commits; after a commit that worked, the given return answers 201.
    """
    response = join(client, email="ann@example.com", name="Ann")
    assert response.status_code == 201, f"expected 201 for a new member, got {described(response)}"
    member = response.json
    assert member["name"] == "Ann" and isinstance(member["id"], int), f"expected the new member's id and name, got {member}"
    again = client.get(response.headers["Location"]).json
    assert again == member, f"expected {response.headers['Location']} to answer {member}, got {again}"


@pytest.mark.exercise("02.3")
@pytest.mark.parametrize("again", ["ann@example.com", "ANN@Example.com", " ann@example.COM "])
def test_duplicate_email_is_409(client, again):
    """The same e-mail address again, in any case, answers 409 Conflict as JSON, not 500.
    The unique e-mail makes the commit raise: "When the database says no" shows which exception, and Flask's abort() answers 409.
    """
    first = join(client, email="ann@example.com", name="Ann")
    assert first.status_code == 201, f"expected 201 for the first member, got {described(first)}"
    response = join(client, email=again, name="Another Ann")
    assert response.status_code == 409, f"expected 409 for {again!r} after ann@example.com, got {described(response)}"
    assert response.mimetype == "application/json", f"expected the 409 as JSON, got {response.mimetype}"
    assert isinstance(response.json.get("error"), str), f'expected an "error" text in the 409, got {response.json}'


@pytest.mark.exercise("02.3")
def test_address_saved_meanwhile_is_409(app, client):
    """An address that a second request saves while this one runs still answers 409, not 500.
    A query made before the commit cannot see a row that arrives after it: only the unique constraint, at commit, decides.
    """
    with joined_meanwhile(app) as inserted:
        response = join(client, email="ann@example.com", name="Ann")
    assert inserted, "expected the view to save the new member with an INSERT"
    assert response.status_code == 409, (
        f"expected 409 when the address was saved by another request in the meantime, got {described(response)}"
    )


@pytest.mark.exercise("02.3")
def test_session_works_after_the_409(app, client):
    """After the 409, code later in the same request (here a query at the request's end) can still use the session.
    After a failed commit the session refuses every query until it is rolled back: see "When the database says no".
    """
    db, _, _, User = learner_models()
    seen = []

    @app.teardown_request
    def query_at_the_end(error):
        try:
            seen.append(db.session.scalar(db.select(func.count()).select_from(User)))
        except Exception as problem:  # the learner's session state is what is checked
            seen.append(f"{type(problem).__name__}: {str(problem).split('. ')[0]}.")

    assert join(client, email="ann@example.com", name="Ann").status_code == 201
    response = join(client, email="Ann@example.com", name="Imposter")
    assert response.status_code == 409, f"expected 409 for a taken address, got {described(response)}"
    assert seen[-1] == 1, f"expected a query after the 409 to work and count 1 member, it got {seen[-1]!r}"


@pytest.mark.exercise("02.3")
def test_app_keeps_working_after_a_conflict(app, client):
    """After a 409 the next new member is saved, and the first member is unchanged.
    A failed commit saved nothing: the next request starts with a fresh session, and 201 comes only from a commit that worked.
    """
    _, _, _, User = learner_models()
    join(client, email="ann@example.com", name="Ann")
    conflict = join(client, email="Ann@example.com", name="Imposter")
    assert conflict.status_code == 409, f"expected 409 for a taken address, got {described(conflict)}"
    ben = join(client, email="ben@example.com", name="Ben")
    assert ben.status_code == 201, f"expected 201 for a new member after a conflict, got {described(ben)}"
    assert count_rows(app, User) == 2, f"expected 2 members, found {count_rows(app, User)}"
    assert count_rows(app, User, email="ann@example.com", name="Ann") == 1, "expected the first Ann unchanged"


@contextlib.contextmanager
def disk_failing(app):
    """Make the INSERT of a new member fail as a full or broken disk does: an error that has nothing to do with a taken address."""
    db = learner_models()[0]
    with app.app_context():
        engine = db.engine

    def fail(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO USERS"):
            raise sqlite3.OperationalError("disk I/O error")

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)


@pytest.mark.exercise("02.3")
def test_only_a_taken_address_is_409(app, client):
    """A commit that fails for another reason (here a disk error) is not answered 409 Conflict.
    409 says "this address is taken": catch only the error that the unique constraint raises, and let any other reach
    Flask, which answers it 500.
    """
    with disk_failing(app):
        try:
            status = join(client, email="cleo@example.com", name="Cleo").status_code
        except OperationalError:
            status = 500  # the check's app lets an unhandled error through, where a server answers 500
    assert status != 409, "expected a disk error not to be answered 409 Conflict: only a taken address is a conflict"


@pytest.mark.exercise("02.3")
@pytest.mark.parametrize("body", [
    {}, {"email": "ann@example.com"}, {"name": "Ann"},
    {"email": {"not": "a string"}, "name": "Ann"}, {"email": ["ann@example.com"], "name": "Ann"},
    {"email": "no-at-sign", "name": "Ann"}, {"email": "a" * 250 + "@example.com", "name": "Ann"},
    {"email": "ann@example.com", "name": ""}, {"email": "ann@example.com", "name": 42},
    {"email": "ann@example.com", "name": "Ann\r\nBcc: all@example.com"}, {"email": "\ud800@example.com", "name": "Ann"},
    ["ann@example.com", "Ann"],
], ids=["empty", "no-name", "no-email", "email-object", "email-list", "no-at", "email-too-long",
        "name-empty", "name-number", "name-line-break", "email-lone-surrogate", "list-body"])
def test_bad_body_is_400(client, body):
    """A body without a usable e-mail or name answers 400 as JSON, never 500.
    read_member() is given: keep the call to it at the top of create(), before anything touches the database.
    """
    response = client.post("/api/members", json=body)
    assert response.status_code == 400, f"expected 400 for the body {body!r:.100}, got {described(response)}"
    assert response.mimetype == "application/json", f"expected the 400 as JSON, got {response.mimetype}"


@pytest.mark.exercise("02.3")
def test_not_json_is_refused(client):
    """A body that is not JSON (415), broken JSON (400) or JSON nested too deeply (400) is refused with a JSON error.
    request.get_json() and the given read_member() refuse these, and the error handler turns them into JSON.
    """
    plain = client.post("/api/members", data="email=ann@example.com", content_type="text/plain")
    assert plain.status_code == 415 and plain.mimetype == "application/json", (
        f"expected a JSON 415 for a text/plain body, got {plain.status_code} {plain.mimetype}"
    )
    for name, data in [("broken", '{"email": '), ("deeply nested", "[" * 5000 + "]" * 5000)]:
        refused = client.post("/api/members", data=data, content_type="application/json")
        assert refused.status_code == 400 and refused.mimetype == "application/json", (
            f"expected a JSON 400 for {name} JSON, got {refused.status_code} {refused.mimetype}"
        )


@pytest.mark.exercise("02.3")
def test_extra_fields_are_ignored(client):
    """Fields other than email and name, like id or is_admin, are ignored.
    The User is built from the checked email and name only (given): keep it that way, never from the whole body.
    """
    response = join(client, email="mallory@example.com", name="Mallory", id=999, is_admin=True)
    assert response.status_code == 201, f"expected 201, got {described(response)}"
    assert response.json["id"] != 999, "expected the database to choose the id, not the body"
    assert "is_admin" not in response.json, "expected is_admin to be ignored"


# 02.4: the N+1 trap

def api_books(client):
    response = client.get("/api/books")
    assert response.status_code == 200, f"expected 200 for /api/books, got {described(response)}"
    return response.json


@pytest.mark.exercise("02.4")
def test_api_books_counts_the_reviews(app, client):
    """GET /api/books lists every book with its number of reviews, 0 included.
    Which kind of join keeps the books that have no reviews, and what does count() count for them?
    """
    counts = [2, 0, 3, 1, 0]
    ids = add_books(app, counts)
    data = api_books(client)
    assert data["count"] == len(counts), f"expected count {len(counts)}, got {data['count']}"
    got = {book["id"]: book["reviews"] for book in data["books"]}
    assert got == dict(zip(ids, counts)), f"expected {{book id: reviews}} {dict(zip(ids, counts))}, got {got}"
    titles = sorted(book["title"] for book in data["books"])
    assert titles == [f"Book a{n:03d}" for n in range(len(counts))], f"expected every book's title, got {titles}"


@pytest.mark.exercise("02.4")
def test_api_books_keeps_books_of_one_title_apart(app, client):
    """Books that share a title are each listed, each with its own number of reviews.
    A group is one row of the result: group by what tells one book from another.
    """
    counts = [1, 4, 0]
    ids = add_books(app, counts, tag="t", titles=["Persuasion", "Persuasion", "Persuasion"])
    data = api_books(client)
    got = {book["id"]: book["reviews"] for book in data["books"]}
    assert got == dict(zip(ids, counts)), f"expected {{book id: reviews}} {dict(zip(ids, counts))}, got {got}"


@pytest.mark.exercise("02.4")
def test_api_books_statements_do_not_grow(app, client):
    """GET /api/books sends as many SQL statements for 200 books as for 10.
    Reading book.reviews for each book sends one query per book: "The N+1 trap, measured" shows two cures.
    """
    add_books(app, [n % 4 for n in range(10)], tag="a")
    with count_statements(app) as few:
        listed = len(api_books(client)["books"])
    assert listed == 10, f"expected 10 books listed, got {listed}"
    add_books(app, [n % 4 for n in range(190)], tag="b")
    with count_statements(app) as many:
        listed = len(api_books(client)["books"])
    assert listed == 200, f"expected 200 books listed, got {listed}"
    assert few.count == many.count, f"expected as many statements for 200 books as for 10, got {few.count} for 10 and {many.count} for 200"
