"""Hidden tests for chapter 06: what grading adds to the public checks."""

import smtplib
from datetime import datetime, timedelta, timezone

import pytest
from workbook.app import TEST_CONFIG, load_create_app

def learner_models():
    from bookshelf.db import db
    from bookshelf.models import Book, User

    return db, Book, User


class StandInServer:
    """Stands in for smtplib.SMTP: records each connection and what it sent, or fails as a real server does.

    A check cannot run an SMTP server of its own (that takes a thread); the errors are the ones smtplib raised
    against a real aiosmtpd server here (tests/test_mailbox.py)."""

    connections: list["StandInServer"] = []
    failure: Exception | None = None

    def __init__(self, host="", port=0, *args, **kwargs):
        self.sent = []
        StandInServer.connections.append(self)

    def set_debuglevel(self, level):
        pass

    def starttls(self, *args, **kwargs):
        pass

    def login(self, *args, **kwargs):
        pass

    def sendmail(self, sender, recipients, message, mail_options=(), rcpt_options=()):
        if StandInServer.failure is not None:
            raise StandInServer.failure
        self.sent.append(list(recipients))

    def quit(self):
        pass


@pytest.fixture
def stand_in(monkeypatch, folder):
    """The learner's app, sending for real to a stand-in server; the test says how the server answers."""
    StandInServer.connections, StandInServer.failure = [], None
    monkeypatch.setattr(smtplib, "SMTP", StandInServer)
    return load_create_app(folder, reuse=True)({**TEST_CONFIG, "MAIL_SUPPRESS_SEND": False})


REFUSALS = {
    "recipient refused (550)": lambda: smtplib.SMTPRecipientsRefused(
        {"ann@example.com": (550, b"5.1.1 Mailbox unavailable")}),
    "sender refused (553)": lambda: smtplib.SMTPSenderRefused(553, b"5.7.1 Sender not allowed", "noreply@bookshelf.example"),
    "server hung up": lambda: smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
}


def warnings_logged(caplog):
    return [record.getMessage() for record in caplog.records if record.levelname in ("WARNING", "ERROR", "CRITICAL")]


# 06.1: deliver, with a server that refuses

@pytest.mark.exercise("06.1")
@pytest.mark.parametrize("refusal", REFUSALS)
def test_deliver_survives_a_server_that_refuses(stand_in, caplog, refusal):
    """A server that refuses the recipient or the sender, or hangs up: deliver returns False and logs, never raises."""
    from flask_mail import Message

    from bookshelf.mail import deliver

    StandInServer.failure = REFUSALS[refusal]()
    with stand_in.app_context():
        sent = deliver(Message("Hello", recipients=["ann@example.com"], body="Hello, Ann."))
    assert sent is False, f"expected False when the server refuses ({refusal}), got {sent!r}"
    assert warnings_logged(caplog), "expected a warning in the app's log"


# 06.2: the welcome mail

@pytest.mark.exercise("06.2")
def test_the_html_body_escapes_what_a_member_typed(app):
    """A name with HTML in it is escaped in the HTML body, and left as typed in the plain-text body."""
    from bookshelf.welcome import welcome_message

    _, _, User = learner_models()
    name = "Ann <script>alert(1)</script> & Ben"
    with app.test_request_context():
        message = welcome_message(User(name=name, email="ann@example.com"))
    assert "<script>" not in message.html, "expected the name escaped in the HTML body"
    assert "&lt;script&gt;" in message.html, "expected the name shown, escaped, in the HTML body"
    assert name in message.body, "expected the name as typed in the plain-text body"


@pytest.mark.exercise("06.2")
def test_both_bodies_come_from_the_templates(app):
    """The bodies are the templates mail/welcome.txt and mail/welcome.html rendered for the member."""
    from flask import render_template

    from bookshelf.welcome import welcome_message

    _, _, User = learner_models()
    with app.test_request_context():
        member = User(name="Ann", email="ann@example.com")
        message = welcome_message(member)
        assert message.body.strip() == render_template("mail/welcome.txt", member=member).strip()
        assert message.html.strip() == render_template("mail/welcome.html", member=member).strip()


# 06.3: flask send-digest

def members_and_books(app, new_books=True):
    db, Book, User = learner_models()
    month_ago = datetime.now(timezone.utc) - timedelta(days=30)
    with app.app_context():
        db.session.add_all([
            User(name="Ann", email="ann@example.com", password_hash="set"),
            User(name="Ben", email="ben@example.com", password_hash="set"),
            User(name="Cy", email="cy@example.com", password_hash="set"),
            Book(title="Old News", author="Someone", created_at=month_ago),
        ])
        if new_books:
            db.session.add(Book(title="Kindred", author="Octavia E. Butler", year=1979))
        db.session.commit()


@pytest.mark.exercise("06.3")
def test_digest_sends_every_message_over_one_connection(stand_in):
    """Three digests go over one connection to the server, one message per member."""
    members_and_books(stand_in)
    result = stand_in.test_cli_runner().invoke(args=["send-digest"])
    assert result.exit_code == 0, result.output
    sent = [recipients for connection in StandInServer.connections for recipients in connection.sent]
    assert sorted(sent) == [["ann@example.com"], ["ben@example.com"], ["cy@example.com"]], f"found {sent}"
    assert len(StandInServer.connections) == 1, f"expected one connection, found {len(StandInServer.connections)}"


@pytest.mark.exercise("06.3")
def test_no_new_books_no_mail(app, runner):
    """With no book added in the period, nobody gets a mail and the command says so, successfully."""
    from bookshelf.mail import mail

    members_and_books(app, new_books=False)
    with mail.record_messages() as outbox:
        result = runner.invoke(args=["send-digest"])
    assert result.exit_code == 0, f"expected success, got {result.exit_code}: {result.output}"
    assert outbox == [], f"expected no mail, found {len(outbox)}"
    assert result.output.strip(), "expected the command to say that there was nothing to send"
