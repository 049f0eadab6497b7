"""Print the SQL statements and the median time of chapter 09's GET /api/books at 10, 1,000 and 100,000 books."""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, insert

from workbook import reference
from workbook.app import TEST_CONFIG, load_create_app

SHELVES = (10, 1_000, 100_000)
RUNS = 20
PAGES = ["/api/books", "/api/books?page=5&per_page=100", "/api/books?author=author%207&per_page=50"]


def fill(app, books: int) -> None:
    """Add the books in one bulk insert, each with a review on every tenth."""
    from bookshelf.db import db
    from bookshelf.models import Book, Review, User

    with app.app_context():
        reader = User(name="Reader", email="reader@example.com")
        db.session.add(reader)
        db.session.commit()
        db.session.execute(insert(Book), [{"title": f"Book {n}", "author": f"Author {n % 100}", "slug": f"book-{n}"}
                                          for n in range(books)])
        db.session.execute(insert(Review), [{"book_id": n, "user_id": reader.id, "rating": 4, "text": ""}
                                            for n in range(1, books + 1, 10)])
        db.session.commit()


def statements(app, path: str) -> int:
    """Return how many statements one request sends, counted with SQLAlchemy's before_cursor_execute event."""
    from bookshelf.db import db

    seen = []

    def record(*args):
        seen.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert app.test_client().get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def median_ms(app, path: str) -> float:
    client, times = app.test_client(), []
    for _ in range(RUNS):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        reference.build(folder, "09")
        print(f"GET /api/books on chapter 09's reference (SQLite in memory), median of {RUNS} requests")
        counts = {}
        for books in SHELVES:
            app = load_create_app(folder)(dict(TEST_CONFIG))
            fill(app, books)
            for path in PAGES:
                counts.setdefault(path, set()).add(statements(app, path))
                print(f"{books:>8,} books  {path:42} {statements(app, path)} statements  {median_ms(app, path):7.1f} ms")
    grew = [path for path, seen in counts.items() if len(seen) > 1]
    if grew:
        print("the statements per request grew with the books for:", ", ".join(grew))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
