"""Hidden tests for chapter 04: what grading adds to the public checks."""

import io
import re

import pytest
from werkzeug.datastructures import MultiDict
from workbook.check_fixtures import form_token


def link_errors(value):
    """Return the errors the learner's web_address gives a link, alone in a plain WTForms form."""
    from wtforms import Form, StringField

    from bookshelf.validators import web_address

    class LinkForm(Form):
        link = StringField(validators=[web_address])

    form = LinkForm(MultiDict({"link": value}))
    form.validate()
    return form.link.errors


# 04.1: only http and https, by an allow-list

@pytest.mark.exercise("04.1")
@pytest.mark.parametrize("address", [
    "file:///etc/passwd", "blob:https://example.com/1", "mailto:ann@example.com", "intent://x#Intent;end",
    "\x01javascript:alert(1)", "jAvAsCrIpT:alert(1)",
])
def test_web_address_allows_only_web_schemes(app, address):
    """Every scheme but http and https is refused, also ones the public checks do not try."""
    assert link_errors(address), f"expected {address!r} refused"


# 04.2: image_type, on images and near misses the public checks do not try

OTHER_IMAGES = {
    "a JPEG from a camera (Exif)": ("jpeg", b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00" + bytes(40)),
    "a JPEG that starts with its quantization table": ("jpeg", b"\xff\xd8\xff\xdb\x00\x43\x00" + bytes(60)),
    "a lossless WebP": ("webp", b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f" + bytes(20)),
    "an extended WebP": ("webp", b"RIFF\x30\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00" + bytes(30)),
    "a WebP of 655 KB (size bytes 0A 0A 0A 00)": ("webp", b"RIFF\x0a\x0a\x0a\x00WEBPVP8 \xfe\x09\x0a\x00" + bytes(30)),
    "a PNG of 100 KB": ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100_000)),
}
NEAR_MISSES = {
    "RIFX (big-endian RIFF) with WEBP": b"RIFX\x24\x00\x00\x00WEBPVP8 " + bytes(40),
    "WEBP at byte 8 without RIFF": bytes(8) + b"WEBPVP8 " + bytes(40),
    "RIFF with WEBP at byte 4": b"RIFFWEBP\x24\x00\x00\x00VP8 " + bytes(40),
    "a PNG signature one byte late": b" \x89PNG\r\n\x1a\n" + bytes(40),
    "a JPEG signature one byte late": b" \xff\xd8\xff\xe0" + bytes(40),
}


@pytest.mark.exercise("04.2")
@pytest.mark.parametrize("name", list(OTHER_IMAGES))
def test_image_type_names_other_images(app, name):
    """Every JPEG starts FF D8 FF, whatever its next marker, and every WebP is RIFF....WEBP, whatever its chunk."""
    from bookshelf.covers import image_type

    kind, data = OTHER_IMAGES[name]
    stream = io.BytesIO(data)
    found = image_type(stream)
    assert found == kind, f"expected {kind!r} for {name}, got {found!r}"
    assert stream.tell() == 0, f"expected the stream back at its start, it is at byte {stream.tell()}"


@pytest.mark.exercise("04.2")
@pytest.mark.parametrize("name", list(NEAR_MISSES))
def test_image_type_refuses_near_misses(app, name):
    """A signature counts only at its place: RIFF at byte 0 and WEBP at byte 8, PNG and JPEG at byte 0."""
    from bookshelf.covers import image_type

    stream = io.BytesIO(NEAR_MISSES[name])
    found = image_type(stream)
    assert found is None, f"expected None for {name}, got {found!r}"
    assert stream.tell() == 0, f"expected the stream back at its start, it is at byte {stream.tell()}"


# 04.3: the add-book view, with a title that holds HTML



def add_book(client, title):
    """Send the add-book form with this title; return the answer."""
    data = {"title": title, "author": "Someone", "year": "", "link": "", "csrf_token": form_token(client, "/books/new")}
    return client.post("/books/new", data=data)


@pytest.mark.exercise("04.3")
def test_the_title_is_stored_as_typed(app, client):
    """The title goes into the database as the form gives it: Jinja escapes it when a page shows it."""
    from bookshelf.db import db
    from bookshelf.models import Book

    add_book(client, "Tom & Jerry <3")
    with app.app_context():
        titles = db.session.scalars(db.select(Book.title)).all()
    assert titles == ["Tom & Jerry <3"], f"expected the title stored as typed, found {titles}"


@pytest.mark.exercise("04.3")
def test_the_message_shows_the_title_as_text(app, client):
    """A title that holds HTML shows in the flashed message as text, escaped once, never as markup."""
    response = add_book(client, "<em>Piranesi</em>")
    assert response.status_code in (302, 303), f"expected a redirect, got {response.status_code}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    flashes = re.search(r'<ul class="flashes">(.*?)</ul>', page, re.S)
    message = flashes.group(1) if flashes else ""
    assert "&lt;em&gt;Piranesi&lt;/em&gt;" in message and "<em>" not in message, (
        f"expected the title shown as text in the message, found {message!r}"
    )


# 04.4: finding books, on another shelf

OTHER_SHELF = [
    ("The Lathe of Heaven", "Ursula K. Le Guin", 1971),
    ("Dune", "Frank Herbert", 1965),
    ("Herbert West", "H. P. Lovecraft", 1922),
    ("The Iliad", "Homer", -750),
    ("Ender's Game", "Orson Scott Card", 1985),
    ("Lavinia", "Ursula K. Le Guin", 2008),
    ("The Left Hand of Darkness", "Ursula K. Le Guin", 1969),
    ("Dune", "Frank Herbert", 1965),
    ("Gilgamesh", "Anonymous", None),
]


def shelved(app, books=OTHER_SHELF):
    """Add the books; return their ids in the order given."""
    from bookshelf.db import db
    from bookshelf.models import Book

    import importlib

    importlib.import_module("bookshelf.search")
    with app.app_context():
        added = [Book(title=title, author=author, year=year) for title, author, year in books]
        db.session.add_all(added)
        db.session.commit()
        return [book.id for book in added]


def listed(client, ids, **fields):
    """Return the status, the page, and the indexes (in OTHER_SHELF) of the books the page links to, in order."""
    response = client.get("/search", query_string=fields)
    page = response.get_data(as_text=True)
    where = {str(book_id): index for index, book_id in enumerate(ids)}
    links = re.findall(r"""href=["']?(?:https?://[^/"']+)?/books/(\d+)["'\s>]""", page)
    return response.status_code, page, [where[link] for link in dict.fromkeys(links) if link in where]


@pytest.mark.exercise("04.4")
def test_no_criteria_list_the_other_shelf_by_title_then_id(app, client):
    """With no criteria, or an empty form, every book of another shelf is listed by title, two books of one title by id."""
    ids = shelved(app)
    for fields in ({}, {"q": "  ", "year_from": "", "year_to": ""}):
        status, page, found = listed(client, ids, **fields)
        assert status == 200, status
        assert found == [1, 7, 4, 8, 2, 5, 3, 0, 6], f"expected every book by title then id for {fields}, found {found}"


@pytest.mark.exercise("04.4")
@pytest.mark.parametrize(("q", "expected"), [
    ("le guin", [5, 0, 6]), ("herbert", [1, 7, 2]), ("  DARK  ", [6]), ("ender's", [4]), ("HOMER", [3]),
])
def test_other_words_find_books_by_title_or_author(app, client, q, expected):
    """Other words, trimmed and in any case, find the books whose title or author holds them, by title then id."""
    ids = shelved(app)
    status, page, found = listed(client, ids, q=q)
    assert status == 200, status
    assert found == expected, f"expected q={q!r} to find {expected}, found {found}"


@pytest.mark.exercise("04.4")
@pytest.mark.parametrize(("fields", "expected"), [
    ({"year_from": "1969", "year_to": "1971"}, [0, 6]), ({"year_from": "2008"}, [5]), ({"year_to": "-1"}, [3]),
    ({"q": "dune", "year_from": "1965", "year_to": "1965"}, [1, 7]), ({"q": "le guin", "year_to": "1970"}, [6]),
])
def test_other_years_narrow_the_search(app, client, fields, expected):
    """Other ranges of years, bounds included and before the common era too, with or without words."""
    ids = shelved(app)
    status, page, found = listed(client, ids, **fields)
    assert status == 200, status
    assert found == expected, f"expected {fields} to find {expected}, found {found}"


@pytest.mark.exercise("04.4")
@pytest.mark.parametrize("fields", [
    {"year_from": "1975", "year_to": "1974"}, {"q": "\t\u00e9 "}, {"q": "y" * 150}, {"year_from": "12.5"},
    {"year_to": "2101"}, {"year_from": "-99999999999999999999"}, {"q": "dune", "year_from": "2000", "year_to": "1"},
])
def test_other_wrong_searches_show_errors_and_no_book(app, client, fields):
    """Other wrong values, and other years in the wrong order: 200, an error on the page, no book listed."""
    ids = shelved(app)
    status, page, found = listed(client, ids, **fields)
    assert status == 200, f"expected 200 for {fields}, got {status}"
    assert 'class="error"' in page, f"expected an error on the page for {fields}"
    assert found == [], f"expected no book for {fields}, found {found}"


@pytest.mark.exercise("04.4")
@pytest.mark.parametrize("q", ['"; DROP TABLE books; --', "%' OR title LIKE '%", "') OR ('a'='a"])
def test_other_sql_in_the_words_finds_nothing(app, client, q):
    """Other words that would be SQL in a pasted string: 200, no book, and the shelf still whole afterwards."""
    ids = shelved(app)
    status, page, found = listed(client, ids, q=q)
    assert status == 200 and found == [], f"expected 200 and no book for q={q!r}, got {status} and {found}"
    assert len(listed(client, ids)[2]) == len(OTHER_SHELF), "expected every book still on the shelf"


@pytest.mark.exercise("04.4")
def test_other_html_shows_as_text(app, client):
    """Another title with a script, and another q with a tag, show as text on the page."""
    ids = shelved(app, OTHER_SHELF + [("<script>alert(1)</script> Kindred", "Octavia E. Butler", 1979)])
    status, page, found = listed(client, ids, q="kindred")
    assert found == [len(OTHER_SHELF)], f"expected the book with a script in its title found, found {found}"
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page, "expected the title shown as text"
    status, page, found = listed(client, ids, q='"><img src=x onerror=alert(1)>')
    assert status == 200 and "<img src=x" not in page, "expected the words of q shown as text, never as a tag"
