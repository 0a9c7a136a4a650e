"""The examples in the health package's docstrings are true (run as doctests)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import berrys_monitoring.health as health
from berrys_monitoring.health import HealthRegistry

MODULES = sorted(
    f"berrys_monitoring.health.{m.name}" for m in pkgutil.iter_modules(health.__path__)
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name: str, registry: HealthRegistry) -> None:
    # `registry` installs a fresh default registry: examples that register checks on the
    # module-level API do not leak into other tests.
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"
