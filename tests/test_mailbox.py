"""mail_server(): a real SMTP server on 127.0.0.1 that keeps what it receives, refuses when asked, and stops;
chapter 06's Bookshelf registers members whether that server runs, is stopped, or refuses."""

import smtplib
from email.message import EmailMessage

import pytest

from workbook import mail_server, reference
from workbook.app import TEST_CONFIG, forget_package, load_create_app
from workbook.check_fixtures import form_token


@pytest.fixture
def servers(monkeypatch):
    """Start servers with mail_server(); the environment it changes and the servers are put back afterwards."""
    monkeypatch.setenv("MAIL_SERVER", "unset")
    monkeypatch.setenv("MAIL_PORT", "0")
    started = []

    def start(**options):
        started.append(mail_server(**options))
        return started[-1]

    yield start
    for inbox in started:
        inbox.stop()


def a_message(to="ada@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "noreply@bookshelf.example", to, "Welcome"
    message.set_content("Hello, Ada.")
    message.add_alternative("<p>Hello, Ada.</p>", subtype="html")
    return message


def test_a_message_sent_arrives_and_is_shown_without_what_changes_every_run(servers, capsys):
    inbox = servers()
    with smtplib.SMTP("127.0.0.1", inbox.port) as client:
        client.send_message(a_message())
    assert [message["Subject"] for message in inbox.messages] == ["Welcome"]
    inbox.show()
    shown = capsys.readouterr().out
    assert shown == ("From: noreply@bookshelf.example\nTo: ada@example.com\nSubject: Welcome\n\n"
                     "--- text/plain ---\nHello, Ada.\n\n--- text/html ---\n<p>Hello, Ada.</p>\n")
    assert repr(inbox) == "<Inbox: running, 1 message>"
    inbox.clear()
    inbox.show()
    assert capsys.readouterr().out == "The inbox is empty.\n"


def test_mail_server_points_this_process_at_itself_and_stops_the_one_before(servers):
    import os

    first = servers()
    assert (os.environ["MAIL_SERVER"], os.environ["MAIL_PORT"]) == ("127.0.0.1", str(first.port))
    second = servers()
    assert os.environ["MAIL_PORT"] == str(second.port) and second.port != first.port
    assert repr(first) == "<Inbox: stopped, 0 messages>"
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", first.port)


def test_a_refusing_server_answers_550_to_every_recipient(servers):
    """The refusal the hidden tests of 06.1 stand in for, measured against a real server."""
    inbox = servers(refuse=True)
    with smtplib.SMTP("127.0.0.1", inbox.port) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.send_message(a_message())
    assert refused.value.recipients["ada@example.com"][0] == 550
    assert isinstance(refused.value, OSError)
    assert inbox.messages == [] and repr(inbox) == "<Inbox: running, refusing every recipient, 0 messages>"


@pytest.fixture
def bookshelf(tmp_path):
    """Chapter 06's reference Bookshelf, imported from its folder, and forgotten afterwards."""
    reference.build(tmp_path, "06")
    yield lambda: load_create_app(tmp_path)({**TEST_CONFIG, "MAIL_SUPPRESS_SEND": False})
    forget_package(tmp_path)


def register(app, name):
    client = app.test_client()
    password = "correct horse battery staple"
    response = client.post("/auth/register", data={
        "name": name, "email": f"{name.lower()}@example.com", "password": password, "confirm": password,
        "csrf_token": form_token(client, "/auth/register")})
    with client.session_transaction() as session:
        return response, [message for _, message in session.get("_flashes", [])]


def test_registration_survives_a_mail_server_that_stops_or_refuses(servers, bookshelf, caplog):
    """Issue 11's bad input: the server stopped for real, then one that refuses; every member is saved, no 500."""
    inbox = servers()
    app = bookshelf()
    response, flashes = register(app, "Ann")
    assert response.status_code == 302 and len(flashes) == 1
    assert [message["To"] for message in inbox.messages] == ["ann@example.com"]
    assert "ann@example.com" in inbox.messages[0].get_body(("plain",)).get_content()

    inbox.stop()
    response, flashes = register(app, "Ben")
    assert response.status_code == 302 and "could not send you a welcome mail" in flashes[-1]
    assert "Connection refused" in caplog.records[-1].getMessage() and caplog.records[-1].levelname == "WARNING"

    assert emails(app) == ["ann@example.com", "ben@example.com"]

    servers(refuse=True)
    app = bookshelf()  # Flask-Mail reads the port when the app is made; this app has a new database in memory
    response, flashes = register(app, "Cy")
    assert response.status_code == 302 and "could not send you a welcome mail" in flashes[-1]
    assert "550" in caplog.records[-1].getMessage()
    assert emails(app) == ["cy@example.com"]


def emails(app):
    from bookshelf.db import db
    from bookshelf.models import User

    with app.app_context():
        return list(db.session.scalars(db.select(User.email).order_by(User.id)))
