"""Each bad input of chapters 04-05's security list gets its exact safe answer from the reference app, CSRF on.

Every case here holds from chapter 04 on: the app is built for each chapter from 04, and from chapter 05 on the
client logs in through the forms first, so that the views behind login_required are the ones answering.
"""

import io
import re
import sys
from pathlib import Path

import pytest
from helpers import csrf_token_in, filled_form, has_route, logged_in, MEMBER_EMAIL, MEMBER_PASSWORD
from sqlalchemy import inspect, text
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from workbook import chapters, reference
from workbook.app import TEST_CONFIG, forget_package, load_create_app

FROM_CHAPTER_04 = [chapter.number for chapter in chapters.all_chapters() if chapter.number >= "04"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
STORED_COVER = re.compile(r"[0-9a-f]{32}\.png")
FORM_ROUTES = ["/books/new", "/books/1/review", "/books/1/cover"]


@pytest.fixture(scope="module", params=FROM_CHAPTER_04)
def app(request, tmp_path_factory):
    """Build the chapter's reference Bookshelf once, with the demo data and its covers in a folder of the test's."""
    folder = tmp_path_factory.mktemp(f"bookshelf{request.param}")
    reference.build(folder, request.param)
    covers = folder / "uploads" / "covers"
    # chapter 11's limits off: the module's members register and log in many times a minute from one address
    # (tests/test_harden_security.py proves the limits)
    app = load_create_app(folder)(dict(TEST_CONFIG, COVER_FOLDER=str(covers), RATELIMIT_ENABLED=False))
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    yield app
    forget_package(folder)
    if str(folder.resolve()) in sys.path:
        sys.path.remove(str(folder.resolve()))


@pytest.fixture(scope="module")
def client(app):
    """Return a test client, logged in as a member where the chapter has members who log in (once: scrypt is slow).
    From chapter 05 on the member is made the one who added the demo books, whose covers only they may replace."""
    client = logged_in(app.test_client())
    if "added_by_id" in books_columns(app):
        with app.app_context():
            session = app.extensions["sqlalchemy"].session
            session.execute(text("UPDATE books SET added_by_id = (SELECT id FROM users WHERE email = :email)"),
                            {"email": MEMBER_EMAIL})
            session.commit()
    return client


def books_columns(app) -> set[str]:
    with app.app_context():
        return {column["name"] for column in inspect(app.extensions["sqlalchemy"].engine).get_columns("books")}


def rows(app, table: str) -> int:
    with app.app_context():
        return app.extensions["sqlalchemy"].session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def token(client, path: str) -> str:
    """Return the CSRF token of the form on a page, as a browser gets it."""
    found = csrf_token_in(client.get(path).get_data(as_text=True))
    assert found, f"expected a form with a CSRF token on {path}"
    return found


def send_form(client, path: str, files: dict | None = None, **values: str):
    """Fill the form on a page as a person would, with these values, and send it; return the answer."""
    data = filled_form(client.get(path).get_data(as_text=True), MEMBER_EMAIL, MEMBER_PASSWORD, **values)
    for name, (content, filename, kind) in (files or {}).items():
        data[name] = FileStorage(io.BytesIO(content), filename, content_type=kind)
    # encoded in memory: the test client would spool a large body to a temporary file that it never closes
    stream, length, boundary = stream_encode_multipart(data, use_tempfile=False)
    return client.post(path, input_stream=stream, content_length=length,
                       content_type=f"multipart/form-data; boundary={boundary}")


def send_cover(client, content: bytes, filename: str, kind: str = "image/png", book: int = 1):
    return send_form(client, f"/books/{book}/cover", files={"cover": (content, filename, kind)})


def assert_form_error(response, message: str) -> None:
    assert response.status_code == 200, f"expected the form again with an error, got {response.status_code}"
    page = response.get_data(as_text=True)
    assert 'class="error"' in page and message in page, f"expected the form error {message!r}"


def files_under(folder) -> set:
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


# 13: POSTs without a token, with garbage, or with another session's token


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_a_post_without_a_token_is_refused(client, path):
    response = client.post(path, data={"title": "A book", "author": "Someone", "rating": "5"})
    assert response.status_code == 400 and b"CSRF token is missing" in response.data


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_a_garbage_token_is_refused(client, path):
    token(client, path)  # the session has a token of its own: the garbage one must still not pass
    response = client.post(path, data={"csrf_token": "garbage.token.here", "title": "A book", "author": "Someone"})
    assert response.status_code == 400 and b"CSRF token is invalid" in response.data


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_another_sessions_token_is_refused(app, client, path):
    token(client, path)
    # the token is the session's, whichever form shows it: another member may not open the cover form (issue 24)
    other = token(logged_in(app.test_client(), email="other@example.com"), "/books/new")
    response = client.post(path, data={"csrf_token": other, "title": "A book", "author": "Someone"})
    assert response.status_code == 400 and b"CSRF tokens do not match" in response.data


@pytest.mark.parametrize("name", ["title\nauthor", "title\r", "a\r\nb"])
@pytest.mark.parametrize("path", FORM_ROUTES)
def test_a_form_field_whose_name_breaks_the_line_is_a_400(client, path, name):
    """A multipart field named with a line break reaches request.form under the name None, where Flask-WTF's search
    for the token failed with a 500; it is the client's mistake, a 400, whatever the field's token."""
    data = {"csrf_token": token(client, path), name: "A book", "cover": (io.BytesIO(PNG), "cover.png")}
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 400, f"expected 400 for a field named {name!r}, got {response.status_code}"


# 16: uploads


def test_an_oversized_upload_gets_the_friendly_413_page(client):
    response = send_cover(client, PNG + bytes(2 * 1024 * 1024), "big.png")
    assert response.status_code == 413 and b"That was too large" in response.data


def test_a_cover_over_512_kb_is_a_form_error(client):
    assert_form_error(send_cover(client, PNG + bytes(600 * 1024), "big.png"), "at most 512 KB")


@pytest.mark.parametrize("content, filename", [
    (b"just some text, not an image", "cover.png"),
    (PNG, "shell.php"),
    (b"<?php system($_GET['c']); ?>", "evil.php.png"),
])
def test_a_file_that_is_not_an_image_is_refused(app, client, content, filename):
    before = rows(app, "books WHERE cover IS NOT NULL")
    response = send_cover(client, content, filename)
    assert response.status_code == 200 and b'class="error"' in response.data, f"expected {filename} refused"
    assert rows(app, "books WHERE cover IS NOT NULL") == before


def test_a_path_in_the_file_name_is_ignored(app, client):
    covers = app.config["COVER_FOLDER"]
    parent = Path(covers).parent
    before = files_under(parent)
    response = send_cover(client, PNG, "../../app.py.png", book=2)
    assert response.status_code == 302, f"expected a real PNG stored, got {response.status_code}"
    new = files_under(parent) - before
    assert len(new) == 1, f"expected one new file, got {sorted(map(str, new))}"
    (stored,) = new
    assert stored.parent == Path(covers) and STORED_COVER.fullmatch(stored.name)


@pytest.mark.parametrize("filename", ["日本.png", "../../.png", ".png"])
def test_a_name_that_secure_filename_empties_is_stored_under_the_apps_name_or_refused(app, client, filename):
    response = send_cover(client, PNG, filename, book=3)
    assert response.status_code in (200, 302), f"expected {filename!r} stored or refused, got {response.status_code}"
    if response.status_code == 302:
        with app.app_context():
            name = app.extensions["sqlalchemy"].session.execute(text("SELECT cover FROM books WHERE id = 3")).scalar()
        assert STORED_COVER.fullmatch(name), f"expected an app-made name for {filename!r}, got {name!r}"


def test_issue_24_1_only_the_member_who_added_a_book_or_a_librarian_replaces_its_cover(app, client):
    """From chapter 05 on, another member's cover upload is a 403 that keeps the cover and its file; a librarian's
    (chapter 08 on) replaces it. Before, any member replaced any cover, and the old file was deleted."""
    if not registration_exists(app):
        pytest.skip("before chapter 05 there are no members: anyone may upload a cover")
    added = send_form(client, "/books/new", title="A book of the reader's", author="The Reader")
    assert added.status_code == 302, added.get_data(as_text=True)[:300]
    book = int(added.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert send_cover(client, PNG, "mine.png", book=book).status_code == 302, "expected the owner to upload a cover"
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        cover = session.execute(text("SELECT cover FROM books WHERE id = :id"), {"id": book}).scalar_one()
    stored = Path(app.config["COVER_FOLDER"]) / cover
    assert stored.is_file()

    other = logged_in(app.test_client(), "other.member@example.com")
    # the cover page itself is refused to them: the session's token comes from the form for a new book
    data = {"csrf_token": token(other, "/books/new"),
            "cover": FileStorage(io.BytesIO(PNG + b"other"), "theirs.png", content_type="image/png")}
    stream, length, boundary = stream_encode_multipart(data, use_tempfile=False)
    response = other.post(f"/books/{book}/cover", input_stream=stream, content_length=length,
                          content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 403, f"expected another member's upload refused with 403, got {response.status_code}"
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        assert session.execute(text("SELECT cover FROM books WHERE id = :id"), {"id": book}).scalar_one() == cover
    assert stored.is_file(), "expected the owner's cover file to stay"

    if has_route(app, "/admin/roles"):
        librarian = logged_in(app.test_client(), "librarian@example.com")
        granted = app.test_cli_runner().invoke(args=["grant-role", "librarian@example.com", "librarian"])
        assert granted.exit_code == 0, granted.output
        assert send_cover(librarian, PNG, "new.png", book=book).status_code == 302, "expected a librarian to replace it"
        assert not stored.exists(), "expected the replaced cover's file deleted"


# 17: serving a cover


def test_a_cover_is_served_as_an_inert_image(client):
    assert send_cover(client, PNG, "cover.png", book=4).status_code == 302
    name = re.search(r"/covers/([0-9a-f]{32}\.png)", client.get("/books/4").get_data(as_text=True))[1]
    with client.get(f"/covers/{name}") as response:  # a file sent from disk stays open until closed
        assert response.status_code == 200 and response.mimetype == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/covers/../../app.py", "/covers/..%2F..%2Fapp.py", "/covers/app.py",
                                  "/covers/0123456789abcdef0123456789abcdef.png"])
def test_a_cover_name_not_made_by_the_app_is_not_found(client, path):
    assert client.get(path).status_code == 404


# 18 and length limits: what a form stores


def test_a_title_of_100_kb_is_a_length_error_and_nothing_is_stored(app, client):
    before = rows(app, "books")
    assert_form_error(send_form(client, "/books/new", title="x" * 100_000), "longer than 200 characters")
    assert rows(app, "books") == before


def test_a_review_of_100_kb_is_a_length_error_and_nothing_is_stored(app, client):
    before = rows(app, "reviews")
    assert_form_error(send_form(client, "/books/4/review", text="x" * 100_000), "longer than 5000 characters")
    assert rows(app, "reviews") == before


@pytest.mark.parametrize("path", FORM_ROUTES)
@pytest.mark.parametrize("body", [[1, 2], "abc", 5, {"title": {"a": 1}}, {"title": ["x"]}],
                         ids=["list", "string", "number", "object-title", "list-title"])
def test_a_json_body_is_answered_with_the_forms_errors(app, client, path, body):
    before = rows(app, "books") + rows(app, "reviews") + rows(app, "books WHERE cover IS NOT NULL")
    response = client.post(path, json=body, headers={"X-CSRFToken": token(client, path)})
    assert response.status_code == 200 and b'class="error"' in response.data, (
        f"expected the form's errors for a JSON {body!r}, got {response.status_code}"
    )
    assert rows(app, "books") + rows(app, "reviews") + rows(app, "books WHERE cover IS NOT NULL") == before


@pytest.mark.parametrize("link", ["javascript:alert(1)", "javascript://example.com/%0Aalert(1)",
                                  "JavaScript:alert(1)", " javascript:alert(1)"])
def test_a_javascript_link_is_refused(app, client, link):
    before = rows(app, "books")
    response = send_form(client, "/books/new", title="A linked book", author="Someone", link=link)
    assert response.status_code == 200 and b'class="error"' in response.data, f"expected {link!r} refused"
    assert rows(app, "books") == before


@pytest.mark.parametrize("path", ["/", "/books/4", "/search?q=gotcha"])
def test_a_script_title_is_escaped(client, path):
    page = client.get(path).get_data(as_text=True)  # the seed's fourth book is titled <script>alert('gotcha')</script>
    assert "&lt;script&gt;" in page and "<script>alert" not in page


# 04.4: the search page, sent by GET

SEARCH_RESULT = re.compile(r'href="/books/(\d+)"')


def test_a_search_needs_no_session_and_no_token(app):
    """A search changes nothing, so a visitor without a session or a token gets its results: the link can be shared."""
    response = app.test_client().get("/search", query_string={"q": "butler", "year_from": "1970", "year_to": "1990"})
    assert response.status_code == 200 and SEARCH_RESULT.findall(response.get_data(as_text=True)) == ["2"]


@pytest.mark.parametrize("q", ["' OR '1'='1", "%' OR title LIKE '%", '"; DROP TABLE books; --', "le guin' --"])
def test_the_search_takes_sql_as_words(app, client, q):
    before = rows(app, "books")
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200 and SEARCH_RESULT.findall(response.get_data(as_text=True)) == []
    assert rows(app, "books") == before


def test_the_search_shows_the_visitors_words_as_text(client):
    page = client.get("/search", query_string={"q": '"><script>alert(1)</script>'}).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


@pytest.mark.parametrize("query", [{"year_from": "1990", "year_to": "1980"}, {"year_to": "99999999999999999999"},
                                   {"q": "x"}, {"q": "x" * 101}, {"year_from": "MCMLXIX"}])
def test_a_wrong_search_is_a_form_error(client, query):
    response = client.get("/search", query_string=query)
    assert response.status_code == 200 and b'class="error"' in response.data
    assert SEARCH_RESULT.findall(response.get_data(as_text=True)) == []


# 22: the members API, exempt from CSRF by design


def registration_exists(app) -> bool:
    return has_route(app, "/auth/register")


def test_the_members_api_takes_json_without_a_token(app):
    """Chapter 04 exempts the JSON sign-up from CSRF; from chapter 05 on, registration replaces it (no route)."""
    response = app.test_client().post("/api/members", json={"email": "dana@example.com", "name": "Dana"})
    assert response.status_code == (404 if registration_exists(app) else 201)


def test_the_members_api_refuses_a_form(app):
    response = app.test_client().post("/api/members", data={"email": "erin@example.com", "name": "Erin"})
    assert response.status_code in ((404,) if registration_exists(app) else (400, 415))
