"""Fixtures: a throw-away JupyterLab server and a Playwright browser driving Debian's chromium."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",  # WebGL (scattergl) without a GPU
]
SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).parents[2] / "artifacts" / "screenshots")
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception as e:  # server not up yet
            last = e
        time.sleep(0.25)
    raise TimeoutError(f"{url} not up after {timeout}s: {last!r}")


def _start_server(cmd, root: Path, port: int, token: str, ready_path: str):
    jhome = root / ".jupyter-home"
    env = dict(os.environ)
    env.setdefault("ALWIDGET_PROJECTION", "pca")
    env.setdefault("ALWIDGET_CACHE_DIR", str(root / "cache"))
    # isolate config/runtime/data from the user's ~/.jupyter; kernelspecs and lab
    # extensions are still found under sys.prefix/share/jupyter
    env.update(
        JUPYTER_CONFIG_DIR=str(jhome / "config"),
        JUPYTER_RUNTIME_DIR=str(jhome / "runtime"),
        JUPYTER_DATA_DIR=str(jhome / "data"),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(jhome / "ipython"),
        PYTHONUNBUFFERED="1",
    )
    # Turn off the "receive Jupyter news?" toast (it would also try to reach the internet)
    labcfg = jhome / "config" / "labconfig"
    labcfg.mkdir(parents=True, exist_ok=True)
    (labcfg / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}{ready_path}?token={token}", proc)
    except Exception:
        proc.kill()
        raise RuntimeError((root / "server.log").read_text()[-4000:]) from None
    return proc, log


def _stop_server(proc, log, port, token):
    try:  # graceful: also shuts the kernels down
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/shutdown",
            method="POST",
            headers={"Authorization": f"token {token}"},
        )
        urllib.request.urlopen(req, timeout=5)
    except Exception:
        pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def server_command(app: str, port: int, token: str, root: Path) -> list[str]:
    """Command line of a throw-away ``jupyter lab`` or ``jupyter notebook`` (7) server."""
    cls = "LabApp" if app == "lab" else "JupyterNotebookApp"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.allow_root=True",  # CI/containers often run as root
        f"--ServerApp.root_dir={root}",
        f"--{cls}.expose_app_in_browser=True",  # window.jupyterapp for commands (Lab)
        f"--{cls}.news_url=None",
    ]
    if app == "lab":
        cmd += [
            "--LabApp.extension_manager=readonly",  # no PyPI queries from the lab UI
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    return cmd


def _server(app: str, root: Path):
    port, token = _free_port(), uuid.uuid4().hex
    proc, log = _start_server(
        server_command(app, port, token, root), root, port, token, "/api/status"
    )
    try:
        yield f"http://127.0.0.1:{port}", token, root
    finally:
        _stop_server(proc, log, port, token)


@pytest.fixture
def lab_server(tmp_path):
    """Yield (base_url, token, root_dir) of a fresh JupyterLab server."""
    yield from _server("lab", tmp_path)


@pytest.fixture
def notebook_server(tmp_path):
    """Yield (base_url, token, root_dir) of a fresh Jupyter Notebook 7 server."""
    yield from _server("notebook", tmp_path)


@pytest.fixture
def voila_server(tmp_path):
    port, token = _free_port(), uuid.uuid4().hex
    cmd = [
        sys.executable,
        "-m",
        "voila",
        "--no-browser",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--Voila.ip=127.0.0.1",
        f"--Voila.root_dir={tmp_path}",
        f"--token={token}",
    ]
    proc, log = _start_server(cmd, tmp_path, port, token, "/")
    try:
        yield f"http://127.0.0.1:{port}", token, tmp_path
    finally:
        # voila has no /api/shutdown; SIGTERM the process group
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no chromium at {CHROMIUM}: CI must install it (apt-get install chromium)")
        pytest.skip(f"no chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    rep = (yield).get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def page(browser, request):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    logs = []
    pg.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:  # keep evidence of a failure
        out = SHOTS
        out.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(out / f"FAILED_{request.node.name}.png"))
        (out / f"FAILED_{request.node.name}.console.txt").write_text("\n".join(logs))
    ctx.close()


READY_JS = """() => {
  const app = window.jupyterapp; if (!app) return false;
  const w = app.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(w && w.content && w.content.widgets && k && k.connectionStatus === 'connected' && k.status === 'idle');
}"""


def open_notebook_and_run_all(page, url, timeout_ms=90_000):
    """Open a notebook in JupyterLab, wait until its kernel is connected and idle, run all cells,
    and wait until every code cell has an execution count."""
    page.goto(url)
    page.wait_for_function(READY_JS, timeout=timeout_ms)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => {
      const nb = window.jupyterapp.shell.currentWidget.content;
      return nb.widgets.filter(c => c.model.type === 'code').every(c => c.model.executionCount);
    }""",
        timeout=timeout_ms,
    )


def stray_point_xy(page, plot_selector):
    """Page coordinates of a stray pool point of the map (trace 0, WebGL): the one farthest
    from the centre of the view that is still well inside it."""
    return page.evaluate(
        f"""() => {{
        const gd = document.querySelector('{plot_selector}');
        const d = gd._fullData[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        let best = 0, bd = -1;
        for (let i = 0; i < d._length; i++) {{
          const dx = d.x[i] - (xa.range[0] + xa.range[1]) / 2, dy = d.y[i] - (ya.range[0] + ya.range[1]) / 2;
          const v = dx * dx / (xa.range[1] - xa.range[0]) ** 2 + dy * dy / (ya.range[1] - ya.range[0]) ** 2;
          if (v > bd && v < 0.2) {{ bd = v; best = i; }}
        }}
        const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
        return [box.left + xa.l2p(d.x[best]), box.top + ya.l2p(d.y[best])];
      }}"""
    )


def write_notebook(path, *cells: str) -> None:
    """Write a Python 3 notebook with one code cell per source string."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
