"""Results computed once per input: a small content-keyed store for work a lifespan strip repeats per target.

A strip renders one face at nine ages; much of each render depends only on the face (its masks, its
landmarks, the source photo), not on the age. `memo(name, parts, compute)` returns what `compute()` gave
for the same `name` and the same `parts` (arrays by their exact bytes, shape and dtype; other values by
`repr`), so an identical input gets an identical result and a changed one a fresh computation. Arrays come
back read-only: a caller that changes one must copy it. `disabled()` turns the store off (tests compare
the outputs with and without it).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

KEPT = 64  # entries, least recently used first out: a strip's fields for a few faces (a few MB each at most)

T = TypeVar("T")

_STORE: OrderedDict[bytes, Any] = OrderedDict()
_LOCK = threading.Lock()
_ENABLED = threading.local()


def _enabled() -> bool:
    return getattr(_ENABLED, "on", True)


def digest(parts: tuple) -> bytes:
    """A key for `parts`: arrays by shape, dtype and bytes, everything else by repr."""
    hasher = hashlib.sha1(usedforsecurity=False)  # a content key, not a signature: the fastest hash here
    for part in parts:
        if isinstance(part, np.ndarray):
            hasher.update(f"{part.shape}{part.dtype}".encode())
            hasher.update(np.ascontiguousarray(part).data.cast("B"))
        else:
            hasher.update(repr(part).encode())
        hasher.update(b"|")
    return hasher.digest()


def _frozen(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for item in value:
            _frozen(item)
    return value


def memo(name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """compute(), or what it returned before for the same `name` and `parts` (arrays read-only)."""
    if not _enabled():
        return compute()
    key = digest((name, *parts))
    with _LOCK:
        if key in _STORE:
            _STORE.move_to_end(key)
            return _STORE[key]
    value = _frozen(compute())
    with _LOCK:
        _STORE[key] = value
        while len(_STORE) > KEPT:
            _STORE.popitem(last=False)
    return value


@contextmanager
def disabled() -> Iterator[None]:
    """Within this block (on this thread) everything is computed afresh and nothing is stored."""
    before = _enabled()
    _ENABLED.on = False
    try:
        yield
    finally:
        _ENABLED.on = before


def clear() -> None:
    with _LOCK:
        _STORE.clear()
