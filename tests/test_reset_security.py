"""Chapter 07's reset and confirmation links answer each bad input of the security list (cases 7, 9-12), CSRF on.

The reference Bookshelf of chapter 07 is built once; mails are recorded by Flask-Mail (TESTING sends nothing), and
every client gets its CSRF tokens from the pages, as a browser does.
"""

import re
import time

import itsdangerous
import pytest
from helpers import csrf_token_in, reference_factory
from workbook.app import TEST_CONFIG
from workbook.check_fixtures import unused_port

HOST = "bookshelf.example"  # the app's SERVER_NAME: the test client sends it, and keeps its cookies for it
PASSWORD, NEW_PASSWORD = "correct horse battery staple", "a new passphrase, typed twice"
LINK = re.compile(r"https?://[^/\s]+(/auth/(?:reset|confirm)/[^\s\"<>]+)")


@pytest.fixture(scope="module")
def create_app(tmp_path_factory):
    """Build chapter 07's reference Bookshelf once, in a folder of the test's, and return its factory."""
    yield from reference_factory(tmp_path_factory, "07")


@pytest.fixture
def app(create_app):
    return create_app({**TEST_CONFIG, "SERVER_NAME": HOST})


@pytest.fixture
def outbox(app):
    from bookshelf.mail import mail

    # no app context around the test: the requests would share it, and Flask-Login's g with it
    with mail.record_messages() as sent:
        yield sent


def token(client, path):
    found = csrf_token_in(client.get(path).get_data(as_text=True))
    assert found, f"expected a form with a CSRF token on {path}"
    return found


def register(client, email="ann@example.com"):
    data = {"name": "Ann", "email": email, "password": PASSWORD, "confirm": PASSWORD,
            "csrf_token": token(client, "/auth/register")}
    assert client.post("/auth/register", data=data).status_code == 302


def log_in(client, email="ann@example.com", password=PASSWORD):
    data = {"email": email, "password": password, "remember": "y", "csrf_token": token(client, "/auth/login")}
    return client.post("/auth/login", data=data)


def ask_for_link(client, email="ann@example.com", **headers):
    data = {"email": email, "csrf_token": token(client, "/auth/forgot")}
    response = client.post("/auth/forgot", data=data, headers=headers)
    return response.status_code, response.headers.get("Location"), flashes_of(client)


def flashes_of(client):
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def gets_in(client) -> bool:
    """Say whether a members-only page lets the client in, rather than sending it to log in."""
    return client.get("/auth/password").status_code == 200


def copy_of(app, client):
    """Return a fresh client with the session and remember cookies of this one, as an attacker who copied them."""
    copy = app.test_client()
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name, domain=HOST)
        if cookie is not None:
            copy.set_cookie(name, cookie.value, domain=HOST)
    return copy


def mailed_path(message):
    found = LINK.search(message.body)
    assert found, f"expected a link in {message.body!r}"
    return found[1]


def set_password(client, path, password=NEW_PASSWORD):
    return client.post(path, data={"password": password, "confirm": password, "csrf_token": token(client, path)})


# 11: a reset ends every log-in


def test_a_reset_kills_other_sessions_and_remember_cookies_and_logs_nobody_in(app, outbox):
    laptop, phone, stranger = app.test_client(), app.test_client(), app.test_client()
    register(laptop)
    if not gets_in(laptop):
        log_in(laptop)  # registering logs nobody in (issue 24, finding 6)
    log_in(phone)
    copies = [copy_of(app, laptop), copy_of(app, phone), app.test_client()]
    copies[2].set_cookie("remember_token", phone.get_cookie("remember_token", domain=HOST).value, domain=HOST)
    assert all(gets_in(client) for client in copies), "expected the copied cookies to get in before the reset"
    ask_for_link(stranger)
    response = set_password(stranger, mailed_path(outbox[-1]))
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert not gets_in(stranger), "expected the reset not to log anyone in"
    for device in (laptop, phone, *copies):
        assert not gets_in(device), "expected every session and remember cookie from before the reset to be refused"
    assert outbox[-1].subject == "Your Bookshelf password was changed" and outbox[-1].send_to == {"ann@example.com"}
    assert log_in(app.test_client(), password=PASSWORD).status_code == 200, "expected the old password refused"
    assert log_in(app.test_client(), password=NEW_PASSWORD).status_code == 302, "expected the new password to log in"


# 10: used, expired, other-purpose, tampered, deleted-member tokens


def refusal(client, path):
    response = client.get(path)
    assert response.status_code == 400, f"expected 400 for {path[:60]}, got {response.status_code}"
    return re.search(r'class="reason">([^<]*)<', response.get_data(as_text=True))[1]


def test_a_reset_link_works_once(app, outbox):
    register(app.test_client())
    client = app.test_client()
    ask_for_link(client)
    path = mailed_path(outbox[-1])
    assert set_password(client, path).status_code == 302
    assert "used already" in refusal(client, path)
    again = {"password": "yet another passphrase", "confirm": "yet another passphrase", "csrf_token": token(client, "/auth/forgot")}
    assert client.post(path, data=again).status_code == 400


def test_a_link_of_an_hour_and_a_minute_has_expired(app, outbox, monkeypatch):
    register(app.test_client())
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3660)
    ask_for_link(app.test_client())
    monkeypatch.undo()
    assert "expired" in refusal(app.test_client(), mailed_path(outbox[-1]))


def test_a_confirmation_link_is_no_reset_link_and_back(app, outbox):
    register(app.test_client())
    confirm = mailed_path(outbox[-1])
    assert confirm.startswith("/auth/confirm/")
    assert "not valid" in refusal(app.test_client(), confirm.replace("/confirm/", "/reset/"))
    ask_for_link(app.test_client())
    assert "not valid" in refusal(app.test_client(), mailed_path(outbox[-1]).replace("/reset/", "/confirm/"))


def test_a_tampered_link_and_a_deleted_members_link_are_not_valid(app, outbox):
    register(app.test_client())
    register(app.test_client(), "ben@example.com")
    for email in ("ann@example.com", "ben@example.com"):
        ask_for_link(app.test_client(), email)
    ann, ben = (mailed_path(message).rsplit("/", 1)[1] for message in outbox if "reset" in message.body)
    swapped = ben.split(".")[0] + "." + ann.split(".", 1)[1]
    assert "not valid" in refusal(app.test_client(), f"/auth/reset/{swapped}")
    from bookshelf.db import db
    from bookshelf.models import User

    with app.app_context():
        db.session.delete(db.session.scalar(db.select(User).where(User.email == "ben@example.com")))
        db.session.commit()
    assert "not valid" in refusal(app.test_client(), f"/auth/reset/{ben}")


# 9: no enumeration; 7: not too many mails; 12: the configured host


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, outbox):
    register(app.test_client())
    welcome = len(outbox)
    known, unknown = ask_for_link(app.test_client()), ask_for_link(app.test_client(), "nobody@example.com")
    assert known == unknown and known[0] == 302
    assert [message.send_to for message in outbox[welcome:]] == [{"ann@example.com"}]


def test_a_second_request_at_once_sends_no_mail_and_locks_nobody_out(app, outbox):
    register(app.test_client())
    first = ask_for_link(app.test_client())
    assert ask_for_link(app.test_client()) == first
    resets = [message for message in outbox if "/auth/reset/" in message.body]
    assert len(resets) == 1, "expected one reset mail for two requests in a row"
    assert log_in(app.test_client()).status_code == 302, "expected the old password to work until a new one is set"
    assert set_password(app.test_client(), mailed_path(resets[0])).status_code == 302, "expected the first link to work"


def test_a_mail_server_that_is_down_changes_nothing_in_the_answer(create_app, caplog):
    """Sending for real to a port where nobody listens: the member's answer is the stranger's, and the log says why."""
    app = create_app({**TEST_CONFIG, "SERVER_NAME": HOST, "MAIL_SUPPRESS_SEND": False, "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": unused_port()})
    register(app.test_client())
    known, unknown = ask_for_link(app.test_client()), ask_for_link(app.test_client(), "nobody@example.com")
    assert known == unknown and known[0] == 302
    assert any("Could not send" in record.getMessage() for record in caplog.records), "expected the failure logged"


def test_a_forged_host_gets_a_link_to_the_configured_host(app, outbox):
    register(app.test_client())
    attacker = app.test_client()
    evil = {"Host": "evil.example"}
    found = csrf_token_in(attacker.get("/auth/forgot", headers=evil).get_data(as_text=True))
    attacker.post("/auth/forgot", data={"email": "ann@example.com", "csrf_token": found}, headers=evil)
    assert re.search(r"https?://([^/\s]+)/auth/reset/", outbox[-1].body)[1] == HOST


# 14: a confirmation link changes nothing by GET


def test_a_confirmation_link_confirms_by_post_only_and_once(app, outbox):
    client = app.test_client()
    register(client)
    path = mailed_path(outbox[-1])
    from bookshelf.db import db
    from bookshelf.models import User

    def confirmed_at():
        with app.app_context():
            return db.session.scalar(db.select(User.confirmed_at).where(User.email == "ann@example.com"))

    assert client.get(path).status_code == 200 and confirmed_at() is None
    assert client.post(path).status_code == 400, "expected a POST without a CSRF token refused"
    assert client.post(path, data={"csrf_token": token(client, path)}).status_code == 302
    first = confirmed_at()
    assert first is not None
    assert client.get(path).status_code == 302 and confirmed_at() == first


# issue 24, finding 7: the forgotten-password form takes the same time for every address


def test_issue_24_7_the_forgotten_password_form_takes_the_same_time_for_every_address(create_app, monkeypatch):
    """A member's answer sends a mail, a stranger's does not: every answer lasts the floor, so the time tells nothing.
    The mail server is made slow (50 ms a mail, as a real one over the network); medians over many requests, each
    address asked once (a member asked again within minutes gets no second mail), members and strangers in turn."""
    from bookshelf.db import db
    from bookshelf.mail import mail
    from bookshelf.models import User

    floor, slow, rounds = 0.2, 0.05, 7
    app = create_app({**TEST_CONFIG, "SERVER_NAME": HOST, "ANSWER_FLOOR_SECONDS": floor})
    with app.app_context():
        db.session.add_all(User(name=f"Ann {n}", email=f"ann{n}@example.com", password_hash="demo")
                           for n in range(rounds))
        db.session.commit()
    sent = []
    monkeypatch.setattr(mail, "send", lambda message: (time.sleep(slow), sent.append(message.send_to)))
    client = app.test_client()
    times = {"member": [], "stranger": []}
    for n in range(rounds):
        for who, email in (("member", f"ann{n}@example.com"), ("stranger", f"nobody{n}@example.com")):
            data = {"email": email, "csrf_token": token(client, "/auth/forgot")}
            started = time.perf_counter()
            response = client.post("/auth/forgot", data=data)
            times[who].append(time.perf_counter() - started)
            assert response.status_code == 302
    assert sent == [{f"ann{n}@example.com"} for n in range(rounds)], "expected one mail to each member, none else"
    member, stranger = (sorted(taken)[rounds // 2] for taken in times.values())
    assert member >= floor and stranger >= floor, f"expected every answer to last {floor} s at least: {times}"
    assert max(member, stranger) / min(member, stranger) < 1.25, f"median member {member:.3f} s, stranger {stranger:.3f} s"


# issue 24, finding 6: registration answers the same whether the address is taken or not, and mails the owner


def registration(client, email, name="Ann", password=PASSWORD):
    """Post the registration form; return what a visitor sees of the answer, the address replaced by <email>."""
    data = {"name": name, "email": email, "password": password, "confirm": password,
            "csrf_token": token(client, "/auth/register")}
    response = client.post("/auth/register", data=data)
    flashes = [message.replace(email, "<email>") for message in flashes_of(client)]
    return response.status_code, response.headers.get("Location"), flashes, gets_in(client)


def test_issue_24_6_registration_answers_a_taken_address_as_a_free_one_and_mails_its_owner(app, outbox):
    """OWASP's pattern: the same status, redirect and message for a free and a taken address, nobody logged in; the
    taken address changes nothing, and its owner gets a mail with a working reset link, at most every few minutes."""
    free = registration(app.test_client(), "ann@example.com")
    welcome = len(outbox)
    taken = registration(app.test_client(), "ann@example.com", "Mallory", "a password Ann never chose")
    assert free[:2] == (302, "/auth/login") and not free[3], f"expected a redirect to log in, nobody logged in: {free}"
    assert taken[:2] == free[:2] and taken[3] == free[3]
    assert [message.replace("Mallory", "Ann") for message in taken[2]] == free[2]
    assert registration(app.test_client(), "ANN@example.com")[:2] == free[:2]
    mails = outbox[welcome:]
    assert [(message.send_to, message.subject) for message in mails] == [
        ({"ann@example.com"}, "Someone tried to register with your address")], "expected one mail, to the owner"
    assert "Mallory" not in mails[0].body and "Hello Ann" in mails[0].body
    assert log_in(app.test_client()).status_code == 302, "expected the owner's password to stay as it was"
    assert set_password(app.test_client(), mailed_path(mails[0])).status_code == 302, "expected its reset link to work"


def test_issue_24_6_a_taken_address_costs_a_registration_the_same_hashing(app, outbox):
    """A new member's password is hashed; a taken address hashes one too, that nobody keeps. Counted, not timed."""
    from workbook.check_fixtures import cheap_password_hashes, hashes_told

    register(app.test_client())
    with cheap_password_hashes() as hashes:
        spent = {email: hashes.during(lambda: registration(app.test_client(), email))
                 for email in ("ben@example.com", "ann@example.com")}
    assert {email: len(done) for email, done in spent.items()} == dict.fromkeys(spent, 1), {
        email: hashes_told(done) for email, done in spent.items()}


# issue 24, finding 2: e-mail confirmation gates writing


def confirmed(app, email="ann@example.com"):
    """Confirm the member's address through the link of their welcome mail, as they would."""
    from bookshelf.db import db
    from bookshelf.models import User
    from bookshelf.tokens import confirm_token

    with app.app_context():
        path = f"/auth/confirm/{confirm_token(db.session.scalar(db.select(User).where(User.email == email)))}"
    client = app.test_client()
    assert client.post(path, data={"csrf_token": token(client, path)}).status_code == 302


def test_issue_24_2_an_unconfirmed_member_reads_and_keeps_their_account_but_adds_nothing(app, outbox):
    """Before confirming, a member logs in, reads, and changes their password; adding a book, a review or a cover
    answers 403 with a page that says to confirm, and a button that mails a new link. Confirmed, they may."""
    from bookshelf.db import db
    from bookshelf.models import Book

    client = app.test_client()
    register(client)
    if not gets_in(client):
        log_in(client)  # registering logs nobody in (finding 6)
    with app.app_context():
        db.session.add(Book(title="Dawn", author="Octavia E. Butler", added_by_id=1))
        db.session.commit()
    assert client.get("/").status_code == 200 and client.get("/books/1").status_code == 200
    assert gets_in(client), "expected the password page open to a member not confirmed yet"
    for path in ("/books/new", "/books/1/review", "/books/1/cover"):
        refused = client.get(path)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 403 and "Confirm your address" in page, f"GET {path}: {refused.status_code}"
    data = {"title": "Kindred", "author": "Octavia E. Butler", "csrf_token": csrf_token_in(page)}
    assert client.post("/books/new", data=data).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(Book).filter_by(title="Kindred")) is None, "expected no book added"
    welcome = len(outbox)
    again = re.search(r'action="([^"]*/auth/confirm[^"]*)"', page)[1]
    assert client.post(again, data={"csrf_token": csrf_token_in(page)}).status_code == 302
    assert [message.send_to for message in outbox[welcome:]] == [{"ann@example.com"}], "expected a new link mailed"
    assert "/auth/confirm/" in outbox[-1].body
    client.post(again, data={"csrf_token": csrf_token_in(page)})
    assert len(outbox) == welcome + 1, "expected no second link within a few minutes"
    confirmed(app)
    assert client.get("/books/new").status_code == 200
    data["csrf_token"] = token(client, "/books/new")
    assert client.post("/books/new", data=data).status_code == 302
