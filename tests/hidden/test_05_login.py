"""Hidden tests for chapter 05: what grading adds to the public checks."""


import pytest
from workbook.check_fixtures import flashes, form_token, hashed_as_much, hashes_told

PASSPHRASE = "correct horse battery staple"


def learner_models():
    from bookshelf.db import db
    from bookshelf.models import Login, User

    return db, Login, User




# 05.1: set_password and check_password

@pytest.mark.exercise("05.1")
@pytest.mark.parametrize("password", ["  two spaces on each side  ", "ends with a tab\t", " one space first"])
def test_spaces_are_part_of_the_password(app, password):
    """A passphrase is checked as typed, spaces and tabs included: without them it is another password."""
    _, _, User = learner_models()
    with app.app_context():
        member = User(name="Ann", email="ann@example.com")
        member.set_password(password)
        assert member.check_password(password) is True, f"expected check_password({password!r}) to be True"
        for other in (password.strip(), password.strip() + " "):
            assert member.check_password(other) is False, f"expected check_password({other!r}) to be False"


@pytest.mark.exercise("05.1")
def test_every_character_of_a_long_password_counts(app):
    """Two passwords of 100 characters that differ only at the end are two passwords: the form allows 256."""
    _, _, User = learner_models()
    with app.app_context():
        member = User(name="Ann", email="ann@example.com")
        member.set_password("w" * 99 + "1")
        assert member.check_password("w" * 99 + "1") is True, "expected the long password set to be accepted"
        assert member.check_password("w" * 99 + "2") is False, "expected a password that differs at its end refused"


# 05.2: the user loader

@pytest.mark.exercise("05.2")
def test_only_the_exact_token_of_a_log_in_loads(app):
    """The member's id, the log-in's id, the token in other case or cut short, and LIKE's wildcards load nobody."""
    from bookshelf.login import load_user

    db, Login, User = learner_models()
    with app.app_context():
        member = User(name="Ann", email="ann@example.com")
        login = Login(user=member, token="phone-token")
        db.session.add_all([member, login])
        db.session.commit()
        ids = [str(member.id), str(login.id)]
    with app.test_request_context():
        for token in [*ids, "PHONE-TOKEN", "phone", "phone-token ", "%", "phone_token"]:
            assert load_user(token) is None, f"expected nobody for the token {token!r}"
        assert load_user("phone-token") is not None, "expected the member for the log-in's own token"


# 05.3: safe_next

@pytest.mark.exercise("05.3")
@pytest.mark.parametrize("target", ["/search?q=le guin", "/livres/café", "/books/1?sort=year&order=desc", "/a/./b"])
def test_safe_next_keeps_printable_paths(app, target):
    """A path with spaces or letters beyond ASCII is printable, and stays a path of this site: it is kept."""
    from bookshelf.redirects import safe_next

    with app.test_request_context():
        assert safe_next(target) == target, f"expected {target!r} kept, got {safe_next(target)!r}"


@pytest.mark.exercise("05.3")
@pytest.mark.parametrize("target", ["/books\x7f", "/\x1b[2J", "/a\x0bb", "/a\x0cb", "/\x08/evil.example"])
def test_safe_next_refuses_every_control_character(app, target):
    """DEL, escape, vertical tab, form feed and backspace are unprintable too: they give the index."""
    from flask import url_for

    from bookshelf.redirects import safe_next

    with app.test_request_context():
        assert safe_next(target) in {url_for("main.index"), "/"}, f"expected the index for {target!r}"


# 05.4: login, for a member without a password

def log_in(client, email, password=PASSPHRASE):
    data = {"email": email, "password": password, "csrf_token": form_token(client, "/auth/login")}
    return client.post("/auth/login", data=data)




@pytest.fixture
def members(app, client):
    """Ann, who registered with a password, and Api, a member from before chapter 05, without one."""
    db, _, User = learner_models()
    with app.app_context():
        ann, api = User(name="Ann", email="ann@example.com"), User(name="Api", email="api@example.com")
        ann.set_password(PASSPHRASE)
        db.session.add_all([ann, api])
        db.session.commit()


@pytest.mark.exercise("05.4")
def test_member_without_a_password_gets_the_same_answer(app, client, members):
    """A member without a password gets the answer of an unknown e-mail: the form again, the one message, no log-in."""
    api, unknown = log_in(client, "api@example.com"), log_in(client, "nobody@example.com")
    assert api.status_code == unknown.status_code == 200, (
        f"expected the form again (200) for both, got {api.status_code} and {unknown.status_code}"
    )
    assert flashes(api) and flashes(api) == flashes(unknown), f"expected one message, got {flashes(api)!r}"
    assert client.get("/auth/password").status_code != 200, "expected nobody logged in"


@pytest.mark.exercise("05.4")
def test_member_without_a_password_takes_as_long_as_a_wrong_password(app, client, members, password_hashes):
    """A member without a password costs the time of a wrong password, so time does not tell who has none."""
    # counted, not timed, as in the public check: a login's time is its password hashing
    wrong = password_hashes.during(lambda: log_in(client, "ann@example.com", "not the password"))
    without = password_hashes.during(lambda: log_in(client, "api@example.com", "not the password"))
    assert wrong, "expected a wrong password to be checked against the member's password hash"
    assert hashed_as_much(without, wrong), (
        f"expected a member without a password to cost the password hashing of a wrong password "
        f"({hashes_told(wrong)}), it cost {hashes_told(without)}"
    )
