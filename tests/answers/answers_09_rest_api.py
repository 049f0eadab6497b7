"""Chapter 09: the member of a token, reading the bearer header, a page of books, changing a review."""

# what 09.3's answers share once rows, total and pages are known
ENVELOPE = ('kept = {name: arguments[name] for name in ("per_page", "author", "title") if arguments[name]}\n'
            'return ({"items": [book_json(found, reviews) for found, reviews in rows],\n'
            '         "page": page, "per_page": per_page, "total": total, "pages": pages},\n'
            '        200, {"Link": page_links(page, pages, kept)})')
# what 09.4's answers share once the review is found and allowed
SAVE = ('found.rating = ns.payload["rating"]\n'
        'found.text = ns.payload.get("text", "")\n'
        'db.session.commit()\n'
        'return ns.marshal(found, review)')

CORRECT = [
    # filter_by, and the time zone put back by hand
    ("09.1", 'from datetime import timezone\n'
             'stored = db.session.execute(db.select(ApiToken).filter_by(token_hash=digest(token))).scalar_one_or_none()\n'
             'if stored is None:\n'
             '    return None\n'
             'expires = stored.expires_at.replace(tzinfo=stored.expires_at.tzinfo or timezone.utc)\n'
             'return stored.user if expires > utcnow() else None'),
    # the member joined in the query
    ("09.1", 'return db.session.scalar(\n'
             '    db.select(User).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == digest(token))\n'
             '    .where(ApiToken.expires_at > utcnow().replace(tzinfo=None))\n'
             ')'),

    # split on whitespace
    ("09.2", 'parts = request.headers.get("Authorization", "").split()\n'
             'if len(parts) != 2 or parts[0].lower() != "bearer":\n'
             '    refuse("Send your token as: Authorization: Bearer <token>.")\n'
             'member = member_for_token(parts[1])\n'
             'if not member:\n'
             '    refuse("Unknown or expired token.")'),
    # request.authorization, Werkzeug's parsed header
    ("09.2", 'credentials = request.authorization\n'
             'if credentials is None or credentials.type != "bearer" or not credentials.token:\n'
             '    refuse("A bearer token is needed.")\n'
             'member = member_for_token(credentials.token)\n'
             'if member is None:\n'
             '    refuse("This token does not work (unknown, revoked or expired).")'),

    # where() for each filter, a count by func.count over the filtered books
    ("09.3", 'query = select(Book, review_count)\n'
             'counted = select(func.count(Book.id))\n'
             'if arguments["author"]:\n'
             '    query = query.where(Book.author.icontains(arguments["author"], autoescape=True))\n'
             '    counted = counted.where(Book.author.icontains(arguments["author"], autoescape=True))\n'
             'if arguments["title"]:\n'
             '    query = query.where(Book.title.icontains(arguments["title"], autoescape=True))\n'
             '    counted = counted.where(Book.title.icontains(arguments["title"], autoescape=True))\n'
             'total = db.session.scalar(counted)\n'
             'page, per_page = arguments["page"], arguments["per_page"]\n'
             'pages = (total + per_page - 1) // per_page\n'
             'rows = db.session.execute(query.order_by(Book.id).offset((page - 1) * per_page).limit(per_page)).all()\n'
             + ENVELOPE),
    # math.ceil and a list of conditions
    ("09.3", 'import math\n'
             'conditions = [getattr(Book, name).icontains(arguments[name], autoescape=True)\n'
             '              for name in ("author", "title") if arguments[name]]\n'
             'page, per_page = arguments["page"], arguments["per_page"]\n'
             'total = db.session.scalar(select(func.count()).select_from(Book).where(*conditions))\n'
             'pages = math.ceil(total / per_page)\n'
             'rows = db.session.execute(\n'
             '    select(Book, review_count).where(*conditions).order_by(Book.id.asc()).limit(per_page).offset(per_page * (page - 1))\n'
             ').all()\n' + ENVELOPE),

    # the permission asked with allows() and identity_of, abort by hand
    ("09.4", 'from flask import abort, g\n'
             'from .bearer import identity_of\n'
             'found = db.get_or_404(Review, review_id)\n'
             'if not edit_review_permission(found.id).allows(identity_of(g.api_member)):\n'
             '    abort(403)\n' + SAVE),
    # the author compared by hand, the librarian asked by role
    ("09.4", 'from flask import g\n'
             'found = db.session.get(Review, review_id)\n'
             'if found is None:\n'
             '    ns.abort(404, f"No review {review_id}.")\n'
             'if found.user_id != g.api_member.id and not g.api_member.has_role("librarian"):\n'
             '    ns.abort(403, "Not your review.")\n'
             'found.rating, found.text = ns.payload["rating"], ns.payload.get("text", "")\n'
             'db.session.commit()\n'
             'return ns.marshal(found, review), 200'),
]

WRONG = [
    # the token compared with the stored hash as it is: nothing is ever found
    ("09.1", 'found = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == token))\n'
             'return found.user if found else None'),
    # expiry forgotten
    ("09.1", 'found = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == digest(token)))\n'
             'return None if found is None else found.user'),

    # "Bearer " only in that case: bearer and BEARER are refused
    ("09.2", 'header = request.headers.get("Authorization", "")\n'
             'if not header.startswith("Bearer ") or not header[7:].strip():\n'
             '    refuse("Send a bearer token.")\n'
             'member = member_for_token(header[7:].strip())\n'
             'if member is None:\n'
             '    refuse("Unknown token.")'),
    # the session cookie accepted when no token is sent: the API is exempt from CSRF, so another site's page makes a
    # logged-in browser write to it
    ("09.2", 'from flask_login import current_user\n'
             'credentials = request.authorization\n'
             'if credentials is not None and credentials.type == "bearer" and credentials.token:\n'
             '    member = member_for_token(credentials.token)\n'
             'elif current_user.is_authenticated:\n'
             '    member = current_user\n'
             'else:\n'
             '    refuse("Log in, or send a bearer token.")\n'
             'if member is None:\n'
             '    refuse("This token does not work.")'),
    # no header: None goes on to the views, which fail
    ("09.2", 'scheme, _, token = request.headers.get("Authorization", "").partition(" ")\n'
             'member = member_for_token(token.strip()) if scheme.lower() == "bearer" else None'),

    # no ORDER BY: SQLite happens to give the rows by id today, and another database, index or size gives any order
    ("09.3", 'query = select(Book, review_count)\n'
             'for field in ("author", "title"):\n'
             '    if arguments[field]:\n'
             '        query = query.where(getattr(Book, field).icontains(arguments[field], autoescape=True))\n'
             'total = db.session.scalar(select(func.count()).select_from(query.subquery()))\n'
             'page, per_page = arguments["page"], arguments["per_page"]\n'
             'rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()\n'
             'pages = -(-total // per_page)\n' + ENVELOPE),
    # every book at once, no pages
    ("09.3", 'rows = db.session.execute(select(Book, review_count).order_by(Book.id)).all()\n'
             'total, page, per_page, pages = len(rows), 1, len(rows), 1\n' + ENVELOPE),
    # the filters forgotten
    ("09.3", 'query = select(Book, review_count).order_by(Book.id)\n'
             'total = db.session.scalar(select(func.count(Book.id)))\n'
             'page, per_page = arguments["page"], arguments["per_page"]\n'
             'rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()\n'
             'pages = -(-total // per_page)\n' + ENVELOPE),
    # the reviews counted one book at a time: a statement per book (N+1)
    ("09.3", 'query = select(Book).order_by(Book.id)\n'
             'for field in ("author", "title"):\n'
             '    if arguments[field]:\n'
             '        query = query.where(getattr(Book, field).icontains(arguments[field], autoescape=True))\n'
             'total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))\n'
             'page, per_page = arguments["page"], arguments["per_page"]\n'
             'books = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()\n'
             'rows = [(found, len(found.reviews)) for found in books]\n'
             'pages = -(-total // per_page)\n' + ENVELOPE),

    # no permission asked: anyone with a token changes any review
    ("09.4", 'found = db.get_or_404(Review, review_id)\n' + SAVE),
    # the author only: a librarian gets 403
    ("09.4", 'from flask import abort, g\n'
             'found = db.get_or_404(Review, review_id)\n'
             'if found.user_id != g.api_member.id:\n'
             '    abort(403)\n' + SAVE),
]

# half-answers: each fails a hidden test (and, as every wrong answer, a public check of the same rule)
HIDDEN = [
    # expiry from created_at and the lifetime: a token extended by hand still dies
    ("09.1", 'found = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == digest(token)))\n'
             'if found is None or as_utc(found.created_at) + TOKEN_LIFETIME <= utcnow():\n'
             '    return None\n'
             'return found.user'),

    # the session cookie as a second way in: a CSRF hole, since the API is exempt
    ("09.2", 'from flask_login import current_user\n'
             'scheme, _, token = request.headers.get("Authorization", "").partition(" ")\n'
             'if scheme.lower() == "bearer" and token.strip():\n'
             '    member = member_for_token(token.strip())\n'
             'elif current_user.is_authenticated:\n'
             '    member = current_user._get_current_object()\n'
             'else:\n'
             '    refuse("Send a token from POST /api/tokens as: Authorization: Bearer <token>.")\n'
             'if member is None:\n'
             '    refuse("This token is unknown, revoked or expired.")'),

    # in alphabetical order, and one page too many
    ("09.3", 'query = select(Book, review_count).order_by(Book.title)\n'
             'for field in ("author", "title"):\n'
             '    if arguments[field]:\n'
             '        query = query.where(getattr(Book, field).icontains(arguments[field], autoescape=True))\n'
             'total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))\n'
             'page, per_page = arguments["page"], arguments["per_page"]\n'
             'rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()\n'
             'pages = total // per_page + 1\n' + ENVELOPE),

    # every field of the body copied onto the review: a PUT can move it to another member or book
    ("09.4", 'found = db.get_or_404(Review, review_id)\n'
             'require(edit_review_permission(found.id))\n'
             'for name, value in ns.payload.items():\n'
             '    if hasattr(found, name) and name != "id":\n'
             '        setattr(found, name, value)\n'
             'db.session.commit()\n'
             'return ns.marshal(found, review)'),
]
