"""Every ``>>>`` example in the package's docstrings runs and shows what it says.

One test per module, each module's examples in a fresh context, so an example that
needs an earlier one's state fails here instead of passing by the order of the run.
"""

from __future__ import annotations

import contextvars
import doctest
import importlib
import pkgutil

import pytest

import berrys_monitoring

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(berrys_monitoring.__path__, "berrys_monitoring.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = contextvars.Context().run(
        doctest.testmod, module, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed (see above)"


def test_the_examples_cover_every_component() -> None:
    finder = doctest.DocTestFinder()
    with_examples = {
        name.split(".")[1]
        for name in MODULES
        if any(t.examples for t in finder.find(importlib.import_module(name)))
    }
    components = {"alerts", "cicd", "health", "logging", "metrics", "middleware", "tracing"}
    assert components <= with_examples
