"""Checks for chapter 01: routes, templates, JSON and error pages."""

import pytest


@pytest.mark.exercise("01.1")
@pytest.mark.parametrize(("book_id", "title"), [(1, "The Left Hand of Darkness"), (2, "Kindred")])
def test_book_page_shows_the_book(client, book_id, title):
    """GET /books/<id> shows that book's title and author.
    Look the book up with find_book(book_id) and render main/book.html with book=... .
    """
    response = client.get(f"/books/{book_id}")
    assert response.status_code == 200
    assert title in response.text


@pytest.mark.exercise("01.1")
@pytest.mark.parametrize("path", ["/books/999", "/books/0", "/books/abc", "/books/-1"])
def test_unknown_book_is_404(client, path):
    """An unknown or malformed book id answers 404 Not Found.
    find_book returns None for an unknown id: call abort(404) then.
    """
    assert client.get(path).status_code == 404


@pytest.mark.exercise("01.1")
def test_book_page_escapes_the_title(client):
    """A <script> title is shown as text, not run.
    Render the title with {{ book.title }} in a template; never build HTML with f-strings or |safe.
    """
    response = client.get("/books/4")
    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


@pytest.mark.exercise("01.2")
def test_api_book_is_json(client):
    """GET /api/books/1 answers the book as JSON.
    Return the book's dict from the view: Flask turns a dict into a JSON response.
    """
    response = client.get("/api/books/1")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json["title"] == "The Left Hand of Darkness"
    assert response.json["id"] == 1


@pytest.mark.exercise("01.2")
@pytest.mark.parametrize("path", ["/api/books/999", "/api/books/abc"])
def test_api_unknown_book_is_404(client, path):
    """An unknown book id in the API answers 404.
    Call abort(404) when find_book returns None, as in the book page.
    """
    assert client.get(path).status_code == 404


@pytest.mark.exercise("01.3")
@pytest.mark.parametrize("path", ["/api/books/999", "/api/nothing-here"])
def test_api_404_is_json(client, path):
    """A 404 under /api/ answers JSON with an "error" message.
    In not_found(), when request.path starts with "/api/", return {"error": "not found"}, 404.
    """
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert isinstance(response.json.get("error"), str)


@pytest.mark.exercise("01.3")
@pytest.mark.parametrize("path", ["/nothing-here", "/books/999"])
def test_page_404_is_html(client, path):
    """A 404 anywhere else still shows the HTML page, with status 404.
    Keep `return render_template("errors/404.html"), 404` for every other path; without `, 404` Flask sends 200.
    """
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page not found" in response.text
