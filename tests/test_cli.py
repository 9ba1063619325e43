"""``alwidget demo``: the address it opens and prints (no server is started here)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from alwidget.cli import QUICKSTART, lab_command, quickstart_url


def test_quickstart_url_opens_the_notebook_in_a_fresh_workspace_with_the_token():
    url = quickstart_url(8890, "t0k/en+1", "alwidget demo 1")
    parts = urllib.parse.urlsplit(url)
    assert parts.netloc == "localhost:8890"
    assert parts.path == f"/lab/workspaces/alwidget%20demo%201/tree/{QUICKSTART}"
    assert urllib.parse.parse_qs(parts.query) == {"token": ["t0k/en+1"]}


def test_lab_command_uses_the_same_token_and_port_and_never_opens_its_own_browser():
    cmd = lab_command(Path("/nb"), 8890, "abc")
    assert "--no-browser" in cmd and "--IdentityProvider.token=abc" in cmd
    assert "--ServerApp.port=8890" in cmd and "--ServerApp.port_retries=0" in cmd
    assert "--ServerApp.root_dir=/nb" in cmd
