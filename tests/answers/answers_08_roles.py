"""Chapter 08: what an identity provides, editing one's own review, granting roles, and moving a review."""

# what 08.2's answers share: the form, saved, and the page
SAVE = ('form = ReviewForm(obj=review)\n'
        'if form.validate_on_submit():\n'
        '    review.rating = form.rating.data\n'
        '    review.text = form.text.data\n'
        '    db.session.commit()\n'
        '    flash("Saved.")\n'
        '    return redirect(url_for("main.book", book_id=review.book.id))\n'
        'return render_template("reviews/edit.html", form=form, review=review)')
# what 08.3's answers share once member and role are found
GRANT = ('if role in member.roles:\n'
         '    return False\n'
         'member.roles.append(role)\n'
         'db.session.commit()\n'
         'return True')

# 08.4 is a design exercise: an answer is the whole module bookshelf/moving.py (its docstring and bp are given)
MOVING = "bookshelf/moving.py"


def moving(view):
    """Return a module of 08.4 whose view is `view`: a decorated function on bp with the page from a string."""
    return {MOVING: 'from flask import abort, flash, redirect, render_template_string, request, url_for\n'
                    'from flask_login import current_user, login_required\n'
                    '\n'
                    'from .db import db\n'
                    'from .models import Book, Review\n'
                    'from .roles import edit_review_permission, librarian_permission\n'
                    '\n'
                    'PAGE = ("{% extends \'base.html\' %}{% block content %}<h1>{{ review.book.title }}</h1>"\n'
                    '        "<form method=\'post\'><input type=\'hidden\' name=\'csrf_token\' value=\'{{ csrf_token() }}\'>"\n'
                    '        "<input name=\'book_id\'><button>Move</button></form>{% endblock %}")\n'
                    '\n'
                    '\n' + view}


# what the answers built with moving() share: the review found or 404, the book, the author's other review, the move
MOVE_CHECKED = ('    review = db.get_or_404(Review, review_id)\n'
                '    if request.method == "POST":\n'
                '        target = db.session.get(Book, request.form.get("book_id", type=int) or 0)\n'
                '        taken = target and db.session.scalar(db.select(Review.id).filter_by(book_id=target.id, user_id=review.user_id))\n'
                '        if target and not taken:\n'
                '            review.book_id = target.id\n'
                '            db.session.commit()\n'
                '            return redirect(url_for("main.book", book_id=target.id))\n'
                '        flash("That review cannot go there.")\n'
                '    return render_template_string(PAGE, review=review)')

CORRECT = [
    # a set of needs made first, the roles by comprehension, the reviews through the relationship
    ("08.1", 'needs = {UserNeed(current_user.id)}\n'
             'needs |= {RoleNeed(role.name) for role in current_user.roles}\n'
             'needs |= {ReviewNeed("edit", review.id) for review in current_user.reviews}\n'
             'identity.provides.update(needs)'),
    # has_role for each known role, and execute().scalars()
    ("08.1", 'identity.provides.add(UserNeed(identity.id))\n'
             'for name in ("librarian", "admin"):\n'
             '    if current_user.has_role(name):\n'
             '        identity.provides.add(RoleNeed(name))\n'
             'ids = db.session.execute(db.select(Review.id).filter_by(user_id=current_user.id)).scalars()\n'
             'identity.provides.update(ReviewNeed("edit", i) for i in ids)'),

    # the permission as a with block
    ("08.2", 'with edit_review_permission(review.id).require(http_exception=403):\n'
             '    pass\n' + SAVE),
    # the permission asked with allows(g.identity), an explicit POST branch
    ("08.2", 'from flask import g, request\n'
             'if not edit_review_permission(review.id).allows(g.identity):\n'
             '    abort(403)\n'
             'form = ReviewForm(obj=review)\n'
             'if request.method == "POST" and form.validate():\n'
             '    form.populate_obj(review)\n'
             '    db.session.commit()\n'
             '    flash("Your changes are saved.")\n'
             '    return redirect(url_for("main.book", book_id=review.book_id))\n'
             'return render_template("reviews/edit.html", form=form, review=review)'),

    # filter_by, one message for both checks
    ("08.3", 'member = db.session.execute(db.select(User).filter_by(email=email.strip().lower())).scalar_one_or_none()\n'
             'role = db.session.execute(db.select(Role).filter_by(name=role_name)).scalar_one_or_none()\n'
             'if member is None:\n'
             '    raise RoleError(f"Nobody is registered as {email}.")\n'
             'if role is None:\n'
             '    raise RoleError(f"Unknown role {role_name!r}.")\n' + GRANT),
    # has_role, and the role looked up first
    ("08.3", 'role = db.session.scalar(db.select(Role).where(Role.name == role_name))\n'
             'if not role:\n'
             '    raise RoleError(f"{role_name} is not a role.")\n'
             'member = db.session.scalar(db.select(User).where(User.email == email.lower().strip()))\n'
             'if not member:\n'
             '    raise RoleError(f"There is no member {email}.")\n'
             'if member.has_role(role_name):\n'
             '    return False\n'
             'member.roles.append(role)\n'
             'db.session.commit()\n'
             'return True'),

    # a class-based view: the role asked with has_role, the field read from request.form, the author's other review
    # found by a query, and a plain page written in Python
    ("08.4", {MOVING: 'from flask import abort, redirect, render_template_string, request, url_for\n'
                      'from flask.views import MethodView\n'
                      'from flask_login import current_user, login_required\n'
                      '\n'
                      'from .db import db\n'
                      'from .models import Book, Review\n'
                      '\n'
                      '\n'
                      'class MoveReview(MethodView):\n'
                      '    """Move a review to another book: librarians only."""\n'
                      '\n'
                      '    decorators = [login_required]\n'
                      '\n'
                      '    def review(self, review_id):\n'
                      '        if not current_user.has_role("librarian"):\n'
                      '            abort(403)\n'
                      '        return db.get_or_404(Review, review_id)\n'
                      '\n'
                      '    def page(self, review, message=""):\n'
                      '        return render_template_string(\n'
                      '            \'{% extends "base.html" %}{% block content %}<h1>Move a review of {{ title }}</h1>\'\n'
                      '            \'<p>{{ message }}</p><form method="post">\'\n'
                      '            \'<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">\'\n'
                      '            \'<label>Book id <input name="book_id"></label> <button>Move</button></form>{% endblock %}\',\n'
                      '            title=review.book.title, message=message)\n'
                      '\n'
                      '    def get(self, review_id):\n'
                      '        return self.page(self.review(review_id))\n'
                      '\n'
                      '    def post(self, review_id):\n'
                      '        review = self.review(review_id)\n'
                      '        book_id = request.form.get("book_id", type=int)\n'
                      '        book = db.session.get(Book, book_id) if book_id else None\n'
                      '        if book is None:\n'
                      '            return self.page(review, "No such book."), 404\n'
                      '        twin = db.session.scalar(db.select(Review).where(Review.book_id == book.id,\n'
                      '                                                         Review.user_id == review.user_id,\n'
                      '                                                         Review.id != review.id))\n'
                      '        if twin is not None:\n'
                      '            return self.page(review, f"{review.user.name} reviewed this book already."), 409\n'
                      '        review.book_id = book.id\n'
                      '        db.session.commit()\n'
                      '        return redirect(url_for("main.book", book_id=book.id))\n'
                      '\n'
                      '\n'
                      'bp.add_url_rule("/reviews/<int:review_id>/move", view_func=MoveReview.as_view("move"))'}),
    # the permission as a with block, and the database as the judge: the unique constraint refuses a second review
    # of the same book, which the view turns into 409 after a rollback
    ("08.4", {MOVING: 'from flask import abort, redirect, render_template_string, url_for\n'
                      'from flask_login import login_required\n'
                      'from flask_wtf import FlaskForm\n'
                      'from sqlalchemy.exc import IntegrityError\n'
                      'from wtforms import IntegerField\n'
                      'from wtforms.validators import DataRequired, NumberRange\n'
                      '\n'
                      'from .db import db\n'
                      'from .models import Book, Review\n'
                      'from .roles import librarian_permission\n'
                      '\n'
                      '\n'
                      'class Target(FlaskForm):\n'
                      '    book_id = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=2**31)])\n'
                      '\n'
                      '\n'
                      '@bp.route("/reviews/<int:review_id>/move", methods=("GET", "POST"))\n'
                      '@login_required\n'
                      'def move(review_id):\n'
                      '    with librarian_permission.require(http_exception=403):\n'
                      '        review = db.get_or_404(Review, review_id)\n'
                      '        form = Target()\n'
                      '        if form.validate_on_submit():\n'
                      '            book = db.get_or_404(Book, form.book_id.data)\n'
                      '            review.book = book\n'
                      '            try:\n'
                      '                db.session.commit()\n'
                      '            except IntegrityError:\n'
                      '                db.session.rollback()\n'
                      '                abort(409)\n'
                      '            return redirect(url_for("main.book", book_id=book.id))\n'
                      '        return render_template_string(\n'
                      '            "{% extends \'base.html\' %}{% block content %}<h1>{{ review.book.title }}</h1>"\n'
                      '            "<form method=post>{{ form.hidden_tag() }}{{ form.book_id() }}<button>Move</button></form>"\n'
                      '            "{% endblock %}", review=review, form=form)'}),
]

WRONG = [
    # roles only: a member may not edit their own review
    ("08.1", 'identity.provides.add(UserNeed(current_user.id))\n'
             'for role in current_user.roles:\n'
             '    identity.provides.add(RoleNeed(role.name))'),
    # every review in the database: anyone may edit anything
    ("08.1", 'identity.provides.add(UserNeed(current_user.id))\n'
             'for role in current_user.roles:\n'
             '    identity.provides.add(RoleNeed(role.name))\n'
             'for review_id in db.session.scalars(db.select(Review.id)):\n'
             '    identity.provides.add(ReviewNeed("edit", review_id))'),
    # the role as the need's value, the wrong method: no permission matches
    ("08.1", 'identity.provides.add(UserNeed(current_user.id))\n'
             'for role in current_user.roles:\n'
             '    identity.provides.add(UserNeed(role.name))\n'
             'for review in current_user.reviews:\n'
             '    identity.provides.add(ReviewNeed("edit", review.id))'),

    # a permission of the author alone (UserNeed): a librarian gets 403
    ("08.2", 'from flask_principal import Permission, UserNeed\n'
             'if not Permission(UserNeed(review.user_id)).can():\n'
             '    abort(403)\n' + SAVE),
    # no permission at all: any member edits any review
    ("08.2", SAVE),
    # the permission only on GET: Ben's POST changes Ann's review
    ("08.2", 'from flask import request\n'
             'if request.method == "GET" and not edit_review_permission(review.id).can():\n'
             '    abort(403)\n' + SAVE),
    # the permission's answer ignored: can() called, nothing done with it
    ("08.2", 'edit_review_permission(review.id).can()\n' + SAVE),

    # the address lowered but not trimmed: " ann@example.com", as pasted from a mail, finds nobody
    ("08.3", 'member = db.session.scalar(db.select(User).where(User.email == email.lower()))\n'
             'if member is None:\n'
             '    raise RoleError(f"No member has the address {email}.")\n'
             'role = db.session.scalar(db.select(Role).where(Role.name == role_name))\n'
             'if role is None:\n'
             '    raise RoleError(f"There is no role {role_name}.")\n' + GRANT),
    # the link row inserted without asking: the second grant breaks the primary key, an IntegrityError
    ("08.3", 'from .models import user_roles\n'
             'member = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))\n'
             'role = db.session.scalar(db.select(Role).filter_by(name=role_name))\n'
             'if member is None or role is None:\n'
             '    raise RoleError(f"No member {email}, or no role {role_name}.")\n'
             'db.session.execute(db.insert(user_roles).values(user_id=member.id, role_id=role.id))\n'
             'db.session.commit()\n'
             'return True'),
    # no check for a missing member: an AttributeError, a traceback
    ("08.3", 'member = db.session.scalar(db.select(User).where(User.email == email.lower()))\n'
             'role = db.session.scalar(db.select(Role).where(Role.name == role_name))\n'
             'if role is None:\n'
             '    raise RoleError(f"There is no role {role_name}.")\n' + GRANT),
    # a role made up when it does not exist: "king" becomes a role
    ("08.3", 'member = db.session.scalar(db.select(User).where(User.email == email.lower()))\n'
             'if member is None:\n'
             '    raise RoleError(f"No member has the address {email}.")\n'
             'role = db.session.scalar(db.select(Role).where(Role.name == role_name)) or Role(name=role_name)\n' + GRANT),

    # the permission of 08.2 reused: edit_review_permission lets the author move their own review
    ("08.4", moving('@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])\n'
                    '@login_required\n'
                    'def move_review(review_id):\n'
                    '    with edit_review_permission(review_id).require(http_exception=403):\n'
                    '    ' + MOVE_CHECKED.replace('\n', '\n    '))),
    # the role asked on POST only: any member sees the move page
    ("08.4", moving('@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])\n'
                    '@login_required\n'
                    'def move_review(review_id):\n'
                    '    if request.method == "POST" and not librarian_permission.can():\n'
                    '        abort(403)\n' + MOVE_CHECKED)),
    # the book never looked up: a review moved to book 999, which SQLite lets it point at
    ("08.4", moving('@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])\n'
                    '@login_required\n'
                    '@librarian_permission.require(http_exception=403)\n'
                    'def move_review(review_id):\n'
                    '    review = db.get_or_404(Review, review_id)\n'
                    '    if request.method == "POST":\n'
                    '        book_id = request.form.get("book_id", type=int)\n'
                    '        if book_id and not db.session.scalar(db.select(Review.id).filter_by(book_id=book_id, user_id=review.user_id)):\n'
                    '            review.book_id = book_id\n'
                    '            db.session.commit()\n'
                    '            return redirect(url_for("main.book", book_id=book_id))\n'
                    '    return render_template_string(PAGE, review=review)')),
    # the permission without login_required: a visitor gets 403 instead of the login page
    ("08.4", moving('@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])\n'
                    '@librarian_permission.require(http_exception=403)\n'
                    'def move_review(review_id):\n' + MOVE_CHECKED)),
]

# half-answers: each fails a hidden test (and, as every wrong answer, a public check of the same rule)
HIDDEN = [
    # only the first role
    ("08.1", 'identity.provides.add(UserNeed(current_user.id))\n'
             'if current_user.roles:\n'
             '    identity.provides.add(RoleNeed(current_user.roles[0].name))\n'
             'for review in current_user.reviews:\n'
             '    identity.provides.add(ReviewNeed("edit", review.id))'),
    # the review ids remembered on the member object across requests... here: once per process, a stale cache
    ("08.1", 'identity.provides.add(UserNeed(current_user.id))\n'
             'for role in current_user.roles:\n'
             '    identity.provides.add(RoleNeed(role.name))\n'
             'cache = current_app.extensions.setdefault("review_ids", {})\n'
             'if current_user.id not in cache:\n'
             '    cache[current_user.id] = list(db.session.scalars(db.select(Review.id).where(Review.user_id == current_user.id)))\n'
             'for review_id in cache[current_user.id]:\n'
             '    identity.provides.add(ReviewNeed("edit", review_id))'),

    # the author only: a librarian gets 403
    ("08.2", 'from flask_login import current_user\n'
             'if review.user_id != current_user.id:\n'
             '    abort(403)\n' + SAVE),
    # a bare 403 answer instead of abort(403): no page
    ("08.2", 'if not edit_review_permission(review.id).can():\n'
             '    return "", 403\n' + SAVE),

    # no word when the member had the role: True every time, so the admin reads "is librarian now" again
    ("08.3", 'member = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))\n'
             'if member is None:\n'
             '    raise RoleError(f"No member has the address {email}.")\n'
             'role = db.session.scalar(db.select(Role).where(Role.name == role_name))\n'
             'if role is None:\n'
             '    raise RoleError(f"There is no role {role_name}.")\n'
             'member.roles.append(role)\n'
             'db.session.commit()\n'
             'return True'),
    # the address as typed: " ANN@Example.com" finds nobody
    ("08.3", 'member = db.session.scalar(db.select(User).where(User.email == email))\n'
             'if member is None:\n'
             '    raise RoleError(f"No member has the address {email}.")\n'
             'role = db.session.scalar(db.select(Role).where(Role.name == role_name))\n'
             'if role is None:\n'
             '    raise RoleError(f"There is no role {role_name}.")\n' + GRANT),

    # the author allowed too: the role asked as "librarian or the review's author"
    ("08.4", moving('@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])\n'
                    '@login_required\n'
                    'def move_review(review_id):\n'
                    '    found = db.get_or_404(Review, review_id)\n'
                    '    if not (current_user.has_role("librarian") or found.user_id == current_user.id):\n'
                    '        abort(403)\n' + MOVE_CHECKED)),
    # the author's other review not looked for: the unique constraint fails at commit, an IntegrityError
    ("08.4", moving('@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])\n'
                    '@login_required\n'
                    '@librarian_permission.require(http_exception=403)\n'
                    'def move_review(review_id):\n'
                    '    review = db.get_or_404(Review, review_id)\n'
                    '    if request.method == "POST":\n'
                    '        target = db.get_or_404(Book, request.form.get("book_id", type=int) or 0)\n'
                    '        review.book = target\n'
                    '        db.session.commit()\n'
                    '        return redirect(url_for("main.book", book_id=target.id))\n'
                    '    return render_template_string(PAGE, review=review)')),
    # db.session.get for the review: None for an id that does not exist, and an AttributeError, not a 404
    ("08.4", moving('@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])\n'
                    '@login_required\n'
                    '@librarian_permission.require(http_exception=403)\n'
                    'def move_review(review_id):\n'
                    + MOVE_CHECKED.replace('db.get_or_404(Review, review_id)', 'db.session.get(Review, review_id)'))),
    # a redirect to the book the review came from
    ("08.4", moving('@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])\n'
                    '@login_required\n'
                    '@librarian_permission.require(http_exception=403)\n'
                    'def move_review(review_id):\n'
                    + MOVE_CHECKED.replace('    if request.method == "POST":\n',
                                           '    came_from = review.book_id\n    if request.method == "POST":\n')
                                  .replace('book_id=target.id))', 'book_id=came_from))'))),
    # the permission without login_required: a visitor's POST gets 403, not the login page
    ("08.4", moving('@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])\n'
                    'def move_review(review_id):\n'
                    '    if not librarian_permission.can():\n'
                    '        abort(403)\n' + MOVE_CHECKED)),
]
