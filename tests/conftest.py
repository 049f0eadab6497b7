"""The workbook's own tests import their shared builders from helpers.py, beside this file."""

# the longest tests (nbval runs, a browser, JupyterLab servers) start first, so that the two workers end together
SLOW_FIRST = ("test_notebooks.py", "test_browser.py", "test_lab.py", "test_nbgrader.py", "test_grade.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.path.name not in SLOW_FIRST)
