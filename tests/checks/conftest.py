"""Fixtures for the exercise checks: the learner's Bookshelf app, its test client and CLI runner."""

# one definition for the public checks here and the hidden tests in tests/hidden/; password_hashes,
# rate_limits_without_threads, sqlite_without_fsync and url_builders_compiled_once apply to every test by themselves (autouse), and the app
# fixture shares templates_compiled_once
from workbook.check_fixtures import (  # noqa: F401
    app, client, folder, password_hashes, pytest_addoption, pytest_collection_modifyitems, rate_limits_without_threads,
    runner, sqlite_without_fsync, templates_compiled_once, url_builders_compiled_once,
)
