"""Chapter 08: what an identity provides, editing one's own review, and granting roles."""

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
]
