"""Chapter 04: a validator of your own, an image recognised by its bytes, the add-book view, and a search page."""

CORRECT = [
    # the start of the address, without urlsplit
    ("04.1", 'if not field.data.lower().startswith(("http://", "https://")):\n'
             '    raise ValidationError("Only web links (http or https) are allowed.")'),
    # urlparse, an allow-list set, and a StopValidation that also ends the chain
    ("04.1", 'from urllib.parse import urlparse\n'
             'from wtforms.validators import StopValidation\n'
             'try:\n'
             '    parts = urlparse(field.data)\n'
             'except ValueError:\n'
             '    raise StopValidation("This address is malformed.")\n'
             'if parts.scheme.casefold() not in {"http", "https"} or not parts.netloc:\n'
             '    raise StopValidation("Links must start with http:// or https://.")'),

    # a table of signatures, the stream read whole and rewound
    ("04.2", 'start = stream.read()\n'
             'stream.seek(0)\n'
             'for signature, kind in ((b"\\x89PNG\\r\\n\\x1a\\n", "png"), (b"\\xff\\xd8\\xff", "jpeg")):\n'
             '    if start[:len(signature)] == signature:\n'
             '        return kind\n'
             'if start[:4] == b"RIFF" and start[8:12] == b"WEBP":\n'
             '    return "webp"'),
    # the position remembered and restored in a finally, with bytes.hex() comparisons
    ("04.2", 'position = stream.tell()\n'
             'try:\n'
             '    head = stream.read(16)\n'
             'finally:\n'
             '    stream.seek(position)\n'
             'if head.hex().startswith("89504e470d0a1a0a"):\n'
             '    return "png"\n'
             'if head.hex().startswith("ffd8ff"):\n'
             '    return "jpeg"\n'
             'if len(head) >= 12 and head[0:4] + head[8:12] == b"RIFFWEBP":\n'
             '    return "webp"\n'
             'return None'),

    # populate_obj fills the book from the form, then the empty link is put right
    ("04.3", 'if form.validate_on_submit():\n'
             '    new_book = Book()\n'
             '    form.populate_obj(new_book)\n'
             '    new_book.link = new_book.link or None\n'
             '    db.session.add(new_book)\n'
             '    db.session.commit()\n'
             '    flash(f"{new_book.title} is on the shelf now.", "success")\n'
             '    return redirect(url_for("main.book", book_id=new_book.id), code=303)'),
    # an early return for the GET and the invalid form, then the work
    ("04.3", 'if not form.validate_on_submit():\n'
             '    return render_template("books/add.html", form=form)\n'
             'data = form.data\n'
             'book = Book(title=data["title"], author=data["author"], year=data["year"], link=data["link"] or None)\n'
             'db.session.add(book)\n'
             'db.session.flush()  # gives the book its id before the commit\n'
             'book_id = book.id\n'
             'db.session.commit()\n'
             'flash("Thank you: " + book.title + " was added.")\n'
             'return redirect(f"/books/{book_id}")'),
]

WRONG = [
    # a blocklist: data:, vbscript: and relative addresses get through
    ("04.1", 'if field.data.lower().startswith("javascript:"):\n'
             '    raise ValidationError("No javascript: links.")'),
    # "http" anywhere in the scheme: "javascript:" refused, but "httpx:" or "ftp:" pass, and so does no scheme
    ("04.1", 'scheme = field.data.split(":", 1)[0].lower()\n'
             'if "javascript" in scheme or "data" in scheme:\n'
             '    raise ValidationError("That kind of link is not allowed.")'),
    # urlsplit without a guard: a malformed address raises ValueError, a 500 in the app
    ("04.1", 'if urlsplit(field.data).scheme.lower() not in ("http", "https"):\n'
             '    raise ValidationError("Give an http or https address.")'),

    # the stream left at byte 8: every stored image loses its signature
    ("04.2", 'head = stream.read(8)\n'
             'if head == b"\\x89PNG\\r\\n\\x1a\\n":\n'
             '    return "png"\n'
             'if head[:3] == b"\\xff\\xd8\\xff":\n'
             '    return "jpeg"\n'
             'if head[:4] == b"RIFF":\n'
             '    return "webp"'),
    # the WebP signature as a pattern, "RIFF....WEBP": a bytes pattern's "." matches any byte but a newline, so a
    # real WebP whose size holds the byte 0A (2,570 bytes, 200 KB, ...) is refused
    ("04.2", 'head = stream.read(12)\n'
             'stream.seek(0)\n'
             'if head.startswith(b"\\x89PNG\\r\\n\\x1a\\n"):\n'
             '    return "png"\n'
             'if head.startswith(b"\\xff\\xd8\\xff"):\n'
             '    return "jpeg"\n'
             'if re.match(rb"RIFF....WEBP", head):\n'
             '    return "webp"\n'
             'return None'),
    # any RIFF file is taken for WebP: a WAV or AVI file would be kept as an image
    ("04.2", 'head = stream.read(12)\n'
             'stream.seek(0)\n'
             'if head.startswith(b"\\x89PNG"):\n'
             '    return "png"\n'
             'if head.startswith(b"\\xff\\xd8"):\n'
             '    return "jpeg"\n'
             'if head.startswith(b"RIFF"):\n'
             '    return "webp"\n'
             'return None'),

    # the page rendered after the POST: reloading it sends the form again
    ("04.3", 'if form.validate_on_submit():\n'
             '    book = Book(title=form.title.data, author=form.author.data, year=form.year.data, link=form.link.data or None)\n'
             '    db.session.add(book)\n'
             '    db.session.commit()\n'
             '    flash(f"Added {book.title}.")\n'
             '    return render_template("main/book.html", book=book)'),
    # the values read raw from request.form: the form's strip filter changes only form.title.data,
    # so the title keeps its spaces
    ("04.3", 'from flask import request\n'
             'if request.method == "POST" and form.validate():\n'
             '    book = Book(title=request.form["title"], author=request.form["author"],\n'
             '                year=form.year.data, link=request.form.get("link") or None)\n'
             '    db.session.add(book)\n'
             '    db.session.commit()\n'
             '    flash(f"Added {book.title}.")\n'
             '    return redirect(url_for("main.book", book_id=book.id))'),
    # the empty link stored as "": the book page shows a link to nowhere
    ("04.3", 'if form.validate_on_submit():\n'
             '    book = Book(title=form.title.data, author=form.author.data, year=form.year.data, link=form.link.data)\n'
             '    db.session.add(book)\n'
             '    db.session.commit()\n'
             '    flash(f"Added {book.title}.")\n'
             '    return redirect(url_for("main.book", book_id=book.id))'),
]

# half-answers: each fails a hidden test (and, as every wrong answer, a public check of the same rule)
HIDDEN = [
    # a blocklist of the schemes a tutorial warns about: file:, blob:, mailto:, tel: and every other get through
    ("04.1", 'try:\n'
             '    scheme = urlsplit(field.data).scheme.lower()\n'
             'except ValueError:\n'
             '    raise ValidationError("This address is malformed.")\n'
             'if scheme in ("", "javascript", "data", "vbscript", "ftp"):\n'
             '    raise ValidationError("Give an http or https address.")'),

    # JPEG taken as FF D8 FF E0, as a hex dump of one JFIF file shows: a camera's Exif JPEG (FF E1) is refused
    ("04.2", 'head = stream.read(12)\n'
             'stream.seek(0)\n'
             'if head.startswith(b"\\x89PNG\\r\\n\\x1a\\n"):\n'
             '    return "png"\n'
             'if head.startswith(b"\\xff\\xd8\\xff\\xe0"):\n'
             '    return "jpeg"\n'
             'if head.startswith(b"RIFF") and head[8:12] == b"WEBP":\n'
             '    return "webp"\n'
             'return None'),
    # WEBP at bytes 8 to 12 and nothing else: any file with those four bytes there passes for an image
    ("04.2", 'head = stream.read(12)\n'
             'stream.seek(0)\n'
             'if head.startswith(b"\\x89PNG\\r\\n\\x1a\\n"):\n'
             '    return "png"\n'
             'if head.startswith(b"\\xff\\xd8\\xff"):\n'
             '    return "jpeg"\n'
             'if head[8:12] == b"WEBP":\n'
             '    return "webp"\n'
             'return None'),

    # the title escaped before it is stored: the database holds &lt;, and the page shows it escaped twice
    ("04.3", 'from markupsafe import escape\n'
             'if form.validate_on_submit():\n'
             '    book = Book(title=str(escape(form.title.data)), author=form.author.data, year=form.year.data,\n'
             '                link=form.link.data or None)\n'
             '    db.session.add(book)\n'
             '    db.session.commit()\n'
             '    flash(f"Added {book.title}.")\n'
             '    return redirect(url_for("main.book", book_id=book.id))'),
    # the title in italics through Markup: the title is markup too, and a <script> in it runs on the page
    ("04.3", 'from markupsafe import Markup\n'
             'if form.validate_on_submit():\n'
             '    book = Book(title=form.title.data, author=form.author.data, year=form.year.data, link=form.link.data or None)\n'
             '    db.session.add(book)\n'
             '    db.session.commit()\n'
             '    flash(Markup(f"Added <em>{book.title}</em>."))\n'
             '    return redirect(url_for("main.book", book_id=book.id))'),
]


# 04.4 is a design exercise: an answer is the whole module bookshelf/search.py (its docstring and bp are given)
SEARCH = "bookshelf/search.py"

# what the answers built with searching() share: the page, in a string, with each field's errors as class="error"
SEARCH_PAGE = '''PAGE = """{% extends "base.html" %}{% block content %}
<form method="get">
  {% for field in form %}{{ field.label }} {{ field() }}
    {% for error in field.errors %}<p class="error">{{ error }}</p>{% endfor %}
  {% endfor %}
  <button>Search</button>
</form>
{% if books is not none %}<ul>
  {% for book in books %}<li><a href="{{ url_for('main.book', book_id=book.id) }}">{{ book.title }}</a>, {{ book.author }}</li>{% endfor %}
</ul>{% endif %}
{% endblock %}"""
'''

# the form of those answers: a Form with CSRF off, a rule per field, and the two years compared
SEARCH_FORM = '''class SearchForm(Form):
    class Meta:
        csrf = False

    q = StringField("Words", filters=[strip], validators=[Optional(), Length(min=2, max=100)])
    year_from = IntegerField("From", validators=[Optional(), NumberRange(min=-3000, max=2100)])
    year_to = IntegerField("To", validators=[Optional(), NumberRange(min=-3000, max=2100)])

    def validate_year_to(self, field):
        if self.year_from.data is not None and field.data is not None and self.year_from.data > field.data:
            raise ValidationError("The range ends before it starts.")
'''

# the view of those answers: the form from the URL, one where() per criterion, by title then id
SEARCH_VIEW = '''@bp.get("/search")
def search():
    form = SearchForm(request.args)
    books = None
    if form.validate():
        statement = db.select(Book).order_by(Book.title, Book.id)
        if form.q.data:
            statement = statement.where(or_(Book.title.icontains(form.q.data), Book.author.icontains(form.q.data)))
        if form.year_from.data is not None:
            statement = statement.where(Book.year >= form.year_from.data)
        if form.year_to.data is not None:
            statement = statement.where(Book.year <= form.year_to.data)
        books = db.session.scalars(statement).all()
    return render_template_string(PAGE, form=form, books=books)'''


def searching(page=SEARCH_PAGE, form=SEARCH_FORM, view=SEARCH_VIEW):
    """Return a module of 04.4 from its page, form and view (each as above unless given)."""
    return {SEARCH: 'from flask import render_template_string, request\n'
                    'from markupsafe import Markup\n'
                    'from sqlalchemy import or_, text\n'
                    'from wtforms import IntegerField, StringField\n'
                    'from wtforms.validators import Length, NumberRange, Optional, ValidationError\n'
                    '\n'
                    'from .db import db\n'
                    'from .forms import Form, strip\n'
                    'from .models import Book\n'
                    '\n' + page + '\n\n' + form + '\n\n' + view}


CORRECT += [
    # a FlaskForm given the URL's fields and CSRF off by argument, a validate() of its own for the two years,
    # lower() on both sides, and a whole page of its own, errors listed above the form
    ("04.4", {SEARCH: '''from flask import render_template_string, request
from flask_wtf import FlaskForm
from sqlalchemy import func
from wtforms import IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from .db import db
from .models import Book

YEARS = NumberRange(min=-3000, max=2100, message="A year from -3000 to 2100, please.")


class BookSearch(FlaskForm):
    q = StringField(filters=[lambda text: text.strip() if text else text], validators=[Optional(), Length(2, 100)])
    year_from = IntegerField(validators=[Optional(), YEARS])
    year_to = IntegerField(validators=[Optional(), YEARS])

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if None not in (self.year_from.data, self.year_to.data) and self.year_from.data > self.year_to.data:
            self.form_errors.append("The first year comes after the last.")
            return False
        return True


@bp.route("/search")
def find_books():
    form = BookSearch(formdata=request.args, meta={"csrf": False})
    results = []
    if form.validate():
        query = db.select(Book)
        if form.q.data:
            pattern = f"%{form.q.data.lower()}%"
            query = query.filter((func.lower(Book.title).like(pattern)) | (func.lower(Book.author).like(pattern)))
        if form.year_from.data is not None:
            query = query.filter(Book.year >= form.year_from.data)
        if form.year_to.data is not None:
            query = query.filter(Book.year <= form.year_to.data)
        results = db.session.execute(query.order_by(Book.title.asc(), Book.id.asc())).scalars().all()
    return render_template_string("""<!doctype html><title>Search</title>
<ul>{% for message in form.form_errors %}<li class="error">{{ message }}</li>{% endfor %}
{% for name, messages in form.errors.items() if name %}{% for message in messages %}
<li class="error">{{ name }}: {{ message }}</li>{% endfor %}{% endfor %}</ul>
<form action="/search">
<input name="q" value="{{ form.q.data or '' }}">
<input name="year_from" value="{{ request.args.year_from }}"> <input name="year_to" value="{{ request.args.year_to }}">
<input type="submit" value="Find"></form>
<table>{% for book in results %}<tr><td><a href="/books/{{ book.id }}">{{ book.title }}</a></td>
<td>{{ book.author }}</td><td>{{ book.year or "" }}</td></tr>{% endfor %}</table>""", form=form, results=results)'''}),
    # a plain WTForms form (it has no CSRF at all) built from request.args, the years compared by a validator
    # function, the conditions gathered in a list, and a class-based view
    ("04.4", {SEARCH: '''from flask import render_template_string, request
from flask.views import View
from sqlalchemy import and_, or_, select
from wtforms import Form, IntegerField, SearchField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from .db import db
from .models import Book


def not_before(other):
    def check(form, field):
        start = form[other].data
        if start is not None and field.data is not None and field.data < start:
            raise ValidationError(f"Give a year from {start} on.")
    return check


def trimmed(value):
    return value.strip() if isinstance(value, str) else value


class Criteria(Form):
    q = SearchField("Title or author", [Optional(), Length(min=2, max=100)], filters=[trimmed])
    year_from = IntegerField("From", [Optional(), NumberRange(-3000, 2100)])
    year_to = IntegerField("To", [Optional(), NumberRange(-3000, 2100), not_before("year_from")])

    def conditions(self):
        found = []
        if self.q.data:
            found.append(or_(Book.title.ilike(f"%{self.q.data}%"), Book.author.ilike(f"%{self.q.data}%")))
        if self.year_from.data is not None:
            found.append(Book.year >= self.year_from.data)
        if self.year_to.data is not None:
            found.append(Book.year <= self.year_to.data)
        return found


PAGE = """{% extends "base.html" %}
{% from "_form.html" import field %}
{% block title %}Search{% endblock %}
{% block content %}
<form method="GET" action="{{ url_for('search.books') }}">{{ field(form.q) }} {{ field(form.year_from) }}
{{ field(form.year_to) }}<button>Go</button></form>
{% if form.errors %}<p>Nothing searched: put the fields right.</p>
{% else %}<ol>{% for book in books %}<li><a href="{{ url_for('main.book', book_id=book.id) }}">{{ book.title }}</a>
({{ book.author }})</li>{% else %}<li>No book found.</li>{% endfor %}</ol>{% endif %}
{% endblock %}"""


class BookSearch(View):
    def dispatch_request(self):
        form = Criteria(request.args)
        books = []
        if form.validate():
            statement = select(Book).where(and_(True, *form.conditions())).order_by(Book.title, Book.id)
            books = db.session.scalars(statement).all()
        return render_template_string(PAGE, form=form, books=books)


bp.add_url_rule("/search", view_func=BookSearch.as_view("books"))'''}),
]

WRONG += [
    # the two years never compared: year_from after year_to finds nothing, and says nothing
    ("04.4", searching(form=SEARCH_FORM.split("\n    def validate_year_to")[0])),
    # a search only when words are given: the first visit, and a search by years alone, list nothing
    ("04.4", searching(view=SEARCH_VIEW.replace("    if form.validate():\n", "    if form.validate() and form.q.data:\n"))),
    # the title only: the author's name finds nothing
    ("04.4", searching(view=SEARCH_VIEW.replace(
        "or_(Book.title.icontains(form.q.data), Book.author.icontains(form.q.data))", "Book.title.icontains(form.q.data)"))),
    # the list built in Python and passed as Markup: a title's tags are markup on the page
    ("04.4", searching(
        page=SEARCH_PAGE.replace(
            "{% if books is not none %}<ul>\n  {% for book in books %}<li><a href=\"{{ url_for('main.book', book_id=book.id) }}\">"
            "{{ book.title }}</a>, {{ book.author }}</li>{% endfor %}\n</ul>{% endif %}", "{{ listing }}"),
        view=SEARCH_VIEW.replace(
            "    return render_template_string(PAGE, form=form, books=books)",
            "    listing = Markup(\"<ul>\" + \"\".join(f'<li><a href=\"/books/{book.id}\">{book.title}</a></li>' for book in books or [])"
            " + \"</ul>\")\n"
            "    return render_template_string(PAGE, form=form, listing=listing)"))),
    # Bookshelf's Form as it is, CSRF on: a GET brings no token, so every search is an error
    ("04.4", searching(form=SEARCH_FORM.replace("    class Meta:\n        csrf = False\n\n", ""))),
    # the words pasted into SQL: a quote ends the string, and "' OR '1'='1" lists every book
    ("04.4", searching(view='''@bp.get("/search")
def search():
    form = SearchForm(request.args)
    books = None
    if form.validate():
        sql = "SELECT id FROM books WHERE 1 = 1"
        if form.q.data:
            sql += f" AND (title LIKE '%{form.q.data}%' OR author LIKE '%{form.q.data}%')"
        if form.year_from.data is not None:
            sql += f" AND year >= {form.year_from.data}"
        if form.year_to.data is not None:
            sql += f" AND year <= {form.year_to.data}"
        ids = db.session.scalars(text(sql + " ORDER BY title, id")).all()
        books = [db.session.get(Book, book_id) for book_id in ids]
    return render_template_string(PAGE, form=form, books=books)''')),
    # the form built as for a POST: on a GET it reads nothing, so every search lists every book
    ("04.4", searching(view=SEARCH_VIEW.replace("form = SearchForm(request.args)", "form = SearchForm()"))),
]

HIDDEN += [
    # the words not trimmed: "  butler " finds nothing, and " K " passes for two letters
    ("04.4", searching(form=SEARCH_FORM.replace('StringField("Words", filters=[strip], ', 'StringField("Words", '))),
    # the bounds left out: > and < where the years given should count
    ("04.4", searching(view=SEARCH_VIEW.replace("Book.year >= ", "Book.year > ").replace("Book.year <= ", "Book.year < "))),
    # the years not bounded: 2101 is taken, and a number past 64 bits reaches SQLite, an OverflowError
    ("04.4", searching(form=SEARCH_FORM.replace(", NumberRange(min=-3000, max=2100)", ""))),
    # the title marked safe, to keep the <em> of a title such as "<em>Dawn</em>"
    ("04.4", searching(page=SEARCH_PAGE.replace("{{ book.title }}", "{{ book.title|safe }}"))),
    # the visitor's words shown back as markup, above the results
    ("04.4", searching(page=SEARCH_PAGE.replace('<form method="get">', '<p>You searched for {{ form.q.data|safe }}</p>\n<form method="get">'))),
    # the ORM around a condition pasted into SQL: text() in where() takes the words as SQL
    ("04.4", searching(view=SEARCH_VIEW.replace(
        "statement.where(or_(Book.title.icontains(form.q.data), Book.author.icontains(form.q.data)))",
        "statement.where(text(f\"title LIKE '%{form.q.data}%' OR author LIKE '%{form.q.data}%'\"))"))),
    # no order: the books come as the database keeps them, in the order they were added
    ("04.4", searching(view=SEARCH_VIEW.replace(".order_by(Book.title, Book.id)", ""))),
]
