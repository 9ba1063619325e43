"""Every notebook in notebooks/ executes headless (PCA map, fresh working directory)."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("ALWIDGET_PROJECTION", "pca")
    monkeypatch.setenv("ALWIDGET_CACHE_DIR", str(tmp_path / "cache"))
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        assert cell.get("outputs", []) == [], f"{path.name} is committed with outputs"
    assert "widgets" not in nb.metadata, f"{path.name} is committed with widget state"
    shutil.copy(path, tmp_path / path.name)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors


def test_there_are_notebooks():
    assert any(p.name == "01_quickstart.ipynb" for p in NOTEBOOKS)
