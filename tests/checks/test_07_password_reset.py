"""Checks for chapter 07: signed reset tokens, the forgotten-password form, e-mail confirmation, and a new address."""

import re
import time

import itsdangerous
import pytest
from workbook.app import TEST_CONFIG, load_create_app
from workbook.check_fixtures import chapter05_stand_ins, deliveries_recorded, form_token, logged_in_client  # noqa: F401 (a fixture)

# grading leaves chapter 05's exercises blank: members' passwords and log-ins come from stand-ins
pytestmark = pytest.mark.usefixtures("chapter05_stand_ins")

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"07.1": 3, "07.2": 3, "07.3": 2, "07.4": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"07.2": ["07.1"]}

PASSPHRASE = "correct horse battery staple"
NEW_PASSPHRASE = "a brand new passphrase, typed twice"
LINK = re.compile(r"https?://[^\s\"'<>]+")


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


def refusal(app, token):
    """Return the BadLink that member_to_reset raises for the token, or fail saying what it returned."""
    from bookshelf.tokens import BadLink, member_to_reset

    with app.app_context():
        try:
            found = member_to_reset(token)
        except BadLink as error:
            return error
    pytest.fail(f"expected member_to_reset to raise BadLink, it returned {found!r}")


# 07.1: reset tokens

@pytest.mark.exercise("07.1")
def test_a_reset_token_finds_its_member(app):
    """A reset token is a string that member_to_reset turns back into its member.
    reset_token dumps the member's id (and a stamp of the password) with serializer("reset"); member_to_reset loads it.
    """
    from bookshelf.tokens import member_to_reset, reset_token

    ann, ben = add_member(app), add_member(app, "ben@example.com", "Ben")
    db, User = learner_models()
    with app.app_context():
        tokens = [reset_token(db.session.get(User, id_)) for id_ in (ann, ben)]
        assert all(isinstance(token, str) and token for token in tokens), f"expected tokens as strings, got {tokens!r}"
        found = [getattr(member_to_reset(token), "id", None) for token in tokens]
    assert found == [ann, ben], f"expected the tokens to give back Ann and Ben (ids {[ann, ben]}), got {found}"


@pytest.mark.exercise("07.1")
def test_a_reset_token_dies_with_a_new_password(app):
    """A token made before the password changed is refused as used; one made after works.
    Put password_stamp(member) in the token, and compare it with the member's stamp now: if they differ, the link is used (BadLink(USED)).
    """
    from bookshelf.tokens import USED, member_to_reset, reset_token

    db, User = learner_models()
    ann = add_member(app)
    with app.app_context():
        token = reset_token(db.session.get(User, ann))
        db.session.get(User, ann).set_password(NEW_PASSPHRASE)
        db.session.commit()
    error = refusal(app, token)
    assert str(error) == USED, f"expected the message USED for a token used (or outdated), got {str(error)!r}"
    with app.app_context():
        fresh = reset_token(db.session.get(User, ann))
        assert member_to_reset(fresh).id == ann, "expected a token made after the new password to work"


@pytest.mark.exercise("07.1")
def test_a_reset_token_expires(app, monkeypatch):
    """A token older than RESET_MAX_AGE is refused as expired; one made 10 minutes ago still works.
    Load the token with read_token("reset", token, RESET_MAX_AGE): its max_age refuses an old token.
    """
    from bookshelf.tokens import EXPIRED, RESET_MAX_AGE, member_to_reset, reset_token

    db, User = learner_models()
    ann = add_member(app)
    tokens = {}
    for age in (RESET_MAX_AGE + 60, 600):
        # itsdangerous dates a token with TimestampSigner.get_timestamp: made `age` seconds ago
        monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self, age=age: int(time.time()) - age)
        with app.app_context():
            tokens[age] = reset_token(db.session.get(User, ann))
    monkeypatch.undo()
    error = refusal(app, tokens[RESET_MAX_AGE + 60])
    assert str(error) == EXPIRED, f"expected the message EXPIRED for a token past RESET_MAX_AGE, got {str(error)!r}"
    with app.app_context():
        assert member_to_reset(tokens[600]).id == ann, "expected a token of 10 minutes to work"


def token_parts(token):
    """Split an itsdangerous token into (payload, timestamp, signature). The payload is everything before the last two
    dots: a compressed payload starts with a "." of its own, so the token's first dot may be part of it."""
    payload, timestamp, signature = token.rsplit(".", 2)
    return payload, timestamp, signature


def tampered(app, ann, ben):
    """Return Ann's token with its payload swapped for Ben's, Ann's timestamp and signature kept."""
    from bookshelf.tokens import reset_token

    db, User = learner_models()
    with app.app_context():
        ann_token, ben_token = (reset_token(db.session.get(User, id_)) for id_ in (ann, ben))
    _, timestamp, signature = token_parts(ann_token)
    forged = ".".join((token_parts(ben_token)[0], timestamp, signature))
    assert forged not in (ann_token, ben_token), "the check could not change the token: tell the workbook's authors"
    return forged


def signature_changed(app, ann, ben):
    """Return Ann's token with the first character of its signature changed (one that carries 6 bits of it)."""
    from bookshelf.tokens import reset_token

    db, User = learner_models()
    with app.app_context():
        payload, timestamp, signature = token_parts(reset_token(db.session.get(User, ann)))
    return ".".join((payload, timestamp, ("B" if signature[0] == "A" else "A") + signature[1:]))


def for_another_purpose(app, ann, ben):
    from bookshelf.tokens import confirm_token

    db, User = learner_models()
    with app.app_context():
        return confirm_token(db.session.get(User, ann))


def signed_with_another_key(app, ann, ben):
    db, User = learner_models()
    with app.app_context():
        from bookshelf.tokens import password_stamp

        stamp = password_stamp(db.session.get(User, ann))
    return itsdangerous.URLSafeTimedSerializer("not the app's key", salt="reset").dumps({"id": ann, "stamp": stamp})


@pytest.mark.exercise("07.1")
@pytest.mark.parametrize("forge", [tampered, signature_changed, for_another_purpose, signed_with_another_key,
                                   lambda *_: "no-token-at-all"],
                         ids=["tampered", "signature-changed", "confirmation-token", "another-key", "garbage"])
def test_a_forged_or_foreign_token_is_not_valid(app, forge):
    """A token changed by hand, made for confirmation, signed with another key, or garbage: refused as not valid.
    Load with read_token("reset", ...): the salt "reset" refuses a confirmation token, the signature a changed one.
    """
    from bookshelf.tokens import NOT_VALID

    token = forge(app, add_member(app), add_member(app, "ben@example.com", "Ben"))
    error = refusal(app, token)
    assert str(error) == NOT_VALID, f"expected the message NOT_VALID, got {str(error)!r}"


@pytest.mark.exercise("07.1")
def test_a_deleted_members_token_is_refused_as_not_valid(app):
    """The token of a member deleted since is refused as not valid (BadLink), not with an AttributeError (a 500).
    The member the token names may be gone: when the database has nobody with that id, raise BadLink(NOT_VALID)
    before you compare stamps.
    """
    from bookshelf.tokens import NOT_VALID, reset_token

    db, User = learner_models()
    add_member(app)
    ben = add_member(app, "ben@example.com", "Ben")
    with app.app_context():
        member = db.session.get(User, ben)
        token = reset_token(member)
        db.session.delete(member)
        db.session.commit()
    error = refusal(app, token)
    assert str(error) == NOT_VALID, f"expected the message NOT_VALID for a deleted member's token, got {str(error)!r}"


@pytest.mark.exercise("07.1")
def test_anyone_who_reads_the_link_learns_nothing_of_the_password(app):
    """A token is signed, not encrypted: it must not hold the password hash, nor its salt or its digest.
    Anyone who reads the link can decode what the token holds: put the stamp (password_stamp) in it, never the hash.
    """
    from bookshelf.tokens import reset_token

    db, User = learner_models()
    ben = add_member(app, "ben@example.com", "Ben")
    with app.app_context():
        member = db.session.get(User, ben)
        token, password_hash = reset_token(member), member.password_hash
    # loads_unsafe decodes without the key, as anyone can
    _, payload = itsdangerous.URLSafeTimedSerializer("any key").loads_unsafe(token)
    readable = repr(payload)
    for part in [password_hash, *password_hash.split("$")[1:]]:
        assert part not in readable, "expected the token not to carry the password hash, nor a part of it"


# 07.2: the forgotten-password form

@pytest.fixture
def outbox(monkeypatch):
    """The mails the reset views hand to deliver, recorded instead of sent: this chapter's checks are about links."""
    sent = []

    def deliver(message):
        sent.append(message)
        return True

    monkeypatch.setattr("bookshelf.reset.deliver", deliver)
    return sent


def flashed(client):
    """Return the messages flashed to the client's session, without loading the next page."""
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def ask_for_link(client, email, headers=None):
    """Post the forgotten-password form; return the response and the messages it flashed."""
    token = form_token(client, "/auth/forgot") if headers is None else form_token_at(client, "/auth/forgot", headers)
    response = client.post("/auth/forgot", data={"email": email, "csrf_token": token}, headers=headers or {})
    return response, flashed(client)


def form_token_at(client, path, headers):
    page = client.get(path, headers=headers).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def link_in(message):
    found = LINK.findall(message.body or "")
    assert found, f"expected a link in the mail's text body, found {message.body!r}"
    return found[0]


@pytest.mark.exercise("07.2")
def test_known_and_unknown_addresses_get_the_same_answer(app, outbox):
    """Ann's address and an unknown one get the same status, redirect and message; only Ann gets a mail.
    Look the member up by address; deliver(reset_message(member)) only if there is one; then the same flash and redirect.
    """
    add_member(app)
    answers = {}
    for email in ("ann@example.com", "nobody@example.com"):
        response, messages = ask_for_link(app.test_client(), email)
        answers[email] = (response.status_code, response.headers.get("Location"), messages)
    assert answers["ann@example.com"] == answers["nobody@example.com"], (
        f"expected the same answer for a member and a stranger, got {answers}"
    )
    assert answers["ann@example.com"][0] in (302, 303) and answers["ann@example.com"][2], (
        f"expected a redirect with a message, got {answers['ann@example.com']}"
    )
    assert [message.send_to for message in outbox] == [{"ann@example.com"}], (
        f"expected one mail, to Ann, found mails to {[message.send_to for message in outbox]}"
    )


@pytest.mark.exercise("07.2")
def test_an_address_typed_in_capitals_finds_the_member(app, outbox):
    """An address typed with capitals ("ANN@example.com") finds Ann and mails her.
    Addresses are stored in lower case: look the member up with the address lowered, as registration stored it.
    """
    add_member(app)
    ask_for_link(app.test_client(), "ANN@example.com")
    assert [message.send_to for message in outbox] == [{"ann@example.com"}], (
        f"expected one mail to ann@example.com, found mails to {[message.send_to for message in outbox]}"
    )


@pytest.mark.exercise("07.2")
def test_a_mail_that_could_not_be_sent_changes_nothing_in_the_answer(app, monkeypatch):
    """When the mail to a member cannot be sent, the page answers exactly as for an unknown address.
    Whatever happened to the mail, flash the same FORGOT_ANSWER and redirect: a word about a failed mail is one only a
    member's address can get, and tells a stranger who is a member.
    """
    sent = []

    def deliver_fails(message):
        sent.append(message)
        return False

    monkeypatch.setattr("bookshelf.reset.deliver", deliver_fails)
    add_member(app)
    answers = {}
    for email in ("ann@example.com", "nobody@example.com"):
        response, messages = ask_for_link(app.test_client(), email)
        answers[email] = (response.status_code, response.headers.get("Location"), messages)
    assert len(sent) == 1, f"expected the view to try one mail, to Ann, found {len(sent)}"
    assert answers["ann@example.com"] == answers["nobody@example.com"], (
        f"expected the same answer for a member whose mail failed and a stranger, got {answers}"
    )


@pytest.mark.exercise("07.2")
def test_the_mailed_link_works_once(app, outbox):
    """The link in the mail leads to the new-password form; the new password is set; the same link is then refused.
    Mail reset_message(member): its link is url_for("reset.reset", token=reset_token(member), _external=True).
    """
    db, User = learner_models()
    ann = add_member(app)
    client = app.test_client()
    ask_for_link(client, "ann@example.com")
    assert len(outbox) == 1, f"expected one mail to Ann, found {len(outbox)}"
    path = re.sub(r"^https?://[^/]+", "", link_in(outbox[0]))
    page = client.get(path)
    assert page.status_code == 200 and b'name="password"' in page.data, f"expected the new-password form at the link, got {page.status_code}"
    response = client.post(path, data={"password": NEW_PASSPHRASE, "confirm": NEW_PASSPHRASE, "csrf_token": form_token(client, path)})
    assert response.status_code in (302, 303), f"expected the new password to be accepted with a redirect, got {response.status_code}"
    with app.app_context():
        assert db.session.get(User, ann).check_password(NEW_PASSPHRASE), "expected Ann's password to be the new one"
    again = client.get(path)
    assert again.status_code == 400 and b"used" in again.data, f"expected the used link refused with 400, got {again.status_code}"


@pytest.fixture
def configured_host(folder):
    """The learner's app, with the host that links must name set as production sets it."""
    return load_create_app(folder, reuse=True)({**TEST_CONFIG, "SERVER_NAME": "bookshelf.example"})


@pytest.mark.exercise("07.2")
def test_the_link_names_the_configured_host(configured_host, outbox):
    """A request with `Host: evil.example` still gets a link to the configured host (SERVER_NAME), not to evil.example.
    Build the link with url_for(..., _external=True), as reset_message does, never from request.host.
    """
    add_member(configured_host)
    ask_for_link(configured_host.test_client(), "ann@example.com", headers={"Host": "evil.example"})
    assert len(outbox) == 1, f"expected one mail to Ann, found {len(outbox)}"
    assert link_in(outbox[0]).startswith("http://bookshelf.example/"), f"expected a link to bookshelf.example, got {link_in(outbox[0])}"


@pytest.mark.exercise("07.2")
def test_one_mail_per_member_every_few_minutes(app, outbox):
    """Asking again at once sends no second mail, yet answers the same; after RESET_MAIL_INTERVAL a new mail goes.
    Send only if not mailed_lately(member), and set member.reset_sent_at = utcnow() when the mail went.
    """
    from bookshelf.reset import RESET_MAIL_INTERVAL

    db, User = learner_models()
    ann = add_member(app)
    first, first_messages = ask_for_link(app.test_client(), "ann@example.com")
    second, second_messages = ask_for_link(app.test_client(), "ann@example.com")
    assert len(outbox) == 1, f"expected one mail for two requests in a row, found {len(outbox)}"
    assert (second.status_code, second_messages) == (first.status_code, first_messages), (
        "expected the second request to get the same answer as the first (a different one tells who is a member)"
    )
    with app.app_context():
        member = db.session.get(User, ann)
        assert member.reset_sent_at is not None, "expected reset_sent_at to be set when the mail went"
        member.reset_sent_at = member.reset_sent_at - RESET_MAIL_INTERVAL
        db.session.commit()
    ask_for_link(app.test_client(), "ann@example.com")
    assert len(outbox) == 2, f"expected a new mail once RESET_MAIL_INTERVAL has passed, found {len(outbox)} in all"


# 07.2: the page of the link

def reset_path(app, member_id):
    """Return the path of a reset link for the member, as reset_message builds it (exercise 07.1's token)."""
    from bookshelf.tokens import reset_token

    db, User = learner_models()
    with app.app_context():
        return f"/auth/reset/{reset_token(db.session.get(User, member_id))}"


def logged_in_device(app, member_id):
    """Return a test client logged in as the member on a device of its own, as chapter 05's login view logs in."""
    db, User = learner_models()
    with app.app_context():
        email = db.session.get(User, member_id).email
    return logged_in_client(app, email)


def is_logged_in(client):
    """Say whether the client is logged in: the password page sends anyone else to the login page."""
    return client.get("/auth/password").status_code == 200


def set_new_password(client, path):
    return client.post(path, data={"password": NEW_PASSPHRASE, "confirm": NEW_PASSPHRASE, "csrf_token": form_token(client, path)})


@pytest.mark.exercise("07.2")
def test_a_new_password_ends_every_log_in_and_is_told_by_mail(app, outbox):
    """Setting the new password logs the member out on every device, and mails them a notice.
    After form.validate_on_submit(), call member.set_password(...) (it ends every log-in), commit, and deliver
    password_changed_message(member).
    """
    ann = add_member(app)
    other_device = logged_in_device(app, ann)
    assert is_logged_in(other_device), "expected Ann logged in on her other device before the reset (chapter 05's log-ins)"
    client = app.test_client()
    response = set_new_password(client, reset_path(app, ann))
    assert response.status_code in (302, 303) and "/auth/login" in response.headers.get("Location", ""), (
        f"expected the new password to be set with a redirect to the login page, got {response.status_code}"
    )
    assert not is_logged_in(other_device), (
        "expected the new password to log Ann out on her other device: set it with member.set_password(...)"
    )
    assert [message.send_to for message in outbox] == [{"ann@example.com"}], (
        f"expected one notice mailed to Ann, found mails to {[message.send_to for message in outbox]}"
    )


@pytest.mark.exercise("07.2")
def test_the_link_alone_logs_nobody_in(app, outbox):
    """After the new password is set, the browser that used the link is not logged in.
    Redirect to the login page without logging the member in: the link alone proves nothing, and whoever holds it
    must still know the new password.
    """
    ann = add_member(app)
    client = app.test_client()
    response = set_new_password(client, reset_path(app, ann))
    assert response.status_code in (302, 303), f"expected the new password set with a redirect, got {response.status_code}"
    assert not is_logged_in(client), "expected the browser that used the link not to be logged in"


@pytest.mark.exercise("07.2")
def test_each_bad_link_gets_the_page_that_says_why(app, outbox, monkeypatch):
    """An expired link, a confirmation link, a link changed by hand and a link used already each get a 400 page
    that says why, and no form.
    Call member_to_reset(token) first; when it raises BadLink, return bad_link(error).
    """
    from bookshelf.tokens import EXPIRED, NOT_VALID, RESET_MAX_AGE, USED, confirm_token

    db, User = learner_models()
    ann = add_member(app)
    with monkeypatch.context() as patched:
        # itsdangerous dates a token with TimestampSigner.get_timestamp: made an hour and a minute ago
        patched.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: int(time.time()) - RESET_MAX_AGE - 60)
        expired = reset_path(app, ann)
    with app.app_context():
        another_purpose = f"/auth/reset/{confirm_token(db.session.get(User, ann))}"
    good = reset_path(app, ann)
    changed = good[:-3] + ("abc" if not good.endswith("abc") else "xyz")
    client = app.test_client()
    assert set_new_password(client, good).status_code in (302, 303), "expected a good link to set the new password"
    for what, path, reason in (("an expired link", expired, EXPIRED), ("a confirmation link", another_purpose, NOT_VALID),
                               ("a link changed by hand", changed, NOT_VALID), ("a link used already", good, USED)):
        page = client.get(path)
        text = page.get_data(as_text=True)
        assert page.status_code == 400, f"expected {what} refused with 400, got {page.status_code}"
        assert reason in text, f"expected the page for {what} to say {reason!r}"
        assert 'name="password"' not in text, f"expected no form for a new password on the page for {what}"


# 07.3: confirming the address

def confirm_path(app, member_id):
    from bookshelf.tokens import confirm_token

    db, User = learner_models()
    with app.app_context():
        return f"/auth/confirm/{confirm_token(db.session.get(User, member_id))}"


def confirmed_at(app, member_id):
    db, User = learner_models()
    with app.app_context():
        return db.session.get(User, member_id).confirmed_at


@pytest.mark.exercise("07.3")
def test_a_get_shows_a_button_and_confirms_nothing(app, client):
    """Opening the link shows a form with a button, and confirms nothing yet: mail scanners open links too.
    On GET, render auth/confirm.html with the form; change the member only after form.validate_on_submit().
    """
    ann = add_member(app)
    page = client.get(confirm_path(app, ann))
    assert page.status_code == 200 and b"<form" in page.data, f"expected a page with a form, got {page.status_code}"
    assert confirmed_at(app, ann) is None, "expected a GET to confirm nothing"


@pytest.mark.exercise("07.3")
def test_the_button_confirms_once(app, client):
    """Pressing the button confirms the address; the same link again is no error and keeps the first time.
    After validate_on_submit(), set member.confirmed_at = utcnow() and commit; if confirmed_at is set already, just say so.
    """
    ann = add_member(app)
    path = confirm_path(app, ann)
    response = client.post(path, data={"csrf_token": form_token(client, path)})
    assert response.status_code in (302, 303), f"expected the confirmation to redirect, got {response.status_code}"
    first = confirmed_at(app, ann)
    assert first is not None, "expected confirmed_at to be set"
    again = client.post(path, data={"csrf_token": form_token(client, "/auth/login")})
    assert again.status_code < 400, f"expected the link used again to be no error, got {again.status_code}"
    assert confirmed_at(app, ann) == first, "expected the second use to keep the time of the first confirmation"


@pytest.mark.exercise("07.3")
def test_the_link_again_says_confirmed_and_shows_no_button(app, client):
    """Opening the link after confirming says the address is confirmed already, and shows no button to press again.
    Ask whether confirmed_at is set before anything else, for a GET as for a POST: a confirmed member has nothing
    left to confirm.
    """
    ann = add_member(app)
    path = confirm_path(app, ann)
    client.post(path, data={"csrf_token": form_token(client, path)})
    assert confirmed_at(app, ann) is not None, "expected the button to confirm the address"
    page = client.get(path)
    text = page.get_data(as_text=True)
    with client.session_transaction() as session:
        messages = [message for _, message in session.get("_flashes", [])]
    assert page.status_code < 400, f"expected no error for a link used again, got {page.status_code}"
    assert "<button" not in text, "expected no button to confirm an address that is confirmed already"
    assert any("confirmed" in message for message in messages) or "confirmed" in text, (
        "expected the page to say that the address is confirmed already"
    )


@pytest.mark.exercise("07.3")
def test_a_bad_confirmation_link_is_refused(app, client):
    """A link changed by hand, or no token at all, gets the 400 page that says why, not a 500."""
    ann = add_member(app)
    path = confirm_path(app, ann)
    for bad in (path[:-3] + ("abc" if not path.endswith("abc") else "xyz"), "/auth/confirm/garbage"):
        response = client.get(bad)
        assert response.status_code == 400, f"expected 400 for a bad link, got {response.status_code}"


# 07.4: a new address, confirmed by a link (a design exercise: only the URLs, the fields and the answers are fixed)

CHANGE_LINK = re.compile(r"https?://[^\s\"'<>]*/account/email/[^\s\"'<>]+")


def email_change_module():
    """Import the learner's bookshelf/email_change.py: the factory starts without a blank one, a check says it is blank."""
    import importlib

    return importlib.import_module("bookshelf.email_change")


@pytest.fixture
def mailbox(app, monkeypatch):
    """The mails that email_change.py hands to deliver, recorded instead of sent (grading leaves 06.1 blank)."""
    return deliveries_recorded(monkeypatch, "bookshelf.email_change")


def address_of(app, member_id):
    db, User = learner_models()
    with app.app_context():
        return db.session.get(User, member_id).email


def ask_for_address(client, email, password=PASSPHRASE):
    token = form_token(client, "/account/email")
    return client.post("/account/email", data={"email": email, "password": password, "csrf_token": token})


def change_links(messages, to):
    """Return the /account/email/<token> links in the text bodies of the mails to the address."""
    return [link for message in messages if to in message.send_to for link in CHANGE_LINK.findall(message.body or "")]


def follow(client, link):
    """Open the link (GET), then press its button (POST with the page's CSRF token); return both answers."""
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    if page.status_code != 200:
        return page, page
    return page, client.post("/" + path, data={"csrf_token": form_token(client, "/" + path)})


@pytest.mark.exercise("07.4")
def test_the_new_address_gets_a_link_and_the_old_one_a_notice(app, mailbox):
    """Ann asks for a new address: a link goes there, a notice without it to the old one; pressing the link changes it.
    Her address stays until the link's button is pressed, then it is the new one in lower case. The link goes where
    the proof must come from, the new address; the address changes only when the link is used.
    """
    email_change_module()
    ann = add_member(app)
    client = logged_in_client(app, "ann@example.com")
    page = client.get("/account/email")
    assert page.status_code == 200, f"expected Ann to see the form at /account/email (200), got {page.status_code}"
    response = ask_for_address(client, "  Ann@New.Example ")
    assert response.status_code in (200, 302, 303), f"expected the request taken, got {response.status_code}"
    assert address_of(app, ann) == "ann@example.com", "expected the address to stay until the link is followed"
    links = change_links(mailbox, "ann@new.example")
    assert len(links) == 1, f"expected one mail with a /account/email/<token> link to the new address, found {links}"
    assert any("ann@example.com" in message.send_to for message in mailbox), "expected a notice mailed to the old address"
    assert not change_links(mailbox, "ann@example.com"), "expected no link in the mail to the old address"
    page, pressed = follow(client, links[0])
    assert page.status_code == 200, f"expected the link's GET to show a button (200), got {page.status_code}"
    assert pressed.status_code in (302, 303), f"expected the button's POST to redirect, got {pressed.status_code}"
    assert address_of(app, ann) == "ann@new.example", f"expected Ann's address ann@new.example, got {address_of(app, ann)}"


@pytest.mark.exercise("07.4")
def test_a_get_of_the_link_changes_nothing(app, mailbox):
    """Opening the link (GET) shows a page and changes nothing: mail scanners open links too.
    Only a POST changes anything, as with the confirmation link of exercise 07.3.
    """
    email_change_module()
    ann = add_member(app)
    client = logged_in_client(app, "ann@example.com")
    ask_for_address(client, "ann@new.example")
    links = change_links(mailbox, "ann@new.example")
    assert links, "expected a link mailed to the new address"
    path = "/" + links[0].split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200 and address_of(app, ann) == "ann@example.com", (
        "expected the link's GET to show a page (200) and change nothing"
    )


@pytest.mark.exercise("07.4")
def test_a_wrong_password_is_a_form_error(app, mailbox):
    """A wrong password gets the form again (200); nothing is mailed, and the address stays.
    Whoever sits at a logged-in browser must still prove they know the password.
    """
    email_change_module()
    ann = add_member(app)
    client = logged_in_client(app, "ann@example.com")
    response = ask_for_address(client, "ann@new.example", password="not my passphrase")
    assert response.status_code == 200, f"expected the form again (200) for a wrong password, got {response.status_code}"
    assert not mailbox, f"expected no mail for a wrong password, found mails to {[m.send_to for m in mailbox]}"
    assert address_of(app, ann) == "ann@example.com"


@pytest.mark.exercise("07.4")
def test_a_taken_address_answers_as_a_free_one_and_changes_nothing(app, mailbox):
    """Ben's address, typed in capitals, gets the answer of a free address, and Ann keeps hers.
    The same status and redirect, whatever link any mail holds. Telling "taken" from "free" tells who is a member;
    ask whether the address is taken in lower case, as addresses are stored.
    """
    email_change_module()
    ann = add_member(app)
    add_member(app, "ben@example.com", "Ben")
    client = logged_in_client(app, "ann@example.com")
    free = ask_for_address(client, "ann@new.example")
    mailbox.clear()
    taken = ask_for_address(client, "BEN@example.com")
    assert (taken.status_code, taken.headers.get("Location")) == (free.status_code, free.headers.get("Location")), (
        "expected a taken address answered as a free one (same status and redirect)"
    )
    for link in change_links(mailbox, "ben@example.com") + change_links(mailbox, "BEN@example.com"):
        follow(client, link)
    assert address_of(app, ann) == "ann@example.com", "expected Ann to keep her address when she asks for Ben's"


@pytest.mark.exercise("07.4")
def test_a_link_works_once_and_for_its_member_only(app, mailbox):
    """Ben (logged in) and a visitor cannot use Ann's link; Ann can, once: the same link again gets the bad-link page.
    A visitor is sent to log in; Ben gets a 4xx. A token stays valid until it expires: bind it to something that
    changes when it is used, and to the member it was made for.
    """
    email_change_module()
    ann = add_member(app)
    add_member(app, "ben@example.com", "Ben")
    client = logged_in_client(app, "ann@example.com")
    ask_for_address(client, "ann@new.example")
    link = change_links(mailbox, "ann@new.example")[0]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    visitor = app.test_client().get(path)
    assert visitor.status_code == 302 and "/auth/login" in visitor.headers.get("Location", ""), (
        f"expected a visitor sent to the login page, got {visitor.status_code}"
    )
    ben = logged_in_client(app, "ben@example.com")
    page, pressed = follow(ben, link)
    assert 400 <= pressed.status_code < 500, f"expected Ben refused with a 4xx, got {pressed.status_code}"
    assert address_of(app, ann) == "ann@example.com", "expected Ben's use of Ann's link to change nothing"
    assert follow(client, link)[1].status_code in (302, 303), "expected Ann's own use of the link to work"
    page, pressed = follow(client, link)
    assert page.status_code == 400, f"expected the link used again refused with bad_link's 400, got {page.status_code}"
    assert address_of(app, ann) == "ann@new.example"


@pytest.mark.exercise("07.4")
def test_a_bad_link_gets_the_bad_link_page(app, mailbox, monkeypatch):
    """An expired link, one changed by hand, a reset token and a confirmation token each get bad_link's page (400).
    The address stays. Expired means an hour and a minute old. A salt of its own keeps tokens of other purposes out;
    max_age makes a link expire.
    """
    from bookshelf.tokens import EXPIRED, confirm_token, password_stamp, serializer

    email_change_module()
    db, User = learner_models()
    ann = add_member(app)
    client = logged_in_client(app, "ann@example.com")
    with monkeypatch.context() as patched:
        # the link's token made an hour and a minute ago; the session's and the CSRF token's dated now
        patched.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: int(time.time()) - (
            0 if self.salt in (b"cookie-session", b"wtf-csrf-token") else 3660))
        ask_for_address(client, "ann@old-link.example")
    expired = change_links(mailbox, "ann@old-link.example")[0]
    ask_for_address(client, "ann@new.example")
    good = change_links(mailbox, "ann@new.example")[0]
    changed = good[:-3] + ("abc" if not good.endswith("abc") else "xyz")
    with app.app_context():
        member = db.session.get(User, ann)
        reset = serializer("reset").dumps({"id": ann, "stamp": password_stamp(member)})
        confirm = confirm_token(member)
    for what, link in (("an expired link", expired), ("a link changed by hand", changed),
                       ("a reset token", f"http://localhost/account/email/{reset}"),
                       ("a confirmation token", f"http://localhost/account/email/{confirm}")):
        page, pressed = follow(client, link)
        assert page.status_code == 400 and pressed.status_code == 400, (
            f"expected {what} refused with bad_link's page (400), got {page.status_code}"
        )
        assert address_of(app, ann) == "ann@example.com", f"expected {what} to change nothing"
    assert EXPIRED in follow(client, expired)[0].get_data(as_text=True), "expected the expired link's page to say EXPIRED"
