"""The docstring examples of the cicd modules run (the ones written as doctests)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import berrys_monitoring.cicd as cicd

MODULES = [m.name for m in pkgutil.iter_modules(cicd.__path__)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"berrys_monitoring.cicd.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
