"""asyncio's private name: the marker that makes a plain function pass for a coroutine
function, which ``inspect.markcoroutinefunction`` does publicly from Python 3.12 on."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["mark_coroutine_function"]


def mark_coroutine_function(fn: Callable[..., Any]) -> None:
    """Make ``inspect.iscoroutinefunction`` (3.12+) and ``asyncio.iscoroutinefunction``
    say True for ``fn``, a function that returns an awaitable.

    Example::

        >>> def send(message):
        ...     return asyncio.sleep(0)
        >>> mark_coroutine_function(send)
        >>> asyncio.iscoroutinefunction(send)
        True
    """
    if hasattr(inspect, "markcoroutinefunction"):  # Python 3.12+
        inspect.markcoroutinefunction(fn)
        return
    marker = getattr(asyncio.coroutines, "_is_coroutine", None)
    if marker is not None:
        fn._is_coroutine = marker  # type: ignore[attr-defined]
