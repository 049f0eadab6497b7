"""Chapter 09's API answers cases 15 and 19 to 22 of the security list, and every error has one JSON shape.

The reference Bookshelf of chapter 09 is built once; members get tokens through POST /api/tokens, and one also logs in
through the login form, CSRF on, to show that a session cookie writes nothing through the API.
"""

import sys
from datetime import datetime, timedelta, timezone

import pytest

from helpers import csrf_token_in
from workbook import reference
from workbook.app import TEST_CONFIG, forget_package, load_create_app

PASSWORD = "a long passphrase for the api"
MEMBERS = {"ann": [], "ben": [], "lea": ["librarian"]}
SHAPE = {"error", "message"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Build chapter 09's reference once, with Ann, Ben and Lea (a librarian), and Ann's book with her review."""
    folder = tmp_path_factory.mktemp("bookshelf09")
    reference.build(folder, "09")
    app = load_create_app(folder)(dict(TEST_CONFIG))
    from bookshelf.db import db
    from bookshelf.models import Book, Review, Role, User

    with app.app_context():
        for name, roles in MEMBERS.items():
            member = User(name=name.title(), email=f"{name}@example.com", confirmed_at=datetime.now(timezone.utc))
            member.set_password(PASSWORD)
            member.roles.extend(db.session.scalars(db.select(Role).where(Role.name.in_(roles))))
            db.session.add(member)
        ann = db.session.scalar(db.select(User).filter_by(name="Ann"))
        db.session.add(Review(book=Book(title="Kindred", author="Octavia E. Butler"), user=ann, rating=5))
        db.session.commit()
    yield app
    forget_package(folder)
    if str(folder.resolve()) in sys.path:
        sys.path.remove(str(folder.resolve()))


def token_header(app, name):
    """Return the Authorization header of a new token, asked for with the member's e-mail address and password."""
    response = app.test_client().post("/api/tokens", json={"email": f"{name}@example.com", "password": PASSWORD})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['token']}"}


def assert_error(response, status):
    """Assert the status, and the one JSON shape of an error, with no traceback in it."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.get_data(as_text=True)[:300]}"
    assert response.is_json and SHAPE <= set(response.json), f"expected JSON with {SHAPE}, got {response.get_data(as_text=True)[:300]}"
    assert "Traceback" not in response.get_data(as_text=True)


def test_case_19_anonymous_gets_a_json_401_never_a_login_page(app):
    client = app.test_client()
    for method, path in [("GET", "/api/me"), ("POST", "/api/books"), ("PUT", "/api/books/1"), ("DELETE", "/api/books/1"),
                         ("POST", "/api/books/1/reviews"), ("PUT", "/api/reviews/1"), ("DELETE", "/api/reviews/1"),
                         ("DELETE", "/api/tokens")]:
        response = client.open(path, method=method, json={"title": "T", "author": "A", "rating": 3})
        assert_error(response, 401)
        assert "Location" not in response.headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_password_and_an_unknown_address_get_the_same_401(app):
    client = app.test_client()
    wrong = client.post("/api/tokens", json={"email": "ann@example.com", "password": "not hers"})
    unknown = client.post("/api/tokens", json={"email": "nobody@example.com", "password": "not hers"})
    assert_error(wrong, 401)
    assert wrong.json == unknown.json and unknown.status_code == 401


def test_tokens_are_stored_hashed_and_expire(app):
    from bookshelf.api.tokens import ApiToken, utcnow
    from bookshelf.db import db

    headers = token_header(app, "ben")
    token = headers["Authorization"].split()[1]
    with app.app_context():
        stored = db.session.scalars(db.select(ApiToken.token_hash)).all()
        assert token not in stored and all(len(value) == 64 for value in stored)
    client = app.test_client()
    assert client.get("/api/me", headers=headers).status_code == 200
    with app.app_context():
        for row in db.session.scalars(db.select(ApiToken)):
            row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert_error(client.get("/api/me", headers=headers), 401)


def test_a_new_password_revokes_every_token(app):
    from bookshelf.db import db
    from bookshelf.models import User

    headers = token_header(app, "ben")
    with app.app_context():
        ben = db.session.scalar(db.select(User).filter_by(name="Ben"))
        ben.set_password(PASSWORD)
        db.session.commit()
    assert_error(app.test_client().get("/api/me", headers=headers), 401)


def test_case_19_roles_decide_the_writes(app):
    client = app.test_client()
    ann, ben, lea = (token_header(app, name) for name in ("ann", "ben", "lea"))
    assert_error(client.put("/api/books/1", json={"title": "K", "author": "O"}, headers=ann), 403)
    assert_error(client.delete("/api/books/1", headers=ben), 403)
    assert_error(client.put("/api/reviews/1", json={"rating": 1}, headers=ben), 403)
    assert_error(client.delete("/api/reviews/1", headers=ben), 403)
    assert client.put("/api/reviews/1", json={"rating": 4}, headers=lea).status_code == 200
    assert client.put("/api/books/1", json={"title": "Kindred", "author": "Octavia E. Butler"}, headers=lea).status_code == 200


def test_case_20_extra_fields_are_ignored(app):
    client = app.test_client()
    ann = token_header(app, "ann")
    response = client.post("/api/books", headers=ann,
                           json={"title": "Dawn", "author": "Octavia E. Butler", "id": 1, "role": "admin", "is_admin": True})
    assert response.status_code == 201 and response.json["id"] != 1
    assert client.get("/api/me", headers=ann).json["roles"] == []


@pytest.mark.parametrize(("body", "field"), [
    ({"title": 5, "author": "A"}, "title"), ({"title": ["T"], "author": "A"}, "title"),
    ({"title": {"not": "a string"}, "author": "A"}, "title"), ({"title": "T"}, "author"),
    ({"title": "T", "author": "A", "year": "1979"}, "year"), ({"title": "   ", "author": "A"}, "title"),
])
def test_case_15_and_21_a_wrong_field_is_a_400_naming_it(app, body, field):
    response = app.test_client().post("/api/books", json=body, headers=token_header(app, "ann"))
    assert_error(response, 400)
    assert field in response.json.get("errors", {}), response.json


@pytest.mark.parametrize("body", [{"title": "\ud800", "author": "A"}, {"title": "T", "author": "A\udfffB"},
                                  {"title": "T", "author": "A", "\ud800": 1}])
def test_case_21_a_lone_surrogate_is_a_400_not_a_500(app, body):
    """JSON may escape half a UTF-16 pair; no database stores it as UTF-8, so it is refused before any view."""
    assert_error(app.test_client().post("/api/books", json=body, headers=token_header(app, "ann")), 400)


def test_case_15_credentials_of_the_wrong_type_are_a_400(app):
    for body in ({"email": {"not": "a string"}, "password": "x"}, {"email": ["a"], "password": "x"}, [1, 2], "abc", 5):
        assert_error(app.test_client().post("/api/tokens", json=body), 400)


def test_case_21_every_error_has_the_right_status_and_one_shape(app):
    client = app.test_client()
    ann = token_header(app, "ann")
    assert_error(client.post("/api/books", data="{title", content_type="application/json", headers=ann), 400)
    assert_error(client.post("/api/books", data="[" * 5000 + "]" * 5000, content_type="application/json", headers=ann), 400)
    assert_error(client.get("/api/books?per_page=101"), 400)
    assert_error(client.get("/api/books/424242"), 404)
    assert_error(client.get("/api/books/99999999999999999999"), 404)
    assert_error(client.get("/api/nothing-here"), 404)
    response = client.patch("/api/books/1", json={}, headers=ann)
    assert_error(response, 405)
    assert "Allow" in response.headers
    client.post("/api/books", json={"title": "The Dispossessed", "author": "Ursula K. Le Guin"}, headers=ann)
    assert_error(client.post("/api/books", json={"title": "the dispossessed", "author": "URSULA K. LE GUIN"}, headers=ann), 409)
    assert_error(client.post("/api/books", data=b"1" * (2 * 1024 * 1024), content_type="application/json", headers=ann), 413)
    assert_error(client.post("/api/books", data="Kindred", content_type="text/plain", headers=ann), 415)


def test_case_21_an_exception_is_a_json_500_without_a_traceback(app, monkeypatch):
    from bookshelf.api import books

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail of the server")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(books, "book_json", broken)
    response = app.test_client().get("/api/books/1")
    assert_error(response, 500)
    assert "secret detail" not in response.get_data(as_text=True)


def test_case_22_a_session_cookie_writes_nothing_through_the_api(app):
    """CSRF on: Ann logs in with the form; her cookie, without a token, is refused on every API write."""
    client = app.test_client()
    token = csrf_token_in(client.get("/auth/login").get_data(as_text=True))
    client.post("/auth/login", data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": token})
    assert client.get("/auth/password").status_code == 200, "expected Ann to be logged in by her cookie"
    assert_error(client.post("/api/books", json={"title": "Forged", "author": "Someone"}), 401)
    assert_error(client.post("/api/books/1/reviews", json={"rating": 1}), 401)
    assert_error(client.get("/api/me"), 401)
    assert client.get("/api/books?title=Forged").json["total"] == 0


def test_case_22_csrf_protects_everything_but_the_api(app):
    """The API blueprint alone is exempt: a form POST without a token is still refused."""
    client = app.test_client()
    assert client.post("/auth/login", data={"email": "ann@example.com", "password": PASSWORD}).status_code == 400
    assert client.post("/api/tokens", json={"email": "ann@example.com", "password": PASSWORD}).status_code == 201


def test_the_swagger_document_names_the_bearer_scheme(app):
    document = app.test_client().get("/api/swagger.json").json
    assert document["swagger"] == "2.0"
    assert document["securityDefinitions"]["bearer"] == {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "Bearer followed by a token from POST /api/tokens"}
    assert document["paths"]["/books"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/books"]["get"]
    assert app.test_client().get("/api/doc").status_code == 200


def logged_in_with_a_token(app, name):
    """Add a member, log them in through the form (CSRF on) and get them a token; return the client, the token's
    header and a CSRF token of the session."""
    from bookshelf.db import db
    from bookshelf.models import User

    with app.app_context():
        member = User(name=name.title(), email=f"{name}@example.com", confirmed_at=datetime.now(timezone.utc))
        member.set_password(PASSWORD)
        db.session.add(member)
        db.session.commit()
    client = app.test_client()
    token = csrf_token_in(client.get("/auth/login").get_data(as_text=True))
    assert client.post("/auth/login", data={"email": f"{name}@example.com", "password": PASSWORD,
                                            "csrf_token": token}).status_code == 302
    headers = token_header(app, name)
    assert client.get("/api/me", headers=headers).status_code == 200
    return client, headers, csrf_token_in(client.get("/auth/password").get_data(as_text=True))


@pytest.mark.parametrize(("path", "form"), [
    ("/auth/logout", {}),
    ("/auth/logout-everywhere", {}),
    ("/auth/password", {"current": PASSWORD, "password": PASSWORD[::-1], "confirm": PASSWORD[::-1]}),
], ids=["logout", "logout-everywhere", "password-change"])
def test_issue_24_5_every_log_out_and_a_password_change_end_the_members_api_tokens(app, path, form):
    """A member who logs out (here or everywhere) or changes the password on the site ends their programs' tokens
    too: a token left working for 24 hours is a log-in that the member believes ended."""
    name = path.rsplit("/", 1)[1].replace("-", "")
    client, headers, csrf = logged_in_with_a_token(app, name)
    response = client.post(path, data={**form, "csrf_token": csrf})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert_error(app.test_client().get("/api/me", headers=headers), 401)


def test_issue_24_8_a_member_without_a_password_costs_a_token_request_the_same_hashing(app):
    """POST /api/tokens hashes once whoever asks: a wrong password, an unknown address, a member without a password
    (made before chapter 05). Counted, not timed: each computation of a password hash is recorded."""
    from bookshelf.db import db
    from bookshelf.models import User
    from workbook.check_fixtures import cheap_password_hashes, hashes_told

    with app.app_context():
        db.session.add(User(name="Old", email="old@example.com"))
        db.session.commit()
    client = app.test_client()
    with cheap_password_hashes() as hashes:
        spent = {email: hashes.during(lambda: assert_error(client.post("/api/tokens", json={
            "email": email, "password": "not the password"}), 401))
            for email in ("ann@example.com", "nobody@example.com", "old@example.com")}
    assert len(spent["ann@example.com"]) == 1, hashes_told(spent["ann@example.com"])
    assert {email: len(done) for email, done in spent.items()} == dict.fromkeys(spent, 1), {
        email: hashes_told(done) for email, done in spent.items()}


@pytest.mark.parametrize("mask", ["{", "name{", "}", "name,{id", "rating}}"])
def test_issue_24_9_a_malformed_x_fields_header_is_a_400_in_the_one_shape(app, mask):
    """Flask-RESTX reads a field mask from X-Fields on every @marshal_with answer; one it cannot parse is the client's
    mistake (400 in the one shape), not a 500 with a traceback in the log."""
    client = app.test_client()
    assert_error(client.get("/api/reviews/1", headers={"X-Fields": mask}), 400)
    assert_error(client.get("/api/me", headers={**token_header(app, "ann"), "X-Fields": mask}), 400)
    assert set(client.get("/api/reviews/1", headers={"X-Fields": "rating"}).json) == {"rating"}


def test_exercise_09_5_a_members_reviews_are_read_like_the_book_list(app):
    """Exercise 09.5's reference: a member's reviews need no token, as every read; paging abuse, a member who does not
    exist and a malformed X-Fields header are errors of the one shape, never a 500."""
    from bookshelf.db import db
    from bookshelf.models import User

    with app.app_context():
        ann = db.session.scalar(db.select(User.id).filter_by(name="Ann"))
    client = app.test_client()
    page = client.get(f"/api/members/{ann}/reviews")
    assert page.status_code == 200 and page.json["total"] == 1, page.get_data(as_text=True)[:300]
    assert {"id", "book_id", "rating", "text"} <= set(page.json["items"][0])
    for query in ("per_page=101", "per_page=0", "page=0", "page=-1", "page=x", "per_page=99999999999999999999"):
        assert_error(client.get(f"/api/members/{ann}/reviews?{query}"), 400)
    assert_error(client.get("/api/members/424242/reviews"), 404)
    assert_error(client.get("/api/members/99999999999999999999/reviews"), 404)
    assert_error(client.get(f"/api/members/{ann}/reviews", headers={"X-Fields": "items{"}), 400)


def test_issue_24_2_a_member_whose_address_is_not_confirmed_gets_no_token_and_writes_nothing(app):
    """As on the site (chapter 07): a member who has not confirmed their address gets 403 for a token, once their
    password is right (a wrong one stays the 401 of anyone), and 403 for a write with a token they hold anyway."""
    from bookshelf.api.tokens import issue_token
    from bookshelf.db import db
    from bookshelf.models import User

    with app.app_context():
        kit = User(name="Kit", email="kit@example.com")
        kit.set_password(PASSWORD)
        db.session.add(kit)
        db.session.commit()
        held, _ = issue_token(kit)
    client = app.test_client()
    refused = client.post("/api/tokens", json={"email": "kit@example.com", "password": PASSWORD})
    assert_error(refused, 403)
    assert "confirm" in refused.json["message"].lower()
    assert_error(client.post("/api/tokens", json={"email": "kit@example.com", "password": "not it"}), 401)
    headers = {"Authorization": f"Bearer {held}"}
    assert client.get("/api/me", headers=headers).status_code == 200, "expected reading with a token to stay open"
    assert_error(client.post("/api/books", json={"title": "Kit's own book", "author": "Kit"}, headers=headers), 403)
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(email="kit@example.com")).confirmed_at = datetime.now(timezone.utc)
        db.session.commit()
    assert client.post("/api/tokens", json={"email": "kit@example.com", "password": PASSWORD}).status_code == 201
    assert client.post("/api/books", json={"title": "Kit's own book", "author": "Kit"}, headers=headers).status_code == 201


def test_issue_24_the_api_takes_the_years_the_form_takes(app):
    """A year is from -3000 to 2100 through the API as through chapter 04's form: 2101 is a 400 naming the year."""
    client, ann = app.test_client(), token_header(app, "ann")
    for year in (2101, 3000, -3001):
        refused = client.post("/api/books", json={"title": f"Year {year}", "author": "A", "year": year}, headers=ann)
        assert_error(refused, 400)
        assert "year" in refused.json.get("errors", {}), refused.json
    for year in (2100, -3000):
        added = client.post("/api/books", json={"title": f"Year {year}", "author": "A", "year": year}, headers=ann)
        assert added.status_code == 201, added.get_data(as_text=True)[:300]
