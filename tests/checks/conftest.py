"""Fixtures for the exercise checks: the learner's Bookshelf app, its test client and CLI runner."""

# one definition for the public checks here and the hidden tests in tests/hidden/
from workbook.check_fixtures import app, client, folder, pytest_addoption, pytest_collection_modifyitems, runner  # noqa: F401
