"""Checks for chapter 06: sending that survives a mail server that is down, the welcome mail, `flask send-digest`, and
telling a friend about a book."""

import re
import smtplib
from datetime import datetime, timedelta, timezone

import pytest
from workbook.app import TEST_CONFIG, load_create_app
from workbook.check_fixtures import CliRunner, chapter05_stand_ins, form_token, logged_in_client, unused_port  # noqa: F401

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"06.1": 3, "06.2": 3, "06.3": 3, "06.4": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"06.2": ["06.1"], "06.4": ["06.1"]}

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


class StandInServer:
    """A mail server that smtplib.SMTP (and SMTP_SSL) connect to while a check runs: it records each connection and
    the recipients of each message sent over it, and refuses as told. A check may start no server of its own (graded,
    it may start no thread), so it stands in where Flask-Mail makes its connections."""

    def __init__(self):
        self.connections: list[list[list[str]]] = []
        # what each message gets instead of being taken: a function of its recipients that returns the exception
        self.refusal = None

    def connect(self, host="", port=0, *args, **kwargs):
        return StandInConnection(self)


class StandInConnection:
    """One connection to the StandInServer, with the methods of smtplib.SMTP that sending uses."""

    def __init__(self, server):
        self.server, self.sent, self.open = server, [], True
        server.connections.append(self.sent)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def set_debuglevel(self, level):
        pass

    def ehlo(self, *args, **kwargs):
        return 250, b"stand-in"

    ehlo_or_helo_if_needed = helo = ehlo

    def starttls(self, *args, **kwargs):
        return 220, b"ready"

    def login(self, *args, **kwargs):
        return 235, b"accepted"

    def sendmail(self, sender, recipients, message, mail_options=(), rcpt_options=()):
        if not self.open:
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        recipients = [recipients] if isinstance(recipients, str) else list(recipients)
        if self.server.refusal is not None:
            error = self.server.refusal(recipients)
            self.open = not isinstance(error, smtplib.SMTPServerDisconnected)
            raise error
        self.sent.append(recipients)
        return {}

    def send_message(self, message, from_addr=None, to_addrs=None, *args, **kwargs):
        recipients = to_addrs or [address for name in ("To", "Cc", "Bcc") for address in message.get_all(name, [])]
        return self.sendmail(from_addr or message["From"], recipients, message.as_bytes())

    def quit(self):
        if not self.open:
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        self.open = False
        return 221, b"bye"

    def close(self):
        self.open = False


@pytest.fixture
def stand_in_server(monkeypatch):
    """Every SMTP connection the check's code opens goes to a StandInServer."""
    server = StandInServer()
    monkeypatch.setattr(smtplib, "SMTP", server.connect)
    monkeypatch.setattr(smtplib, "SMTP_SSL", server.connect)
    return server


@pytest.fixture
def sending(folder, stand_in_server):
    """The learner's app, sending for real (not suppressed as in tests), to the stand-in server."""
    config = {**TEST_CONFIG, "MAIL_SUPPRESS_SEND": False, "MAIL_SERVER": "smtp.example.org", "MAIL_PORT": 587}
    return load_create_app(folder, reuse=True)(config)


# what a real mail server answers, other than "taken", for a message with these recipients
REFUSALS = {
    "the recipient refused (550)": lambda recipients: smtplib.SMTPRecipientsRefused(
        {address: (550, b"5.1.1 No such mailbox") for address in recipients}),
    "the sender refused (553)": lambda recipients: smtplib.SMTPSenderRefused(
        553, b"5.7.1 Sender address rejected", "noreply@bookshelf.example"),
    "the message refused (554)": lambda recipients: smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"),
    "the server hung up": lambda recipients: smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
}


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
@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_deliver_survives_every_refusal_of_a_server(sending, stand_in_server, caplog, refusal):
    """A server that refuses the recipient, the sender or the message, or hangs up: deliver returns False and logs.
    Every way sending fails is an OSError (smtplib.SMTPException is one): catch that, not one kind of failure such as
    ConnectionRefusedError, which is only the server that is down.
    """
    from flask_mail import Message

    from bookshelf.mail import deliver

    stand_in_server.refusal = REFUSALS[refusal]
    with sending.app_context():
        sent = deliver(Message("Hello", recipients=["ann@example.com"], body="Hello, Ann."))
    assert sent is False, f"expected deliver to return False when {refusal}, it returned {sent!r}"
    assert warnings_logged(caplog), f"expected a warning in the app's log when {refusal}"


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


@pytest.mark.exercise("06.2")
def test_the_html_body_shows_what_a_member_typed_as_text(app):
    """A name with HTML in it is escaped in the HTML body, and left as typed in the plain-text body.
    Render the HTML body from the .html template, which Flask autoescapes; a body written by hand (an f-string) puts
    the member's tags into the mail as markup.
    """
    from bookshelf.welcome import welcome_message

    _, _, User = learner_models()
    name = "Ben <i>the reader</i> & Co"
    with app.test_request_context():
        message = welcome_message(User(name=name, email="ben@example.com"))
    assert "<i>" not in message.html, "expected the member's name escaped in the HTML body, found its <i> tag as markup"
    assert "&lt;i&gt;the reader&lt;/i&gt; &amp; Co" in message.html, "expected the name shown, escaped, in the HTML body"
    assert name in message.body, "expected the name as typed in the plain-text body (the .txt template escapes nothing)"


@pytest.mark.exercise("06.2")
def test_both_bodies_are_the_templates(app):
    """The bodies are the templates mail/welcome.txt and mail/welcome.html, rendered for the member.
    render_template("mail/welcome.txt", member=member) for body and the .html one for html: the templates are where
    the mail's words live, and what a translator or a designer changes.
    """
    from flask import render_template

    from bookshelf.welcome import welcome_message

    _, _, User = learner_models()
    with app.test_request_context():
        member = User(name="Cy", email="cy@example.com")
        message = welcome_message(member)
        texts = {"text": render_template("mail/welcome.txt", member=member),
                 "HTML": render_template("mail/welcome.html", member=member)}
    assert (message.body or "").strip() == texts["text"].strip(), "expected body to be mail/welcome.txt rendered"
    assert (message.html or "").strip() == texts["HTML"].strip(), "expected html to be mail/welcome.html rendered"


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


@pytest.mark.exercise("06.3")
def test_the_digest_goes_over_one_connection(sending, stand_in_server):
    """All the digests go to the mail server over one connection, one message per member.
    Open the connection once, around the loop (with mail.connect() as connection:), and send each message over it:
    mail.send opens a connection of its own for every message, which is slow, and refused by providers past a rate.
    """
    members_and_books(sending)
    result = CliRunner(sending).invoke(args=["send-digest"])
    assert result.exit_code == 0, f"expected the command to succeed, got status {result.exit_code}: {result.output}"
    sent = sorted(recipients for connection in stand_in_server.connections for recipients in connection)
    assert sent == [["ann@example.com"], ["ben@example.com"]], f"expected one message each for Ann and Ben, found {sent}"
    assert len(stand_in_server.connections) == 1, (
        f"expected one connection to the mail server for the whole digest, found {len(stand_in_server.connections)}"
    )


@pytest.mark.exercise("06.3")
def test_no_new_book_sends_nothing_and_says_so(app, runner):
    """With no book added in the period, nobody gets a mail, and the command says so and succeeds.
    Before any sending, when the query found no book, click.echo why nothing is sent and return: a digest of nothing
    is a mail nobody wants.
    """
    from bookshelf.mail import mail

    db, Book, User = learner_models()
    with app.app_context():
        db.session.add_all([
            User(name="Ann", email="ann@example.com", password_hash="set by the check"),
            Book(title="Old News", author="Someone", created_at=datetime.now(timezone.utc) - timedelta(days=30)),
        ])
        db.session.commit()
    with mail.record_messages() as outbox:
        result = runner.invoke(args=["send-digest"])
    assert result.exit_code == 0, f"expected success, got status {result.exit_code}: {result.output}"
    assert outbox == [], f"expected no mail without new books, found {len(outbox)} sent"
    assert result.output.strip(), "expected the command to say that there was nothing to send"


# 06.4: a member tells a friend about a book (a design exercise: only the URL, the fields and the mail are fixed);
# the answers of 05.1 and 05.2 are stood in for, so that this check needs no other exercise of chapter 05

SENDER = "Bookshelf <noreply@bookshelf.example>"
# a note with what HTML must escape; the plain-text body keeps it as typed
NOTE = "Read it in one sitting. <3 & more: <em>really</em>"


def sharing_module():
    """Import the learner's bookshelf/sharing.py: the factory starts without a blank one, a check says it is blank."""
    import importlib

    return importlib.import_module("bookshelf.sharing")


def member_and_book(app, name="Ann", title="Kindred", author="Octavia E. Butler"):
    """Add a member and a book; return the book's id."""
    db, Book, User = learner_models()
    with app.app_context():
        book = Book(title=title, author=author)
        db.session.add_all([User(name=name, email=f"{name.lower()}@example.com"), book])
        db.session.commit()
        return book.id


def share(client, book_id, email, note="", token=True):
    """POST the fields email and note to the book's share URL, with the CSRF token of its form (or none)."""
    data = {"email": email, "note": note}
    if token:
        data["csrf_token"] = form_token(client, f"/books/{book_id}/share")
    return client.post(f"/books/{book_id}/share", data=data)


def shared(client, book_id, email, note="", token=True):
    """Share as share() does, while Flask-Mail records; return (the answer, or the error it raised, and the mails)."""
    from bookshelf.mail import mail

    with mail.record_messages() as outbox:
        try:
            response = share(client, book_id, email, note, token)
        except NotImplementedError:  # a blank exercise this one needs: the check says which
            raise
        except Exception as error:  # an error out of the view: the check reports it, with the mails it counted
            response = error
    return response, outbox


def refused(response):
    """Say whether an answer sends the form again (200) or a 4xx: never a redirect, never an error."""
    return not isinstance(response, Exception) and (response.status_code == 200 or 400 <= response.status_code < 500)


def told(response):
    return repr(response) if isinstance(response, Exception) else f"{response.status_code} {response.headers.get('Location', '')}"


@pytest.mark.exercise("06.4")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_a_member_tells_a_friend_in_one_mail(app):
    """Ann tells ben@example.com about Kindred: one mail, to Ben alone, from Bookshelf, Reply-To Ann, then a redirect.
    From stays MAIL_DEFAULT_SENDER: mail from the member's domain sent by Bookshelf's server fails SPF and DMARC.
    Reply-To is where the friend's answer goes. One Message, to one recipient, and no copy in Cc or Bcc.
    """
    sharing_module()
    book = member_and_book(app)
    client = logged_in_client(app, "ann@example.com")
    page = client.get(f"/books/{book}/share")
    assert page.status_code == 200, f"expected GET /books/{book}/share to show the form (200), got {page.status_code}"
    response, outbox = shared(client, book, "ben@example.com", NOTE)
    assert not isinstance(response, Exception) and response.status_code in (302, 303), (
        f"expected a redirect after a valid POST, got {told(response)}"
    )
    assert len(outbox) == 1, f"expected one mail, {len(outbox)} were sent"
    message = outbox[0]
    assert message.send_to == {"ben@example.com"}, f"expected the mail to ben@example.com alone, it went to {message.send_to}"
    assert message.sender == SENDER, f"expected From: {SENDER} (MAIL_DEFAULT_SENDER), got {message.sender!r}"
    assert message.reply_to == "ann@example.com", f"expected Reply-To: ann@example.com, got {message.reply_to!r}"


@pytest.mark.exercise("06.4")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_both_bodies_name_the_book_the_member_and_the_note_with_an_absolute_link(app):
    """Both bodies hold the title, the member's name, the note and the link http://localhost/books/<id>.
    The HTML body shows the note as text (escaped); the plain-text body keeps it as typed.
    A mail is read away from the site: a path alone (/books/1) leads nowhere, url_for(..., _external=True) gives the
    whole address. A template in a string is autoescaped; plain text is not HTML.
    """
    sharing_module()
    book = member_and_book(app)
    response, outbox = shared(logged_in_client(app, "ann@example.com"), book, "ben@example.com", NOTE)
    assert len(outbox) == 1, f"expected one mail, {len(outbox)} were sent ({told(response)})"
    message = outbox[0]
    link = f"http://localhost/books/{book}"
    bodies = {"text": message.body or "", "HTML": message.html or ""}
    for kind, body in bodies.items():
        for wanted in ("Kindred", "Ann", link):
            assert wanted in body, f"expected the {kind} body to hold {wanted!r}: {body!r}"
        assert not re.search(rf"{link}\d", body), f"expected the {kind} body's link to the book {book}: {body!r}"
    assert NOTE in bodies["text"], f"expected the text body to hold the note as typed: {bodies['text']!r}"
    assert "<em>really</em>" not in bodies["HTML"], f"expected the note escaped in the HTML body, found its tags: {bodies['HTML']!r}"
    assert "&lt;em&gt;really&lt;/em&gt;" in bodies["HTML"], f"expected the note shown as text in the HTML body: {bodies['HTML']!r}"


@pytest.mark.exercise("06.4")
@pytest.mark.usefixtures("chapter05_stand_ins")
@pytest.mark.parametrize("email, note", [("ben-at-example.com", ""), ("ben@example.com\r\nBcc: all@example.com", ""),
                                         ("ben@example.com", "x" * 501)],
                         ids=["not-an-address", "line-break", "note-too-long"])
def test_a_bad_address_or_a_long_note_sends_nothing(app, email, note):
    """An invalid address, one with a line break, or a note over 500 characters: the form again or a 4xx, no mail.
    A line break in an address would add headers (a Bcc): validate the address as one; Flask-Mail's own refusal is an
    error, a 500. The note's length is checked by the form (500 characters at most), before anything is sent.
    """
    sharing_module()
    book = member_and_book(app)
    response, outbox = shared(logged_in_client(app, "ann@example.com"), book, email, note)
    assert refused(response), f"expected the form again (200) or a 4xx, got {told(response)}"
    assert not outbox, f"expected no mail, {len(outbox)} were sent"


@pytest.mark.exercise("06.4")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_a_note_of_500_characters_is_sent(app):
    """A note of exactly 500 characters, and no note at all, are both fine: each sends its mail.
    The note is optional, and 500 characters are allowed.
    """
    sharing_module()
    book = member_and_book(app)
    client = logged_in_client(app, "ann@example.com")
    for note in ("y" * 500, ""):
        response, outbox = shared(client, book, "ben@example.com", note)
        assert len(outbox) == 1, f"expected one mail for a note of {len(note)} characters, got {len(outbox)} ({told(response)})"


@pytest.mark.exercise("06.4")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_no_token_no_book_no_member_no_mail(app):
    """A POST without its CSRF token sends nothing; a book that does not exist is 404; a visitor is sent to log in.
    Every POST of Bookshelf needs its token (no csrf.exempt). db.get_or_404 answers for a missing book, and
    @login_required sends a visitor to the login page, with next.
    """
    sharing_module()
    book = member_and_book(app)
    client = logged_in_client(app, "ann@example.com")
    response, outbox = shared(client, book, "ben@example.com", token=False)
    assert refused(response) and not outbox, f"expected a POST without token refused, no mail; got {told(response)}, {len(outbox)} mails"
    assert client.get("/books/999/share").status_code == 404, "expected 404 for the share page of a book that does not exist"
    from bookshelf.mail import mail

    with mail.record_messages() as outbox:
        missing = client.post("/books/999/share", data={"email": "ben@example.com", "note": "",
                                                        "csrf_token": form_token(client, f"/books/{book}/share")})
    assert missing.status_code == 404 and not outbox, f"expected 404 and no mail for a missing book, got {missing.status_code}"
    visitor = app.test_client()
    for answer in (visitor.get(f"/books/{book}/share"),
                   visitor.post(f"/books/{book}/share", data={"email": "ben@example.com", "note": "",
                                                              "csrf_token": form_token(visitor, "/auth/login")})):
        location = answer.headers.get("Location", "")
        assert answer.status_code in (302, 303) and "/auth/login" in location and "next=" in location, (
            f"expected a visitor sent to the login page with next, got {answer.status_code} {location}"
        )
