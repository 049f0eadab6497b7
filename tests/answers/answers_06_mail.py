"""Chapter 06: the welcome mail, deliver, and flask send-digest."""

# what 06.3's answers share: nothing to send without new books
NOTHING_NEW = ('if not books:\n'
               '    click.echo("No new books: no digest sent.")\n'
               '    return\n')

CORRECT = [
    # keyword arguments, the recipient added and the HTML set afterwards
    ("06.2", 'message = Message(subject=WELCOME_SUBJECT, body=render_template("mail/welcome.txt", member=member))\n'
             'message.add_recipient(member.email)\n'
             'message.html = render_template("mail/welcome.html", member=member)\n'
             'return message'),
    # both templates in one loop, Message's arguments by position, the sender named from the config
    ("06.2", 'from flask import current_app\n'
             'text, page = (render_template(f"mail/welcome.{kind}", member=member) for kind in ("txt", "html"))\n'
             'return Message(WELCOME_SUBJECT, [member.email], text, page, sender=current_app.config["MAIL_DEFAULT_SENDER"])'),

    # an explicit connection, OSError alone (SMTPException is one), logged as an error
    ("06.1", 'try:\n'
             '    with mail.connect() as connection:\n'
             '        connection.send(message)\n'
             'except OSError as error:\n'
             '    current_app.logger.error("Mail %r not sent: %r", message.subject, error)\n'
             '    return False\n'
             'return True'),
    # the two kinds of failure apart, each with its own warning
    ("06.1", 'try:\n'
             '    mail.send(message)\n'
             '    return True\n'
             'except smtplib.SMTPException as error:\n'
             '    current_app.logger.warning("The mail server refused %s: %s", message.subject, error)\n'
             'except OSError as error:\n'
             '    current_app.logger.warning("No mail server for %s: %s", message.subject, error)\n'
             'return False'),

    # Message.send(connection), and a count
    ("06.3", NOTHING_NEW +
             'count = 0\n'
             'try:\n'
             '    with mail.connect() as connection:\n'
             '        for member in members:\n'
             '            digest_message(member, books, days).send(connection)\n'
             '            count += 1\n'
             'except OSError as error:\n'
             '    raise click.ClickException(f"{error} (after {count} digests)")\n'
             'click.echo(f"{count} digests sent.")'),
    # the messages built first, the ones sent kept in a list
    ("06.3", 'messages = [digest_message(member, books, days) for member in members] if books else []\n'
             'if not messages:\n'
             '    click.echo(f"Nothing to send: no books added in {days} days.")\n'
             '    return\n'
             'done = []\n'
             'try:\n'
             '    with mail.connect() as connection:\n'
             '        for message in messages:\n'
             '            connection.send(message)\n'
             '            done.append(message)\n'
             'except (smtplib.SMTPException, OSError) as error:\n'
             '    raise click.ClickException(f"only {len(done)} of {len(messages)} digests sent: {error}")\n'
             'click.echo(f"Sent {len(done)} digests.")'),
]

WRONG = [
    # the team in Bcc "to keep an eye on sign-ups": the mail no longer goes to the member alone
    ("06.2", 'return Message(WELCOME_SUBJECT, recipients=[member.email], bcc=["team@bookshelf.example"],\n'
             '               body=render_template("mail/welcome.txt", member=member),\n'
             '               html=render_template("mail/welcome.html", member=member))'),
    # only the HTML body: a mail client without HTML shows nothing
    ("06.2", 'return Message(WELCOME_SUBJECT, recipients=[member.email], html=render_template("mail/welcome.html", member=member))'),
    # the HTML template for both bodies: tags in the plain text
    ("06.2", 'page = render_template("mail/welcome.html", member=member)\n'
             'return Message(WELCOME_SUBJECT, recipients=[member.email], body=page, html=page)'),

    # no protection: a server that is down raises out of the view, a 500
    ("06.1", 'mail.send(message)\n'
             'return True'),
    # the failure swallowed without a word: nobody will know why mail stopped arriving
    ("06.1", 'try:\n'
             '    mail.send(message)\n'
             'except OSError:\n'
             '    return False\n'
             'return True'),
    # printed instead of logged: the app's log (and a server's) never sees it
    ("06.1", 'try:\n'
             '    mail.send(message)\n'
             'except OSError as error:\n'
             '    print("could not send", message.subject, error)\n'
             '    return False\n'
             'return True'),

    # one message to every member: each sees everybody's address
    ("06.3", NOTHING_NEW +
             'everyone = [member.email for member in members]\n'
             'try:\n'
             '    mail.send(Message("New on Bookshelf", recipients=everyone, body="\\n".join(book.title for book in books)))\n'
             'except OSError as error:\n'
             '    raise click.ClickException(str(error))\n'
             'click.echo(f"Sent the digest to {len(everyone)} members.")'),
    # a connection opened for each member, inside the loop: as slow as mail.send, and refused by providers past a rate
    ("06.3", NOTHING_NEW +
             'sent = 0\n'
             'try:\n'
             '    for member in members:\n'
             '        with mail.connect() as connection:\n'
             '            connection.send(digest_message(member, books, days))\n'
             '        sent += 1\n'
             'except OSError as error:\n'
             '    raise click.ClickException(f"{error} (after {sent} digests)")\n'
             'click.echo(f"Sent {sent} digests.")'),
    # no error handling: a server that is down ends the command with a traceback
    ("06.3", NOTHING_NEW +
             'with mail.connect() as connection:\n'
             '    for member in members:\n'
             '        connection.send(digest_message(member, books, days))\n'
             'click.echo(f"Sent the digest to {len(members)} members.")'),
]

# half-answers: each fails a hidden test (and, as every wrong answer, a public check of the same rule)
HIDDEN = [
    # the HTML body written by hand: the member's name goes in unescaped
    ("06.2", 'return Message(WELCOME_SUBJECT, recipients=[member.email],\n'
             '               body=render_template("mail/welcome.txt", member=member),\n'
             '               html=f"<p>Hello {member.name}, welcome to Bookshelf ({member.email}).</p>")'),
    # the plain-text body written by hand instead of the template
    ("06.2", 'return Message(WELCOME_SUBJECT, recipients=[member.email],\n'
             '               body=f"Hello {member.name}, welcome to Bookshelf ({member.email}).",\n'
             '               html=render_template("mail/welcome.html", member=member))'),

    # only a refused connection caught: a server that answers 550, or hangs up, still raises
    ("06.1", 'try:\n'
             '    mail.send(message)\n'
             'except ConnectionRefusedError as error:\n'
             '    current_app.logger.warning("Mail server down: %s", error)\n'
             '    return False\n'
             'return True'),

    # one connection per member
    ("06.3", NOTHING_NEW +
             'try:\n'
             '    for member in members:\n'
             '        mail.send(digest_message(member, books, days))\n'
             'except OSError as error:\n'
             '    raise click.ClickException(str(error))\n'
             'click.echo(f"Sent the digest to {len(members)} members.")'),
    # digests of nothing when no book is new
    ("06.3", 'try:\n'
             '    with mail.connect() as connection:\n'
             '        for member in members:\n'
             '            connection.send(digest_message(member, books, days))\n'
             'except OSError as error:\n'
             '    raise click.ClickException(str(error))\n'
             'click.echo(f"Sent the digest to {len(members)} members.")'),
]
