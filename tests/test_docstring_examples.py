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


#: The user-facing modules beyond the packages' own exports (everything else is internal:
#: store internals, the widget's view helpers, private ``_utils``).
USER_MODULES = [
    "alwidget.diagnostics_geometry",
    "alwidget.diagnostics_dynamics",
    "alwidget.stopping",
    "alwidget.label_issues",
    "alwidget.stream",
    "alwidget.explain",
    "alwidget.teaching",
    "alwidget.strategies.mc_dropout",
    "alwidget.strategies.batchbald",
    "alwidget.strategies.typicality",
    "alwidget.strategies.probcover",
]


def _public_names():
    import inspect

    seen = {}
    for pkg in ("alwidget", "alwidget.strategies", "alwidget.widget", "alwidget.store"):
        mod = importlib.import_module(pkg)
        for name in mod.__all__:
            seen[f"{pkg}.{name}"] = getattr(mod, name)
    for mod_name in USER_MODULES:
        mod = importlib.import_module(mod_name)
        for name in getattr(mod, "__all__", []):
            seen[f"{mod_name}.{name}"] = getattr(mod, name)
    return {k: v for k, v in seen.items() if inspect.isclass(v) or inspect.isfunction(v)}


def test_every_public_class_and_function_has_an_examples_section():
    missing = sorted(k for k, v in _public_names().items() if "Examples" not in (v.__doc__ or ""))
    assert not missing, f"public names without an Examples section: {missing}"


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
