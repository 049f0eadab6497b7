"""Checks for chapter 01: routes, templates, JSON and error pages."""

import contextlib

import pytest

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"01.1": 3, "01.2": 2, "01.3": 2}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"01.3": ["01.1", "01.2"]}


@contextlib.contextmanager
def catalog_reversed():
    """Turn the catalog's list around for the length of a check, in place, as the views read it: every id stays, and
    no book is any longer at the place its id names."""
    from bookshelf.catalog import BOOKS

    BOOKS.reverse()
    try:
        yield BOOKS
    finally:
        BOOKS.reverse()


@pytest.mark.exercise("01.1")
@pytest.mark.parametrize(("book_id", "title", "author"), [
    (1, "The Left Hand of Darkness", "Ursula K. Le Guin"), (2, "Kindred", "Octavia E. Butler"),
])
def test_book_page_shows_the_book(client, book_id, title, author):
    """GET /books/<id> shows that book's title and author.
    The view receives book_id from the URL: "A blueprint with routes" shows how a view finds its data and renders a template,
    which shows every field of the book it is given.
    """
    response = client.get(f"/books/{book_id}")
    assert response.status_code == 200, f"expected 200 for /books/{book_id}, got {response.status_code}"
    assert title in response.text, f"expected the page of book {book_id} to show {title!r}"
    assert author in response.text, f"expected the page of book {book_id} to show its author {author!r}"


@pytest.mark.exercise("01.1")
def test_book_page_follows_the_id_wherever_the_book_is(client):
    """GET /books/<id> shows the book with that id, wherever it stands in the catalog.
    An id names a book, not a place in the list: with the list in another order, the same URL must show the same book.
    """
    with catalog_reversed():
        response = client.get("/books/2")
        assert response.status_code == 200, f"expected 200 for /books/2 with the catalog reordered, got {response.status_code}"
        assert "Kindred" in response.text, "expected /books/2 to show Kindred with the catalog reordered"


@pytest.mark.exercise("01.1")
@pytest.mark.parametrize("path", ["/books/999", "/books/0", "/books/abc", "/books/-1"])
def test_unknown_book_is_404(client, path):
    """An unknown or malformed book id answers 404 Not Found.
    What does find_book give for an id it does not know? A view stops with an error status through Flask's abort().
    """
    status = client.get(path).status_code
    assert status == 404, f"expected 404 for {path}, got {status}"


@pytest.mark.exercise("01.1")
def test_book_page_escapes_the_title(client):
    """A <script> title is shown as text, not run.
    Jinja escapes what a template shows; HTML built in Python, or a value marked |safe, is not escaped (see "Templates").
    """
    response = client.get("/books/4")
    assert response.status_code == 200, f"expected 200 for /books/4, got {response.status_code}"
    assert "<script>" not in response.text, "expected book 4's title escaped, but the page holds a real <script> tag"
    assert "&lt;script&gt;" in response.text, "expected book 4's title on its page, shown as text (&lt;script&gt;)"


@pytest.mark.exercise("01.2")
def test_api_book_is_json(client):
    """GET /api/books/1 answers the book as JSON.
    Flask turns some of a view's return values into JSON by itself: see "JSON responses".
    """
    response = client.get("/api/books/1")
    assert response.status_code == 200, f"expected 200 for /api/books/1, got {response.status_code}"
    assert response.mimetype == "application/json", f"expected JSON for /api/books/1, got {response.mimetype}"
    book = response.json
    assert isinstance(book, dict), f"expected a JSON object for /api/books/1, got {book!r:.200}"
    assert book.get("title") == "The Left Hand of Darkness", f"expected the title of book 1, got {book.get('title')!r}"
    assert book.get("id") == 1, f"expected id 1, got {book.get('id')!r}"


@pytest.mark.exercise("01.2")
def test_api_book_has_every_field(client):
    """GET /api/books/3 answers every field of book 3, no fewer, no more.
    The API answers the book as the catalog holds it: leave no field of the book's dict out.
    """
    from bookshelf.catalog import BOOKS

    expected = next(book for book in BOOKS if book["id"] == 3)
    response = client.get("/api/books/3")
    assert response.status_code == 200, f"expected 200 for /api/books/3, got {response.status_code}"
    assert response.json == expected, f"expected /api/books/3 to answer {expected}, got {response.json!r:.200}"


@pytest.mark.exercise("01.2")
def test_api_follows_the_id_wherever_the_book_is(client):
    """GET /api/books/<id> answers the book with that id, wherever it stands in the catalog.
    An id names a book, not a place in the list: with the list in another order, the same URL must answer the same book.
    """
    with catalog_reversed():
        response = client.get("/api/books/1")
        assert response.status_code == 200, f"expected 200 for /api/books/1 with the catalog reordered, got {response.status_code}"
        title = (response.json or {}).get("title") if response.is_json else None
        assert title == "The Left Hand of Darkness", f"expected /api/books/1 to answer book 1 with the catalog reordered, got {title!r}"


@pytest.mark.exercise("01.2")
@pytest.mark.parametrize("path", ["/api/books/999", "/api/books/abc"])
def test_api_unknown_book_is_404(client, path):
    """An unknown book id in the API answers 404.
    A missing book in the API is the same case as a missing book page in exercise 01.1.
    """
    status = client.get(path).status_code
    assert status == 404, f"expected 404 for {path}, got {status}"


@pytest.mark.exercise("01.3")
@pytest.mark.parametrize("path", ["/api/books/999", "/api/nothing-here"])
def test_api_404_is_json(client, path):
    """A 404 under /api/ answers JSON with an "error" message.
    request.path tells an API address from a page; a dict returned from a handler becomes JSON, and its status goes with it.
    """
    response = client.get(path)
    assert response.status_code == 404, f"expected 404 for {path}, got {response.status_code}"
    assert response.mimetype == "application/json", f"expected JSON for {path}, got {response.mimetype}"
    body = response.json
    assert isinstance(body, dict) and isinstance(body.get("error"), str), (
        f'expected a JSON object with an "error" text for {path}, got {body!r:.200}'
    )


@pytest.mark.exercise("01.3")
@pytest.mark.parametrize("path", ["/nothing-here", "/books/999"])
def test_page_404_is_html(client, path):
    """A 404 anywhere else still shows the HTML page, with status 404.
    An error handler answers 200 unless it returns the status too: see "Error pages".
    """
    response = client.get(path)
    assert response.status_code == 404, f"expected 404 for {path}, got {response.status_code}"
    assert response.mimetype == "text/html", f"expected an HTML page for {path}, got {response.mimetype}"
    assert "Page not found" in response.text, f'expected the friendly "Page not found" page for {path}'


@pytest.mark.exercise("01.3")
@pytest.mark.parametrize("path", ["/apis", "/api_v2/books/1", "/shelf/api/books", "/missing?from=/api/books"])
def test_page_404_unless_the_path_starts_under_api(client, path):
    """A 404 whose path does not start with the folder /api/ is the HTML page, even with "api" in its address.
    Under /api/ means the path is /api itself or begins with /api/: more letters after "api", an /api/ further on, or one
    in the query string, is another address.
    """
    response = client.get(path)
    assert response.status_code == 404, f"expected 404 for {path}, got {response.status_code}"
    assert response.mimetype == "text/html", f"expected the HTML page for {path}, got {response.mimetype}"
