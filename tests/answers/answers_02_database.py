"""Chapter 02: commands, pagination, a 409 for a conflict, and the N+1 trap."""

CORRECT = [
    # a select() for the book, and Click's own error for a bad argument
    ("02.1", 'found = db.session.scalar(db.select(Book).where(Book.id == book_id))\n'
             'if not found:\n'
             '    raise click.BadParameter(f"no book has the id {book_id}", param_hint="BOOK_ID")\n'
             'db.session.delete(found)\n'
             'db.session.commit()'),
    # delete the reviews first, by statement, then the book; a message on stderr and exit status 1
    ("02.1", 'if db.session.get(Book, book_id) is None:\n'
             '    click.echo(f"Book {book_id} not found.", err=True)\n'
             '    click.get_current_context().exit(1)\n'
             'db.session.execute(db.delete(Review).where(Review.book_id == book_id))\n'
             'db.session.execute(db.delete(Book).where(Book.id == book_id))\n'
             'db.session.commit()'),

    # the legacy Model.query API, still in Flask-SQLAlchemy 3.1
    ("02.2", 'books_page = Book.query.order_by(Book.title.asc()).paginate(per_page=PER_PAGE, max_per_page=PER_PAGE)\n'
             'return render_template("main/index.html", page=books_page)'),
    # reading ?page= by hand
    ("02.2", 'from flask import abort, request\n'
             'try:\n'
             '    number = int(request.args.get("page", "1"))\n'
             'except ValueError:\n'
             '    abort(404)\n'
             'listing = db.select(Book).order_by(Book.title)\n'
             'return render_template("main/index.html", page=db.paginate(listing, page=number, per_page=PER_PAGE))'),

    # Werkzeug's Conflict raised by hand, chained to the database's error
    ("02.3", 'from werkzeug.exceptions import Conflict\n'
             'try:\n'
             '    db.session.commit()\n'
             'except IntegrityError as error:\n'
             '    db.session.rollback()\n'
             '    raise Conflict("That e-mail address is already taken.") from error'),
    # its own JSON answer instead of abort(), returned from the except block
    ("02.3", 'try:\n'
             '    db.session.commit()\n'
             'except IntegrityError:\n'
             '    db.session.rollback()\n'
             '    return {"error": "conflict", "message": "This e-mail address already has a member."}, 409'),

    # the reviews loaded in one more statement, whatever the number of books
    ("02.4", 'from sqlalchemy.orm import selectinload\n'
             'shelf = db.session.scalars(db.select(Book).options(selectinload(Book.reviews)).order_by(Book.id)).all()\n'
             'listed = [book_json(book) | {"reviews": len(book.reviews)} for book in shelf]'),
    # a correlated subquery counts each book's reviews inside the one statement
    ("02.4", 'review_count = (\n'
             '    db.select(func.count(Review.id)).where(Review.book_id == Book.id).scalar_subquery()\n'
             ')\n'
             'listed = []\n'
             'for book, count in db.session.execute(db.select(Book, review_count).order_by(Book.title)):\n'
             '    entry = book_json(book)\n'
             '    entry["reviews"] = count\n'
             '    listed.append(entry)'),
]

WRONG = [
    ("02.1", "db.session.execute(db.delete(Book).where(Book.id == book_id)); db.session.commit()"),  # orphans
    # no commit: the app context's teardown rolls the delete back
    ("02.1", 'book = db.session.get(Book, book_id)\n'
             'if book is None:\n'
             '    raise click.ClickException(f"There is no book {book_id}.")\n'
             'db.session.delete(book)'),
    # an unknown id reaches delete(None): a traceback instead of a message
    ("02.1", "db.session.delete(db.session.get(Book, book_id))\n"
             "db.session.commit()"),

    ("02.2", 'return render_template("main/index.html", page=db.paginate(db.select(Book).order_by(Book.title)))'),
    # no order: the books come in id order, not by title
    ("02.2", 'return render_template("main/index.html", page=db.paginate(db.select(Book), per_page=PER_PAGE))'),
    # error_out=False: page 99999 is an empty page with 200, page 0 becomes page 1
    ("02.2", 'page = db.paginate(db.select(Book).order_by(Book.title), per_page=PER_PAGE, error_out=False)\n'
             'return render_template("main/index.html", page=page)'),

    ("02.3", "db.session.commit()"),  # the IntegrityError becomes a 500
    # no rollback: code later in the request (a handler, a teardown) finds the session broken
    ("02.3", 'try:\n'
             '    db.session.commit()\n'
             'except IntegrityError:\n'
             '    abort(409, "There is already a member with this e-mail address.")'),
    # check, then insert: a second request can save the same address between the two
    ("02.3", 'with db.session.no_autoflush:\n'
             '    taken = db.session.scalar(db.select(User.id).where(User.email == member.email))\n'
             'if taken is not None:\n'
             '    abort(409, "There is already a member with this e-mail address.")\n'
             'db.session.commit()'),

    ("02.4", 'listed = [book_json(b) | {"reviews": n} for b, n in db.session.execute('
             "db.select(Book, func.count(Review.id)).join(Book.reviews).group_by(Book.id)).all()]"),  # inner join
    # count(*) counts the outer join's one empty row: 1 for a book without reviews
    ("02.4", 'rows = db.session.execute(db.select(Book, func.count()).outerjoin(Book.reviews).group_by(Book.id)).all()\n'
             'listed = [book_json(book) | {"reviews": count} for book, count in rows]'),
    # one count query per book: the N+1 trap again
    ("02.4", 'listed = []\n'
             'for book in db.session.scalars(db.select(Book).order_by(Book.id)):\n'
             '    count = db.session.scalar(db.select(func.count(Review.id)).where(Review.book_id == book.id))\n'
             '    listed.append(book_json(book) | {"reviews": count})'),
]

HIDDEN = [
    # the error printed on standard output, where scripts and pipes take it for the command's result
    ("02.1", 'book = db.session.get(Book, book_id)\n'
             'if book is None:\n'
             '    click.echo(f"There is no book {book_id}.")\n'
             '    raise SystemExit(1)\n'
             'db.session.delete(book)\n'
             'db.session.commit()'),

    # max_per_page caps the size the URL asks for, but ?per_page=5 still gives pages of 5
    ("02.2", 'page = db.paginate(db.select(Book).order_by(Book.title), max_per_page=PER_PAGE)\n'
             'return render_template("main/index.html", page=page)'),
    # 10 written out instead of PER_PAGE: changing the constant changes nothing
    ("02.2", 'page = db.paginate(db.select(Book).order_by(Book.title), per_page=10)\n'
             'return render_template("main/index.html", page=page)'),

    # every database error taken for a conflict: a locked database answers 409 too
    ("02.3", 'try:\n'
             '    db.session.commit()\n'
             'except Exception:\n'
             '    db.session.rollback()\n'
             '    abort(409, "There is already a member with this e-mail address.")'),

    # grouped by title, not by book: two books of the same title become one entry
    ("02.4", 'rows = db.session.execute(\n'
             '    db.select(Book, func.count(Review.id)).outerjoin(Book.reviews).group_by(Book.title)\n'
             ').all()\n'
             'listed = [book_json(book) | {"reviews": count} for book, count in rows]'),
]
