"""Chapter 10: settings from the environment, what production refuses, and Bookshelf's own tests."""

# 10.3's answers are test suites: a text per file of the exercise (tests/conftest.py is given)
# four tests that pass on Bookshelf and prove nothing about it
PAGES_ONLY = '''def test_login_page(client):
    assert client.get("/auth/login").status_code == 200


def test_register_page(client):
    assert client.get("/auth/register").status_code == 200


def test_index(client):
    assert client.get("/").status_code == 200


def test_login_posts(client, auth):
    assert auth.login().status_code in (200, 302)'''

# 10.4 is a design exercise: an answer is the whole module bookshelf/health.py (its docstring and bp are given)
HEALTH = "bookshelf/health.py"


def health(view):
    """Return a module of 10.4 whose view is `view`: a function on bp, the session's query, a dict answered."""
    return {HEALTH: 'from flask import current_app, session\n'
                    'from flask_login import login_required\n'
                    'from sqlalchemy import text\n'
                    'from sqlalchemy.exc import SQLAlchemyError\n'
                    '\n'
                    'from .db import db\n'
                    '\n'
                    'NO_STORE = {"Cache-Control": "no-store"}\n'
                    '\n'
                    '\n' + view}


# what the answers built with health() share: the query tried, the failure logged, the fixed answers
ASKED = ('    try:\n'
         '        db.session.execute(text("SELECT 1"))\n'
         '    except SQLAlchemyError:\n'
         '        current_app.logger.exception("no database")\n'
         '        return {"status": "unavailable", "database": "unreachable"}, 503, NO_STORE\n'
         '    return {"status": "ok", "database": "ok"}, 200, NO_STORE')


CORRECT = [
    # a loop over the plain variables, the scheme replaced with removeprefix
    ("10.1", 'for name in AS_GIVEN:\n'
             '    if environ.get(name):\n'
             '        settings[name] = environ[name]\n'
             'url = environ.get("DATABASE_URL", "")\n'
             'for old in ("postgres://", "postgresql://"):\n'
             '    if url.startswith(old):\n'
             '        url = "postgresql+psycopg://" + url.removeprefix(old)\n'
             'if url:\n'
             '    settings["SQLALCHEMY_DATABASE_URI"] = url\n'
             'if environ.get("MAIL_PORT"):\n'
             '    settings["MAIL_PORT"] = int(environ["MAIL_PORT"])\n'
             'for name in ("MAIL_USE_TLS", "MAIL_USE_SSL"):\n'
             '    if environ.get(name):\n'
             '        settings[name] = is_true(environ[name])'),
    # what is set gathered first, then converted; a regular expression for the scheme
    ("10.1", 'import re\n'
             'given = {name: value for name, value in environ.items() if value}\n'
             'settings.update({name: given[name] for name in AS_GIVEN if name in given})\n'
             'if "DATABASE_URL" in given:\n'
             '    settings["SQLALCHEMY_DATABASE_URI"] = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", given["DATABASE_URL"])\n'
             'if "MAIL_PORT" in given:\n'
             '    settings["MAIL_PORT"] = int(given["MAIL_PORT"])\n'
             'settings.update({name: is_true(given[name]) for name in ("MAIL_USE_TLS", "MAIL_USE_SSL") if name in given})'),

    # the settings by loop, the key read with get
    ("10.2", 'key = app.config.get("SECRET_KEY")\n'
             'if not key or key == DEV_SECRET_KEY or key_bytes(key) < MIN_KEY_BYTES:\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'for cookie in ("SESSION", "REMEMBER"):\n'
             '    app.config[f"{cookie}_COOKIE_SECURE"] = True\n'
             '    app.config[f"{cookie}_COOKIE_HTTPONLY"] = True\n'
             '    app.config[f"{cookie}_COOKIE_SAMESITE"] = "Lax"\n'
             'app.config["PREFERRED_URL_SCHEME"] = "https"\n'
             'if not (app.config.get("SERVER_NAME") or app.config.get("TRUSTED_HOSTS")):\n'
             '    raise RuntimeError(NO_SERVER_NAME)'),
    # the key's length by its UTF-8 bytes, the refusal by membership
    ("10.2", 'key = app.config.get("SECRET_KEY") or ""\n'
             'if key == DEV_SECRET_KEY or len(key.encode() if isinstance(key, str) else key) < 32:\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'if app.config.get("SERVER_NAME") in (None, "") and not app.config.get("TRUSTED_HOSTS"):\n'
             '    raise RuntimeError(NO_SERVER_NAME)\n'
             'app.config.from_mapping(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True,\n'
             '                        SESSION_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_HTTPONLY=True,\n'
             '                        SESSION_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_SAMESITE="Lax",\n'
             '                        PREFERRED_URL_SCHEME="https")'),

    # the tutorial's layout, tests that follow redirects and read the pages
    ("10.3", {
        "tests/test_auth.py": 'def test_login_then_members_page(client, auth):\n'
                              '    page = auth.login()\n'
                              '    assert page.status_code == 302\n'
                              '    assert client.get("/auth/password").status_code == 200\n'
                              '\n\n'
                              'def test_wrong_password(client, auth):\n'
                              '    auth.login(password="wrong password")\n'
                              '    assert client.get("/auth/password").status_code == 302\n'
                              '\n\n'
                              'def test_logout(client, auth):\n'
                              '    auth.login()\n'
                              '    assert client.get("/auth/password").status_code == 200\n'
                              '    auth.logout()\n'
                              '    assert client.get("/auth/password").status_code == 302',
        "tests/test_books.py": 'def test_members_only(client):\n'
                               '    page = client.get("/books/new", follow_redirects=True)\n'
                               '    assert page.request.path == "/auth/login"\n'
                               '\n\n'
                               'def test_new_book_in_list(client, auth):\n'
                               '    auth.login()\n'
                               '    client.post("/books/new", data={"title": "Dawn", "author": "Octavia E. Butler"})\n'
                               '    assert "Dawn" in client.get("/").get_data(as_text=True)',
    }),
    # a member registered through the form, and one module for the whole story
    ("10.3", {
        "tests/test_auth.py": 'def test_right_and_wrong_password(client, auth):\n'
                              '    assert "Wrong e-mail" in auth.login(password="nope").get_data(as_text=True)\n'
                              '    assert auth.login().status_code == 302\n'
                              '\n\n'
                              'def test_logging_out(client, auth):\n'
                              '    auth.login()\n'
                              '    auth.logout()\n'
                              '    assert "/auth/login" in client.get("/books/new").headers.get("Location", "")',
        "tests/test_books.py": 'def test_visitor_redirected(client):\n'
                               '    assert "/auth/login" in client.get("/books/new").headers.get("Location", "")\n'
                               '\n\n'
                               'def test_added_book_listed(client, auth):\n'
                               '    auth.login()\n'
                               '    added = client.post("/books/new", data={"title": "Parable of the Sower", "author": "Octavia E. Butler"})\n'
                               '    assert added.status_code == 302\n'
                               '    assert "Parable of the Sower" in client.get("/").get_data(as_text=True)',
    }),
    # a function on bp that returns a dict, a status and headers; the session's query
    ("10.4", health('@bp.route("/health")\n'
                    'def health():\n' + ASKED)),
    # a MethodView on its own connection from the engine, the answer made with make_response
    ("10.4", {HEALTH: 'from flask import jsonify, make_response\n'
                      'from flask.views import MethodView\n'
                      'from sqlalchemy import text\n'
                      'from sqlalchemy.exc import OperationalError\n'
                      '\n'
                      'from .db import db\n'
                      '\n'
                      '\n'
                      'class Health(MethodView):\n'
                      '    """What the platform asks: can Bookshelf reach its database?"""\n'
                      '\n'
                      '    def get(self):\n'
                      '        try:\n'
                      '            with db.engine.connect() as connection:\n'
                      '                reached = connection.scalar(text("SELECT 1")) == 1\n'
                      '        except OperationalError:\n'
                      '            reached = False\n'
                      '        if reached:\n'
                      '            response = make_response(jsonify(status="ok", database="ok"), 200)\n'
                      '        else:\n'
                      '            response = make_response(jsonify(status="unavailable", database="unreachable"), 503)\n'
                      '        response.cache_control.no_store = True\n'
                      '        return response\n'
                      '\n'
                      '\n'
                      'bp.add_url_rule("/health", view_func=Health.as_view("health"))'}),
]

WRONG = [
    # bool() of a string: MAIL_USE_TLS=false turns TLS on
    ("10.1", 'for name in AS_GIVEN:\n'
             '    if environ.get(name):\n'
             '        settings[name] = environ[name]\n'
             'if environ.get("DATABASE_URL"):\n'
             '    settings["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")\n'
             'if environ.get("MAIL_PORT"):\n'
             '    settings["MAIL_PORT"] = int(environ["MAIL_PORT"])\n'
             'if environ.get("MAIL_USE_TLS"):\n'
             '    settings["MAIL_USE_TLS"] = bool(environ["MAIL_USE_TLS"])'),
    # empty variables kept, and the port left as text
    ("10.1", 'for name in (*AS_GIVEN, "MAIL_PORT", "MAIL_USE_TLS"):\n'
             '    if name in environ:\n'
             '        settings[name] = environ[name]\n'
             'if "DATABASE_URL" in environ:\n'
             '    settings["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]'),
    # DATABASE_URL under its own name, which Flask-SQLAlchemy never reads
    ("10.1", 'for name in (*AS_GIVEN, "DATABASE_URL"):\n'
             '    if environ.get(name):\n'
             '        settings[name] = environ[name]\n'
             'if environ.get("MAIL_PORT"):\n'
             '    settings["MAIL_PORT"] = int(environ["MAIL_PORT"])\n'
             'if environ.get("MAIL_USE_TLS"):\n'
             '    settings["MAIL_USE_TLS"] = is_true(environ["MAIL_USE_TLS"])'),

    # the answer before issue 24: any key but "" and "dev" starts ("a", "secret"), and no SERVER_NAME only warns
    ("10.2", 'if app.config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",\n'
             '                  REMEMBER_COOKIE_SECURE=True, REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",\n'
             '                  PREFERRED_URL_SCHEME="https")\n'
             'if not app.config.get("SERVER_NAME"):\n'
             '    app.logger.warning(NO_SERVER_NAME)'),
    # a length, but too low: a key of 16 characters is guessed as "secret" is, only later
    ("10.2", 'key = app.config.get("SECRET_KEY")\n'
             'if key in (None, "", DEV_SECRET_KEY) or len(key) < 16:\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'if not app.config.get("SERVER_NAME") and not app.config.get("TRUSTED_HOSTS"):\n'
             '    raise RuntimeError(NO_SERVER_NAME)\n'
             'app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",\n'
             '                  REMEMBER_COOKIE_SECURE=True, REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",\n'
             '                  PREFERRED_URL_SCHEME="https")'),
    # SERVER_NAME alone accepted: a server that lists its TRUSTED_HOSTS instead cannot start
    ("10.2", 'key = app.config.get("SECRET_KEY")\n'
             'if key in (None, "", DEV_SECRET_KEY) or key_bytes(key) < MIN_KEY_BYTES:\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'if not app.config.get("SERVER_NAME"):\n'
             '    raise RuntimeError(NO_SERVER_NAME)\n'
             'app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",\n'
             '                  REMEMBER_COOKIE_SECURE=True, REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",\n'
             '                  PREFERRED_URL_SCHEME="https")'),
    # the environment asked instead of the app: no key at all is let through
    ("10.2", 'import os\n'
             'if os.environ.get("SECRET_KEY") == DEV_SECRET_KEY:\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")'),
    # only the development key refused: an empty SECRET_KEY (in instance/config.py) starts the app, and anyone can
    # sign its cookies
    ("10.2", 'if app.config.get("SECRET_KEY") == DEV_SECRET_KEY:\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",\n'
             '                  REMEMBER_COOKIE_SECURE=True, REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",\n'
             '                  PREFERRED_URL_SCHEME="https")\n'
             'if not app.config.get("SERVER_NAME"):\n'
             '    app.logger.warning(NO_SERVER_NAME)'),
    # the missing SERVER_NAME printed, and the app started: a mailed link may still name a forged host
    ("10.2", 'if not app.config.get("SECRET_KEY") or app.config["SECRET_KEY"] == DEV_SECRET_KEY:\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'for cookie in ("SESSION", "REMEMBER"):\n'
             '    app.config[f"{cookie}_COOKIE_SECURE"] = app.config[f"{cookie}_COOKIE_HTTPONLY"] = True\n'
             '    app.config[f"{cookie}_COOKIE_SAMESITE"] = "Lax"\n'
             'app.config["PREFERRED_URL_SCHEME"] = "https"\n'
             'if not app.config.get("SERVER_NAME"):\n'
             '    print(NO_SERVER_NAME)'),
    # only the session cookie is marked: the remember cookie travels over plain HTTP
    ("10.2", 'if app.config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")'),
    # a key refused whatever it is
    ("10.2", 'if app.config.get("SECRET_KEY") != "":\n'
             '    raise RuntimeError(NO_SECRET_KEY)'),

    # tests that pass whatever the app does
    ("10.3", {
              "tests/test_auth.py": 'def test_login(client, auth):\n    auth.login()\n    assert True\n\n\n'
                                    'def test_logout(client, auth):\n    auth.logout()\n    assert True',
              "tests/test_books.py": 'def test_books(client):\n    client.get("/books/new")\n    assert True\n\n\n'
                                     'def test_list(client):\n    client.get("/")\n    assert True'}),
    # pages only: every page answers, and nothing about who may do what
    ("10.3", {"tests/test_auth.py": PAGES_ONLY,
              "tests/test_books.py": 'def test_book_form_exists(client):\n    assert client.get("/books/new").status_code in (200, 302)'}),
    # the tests that matter skipped, the rest pass
    ("10.3", {"tests/test_auth.py": PAGES_ONLY,
              "tests/test_books.py": 'import pytest\n\n\n@pytest.mark.skip(reason="later")\n'
                                     'def test_visitor(client):\n    assert client.get("/books/new").status_code == 302\n\n\n'
                                     '@pytest.mark.xfail\ndef test_wrong_password(client, auth):\n'
                                     '    auth.login(password="x")\n    assert client.get("/books/new").status_code == 302'}),
    # the run ended early with status 0, before any test: "nothing failed"
    ("10.3", {"tests/test_auth.py": PAGES_ONLY,
              "tests/test_books.py": 'import pytest\n\n'
                                     'pytest.exit("all good", returncode=0)\n\n\n'
                                     'def test_visitor(client):\n    assert client.get("/books/new").status_code == 302'}),
    # the error not caught: the database's exception becomes a 500 (a traceback in debug)
    ("10.4", health('@bp.get("/health")\n'
                    'def health():\n'
                    '    db.session.execute(text("SELECT 1"))\n'
                    '    return {"status": "ok", "database": "ok"}, 200, NO_STORE')),
    # the exception's text in the answer, to help whoever reads it
    ("10.4", health('@bp.get("/health")\n'
                    'def health():\n'
                    '    try:\n'
                    '        db.session.execute(text("SELECT 1"))\n'
                    '    except SQLAlchemyError as error:\n'
                    '        return {"status": "unavailable", "database": "unreachable", "reason": str(error)}, 503, NO_STORE\n'
                    '    return {"status": "ok", "database": "ok"}, 200, NO_STORE')),
    # the database's address in the answer
    ("10.4", health('@bp.get("/health")\n'
                    'def health():\n'
                    '    try:\n'
                    '        db.session.execute(text("SELECT 1"))\n'
                    '    except SQLAlchemyError:\n'
                    '        return {"status": "unavailable", "database": f"unreachable at {db.engine.url}"}, 503, NO_STORE\n'
                    '    return {"status": "ok", "database": "ok"}, 200, NO_STORE')),
    # members only: the platform, which never logs in, is sent to the login page
    ("10.4", health('@bp.get("/health")\n'
                    '@login_required\n'
                    'def health():\n' + ASKED)),
    # a count of the checks kept in the session: every probe gets a session cookie
    ("10.4", health('@bp.get("/health")\n'
                    'def health():\n'
                    '    session["health_checks"] = session.get("health_checks", 0) + 1\n' + ASKED)),
    # "ok" whatever happens: the database is never asked
    ("10.4", health('@bp.get("/health")\n'
                    'def health():\n'
                    '    return {"status": "ok", "database": "ok"}, 200, NO_STORE')),
]

# half-answers: each fails a hidden test (and, as every wrong answer, a public check of the same rule)
HIDDEN = [
    # postgresql:// only: a platform's postgres:// reaches SQLAlchemy, which no longer knows it
    ("10.1", 'for name in AS_GIVEN:\n'
             '    if environ.get(name):\n'
             '        settings[name] = environ[name]\n'
             'if environ.get("DATABASE_URL"):\n'
             '    settings["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)\n'
             'if environ.get("MAIL_PORT"):\n'
             '    settings["MAIL_PORT"] = int(environ["MAIL_PORT"])\n'
             'if environ.get("MAIL_USE_TLS"):\n'
             '    settings["MAIL_USE_TLS"] = is_true(environ["MAIL_USE_TLS"])'),
    # MAIL_USE_SSL forgotten, and the sender with it
    ("10.1", 'for name in ("SECRET_KEY", "SERVER_NAME", "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD"):\n'
             '    if environ.get(name):\n'
             '        settings[name] = environ[name]\n'
             'url = environ.get("DATABASE_URL", "")\n'
             'if url:\n'
             '    settings["SQLALCHEMY_DATABASE_URI"] = url.replace("postgres://", "postgresql://", 1).replace("postgresql://", "postgresql+psycopg://", 1)\n'
             'if environ.get("MAIL_PORT"):\n'
             '    settings["MAIL_PORT"] = int(environ["MAIL_PORT"])\n'
             'if environ.get("MAIL_USE_TLS"):\n'
             '    settings["MAIL_USE_TLS"] = is_true(environ["MAIL_USE_TLS"])'),
    # the port as text: the factory hands Flask-Mail "2525"
    ("10.1", 'for name in (*AS_GIVEN, "MAIL_PORT"):\n'
             '    if environ.get(name):\n'
             '        settings[name] = environ[name]\n'
             'if environ.get("DATABASE_URL"):\n'
             '    settings["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]\n'),

    # the environment's key judged, not the app's: a key in instance/config.py is refused
    ("10.2", 'import os\n'
             'if os.environ.get("SECRET_KEY", DEV_SECRET_KEY) in ("", DEV_SECRET_KEY):\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")\n'
             'if not app.config.get("SERVER_NAME"):\n'
             '    app.logger.warning(NO_SERVER_NAME)'),
    # the cookies, but links mailed by a command still say http://
    ("10.2", 'if app.config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)\n'
             'if not app.config.get("SERVER_NAME"):\n'
             '    app.logger.warning(NO_SERVER_NAME)'),
    # no word about SERVER_NAME
    ("10.2", 'if app.config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):\n'
             '    raise RuntimeError(NO_SECRET_KEY)\n'
             'app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")'),

    # passwords and visitors tested; the list and logging out never are
    ("10.3", {
              "tests/test_auth.py": 'def test_login_page(client):\n    assert client.get("/auth/login").status_code == 200\n\n\n'
                                    'def test_right_password(client, auth):\n    auth.login()\n'
                                    '    assert client.get("/books/new").status_code == 200\n\n\n'
                                    'def test_wrong_password(client, auth):\n    auth.login(password="x")\n'
                                    '    assert client.get("/books/new").status_code == 302',
              "tests/test_books.py": 'def test_visitor(client):\n'
                                     '    assert "/auth/login" in client.get("/books/new").headers["Location"]'}),
    # the query counts the books: correct, and dearer with every book
    ("10.4", health('@bp.get("/health")\n'
                    'def health():\n' + ASKED.replace('text("SELECT 1")', 'text("SELECT count(*) FROM books")'))),
    # the 503 never given: any error is still "ok"
    ("10.4", health('@bp.get("/health")\n'
                    'def health():\n'
                    '    try:\n'
                    '        db.session.execute(text("SELECT 1"))\n'
                    '    except SQLAlchemyError:\n'
                    '        pass\n'
                    '    return {"status": "ok", "database": "ok"}, 200, NO_STORE')),
    # no-store on the healthy answer only
    ("10.4", health('@bp.get("/health")\n'
                    'def health():\n' + ASKED.replace('503, NO_STORE', '503'))),
]
