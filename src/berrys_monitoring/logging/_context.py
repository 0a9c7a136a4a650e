"""Request context carried by ``contextvars``: bound once, present on every line.

A ``ContextVar`` (not a thread-local) so the context follows ``asyncio`` tasks and
``asyncio.to_thread`` by itself. ``loop.run_in_executor`` and ``executor.submit`` do not
copy contextvars, hence :func:`wrap_context` and :func:`run_in_executor`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = [
    "ContextToken",
    "bind_context",
    "bound_context",
    "clear_context",
    "get_context",
    "reset_context",
    "reset_field",
    "run_in_executor",
    "unbind_context",
    "wrap_context",
]

T = TypeVar("T")


class Fields(dict[str, Any]):
    """An immutable-by-convention set of fields that caches its redacted rendering.

    A new object is made on every bind, so the cache (keyed by the configuration
    generation) is computed at most once per bind and per configuration: the redaction
    cost of a request context is paid once, not on every line.
    """

    __slots__ = ("_added", "_base", "_fragment", "_rendered")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rendered: tuple[int, dict[str, Any]] | None = None
        self._fragment: tuple[int, str] | None = None
        # Set by bind_context: the fields bound on top of ``_base``, so the JSON fragment
        # of a per-request bind extends the outer context's (cached) one.
        self._base: Fields | None = None
        self._added: dict[str, Any] | None = None


EMPTY = Fields()
_context: contextvars.ContextVar[Fields] = contextvars.ContextVar(
    "berrys_monitoring_log_context", default=EMPTY
)


def current_fields() -> Fields:
    """The live context object (internal; do not mutate)."""
    return _context.get()


class ContextToken:
    """What :func:`bind_context` returns: :func:`reset_context` puts back the context
    that was there before the bind (the ``ContextVar`` token pattern).

    Example::

        >>> from berrys_monitoring.logging import bind_context, get_context, reset_context
        >>> token = bind_context(request_id="r-1")
        >>> reset_context(token)
        >>> "request_id" in get_context()
        False
    """

    __slots__ = ("_previous", "_token")

    def __init__(self, token: contextvars.Token[Fields], previous: Fields) -> None:
        self._token = token
        self._previous = previous

    def __repr__(self) -> str:
        return f"<ContextToken restoring {dict(self._previous)!r}>"


def bind_context(**fields: Any) -> ContextToken:
    """Add fields to every line logged from now on in this context (task, thread, request).

    Returns a token; ``reset_context(token)`` restores the fields bound before, which is
    how a middleware scopes fields to one request (fields bound meanwhile go too).

    Example::

        >>> from berrys_monitoring.logging import bind_context, get_context, clear_context
        >>> _ = bind_context(request_id="r-1", user_id="u-2")
        >>> get_context()
        {'request_id': 'r-1', 'user_id': 'u-2'}
        >>> clear_context()
    """
    previous = _context.get()
    new = Fields({**previous, **fields})
    new._base = previous
    new._added = fields
    return ContextToken(_context.set(new), previous)


def reset_context(token: ContextToken | contextvars.Token[Fields]) -> None:
    """Restore the context as it was before the :func:`bind_context` that gave ``token``.

    Works even when called from another context than the bind (a WSGI server closing a
    streamed body elsewhere, a token reset twice): the previous fields are then set
    explicitly in the current context.

    Example::

        >>> from berrys_monitoring.logging import bind_context, get_context, reset_context
        >>> outer = bind_context(service_step="outer")
        >>> inner = bind_context(request_id="r-2", user_id="u-3")
        >>> reset_context(inner)
        >>> get_context()
        {'service_step': 'outer'}
        >>> reset_context(outer)
    """
    if type(token) is not ContextToken:
        if type(token) is not contextvars.Token or token.var is not _context:
            raise TypeError(f"reset_context() needs a token of the logging context, not {token!r}")
        # A bare ContextVar token (the middleware's bind_field): the same, without a wrapper.
        reset_field(token)
        return
    try:
        _context.reset(token._token)
    except (ValueError, RuntimeError):
        _context.set(token._previous)


def unbind_context(*keys: str) -> None:
    """Remove fields from the context; unknown keys are ignored.

    Example::

        >>> from berrys_monitoring.logging import bind_context, unbind_context, get_context
        >>> token = bind_context(request_id="r-1", step="load")
        >>> unbind_context("step")
        >>> get_context()
        {'request_id': 'r-1'}
        >>> unbind_context("request_id")
        >>> get_context()
        {}
    """
    cur = _context.get()
    if any(k in cur for k in keys):
        _context.set(Fields({k: v for k, v in cur.items() if k not in keys}))


def clear_context() -> None:
    """Remove every context field.

    Example::

        >>> from berrys_monitoring.logging import clear_context, get_context
        >>> clear_context(); get_context()
        {}
    """
    _context.set(EMPTY)


def get_context() -> dict[str, Any]:
    """A copy of the fields currently bound.

    Example::

        >>> from berrys_monitoring.logging import bound_context, get_context
        >>> with bound_context(job="nightly"):
        ...     get_context()
        {'job': 'nightly'}
    """
    return dict(_context.get())


@contextmanager
def bound_context(**fields: Any) -> Iterator[dict[str, Any]]:
    """Bind fields for the duration of a ``with`` block, then restore the previous context.

    Example::

        >>> from berrys_monitoring.logging import bound_context, get_context
        >>> with bound_context(request_id="r-9"):
        ...     get_context()["request_id"]
        'r-9'
        >>> "request_id" in get_context()
        False
    """
    token = _context.set(Fields({**_context.get(), **fields}))
    try:
        yield dict(_context.get())
    finally:
        try:
            _context.reset(token)
        except ValueError:
            # Exited in another context (e.g. a generator resumed elsewhere): fall back
            # to removing exactly the keys this block bound.
            unbind_context(*fields)


def wrap_context(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` bound to a copy of the current context, for threads and executors.

    Use it with ``executor.submit``, ``threading.Thread(target=...)`` or anything else
    that runs a callable elsewhere without copying contextvars.

    Example::

        >>> from concurrent.futures import ThreadPoolExecutor
        >>> from berrys_monitoring.logging import bound_context, get_context, wrap_context
        >>> with bound_context(request_id="r-7"), ThreadPoolExecutor(1) as pool:
        ...     pool.submit(wrap_context(get_context)).result()
        {'request_id': 'r-7'}
    """
    ctx = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> T:
        # A copy per call: a Context object cannot be entered twice concurrently.
        return ctx.copy().run(fn, *args, **kwargs)

    return run


def run_in_executor(
    loop: asyncio.AbstractEventLoop | None,
    executor: Executor | None,
    fn: Callable[..., T],
    *args: Any,
) -> asyncio.Future[T]:
    """``loop.run_in_executor`` that carries the log context (and every other contextvar).

    ``loop`` may be ``None`` for the running loop.

    Example::

        import asyncio
        from berrys_monitoring.logging import bound_context, get_context, run_in_executor

        async def main():
            with bound_context(request_id="r-3"):
                return await run_in_executor(None, None, get_context)

        assert asyncio.run(main()) == {"request_id": "r-3"}
    """
    loop = loop or asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    return loop.run_in_executor(executor, ctx.run, fn, *args)


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> Fields:
    """A new Fields with ``extra`` over ``base`` (internal)."""
    return Fields({**base, **extra})


def reset_field(token: contextvars.Token[Fields]) -> None:
    """Undo :func:`bind_field`: the context as it was before the bind (also when called
    from another context than the bind's, where the previous fields are set again)."""
    try:
        _context.reset(token)
    except (ValueError, RuntimeError):
        if token.var is not _context:
            raise  # not a token of the logging context: nothing of ours to restore
        old = token.old_value
        _context.set(EMPTY if old is contextvars.Token.MISSING else old)
