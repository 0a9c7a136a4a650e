"""A per-request context field (the request id) bound with its JSON fragment rendered.

The middleware binds one field per request and writes it on that request's access line
(``_fastline``). :func:`bind_field` renders the one new field on top of the outer
context's cached fragment when it is bound, and returns the bare ``ContextVar`` token
(one object less per request in flight than ``bind_context``'s wrapper);
:func:`reset_field` undoes it.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

import orjson

from berrys_monitoring.logging import _render
from berrys_monitoring.logging._context import Fields, reset_field
from berrys_monitoring.logging._context import _context as _ctx_var
from berrys_monitoring.logging._jsonline import _fragment
from berrys_monitoring.logging._render import RESERVED

__all__ = ["bind_field", "reset_field"]

_ctx_get = _ctx_var.get
_ctx_set = _ctx_var.set
_dumps = orjson.dumps
_new_fields = dict.__new__


def bind_field(key: str, value: str, trusted: bool = False) -> Token[Fields]:
    """``bind_context(key=value)`` with the context's JSON fragment rendered at once;
    returns the ``ContextVar`` token, for :func:`reset_field` (or ``reset_context``).

    A request id is bound once per request and written on its access line: rendering the
    one new field here, on top of the outer context's cached fragment, skips the generic
    renderer's several calls per request. The fragment is what the generic path would
    render; ``trusted`` says ``value`` cannot contain anything the redactor hides (an id
    we generated: ASCII letters and digits only), which skips the redaction pass unless
    custom patterns are configured, and the JSON escaping.
    When the key needs the generic path's care (reserved, secret-looking, already bound)
    nothing is pre-rendered.

    Example::

        >>> from berrys_monitoring.logging import get_context
        >>> token = bind_field("request_id", "r-1")
        >>> get_context()["request_id"]
        'r-1'
        >>> reset_field(token)
    """
    previous = _ctx_get()
    # Fields(previous) without its Python __init__: every slot is set right here.
    new = _new_fields(Fields)
    new.update(previous)
    new[key] = value
    new._rendered = None
    new._fragment = None
    new._base = previous
    # No per-bind dict of the added field (one object less per request in flight): the
    # fragment is set below, and a generic re-render renders the whole context.
    new._added = None
    token = _ctx_set(new)
    s = _render._settings
    if trusted:
        # The usual bind (a generated id on top of the same outer context as last time):
        # the fragment's constant part was worked out then.
        hit = s.bind_prefixes.get(key)
        if hit is not None and hit[0] is previous and type(value) is str:
            new._fragment = (hit[1], hit[2] + value + '"')
            return token
    if key in previous or type(value) is not str:
        return token
    generation = s.generation
    mode = s.bind_modes.get(key)
    if mode is None:
        mode = _key_mode(key, s)
    if mode == 0:
        return token
    cached = previous._fragment
    if cached is not None and cached[0] == generation:
        base_frag = cached[1]
    else:
        base_frag = _fragment(previous, s)
    if mode == 2 and (not trusted or s.redactor._patterns):
        value = s.redactor.text(value)
    elif trusted:
        prefix = f'{base_frag},"{key}":"'
        s.bind_prefixes[key] = (previous, generation, prefix)
        new._fragment = (generation, prefix + value + '"')
        return token
    if value.isascii() and value.isalnum():
        new._fragment = (generation, f'{base_frag},"{key}":"{value}"')
    else:
        new._fragment = (generation, f"{base_frag},{_dumps({key: value}).decode()[1:-1]}")
    return token


def _key_mode(key: str, s: Any) -> int:
    """bind_field's decision for ``key`` under the settings ``s`` (kept on them): 0 = leave
    the rendering to the generic path (reserved or secret-looking), 1 = render as is,
    2 = redact, then render."""
    red = s.redactor
    if key in RESERVED:
        mode = 0
    elif red.enabled:
        mode = 0 if red.is_secret_key(key) else 2
    else:
        mode = 1
    s.bind_modes[key] = mode
    return mode
