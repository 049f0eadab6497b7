"""Chapter 04: a validator of your own, an image recognised by its bytes, and the add-book view."""

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
