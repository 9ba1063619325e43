"""The Examples sections of the public docstrings run and print what they say."""

import doctest
import importlib
import pkgutil

import pytest

import alwidget

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(alwidget.__path__, prefix="alwidget.") if not m.ispkg
) + ["alwidget", "alwidget.strategies", "alwidget.widget"]


def _examples(module_name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, module_name)
    return [t for t in tests if t.examples]


def test_the_public_api_has_examples():
    with_examples = {name for name in MODULES if _examples(name)}
    for name in ("alwidget.simulation", "alwidget.evaluation", "alwidget.models"):
        assert name in with_examples, f"{name} has no runnable Examples section"


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    for test in _examples(module_name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} failing example(s) in {module_name} (see output)"
