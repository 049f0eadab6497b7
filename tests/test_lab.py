"""`make lab` serves the workbook: a real JupyterLab server answers with the first chapter."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

from workbook.chapters import NOTEBOOKS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_jupyterlab_serves_chapter_00(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={NOTEBOOKS}",
         "--ServerApp.open_browser=False", "--allow-root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "JupyterLab did not start within 60 s"
                time.sleep(0.5)
        with urllib.request.urlopen(f"{base}/lab/tree/00_welcome.ipynb?token={token}", timeout=10) as page:
            assert page.status == 200 and "JupyterLab" in page.read().decode()
        with urllib.request.urlopen(f"{base}/api/contents/00_welcome.ipynb?token={token}", timeout=10) as reply:
            notebook = json.load(reply)["content"]
        assert notebook["cells"][0]["source"].startswith("# 00 · Welcome")
    finally:
        server.terminate()
        server.wait(timeout=30)
