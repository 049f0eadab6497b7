"""`make lab` serves the workbook: a real JupyterLab server answers with the first chapter."""

import json
import shutil
import urllib.request

from helpers import jupyterlab
from workbook.chapters import NOTEBOOKS


def test_jupyterlab_serves_chapter_00(tmp_path):
    shutil.copyfile(NOTEBOOKS / "00_welcome.ipynb", tmp_path / "00_welcome.ipynb")
    with jupyterlab(tmp_path) as (base, token):
        with urllib.request.urlopen(f"{base}/lab/tree/00_welcome.ipynb?token={token}", timeout=10) as page:
            assert page.status == 200 and "JupyterLab" in page.read().decode()
        with urllib.request.urlopen(f"{base}/api/contents/00_welcome.ipynb?token={token}", timeout=10) as reply:
            notebook = json.load(reply)["content"]
        assert notebook["cells"][0]["source"].startswith("# 00 · Welcome")
