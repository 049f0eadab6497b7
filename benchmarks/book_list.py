"""Print the SQL statements and the median time of GET /api/books, before and after chapter 02's N+1 fix."""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from workbook import chapters, reference
from workbook.app import TEST_CONFIG, load_create_app
from workbook.sql import count_statements

SHELVES = (10, 100, 1000)


def write_chapter02(folder: Path, api_version: str) -> None:
    """Write Bookshelf at the end of chapter 02, with the naive (first) or the fixed (last) api.py."""
    reference.build(folder, "02")
    api = [f for f in chapters.chapter("02").files if f.path == "bookshelf/api.py"]
    reference.write(folder, "bookshelf/api.py", (api[0] if api_version == "naive" else api[-1]).text)


def measure(folder: Path, books: int, runs: int) -> tuple[int, float]:
    """Return the statements of one GET /api/books on a seeded shelf, and its median time in ms."""
    app = load_create_app(folder)(dict(TEST_CONFIG))
    assert app.test_cli_runner().invoke(args=["seed", "--books", str(books)]).exit_code == 0
    client = app.test_client()
    with count_statements(app) as counter:
        assert client.get("/api/books").json["count"] == books
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get("/api/books")
        times.append((time.perf_counter() - start) * 1000)
    return counter.count, statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 31
    print(f"GET /api/books on an in-memory SQLite database, median of {runs} requests\n")
    print(f"{'books':>6}  {'naive: statements':>18} {'ms':>8}  {'fixed: statements':>18} {'ms':>8}")
    results = {}
    for version in ("naive", "fixed"):
        with tempfile.TemporaryDirectory() as folder:
            write_chapter02(Path(folder), version)
            results[version] = {books: measure(Path(folder), books, runs) for books in SHELVES}
    for books in SHELVES:
        (naive_count, naive_ms), (fixed_count, fixed_ms) = results["naive"][books], results["fixed"][books]
        print(f"{books:>6}  {naive_count:>18} {naive_ms:>8.1f}  {fixed_count:>18} {fixed_ms:>8.1f}")


if __name__ == "__main__":
    main()
