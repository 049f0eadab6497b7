"""Chapter 01: routes, templates, JSON and error pages."""

CORRECT = [
    # its own lookup, and abort() with a description
    ("01.1", 'wanted = next((entry for entry in BOOKS if entry["id"] == book_id), None)\n'
             'if not wanted:\n'
             '    abort(404, description=f"There is no book {book_id}.")\n'
             'return render_template("main/book.html", book=wanted)'),
    # an inline template (still autoescaped) and Werkzeug's exception raised by hand
    ("01.1", 'from flask import render_template_string\n'
             'from werkzeug.exceptions import NotFound\n'
             'found = find_book(book_id)\n'
             'if found is None:\n'
             '    raise NotFound()\n'
             'return render_template_string("<h1>{{ b.title }}</h1><p>by {{ b.author }}</p>", b=found)'),

    # jsonify, and its own JSON 404 instead of abort()
    ("01.2", 'from flask import jsonify\n'
             'found = find_book(book_id)\n'
             'if found is None:\n'
             '    return jsonify(error=f"no book {book_id}"), 404\n'
             'return jsonify(found)'),
    # a dict index built once per request, and a copy of the book
    ("01.2", 'by_id = {entry["id"]: entry for entry in BOOKS}\n'
             'if book_id not in by_id:\n'
             '    abort(404)\n'
             'return dict(by_id[book_id])'),

    # jsonify and the error's own code and description
    ("01.3", 'from flask import jsonify\n'
             'if request.path == "/api" or request.path.startswith("/api/"):\n'
             '    return jsonify(error=error.description), error.code\n'
             'return render_template("errors/404.html"), error.code'),
    # the first path segment, and a response object whose status is set by hand
    ("01.3", 'from flask import make_response\n'
             'if request.path.lstrip("/").partition("/")[0] == "api":\n'
             '    return {"error": str(error)}, 404\n'
             'page = make_response(render_template("errors/404.html"))\n'
             'page.status_code = 404\n'
             'return page'),
]

WRONG = [
    ("01.1", 'return render_template("main/book.html", book=find_book(book_id))'),  # no 404
    ("01.1", 'return f"<h1>{find_book(book_id)[\'title\']}</h1>"'),  # unescaped, no 404
    ("01.2", "return find_book(book_id) or {}"),  # 200 for a missing book
    ("01.2", "return find_book(book_id)"),  # None for a missing book: a 500
    ("01.3", 'return {"error": "not found"}'),  # JSON everywhere, and status 200
    ("01.3", 'return render_template("errors/404.html")'),  # HTML everywhere, and status 200
    # /api/nothing-here matches no route, so no blueprint: it gets the HTML page
    ("01.3", 'if request.blueprint == "api":\n'
             '    return {"error": "not found"}, 404\n'
             'return render_template("errors/404.html"), 404'),
]

HIDDEN = [
    # HTML built by hand, escaped, with the title only: the author is missing
    ("01.1", 'from markupsafe import escape\n'
             'found = find_book(book_id)\n'
             'if found is None:\n'
             '    abort(404)\n'
             'return f"<h1>{escape(found[\'title\'])}</h1>"'),
    # the id taken as a place in the list: right for the given catalog only
    ("01.1", 'if not 1 <= book_id <= len(BOOKS):\n'
             '    abort(404)\n'
             'return render_template("main/book.html", book=BOOKS[book_id - 1])'),

    # only the id and the title: the book's author and year are left out
    ("01.2", 'found = find_book(book_id)\n'
             'if found is None:\n'
             '    abort(404)\n'
             'return {"id": found["id"], "title": found["title"]}'),
    # the id taken as a place in the list: id 0 becomes BOOKS[-1], the last book
    ("01.2", 'try:\n'
             '    return BOOKS[book_id - 1]\n'
             'except IndexError:\n'
             '    abort(404)'),

    # "/api" without its slash: /apiary and /api-docs get JSON too
    ("01.3", 'if request.path.startswith("/api"):\n'
             '    return {"error": "not found"}, 404\n'
             'return render_template("errors/404.html"), 404'),
    # /api/ anywhere in the URL: a page whose query string holds /api/ gets JSON
    ("01.3", 'if "/api/" in request.url:\n'
             '    return {"error": "not found"}, 404\n'
             'return render_template("errors/404.html"), 404'),
]
