"""Hidden tests for chapter 07: what grading adds to the public checks."""

import json
import re

import itsdangerous
import pytest
from workbook.check_fixtures import chapter05_stand_ins, deliveries_recorded, form_token  # noqa: F401 (a fixture)

# grading leaves chapter 05's exercises blank: members' passwords and log-ins come from stand-ins
pytestmark = pytest.mark.usefixtures("chapter05_stand_ins")

PASSPHRASE = "correct horse battery staple"


def learner_models():
    from bookshelf.db import db
    from bookshelf.models import User

    return db, User


def add_member(app, email="ann@example.com", name="Ann"):
    """Add a member with a password and return their id."""
    db, User = learner_models()
    with app.app_context():
        member = User(name=name, email=email)
        member.set_password(PASSPHRASE)
        db.session.add(member)
        db.session.commit()
        return member.id


def flashed(client):
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


# 07.1: reset tokens

@pytest.mark.exercise("07.1")
def test_a_deleted_members_token_is_not_valid(app):
    """The token of a member deleted since is refused as not valid, with BadLink, not an AttributeError (a 500)."""
    from bookshelf.tokens import NOT_VALID, BadLink, member_to_reset, reset_token

    db, User = learner_models()
    ann = add_member(app)
    with app.app_context():
        member = db.session.get(User, ann)
        token = reset_token(member)
        db.session.delete(member)
        db.session.commit()
        with pytest.raises(BadLink) as raised:
            member_to_reset(token)
    assert str(raised.value) == NOT_VALID, f"expected the message NOT_VALID, got {str(raised.value)!r}"


@pytest.mark.exercise("07.1")
def test_the_token_does_not_show_the_password_hash(app):
    """Anyone who reads the link can decode the token: it must not hold the password hash, nor its salt or digest."""
    from bookshelf.tokens import reset_token

    db, User = learner_models()
    ann = add_member(app)
    with app.app_context():
        member = db.session.get(User, ann)
        token, password_hash = reset_token(member), member.password_hash
    # loads_unsafe decodes without checking the signature, as anyone can
    _, payload = itsdangerous.URLSafeTimedSerializer("any key").loads_unsafe(token)
    readable = json.dumps(payload)
    for part in [password_hash, *password_hash.split("$")[1:]]:
        assert part not in readable, "expected the token not to carry the password hash or a part of it"


# 07.2: the forgotten-password form

@pytest.fixture
def outbox(app, monkeypatch):
    """The mails the reset views hand to deliver, recorded; deliver returns deliver.answer."""
    sent = []

    def deliver(message):
        sent.append(message)
        return deliver.answer

    deliver.answer = True
    monkeypatch.setattr("bookshelf.reset.deliver", deliver)
    return sent, deliver


def ask_for_link(client, email):
    response = client.post("/auth/forgot", data={"email": email, "csrf_token": form_token(client, "/auth/forgot")})
    return response.status_code, response.headers.get("Location"), flashed(client)


@pytest.mark.exercise("07.2")
def test_an_address_in_capitals_gets_the_mail(app, outbox):
    """An address typed with capitals (" Ann@Example.COM") finds Ann: addresses are stored in lower case."""
    sent, _ = outbox
    add_member(app)
    ask_for_link(app.test_client(), "Ann@Example.COM")
    assert [message.send_to for message in sent] == [{"ann@example.com"}], (
        f"expected one mail to ann@example.com, found {[message.send_to for message in sent]}"
    )


@pytest.mark.exercise("07.2")
def test_a_mail_that_fails_changes_nothing_in_the_answer(app, outbox):
    """When the mail to a member cannot be sent, the page answers as for a stranger: nothing tells who is a member."""
    _, deliver = outbox
    deliver.answer = False
    add_member(app)
    member, stranger = (ask_for_link(app.test_client(), email) for email in ("ann@example.com", "nobody@example.com"))
    assert member == stranger, f"expected the same answer for a member whose mail failed and a stranger: {member} {stranger}"


@pytest.mark.exercise("07.2")
def test_the_page_of_the_link_logs_nobody_in(app, outbox):
    """After the new password is set, the browser that used the link is not logged in: the link alone proves nothing."""
    from bookshelf.tokens import reset_token

    db, User = learner_models()
    ann = add_member(app)
    with app.app_context():
        path = f"/auth/reset/{reset_token(db.session.get(User, ann))}"
    client = app.test_client()
    new = "a brand new passphrase, typed twice"
    response = client.post(path, data={"password": new, "confirm": new, "csrf_token": form_token(client, path)})
    assert response.status_code in (302, 303), f"expected the new password set with a redirect, got {response.status_code}"
    assert client.get("/auth/password").status_code != 200, "expected the browser that used the link not to be logged in"


# 07.3: confirming the address

@pytest.mark.exercise("07.3")
def test_a_confirmed_member_is_told_so_without_a_button(app, client):
    """Opening the link again after confirming says the address is confirmed, and shows no button to confirm again."""
    from bookshelf.tokens import confirm_token

    db, User = learner_models()
    ann = add_member(app)
    with app.app_context():
        path = f"/auth/confirm/{confirm_token(db.session.get(User, ann))}"
    client.post(path, data={"csrf_token": form_token(client, path)})
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code < 400, f"expected no error for a link used again, got {page.status_code}"
    assert not re.search(r"<button", text), "expected no button to confirm an address confirmed already"
    assert any("confirmed" in message for message in flashed(client)) or "confirmed" in text, (
        "expected the page to say the address is confirmed already"
    )


# 07.4: a new address, confirmed by a link

CHANGE_LINK = re.compile(r"https?://[^\s\"'<>]*/account/email/[^\s\"'<>]+")


@pytest.fixture
def mailbox(app, monkeypatch):
    """The mails that email_change.py hands to deliver, recorded instead of sent (grading leaves 06.1 blank)."""
    return deliveries_recorded(monkeypatch, "bookshelf.email_change")


def address_of(app, member_id):
    db, User = learner_models()
    with app.app_context():
        return db.session.get(User, member_id).email


def member_client(app, email):
    from workbook.check_fixtures import logged_in_client

    return logged_in_client(app, email)


def ask_for(client, email, password=PASSPHRASE):
    return client.post("/account/email", data={"email": email, "password": password,
                                               "csrf_token": form_token(client, "/account/email")})


def path_to(messages, to):
    links = [link for message in messages if to in message.send_to for link in CHANGE_LINK.findall(message.body or "")]
    assert len(links) == 1, f"expected one link mailed to {to}, found {links}"
    return "/" + links[0].split("://", 1)[1].split("/", 1)[1]


def press(client, path):
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(path, data={"csrf_token": form_token(client, path)})


@pytest.mark.exercise("07.4")
def test_two_changes_in_a_row_each_confirmed(app, mailbox):
    """Cat moves to CAT@Second.example, then to cat@third.example: each stored in lower case once its link is pressed."""
    import importlib

    importlib.import_module("bookshelf.email_change")
    cat = add_member(app, "cat@first.example", "Cat")
    client = member_client(app, "cat@first.example")
    for typed, stored in (("CAT@Second.example", "cat@second.example"), ("cat@third.example ", "cat@third.example")):
        mailbox.clear()
        ask_for(client, typed)
        path = path_to(mailbox, stored)
        assert press(client, path).status_code in (302, 303)
        assert address_of(app, cat) == stored
        assert press(client, path).status_code == 400


@pytest.mark.exercise("07.4")
def test_a_taken_address_with_spaces_and_capitals(app, mailbox):
    """Dan's address, typed " DAN@Example.ORG ": the same answer as a free one, and Cat keeps hers."""
    import importlib

    importlib.import_module("bookshelf.email_change")
    cat = add_member(app, "cat@first.example", "Cat")
    add_member(app, "dan@example.org", "Dan")
    client = member_client(app, "cat@first.example")
    free = ask_for(client, "cat@free.example")
    mailbox.clear()
    taken = ask_for(client, " DAN@Example.ORG ")
    assert (taken.status_code, taken.headers.get("Location")) == (free.status_code, free.headers.get("Location"))
    for message in list(mailbox):
        for link in CHANGE_LINK.findall(message.body or ""):
            press(client, "/" + link.split("://", 1)[1].split("/", 1)[1])
    assert address_of(app, cat) == "cat@first.example"


@pytest.mark.exercise("07.4")
def test_another_member_cannot_use_the_link(app, mailbox):
    """Dan, logged in, presses Cat's link: refused (4xx), and both keep their addresses."""
    import importlib

    importlib.import_module("bookshelf.email_change")
    cat = add_member(app, "cat@first.example", "Cat")
    dan = add_member(app, "dan@example.org", "Dan")
    ask_for(member_client(app, "cat@first.example"), "cat@elsewhere.example")
    answer = press(member_client(app, "dan@example.org"), path_to(mailbox, "cat@elsewhere.example"))
    assert 400 <= answer.status_code < 500, answer.status_code
    assert (address_of(app, cat), address_of(app, dan)) == ("cat@first.example", "dan@example.org")


@pytest.mark.exercise("07.4")
def test_a_link_two_hours_old_is_refused(app, mailbox, monkeypatch):
    """A link made two hours ago gets the bad-link page (400), and the address stays."""
    import importlib
    import time

    importlib.import_module("bookshelf.email_change")
    cat = add_member(app, "cat@first.example", "Cat")
    client = member_client(app, "cat@first.example")
    with monkeypatch.context() as patched:
        patched.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: int(time.time()) - (
            0 if self.salt in (b"cookie-session", b"wtf-csrf-token") else 7200))
        ask_for(client, "cat@late.example")
    assert press(client, path_to(mailbox, "cat@late.example")).status_code == 400
    assert address_of(app, cat) == "cat@first.example"
