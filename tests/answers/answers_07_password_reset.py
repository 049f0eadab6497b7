"""Chapter 07: reset tokens, the forgotten-password view and the page of its link, confirming an address, a new address."""

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

# 07.4 is a design exercise: an answer is the whole module bookshelf/email_change.py (its docstring and bp are given)
EMAIL_CHANGE = "bookshelf/email_change.py"
# the reference design, which the wrong answers below change in one place each
CHANGE = 'from flask import flash, redirect, render_template_string, url_for\nfrom flask_login import current_user, login_required\nfrom flask_mail import Message\nfrom wtforms import EmailField, PasswordField\nfrom wtforms.validators import DataRequired, Email, Length\n\nfrom .db import db\nfrom .forms import Form, strip\nfrom .mail import deliver\nfrom .models import User\nfrom .tokens import BadLink, bad_link, read_token, serializer\n\n# a link to a new address works for an hour, like a reset link\nEMAIL_MAX_AGE = 3600\n# the same answer for a free address and a taken one: the page must not tell who is a member\nASKED = "If {email} can be yours, a link to confirm it is on its way there. Your address changes when you follow it."\n\nASK_PAGE = """{% extends "base.html" %}\n{% from "_form.html" import field %}\n{% block title %}Change your e-mail address{% endblock %}\n{% block content %}\n  <h1>Change your e-mail address</h1>\n  <p>Your address now: {{ current_user.email }}</p>\n  <form method="post" novalidate>\n    {{ form.hidden_tag() }}\n    {{ field(form.email) }}\n    {{ field(form.password) }}\n    <button type="submit">Mail me a link</button>\n  </form>\n{% endblock %}\n"""\n\nCONFIRM_PAGE = """{% extends "base.html" %}\n{% block title %}Confirm your new address{% endblock %}\n{% block content %}\n  <h1>Use {{ new }} from now on?</h1>\n  <form method="post">\n    {{ form.hidden_tag() }}\n    <button type="submit">Yes, change my address</button>\n  </form>\n{% endblock %}\n"""\n\n\nclass NewAddressForm(Form):\n    """The new address, and the password that proves the member is at the keyboard."""\n\n    email = EmailField("New e-mail address", filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])\n    password = PasswordField("Your password", validators=[DataRequired()])\n\n\nclass ConfirmForm(Form):\n    """A button, and the CSRF token that makes its POST this site\'s."""\n\n\ndef change_token(member, new):\n    """Return a token for moving the member from their address now to the new one: its own salt, its own purpose."""\n    # bound to the old address: once the address changes, the token is dead\n    return serializer("email-change").dumps({"id": member.id, "old": member.email, "new": new})\n\n\ndef taken(address):\n    return db.session.scalar(db.select(User.id).where(User.email == address)) is not None\n\n\n@bp.route("/email", methods=["GET", "POST"])\n@login_required\ndef ask():\n    """Show the form; after a valid POST, mail a link to the new address and a notice to the old one."""\n    form = NewAddressForm()\n    if form.validate_on_submit():\n        if not current_user.check_password(form.password.data):\n            form.password.errors.append("This is not your password.")\n        else:\n            new = form.email.data.lower()\n            if not taken(new):\n                link = url_for("email_change.confirm", token=change_token(current_user, new), _external=True)\n                deliver(Message("Confirm your new Bookshelf address", recipients=[new],\n                                body=f"Hello {current_user.name},\\n\\nfollow this link within an hour to use this address "\n                                     f"on Bookshelf:\\n\\n{link}\\n"))\n                deliver(Message("Your Bookshelf address is about to change", recipients=[current_user.email],\n                                body=f"Hello {current_user.name},\\n\\nsomeone asked to move your Bookshelf account to "\n                                     f"another address. If it was not you, change your password now.\\n"))\n            flash(ASKED.format(email=new))\n            return redirect(url_for("main.index"))\n    return render_template_string(ASK_PAGE, form=form)\n\n\n@bp.route("/email/<token>", methods=["GET", "POST"])\n@login_required\ndef confirm(token):\n    """Show a button if the link is good and the member\'s own; its POST changes the address."""\n    try:\n        data = read_token("email-change", token, EMAIL_MAX_AGE)\n        if data["id"] != current_user.id or data["old"] != current_user.email:\n            # another member\'s link, or one used already (the address it moves from is gone)\n            raise BadLink("This link has been used already, or is not yours. Ask for a new one.")\n    except BadLink as error:\n        return bad_link(error)\n    form = ConfirmForm()\n    if form.validate_on_submit():\n        if taken(data["new"]):\n            flash("This address is taken now. Choose another one.")\n            return redirect(url_for("email_change.ask"))\n        current_user.email = data["new"]\n        db.session.commit()\n        flash(f"Your address is {data[\'new\']} now.")\n        return redirect(url_for("main.index"))\n    return render_template_string(CONFIRM_PAGE, form=form, new=data["new"])\n'


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

    # the reference's design in other words: WTForms-less pages, a list in the token, a 403 for another member's link,
    # and the notice to the old address sent for a taken address too (the same answer either way)
    ("07.4", {EMAIL_CHANGE: 'from flask import abort, flash, redirect, render_template_string, request, url_for\nfrom flask_login import current_user, login_required\nfrom flask_mail import Message\n\nfrom .db import db\nfrom .mail import deliver\nfrom .models import User\nfrom .tokens import BadLink, bad_link, read_token, serializer\n\nFORM = (\'{% extends "base.html" %}{% block content %}<p>{{ error }}</p><form method="post">\'\n        \'<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">\'\n        \'<input name="email" type="email"><input name="password" type="password"><button>Send</button></form>{% endblock %}\')\nBUTTON = (\'{% extends "base.html" %}{% block content %}<form method="post">\'\n          \'<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"><button>Use it</button></form>{% endblock %}\')\n\n\n@bp.get("/email")\n@login_required\ndef email_form():\n    return render_template_string(FORM, error="")\n\n\n@bp.post("/email")\n@login_required\ndef email_asked():\n    wanted = request.form.get("email", "").strip().lower()\n    if not current_user.check_password(request.form.get("password", "")):\n        return render_template_string(FORM, error="Wrong password.")\n    if "@" in wanted and db.session.scalar(db.select(User).filter_by(email=wanted)) is None:\n        token = serializer("new-address").dumps([current_user.id, current_user.email, wanted])\n        deliver(Message("Your new address", recipients=[wanted],\n                        body="Confirm: " + url_for(".use_link", token=token, _external=True)))\n    deliver(Message("A change of address was asked", recipients=[current_user.email],\n                    body="Someone asked to change your address. Not you? Change your password."))\n    flash("Check your mail.")\n    return redirect(url_for(".email_form"))\n\n\n@bp.route("/email/<token>", methods=("GET", "POST"))\n@login_required\ndef use_link(token):\n    try:\n        member_id, old, wanted = read_token("new-address", token, 60 * 60)\n    except (BadLink, ValueError, TypeError) as error:\n        return bad_link(error if isinstance(error, BadLink) else BadLink("This link is not valid."))\n    if member_id != current_user.id:\n        abort(403)\n    if old != current_user.email:\n        return bad_link(BadLink("This link has been used already."))\n    if request.method == "POST":\n        current_user.email = wanted\n        db.session.commit()\n        return redirect(url_for("main.index"))\n    return render_template_string(BUTTON)\n'}),
    # the reference's design with a stamp of the old address instead of the address itself, and a salt of another name
    ("07.4", {EMAIL_CHANGE: CHANGE.replace('"old": member.email', '"old": hashlib.sha256(member.email.encode()).hexdigest()')
                                 .replace('data["old"] != current_user.email', 'data["old"] != hashlib.sha256(current_user.email.encode()).hexdigest()')
                                 .replace('"email-change"', '"address-change"')
                                 .replace("from flask import flash", "import hashlib\n\nfrom flask import flash")}),
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

    # the link mailed to the old address: the new one never proves it is hers
    ("07.4", {EMAIL_CHANGE: CHANGE.replace('recipients=[new]', 'recipients=[current_user.email]')}),
    # the address changed at once, before anyone follows the link
    ("07.4", {EMAIL_CHANGE: CHANGE.replace('            if not taken(new):\n',
                                           '            if not taken(new):\n                current_user.email = new\n                db.session.commit()\n')}),
    # the confirmation salt reused, with the new address as "email": a confirmation mail's token passes here
    ("07.4", {EMAIL_CHANGE: CHANGE.replace('serializer("email-change").dumps({"id": member.id, "old": member.email, "new": new})',
                                           'serializer("confirm").dumps({"id": member.id, "email": new})')
                                  .replace('read_token("email-change", token, EMAIL_MAX_AGE)', 'read_token("confirm", token, EMAIL_MAX_AGE)')
                                  .replace(' or data["old"] != current_user.email', '')
                                  .replace('data["new"]', 'data["email"]')}),
    # the reset salt borrowed from reset_token: a reset mail's token passes the signature here, and breaks the view (500)
    ("07.4", {EMAIL_CHANGE: CHANGE.replace('serializer("email-change")', 'serializer("reset")')
                                  .replace('read_token("email-change", token, EMAIL_MAX_AGE)', 'read_token("reset", token, EMAIL_MAX_AGE)')}),
    # the link reusable: nothing in the token changes when it is used
    ("07.4", {EMAIL_CHANGE: CHANGE.replace(' or data["old"] != current_user.email', '')}),
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

    # the taken address looked up as typed: "BEN@example.com" passes for a free address, and a mail goes to it
    ("07.4", {EMAIL_CHANGE: CHANGE.replace('new = form.email.data.lower()', 'new = form.email.data')}),
    # a link that works for a week, as the confirmation link does: a link found in an old mailbox still moves the account
    ("07.4", {EMAIL_CHANGE: CHANGE.replace('EMAIL_MAX_AGE = 3600', 'EMAIL_MAX_AGE = 7 * 24 * 3600')}),
    # the member read from the token, not the one logged in: another member (or a visitor) can use the link
    ("07.4", {EMAIL_CHANGE: CHANGE.replace('@bp.route("/email/<token>", methods=["GET", "POST"])\n@login_required\n',
                                           '@bp.route("/email/<token>", methods=["GET", "POST"])\n')
                                  .replace('        if data["id"] != current_user.id or data["old"] != current_user.email:',
                                           '        member = db.session.get(User, data["id"])\n'
                                           '        if member is None or data["old"] != member.email:')
                                  .replace('        current_user.email = data["new"]', '        member.email = data["new"]')}),
]
