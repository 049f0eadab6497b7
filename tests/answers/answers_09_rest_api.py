"""Chapter 09: the member of a token, reading the bearer header, a page of books, changing a review, and a member's
reviews page by page."""

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

# 09.5 is a design exercise: an answer is the whole module bookshelf/api/member_reviews.py (its docstring and ns are
# given)
MEMBER_REVIEWS = "bookshelf/api/member_reviews.py"

# a plain answer that the wrong and half answers change in one place each: reqparse, a query with limit and offset,
# and a dict built by hand
PLAIN = ('from flask_restx import Resource, inputs, reqparse\n'
         'from sqlalchemy import func, select\n'
         '\n'
         'from ..db import db\n'
         'from ..models import Review, User\n'
         '\n'
         'arguments = reqparse.RequestParser()\n'
         'arguments.add_argument("page", type=inputs.int_range(1, 10**6), default=1, location="args")\n'
         'arguments.add_argument("per_page", type=inputs.int_range(1, 100), default=20, location="args")\n'
         '\n'
         '\n'
         '@ns.route("/<int:member_id>/reviews")\n'
         'class Reviews(Resource):\n'
         '    @ns.expect(arguments)\n'
         '    def get(self, member_id):\n'
         '        """List a member\'s reviews, newest first."""\n'
         '        asked = arguments.parse_args()\n'
         '        member = db.get_or_404(User, member_id)\n'
         '        page, per_page = asked["page"], asked["per_page"]\n'
         '        statement = select(Review).where(Review.user_id == member.id)\n'
         '        total = db.session.scalar(select(func.count()).select_from(statement.subquery()))\n'
         '        rows = db.session.scalars(statement.order_by(Review.created_at.desc(), Review.id.desc())\n'
         '                                  .limit(per_page).offset((page - 1) * per_page))\n'
         '        return {"items": [{"id": r.id, "book_id": r.book_id, "rating": r.rating, "text": r.text} for r in rows],\n'
         '                "page": page, "per_page": per_page, "total": total, "pages": -(-total // per_page)}')


def plain(*changes):
    """Return an answer of 09.5: PLAIN with each (old, new) change made, each old text found once."""
    text = PLAIN
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return {MEMBER_REVIEWS: text}


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
    # db.paginate on a statement, the arguments by reqparse, the items as dicts by hand
    ("09.5", {MEMBER_REVIEWS: 'from flask_restx import Resource, inputs, reqparse\n'
                              '\n'
                              'from ..db import db\n'
                              'from ..models import Review, User\n'
                              '\n'
                              'paging = reqparse.RequestParser()\n'
                              'paging.add_argument("page", type=inputs.positive, default=1, location="args")\n'
                              'paging.add_argument("per_page", type=inputs.int_range(1, 100), default=20, location="args")\n'
                              '\n'
                              '\n'
                              'def shown(review):\n'
                              '    return {"id": review.id, "book_id": review.book_id, "rating": review.rating,\n'
                              '            "text": review.text, "created_at": review.created_at.isoformat()}\n'
                              '\n'
                              '\n'
                              '@ns.route("/<int:member_id>/reviews")\n'
                              'class ReviewsOfAMember(Resource):\n'
                              '    @ns.expect(paging)\n'
                              '    def get(self, member_id):\n'
                              '        """A member\'s reviews, the newest first."""\n'
                              '        asked = paging.parse_args()\n'
                              '        db.get_or_404(User, member_id)\n'
                              '        found = db.paginate(\n'
                              '            db.select(Review).filter_by(user_id=member_id).order_by(Review.created_at.desc(), Review.id.desc()),\n'
                              '            page=asked["page"], per_page=asked["per_page"], error_out=False,\n'
                              '        )\n'
                              '        return {"items": [shown(review) for review in found.items], "page": found.page,\n'
                              '                "per_page": found.per_page, "total": found.total, "pages": found.pages}'}),
    # the numbers read from request.args by hand (abort(400) for a bad one), a member's reviews through a join,
    # ns.marshal with models of new names, and the resource added with add_resource
    ("09.5", {MEMBER_REVIEWS: 'from flask import abort, request\n'
                              'from flask_restx import Resource, fields\n'
                              'from sqlalchemy import func\n'
                              '\n'
                              'from ..db import db\n'
                              'from ..models import Review, User\n'
                              '\n'
                              'item = ns.model("ReviewOfAMember", {"id": fields.Integer, "book_id": fields.Integer,\n'
                              '                                    "rating": fields.Integer, "text": fields.String,\n'
                              '                                    "title": fields.String(attribute="book.title")})\n'
                              'listing = ns.model("ReviewsOfAMember", {"items": fields.List(fields.Nested(item)), "page": fields.Integer,\n'
                              '                                        "per_page": fields.Integer, "total": fields.Integer,\n'
                              '                                        "pages": fields.Integer})\n'
                              '\n'
                              '\n'
                              'def whole_number(name, default, largest):\n'
                              '    """Return a query argument from 1 to largest, or answer 400."""\n'
                              '    try:\n'
                              '        value = int(request.args.get(name, default))\n'
                              '    except ValueError:\n'
                              '        abort(400, f"{name} is not a whole number.")\n'
                              '    if not 1 <= value <= largest:\n'
                              '        abort(400, f"{name} must be from 1 to {largest}.")\n'
                              '    return value\n'
                              '\n'
                              '\n'
                              'class MemberReviewList(Resource):\n'
                              '    def get(self, member_id):\n'
                              '        """Show a page of a member\'s reviews, newest first."""\n'
                              '        member = db.session.get(User, member_id)\n'
                              '        if member is None:\n'
                              '            ns.abort(404, f"No member {member_id}.")\n'
                              '        page, per_page = whole_number("page", 1, 10**6), whole_number("per_page", 20, 100)\n'
                              '        total = db.session.scalar(db.select(func.count(Review.id)).where(Review.user_id == member.id))\n'
                              '        rows = db.session.scalars(\n'
                              '            db.select(Review).join(Review.user).where(User.id == member.id)\n'
                              '            .order_by(Review.created_at.desc(), Review.id.desc())\n'
                              '            .offset((page - 1) * per_page).limit(per_page)\n'
                              '        ).all()\n'
                              '        pages = (total + per_page - 1) // per_page\n'
                              '        return ns.marshal({"items": rows, "page": page, "per_page": per_page, "total": total,\n'
                              '                           "pages": pages}, listing)\n'
                              '\n'
                              '\n'
                              'ns.add_resource(MemberReviewList, "/<int:member_id>/reviews")'}),
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
    # no ORDER BY: the rows come in whatever order the database finds fastest
    ("09.5", plain(('statement.order_by(Review.created_at.desc(), Review.id.desc())', 'statement')
                   )),
    # per_page not capped: a client asks for a million reviews at once
    ("09.5", plain(('type=inputs.int_range(1, 100)', 'type=inputs.positive'))),
    # everybody's reviews: the member is looked up, and then forgotten in the query
    ("09.5", plain(('select(Review).where(Review.user_id == member.id)', 'select(Review)'))),
    # page and per_page as plain ints: page 0 and negative numbers reach the query, per_page 0 divides by zero
    ("09.5", plain(('type=inputs.int_range(1, 10**6)', 'type=int'), ('type=inputs.int_range(1, 100)', 'type=int'))),
    # no member looked up: a member who does not exist has an empty page
    ("09.5", plain(('        member = db.get_or_404(User, member_id)\n', ''), ('member.id', 'member_id'))),
    # the answer's model named Review: it replaces the reviews namespace's model in the Swagger document
    ("09.5", plain(('from flask_restx import Resource, inputs, reqparse\n',
                    'from flask_restx import Resource, fields, inputs, reqparse\n'),
                   ('\n\n@ns.route', '\nreview = ns.model("Review", {"id": fields.Integer, "book_id": fields.Integer,\n'
                                     '                             "rating": fields.Integer, "text": fields.String})\n'
                                     'page_model = ns.model("Page", {"items": fields.List(fields.Nested(review)),\n'
                                     '                               "page": fields.Integer, "per_page": fields.Integer,\n'
                                     '                               "total": fields.Integer, "pages": fields.Integer})\n'
                                     '\n\n@ns.route'),
                   ('    @ns.expect(arguments)\n', '    @ns.expect(arguments)\n    @ns.marshal_with(page_model)\n'))),
    # a token asked for a read: the chapter's reads are open to every client
    ("09.5", plain(('        asked = arguments.parse_args()\n',
                    '        from .bearer import authenticate\n        authenticate()\n        asked = arguments.parse_args()\n'))),
    # the numbers checked by hand, and the refusal in a shape of its own: no "error", so not the API's shape
    ("09.5", plain(('        asked = arguments.parse_args()\n',
                    '        from flask import request\n'
                    '        for name, largest in (("page", 10**6), ("per_page", 100)):\n'
                    '            value = request.args.get(name, "1")\n'
                    '            if not value.isdigit() or not 1 <= int(value) <= largest:\n'
                    '                return {"message": f"{name} must be a whole number from 1 to {largest}"}, 400\n'
                    '        asked = arguments.parse_args()\n'))),
    # db.paginate with error_out left True: a page past the last is a 404, not an empty page
    ("09.5", plain(('        total = db.session.scalar(select(func.count()).select_from(statement.subquery()))\n'
                    '        rows = db.session.scalars(statement.order_by(Review.created_at.desc(), Review.id.desc())\n'
                    '                                  .limit(per_page).offset((page - 1) * per_page))\n',
                    '        found = db.paginate(statement.order_by(Review.created_at.desc(), Review.id.desc()),\n'
                    '                            page=page, per_page=per_page)\n'
                    '        rows, total = found.items, found.total\n'))),
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

    # newest by id, not by created_at: a review written earlier but added later comes first
    ("09.5", plain(('order_by(Review.created_at.desc(), Review.id.desc())', 'order_by(Review.id.desc())'))),
    # created_at only: reviews of the same moment come in any order, and pages overlap or skip
    ("09.5", plain(('order_by(Review.created_at.desc(), Review.id.desc())', 'order_by(Review.created_at.desc())'))),
    # a cap, but ten times the book list's
    ("09.5", plain(('type=inputs.int_range(1, 100)', 'type=inputs.int_range(1, 1000)'))),
    # a member who does not exist answered as one without reviews
    ("09.5", plain(('        member = db.get_or_404(User, member_id)\n',
                    '        member = db.session.get(User, member_id)\n'
                    '        if member is None:\n'
                    '            return {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}\n'))),
    # marshal_with and a model named like the chapter's Review, which it replaces in the document
    ("09.5", plain(('from flask_restx import Resource, inputs, reqparse\n',
                    'from flask_restx import Resource, fields, inputs, reqparse\n'),
                   ('\n\n@ns.route', '\nreview = ns.model("Review", {"id": fields.Integer, "book_id": fields.Integer,\n'
                                     '                             "rating": fields.Integer, "text": fields.String,\n'
                                     '                             "written": fields.String(attribute="created_at")})\n'
                                     '\n\n@ns.route'),
                   ('"items": [{"id": r.id, "book_id": r.book_id, "rating": r.rating, "text": r.text} for r in rows]',
                    '"items": ns.marshal(list(rows), review)'))),
]
