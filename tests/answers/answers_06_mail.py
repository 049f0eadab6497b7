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

# 06.4 is a design exercise: an answer is the whole module bookshelf/sharing.py (its docstring and bp are given)
SHARING = "bookshelf/sharing.py"
# what the answers built with sharing() share: a form class, its page, and a view that sends what message() returns
SHARING_HEAD = r'''from flask import current_app, redirect, render_template_string, url_for
from flask_login import current_user, login_required
from flask_mail import Message
from markupsafe import Markup
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Regexp

from .db import db
from .forms import Form, csrf
from .mail import deliver, mail
from .models import Book

PAGE = ('{% extends "base.html" %}{% block content %}<form method="post">{{ form.hidden_tag() }}'
        '{{ form.email() }}{{ form.note() }}<button>Send</button></form>{% endblock %}')
TEXT = "{% autoescape false %}{{ name }} recommends {{ book.title }}: {{ link }}\n{{ note }}{% endautoescape %}"
HTML = "<p>{{ name }} recommends <a href='{{ link }}'>{{ book.title }}</a></p><p>{{ note }}</p>"


class Friend(Form):
    email = StringField("Address", validators=[DataRequired(), Email()])
    note = TextAreaField("Note", validators=[Length(max=500)])


def bodies(book, note, link):
    context = {"name": current_user.name, "book": book, "note": note, "link": link}
    return render_template_string(TEXT, **context), render_template_string(HTML, **context)


'''
# the view of the answers built with sharing(): SEND is the lines that send, once the form is valid
VIEW = r'''@bp.route("/books/<int:book_id>/share", methods=["GET", "POST"])
@login_required
def share(book_id):
    book = db.get_or_404(Book, book_id)
    form = Friend()
    if form.validate_on_submit():
        link = url_for("main.book", book_id=book.id, _external=True)
        text, page = bodies(book, form.note.data, link)
'''
SEND_ONE = r'''        deliver(Message(f"About {book.title}", recipients=[form.email.data], body=text, html=page,
                        reply_to=current_user.email))
'''
VIEW_END = r'''        return redirect(url_for("main.book", book_id=book.id))
    return render_template_string(PAGE, form=form)'''


def sharing(text):
    """Return a module of 06.4 with the shared imports, form and bodies, then this text."""
    return {SHARING: SHARING_HEAD + text}


CORRECT += [
    # templates as files that the module writes, a class-based view, the message built then completed
    ("06.4", {SHARING: r'''from pathlib import Path

from flask import flash, redirect, render_template, url_for
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_mail import Message
from wtforms import EmailField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from .db import db
from .forms import Form
from .mail import deliver
from .models import Book

FOLDER = Path(__file__).parent / "templates" / "sharing"
FOLDER.mkdir(parents=True, exist_ok=True)
(FOLDER / "form.html").write_text("""{% extends "base.html" %}
{% block content %}<h2>Share {{ book.title }}</h2>
<form method="post">{{ form.csrf_token }}{{ form.email.label }} {{ form.email() }}
{% for error in form.email.errors %}<p class="error">{{ error }}</p>{% endfor %}
{{ form.note.label }} {{ form.note() }}
{% for error in form.note.errors %}<p class="error">{{ error }}</p>{% endfor %}
<input type="submit" value="Share"></form>{% endblock %}""")
(FOLDER / "mail.txt").write_text("""Hi!

{{ sender.name }} wants you to read "{{ book.title }}" ({{ book.author }}).
{{ note }}

{{ url }}
""")
(FOLDER / "mail.html").write_text("""<p>Hi!</p>
<p>{{ sender.name }} wants you to read <a href="{{ url }}">{{ book.title }}</a> ({{ book.author }}).</p>
<p><em>{{ note }}</em></p>""")


class ShareForm(Form):
    email = EmailField("To", validators=[InputRequired(), Email(message="Not an e-mail address.")])
    note = TextAreaField("Note", validators=[Optional(), Length(max=500, message="500 characters at most.")])


class ShareView(MethodView):
    decorators = [login_required]

    def get(self, book_id):
        return render_template("sharing/form.html", book=db.get_or_404(Book, book_id), form=ShareForm())

    def post(self, book_id):
        book = db.get_or_404(Book, book_id)
        form = ShareForm()
        if not form.validate():
            return render_template("sharing/form.html", book=book, form=form), 422
        context = {"sender": current_user, "book": book, "note": form.note.data or "",
                   "url": url_for("main.book", book_id=book_id, _external=True)}
        message = Message(subject="A book for you")
        message.add_recipient(form.email.data)
        message.reply_to = current_user.email
        message.body = render_template("sharing/mail.txt", **context)
        message.html = render_template("sharing/mail.html", **context)
        flash("Sent." if deliver(message) else "Not sent, sorry.")
        return redirect(url_for("sharing.share", book_id=book_id))


bp.add_url_rule("/books/<int:book_id>/share", view_func=ShareView.as_view("share"))'''}),
    # no form class: the fields read from request.form, the address checked by email_validator, 400 for bad input,
    # the HTML escaped by hand with markupsafe, the CSRF token checked by Bookshelf's CSRFProtect
    ("06.4", {SHARING: r'''from email_validator import EmailNotValidError, validate_email
from flask import abort, current_app, redirect, render_template_string, request, url_for
from flask_login import current_user, login_required
from flask_mail import Message
from markupsafe import escape

from .db import db
from .mail import mail
from .models import Book

NOTE_LIMIT = 500
ASK = """{% extends "base.html" %}{% block content %}
<form action="" method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<input type="email" name="email" required> <textarea name="note" maxlength="500"></textarea>
<button>Tell them</button></form>{% endblock %}"""


@bp.get("/books/<int:book_id>/share")
@login_required
def ask(book_id):
    return render_template_string(ASK, book=db.get_or_404(Book, book_id))


@bp.post("/books/<int:book_id>/share")
@login_required
def send(book_id):
    book = db.get_or_404(Book, book_id)
    note = request.form.get("note", "")
    if len(note) > NOTE_LIMIT:
        abort(400)
    try:
        friend = validate_email(request.form.get("email", ""), check_deliverability=False).normalized
    except EmailNotValidError:
        abort(400)
    address = url_for("main.book", book_id=book.id, _external=True)
    text = f"{current_user.name} told you about {book.title}.\n\n{note}\n\n{address}\n"
    html = (f"<p>{escape(current_user.name)} told you about {escape(book.title)}.</p>"
            f"<p>{escape(note)}</p><p><a href=\"{escape(address)}\">{escape(address)}</a></p>")
    message = Message(f"{current_user.name} told you about a book", sender=current_app.config["MAIL_DEFAULT_SENDER"],
                      recipients=[friend], reply_to=current_user.email, body=text, html=html)
    try:
        mail.send(message)
    except OSError:
        current_app.logger.warning("Sharing mail not sent to %s", friend)
    return redirect(url_for("main.book", book_id=book.id), code=303)'''}),
]

WRONG += [
    # From set to the member: the friend's server sees Bookshelf's server send for gmail.com, and SPF/DMARC fail
    ("06.4", sharing(VIEW + '        deliver(Message(f"About {book.title}", recipients=[form.email.data], body=text, html=page,\n'
                            '                        sender=(current_user.name, current_user.email)))\n' + VIEW_END)),
    # the note marked safe in the HTML body: a member mails any HTML, a link or a form, under Bookshelf's name
    ("06.4", sharing(VIEW.replace("bodies(book, form.note.data, link)", "bodies(book, Markup(form.note.data), link)")
                     + SEND_ONE + VIEW_END)),
    # a relative link: /books/1 in a mail client leads nowhere
    ("06.4", sharing(VIEW.replace("link = url_for(\"main.book\", book_id=book.id, _external=True)",
                                  "link = url_for(\"main.book\", book_id=book.id)") + SEND_ONE + VIEW_END)),
    # a copy to the member as a second mail: two mails where one was asked for
    ("06.4", sharing(VIEW + SEND_ONE +
                     '        deliver(Message(f"You shared {book.title}", recipients=[current_user.email], body=text))\n'
                     + VIEW_END)),
    # the member in the same recipient list: the friend sees the member's address, and the member gets a copy
    ("06.4", sharing(VIEW + SEND_ONE.replace("recipients=[form.email.data]", "recipients=[form.email.data, current_user.email]")
                     + VIEW_END)),
    # the CSRF check switched off, on the route and in the form: another site's page can make a member mail anyone
    ("06.4", sharing(VIEW.replace("@login_required\n", "@login_required\n@csrf.exempt\n")
                     .replace("form = Friend()", "form = Friend(meta={'csrf': False})") + SEND_ONE + VIEW_END)),
]

HIDDEN += [
    # the address matched by a loose pattern: a line break and a Bcc header get through, and Flask-Mail raises (500)
    ("06.4", {SHARING: (SHARING_HEAD + VIEW + SEND_ONE + VIEW_END).replace(
        "validators=[DataRequired(), Email()]", 'validators=[DataRequired(), Regexp(r".+@.+")]')}),
    # a note as long as anyone likes: the form never measures it
    ("06.4", {SHARING: (SHARING_HEAD + VIEW + SEND_ONE + VIEW_END).replace("[Length(max=500)]", "[]")}),
    # no Reply-To: the friend's answer goes to noreply@
    ("06.4", sharing(VIEW + SEND_ONE.replace(",\n                        reply_to=current_user.email)", ")") + VIEW_END)),
    # the note in the text body only
    ("06.4", sharing(VIEW.replace("bodies(book, form.note.data, link)", "bodies(book, form.note.data, link)\n"
                                  "        page = page.replace(render_template_string('{{ n }}', n=form.note.data), '')")
                     + SEND_ONE + VIEW_END)),
    # a visitor answered 401 instead of sent to log in
    ("06.4", {SHARING: (SHARING_HEAD + VIEW + SEND_ONE + VIEW_END).replace("@login_required\n", "").replace(
        "    book = db.get_or_404(Book, book_id)\n",
        "    if not current_user.is_authenticated:\n        abort(401)\n    book = db.get_or_404(Book, book_id)\n").replace(
        "from flask import current_app", "from flask import abort, current_app")}),
]
