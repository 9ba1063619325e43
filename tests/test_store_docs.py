"""The Examples sections of the label store's docstrings run and show what they say."""

import doctest
import importlib
import pkgutil

import pytest

import alwidget.store

MODULES = sorted(
    m.name for m in pkgutil.iter_modules(alwidget.store.__path__, prefix="alwidget.store.")
)


@pytest.mark.parametrize("name", MODULES)
def test_store_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, raise_on_error=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_public_store_api_has_examples():
    for obj in [
        alwidget.store.LabelStore,
        alwidget.store.LabelStore.append,
        alwidget.store.LabelStore.undo_last,
        alwidget.store.LabelStore.bind,
        alwidget.store.LabelStore.current,
        alwidget.store.LabelStore.effective_arrays,
        alwidget.store.LabelStore.effective_for,
        alwidget.store.LabelStore.changed_since,
        alwidget.store.LabelStore.backup,
        alwidget.store.fingerprint,
    ]:
        assert "Examples\n" in (obj.__doc__ or ""), obj
        assert ">>> " in obj.__doc__, obj
