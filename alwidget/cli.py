"""``alwidget`` command line: ``alwidget demo`` opens the quickstart notebook in JupyterLab."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alwidget", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    demo = sub.add_parser("demo", help="open the quickstart notebook (digits) in JupyterLab")
    demo.add_argument("--port", type=int, default=8888)
    demo.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    args, extra = parser.parse_known_args(argv)
    if args.cmd == "demo":
        nb = _find_notebook()
        cmd = [sys.executable, "-m", "jupyter", "lab", str(nb.name), f"--port={args.port}"]
        if args.no_browser:
            cmd.append("--no-browser")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        print("Opening", nb, "in JupyterLab:", " ".join(cmd), flush=True)
        return subprocess.call(cmd + extra, cwd=nb.parent)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
