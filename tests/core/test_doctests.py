"""The examples in the core's docstrings run and give what they show."""

import doctest
import importlib
import pkgutil

import pytest

import conv1dify.core

MODULES = [f"conv1dify.core.{m.name}" for m in pkgutil.iter_modules(conv1dify.core.__path__)] + [
    "conv1dify.reports.format"
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
