"""Checks for chapter 06: sending that survives a mail server that is down, the welcome mail, and `flask send-digest`."""

from datetime import datetime, timedelta, timezone

import pytest
from workbook.app import TEST_CONFIG, load_create_app
from workbook.check_fixtures import CliRunner, form_token, unused_port

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"06.1": 3, "06.2": 3, "06.3": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"06.2": ["06.1"]}

PASSPHRASE = "correct horse battery staple"


def learner_models():
    from bookshelf.db import db
    from bookshelf.models import Book, User

    return db, Book, User


@pytest.fixture
def server_down(folder):
    """The learner's app, sending for real (not suppressed as in tests) to a port of this machine where nobody listens."""
    config = {**TEST_CONFIG, "MAIL_SUPPRESS_SEND": False, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": unused_port()}
    return load_create_app(folder, reuse=True)(config)


def warnings_logged(caplog):
    return [record.getMessage() for record in caplog.records if record.levelname in ("WARNING", "ERROR", "CRITICAL")]


# 06.1: deliver

@pytest.mark.exercise("06.1")
def test_deliver_sends_and_says_so(app):
    """deliver sends the message through Flask-Mail and returns True.
    Call mail.send(message) and return True when it raised nothing.
    """
    from flask_mail import Message

    from bookshelf.mail import deliver, mail

    with app.app_context(), mail.record_messages() as outbox:
        message = Message("Hello", recipients=["ann@example.com"], body="Hello, Ann.")
        assert deliver(message) is True, "expected deliver to return True for a mail that was sent"
    assert [sent.subject for sent in outbox] == ["Hello"], f"expected one message sent, found {len(outbox)}"


@pytest.mark.exercise("06.1")
def test_deliver_survives_a_server_that_is_down(server_down, caplog):
    """With the mail server down, deliver returns False and logs a warning, instead of raising.
    Catch the error around mail.send (a refused connection is an OSError), log it with current_app.logger, return False.
    """
    from flask_mail import Message

    from bookshelf.mail import deliver

    with server_down.app_context():
        sent = deliver(Message("Hello", recipients=["ann@example.com"], body="Hello, Ann."))
    assert sent is False, f"expected deliver to return False when the server is down, it returned {sent!r}"
    assert warnings_logged(caplog), "expected a warning in the app's log saying the mail could not be sent"


@pytest.mark.exercise("06.1")
def test_mail_test_command_reports_a_server_that_is_down(server_down):
    """`flask mail-test ADDRESS` with the server down ends with an error message and status 1, not a traceback.
    The command raises click.ClickException when deliver returns False.
    """
    result = CliRunner(server_down).invoke(args=["mail-test", "ann@example.com"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (
        f"expected exit status 1 and an error message, got status {result.exit_code} ({result.exception!r})"
    )
    assert "Error:" in result.output, f"expected an error message, got {result.output!r}"


# 06.2: the welcome mail

@pytest.mark.exercise("06.2")
def test_welcome_goes_to_the_member_alone(app):
    """The welcome mail has a subject, goes to the member's address only, and comes from MAIL_DEFAULT_SENDER.
    Give Message the subject WELCOME_SUBJECT and a list of one address, the member's; leave the sender out.
    """
    from bookshelf.welcome import welcome_message

    _, _, User = learner_models()
    with app.test_request_context():
        message = welcome_message(User(name="Ann", email="ann@example.com"))
        assert message is not None, "expected welcome_message to return a Message, it returned None"
        assert message.subject, "expected the welcome mail to have a subject"
        assert message.send_to == {"ann@example.com"}, f"expected the mail to go to ann@example.com only, it goes to {message.send_to}"
        assert message.sender == app.config["MAIL_DEFAULT_SENDER"], (
            f"expected the sender {app.config['MAIL_DEFAULT_SENDER']!r}, found {message.sender!r}"
        )


@pytest.mark.exercise("06.2")
def test_welcome_has_a_text_body_and_an_html_body(app):
    """The mail has a plain-text body and an HTML body, both greeting the member by name and naming their address.
    Render body from the template mail/welcome.txt and html from mail/welcome.html, each given member=member.
    """
    from bookshelf.welcome import welcome_message

    _, _, User = learner_models()
    with app.test_request_context():
        message = welcome_message(User(name="Ann", email="ann@example.com"))
    assert message.body and message.html, (
        f"expected both bodies, found {'a' if message.body else 'no'} text body and {'an' if message.html else 'no'} HTML body"
    )
    for kind, text in (("text", message.body), ("HTML", message.html)):
        assert "Ann" in text and "ann@example.com" in text, f"expected the {kind} body to name Ann and her address"
    assert "<p>" not in message.body, "expected plain text in body (the .txt template), found HTML tags"
    assert "<p>" in message.html, "expected HTML in html (the .html template)"


@pytest.fixture
def any_password(monkeypatch):
    """Let the register view store a password without exercise 05.1: this check is about the mail."""
    from bookshelf.models import User

    monkeypatch.setattr(User, "set_password", lambda member, password: setattr(member, "password_hash", "set by the check"))


def flashed(client):
    """Return the messages flashed to the client's session, without loading the next page."""
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def register(client, name, email):
    data = {"name": name, "email": email, "password": PASSPHRASE, "confirm": PASSPHRASE,
            "csrf_token": form_token(client, "/auth/register")}
    return client.post("/auth/register", data=data)


@pytest.mark.exercise("06.2")
def test_registration_sends_the_welcome_mail(app, client, any_password):
    """Registering sends one mail, the welcome mail, to the new member.
    The register view calls deliver(welcome_message(member)): welcome_message must return the Message.
    """
    from bookshelf.mail import mail

    with mail.record_messages() as outbox:
        response = register(client, "Ann", "ann@example.com")
    assert response.status_code in (302, 303), f"expected registering to redirect, got {response.status_code}"
    assert [message.send_to for message in outbox] == [{"ann@example.com"}], (
        f"expected one mail to ann@example.com, found {[message.send_to for message in outbox]}"
    )


@pytest.mark.exercise("06.2")
def test_registration_survives_a_server_that_is_down(server_down, any_password, caplog):
    """With the mail server down, registering still works: a redirect, the member saved, a flash about the mail.
    The register view calls deliver(welcome_message(member)) and flashes when it returns False: deliver must not raise.
    """
    db, _, User = learner_models()
    client = server_down.test_client()
    response = register(client, "Ann", "ann@example.com")
    assert response.status_code in (302, 303), f"expected registering to redirect, got {response.status_code}"
    with server_down.app_context():
        assert db.session.scalar(db.select(User).where(User.email == "ann@example.com")), "expected Ann saved"
    assert any("mail" in message for message in flashed(client)), (
        f"expected a message about the welcome mail, found {flashed(client)}"
    )
    assert warnings_logged(caplog), "expected a warning in the app's log saying the mail could not be sent"


# 06.3: flask send-digest

def members_and_books(app):
    """Ann and Ben, who registered; Api, a demo member without a password; two new books and an old one."""
    db, Book, User = learner_models()
    with app.app_context():
        db.session.add_all([
            User(name="Ann", email="ann@example.com", password_hash="set by the check"),
            User(name="Ben", email="ben@example.com", password_hash="set by the check"),
            User(name="Api", email="api@example.com"),
            Book(title="Kindred", author="Octavia E. Butler", year=1979),
            Book(title="Piranesi", author="Susanna Clarke", year=2020),
            Book(title="Old News", author="Someone", created_at=datetime.now(timezone.utc) - timedelta(days=30)),
        ])
        db.session.commit()


@pytest.mark.exercise("06.3")
def test_digest_goes_to_each_member_alone(app, runner):
    """Each member with a password gets one digest of their own, naming the books of the last 7 days.
    Inside `with mail.connect() as connection:` send each member the message digest_message builds for them;
    then click.echo how many were sent.
    """
    from bookshelf.mail import mail

    members_and_books(app)
    with mail.record_messages() as outbox:
        result = runner.invoke(args=["send-digest"])
    assert result.exit_code == 0, f"expected the command to succeed, got status {result.exit_code}: {result.output}"
    receivers = sorted(address for message in outbox for address in message.send_to)
    assert receivers == ["ann@example.com", "ben@example.com"] and len(outbox) == 2, (
        f"expected one message each for Ann and Ben, found {len(outbox)} message(s) to {receivers}"
    )
    for message in outbox:
        assert "Kindred" in message.body and "Piranesi" in message.body, "expected both new books in each digest"
        assert "Old News" not in message.body, "expected only the books of the last 7 days"
    assert "2" in result.output, f"expected the command to say it sent 2 digests, it said {result.output!r}"


@pytest.mark.exercise("06.3")
def test_digest_reports_a_server_that_is_down(server_down):
    """With the mail server down, `flask send-digest` ends with an error message and status 1, not a traceback.
    Catch the error around the sending and raise click.ClickException with what happened.
    """
    members_and_books(server_down)
    result = CliRunner(server_down).invoke(args=["send-digest"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (
        f"expected exit status 1 and an error message, got status {result.exit_code} ({result.exception!r})"
    )
    assert "Error:" in result.output, f"expected an error message, got {result.output!r}"
