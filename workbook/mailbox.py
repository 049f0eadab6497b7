"""A real SMTP server on 127.0.0.1 for the mail chapters: it keeps what it receives, and shows it in the notebook."""

import atexit
import email
import email.policy
import os
import socket
import threading
from email.message import EmailMessage

HOST = "127.0.0.1"
# the environment variables Bookshelf's factory reads, so that an app made in this kernel sends here
SERVER_VARIABLE, PORT_VARIABLE = "MAIL_SERVER", "MAIL_PORT"
# the headers show() prints: Message-ID, Date and the server's own Received lines differ in every run
SHOWN_HEADERS = ("From", "To", "Cc", "Subject")
REFUSAL = "550 5.1.1 Mailbox unavailable: this test server refuses every recipient"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now (aiosmtpd's Controller cannot be given port 0)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Keeper:
    """aiosmtpd's handler: keep each message received, or refuse every recipient."""

    def __init__(self, refuse: bool):
        self.refuse = refuse
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return REFUSAL
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class Inbox:
    """A running SMTP server and the messages it received; stop() ends it (so does the end of the kernel)."""

    def __init__(self, refuse: bool = False):
        # imported here: aiosmtpd (and asyncio) cost 0.2 s that chapters without mail need not pay
        from aiosmtpd.controller import Controller

        self.keeper = Keeper(refuse)
        self.port = free_port()
        self.controller = Controller(self.keeper, hostname=HOST, port=self.port)
        self.controller.start()
        self.running = True

    @property
    def messages(self) -> list[EmailMessage]:
        """Return the messages received so far, oldest first."""
        with self.keeper.lock:
            return list(self.keeper.messages)

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self.keeper.lock:
            self.keeper.messages.clear()

    def stop(self) -> None:
        """Stop the server: from now on, a connection to its port is refused."""
        if self.running:
            self.controller.stop()
            self.running = False

    def show(self, index: int = -1) -> None:
        """Print one received message (the last by default): its main headers and each text part."""
        messages = self.messages
        if not messages:
            print("The inbox is empty.")
            return
        print(describe(messages[index]))

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        count = len(self.messages)
        refuses = ", refusing every recipient" if self.keeper.refuse else ""
        return f"<Inbox: {state}{refuses}, {count} message{'' if count == 1 else 's'}>"


def describe(message: EmailMessage) -> str:
    """Return a message as a reader sees it: the main headers, then each text part with its type."""
    lines = [f"{name}: {message[name]}" for name in SHOWN_HEADERS if message[name] is not None]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            # a message on the wire ends its lines with CRLF; a notebook shows them as plain lines
            lines += ["", f"--- {part.get_content_type()} ---", part.get_content().replace("\r\n", "\n").rstrip("\n")]
    return "\n".join(lines)


_current: Inbox | None = None


def mail_server(refuse: bool = False) -> Inbox:
    """Start an SMTP server on 127.0.0.1, stop the one started before, and send this kernel's apps to it.

    Bookshelf's factory reads MAIL_SERVER and MAIL_PORT from the environment: an app made after this call
    (fresh_app, flask(...), the live app) sends its mail here. With refuse=True the server answers 550 to every
    recipient, as a real one does for an address it does not know."""
    global _current
    if _current is not None:
        _current.stop()
    _current = Inbox(refuse=refuse)
    os.environ[SERVER_VARIABLE], os.environ[PORT_VARIABLE] = HOST, str(_current.port)
    return _current


@atexit.register
def _stop_at_exit() -> None:
    if _current is not None:
        _current.stop()


# ---- the grader's server -------------------------------------------------------------------------------
# A graded run may not start a thread, so it cannot run a server of its own: the grader runs this one, outside the
# student's process, and tells the runs its port. An address asks for the answer it gets, as a real server's
# answer depends on the address: tests make addresses of their own, so parallel runs never see each other's mail.
GRADING_PORT_VARIABLE = "WORKBOOK_GRADING_SMTP_PORT"
REFUSED, BLOCKED, HANG_UP = "refused-", "blocked-", "hangup-"


class Recorder:
    """The grading server's handler: refuse or hang up where an address asks for it, and record each delivery."""

    def __init__(self):
        self.lock = threading.Lock()
        # connection number -> the recipients of each message delivered over that connection
        self.connections: dict[int, list[list[str]]] = {}

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.startswith(BLOCKED):
            return "553 5.7.1 Sender not allowed"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith(REFUSED):
            return "550 5.1.1 Mailbox unavailable"
        if address.startswith(HANG_UP):
            server.transport.close()
            return "421 4.3.2 Closing connection"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.connections.setdefault(session.number, []).append(sorted(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def carrying(self, addresses: set[str]) -> list[list[list[str]]]:
        """Return, per connection that delivered mail to any of the addresses, the recipients of each message."""
        with self.lock:
            return [messages for _, messages in sorted(self.connections.items())
                    if any(set(recipients) & addresses for recipients in messages)]


class GradingMailServer:
    """An SMTP server on 127.0.0.1 that the grader runs for the whole class; XRECORD asks what it delivered."""

    def __init__(self):
        import json
        from itertools import count

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        recorder, numbers = Recorder(), count(1)

        class RecordingSMTP(SMTP):
            def _create_session(self):
                session = super()._create_session()
                session.number = next(numbers)
                return session

            async def smtp_XRECORD(self, arg):
                """XRECORD ADDRESS...: the connections that delivered mail to these addresses, as JSON."""
                await self.push("250 " + json.dumps(recorder.carrying(set(arg.split()))))

        class RecordingController(Controller):
            def factory(self):
                return RecordingSMTP(self.handler, **self.SMTP_kwargs)

        self.recorder = recorder
        self.port = free_port()
        self.controller = RecordingController(recorder, hostname=HOST, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def delivered(port: int, addresses: list[str]) -> list[list[list[str]]]:
    """Ask the grading server which connections delivered mail to any of the addresses, and what each carried."""
    import json
    import smtplib

    with smtplib.SMTP(HOST, port, timeout=10) as client:
        code, reply = client.docmd("XRECORD", " ".join(addresses))
    if code != 250:
        raise RuntimeError(f"the grading mail server answered {code} {reply!r}")
    return json.loads(reply)
