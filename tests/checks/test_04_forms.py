"""Checks for chapter 04: a validator of your own, an image recognised by its bytes, the add-book view, and a search."""

import base64
import io
import re

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from workbook.check_fixtures import form_token

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"04.1": 2, "04.2": 2, "04.3": 3, "04.4": 3}
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


# 04.4: finding books (a design exercise: only the URL, the field names, the links and the error class are fixed)

# the shelf the checks search, added in an order that is neither by title nor by year
SHELF = [
    ("Piranesi", "Susanna Clarke", 2020),
    ("Kindred", "Octavia E. Butler", 1979),
    ("The Third Policeman", "Flann O'Brien", 1967),
    ("Parable of the Sower", "Octavia E. Butler", 1993),
    ("Jonathan Strange & Mr Norrell", "Susanna Clarke", 2004),
    ("Beowulf", "Anonymous", None),
]
RESULT_LINK = re.compile(r"""href=["']?(?:https?://[^/"']+)?/books/(\d+)["'\s>]""")


def search_module():
    """Import the learner's bookshelf/search.py: the factory starts without a blank one, a check says it is blank."""
    import importlib

    return importlib.import_module("bookshelf.search")


def shelve(app, books=SHELF):
    """Add the books; return {title: id}."""
    db, Book = learner_book_model()
    with app.app_context():
        added = [Book(title=title, author=author, year=year) for title, author, year in books]
        db.session.add_all(added)
        db.session.commit()
        return {book.title: book.id for book in added}


def search(client, **fields):
    """GET /search with these fields in the URL; return the response and its page."""
    response = client.get("/search", query_string=fields)
    return response, response.get_data(as_text=True)


def found(page, ids):
    """Return the titles the page links to, in the order of the links (a book linked twice counts once)."""
    titles = {str(book_id): title for title, book_id in ids.items()}
    linked = dict.fromkeys(match for match in RESULT_LINK.findall(page) if match in titles)
    return [titles[book_id] for book_id in linked]


def titles_matching(q=None, year_from=None, year_to=None, books=SHELF):
    """The titles a search should find, by title then id (the books' order when titles tie)."""
    return sorted(title for title, author, year in books
                  if (q is None or q.strip().lower() in title.lower() or q.strip().lower() in author.lower())
                  and (year_from is None or (year is not None and year >= year_from))
                  and (year_to is None or (year is not None and year <= year_to)))


@pytest.mark.exercise("04.4")
def test_the_search_page_lists_every_book_by_title_under_a_get_form(app, client):
    """/search answers 200 with a form that sends q, year_from and year_to by GET, and lists every book by title.
    The same holds for the form sent empty (q of spaces only). With no criteria, no book is left out. A form sent by
    GET has no token to check: a FlaskForm needs CSRF off (class Meta) and the fields from request.args, and
    form.validate(), since validate_on_submit() is false on every GET.
    """
    search_module()
    ids = shelve(app)
    response, page = search(client)
    assert response.status_code == 200, f"expected the search page (200) at /search, got {response.status_code}"
    forms = re.findall(r"<form\b[^>]*>", page, re.I)
    assert any(not re.search(r"method\s*=\s*[\"']?post", tag, re.I) for tag in forms), (
        f"expected a <form> sent by GET (method=\"get\", or no method), found {forms or 'no form'}"
    )
    for name in ("q", "year_from", "year_to"):
        assert re.search(rf"""name=["']?{name}["'\s>]""", page), f"expected a field named {name} in the form"
    assert found(page, ids) == titles_matching(), (
        f"expected every book listed, each a link to /books/<id>, by title: {titles_matching()}, found {found(page, ids)}"
    )
    response, page = search(client, q="   ", year_from="", year_to="")
    assert response.status_code == 200 and found(page, ids) == titles_matching(), (
        f"expected the form sent empty (q of spaces only) to list every book too, found {found(page, ids)}"
    )


@pytest.mark.exercise("04.4")
def test_words_find_books_by_title_or_author(app, client):
    """q finds the books whose title or author holds it, ignoring case and the spaces around it, ordered by title.
    Trim q, then ask for the title or the author (either may hold the words), case-insensitively, through the ORM: a
    quote in the words is just a quote when the value goes to the database as a bound parameter.
    """
    search_module()
    ids = shelve(app)
    # a title, an author with spaces around, upper case, a quote, and words in titles and authors
    for q in ("kindred", "  butler ", "CLARKE", "o'brien", "the"):
        response, page = search(client, q=q)
        assert response.status_code == 200, f"expected 200 for q={q!r}, got {response.status_code}"
        assert found(page, ids) == titles_matching(q), (
            f"expected q={q!r} to find {titles_matching(q)}, in this order, found {found(page, ids)}"
        )


@pytest.mark.exercise("04.4")
def test_years_narrow_the_search(app, client):
    """year_from and year_to keep the books of those years, bounds included, and every criterion given must hold.
    A book without a year is outside every range. Each criterion given adds a condition (>= and <=, not > and <).
    """
    search_module()
    ids = shelve(app)
    for fields in ({"year_from": "1990"}, {"year_to": "1979"}, {"year_from": "1979", "year_to": "1993"},
                   {"q": "butler", "year_from": "1980"}, {"q": "clarke", "year_to": "2004", "year_from": "2004"}):
        response, page = search(client, **fields)
        assert response.status_code == 200, f"expected 200 for {fields}, got {response.status_code}"
        expected = titles_matching(fields.get("q"), *(int(fields[key]) if key in fields else None
                                                      for key in ("year_from", "year_to")))
        assert found(page, ids) == expected, (
            f"expected {fields} to find {expected}, in this order, found {found(page, ids)}"
        )


@pytest.mark.exercise("04.4")
def test_a_wrong_search_shows_its_errors_and_no_book(app, client):
    """A wrong value, or year_from after year_to, answers 200 with an error (class="error") on the page, and no book.
    Give each field its rule (2 to 100 characters, whole years from -3000 to 2100) and compare the two years in the
    form; search only when the form is valid. SQLite cannot even compare a number past 64 bits: bound the years.
    """
    search_module()
    ids = shelve(app)
    for fields in ({"year_from": "2000", "year_to": "1990"}, {"q": " K "}, {"q": "x" * 101}, {"year_from": "nineteen"},
                   {"year_to": "99999999999999999999"}, {"year_from": "-3001"}):
        response, page = search(client, **fields)
        assert response.status_code == 200, (
            f"expected the form with its errors (200) for {fields}, got {response.status_code}"
        )
        assert 'class="error"' in page, f"expected an error on the page (an element with class=\"error\") for {fields}"
        assert found(page, ids) == [], f"expected no book listed for {fields}, found {found(page, ids)}"


@pytest.mark.exercise("04.4")
def test_sql_in_the_words_is_only_words(app, client):
    """Words that would be SQL in a pasted string find nothing, and break nothing: no book holds them.
    Let the ORM send the words as a value: an f-string in text() lets them end the string and rewrite the query.
    """
    search_module()
    ids = shelve(app)
    for q in ("' OR '1'='1", "x%' OR 1=1 --"):
        response, page = search(client, q=q)
        assert response.status_code == 200, f"expected 200 for q={q!r}, got {response.status_code}"
        assert found(page, ids) == [], f"expected q={q!r} to find no book, found {found(page, ids)}"


@pytest.mark.exercise("04.4")
def test_titles_and_the_visitors_words_show_as_text(app, client):
    """A title that holds HTML is listed as text, and HTML in q shows as text too, never as markup.
    Let Jinja escape every value the page shows: no |safe, no Markup, no HTML built from strings in Python.
    """
    search_module()
    ids = shelve(app, SHELF + [("<em>Dawn</em> & Adulthood Rites", "Octavia E. Butler", 1987)])
    response, page = search(client, q="dawn")
    assert found(page, ids) == ["<em>Dawn</em> & Adulthood Rites"], f"expected q='dawn' to find Dawn, found {found(page, ids)}"
    assert "&lt;em&gt;Dawn&lt;/em&gt;" in page and "<em>Dawn" not in page, "expected the title shown as text, escaped"
    response, page = search(client, q="<b>Kindred</b>")
    assert response.status_code == 200, f"expected 200, got {response.status_code}"
    assert "<b>Kindred" not in page, "expected the words of q shown as text wherever the page shows them, never as <b>"
