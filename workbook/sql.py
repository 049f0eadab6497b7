"""Count the SQL statements that SQLAlchemy sends to the database, for the N+1 lessons and checks."""

from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class StatementCounter:
    """The statements seen so far: how many, and their SQL text."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Return how many statements were sent."""
        return len(self.statements)

    def __repr__(self) -> str:
        return f"<{self.count} SQL statement{'' if self.count == 1 else 's'}>"


def engines_of(target) -> list[Engine]:
    """Return the engines to watch: the engine given, or every engine of a Flask app's Flask-SQLAlchemy."""
    if isinstance(target, Engine):
        return [target]
    db = getattr(target, "extensions", {}).get("sqlalchemy")
    if db is None:
        raise TypeError(f"count_statements() needs an Engine or a Flask app using Flask-SQLAlchemy, not {target!r}")
    with target.app_context():
        return list(db.engines.values())


@contextmanager
def count_statements(target):
    """Count the statements sent through an engine (or a Flask app's engines) inside the with block."""
    counter = StatementCounter()

    def record(conn, cursor, statement, parameters, context, executemany):
        counter.statements.append(statement)

    engines = engines_of(target)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield counter
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
