"""Plausible wrong answers fail their exercise's check, so no check passes for the wrong reason."""

import json
import re

import pytest

from helpers import folder_at_check, run, write_files
from workbook import chapters

WRONG_ANSWERS = [
    ("00.1", 'return "Hello, world!"'),
    ("01.1", 'return render_template("main/book.html", book=find_book(book_id))'),  # no 404
    ("01.1", 'return f"<h1>{find_book(book_id)[\'title\']}</h1>"'),  # unescaped, no 404
    ("01.2", "return find_book(book_id) or {}"),  # 200 for a missing book
    ("01.3", 'return {"error": "not found"}'),  # JSON everywhere, and status 200
    ("01.3", 'return render_template("errors/404.html")'),  # HTML everywhere, and status 200
    ("02.1", "db.session.execute(db.delete(Book).where(Book.id == book_id)); db.session.commit()"),  # orphans
    ("02.2", 'return render_template("main/index.html", page=db.paginate(db.select(Book).order_by(Book.title)))'),
    ("02.3", "db.session.commit()"),  # the IntegrityError becomes a 500
    ("02.4", 'listed = [book_json(b) | {"reviews": n} for b, n in db.session.execute('
             "db.select(Book, func.count(Review.id)).join(Book.reviews).group_by(Book.id)).all()]"),  # inner join
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
    ("03.3", 'with op.batch_alter_table("books") as batch_op:\n'
             '    batch_op.create_index(batch_op.f("ix_books_slug"), ["slug"], unique=False)'),  # still nullable
]
REGION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\n.*?### END SOLUTION[^\n]*", re.S | re.M)


def with_answer(exercise: chapters.Exercise, answer: str) -> dict[str, str]:
    """Return the exercise's files with its solution region replaced by this answer."""
    chapter = chapters.chapter(exercise.chapter)
    cells = json.loads((chapters.SOLUTIONS / chapter.filename).read_text(encoding="utf-8"))["cells"]
    files = {}
    for index in exercise.solution_cells:
        path, body = chapters.writefile_cell(cells[index])
        replaced = REGION.sub(lambda m: "\n".join(m["indent"] + line for line in answer.split("\n")), body)
        files[path] = chapters.file_text(replaced)
    return files


@pytest.mark.parametrize(("exercise_id", "answer"), WRONG_ANSWERS)
def test_plausible_wrong_answer_fails(tmp_path, exercise_id, answer):
    exercise = chapters.exercise(exercise_id)
    folder = folder_at_check(tmp_path, exercise)
    files = with_answer(exercise, answer)
    assert files and all(answer.split("\n")[-1].strip() in text for text in files.values())
    write_files(folder, files)
    passed, text = run(folder, exercise_id)
    assert not passed, text
