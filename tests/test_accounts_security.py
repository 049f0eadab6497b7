"""Chapter 05's accounts answer each bad input of the security list (cases 1-6, 8, 13-15) safely, CSRF on.

The reference Bookshelf is built once; every test starts fresh clients and gets its CSRF tokens from the pages, as a
browser does. scrypt is slow on purpose, so members are registered once per module and only where a test needs one.
"""

import html
import logging
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import url_for
from helpers import MEMBER_EMAIL, MEMBER_PASSWORD, csrf_token_in, filled_form, free_port, reference_factory
from sqlalchemy import inspect, text
from werkzeug.security import check_password_hash

from workbook.app import TEST_CONFIG

TWIN_EMAIL = "twin@example.com"  # a second member with the same password as the first
SPACED_PASSWORD = " a passphrase with spaces "
# Google's documented test keys: the widget shows, and verification always passes when Google can be reached
RECAPTCHA_KEYS = {
    "RECAPTCHA_PUBLIC_KEY": "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI",
    "RECAPTCHA_PRIVATE_KEY": "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe",
}
# an app that is not TESTING would otherwise open a database file in its instance folder
IN_MEMORY = "sqlite:///:memory:"
AUTH_POSTS = ["/auth/login", "/auth/register", "/auth/logout", "/auth/logout-everywhere", "/auth/password"]


@pytest.fixture(scope="module")
def create_app(tmp_path_factory):
    """Build chapter 05's reference Bookshelf once, in a folder of the test's, and return its factory."""
    yield from reference_factory(tmp_path_factory, "05")


@pytest.fixture(scope="module")
def app(create_app):
    """Return the app with two members who share a password, registered through the form (once: scrypt is slow)."""
    app = create_app(dict(TEST_CONFIG))
    for email in (MEMBER_EMAIL, TWIN_EMAIL):
        assert register(app.test_client(), email, MEMBER_PASSWORD).status_code == 302, f"could not register {email}"
    return app


@pytest.fixture(scope="module")
def twin_session(app):
    """Log the twin in once through the login form and return its session cookie (once: scrypt is slow)."""
    client = app.test_client()
    assert log_in(client, TWIN_EMAIL).status_code == 302
    return client.get_cookie("session").value


@pytest.fixture
def member(app, twin_session):
    """Return a fresh client that carries the twin's session cookie: logged in, as a new tab of a browser is."""
    # one log-in shared by the CSRF cases, so that they cost one scrypt, not fifteen; no test ends it on purpose,
    # so a refused POST that logged the twin out anyway fails first in its own test
    return with_cookies(app, session=twin_session)


def page_of(response) -> str:
    return response.get_data(as_text=True)


def token(client, path: str) -> str:
    """Return the CSRF token of the form on a page, as a browser gets it."""
    found = csrf_token_in(page_of(client.get(path)))
    assert found, f"expected a form with a CSRF token on {path}"
    return found


def register(client, email: str, password: str, **values: str):
    """Fill in the registration form as a person would (the password typed twice unless confirm is given); send it."""
    data = filled_form(page_of(client.get("/auth/register")), email, password, **values)
    return client.post("/auth/register", data=data)


def log_in(client, email: str = MEMBER_EMAIL, password: str = MEMBER_PASSWORD, remember: bool = False, **query):
    """Fill in the login form (remember me ticked if asked) and send it, with ?next= and such in query."""
    values = {"remember": "y"} if remember else {}
    data = filled_form(page_of(client.get("/auth/login", query_string=query)), email, password, **values)
    return client.post("/auth/login", query_string=query, data=data)


def post_from_page(client, path: str, **values: str):
    """Send a POST with the CSRF token of the client's own pages (the header's logout forms carry one)."""
    return client.post(path, data={"csrf_token": token(client, "/auth/password"), **values})


def gets_in(client) -> bool:
    """Say whether a members-only page lets the client in (200), rather than sending it to log in (302)."""
    response = client.get("/auth/password")
    assert response.status_code in (200, 302), f"expected 200 or a redirect to log in, got {response.status_code}"
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/auth/login?next="), response.headers["Location"]
    return response.status_code == 200


def with_cookies(app, **cookies: str):
    """Return a fresh client that carries only these cookies, as an attacker who copied them would."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def flashes(response) -> list[str]:
    found = re.search(r'<ul class="flashes">(.*?)</ul>', page_of(response), re.DOTALL)
    return [html.unescape(message) for message in re.findall(r"<li>([^<]*)</li>", found[1])] if found else []


def form_errors(response) -> list[str]:
    return [html.unescape(error) for error in re.findall(r'class="error">([^<]*)<', page_of(response))]


def assert_form_error(response, message: str) -> None:
    assert response.status_code == 200, f"expected the form again with an error, got {response.status_code}"
    assert message in form_errors(response), f"expected the form error {message!r}, got {form_errors(response)}"


def scalar(app, sql: str, **params):
    with app.app_context():
        return app.extensions["sqlalchemy"].session.execute(text(sql), params).scalar()


def members_with(app, email: str) -> int:
    return scalar(app, "SELECT count(*) FROM users WHERE lower(email) = :email", email=email.lower())


def stored_hash(app, email: str) -> str:
    return scalar(app, "SELECT password_hash FROM users WHERE email = :email", email=email)


def set_cookie_header(response, name: str) -> str:
    found = [header for header in response.headers.getlist("Set-Cookie") if header.startswith(f"{name}=")]
    assert found, f"expected a {name} cookie to be set"
    return found[0]


def index_address(app) -> str:
    with app.test_request_context():
        return url_for("main.index")


# 2 and 3: registering


def test_an_email_differing_only_in_case_is_a_duplicate(app):
    response = register(app.test_client(), MEMBER_EMAIL.upper(), "another good passphrase")
    assert_form_error(response, "There is already a member with this e-mail address.")
    assert members_with(app, MEMBER_EMAIL) == 1


def test_a_1_mb_password_is_refused_with_413(app):
    password = "x" * 1_000_000
    response = register(app.test_client(), "huge@example.com", password)
    assert response.status_code == 413
    assert members_with(app, "huge@example.com") == 0


def test_a_300_kb_password_is_a_form_error_before_hashing(app):
    # the request fits under MAX_CONTENT_LENGTH, so the form's maximum length has to refuse it
    response = register(app.test_client(), "large@example.com", "x" * 300_000)
    assert_form_error(response, "Choose a password of 12 to 256 characters.")
    assert members_with(app, "large@example.com") == 0


def test_eleven_emoji_are_eleven_characters_too_few(app):
    response = register(app.test_client(), "emoji11@example.com", "📚" * 11)  # 44 bytes in UTF-8
    assert_form_error(response, "Choose a password of 12 to 256 characters.")
    assert members_with(app, "emoji11@example.com") == 0


def test_twelve_emoji_are_accepted_and_log_in(app):
    assert register(app.test_client(), "emoji12@example.com", "📚" * 12).status_code == 302
    assert log_in(app.test_client(), "emoji12@example.com", "📚" * 12).status_code == 302


def test_a_confirmation_that_differs_is_refused(app):
    response = register(app.test_client(), "mismatch@example.com", MEMBER_PASSWORD, confirm=MEMBER_PASSWORD + "!")
    assert_form_error(response, "The passwords differ.")
    assert members_with(app, "mismatch@example.com") == 0


def test_a_passphrase_with_spaces_is_kept_as_typed(app):
    assert register(app.test_client(), "spaces@example.com", SPACED_PASSWORD).status_code == 302
    assert log_in(app.test_client(), "spaces@example.com", SPACED_PASSWORD).status_code == 302
    trimmed = log_in(app.test_client(), "spaces@example.com", SPACED_PASSWORD.strip())
    assert trimmed.status_code == 200, "expected the passphrase without its spaces refused: they were stripped"


# 4: stored hashes


def test_the_stored_hash_is_scrypt(app):
    stored = stored_hash(app, MEMBER_EMAIL)
    assert stored.startswith("scrypt:") and MEMBER_PASSWORD not in stored


def test_equal_passwords_get_different_hashes(app):
    assert stored_hash(app, MEMBER_EMAIL) != stored_hash(app, TWIN_EMAIL)


def test_the_column_holds_the_whole_hash(app):
    stored = stored_hash(app, MEMBER_EMAIL)
    with app.app_context():
        columns = inspect(app.extensions["sqlalchemy"].engine).get_columns("users")
    width = next(column["type"].length for column in columns if column["name"] == "password_hash")
    assert width is None or width >= len(stored), f"password_hash holds {width} characters, the hash has {len(stored)}"
    assert check_password_hash(stored, MEMBER_PASSWORD), "expected the stored hash to check the password: truncated?"


# 1: one answer for every failed login


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(app):
    wrong = log_in(app.test_client(), MEMBER_EMAIL, "not the password at all")
    unknown = log_in(app.test_client(), "nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 200
    assert flashes(wrong) == flashes(unknown) and len(flashes(wrong)) == 1, (flashes(wrong), flashes(unknown))
    assert form_errors(wrong) == form_errors(unknown) == []


def test_a_member_without_a_password_cannot_log_in(app):
    """A member from before chapter 05 (the demo data) has no password: nobody logs in as them."""
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        session.execute(text("INSERT INTO users (email, name, created_at) VALUES ('old@example.com', 'Old', CURRENT_TIMESTAMP)"))
        session.commit()
    client = app.test_client()
    response = log_in(client, "old@example.com", "any password at all")
    wrong = log_in(app.test_client(), MEMBER_EMAIL, "not the password at all")
    assert response.status_code == 200 and flashes(response) == flashes(wrong)
    assert not gets_in(client)


def test_nobody_claims_an_address_without_registering(app):
    """Chapter 02's open JSON sign-up is gone from chapter 05 on: it let anyone take an e-mail address, password-less,
    so that its owner could never register."""
    client = app.test_client()
    response = client.post("/api/members", json={"email": "victim@example.com", "name": "Victim"})
    assert response.status_code in (404, 405) and response.is_json
    assert members_with(app, "victim@example.com") == 0
    assert register(app.test_client(), "Victim@example.com", "the victim's own passphrase").status_code == 302


# 8: where a login goes next


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
    "\t//evil.example", "/\x00x",
], ids=["//evil", "https-evil", "/backslash-evil", "backslashes-evil", "javascript", "%09//evil", "/%00x"])
def test_a_next_off_the_site_goes_to_the_index(app, target):
    response = log_in(app.test_client(), next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == index_address(app), f"next={target!r} went to {response.headers['Location']}"


def test_a_next_on_the_site_is_followed(app):
    response = log_in(app.test_client(), next="/books/2?page=3")
    assert response.status_code == 302 and response.headers["Location"] == "/books/2?page=3"


# 6: cookies


def test_the_remember_cookie_is_httponly_lax_and_lasts_14_days(app):
    response = log_in(app.test_client(), remember=True)
    cookie = set_cookie_header(response, "remember_token")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie)[1])  # Flask-Login sets Expires only
    assert abs(expires - (datetime.now(UTC) + timedelta(days=14))) < timedelta(minutes=1), cookie


def test_the_session_cookie_is_httponly_and_lax(app):
    cookie = set_cookie_header(log_in(app.test_client()), "session")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


def test_logout_deletes_the_remember_cookie(app):
    client = app.test_client()
    log_in(client, remember=True)
    assert client.get_cookie("remember_token") is not None
    response = post_from_page(client, "/auth/logout")
    assert response.status_code == 302 and response.headers["Location"] == index_address(app)
    assert client.get_cookie("remember_token") is None


# 5: a copied cookie dies with its log-in


def test_cookies_copied_before_logout_are_refused_after_it(app):
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, remember=True)
    log_in(phone)
    session, remember = laptop.get_cookie("session").value, laptop.get_cookie("remember_token").value
    # before logout each copy alone gets in: that is what logout has to end
    assert gets_in(with_cookies(app, session=session)) and gets_in(with_cookies(app, remember_token=remember))
    assert post_from_page(laptop, "/auth/logout").status_code == 302
    assert not gets_in(laptop)
    assert not gets_in(with_cookies(app, session=session)), "a session cookie copied before logout still gets in"
    assert not gets_in(with_cookies(app, remember_token=remember)), "a remember_token copied before logout gets in"
    assert gets_in(phone), "logging out on the laptop logged the phone out too"


def test_a_copied_cookie_dies_with_its_log_in_after_14_days(app):
    """A remember_token copied from a member who never logs out stops working when its log-in is 14 days old."""
    laptop = app.test_client()
    log_in(laptop, remember=True)
    remember = laptop.get_cookie("remember_token").value
    assert gets_in(with_cookies(app, remember_token=remember))
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        token = remember.split("|")[0]
        old = datetime.now(UTC) - timedelta(days=14, minutes=1)
        session.execute(text("UPDATE logins SET created_at = :old WHERE token = :token"), {"old": old, "token": token})
        session.commit()
    assert not gets_in(with_cookies(app, remember_token=remember)), "a 14-day-old log-in still gets in"
    assert not gets_in(laptop), "the laptop's own session outlived its 14-day log-in"


def test_log_out_everywhere_ends_every_device_and_copy(app):
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, remember=True)
    log_in(phone, remember=True)
    copies = [{name: device.get_cookie(name).value} for device in (laptop, phone)
              for name in ("session", "remember_token")]
    assert post_from_page(phone, "/auth/logout-everywhere").status_code == 302
    assert not gets_in(laptop) and not gets_in(phone)
    assert not any(gets_in(with_cookies(app, **copy)) for copy in copies)


def test_a_password_change_ends_every_log_in(app):
    old, new = "the changer's first passphrase", "the changer's second passphrase"
    laptop, phone = app.test_client(), app.test_client()
    assert register(laptop, "changer@example.com", old).status_code == 302
    log_in(phone, "changer@example.com", old, remember=True)
    copies = [{name: device.get_cookie(name).value} for device in (laptop, phone)
              for name in ("session", "remember_token") if device.get_cookie(name)]
    changed = post_from_page(laptop, "/auth/password", current=old, password=new, confirm=new)
    assert changed.status_code == 302
    assert not gets_in(laptop) and not gets_in(phone)
    assert not any(gets_in(with_cookies(app, **copy)) for copy in copies)
    assert log_in(app.test_client(), "changer@example.com", old).status_code == 200
    assert log_in(app.test_client(), "changer@example.com", new).status_code == 302


def test_a_deleted_members_session_is_anonymous(app):
    client = app.test_client()
    assert register(client, "leaver@example.com", "a passphrase for leaving").status_code == 302
    assert gets_in(client)
    member_id = scalar(app, "SELECT id FROM users WHERE email = 'leaver@example.com'")
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        member_class = next(mapper.class_ for mapper in db.Model.registry.mappers if mapper.local_table.name == "users")
        db.session.delete(db.session.get(member_class, member_id))  # as the app deletes: through the model
        db.session.commit()
    assert not gets_in(client)
    assert "Log in" in page_of(client.get("/"))
    assert scalar(app, "SELECT count(*) FROM logins WHERE user_id = :id", id=member_id) == 0


def test_a_member_deleted_by_hand_in_sql_leaves_no_way_in(app):
    """SQLite does not enforce foreign keys by default: a DELETE in SQL leaves the log-in rows, which must not log in."""
    client = app.test_client()
    assert register(client, "erased@example.com", "a passphrase for erasing").status_code == 302
    assert gets_in(client)
    member_id = scalar(app, "SELECT id FROM users WHERE email = 'erased@example.com'")
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        db.session.execute(text("DELETE FROM users WHERE id = :id"), {"id": member_id})
        db.session.commit()
    assert scalar(app, "SELECT count(*) FROM logins WHERE user_id = :id", id=member_id) > 0, "expected orphan rows"
    assert not gets_in(client)
    assert "Log in" in page_of(client.get("/"))


# 13 and 14: logging out changes state, so it is a POST with a token


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/logout-everywhere"])
def test_a_get_does_not_log_out(app, path):
    client = app.test_client()
    log_in(client)  # a log-in of its own: a GET that did log out must not end the twin's, which other tests share
    assert client.get(path).status_code == 405
    assert gets_in(client)


@pytest.mark.parametrize("path", AUTH_POSTS)
@pytest.mark.parametrize("kind, message", [
    pytest.param("missing", "The CSRF token is missing.", id="missing"),
    pytest.param("garbage", "The CSRF token is invalid.", id="garbage"),
    pytest.param("another-session", "The CSRF tokens do not match.", id="another-session"),
])
def test_a_post_without_the_sessions_token_is_refused(app, member, path, kind, message):
    token(member, "/auth/password")  # the member's session has a token of its own
    sent = {"missing": {}, "garbage": {"csrf_token": "garbage.token.here"},
            "another-session": {"csrf_token": token(app.test_client(), "/auth/login")}}[kind]
    response = member.post(path, data={**sent, "email": TWIN_EMAIL, "password": MEMBER_PASSWORD})
    assert response.status_code == 400 and message in page_of(response), f"{kind} token on {path}"
    assert gets_in(member), f"a POST to {path} with a {kind} token logged the member out"


# 15: JSON where a form is read


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
@pytest.mark.parametrize("body", [[1, 2], "abc", 5, {"email": {"not": "a string"}}, {"email": ["x"]}],
                         ids=["list", "string", "number", "object-email", "list-email"])
def test_a_json_body_is_answered_with_the_forms_errors(app, path, body):
    before = scalar(app, "SELECT count(*) FROM users")
    client = app.test_client()
    response = client.post(path, json=body, headers={"X-CSRFToken": token(client, path)})
    assert response.status_code == 200, f"expected the form again, got {response.status_code}"
    assert form_errors(response), "expected the form's errors"
    assert scalar(app, "SELECT count(*) FROM users") == before


# reCAPTCHA: on with keys, and a form error rather than a 500 when Google cannot be reached


def test_an_unreachable_recaptcha_is_a_form_error_and_a_warning(create_app, caplog):
    closed = free_port()  # free a moment ago: nothing listens there
    app = create_app({**TEST_CONFIG, **RECAPTCHA_KEYS, "TESTING": False, "SQLALCHEMY_DATABASE_URI": IN_MEMORY,
                      "RECAPTCHA_VERIFY_SERVER": f"http://127.0.0.1:{closed}/siteverify"})
    client = app.test_client()
    page = page_of(client.get("/auth/register"))
    assert f'data-sitekey="{RECAPTCHA_KEYS["RECAPTCHA_PUBLIC_KEY"]}"' in page
    data = filled_form(page, "robot@example.com", MEMBER_PASSWORD)
    data["g-recaptcha-response"] = "anything"  # what Google's widget adds to the form in a browser
    with caplog.at_level(logging.WARNING):
        response = client.post("/auth/register", data=data)
    assert_form_error(response, "The robot check could not be verified just now. Please try again later.")
    warnings = [record for record in caplog.records if record.name == app.logger.name]
    assert [record.levelno for record in warnings] == [logging.WARNING], "expected one warning in the app's log"
    assert scalar(app, "SELECT count(*) FROM users") == 0


def test_without_keys_there_is_no_recaptcha(create_app):
    app = create_app({**TEST_CONFIG, "TESTING": False, "SQLALCHEMY_DATABASE_URI": IN_MEMORY})
    page = page_of(app.test_client().get("/auth/register"))
    assert "<form" in page and "data-sitekey" not in page and "recaptcha" not in page.lower()


# issue 24, finding 12: a new session at log-in


def test_issue_24_12_a_csrf_token_from_before_log_in_is_refused_after_it(app):
    """Log-in starts a new session: a CSRF token that a page gave before it (perhaps to someone who planted the
    session) is refused afterwards, while the log-in's own pages work."""
    client = app.test_client()
    before = csrf_token_in(page_of(client.get("/auth/login")))
    assert log_in(client).status_code == 302
    assert gets_in(client)
    assert client.post("/auth/logout", data={"csrf_token": before}).status_code == 400
    assert gets_in(client), "expected the refused POST to leave the member logged in"
    assert post_from_page(client, "/auth/logout").status_code == 302


def test_issue_24_12_the_new_session_keeps_the_welcome_and_next(app):
    """What must survive the new session does: the flashed welcome, and ?next= (in the address, not the session)."""
    client = app.test_client()
    response = log_in(client, next="/books/2")
    assert response.status_code == 302 and response.headers["Location"] == "/books/2"
    assert "Welcome back" in page_of(client.get("/books/2"))
