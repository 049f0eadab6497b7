"""Hidden tests for chapter 01: what grading adds to the public checks."""

import contextlib
import html

import pytest

# a book that is not in the given catalog: its id is not its position in the list
ADDED = {"id": 42, "title": "Piranesi", "author": "Susanna Clarke", "year": 2020}


def catalog():
    """Return the learner's catalog of books; the app fixture has already imported the package."""
    from bookshelf.catalog import BOOKS

    return BOOKS


@contextlib.contextmanager
def book_added():
    """Add a book to the catalog for the length of a test: the list is changed in place, as the views read it."""
    books = catalog()
    books.append(dict(ADDED))
    try:
        yield ADDED
    finally:
        books.remove(ADDED)


# 01.1: a page per book

@pytest.mark.exercise("01.1")
def test_every_book_page_shows_title_and_author(client):
    """Each book of the catalog has a page that shows its title and its author."""
    for book in catalog():
        response = client.get(f"/books/{book['id']}")
        assert response.status_code == 200, f"expected 200 for /books/{book['id']}, got {response.status_code}"
        shown = html.unescape(response.text)
        assert book["title"] in shown, f"expected the page of book {book['id']} to show {book['title']!r}"
        assert book["author"] in shown, f"expected the page of book {book['id']} to show its author {book['author']!r}"


@pytest.mark.exercise("01.1")
def test_books_are_found_by_id_not_position(client):
    """A book whose id is not its place in the list gets its page, and the place itself is no id."""
    with book_added():
        response = client.get(f"/books/{ADDED['id']}")
        assert response.status_code == 200, f"expected 200 for /books/{ADDED['id']}, got {response.status_code}"
        assert ADDED["title"] in response.text, f"expected /books/{ADDED['id']} to show {ADDED['title']!r}"
        place = len(catalog())
        status = client.get(f"/books/{place}").status_code
        assert status == 404, f"expected 404 for /books/{place}: no book has that id, got {status}"


# 01.2: one book as JSON

@pytest.mark.exercise("01.2")
def test_api_answers_the_whole_book(client):
    """GET /api/books/<id> answers every field of the book (id, title, author, year), for every book."""
    for book in catalog():
        response = client.get(f"/api/books/{book['id']}")
        assert response.status_code == 200, f"expected 200 for /api/books/{book['id']}, got {response.status_code}"
        assert response.json == book, f"expected /api/books/{book['id']} to answer {book}, got {response.json!r:.200}"


@pytest.mark.exercise("01.2")
def test_api_finds_books_by_id_not_position(client):
    """Id 0 answers 404, and a book whose id is not its place in the list is found by its id."""
    status = client.get("/api/books/0").status_code
    assert status == 404, f"expected 404 for /api/books/0, got {status}"
    with book_added():
        response = client.get(f"/api/books/{ADDED['id']}")
        assert response.status_code == 200 and (response.json or {}).get("title") == ADDED["title"], (
            f"expected /api/books/{ADDED['id']} to answer {ADDED['title']!r}, got {response.status_code} {response.text[:200]!r}"
        )


# 01.3: a 404 that speaks JSON to the API

@pytest.mark.exercise("01.3")
@pytest.mark.parametrize("path", ["/apiary", "/api-docs/books"])
def test_look_alike_paths_get_the_page(client, path):
    """A path that only starts with the letters "api" is not under /api/: its 404 is the HTML page."""
    response = client.get(path)
    assert response.status_code == 404, f"expected 404 for {path}, got {response.status_code}"
    assert response.mimetype == "text/html", f"expected the HTML page for {path}, got {response.mimetype}"


@pytest.mark.exercise("01.3")
@pytest.mark.parametrize("path", ["/books/api/1", "/nothing-here?next=/api/books/1"])
def test_only_the_start_of_the_path_counts(client, path):
    """An address with /api/ further in the path or in its query string is not under /api/: HTML page."""
    response = client.get(path)
    assert response.status_code == 404, f"expected 404 for {path}, got {response.status_code}"
    assert response.mimetype == "text/html", f"expected the HTML page for {path}, got {response.mimetype}"
