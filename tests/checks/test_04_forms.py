"""Checks for chapter 04: a validator of your own, an image recognised by its bytes, and the add-book view."""

import base64
import io
import re

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from workbook.check_fixtures import form_token

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"04.1": 2, "04.2": 2, "04.3": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"04.3": ["04.1"]}

ONE_PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(40)
WEBP_START = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + bytes(40)
# more real images: whatever a JPEG's next marker, whatever a WebP's size (any 4 bytes) and its first chunk
MORE_IMAGES = {
    "a JPEG saved by Photoshop (Adobe marker FF EE)": ("jpeg", b"\xff\xd8\xff\xee\x00\x0eAdobe\x00" + bytes(40)),
    "a JPEG with a colour profile (FF E2)": ("jpeg", b"\xff\xd8\xff\xe2\x0c\x58ICC_PROFILE\x00" + bytes(40)),
    "a WebP of 2,570 bytes (size bytes 02 0A 00 00)": ("webp", b"RIFF\x02\x0a\x00\x00WEBPVP8 \xf6\x09\x00\x00" + bytes(40)),
    "a WebP of 200 KB (size bytes 0D 0D 03 00)": ("webp", b"RIFF\x0d\x0d\x03\x00WEBPVP8 \x00\x0d\x03\x00" + bytes(40)),
    "a lossless WebP of 40 KB (VP8L)": ("webp", b"RIFF\x20\xa0\x00\x00WEBPVP8L\x13\xa0\x00\x00\x2f" + bytes(40)),
}
NOT_IMAGES = {
    "text": b"<?php system($_GET['c']); ?>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "gif": b"GIF89a\x01\x00\x01\x00" + bytes(20),
    "wav (RIFF, but not WebP)": b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40),
    "an IFF file (FORM, not RIFF) with WEBP at byte 8": b"FORM\x24\x00\x00\x00WEBPVP8 " + bytes(40),
    "a PNG signature after two bytes of padding": b"\x00\x00" + ONE_PIXEL_PNG,
    "text that names FF D8 FF later on": b"ab\xff\xd8\xff\xe0" + bytes(40),
    "empty": b"",
    "the first 4 bytes of a PNG": ONE_PIXEL_PNG[:4],
    "the first 2 bytes of a JPEG": JPEG_START[:2],
}


# 04.1: web_address

def link_form(*validators):
    """Return a plain WTForms form class whose one field, link, has the learner's validator after the given ones."""
    from wtforms import Form, StringField

    from bookshelf.validators import web_address

    class LinkForm(Form):
        link = StringField(validators=[*validators, web_address])

    return LinkForm


def link_errors(form_class, value):
    form = form_class(MultiDict({"link": value}))
    form.validate()
    return form.link.errors


@pytest.mark.exercise("04.1")
@pytest.mark.parametrize("address", [
    "https://example.com/books/piranesi", "http://example.com", "HTTPS://EXAMPLE.COM/A", "Http://example.com/?q=a#b",
])
def test_web_address_accepts_web_links(app, address):
    """web_address lets http:// and https:// addresses through, in any case.
    Compare the scheme that urlsplit gives (or the start of the address) with http and https, ignoring case.
    """
    errors = link_errors(link_form(), address)
    assert not errors, f"expected {address!r} accepted, your validator said {errors}"


@pytest.mark.exercise("04.1")
@pytest.mark.parametrize("address", [
    "javascript:alert(1)", "JavaScript://example.com/%0Aalert(1)", " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "ftp://example.com/file",
    "tel:+441234567890", "about:blank", "wss://example.com/chat",
    "//evil.example/page", "/books/1", "example.com", "https", "",
])
def test_web_address_refuses_other_schemes(app, address):
    """web_address refuses javascript:, data:, every other scheme, and addresses without one.
    The rule is an allow-list: http and https pass, anything else is refused. A list of schemes to refuse always
    misses one (there are hundreds); raise wtforms.validators.ValidationError unless the scheme is http or https.
    """
    errors = link_errors(link_form(), address)
    assert errors, f"expected {address!r} refused with a message, your validator accepted it"


@pytest.mark.exercise("04.1")
@pytest.mark.parametrize("address", ["http://[::1", "https://[example.com/x"])
def test_web_address_survives_malformed_addresses(app, address):
    """A malformed address gets a message, not an exception: validators all run, so yours meets what URL() refused.
    urlsplit raises ValueError for an open [ in the host: catch it and refuse the address.
    """
    from wtforms.validators import URL

    errors = link_errors(link_form(URL()), address)
    assert errors, f"expected {address!r} refused with a message, the form accepted it"


# 04.2: image_type

@pytest.mark.exercise("04.2")
@pytest.mark.parametrize(("kind", "data"), [("png", ONE_PIXEL_PNG), ("jpeg", JPEG_START), ("webp", WEBP_START)])
def test_image_type_names_images_and_rewinds(app, kind, data):
    """image_type names a PNG, a JPEG and a WebP image by their first bytes, and leaves the stream at its start.
    Read a few bytes, compare their start with each signature, and seek(0) before returning.
    """
    from bookshelf.covers import image_type

    stream = io.BytesIO(data)
    found = image_type(stream)
    assert found == kind, f"expected {kind!r} for a {kind.upper()} file, got {found!r}"
    assert stream.tell() == 0, f"expected the stream back at its start, it is at byte {stream.tell()}: call stream.seek(0)"


@pytest.mark.exercise("04.2")
@pytest.mark.parametrize("name", list(MORE_IMAGES))
def test_image_type_names_every_kind_of_each_image(app, name):
    """Every JPEG and every WebP is named, not only the kind the examples show.
    A signature is the bytes every file of the kind shares, and nothing more: FF D8 FF for a JPEG, whatever marker
    follows; RIFF at byte 0 and WEBP at byte 8 for a WebP, whatever the four bytes of size between them (any value,
    a newline's included) and whatever chunk comes next.
    """
    from bookshelf.covers import image_type

    kind, data = MORE_IMAGES[name]
    stream = io.BytesIO(data)
    found = image_type(stream)
    assert found == kind, f"expected {kind!r} for {name}, got {found!r}"
    assert stream.tell() == 0, f"expected the stream back at its start, it is at byte {stream.tell()}"


@pytest.mark.exercise("04.2")
@pytest.mark.parametrize("name", list(NOT_IMAGES))
def test_image_type_refuses_other_files(app, name):
    """Anything else is not an image: text, SVG, GIF, WAV (RIFF too), signatures out of place, empty or cut-short files.
    Return None when no signature matches. A signature counts only at its place: RIFF at byte 0 and WEBP at bytes 8 to
    12 (not any RIFF file, nor WEBP after something else), PNG and JPEG at byte 0.
    """
    from bookshelf.covers import image_type

    stream = io.BytesIO(NOT_IMAGES[name])
    found = image_type(stream)
    assert found is None, f"expected None for {name}, got {found!r}"
    assert stream.tell() == 0, f"expected the stream back at its start, it is at byte {stream.tell()}"


@pytest.mark.exercise("04.2")
@pytest.mark.parametrize(("filename", "data", "accepted"), [
    ("cover.png", ONE_PIXEL_PNG, True),
    ("Cover.JPG", JPEG_START, True),
    ("evil.php.png", NOT_IMAGES["text"], False),
    ("notes.png", b"just some text", False),
    ("shell.php", ONE_PIXEL_PNG, False),
])
def test_cover_form_judges_the_bytes(app, filename, data, accepted):
    """The cover form accepts an image with an image's name, and refuses text named .png and a .php file.
    CoverForm runs FileAllowed on the name, then image_file, which calls your image_type on the bytes.
    """
    from bookshelf.covers import CoverForm

    upload = FileStorage(io.BytesIO(data), filename=filename, content_type="image/png")
    with app.test_request_context(method="POST", data={"cover": upload}):
        form = CoverForm(meta={"csrf": False})
        valid = form.validate()
    assert valid == accepted, (
        f"expected {filename} with {'an image' if accepted else 'no image'} inside to be "
        f"{'accepted' if accepted else 'refused'}; the form said {form.errors or 'nothing'}"
    )


# 04.3: the add-book view

def learner_book_model():
    from bookshelf.db import db
    from bookshelf.models import Book

    return db, Book


def books_titled(app, title):
    db, Book = learner_book_model()
    with app.app_context():
        return db.session.scalars(db.select(Book).where(Book.title == title)).all()


def count_books(app):
    db, Book = learner_book_model()
    with app.app_context():
        return len(db.session.scalars(db.select(Book)).all())


GOOD_BOOK = {"title": "  Piranesi  ", "author": "Susanna Clarke", "year": "2020", "link": "https://example.com/piranesi"}


@pytest.mark.exercise("04.3")
def test_add_book_redirects_to_its_page_with_a_message(app, client):
    """A valid new book is saved, and the answer is a redirect to its page, which flashes a message naming it.
    After db.session.commit(), flash(...) a message with the title, then return redirect(url_for("main.book", book_id=...)).
    """
    response = client.post("/books/new", data={**GOOD_BOOK, "csrf_token": form_token(client, "/books/new")})
    assert response.status_code in (302, 303), (
        f"expected a redirect after the form is accepted (post/redirect/get), got {response.status_code}"
    )
    saved = books_titled(app, "Piranesi")
    assert len(saved) == 1, "expected one book titled 'Piranesi' saved (spaces around the title removed), found " \
        f"{len(saved)}: was it added and committed?"
    book = saved[0]
    assert (book.author, book.year, book.link) == ("Susanna Clarke", 2020, "https://example.com/piranesi"), (
        f"expected author, year and link saved from the form, found {(book.author, book.year, book.link)}"
    )
    assert response.headers["Location"].endswith(f"/books/{book.id}"), (
        f"expected the redirect to go to the book's page /books/{book.id}, it goes to {response.headers['Location']}"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    flashes = re.search(r'<ul class="flashes">(.*?)</ul>', page, re.S)
    assert flashes and "Piranesi" in flashes.group(1), "expected the book's page to flash a message naming 'Piranesi'"


@pytest.mark.exercise("04.3")
def test_a_title_with_html_is_stored_as_typed_and_flashed_as_text(app, client):
    """A title that holds HTML is stored as typed, and the flashed message shows it as text, never as markup.
    Store what the form gives and put the title in the message as plain text: Jinja escapes it once, when the page
    shows it. Escaping it yourself stores &lt; (and shows it escaped twice); Markup lets the title's tags run.
    """
    title = "<b>Kindred</b> & Dawn"
    data = {"title": title, "author": "Octavia E. Butler", "year": "", "link": "",
            "csrf_token": form_token(client, "/books/new")}
    response = client.post("/books/new", data=data)
    assert response.status_code in (302, 303), f"expected a redirect, got {response.status_code}"
    db, Book = learner_book_model()
    with app.app_context():
        titles = db.session.scalars(db.select(Book.title)).all()
    assert titles == [title], f"expected the title stored as typed, {title!r}, found {titles}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    flashes = re.search(r'<ul class="flashes">(.*?)</ul>', page, re.S)
    message = flashes.group(1) if flashes else ""
    assert "&lt;b&gt;Kindred&lt;/b&gt; &amp; Dawn" in message and "<b>" not in message, (
        f"expected the title shown as text in the message, escaped once, found {message.strip()!r}"
    )


@pytest.mark.exercise("04.3")
def test_add_book_without_link_stores_none(app, client):
    """A book without year or link is saved with both empty (None), not an empty string.
    The form gives "" for an empty link: store form.link.data or None.
    """
    data = {"title": "Kindred", "author": "Octavia E. Butler", "year": "", "link": "",
            "csrf_token": form_token(client, "/books/new")}
    response = client.post("/books/new", data=data)
    assert response.status_code in (302, 303), f"expected a redirect, got {response.status_code}"
    saved = books_titled(app, "Kindred")
    assert saved and saved[0].link is None and saved[0].year is None, (
        f"expected the book saved with link None and year None, found {[(b.link, b.year) for b in saved]}"
    )


@pytest.mark.exercise("04.3")
@pytest.mark.parametrize(("field", "value", "reason"), [
    ("title", "   ", "an empty title"),
    ("author", "x" * 121, "an author of 121 characters"),
    ("year", "nineteen", "a year that is not a number"),
    ("link", "javascript:alert(1)", "a javascript: link"),
])
def test_add_book_with_errors_shows_the_form_again(app, client, field, value, reason):
    """A form with a wrong value is shown again with its errors (200), and adds no book.
    Only when form.validate_on_submit() is true may the view add the book; otherwise it renders the form.
    """
    data = {**GOOD_BOOK, field: value, "csrf_token": form_token(client, "/books/new")}
    response = client.post("/books/new", data=data)
    assert response.status_code == 200, f"expected the form shown again (200) for {reason}, got {response.status_code}"
    assert 'class="error"' in response.get_data(as_text=True), f"expected an error message on the page for {reason}"
    assert count_books(app) == 0, f"expected no book added for {reason}, found {count_books(app)}"


@pytest.mark.exercise("04.3")
@pytest.mark.parametrize("token", [None, "garbage"])
def test_add_book_without_a_valid_token_is_refused(app, client, token):
    """A POST without the page's CSRF token, or with a made-up one, is refused with 400 and adds nothing.
    CSRFProtect does this for you once the factory calls csrf.init_app(app): run the factory's cell.
    """
    client.get("/books/new")
    data = dict(GOOD_BOOK) | ({"csrf_token": token} if token else {})
    response = client.post("/books/new", data=data)
    assert response.status_code == 400, f"expected 400 for a POST with {'no' if token is None else 'a made-up'} token, " \
        f"got {response.status_code}"
    assert count_books(app) == 0, "expected no book added"


@pytest.mark.exercise("04.3")
def test_token_of_another_session_is_refused(app, client):
    """A token taken from another visitor's page is refused with 400: tokens belong to a session.
    CSRFProtect does this for you once the factory calls csrf.init_app(app).
    """
    stolen = form_token(app.test_client(), "/books/new")
    client.get("/books/new")
    response = client.post("/books/new", data={**GOOD_BOOK, "csrf_token": stolen})
    assert response.status_code == 400, f"expected 400 for another session's token, got {response.status_code}"
    assert count_books(app) == 0, "expected no book added"
