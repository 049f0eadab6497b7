"""Checks for chapter 02: commands, pagination, a 409 for a conflict, and the N+1 trap."""

import pytest

from workbook.sql import count_statements


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
    assert result.exit_code == 0, result.output
    books = count_rows(app, Book)
    assert books >= 4 and count_rows(app, User) >= 1 and count_rows(app, Review) >= 1
    again = invoke(runner, "seed")
    assert again.exit_code != 0, "a second seed should refuse, not add the demo data again"
    assert count_rows(app, Book) == books


@pytest.mark.exercise("02.1")
def test_remove_book_removes_it_and_its_reviews(app, runner):
    """`flask remove-book ID` removes that book and its reviews, and nothing else.
    Get the book with db.session.get(Book, book_id), then db.session.delete(book) and db.session.commit().
    Deleting through the session lets the relationship's cascade delete the reviews; a bulk delete() statement does not.
    """
    _, Book, Review, User = learner_models()
    kept, removed, empty = add_books(app, [2, 3, 0])
    result = invoke(runner, "remove-book", str(removed))
    assert result.exit_code == 0, result.output
    assert count_rows(app, Book, id=removed) == 0, "the book is still there: did you commit?"
    assert count_rows(app, Review, book_id=removed) == 0, "the book is gone but its reviews are still there"
    assert count_rows(app, Book) == 2 and count_rows(app, Review, book_id=kept) == 2
    assert count_rows(app, User) == 3


@pytest.mark.exercise("02.1")
@pytest.mark.parametrize("book_id", ["999", "0", "abc"])
def test_remove_unknown_book_says_so(app, runner, book_id):
    """An unknown or malformed id gets a short error naming it and a non-zero exit status, not a traceback.
    When db.session.get returns None, raise click.ClickException(f"There is no book {book_id}.").
    """
    _, Book, _, _ = learner_models()
    add_books(app, [1])
    result = invoke(runner, "remove-book", book_id)
    assert result.exit_code != 0
    assert book_id in result.output
    assert count_rows(app, Book) == 1


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
    Paginate db.select(Book).order_by(Book.title) with db.paginate(..., per_page=PER_PAGE),
    and render main/index.html with page= the result.
    """
    shelf_of_25(app)
    response = client.get(path)
    assert response.status_code == 200
    assert shown(response.text) == TITLES[:10]
    assert "page=2" in response.text


@pytest.mark.exercise("02.2")
def test_later_pages(app, client):
    """?page=2 shows the next 10 books, and the last page (?page=3) the remaining 5.
    db.paginate reads ?page= from the request by itself: do not pass page=... .
    """
    shelf_of_25(app)
    assert shown(client.get("/books/?page=2").text) == TITLES[10:20]
    last = client.get("/books/?page=3")
    assert last.status_code == 200
    assert shown(last.text) == TITLES[20:]
    assert "page=2" in last.text


@pytest.mark.exercise("02.2")
@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999"])
def test_page_that_does_not_exist_is_404(app, client, page):
    """A page that does not exist (0, -1, abc, 99999) answers 404 with the friendly page, never 500.
    Keep db.paginate's error_out=True (the default) and let it read ?page= itself; it aborts with 404 for these.
    """
    shelf_of_25(app)
    response = client.get(f"/books/?page={page}")
    assert response.status_code == 404
    assert "Page not found" in response.text


@pytest.mark.exercise("02.2")
def test_page_size_cannot_be_raised_from_the_url(app, client):
    """?per_page=1000 in the URL still shows 10 books.
    Pass per_page=PER_PAGE to db.paginate; without it, db.paginate takes ?per_page= from the URL.
    """
    shelf_of_25(app)
    assert shown(client.get("/books/?per_page=1000").text) == TITLES[:10]


@pytest.mark.exercise("02.2")
def test_empty_shelf_is_one_empty_page(client):
    """With no books yet, the list still answers 200.
    Page 1 of an empty list is not an error for db.paginate.
    """
    assert client.get("/books/").status_code == 200


@pytest.mark.exercise("02.2")
def test_pages_and_api_read_the_database(app, client):
    """Book pages, the API and its JSON 404 read the database, and a <script> title stays escaped.
    These views are given: run the cells that write bookshelf/main.py, bookshelf/api.py, errors.py and the templates.
    """
    script = "<script>alert(1)</script>"
    plain, scripted = add_books(app, [2, 0], titles=["Kindred", script])
    page = client.get(f"/books/{plain}")
    assert page.status_code == 200 and "Kindred" in page.text
    listed = client.get("/books/")
    assert script not in listed.text and "&lt;script&gt;" in listed.text
    assert client.get(f"/books/{scripted}").text.count("<script>") == 0
    assert client.get(f"/api/books/{plain}").json["title"] == "Kindred"
    assert client.get("/books/999").status_code == 404
    for path in ("/api/books/999", "/api/nothing-here"):
        missing = client.get(path)
        assert missing.status_code == 404 and missing.mimetype == "application/json"


# 02.3: a duplicate e-mail is a conflict

def join(client, **body):
    return client.post("/api/members", json=body)


@pytest.mark.exercise("02.3")
def test_new_member_is_created(client):
    """POST /api/members with an e-mail and a name answers 201 with the new member.
    Commit the new member inside try:, so that it is saved and the view goes on to return 201.
    """
    response = join(client, email="ann@example.com", name="Ann")
    assert response.status_code == 201
    assert response.json["name"] == "Ann" and isinstance(response.json["id"], int)
    assert client.get(response.headers["Location"]).json == response.json


@pytest.mark.exercise("02.3")
@pytest.mark.parametrize("again", ["ann@example.com", "ANN@Example.com", " ann@example.COM "])
def test_duplicate_email_is_409(client, again):
    """The same e-mail address again, in any case, answers 409 Conflict as JSON, not 500.
    Catch sqlalchemy.exc.IntegrityError around db.session.commit(), call db.session.rollback(), then abort(409, "...").
    """
    assert join(client, email="ann@example.com", name="Ann").status_code == 201
    response = join(client, email=again, name="Another Ann")
    assert response.status_code == 409
    assert response.mimetype == "application/json"
    assert isinstance(response.json.get("error"), str)


@pytest.mark.exercise("02.3")
def test_app_keeps_working_after_a_conflict(app, client):
    """After a 409 the next new member is saved, and the first member is unchanged.
    Answer 409 from the except block, after db.session.rollback(), and return 201 only when the commit worked.
    """
    _, _, _, User = learner_models()
    join(client, email="ann@example.com", name="Ann")
    assert join(client, email="Ann@example.com", name="Imposter").status_code == 409
    assert join(client, email="ben@example.com", name="Ben").status_code == 201
    assert count_rows(app, User) == 2
    assert count_rows(app, User, email="ann@example.com", name="Ann") == 1


@pytest.mark.exercise("02.3")
@pytest.mark.parametrize("body", [
    {}, {"email": "ann@example.com"}, {"name": "Ann"},
    {"email": {"not": "a string"}, "name": "Ann"}, {"email": ["ann@example.com"], "name": "Ann"},
    {"email": "no-at-sign", "name": "Ann"}, {"email": "a" * 250 + "@example.com", "name": "Ann"},
    {"email": "ann@example.com", "name": ""}, {"email": "ann@example.com", "name": 42},
    ["ann@example.com", "Ann"],
], ids=["empty", "no-name", "no-email", "email-object", "email-list", "no-at", "email-too-long",
        "name-empty", "name-number", "list-body"])
def test_bad_body_is_400(client, body):
    """A body without a usable e-mail or name answers 400 as JSON, never 500.
    read_member() is given: keep the call to it before anything touches the database.
    """
    response = client.post("/api/members", json=body)
    assert response.status_code == 400
    assert response.mimetype == "application/json"


@pytest.mark.exercise("02.3")
def test_not_json_is_refused(client):
    """A body that is not JSON (415) or is broken JSON (400) is refused with a JSON error.
    request.get_json() refuses these by itself, and the error handler turns them into JSON.
    """
    plain = client.post("/api/members", data="email=ann@example.com", content_type="text/plain")
    assert plain.status_code == 415 and plain.mimetype == "application/json"
    broken = client.post("/api/members", data='{"email": ', content_type="application/json")
    assert broken.status_code == 400 and broken.mimetype == "application/json"


@pytest.mark.exercise("02.3")
def test_extra_fields_are_ignored(client):
    """Fields other than email and name, like id or is_admin, are ignored.
    Build the User from the checked email and name only, never from the whole body.
    """
    response = join(client, email="mallory@example.com", name="Mallory", id=999, is_admin=True)
    assert response.status_code == 201
    assert response.json["id"] != 999 and "is_admin" not in response.json


# 02.4: the N+1 trap

def api_books(client):
    response = client.get("/api/books")
    assert response.status_code == 200
    return response.json


@pytest.mark.exercise("02.4")
def test_api_books_counts_the_reviews(app, client):
    """GET /api/books lists every book with its number of reviews, 0 included.
    Select Book and func.count(Review.id) with .outerjoin(Book.reviews) and .group_by(Book.id): an inner join drops the
    books without reviews, and func.count() without a column counts 1 for them.
    """
    counts = [2, 0, 3, 1, 0]
    ids = add_books(app, counts)
    data = api_books(client)
    assert data["count"] == len(counts)
    assert {book["id"]: book["reviews"] for book in data["books"]} == dict(zip(ids, counts))
    assert {book["title"] for book in data["books"]} == {f"Book a{n:03d}" for n in range(len(counts))}


@pytest.mark.exercise("02.4")
def test_api_books_statements_do_not_grow(app, client):
    """GET /api/books sends as many SQL statements for 200 books as for 10.
    Get the counts in the same query as the books; reading book.reviews in a loop sends one more query per book.
    """
    add_books(app, [n % 4 for n in range(10)], tag="a")
    with count_statements(app) as few:
        assert len(api_books(client)["books"]) == 10
    add_books(app, [n % 4 for n in range(190)], tag="b")
    with count_statements(app) as many:
        assert len(api_books(client)["books"]) == 200
    assert few.count == many.count, f"{few.count} statements for 10 books, {many.count} for 200"
