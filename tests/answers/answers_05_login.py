"""Chapter 05: password hashes, the user loader, a safe next, login and logout, and where a member is logged in."""

# what 05.4's answers share: finding the member, the welcome after a right password, and a right logout
FIND_MEMBER = 'member = db.session.scalar(db.select(User).where(User.email == form.email.data.lower()))\n'
WELCOME = ('    flash(f"Welcome back, {member.name}.")\n'
           '    return redirect(safe_next(request.args.get("next")))\n')
LOGOUT = ('if current_user.is_authenticated:\n'
          '    db.session.execute(db.delete(Login).where(Login.token == current_user.get_id()))\n'
          '    db.session.commit()\n'
          'logout_user()')

CORRECT = [
    # the method named, and the log-ins deleted by statement
    ("05.1", ('self.password_hash = generate_password_hash(password, method="scrypt")\n'
              'for login in list(self.logins):\n'
              '    self.logins.remove(login)',
              'return self.password_hash is not None and check_password_hash(self.password_hash, password)')),
    # a new list instead of clear(), and an early False for the missing hash
    ("05.1", ('self.logins = []\n'
              'self.password_hash = generate_password_hash(password)',
              'if not self.password_hash:\n'
              '    return False\n'
              'return bool(check_password_hash(self.password_hash, password))')),

    # filter_by and one_or_none
    ("05.2", 'found = Login.query.filter_by(token=token).one_or_none()\n'
             'if not found or found.created_at.replace(tzinfo=timezone.utc) <= oldest_live_login():\n'
             '    return None\n'
             'member = found.user\n'
             'member.login_token = found.token\n'
             'return member'),
    # the Login first, then its member, with a guard for a row left without one
    ("05.2", 'found = db.session.execute(\n'
             '    db.select(Login).where(Login.token == token).where(Login.created_at >= oldest_live_login())\n'
             ').scalar_one_or_none()\n'
             'if found is None or found.user is None:\n'
             '    return None\n'
             'found.user.login_token = token\n'
             'return found.user'),

    # each rule its own early return
    ("05.3", 'index = url_for("main.index")\n'
             'if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):\n'
             '    return index\n'
             'if "\\\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):\n'
             '    return index\n'
             'split = urlsplit(target)\n'
             'return target if split.scheme == "" and split.netloc == "" else index'),
    # a regular expression for the allowed shape
    ("05.3", 'import re\n'
             'if target and re.fullmatch(r"/(?![/\\\\])[^\\\\\\x00-\\x1f\\x7f]*", target):\n'
             '    if not urlsplit(target).netloc:\n'
             '        return target\n'
             'return "/"'),
    # 05.4 has two regions, login's check and logout's body: each answer gives both
    # the dummy check first, then one comparison; logout by the relationship
    ("05.4", ('member = db.session.scalars(db.select(User).filter_by(email=form.email.data.strip().lower())).first()\n'
              'stored = member.password_hash if member is not None and member.password_hash else DUMMY_HASH\n'
              'if check_password_hash(stored, form.password.data) and member is not None and member.password_hash:\n'
              '    start_login(member, remember=bool(form.remember.data))\n'
              '    flash("Logged in.")\n'
              '    return redirect(safe_next(request.args.get("next")))\n'
              'flash(LOGIN_FAILED)',
              'if current_user.is_authenticated:\n'
              '    ended = db.session.scalar(db.select(Login).where(Login.token == current_user.login_token))\n'
              '    if ended is not None:\n'
              '        db.session.delete(ended)\n'
              '        db.session.commit()\n'
              'logout_user()')),
    # check_password on a stand-in member when the e-mail is unknown; logout reads the token before logout_user
    ("05.4", ('member = db.session.execute(db.select(User).where(User.email == form.email.data.lower())).scalar_one_or_none()\n'
              'candidate = member if member is not None and member.password_hash else User(password_hash=DUMMY_HASH)\n'
              'if candidate.check_password(form.password.data) and candidate is member:\n'
              '    start_login(member, remember=form.remember.data)\n'
              '    flash(f"Hello again, {member.name}!")\n'
              '    return redirect(safe_next(request.args.get("next")))\n'
              'flash(LOGIN_FAILED)',
              'token = current_user.get_id() if current_user.is_authenticated else None\n'
              'logout_user()\n'
              'if token:\n'
              '    db.session.execute(db.delete(Login).where(Login.token == token))\n'
              '    db.session.commit()')),
]

WRONG = [
    # the password kept in clear
    ("05.1", ('self.password_hash = password\n'
              'self.logins.clear()',
              'return self.password_hash == password')),
    # the hash right, the other devices left logged in
    ("05.1", ('self.password_hash = generate_password_hash(password)',
              'return self.password_hash is not None and check_password_hash(self.password_hash, password)')),

    # the token read as the member's id: Flask-Login's default, and every replayed cookie keeps working
    ("05.2", 'return db.session.get(User, int(token)) if token.isdigit() else None'),
    # no age bound: a copied remember cookie of a member who never logs out works for ever
    ("05.2", 'member = db.session.scalar(db.select(User).join(User.logins).where(Login.token == token))\n'
             'if member is not None:\n'
             '    member.login_token = token\n'
             'return member'),
    # the login found, but get_id() not told which one: the session stores None
    ("05.2", 'login = db.session.scalar(db.select(Login).where(Login.token == token))\n'
             'return login.user if login else None'),

    # only a scheme check: //evil.example and /\\evil.example get through
    ("05.3", 'if target and not urlsplit(target).scheme:\n'
             '    return target\n'
             'return url_for("main.index")'),
    # starts with "/": "//evil.example" is another site to a browser
    ("05.3", 'if isinstance(target, str) and target.startswith("/"):\n'
             '    return target\n'
             'return url_for("main.index")'),

    # an early return for an unknown e-mail: its answer comes in a millisecond and tells who is a member
    ("05.4", (FIND_MEMBER +
              'if member is not None and member.check_password(form.password.data):\n'
              '    start_login(member, remember=form.remember.data)\n'
              + WELCOME +
              'flash(LOGIN_FAILED)',
              LOGOUT)),
    # every login remembered for 14 days, ticked or not: on a shared computer the next person is still logged in
    ("05.4", (FIND_MEMBER +
              'if member is not None and member.check_password(form.password.data):\n'
              '    start_login(member, remember=True)\n'
              + WELCOME +
              'if member is None or member.password_hash is None:\n'
              '    check_password_hash(DUMMY_HASH, form.password.data)\n'
              'flash(LOGIN_FAILED)',
              LOGOUT)),
    # logout_user() alone, as Flask-Login's docs show: copies of the cookies keep working
    ("05.4", (FIND_MEMBER +
              'if member is not None and member.check_password(form.password.data):\n'
              '    start_login(member, remember=form.remember.data)\n'
              + WELCOME +
              'if member is None or member.password_hash is None:\n'
              '    check_password_hash(DUMMY_HASH, form.password.data)\n'
              'flash(LOGIN_FAILED)',
              'logout_user()')),
]

HIDDEN = [
    # the password stripped, as the other fields are: a passphrase's spaces are dropped, so fewer spaces also pass
    ("05.1", ('self.password_hash = generate_password_hash(password.strip())\n'
              'self.logins.clear()',
              'if self.password_hash is None:\n'
              '    return False\n'
              'return check_password_hash(self.password_hash, password.strip())')),
    # bcrypt's habit of 72 characters at most: two long passwords with the same start are one password
    ("05.1", ('self.password_hash = generate_password_hash(password[:72])\n'
              'self.logins.clear()',
              'if self.password_hash is None:\n'
              '    return False\n'
              'return check_password_hash(self.password_hash, password[:72])')),

    # cookies from before chapter 05 hold the member's id, kept working: an id never dies, so neither do its copies
    ("05.2", 'login = db.session.scalar(db.select(Login).where(Login.token == token, Login.created_at > oldest_live_login()))\n'
             'if login is not None:\n'
             '    login.user.login_token = token\n'
             '    return login.user\n'
             'if token.isdigit():\n'
             '    return db.session.get(User, int(token))\n'
             'return None'),
    # LIKE instead of ==: SQLite's LIKE ignores case, and "%" or "_" in a token match other log-ins
    ("05.2", 'login = db.session.scalar(db.select(Login).where(Login.token.like(token), Login.created_at > oldest_live_login()))\n'
             'if login is None:\n'
             '    return None\n'
             'login.user.login_token = login.token\n'
             'return login.user'),

    # white space and NUL refused instead of every unprintable character: a space is refused, DEL and ESC kept
    ("05.3", 'import re\n'
             'if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):\n'
             '    return url_for("main.index")\n'
             'if "\\\\" in target or re.search(r"[\\s\\x00]", target):\n'
             '    return url_for("main.index")\n'
             'parts = urlsplit(target)\n'
             'return target if not parts.scheme and not parts.netloc else url_for("main.index")'),
    # control characters as those below 32: DEL (127) is unprintable too, and kept
    ("05.3", 'if (isinstance(target, str) and target.startswith("/") and not target.startswith("//")\n'
             '        and "\\\\" not in target and all(ord(c) >= 32 for c in target)):\n'
             '    parts = urlsplit(target)\n'
             '    if not parts.scheme and not parts.netloc:\n'
             '        return target\n'
             'return url_for("main.index")'),

    # the dummy hash first and one comparison, but a member without a password has None: check_password_hash fails
    ("05.4", (FIND_MEMBER +
              'stored = member.password_hash if member is not None else DUMMY_HASH\n'
              'if check_password_hash(stored, form.password.data) and member is not None:\n'
              '    start_login(member, remember=form.remember.data)\n'
              + WELCOME +
              'flash(LOGIN_FAILED)',
              LOGOUT)),
    # the dummy check only for an unknown e-mail: a member without a password answers at once, and time tells
    ("05.4", (FIND_MEMBER +
              'if member is not None and member.check_password(form.password.data):\n'
              '    start_login(member, remember=form.remember.data)\n'
              + WELCOME +
              'if member is None:\n'
              '    check_password_hash(DUMMY_HASH, form.password.data)\n'
              'flash(LOGIN_FAILED)',
              LOGOUT)),
]

# 05.5 is a design exercise: an answer is the whole module bookshelf/devices.py (its docstring and bp are given)
DEVICES = "bookshelf/devices.py"
DEVICES_HEAD = r'''from flask import abort, flash, redirect, render_template_string, request, url_for
from flask_login import current_user, login_required, logout_user

from .db import db
from .forms import csrf
from .models import Login

PAGE = ("{% extends 'base.html' %}{% block content %}<ul>{% for login in logins %}<li>{{ login.created_at }}"
        "{% if login.token == current_user.get_id() %} (this device){% endif %}"
        "<form method='post' action='/account/logins/{{ login.id }}/end'>"
        "<input type='hidden' name='csrf_token' value='{{ csrf_token() }}'><button>End</button></form></li>"
        "{% endfor %}</ul>{% endblock %}")


'''
# the page of the answers built with devices(): the member's own log-ins
OWN_LIST = r'''@bp.get("/account/logins")
@login_required
def logins():
    mine = db.session.scalars(db.select(Login).where(Login.user_id == current_user.id).order_by(Login.id))
    return render_template_string(PAGE, logins=list(mine))


'''
# what the end views built with devices() share: the log-in deleted, this device logged out, a redirect
END_BODY = r'''    here = login.token == current_user.get_id()
    db.session.delete(login)
    db.session.commit()
    if here:
        logout_user()
    return redirect(url_for("devices.logins"))'''
OWN_OR_404 = '    login = db.first_or_404(db.select(Login).filter_by(id=login_id, user_id=current_user.id))\n'
END_ROUTE = '@bp.post("/account/logins/<int:login_id>/end")\n@login_required\ndef end(login_id):\n'


def devices(text):
    """Return a module of 05.5 with the shared imports and page, then this text."""
    return {DEVICES: DEVICES_HEAD + text}


CORRECT += [
    # class-based views, a table, the log-in's token read once and the row deleted by statement
    ("05.5", {DEVICES: r'''from flask import abort, redirect, render_template_string, url_for
from flask.views import MethodView
from flask_login import current_user, login_required, logout_user

from .db import db
from .models import Login

TABLE = ('{% extends "base.html" %}{% block content %}<h1>Your devices</h1><table>'
         '{% for login in logins %}<tr><td>{{ login.created_at }}</td><td>{{ "This device" if login.token == here }}</td>'
         '<td><form method="post" action="/account/logins/{{ login.id }}/end">'
         '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"><button>End</button></form></td></tr>'
         '{% endfor %}</table>{% endblock %}')


class LoginList(MethodView):
    decorators = [login_required]

    def get(self):
        return render_template_string(TABLE, logins=current_user.logins, here=current_user.get_id())


class EndLogin(MethodView):
    decorators = [login_required]

    def post(self, login_id):
        token = db.session.scalar(db.select(Login.token).filter_by(id=login_id, user_id=current_user.id))
        if token is None:
            abort(404)
        db.session.execute(db.delete(Login).where(Login.id == login_id))
        db.session.commit()
        if token == current_user.get_id():
            logout_user()
            return redirect(url_for("main.index"))
        return redirect(url_for("devices.login_list"))


bp.add_url_rule("/account/logins", view_func=LoginList.as_view("login_list"))
bp.add_url_rule("/account/logins/<int:login_id>/end", view_func=EndLogin.as_view("end_login"))'''}),
    # plain functions, a template file this module writes, a FlaskForm for the token, the log-in found among
    # current_user.logins; no logout_user: the row deleted is enough, the next request loads nobody
    ("05.5", {DEVICES: r'''from pathlib import Path

from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from .db import db

TEMPLATE = Path(__file__).parent / "templates" / "devices" / "logins.html"
TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
TEMPLATE.write_text("""{% extends "base.html" %}
{% block title %}Your devices{% endblock %}
{% block content %}
<ol>
{% for login in logins %}
  <li>Since {{ login.created_at.date() }}{% if login.token == current_user.get_id() %}, on this device{% endif %}
    <form method="post" action="{{ url_for('devices.end_login', login_id=login.id) }}">
      {{ form.hidden_tag() }}<button>Log out there</button>
    </form>
  </li>
{% endfor %}
</ol>
{% endblock %}
""", encoding="utf-8")


class EndForm(FlaskForm):
    """A form of nothing but its CSRF token."""


def own(login_id):
    for login in current_user.logins:
        if login.id == login_id:
            return login
    abort(404)


@bp.route("/account/logins")
@login_required
def list_logins():
    return render_template("devices/logins.html", logins=sorted(current_user.logins, key=lambda login: login.id),
                           form=EndForm())


@bp.route("/account/logins/<int:login_id>/end", methods=["POST"])
@login_required
def end_login(login_id):
    if not EndForm().validate_on_submit():
        abort(400)
    db.session.delete(own(login_id))
    db.session.commit()
    return redirect(url_for("devices.list_logins"))'''}),
]

WRONG += [
    # any member's log-in ended by its id: Ann logs Ben out
    ("05.5", devices(OWN_LIST + END_ROUTE + '    login = db.get_or_404(Login, login_id)\n' + END_BODY)),
    # a link that ends a log-in: GET ends it too, so any page's <img src> can log a member out
    ("05.5", devices(OWN_LIST + '@bp.route("/account/logins/<int:login_id>/end", methods=["GET", "POST"])\n'
                     '@login_required\ndef end(login_id):\n' + OWN_OR_404 + END_BODY)),
    # this device's log-in ended by logout_user() alone: its row stays, and a copy of its cookie keeps working
    ("05.5", devices(OWN_LIST + END_ROUTE + OWN_OR_404 +
                     '    if login.token == current_user.get_id():\n'
                     '        logout_user()\n'
                     '        return redirect(url_for("main.index"))\n'
                     '    db.session.delete(login)\n'
                     '    db.session.commit()\n'
                     '    return redirect(url_for("devices.logins"))')),
    # the CSRF check switched off for a button: another site's form can end a member's log-ins
    ("05.5", devices(OWN_LIST + '@bp.post("/account/logins/<int:login_id>/end")\n@csrf.exempt\n@login_required\n'
                     'def end(login_id):\n' + OWN_OR_404 + END_BODY)),
    # this device told by the log-in's id against the member's id: right only where the two happen to be equal
    ("05.5", devices(OWN_LIST.replace('render_template_string(PAGE, logins=list(mine))',
                                      'render_template_string(PAGE.replace("login.token == current_user.get_id()", '
                                      '"login.id == current_user.id"), logins=list(mine))')
                     + END_ROUTE + OWN_OR_404 + END_BODY)),
    # another member's log-in is 403: the answer tells that the id exists
    ("05.5", devices(OWN_LIST + END_ROUTE + '    login = db.get_or_404(Login, login_id)\n'
                     '    if login.user_id != current_user.id:\n'
                     '        abort(403)\n' + END_BODY)),
]

HIDDEN += [
    # every log-in on the site listed: the query forgot whose they are
    ("05.5", devices(OWN_LIST.replace('.where(Login.user_id == current_user.id)', '') + END_ROUTE + OWN_OR_404 + END_BODY)),
    # 403 for another member's log-in, found by its id first
    ("05.5", devices(OWN_LIST + END_ROUTE + '    login = db.get_or_404(Login, login_id)\n'
                     '    if login not in current_user.logins:\n'
                     '        abort(403)\n' + END_BODY)),
    # this device's log-in ended by logout_user() alone, as logout's docs show: a copy of its cookie lives on
    ("05.5", devices(OWN_LIST + END_ROUTE + OWN_OR_404 +
                     '    if login.token == current_user.get_id():\n'
                     '        logout_user()\n'
                     '    else:\n'
                     '        db.session.delete(login)\n'
                     '        db.session.commit()\n'
                     '    return redirect(url_for("devices.logins"))')),
    # GET and POST both end: a link does it
    ("05.5", devices(OWN_LIST + '@bp.route("/account/logins/<int:login_id>/end", methods=("GET", "POST"))\n'
                     '@login_required\ndef end(login_id):\n' + OWN_OR_404 + END_BODY)),
    # a visitor answered 401 instead of sent to log in
    ("05.5", devices('@bp.get("/account/logins")\n'
                     'def logins():\n'
                     '    if not current_user.is_authenticated:\n'
                     '        abort(401)\n'
                     '    mine = db.session.scalars(db.select(Login).where(Login.user_id == current_user.id))\n'
                     '    return render_template_string(PAGE, logins=list(mine))\n\n\n'
                     '@bp.post("/account/logins/<int:login_id>/end")\n'
                     'def end(login_id):\n'
                     '    if not current_user.is_authenticated:\n'
                     '        abort(401)\n' + OWN_OR_404 + END_BODY)),
    # logout's body copied: every log-in ended logs this device out too
    ("05.5", devices(OWN_LIST + END_ROUTE + OWN_OR_404 +
                     '    db.session.delete(login)\n'
                     '    db.session.commit()\n'
                     '    logout_user()\n'
                     '    return redirect(url_for("main.index"))')),
]
