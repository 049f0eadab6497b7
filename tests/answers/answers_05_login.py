"""Chapter 05: password hashes, the user loader, a safe next, and login and logout."""

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
