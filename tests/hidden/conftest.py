"""Fixtures for the hidden tests: the same as the public checks'; grading runs these, check() never does."""

from workbook.check_fixtures import app, client, folder, pytest_addoption, pytest_collection_modifyitems, runner  # noqa: F401
