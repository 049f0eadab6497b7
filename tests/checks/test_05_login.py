"""Checks for chapter 05: password hashes, the user loader, a safe next, login and logout, and where a member is
logged in."""

from urllib.parse import urlsplit

import re

import pytest
from workbook.check_fixtures import (
    chapter05_stand_ins, flashes, form_token, hashed_as_much, hashes_told, logged_in_client,
)

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"05.1": 2, "05.2": 2, "05.3": 2, "05.4": 3, "05.5": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"05.4": ["05.1", "05.2", "05.3"]}

PASSPHRASE = "correct horse battery staple"


def learner_models():
    from bookshelf.db import db
    from bookshelf.models import Login, User

    return db, Login, User




# 05.1: set_password and check_password

@pytest.mark.exercise("05.1")
def test_password_is_stored_as_a_salted_scrypt_hash(app):
    """set_password stores a scrypt hash, never the password, and equal passwords get different hashes.
    Only a salted hash is stored, never the password: Werkzeug's default is scrypt, with a new random salt each time.
    """
    db, _, User = learner_models()
    with app.app_context():
        ann, ben = User(name="Ann", email="ann@example.com"), User(name="Ben", email="ben@example.com")
        for member in (ann, ben):
            member.set_password(PASSPHRASE)
        assert ann.password_hash and ann.password_hash.startswith("scrypt:"), (
            f"expected a hash that starts with 'scrypt:', found {str(ann.password_hash)[:20]!r}"
        )
        assert PASSPHRASE not in ann.password_hash, "expected the password nowhere in what is stored"
        assert ann.password_hash != ben.password_hash, "expected different hashes for equal passwords (a salt)"


@pytest.mark.exercise("05.1")
@pytest.mark.parametrize("password", [PASSPHRASE, "ünïcødé 🙂 with spaces ", "🐍🐍🐍🐍🐍🐍🐍🐍🐍🐍🐍🐍"])
def test_check_password_tells_right_from_wrong(app, password):
    """check_password is True for the password set, False for any other, whatever its characters.
    A password is right only when it matches the stored hash: any other text, the empty one included, is wrong.
    """
    _, _, User = learner_models()
    with app.app_context():
        member = User(name="Ann", email="ann@example.com")
        member.set_password(password)
        assert member.check_password(password) is True, "expected check_password to accept the password just set"
        for wrong in (password.strip() + "!", password.upper() + "x", ""):
            assert member.check_password(wrong) is False, f"expected check_password({wrong!r}) to be False"


@pytest.mark.exercise("05.1")
@pytest.mark.parametrize("password", ["\tstarts with a tab", "ends with three spaces   ", "  spaced  out  "])
def test_a_password_is_checked_as_typed(app, password):
    """A password is checked as typed: without its spaces or tabs at either end, it is another password.
    Spaces and tabs belong to a passphrase: what is hashed and what is compared is the password as the member typed it.
    """
    _, _, User = learner_models()
    with app.app_context():
        member = User(name="Ann", email="ann@example.com")
        member.set_password(password)
        assert member.check_password(password) is True, f"expected check_password({password!r}) to be True"
        for other in {password.strip(), password.lstrip(), password.rstrip()} - {password}:
            assert member.check_password(other) is False, (
                f"expected check_password({other!r}) to be False for the password {password!r}"
            )


@pytest.mark.exercise("05.1")
def test_a_long_password_counts_to_its_last_character(app):
    """Two long passwords that differ only in their last character are two passwords: the form allows 256 characters.
    Every character of the password counts: a password cut at some length makes all passwords with that start one.
    """
    _, _, User = learner_models()
    start = PASSPHRASE + " and a second line of it, " * 8
    with app.app_context():
        member = User(name="Ann", email="ann@example.com")
        member.set_password(start + "A")
        assert member.check_password(start + "A") is True, (
            f"expected the password of {len(start) + 1} characters set to be accepted"
        )
        assert member.check_password(start + "B") is False, (
            f"expected a password of {len(start) + 1} characters that differs only at its end refused"
        )


@pytest.mark.exercise("05.1")
def test_member_without_password_cannot_log_in(app):
    """A member without a password (the demo members, made before chapter 05) gets False, not an exception.
    A member without a hash has no right password: the answer is False for any password, never an error.
    """
    _, _, User = learner_models()
    with app.app_context():
        member = User(name="Api", email="api@example.com")
        assert member.check_password("") is False and member.check_password("anything") is False, (
            "expected check_password to be False for a member without a password"
        )


@pytest.mark.exercise("05.1")
def test_new_password_ends_every_log_in(app):
    """A new password ends every log-in the member had, and no other member's.
    A device that knew the old password must not stay logged in: every log-in row of the member goes, and only theirs.
    """
    db, Login, User = learner_models()
    with app.app_context():
        ann, ben = User(name="Ann", email="ann@example.com"), User(name="Ben", email="ben@example.com")
        db.session.add_all([ann, ben, Login(user=ann, token="a1"), Login(user=ann, token="a2"), Login(user=ben, token="b1")])
        db.session.commit()
        ann.set_password(PASSPHRASE)
        db.session.commit()
        left = sorted(db.session.scalars(db.select(Login.token)))
    assert left == ["b1"], f"expected only Ben's log-in left after Ann's new password, found {left}"


# 05.2: the user loader

def member_with_logins(app, *tokens):
    db, Login, User = learner_models()
    with app.app_context():
        member = User(name="Ann", email="ann@example.com")
        db.session.add_all([member, *(Login(user=member, token=token) for token in tokens)])
        db.session.commit()
        return member.id


@pytest.mark.exercise("05.2")
def test_loader_returns_the_member_of_a_log_in(app):
    """The loader returns the member of the log-in with that token, whose get_id() is that token.
    The loader answers the member of the log-in named by the token, and that member's get_id() must give the same
    token back: Flask-Login stores what get_id() says.
    """
    from bookshelf.login import load_user

    member_id = member_with_logins(app, "phone-token", "laptop-token")
    with app.test_request_context():
        for token in ("phone-token", "laptop-token"):
            found = load_user(token)
            assert found is not None and found.id == member_id, f"expected member {member_id} for {token!r}, got {found!r}"
            assert found.get_id() == token, f"expected get_id() to be {token!r}, it is {found.get_id()!r}"


@pytest.mark.exercise("05.2")
def test_only_the_whole_token_as_it_is_loads(app):
    """Only a log-in's whole token, as it is, loads: not the member's id, nor the token in capitals, cut short, or a wildcard.
    A token is a secret matched whole and exactly: an id is easy to guess and outlives every log-in, and a pattern
    (LIKE, which also ignores case in SQLite) matches log-ins whose token nobody sent.
    """
    from bookshelf.login import load_user

    db, Login, User = learner_models()
    with app.app_context():
        member = User(name="Cy", email="cy@example.com")
        login = Login(user=member, token="tablet-token-7")
        db.session.add_all([member, login])
        db.session.commit()
        tried = [str(member.id), str(login.id), "Tablet-Token-7", "tablet-token", "tablet-token-", "%", "tablet%",
                 "_ablet-token-7"]
    with app.test_request_context():
        for token in tried:
            assert load_user(token) is None, f"expected nobody for the token {token!r} (the log-in's is 'tablet-token-7')"
        assert load_user("tablet-token-7") is not None, "expected the member for the log-in's own token"


def age_log_in(app, token, days):
    """Make a log-in look as if it began that many days ago."""
    from datetime import datetime, timedelta, timezone

    db, Login, _ = learner_models()
    with app.app_context():
        login = db.session.scalar(db.select(Login).where(Login.token == token))
        login.created_at = datetime.now(timezone.utc) - timedelta(days=days)
        db.session.commit()


@pytest.mark.exercise("05.2")
def test_a_log_in_lasts_as_long_as_remember_me(app):
    """A log-in of 13 days still loads; one of 15 days does not, whatever its cookie says.
    A log-in lasts as long as "remember me" (14 days), whatever its cookie says: an older one loads nobody.
    """
    from bookshelf.login import load_user

    member_with_logins(app, "recent-token", "old-token")
    age_log_in(app, "recent-token", 13)
    age_log_in(app, "old-token", 15)
    with app.test_request_context():
        assert load_user("recent-token") is not None, "expected a log-in of 13 days to still load its member"
        assert load_user("old-token") is None, "expected a log-in of 15 days refused: a log-in lasts 14 days"


@pytest.mark.exercise("05.2")
@pytest.mark.parametrize("case", ["unknown token", "ended log-in", "deleted member"])
def test_loader_returns_none_for_an_ended_log_in(app, case):
    """An unknown token, a log-in that ended, and a deleted member's token give None: the visitor is anonymous.
    Without a live log-in row for the token there is no member (None): the visitor is anonymous.
    """
    from bookshelf.login import load_user

    db, Login, User = learner_models()
    member_id = member_with_logins(app, "phone-token", "laptop-token")
    with app.app_context():
        if case == "ended log-in":
            db.session.execute(db.delete(Login).where(Login.token == "phone-token"))
        if case == "deleted member":
            db.session.delete(db.session.get(User, member_id))
        db.session.commit()
    token = "no-such-token" if case == "unknown token" else "phone-token"
    with app.test_request_context():
        assert load_user(token) is None, f"expected None for a {case}"
        if case == "ended log-in":
            assert load_user("laptop-token") is not None, "expected the member's other log-in to still load"


# 05.3: safe_next

GOOD_NEXT = ["/books/new", "/books/2?page=3", "/", "/auth/password#top"]
BAD_NEXT = [
    "//evil.example", "https://evil.example/login", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
    "\t//evil.example", "/\t/evil.example", "/books\r\n/x", "/\x00x", "///evil.example", "http:/evil.example",
    "evil.example", "", None,
]


@pytest.mark.exercise("05.3")
@pytest.mark.parametrize("target", GOOD_NEXT)
def test_safe_next_keeps_paths_of_this_site(app, target):
    """A path on this site is kept as it is, with its query and fragment.
    A path of this site is kept exactly as it is, its query and fragment included.
    """
    from bookshelf.redirects import safe_next

    with app.test_request_context():
        assert safe_next(target) == target, f"expected {target!r} kept, got {safe_next(target)!r}"


@pytest.mark.exercise("05.3")
@pytest.mark.parametrize("target", BAD_NEXT)
def test_safe_next_sends_everything_else_to_the_index(app, target):
    """Other sites, schemes, backslashes, control characters, relative and missing targets give the index.
    A browser reads more as another site than it seems: two slashes, a backslash, a scheme, a host, and paths with
    characters it drops (tabs, line breaks, anything unprintable) all go to the index, as do None and "".
    """
    from flask import url_for

    from bookshelf.redirects import safe_next

    with app.test_request_context():
        index = {url_for("main.index"), "/"}
        assert safe_next(target) in index, f"expected the index for {target!r}, got {safe_next(target)!r}"


@pytest.mark.exercise("05.3")
@pytest.mark.parametrize("target", ["/books?title=the dispossessed", "/membres/zoë", "/reviews/4?page=2&sort=new",
                                    "/books/./7"])
def test_safe_next_keeps_spaces_and_letters_beyond_ascii(app, target):
    """A path with spaces or letters beyond ASCII is kept: they are printable, and the path stays on this site.
    Refuse what a browser would read as another site or drop: a space, an accent or a dot is none of those.
    """
    from bookshelf.redirects import safe_next

    with app.test_request_context():
        assert safe_next(target) == target, f"expected {target!r} kept, got {safe_next(target)!r}"


@pytest.mark.exercise("05.3")
@pytest.mark.parametrize("target", ["/reviews\x7f/1", "/\x1b]8;;", "/x\x0by", "/y\x0cz", "/\x08\x08/evil.example",
                                    "/books\x1f"])
def test_safe_next_refuses_every_unprintable_character(app, target):
    """Every unprintable character gives the index: DEL, escape, vertical tab, form feed and backspace too.
    Unprintable is more than tabs, line breaks and NUL, more than white space and more than the characters below 32:
    DEL (127) is one too.
    """
    from flask import url_for

    from bookshelf.redirects import safe_next

    with app.test_request_context():
        index = {url_for("main.index"), "/"}
        assert safe_next(target) in index, f"expected the index for {target!r}, got {safe_next(target)!r}"


# 05.4: login and logout

def register(client, email, password=PASSPHRASE):
    data = {"name": email.split("@")[0], "email": email, "password": password, "confirm": password,
            "csrf_token": form_token(client, "/auth/register")}
    response = client.post("/auth/register", data=data)
    assert response.status_code in (302, 303), f"expected registering {email} to redirect, got {response.status_code}"
    client.post("/auth/logout", data={"csrf_token": form_token(client, "/auth/password")})


def log_in(client, email, password=PASSPHRASE, remember=False, next_=None):
    data = {"email": email, "password": password, "csrf_token": form_token(client, "/auth/login")}
    if remember:
        data["remember"] = "y"
    return client.post("/auth/login" + (f"?next={next_}" if next_ else ""), data=data)




def is_logged_in(client):
    """Say whether the client's cookies log in: a page that needs a login, and no earlier exercise, answers 200."""
    return client.get("/auth/password").status_code == 200


@pytest.mark.exercise("05.4")
def test_right_password_logs_in(app, client):
    """The right password logs the member in and goes to the index, with a welcome.
    The member is found by e-mail whatever its case, and the right password starts a log-in and redirects.
    """
    register(client, "ann@example.com")
    assert not is_logged_in(client), "expected the member logged out after registering and logging out"
    response = log_in(client, "ANN@example.com")
    assert response.status_code in (302, 303), f"expected a redirect after a right password, got {response.status_code}"
    assert is_logged_in(client), "expected the member logged in after a right password (the e-mail in another case)"


@pytest.mark.exercise("05.4")
@pytest.mark.parametrize("remember", [False, True])
def test_remember_me_only_when_asked(app, client, remember):
    """"Remember me" sets its lasting cookie only when the box is ticked.
    A lasting cookie only when the member asks for it: on a shared computer it keeps the next person logged in.
    """
    register(client, "ann@example.com")
    log_in(client, "ann@example.com", remember=remember)
    assert is_logged_in(client), "expected the member logged in"
    kept = client.get_cookie("remember_token") is not None
    assert kept == remember, f"expected {'a' if remember else 'no'} remember_token cookie when the box is " \
        f"{'ticked' if remember else 'not ticked'}, found {'one' if kept else 'none'}"


@pytest.mark.exercise("05.4")
def test_wrong_password_and_unknown_email_look_alike(app, client):
    """A wrong password and an unknown e-mail get the same status and message, and nobody is logged in.
    The answer must not tell who is a member: both failures get the same status, the same message, and no log-in.
    """
    register(client, "ann@example.com")
    wrong, unknown = log_in(client, "ann@example.com", "not the password"), log_in(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 200, (
        f"expected the form again (200) for both, got {wrong.status_code} and {unknown.status_code}"
    )
    assert flashes(wrong) and flashes(wrong) == flashes(unknown), (
        f"expected one message for both, got {flashes(wrong)!r} and {flashes(unknown)!r}"
    )
    assert not is_logged_in(client), "expected nobody logged in"


@pytest.mark.exercise("05.4")
def test_unknown_email_takes_as_long_as_a_wrong_password(app, client, password_hashes):
    """An unknown e-mail costs about the time of a wrong password, so time does not tell who is a member.
    The password hashing is spent whether or not the member exists: an answer that comes sooner tells who is one.
    """
    register(client, "ann@example.com")
    # a login's time is its password hashing (0.1 s of scrypt against a few ms for the rest): counted, not timed,
    # as the checks hash at a low cost (check_fixtures.PasswordHashes)
    wrong = password_hashes.during(lambda: log_in(client, "ann@example.com", "not the password"))
    unknown = password_hashes.during(lambda: log_in(client, "nobody@example.com", "not the password"))
    assert wrong, "expected a wrong password to be checked against the member's password hash"
    assert hashed_as_much(unknown, wrong), (
        f"expected an unknown e-mail to cost the password hashing of a wrong password ({hashes_told(wrong)}), "
        f"it cost {hashes_told(unknown)}: its answer comes sooner, and tells who is a member"
    )


@pytest.mark.exercise("05.4")
@pytest.mark.parametrize(("target", "kept"), [("/books/new", True), ("//evil.example/phish", False),
                                              ("https://evil.example", False)])
def test_login_follows_only_a_safe_next(app, client, target, kept):
    """After login, ?next= is followed only to a page of this site.
    ?next= is followed only once safe_next has judged it: any other target is a phisher's redirect.
    """
    register(client, "ann@example.com")
    response = log_in(client, "ann@example.com", next_=target)
    location = response.headers.get("Location", "")
    if kept:
        assert location.endswith(target), f"expected the redirect to {target}, it goes to {location!r}"
    else:
        assert urlsplit(location).netloc in ("", "localhost") and "evil" not in location, (
            f"expected a redirect on this site for next={target}, it goes to {location!r}"
        )


@pytest.mark.exercise("05.4")
@pytest.mark.parametrize("copied", ["session", "remember_token"])
def test_copied_cookie_dies_at_logout(app, client, copied):
    """A cookie copied before logout no longer logs in after it, while the member's other device stays logged in.
    Logout ends this log-in on the server, not only in this browser's cookies: its row goes, the member's other
    log-ins stay.
    """
    register(client, "ann@example.com")
    log_in(client, "ann@example.com", remember=True)
    phone = app.test_client()
    log_in(phone, "ann@example.com")
    value = client.get_cookie(copied).value
    thief = app.test_client()
    thief.set_cookie(copied, value)
    assert is_logged_in(thief), f"expected the copied {copied} cookie to log in before logout"
    response = client.post("/auth/logout", data={"csrf_token": form_token(client, "/auth/password")})
    assert response.status_code in (302, 303), f"expected logout to redirect, got {response.status_code}"
    replay = app.test_client()
    replay.set_cookie(copied, value)
    assert not is_logged_in(replay), f"expected the {copied} cookie copied before logout refused after it"
    assert not is_logged_in(client), "expected the browser that logged out to be logged out"
    assert is_logged_in(phone), "expected the member's other device still logged in"


def member_without_password(app, email):
    """Add a member as chapters before 05 made them: no password hash."""
    db, _, User = learner_models()
    with app.app_context():
        db.session.add(User(name=email.split("@")[0].title(), email=email))
        db.session.commit()


@pytest.mark.exercise("05.4")
def test_member_without_a_password_is_answered_as_an_unknown_email(app, client):
    """A member without a password gets the answer of an unknown e-mail: the form again, one message, no log-in.
    The members made before this chapter have no password. Such a member has no right password, so the login fails for them as for an address nobody has, never with an error.
    """
    register(client, "ann@example.com")
    member_without_password(app, "early@example.com")
    early, unknown = log_in(client, "early@example.com", "any password at all"), log_in(client, "later@example.com")
    assert early.status_code == unknown.status_code == 200, (
        f"expected the form again (200) for both, got {early.status_code} and {unknown.status_code}"
    )
    assert flashes(early) and flashes(early) == flashes(unknown), (
        f"expected one message for both, got {flashes(early)!r} and {flashes(unknown)!r}"
    )
    assert not is_logged_in(client), "expected nobody logged in"


@pytest.mark.exercise("05.4")
def test_member_without_a_password_costs_a_wrong_passwords_time(app, client, password_hashes):
    """A member without a password costs about the time of a wrong password, so time does not tell who has none.
    The password hashing a wrong password costs is spent whenever there is no hash to check against, not only when
    the e-mail is unknown.
    """
    register(client, "ann@example.com")
    member_without_password(app, "early@example.com")
    wrong = password_hashes.during(lambda: log_in(client, "ann@example.com", "a wrong password"))
    without = password_hashes.during(lambda: log_in(client, "early@example.com", "a wrong password"))
    assert wrong, "expected a wrong password to be checked against the member's password hash"
    assert hashed_as_much(without, wrong), (
        f"expected a member without a password to cost the password hashing of a wrong password "
        f"({hashes_told(wrong)}), it cost {hashes_told(without)}: the answer comes sooner, and tells who has none"
    )


# 05.5: where a member is logged in (a design exercise: only the URLs, the marker and the answers are fixed);
# the answers of 05.1 and 05.2 are stood in for, so that this check needs no other exercise of the chapter

LOGINS_PAGE = "/account/logins"
# one log-in of the list: an <li> or a table row, with the address of the form that ends it
ITEM = re.compile(r"<(li|tr)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
END_ADDRESS = re.compile(r"/account/logins/(\d+)/end\b")


def devices_module():
    """Import the learner's bookshelf/devices.py: the factory starts without a blank one, a check says it is blank."""
    import importlib

    return importlib.import_module("bookshelf.devices")


def add_members(app, *names):
    """Add members by name, with the address name@example.com."""
    db, _, User = learner_models()
    with app.app_context():
        db.session.add_all(User(name=name, email=f"{name.lower()}@example.com") for name in names)
        db.session.commit()


def device(app, name):
    """Return (a client logged in as the member on a device of its own, the id of that log-in, its token)."""
    db, Login, _ = learner_models()
    client = logged_in_client(app, f"{name.lower()}@example.com")
    with client.session_transaction() as session:
        token = session["_user_id"]
    with app.app_context():
        return client, db.session.scalar(db.select(Login.id).where(Login.token == token)), token


def listed(client):
    """Return the page of log-ins, and its items as {log-in id: the item's text} (ids read from the end forms)."""
    response = client.get(LOGINS_PAGE)
    assert response.status_code == 200, f"expected GET {LOGINS_PAGE} to show the member's log-ins, got {response.status_code}"
    page = response.get_data(as_text=True)
    items = {}
    for item in ITEM.finditer(page):
        found = END_ADDRESS.search(item.group(2))
        if found:
            items[int(found.group(1))] = item.group(2)
    return page, items


def end(client, login_id, token=True):
    """POST to the address that ends a log-in, with a CSRF token of the client's session (or none)."""
    data = {"csrf_token": form_token(client, "/auth/password")} if token else {}
    return client.post(f"/account/logins/{login_id}/end", data=data)


def live_logins(app):
    db, Login, _ = learner_models()
    with app.app_context():
        return sorted(db.session.scalars(db.select(Login.id)))


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_a_member_sees_each_of_their_log_ins_and_this_one_marked(app):
    """Ann, logged in on three devices, sees her three log-ins, each with its end form, this device's marked.
    One item (<li> or <tr>) per log-in of hers, with a form whose action is /account/logins/<id>/end. Only the item of
    the log-in this request came with says "this device": that log-in's token is the one get_id() gives. Another
    member's log-ins are not hers to see, and a token is as good as a password: the page never shows one.
    """
    devices_module()
    add_members(app, "Ann", "Ben")
    laptop, laptop_id, laptop_token = device(app, "Ann")
    _, phone_id, phone_token = device(app, "Ann")
    tablet, tablet_id, tablet_token = device(app, "Ann")
    _, ben_id, ben_token = device(app, "Ben")
    for client, current in ((laptop, laptop_id), (tablet, tablet_id)):
        page, items = listed(client)
        assert sorted(items) == sorted([laptop_id, phone_id, tablet_id]), (
            f"expected one item (<li> or <tr>) with an end form for each of Ann's log-ins {sorted([laptop_id, phone_id, tablet_id])}, "
            f"found items for {sorted(items)}"
        )
        marked = sorted(login_id for login_id, item in items.items() if "this device" in item.lower())
        assert marked == [current], f"expected only the item of this device's log-in ({current}) to say 'this device', found {marked}"
        assert f"/account/logins/{ben_id}/" not in page, "expected Ben's log-in nowhere on Ann's page"
        for token in (laptop_token, phone_token, tablet_token, ben_token):
            assert token not in page, "expected no log-in's token on the page: whoever reads it can log in with it"


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_ending_another_device_logs_out_that_device_only(app):
    """Ann ends her phone's log-in from her laptop: a redirect, the phone is logged out, laptop and tablet are not.
    Ending a log-in deletes its row, as logout does: the user loader then finds no member for its cookies.
    """
    devices_module()
    add_members(app, "Ann")
    laptop, laptop_id, _ = device(app, "Ann")
    phone, phone_id, _ = device(app, "Ann")
    tablet, tablet_id, _ = device(app, "Ann")
    response = end(laptop, phone_id)
    assert response.status_code in (302, 303), f"expected a redirect after ending a log-in, got {response.status_code}"
    assert not is_logged_in(phone), "expected the phone logged out once its log-in ended"
    assert is_logged_in(laptop) and is_logged_in(tablet), "expected Ann's other devices still logged in"
    assert sorted(listed(laptop)[1]) == sorted([laptop_id, tablet_id]), "expected the page to list the two log-ins left"


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_ending_this_device_ends_it_for_good(app):
    """Ann ends the log-in of the laptop she is on: the laptop is logged out, and a copy of its cookie dies too.
    Ending this device's log-in is a logout: its row goes, or a copy taken before keeps working. Her phone stays in.
    """
    devices_module()
    add_members(app, "Ann")
    laptop, laptop_id, _ = device(app, "Ann")
    phone, _, _ = device(app, "Ann")
    copied = laptop.get_cookie("session").value
    response = end(laptop, laptop_id)
    assert response.status_code in (302, 303), f"expected a redirect after ending a log-in, got {response.status_code}"
    assert not is_logged_in(laptop), "expected the laptop logged out once its own log-in ended"
    copy = app.test_client()
    copy.set_cookie("session", copied)
    assert not is_logged_in(copy), "expected a copy of the laptop's cookie, taken before, refused after its log-in ended"
    assert is_logged_in(phone), "expected Ann's phone still logged in"


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_another_members_log_in_is_404_as_if_it_did_not_exist(app):
    """Ben's log-in, or one that does not exist, is 404 for Ann, never 403, and Ben stays logged in.
    Look a log-in up among the member's own: a 403 would say that the id exists, and whose log-ins are whose is no
    business of hers.
    """
    devices_module()
    add_members(app, "Ann", "Ben")
    ann, _, _ = device(app, "Ann")
    ben, ben_id, _ = device(app, "Ben")
    for login_id, whose in ((ben_id, "Ben's log-in"), (ben_id + 100, "a log-in that does not exist")):
        response = end(ann, login_id)
        assert response.status_code == 404, f"expected 404 when Ann ends {whose}, got {response.status_code}"
    assert is_logged_in(ben), "expected Ben still logged in after Ann tried to end his log-in"


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_neither_a_get_nor_a_post_without_its_token_ends_a_log_in(app):
    """A GET of the end address, and a POST without its CSRF token (400), end nothing.
    Ending a log-in changes state: a POST only, with its CSRF token, so that no link or other site's form ends it.
    """
    devices_module()
    add_members(app, "Ann")
    laptop, _, _ = device(app, "Ann")
    phone, phone_id, _ = device(app, "Ann")
    laptop.get(f"/account/logins/{phone_id}/end")
    assert is_logged_in(phone), "expected a GET of the end address to end nothing"
    response = end(laptop, phone_id, token=False)
    assert response.status_code == 400, f"expected 400 for a POST without its CSRF token, got {response.status_code}"
    assert is_logged_in(phone), "expected a POST without its CSRF token to end nothing"


@pytest.mark.exercise("05.5")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_a_visitor_is_sent_to_log_in_with_next(app):
    """A visitor who is not logged in goes to the login page, with next, on the page and on a POST; nothing ends.
    Both addresses are for members: Flask-Login sends a visitor to log in, and back to the page after it.
    """
    devices_module()
    add_members(app, "Ann")
    _, phone_id, _ = device(app, "Ann")
    before = live_logins(app)
    visitor = app.test_client()
    page = visitor.get(LOGINS_PAGE)
    posted = visitor.post(f"/account/logins/{phone_id}/end", data={"csrf_token": form_token(visitor, "/auth/login")})
    for response in (page, posted):
        location = response.headers.get("Location", "")
        assert response.status_code in (302, 303) and "/auth/login" in location and "next=" in location, (
            f"expected a redirect to the login page with next, got {response.status_code} {location!r}"
        )
    assert live_logins(app) == before, "expected a visitor's POST to end nothing"

