"""Request IDs: accept a sane incoming one, otherwise make a new one."""

from __future__ import annotations

import os
import re
from random import getrandbits

__all__ = ["new_request_id", "sane_request_id", "take_request_id"]

# Letters, digits and a few separators, at most 128 characters: enough for UUIDs, ULIDs
# and "<service>-<n>" styles, while keeping log injection and giant headers out.
_SANE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


# Three nibbles (at hex positions 10, 21 and 31) forced to a letter (a, b, e or f): no run
# of more than 10 digits, so no id can look like a card number to the log redactor, and
# ids we made are written without a redaction pass (122 random bits remain).
_LETTERS = (0xA << 84) | (0xA << 40) | 0xA
# Ids are drawn 256 at a time (one random number, one hex conversion) and handed out from
# a list; a forked child throws its parent's away, so no two processes share one.
_BATCH = 256
_BATCH_MASK = sum(_LETTERS << (128 * i) for i in range(_BATCH))
_pool: list[str] = []


def _refill() -> str:
    digits = f"{getrandbits(128 * _BATCH) | _BATCH_MASK:0{32 * _BATCH}x}"
    _pool.extend(digits[i : i + 32] for i in range(32, len(digits), 32))
    return digits[:32]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool.clear)


# The pool's pop, for a caller that handles IndexError itself with new_request_id().
take_request_id = _pool.pop


def new_request_id() -> str:
    """A fresh random request id (32 lowercase hex characters, like a UUID4 without dashes).

    Example::

        >>> len(new_request_id())
        32
    """
    # Not a secret, just unique: the Mersenne Twister (reseeded after fork by the random
    # module) avoids a getrandom() system call per request.
    try:
        return _pool.pop()
    except IndexError:
        return _refill()


def sane_request_id(value: str | None) -> str:
    """``value`` when it is a usable request id, a new one otherwise.

    Example::

        >>> sane_request_id("abc-123")
        'abc-123'
        >>> sane_request_id("bad id\\n") != "bad id\\n"
        True
    """
    if value and _SANE.match(value):
        return value
    return new_request_id()
