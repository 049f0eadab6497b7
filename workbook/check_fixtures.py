"""The options and fixtures of every exercise check, public or hidden: the learner's app, its client and runner."""

from pathlib import Path

import pytest

from workbook.app import TEST_CONFIG, load_create_app


def pytest_addoption(parser):
    parser.addoption("--bookshelf", help="the folder that holds the learner's bookshelf package")
    parser.addoption("--exercise", help="run only the tests of this exercise, like 01.2")


def pytest_collection_modifyitems(config, items):
    wanted = config.getoption("--exercise")
    if not wanted:
        return
    selected, deselected = [], []
    for item in items:
        marker = item.get_closest_marker("exercise")
        (selected if marker and marker.args[0] == wanted else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = selected


@pytest.fixture
def folder(request) -> Path:
    """The folder whose bookshelf package is checked."""
    given = request.config.getoption("--bookshelf")
    if not given:
        pytest.skip("exercise checks run on a learner's folder: pass --bookshelf DIR")
    return Path(given).resolve()


@pytest.fixture
def app(folder):
    """The learner's app, built by their create_app with the test configuration."""
    return load_create_app(folder)(dict(TEST_CONFIG))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
