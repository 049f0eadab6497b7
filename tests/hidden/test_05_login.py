"""Hidden tests for chapter 05: what grading adds to the public checks."""

import re

import pytest
from workbook.check_fixtures import (
    chapter05_stand_ins, flashes, form_token, hashed_as_much, hashes_told, logged_in_client,
)

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


# 05.5: where a member is logged in (05.1 and 05.2 stood in for, as in the public check)

ITEM = re.compile(r"<(li|tr)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
END_ADDRESS = re.compile(r"/account/logins/(\d+)/end\b")


def add_members(app, *names):
    db, _, User = learner_models()
    with app.app_context():
        db.session.add_all(User(name=name, email=f"{name.lower()}@example.org") for name in names)
        db.session.commit()


def signed_in(app, name):
    """Return (a client logged in as the member on a device of its own, that log-in's id)."""
    db, Login, _ = learner_models()
    client = logged_in_client(app, f"{name.lower()}@example.org")
    with client.session_transaction() as session:
        token = session["_user_id"]
    with app.app_context():
        return client, db.session.scalar(db.select(Login.id).where(Login.token == token))


def items_of(client):
    response = client.get("/account/logins")
    assert response.status_code == 200, response.status_code
    found = {}
    for item in ITEM.finditer(response.get_data(as_text=True)):
        address = END_ADDRESS.search(item.group(2))
        if address:
            found[int(address.group(1))] = "this device" in item.group(2).lower()
    return found


def ends(client, login_id, token=True):
    data = {"csrf_token": form_token(client, "/auth/password")} if token else {}
    return client.post(f"/account/logins/{login_id}/end", data=data)


def in_(client):
    return client.get("/auth/password").status_code == 200


def login_ids(app):
    db, Login, _ = learner_models()
    with app.app_context():
        return sorted(db.session.scalars(db.select(Login.id)))


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_log_ins_listed_among_other_members(app):
    """Yan's log-ins come between Zoe's: each of them sees only their own, from every device, this one marked."""
    import importlib

    importlib.import_module("bookshelf.devices")
    add_members(app, "Zoe", "Yan")
    zoe_first, zoe_first_id = signed_in(app, "Zoe")
    yan_first, yan_first_id = signed_in(app, "Yan")
    zoe_second, zoe_second_id = signed_in(app, "Zoe")
    yan_second, yan_second_id = signed_in(app, "Yan")
    for client, own, current in ((zoe_first, [zoe_first_id, zoe_second_id], zoe_first_id),
                                 (zoe_second, [zoe_first_id, zoe_second_id], zoe_second_id),
                                 (yan_second, [yan_first_id, yan_second_id], yan_second_id)):
        listed = items_of(client)
        assert sorted(listed) == own, f"expected the log-ins {own}, listed {sorted(listed)}"
        assert [login_id for login_id, marked in listed.items() if marked] == [current]


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_ending_two_log_ins_one_after_another(app):
    """Zoe, on four devices, ends her oldest and then her newest other log-in: the two in between stay, listed."""
    import importlib

    importlib.import_module("bookshelf.devices")
    add_members(app, "Zoe")
    devices = [signed_in(app, "Zoe") for _ in range(4)]
    desk, desk_id = devices[1]
    for _, login_id in (devices[0], devices[3]):
        assert ends(desk, login_id).status_code in (302, 303)
    assert [in_(client) for client, _ in devices] == [False, True, True, False]
    assert sorted(items_of(desk)) == [devices[1][1], devices[2][1]]
    assert items_of(desk)[desk_id] is True


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_another_members_log_in_answers_like_a_missing_one(app):
    """Zoe tries Yan's newest log-in and id 4242: both 404, and both of Yan's devices stay logged in."""
    import importlib

    importlib.import_module("bookshelf.devices")
    add_members(app, "Zoe", "Yan")
    zoe, _ = signed_in(app, "Zoe")
    yan_phone, _ = signed_in(app, "Yan")
    yan_desk, yan_desk_id = signed_in(app, "Yan")
    assert [ends(zoe, yan_desk_id).status_code, ends(zoe, 4242).status_code] == [404, 404]
    assert in_(yan_phone) and in_(yan_desk)


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_the_current_log_in_ended_with_its_copy(app):
    """Yan ends the log-in of the desk he is on, his only one: the desk and a copy of its cookie are logged out."""
    import importlib

    importlib.import_module("bookshelf.devices")
    add_members(app, "Yan", "Zoe")
    desk, desk_id = signed_in(app, "Yan")
    zoe, _ = signed_in(app, "Zoe")
    copy = app.test_client()
    copy.set_cookie("session", desk.get_cookie("session").value)
    assert in_(copy)
    assert ends(desk, desk_id).status_code in (302, 303)
    assert not in_(desk) and not in_(copy) and in_(zoe)


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_no_link_and_no_tokenless_post_ends_a_log_in(app):
    """Zoe's own current log-in, asked to end by GET and by a POST without its token, stays."""
    import importlib

    importlib.import_module("bookshelf.devices")
    add_members(app, "Zoe")
    desk, desk_id = signed_in(app, "Zoe")
    desk.get(f"/account/logins/{desk_id}/end")
    assert in_(desk)
    assert ends(desk, desk_id, token=False).status_code == 400
    assert in_(desk)


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_a_visitor_goes_to_log_in_and_ends_nothing(app):
    """A visitor who posts, with a token, to end Yan's log-in goes to the login page with next; nothing ends."""
    import importlib

    importlib.import_module("bookshelf.devices")
    add_members(app, "Yan")
    _, desk_id = signed_in(app, "Yan")
    visitor = app.test_client()
    response = visitor.post(f"/account/logins/{desk_id}/end", data={"csrf_token": form_token(visitor, "/auth/login")})
    location = response.headers.get("Location", "")
    assert response.status_code in (302, 303) and "/auth/login" in location and "next=" in location
    assert login_ids(app) == [desk_id]
    listing = visitor.get("/account/logins")
    assert listing.status_code in (302, 303) and "next=" in listing.headers.get("Location", "")
