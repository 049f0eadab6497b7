"""Chapter 03: the migrations, run for real on a SQLite file."""

CORRECT = [
    # SQLite's own ALTER TABLE ADD COLUMN, without a batch
    ("03.1", 'op.add_column("books", sa.Column("language", sa.String(8), nullable=False, server_default=sa.text("\'en\'")))\n'
             'op.add_column("books", sa.Column("slug", sa.String(220)))\n'
             'op.create_index("ix_books_language", "books", ["language"])'),
    # add nullable, fill in, then require: no server default left behind
    ("03.1", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))\n'
             '    batch_op.add_column(sa.Column("slug", sa.String(length=220), nullable=True))\n'
             'op.execute("UPDATE books SET language = \'en\'")\n'
             'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.alter_column("language", existing_type=sa.String(length=8), nullable=False)\n'
             '    batch_op.create_index("ix_books_language", ["language"], unique=False)'),

    # one executemany UPDATE with bound parameters
    ("03.2", 'rows = connection.execute(sa.select(books.c.id, books.c.title)).all()\n'
             'if rows:\n'
             '    statement = books.update().where(books.c.id == sa.bindparam("book_id")).values(slug=sa.bindparam("new_slug"))\n'
             '    connection.execute(statement, [{"book_id": book_id, "new_slug": slugify(title)} for book_id, title in rows])'),
    # plain SQL to read, op.execute to write
    ("03.2", 'for row in connection.execute(sa.text("SELECT id, title FROM books")).mappings().all():\n'
             '    op.execute(books.update().where(books.c.id == row["id"]).values(slug=slugify(row["title"])))'),

    # the column in a batch, the index outside it
    ("03.3", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.alter_column("slug", existing_type=sa.String(length=220), nullable=False)\n'
             'op.create_index("ix_books_slug", "books", ["slug"], unique=False)'),
    # the index first, and the column's type left to the batch's reflection
    ("03.3", 'with op.batch_alter_table("books", recreate="always") as batch_op:\n'
             '    batch_op.create_index("ix_books_slug", ["slug"])\n'
             '    batch_op.alter_column("slug", nullable=False, existing_nullable=True)'),
]

WRONG = [
    # autogenerate's draft: NOT NULL columns without a server default fail on a table with rows
    ("03.1", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=False))\n'
             '    batch_op.add_column(sa.Column("slug", sa.String(length=220), nullable=False))\n'
             '    batch_op.create_index(batch_op.f("ix_books_language"), ["language"], unique=False)'),
    # a server default for both columns runs, but the slug is required before it has a value
    ("03.1", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=False, server_default="en"))\n'
             '    batch_op.add_column(sa.Column("slug", sa.String(length=220), nullable=False, server_default=""))\n'
             '    batch_op.create_index(batch_op.f("ix_books_language"), ["language"], unique=False)'),

    ("03.2", "op.execute(books.update().values(slug=books.c.title))"),  # the title is not a slug
    # no where(): every book ends with the last title's slug
    ("03.2", 'for book_id, title in connection.execute(sa.select(books.c.id, books.c.title)).all():\n'
             '    connection.execute(books.update().values(slug=slugify(title)))'),

    ("03.3", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.create_index(batch_op.f("ix_books_slug"), ["slug"], unique=False)'),  # still nullable
    # outside a batch: SQLite cannot ALTER a column
    ("03.3", 'op.alter_column("books", "slug", existing_type=sa.String(length=220), nullable=False)\n'
             'op.create_index("ix_books_slug", "books", ["slug"], unique=False)'),
]

HIDDEN = [
    # String() without its length: every check of 03.1 passes, but the columns are not the models' String(8) and (220)
    ("03.1", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.add_column(sa.Column("language", sa.String(), nullable=False, server_default="en"))\n'
             '    batch_op.add_column(sa.Column("slug", sa.String(), nullable=True))\n'
             '    batch_op.create_index(batch_op.f("ix_books_language"), ["language"], unique=False)'),
    # a server default for the slug too, as for the language: the books already there get "" instead of no slug
    ("03.1", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=False, server_default="en"))\n'
             '    batch_op.add_column(sa.Column("slug", sa.String(length=220), nullable=True, server_default=""))\n'
             '    batch_op.create_index(batch_op.f("ix_books_language"), ["language"], unique=False)'),

    # a slug rule of one's own instead of the migration's slugify: \\W keeps accented letters and underscores
    ("03.2", 'for book_id, title in connection.execute(sa.select(books.c.id, books.c.title)).all():\n'
             '    slug = re.sub(r"\\W+", "-", title.lower()).strip("-")\n'
             '    connection.execute(books.update().where(books.c.id == book_id).values(slug=slug))'),
    # one executemany without a guard: with no book, the UPDATE runs once without its parameters and fails
    ("03.2", 'rows = connection.execute(sa.select(books.c.id, books.c.title)).all()\n'
             'statement = books.update().where(books.c.id == sa.bindparam("book_id")).values(slug=sa.bindparam("new_slug"))\n'
             'connection.execute(statement, [{"book_id": book_id, "new_slug": slugify(title)} for book_id, title in rows])'),

    # a server default as in 03.1: a book inserted without a slug is saved with "" instead of refused
    ("03.3", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.alter_column("slug", existing_type=sa.String(length=220), nullable=False, server_default="")\n'
             '    batch_op.create_index(batch_op.f("ix_books_slug"), ["slug"], unique=False)'),
    # a unique index: slugs look like ids, but two books with one title have one slug, and the upgrade fails
    ("03.3", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.alter_column("slug", existing_type=sa.String(length=220), nullable=False)\n'
             '    batch_op.create_index(batch_op.f("ix_books_slug"), ["slug"], unique=True)'),
]
