"""Run every docstring example of the installed package (they are part of the docs)."""

import doctest
import importlib
import pkgutil

import pytest

import diffdx

MODULES = sorted(
    f"diffdx.{m.name}" for m in pkgutil.iter_modules(diffdx.__path__) if m.name != "__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_doctests_exist():
    finder = doctest.DocTestFinder()
    n = sum(len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name)))
    assert n >= 20
