"""`make lab` serves the workbook: a real JupyterLab server answers with the first chapter, without nbgrader or news."""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from helpers import jupyterlab, learner_environment
from workbook.chapters import NOTEBOOKS, ROOT

NBGRADER = "@jupyter/nbgrader"
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"  # asks about Jupyter news, checks for updates


def page_config(base: str, token: str) -> dict:
    """Return the configuration JupyterLab writes into its /lab page for the browser."""
    with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10) as reply:
        page = reply.read().decode()
    return json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page).group(1))


def status_of(url: str) -> int:
    """Return the HTTP status of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.load(reply)


@pytest.fixture(scope="module")
def learner_lab(tmp_path_factory):
    """A JupyterLab server started as `make lab` starts it, over a folder with chapter 00."""
    root = tmp_path_factory.mktemp("learner")
    shutil.copyfile(NOTEBOOKS / "00_welcome.ipynb", root / "00_welcome.ipynb")
    # settings of its own, so that no answer given to JupyterLab on this machine hides a question
    env = {**learner_environment(), "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings")}
    with jupyterlab(root, f"--LabApp.workspaces_dir={root / '.workspaces'}", env=env) as (base, token):
        yield base, token


def test_start_puts_the_workbook_settings_first_and_keeps_the_callers():
    env = {**os.environ, "JUPYTER_CONFIG_PATH": "/elsewhere"}
    shown = subprocess.run(
        [str(ROOT / "start"), sys.executable, "-c", "import jupyter_core.paths as p; print(p.jupyter_config_path()[:2])"],
        capture_output=True, text=True, check=True, timeout=30, env=env,
    )
    assert shown.stdout.strip() == str([str(ROOT / "jupyter"), "/elsewhere"])


def test_make_lab_starts_jupyterlab_through_start():
    dry_run = subprocess.run(["make", "--dry-run", "lab"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert re.search(r"^\./start \S*jupyter lab\b", dry_run.stdout, re.MULTILINE), dry_run.stdout


def test_jupyterlab_serves_chapter_00(learner_lab):
    base, token = learner_lab
    with urllib.request.urlopen(f"{base}/lab/tree/00_welcome.ipynb?token={token}", timeout=10) as page:
        assert page.status == 200 and "JupyterLab" in page.read().decode()
    notebook = get_json(f"{base}/api/contents/00_welcome.ipynb?token={token}")["content"]
    assert notebook["cells"][0]["source"].startswith("# 00 · Welcome")


def test_the_learners_lab_has_no_nbgrader(learner_lab):
    base, token = learner_lab
    config = page_config(base, token)
    assert NBGRADER in config["disabledExtensions"]
    assert status_of(f"{base}/formgrader?token={token}") == 404  # nbgrader's server extensions are off too


def test_the_learners_lab_neither_asks_about_news_nor_fetches_them(learner_lab):
    base, token = learner_lab
    config = page_config(base, token)
    assert ANNOUNCEMENTS in config["disabledExtensions"]  # the plugin that asks the question
    assert config["news"] == {"disabled": True}
    assert get_json(f"{base}/lab/api/news?token={token}") == {"news": []}
    assert get_json(f"{base}/lab/api/update?token={token}") == {"notification": None}


def test_the_instructors_plain_jupyter_lab_keeps_nbgrader(tmp_path):
    env = {"JUPYTERLAB_SETTINGS_DIR": str(tmp_path / ".settings")}
    assert "JUPYTER_CONFIG_PATH" not in os.environ, "this test needs Jupyter's own settings"
    with jupyterlab(tmp_path, env=env) as (base, token):
        config = page_config(base, token)
        assert NBGRADER not in config["disabledExtensions"]
        assert ANNOUNCEMENTS not in config["disabledExtensions"]
        assert status_of(f"{base}/formgrader?token={token}") == 200  # the formgrader's page
