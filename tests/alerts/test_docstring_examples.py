"""The ``>>>`` examples in the alerts docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import berrys_monitoring.alerts as alerts

MODULES = [
    importlib.import_module(f"berrys_monitoring.alerts.{m.name}")
    for m in pkgutil.iter_modules(alerts.__path__)
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_docstring_examples_run(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
