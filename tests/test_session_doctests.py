"""The Examples sections of the session modules run and give what they say."""

import doctest
import importlib

import pytest

MODULES = [
    "alwidget.session",
    "alwidget.labelstate",
    "alwidget.batches",
    "alwidget.modeling",
    "alwidget.options",
    "alwidget.live",
    "alwidget.observers",
    "alwidget.errors",
    "alwidget.selection",
    "alwidget.training",
    "alwidget.validation",
    "alwidget.tables",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples failed in {name}"
