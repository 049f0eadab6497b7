"""Chapter 07: reset tokens, the forgotten-password view and the page of its link, and confirming an address."""

# what 07.1's answers share: the token of the reference, for answers that differ in reading it
STAMPED = 'return serializer("reset").dumps({"id": member.id, "stamp": password_stamp(member)})'
# what 07.2's answers share: one answer for everyone
SAME_ANSWER = ('flash(FORGOT_ANSWER)\n'
               'return redirect(url_for("auth.login"))')
# 07.2 has two regions, forgot's and reset's: an answer about one of them gives the reference's other
FORGOT = ('member = db.session.scalar(db.select(User).where(User.email == form.email.data.lower()))\n'
          'if member is not None and not mailed_lately(member) and deliver(reset_message(member)):\n'
          '    member.reset_sent_at = utcnow()\n'
          '    db.session.commit()\n' + SAME_ANSWER)
NEW_PASSWORD = ('try:\n'
                '    member = member_to_reset(token)\n'
                'except BadLink as error:\n'
                '    return bad_link(error)\n'
                'form = NewPasswordForm()\n'
                'if form.validate_on_submit():\n'
                '    member.set_password(form.password.data)\n'
                '    db.session.commit()\n'
                '    deliver(password_changed_message(member))\n'
                '    flash(PASSWORD_SET)\n'
                '    return redirect(url_for("auth.login"))\n'
                'return render_template("auth/reset.html", form=form, member=member)')

CORRECT = [
    # a list instead of a dict, unpacked; the stamp compared first
    ("07.1", ('token = serializer("reset").dumps([member.id, password_stamp(member)])\n'
              'return token',
              'member_id, stamp = read_token("reset", token, RESET_MAX_AGE)\n'
              'member = db.session.get(User, member_id)\n'
              'if member is None:\n'
              '    raise BadLink(NOT_VALID)\n'
              'if password_stamp(member) != stamp:\n'
              '    raise BadLink(USED)\n'
              'return member')),
    # other keys, a query instead of session.get, the good case returned first
    ("07.1", ('return serializer("reset").dumps({"member": member.id, "password": password_stamp(member)})',
              'data = read_token("reset", token, RESET_MAX_AGE)\n'
              'member = db.session.scalar(db.select(User).where(User.id == data["member"]))\n'
              'if member is None:\n'
              '    raise BadLink(NOT_VALID)\n'
              'elif data["password"] == password_stamp(member):\n'
              '    return member\n'
              'raise BadLink(USED)')),

    # the full SHA-256 of the hash as the stamp: a payload long enough that itsdangerous compresses it (the token then
    # starts with ".")
    ("07.1", ('stamp = hashlib.sha256((member.password_hash or "").encode()).hexdigest()\n'
              'return serializer("reset").dumps({"id": member.id, "stamp": stamp})',
              'data = read_token("reset", token, RESET_MAX_AGE)\n'
              'member = db.session.get(User, data["id"])\n'
              'if member is None:\n'
              '    raise BadLink(NOT_VALID)\n'
              'if data["stamp"] != hashlib.sha256((member.password_hash or "").encode()).hexdigest():\n'
              '    raise BadLink(USED)\n'
              'return member')),
    # a larger payload, which itsdangerous compresses too: the address, the name and the purpose beside id and stamp
    ("07.1", ('payload = {"id": member.id, "email": member.email, "name": member.name,\n'
              '           "stamp": password_stamp(member), "purpose": "reset"}\n'
              'return serializer("reset").dumps(payload)',
              'payload = read_token("reset", token, RESET_MAX_AGE)\n'
              'member = db.session.get(User, payload["id"])\n'
              'if member is None or payload.get("purpose") != "reset":\n'
              '    raise BadLink(NOT_VALID)\n'
              'if payload["stamp"] != password_stamp(member):\n'
              '    raise BadLink(USED)\n'
              'return member')),

    # filter_by, the address cleaned by hand, the mail tried in a nested if
    ("07.2", ('email = form.email.data.strip().lower()\n'
              'member = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()\n'
              'if member and not mailed_lately(member):\n'
              '    if deliver(reset_message(member)):\n'
              '        member.reset_sent_at = utcnow()\n'
              '        db.session.commit()\n' + SAME_ANSWER, NEW_PASSWORD)),
    # the request recorded first, then the mail; a 303 redirect
    ("07.2", ('member = db.session.scalar(db.select(User).where(db.func.lower(User.email) == form.email.data.lower()))\n'
              'if member is not None and not mailed_lately(member):\n'
              '    member.reset_sent_at = utcnow()\n'
              '    db.session.commit()\n'
              '    deliver(reset_message(member))\n'
              'flash(FORGOT_ANSWER)\n'
              'return redirect(url_for("auth.login"), code=303)', NEW_PASSWORD)),

    # the refusal's page written out, the form's failure first, the notice after the flash
    ("07.2", (FORGOT,
              'try:\n'
              '    member = member_to_reset(token)\n'
              'except BadLink as refused:\n'
              '    return render_template("auth/bad_link.html", reason=str(refused)), 400\n'
              'form = NewPasswordForm()\n'
              'if not form.validate_on_submit():\n'
              '    return render_template("auth/reset.html", form=form, member=member)\n'
              'member.set_password(form.password.data)\n'
              'db.session.commit()\n'
              'flash(PASSWORD_SET)\n'
              'deliver(password_changed_message(member))\n'
              'return redirect(url_for("auth.login"), code=303)')),
    # the whole view inside the try
    ("07.2", (FORGOT,
              'try:\n'
              '    member = member_to_reset(token)\n'
              '    form = NewPasswordForm()\n'
              '    if form.validate_on_submit():\n'
              '        member.set_password(form.password.data)\n'
              '        db.session.commit()\n'
              '        deliver(password_changed_message(member))\n'
              '        flash(PASSWORD_SET)\n'
              '        return redirect(url_for("auth.login"))\n'
              '    return render_template("auth/reset.html", form=form, member=member)\n'
              'except BadLink as error:\n'
              '    return bad_link(error)')),

    # the POST first, the confirmed case after
    ("07.3", 'if member.confirmed_at is None and form.validate_on_submit():\n'
             '    member.confirmed_at = utcnow()\n'
             '    db.session.commit()\n'
             '    flash("Your address is confirmed. Thank you!")\n'
             '    return redirect(url_for("main.index"))\n'
             'if member.confirmed_at is not None:\n'
             '    flash("Your address was confirmed before.")\n'
             '    return redirect(url_for("main.index"))\n'
             'return render_template("auth/confirm.html", form=form, member=member)'),
    # one redirect at the end
    ("07.3", 'if not member.confirmed_at:\n'
             '    if not form.validate_on_submit():\n'
             '        return render_template("auth/confirm.html", form=form, member=member)\n'
             '    member.confirmed_at = utcnow()\n'
             '    db.session.commit()\n'
             '    flash("Confirmed, thank you.")\n'
             'else:\n'
             '    flash("This address was confirmed already.")\n'
             'return redirect(url_for("main.index"))'),
]

WRONG = [
    # no max_age: a link stays good for ever
    ("07.1", (STAMPED,
              'try:\n'
              '    data = serializer("reset").loads(token)\n'
              'except BadSignature:\n'
              '    raise BadLink(NOT_VALID)\n'
              'member = db.session.get(User, data["id"])\n'
              'if member is None:\n'
              '    raise BadLink(NOT_VALID)\n'
              'if data["stamp"] != password_stamp(member):\n'
              '    raise BadLink(USED)\n'
              'return member')),
    # the member's id alone: the link works again and again
    ("07.1", ('return serializer("reset").dumps(member.id)',
              'member = db.session.get(User, read_token("reset", token, RESET_MAX_AGE))\n'
              'if member is None:\n'
              '    raise BadLink(NOT_VALID)\n'
              'return member')),
    # one salt for both kinds of link: a confirmation link passes for a reset link's kind
    ("07.1", ('return serializer("confirm").dumps({"id": member.id, "stamp": password_stamp(member)})',
              'data = read_token("confirm", token, RESET_MAX_AGE)\n'
              'member = db.session.get(User, data["id"])\n'
              'if member is None:\n'
              '    raise BadLink(NOT_VALID)\n'
              'if data.get("stamp") != password_stamp(member):\n'
              '    raise BadLink(USED)\n'
              'return member')),

    # a helpful message that tells anyone who is a member
    ("07.2", ('member = db.session.scalar(db.select(User).where(User.email == form.email.data.lower()))\n'
              'if member is None:\n'
              '    flash("No member has this address.")\n'
              '    return render_template("auth/forgot.html", form=form)\n'
              'if not mailed_lately(member) and deliver(reset_message(member)):\n'
              '    member.reset_sent_at = utcnow()\n'
              '    db.session.commit()\n' + SAME_ANSWER, NEW_PASSWORD)),
    # a mail at every request: anyone can fill a member's mailbox
    ("07.2", ('member = db.session.scalar(db.select(User).where(User.email == form.email.data.lower()))\n'
              'if member is not None:\n'
              '    deliver(reset_message(member))\n' + SAME_ANSWER, NEW_PASSWORD)),
    # 429 when a member asks again: only a member's address gets it
    ("07.2", ('from flask import abort\n'
              'member = db.session.scalar(db.select(User).where(User.email == form.email.data.lower()))\n'
              'if member is not None:\n'
              '    if mailed_lately(member):\n'
              '        abort(429)\n'
              '    if deliver(reset_message(member)):\n'
              '        member.reset_sent_at = utcnow()\n'
              '        db.session.commit()\n' + SAME_ANSWER, NEW_PASSWORD)),

    # the hash stored by hand: the password changes, and every other device stays logged in
    ("07.2", (FORGOT,
              'from werkzeug.security import generate_password_hash\n'
              'try:\n'
              '    member = member_to_reset(token)\n'
              'except BadLink as error:\n'
              '    return bad_link(error)\n'
              'form = NewPasswordForm()\n'
              'if form.validate_on_submit():\n'
              '    member.password_hash = generate_password_hash(form.password.data)\n'
              '    db.session.commit()\n'
              '    deliver(password_changed_message(member))\n'
              '    flash(PASSWORD_SET)\n'
              '    return redirect(url_for("auth.login"))\n'
              'return render_template("auth/reset.html", form=form, member=member)')),
    # the token read by hand, its stamp never compared: a link used already works again, and an expired one is "not valid"
    ("07.2", (FORGOT,
              'from itsdangerous import BadSignature\n'
              'from .tokens import NOT_VALID, RESET_MAX_AGE, serializer\n'
              'try:\n'
              '    data = serializer("reset").loads(token, max_age=RESET_MAX_AGE)\n'
              'except BadSignature:\n'
              '    return bad_link(BadLink(NOT_VALID))\n'
              'member = db.session.get(User, data["id"])\n'
              'form = NewPasswordForm()\n'
              'if form.validate_on_submit():\n'
              '    member.set_password(form.password.data)\n'
              '    db.session.commit()\n'
              '    deliver(password_changed_message(member))\n'
              '    flash(PASSWORD_SET)\n'
              '    return redirect(url_for("auth.login"))\n'
              'return render_template("auth/reset.html", form=form, member=member)')),
    # BadLink not caught: every bad link is a 500
    ("07.2", (FORGOT,
              'member = member_to_reset(token)\n'
              'form = NewPasswordForm()\n'
              'if form.validate_on_submit():\n'
              '    member.set_password(form.password.data)\n'
              '    db.session.commit()\n'
              '    deliver(password_changed_message(member))\n'
              '    flash(PASSWORD_SET)\n'
              '    return redirect(url_for("auth.login"))\n'
              'return render_template("auth/reset.html", form=form, member=member)')),

    # confirmed by the GET: a mail scanner confirms for the member
    ("07.3", 'if member.confirmed_at is None:\n'
             '    member.confirmed_at = utcnow()\n'
             '    db.session.commit()\n'
             'flash("Your address is confirmed.")\n'
             'return redirect(url_for("main.index"))'),
    # confirmed again at every POST: the first time is lost
    ("07.3", 'if form.validate_on_submit():\n'
             '    member.confirmed_at = utcnow()\n'
             '    db.session.commit()\n'
             '    flash("Confirmed.")\n'
             '    return redirect(url_for("main.index"))\n'
             'return render_template("auth/confirm.html", form=form, member=member)'),
]

# half-answers: each fails a hidden test (and, as every wrong answer, a public check of the same rule)
HIDDEN = [
    # no check for a deleted member: password_stamp(None) raises, a 500
    ("07.1", (STAMPED,
              'data = read_token("reset", token, RESET_MAX_AGE)\n'
              'member = db.session.get(User, data["id"])\n'
              'if data["stamp"] != password_stamp(member):\n'
              '    raise BadLink(USED)\n'
              'return member')),
    # the password hash itself in the token: anyone who reads the link reads the hash and its salt
    ("07.1", ('return serializer("reset").dumps({"id": member.id, "hash": member.password_hash})',
              'data = read_token("reset", token, RESET_MAX_AGE)\n'
              'member = db.session.get(User, data["id"])\n'
              'if member is None:\n'
              '    raise BadLink(NOT_VALID)\n'
              'if data["hash"] != member.password_hash:\n'
              '    raise BadLink(USED)\n'
              'return member')),

    # the address compared as typed: "Ann@Example.com" finds nobody
    ("07.2", ('member = db.session.scalar(db.select(User).where(User.email == form.email.data))\n'
              'if member is not None and not mailed_lately(member) and deliver(reset_message(member)):\n'
              '    member.reset_sent_at = utcnow()\n'
              '    db.session.commit()\n' + SAME_ANSWER, NEW_PASSWORD)),
    # a word when the mail failed: only a member's address can get it
    ("07.2", ('member = db.session.scalar(db.select(User).where(User.email == form.email.data.lower()))\n'
              'if member is not None and not mailed_lately(member):\n'
              '    if deliver(reset_message(member)):\n'
              '        member.reset_sent_at = utcnow()\n'
              '        db.session.commit()\n'
              '    else:\n'
              '        flash("We could not send the mail just now; try again later.")\n' + SAME_ANSWER, NEW_PASSWORD)),

    # the member logged in by the link: whoever holds it needs no password at all
    ("07.2", (FORGOT,
              'from .auth import start_login\n'
              'try:\n'
              '    member = member_to_reset(token)\n'
              'except BadLink as error:\n'
              '    return bad_link(error)\n'
              'form = NewPasswordForm()\n'
              'if form.validate_on_submit():\n'
              '    member.set_password(form.password.data)\n'
              '    db.session.commit()\n'
              '    deliver(password_changed_message(member))\n'
              '    start_login(member)\n'
              '    flash(PASSWORD_SET)\n'
              '    return redirect(url_for("auth.login"))\n'
              'return render_template("auth/reset.html", form=form, member=member)')),

    # only the POST guarded: the link used again shows the button again
    ("07.3", 'if form.validate_on_submit():\n'
             '    if member.confirmed_at is None:\n'
             '        member.confirmed_at = utcnow()\n'
             '        db.session.commit()\n'
             '    flash("Your address is confirmed.")\n'
             '    return redirect(url_for("main.index"))\n'
             'return render_template("auth/confirm.html", form=form, member=member)'),
]
