"""Results computed once per input: a small content-keyed store for work a lifespan strip repeats per target.

A strip renders one face at nine ages; much of each render depends only on the face (its masks, its
landmarks, the source photo), not on the age. `memo(name, parts, compute)` returns what `compute()` gave
for the same `name` and the same `parts` (arrays by their exact bytes, shape and dtype; other values by
`repr`), so an identical input gets an identical result and a changed one a fresh computation. Arrays come
back read-only (in tuples and dataclasses too): a caller that changes one must copy it. `disabled()` turns the
store off (tests compare the outputs with and without it). Threads rendering a strip's ages at once
(engine/core/workers.py) share the store: what one of them is computing, the others wait for rather than compute again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

KEPT = 96  # entries, least recently used first out: one face's 9-age strip keeps about 70 (about 62 MB on the astronaut)

T = TypeVar("T")

_STORE: OrderedDict[bytes, Any] = OrderedDict()
_LOCK = threading.Lock()
_COMPUTING: dict[bytes, threading.Lock] = {}  # a lock per key being computed, held by the thread computing it
_ENABLED = threading.local()


def enabled() -> bool:
    """Whether the store is on for this thread (`disabled()` turns it off)."""
    return getattr(_ENABLED, "on", True)


def digest(parts: tuple) -> bytes:
    """A key for `parts`: arrays by shape, dtype and bytes (`array_digest`), everything else by repr."""
    hasher = hashlib.sha1(usedforsecurity=False)  # a content key, not a signature: the fastest hash here
    for part in parts:
        hasher.update(array_digest(part) if isinstance(part, np.ndarray) else repr(part).encode())
        hasher.update(b"|")
    return hasher.digest()


# The digests of sealed arrays (`sealed`), by the array's id while it lives: a strip asks for the same face's
# crop, masks and stored fields a few hundred times, and hashing them each time cost about a tenth of a new
# photo's strip. The entry goes when its array is freed (before its id can be another array's).
_DIGESTS: dict[int, tuple[weakref.ref, bytes]] = {}


def sealed(array: np.ndarray) -> bool:
    """Whether `array`'s bytes cannot change: it and every array it is a view of are read-only, down to memory the
    arrays own (or immutable bytes). Arrays this store returns are sealed, and so are a located face's crop and
    points and its hair masks. (Turning writing back on and changing one breaks the store's contract, as for any
    array it returns.)"""
    base: object = array
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    return base is None or isinstance(base, bytes)


def array_digest(array: np.ndarray) -> bytes:
    """The SHA-1 of `array`'s shape, dtype and bytes; a sealed array's is computed once while it lives. A sealed view
    of a sealed array that owns its memory in C order (a box cut from a face's crop, a stage's slice of its landmarks)
    is keyed by that array's digest and where in its memory the view lies, which fix the view's bytes: a strip cuts
    the same boxes at every target, each time a new view object, and hashing their bytes again cost about a tenth of
    a repeat strip. (The same bytes reached by another view, or copied, get another key: computed once more, never
    another array's result.)"""
    key = id(array)
    keep = sealed(array)
    if keep:
        known = _DIGESTS.get(key)
        if known is not None and known[0]() is array:
            return known[1]
        root = _owner(array)
        if root is not None:
            where = (
                array.__array_interface__["data"][0] - root.__array_interface__["data"][0],
                array.shape,
                array.strides,
                array.dtype.str,
            )
            hasher = hashlib.sha1(usedforsecurity=False)
            hasher.update(b"view of " + array_digest(root) + repr(where).encode())
            return hasher.digest()
    hasher = hashlib.sha1(usedforsecurity=False)
    hasher.update(f"{array.shape}{array.dtype}".encode())
    if array.size:  # an empty array's bytes are none (and its memoryview cannot be cast); its shape is its key
        hasher.update(np.ascontiguousarray(array).data.cast("B"))
    value = hasher.digest()
    if keep:
        _DIGESTS[key] = (weakref.ref(array, functools.partial(_forget, key)), value)
    return value


def _owner(view: np.ndarray) -> np.ndarray | None:
    """The array `view` (sealed) is a view of, where that one owns its memory and is C-contiguous (its bytes in memory
    are the bytes `array_digest` hashes); None when `view` owns its own or the chain ends otherwise."""
    base = view.base
    if not isinstance(base, np.ndarray):
        return None
    while isinstance(base.base, np.ndarray):
        base = base.base
    return base if base.base is None and base.flags.c_contiguous else None


def _forget(key: int, _: weakref.ref) -> None:
    """A sealed array was freed: its id may be another array's from now on."""
    _DIGESTS.pop(key, None)


def _frozen(value: Any) -> Any:
    """`value` with its arrays read-only: an array, and those in a tuple or in a dataclass's fields, however nested."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for item in value:
            _frozen(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _frozen(getattr(value, field.name))
    return value


def memo(name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """compute(), or what it returned before for the same `name` and `parts` (arrays read-only)."""
    if not enabled():
        return compute()
    key = digest((name, *parts))
    with _LOCK:
        if key in _STORE:
            _STORE.move_to_end(key)
            return _STORE[key]
        computing = _COMPUTING.setdefault(key, threading.Lock())
    # one thread computes a key at a time; a thread that waited finds the result stored. (A computation waits only
    # for the keys it asks for, which never ask for it in turn, or the one thread would recurse forever; and no
    # computation holds another lock whose holder asks the store for something (a model's, the texture prototype's):
    # no deadlock.)
    with computing:
        with _LOCK:
            if key in _STORE:
                _STORE.move_to_end(key)
                return _STORE[key]
        try:
            value = _frozen(compute())
            with _LOCK:
                _STORE[key] = value
                while len(_STORE) > KEPT:
                    _STORE.popitem(last=False)
        finally:
            with _LOCK:
                if _COMPUTING.get(key) is computing:  # not a later thread's, after a failed computation
                    del _COMPUTING[key]
    return value


def as_here(function: Callable[[], T]) -> Callable[[], T]:
    """`function`, to be called on another thread with the store on or off there as it is on this one."""
    if enabled():
        return function

    def off() -> T:
        with disabled():
            return function()

    return off


@contextmanager
def disabled() -> Iterator[None]:
    """Within this block (on this thread) everything is computed afresh and nothing is stored."""
    before = enabled()
    _ENABLED.on = False
    try:
        yield
    finally:
        _ENABLED.on = before


def clear() -> None:
    with _LOCK:
        _STORE.clear()
