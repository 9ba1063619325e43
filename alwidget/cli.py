"""``alwidget`` command line: ``alwidget demo`` opens the quickstart notebook in JupyterLab."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import webbrowser
from pathlib import Path

QUICKSTART = "01_quickstart.ipynb"


def _find_notebook() -> Path:
    here = Path.cwd() / "notebooks" / QUICKSTART
    if here.exists():
        return here
    repo = Path(__file__).resolve().parents[1] / "notebooks" / QUICKSTART
    if repo.exists():
        return repo
    raise SystemExit(
        f"cannot find notebooks/{QUICKSTART}: run 'alwidget demo' from a checkout of the "
        "alwidget repository (pip install -e . there)"
    )


def quickstart_url(
    port: int, token: str, workspace: str, notebook: str = QUICKSTART, host: str = "localhost"
) -> str:
    """The JupyterLab address that opens ``notebook`` on its own, in a fresh workspace.

    A workspace name JupyterLab has not seen starts with no other tabs open (not the Launcher,
    not the last session's layout), and the token logs the browser in.

    Parameters
    ----------
    port : int
    token : str
        The server's token.
    workspace : str
        Name of the workspace (made URL-safe).
    notebook : str, default="01_quickstart.ipynb"
        Path relative to the server's root directory.
    host : str, default="localhost"

    Returns
    -------
    str

    Examples
    --------
    >>> quickstart_url(8888, "abc", "alwidget-demo-1")
    'http://localhost:8888/lab/workspaces/alwidget-demo-1/tree/01_quickstart.ipynb?token=abc'
    """
    ws = urllib.parse.quote(workspace, safe="")
    path = urllib.parse.quote(notebook)
    query = urllib.parse.urlencode({"token": token})
    return f"http://{host}:{port}/lab/workspaces/{ws}/tree/{path}?{query}"


def lab_command(
    notebook_dir: Path, port: int, token: str, *, allow_root: bool = False
) -> list[str]:
    """The ``jupyter lab`` command line of ``alwidget demo`` (the browser is opened by us)."""
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--ServerApp.root_dir={notebook_dir}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    if allow_root:
        cmd.append("--allow-root")
    return cmd


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(proc: subprocess.Popen, port: int, token: str, timeout: float) -> bool:
    url = f"http://127.0.0.1:{port}/api/status?token={urllib.parse.quote(token)}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:  # not up yet
            pass
        time.sleep(0.3)
    return False


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def demo(port: int = 8888, no_browser: bool = False, extra: list[str] | None = None) -> int:
    """Start JupyterLab on the quickstart notebook and open (and print) its address."""
    nb = _find_notebook()
    if not _port_free(port):
        new = _free_port()
        print(f"port {port} is in use: using {new}", flush=True)
        port = new
    token = secrets.token_hex(24)
    workspace = f"alwidget-demo-{time.strftime('%Y%m%d-%H%M%S')}"
    url = quickstart_url(port, token, workspace)
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    cmd = lab_command(nb.parent, port, token, allow_root=root) + list(extra or [])
    print(f"Starting JupyterLab on {nb} ...", flush=True)
    proc = subprocess.Popen(cmd, cwd=nb.parent)
    if hasattr(signal, "SIGTERM"):  # a plain `kill` of this command stops JupyterLab too
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if not _wait_until_up(proc, port, token, timeout=180):
            if proc.poll() is None:
                proc.terminate()
            print("JupyterLab did not start; see its messages above.", file=sys.stderr)
            return proc.wait() or 1
        print(f"\nThe quickstart notebook is at:\n\n    {url}\n", flush=True)
        if not no_browser:
            webbrowser.open(url)
        print("Press Ctrl+C to stop JupyterLab.", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alwidget", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="open the quickstart notebook (digits) in JupyterLab")
    d.add_argument("--port", type=int, default=8888)
    d.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a web browser (the address is printed either way)",
    )
    args, extra = parser.parse_known_args(argv)
    if args.cmd == "demo":
        return demo(args.port, args.no_browser, extra)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
