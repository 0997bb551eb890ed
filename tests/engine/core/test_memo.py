"""The content-keyed store a lifespan strip uses for work that depends on the face alone."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from engine.core import memo as store

pytestmark = pytest.mark.unit


def test_same_content_is_computed_once_and_changed_content_afresh():
    calls = []

    def compute(array: np.ndarray) -> np.ndarray:
        calls.append(1)
        return array * 2

    first = np.arange(12.0).reshape(3, 4)
    twin = first.copy()  # another array with the same bytes
    changed = first.copy()
    changed[1, 2] += 1
    a = store.memo("test_double", (first, 1.5), lambda: compute(first))
    b = store.memo("test_double", (twin, 1.5), lambda: compute(twin))
    c = store.memo("test_double", (changed, 1.5), lambda: compute(changed))
    d = store.memo("test_double", (first, 2.5), lambda: compute(first))  # another scalar part: another entry
    e = store.memo("test_double", (first.reshape(4, 3), 1.5), lambda: compute(first))  # same bytes, other shape
    assert len(calls) == 4 and b is a
    np.testing.assert_array_equal(c, changed * 2)
    assert d is not a and e is not a


def test_an_empty_array_is_a_key_by_its_shape():
    # a face whose photo ends under its crop has no rows under it: the key holds an empty (0, W, 3) array
    none_under = np.zeros((0, 4, 3), np.uint8)
    first = store.memo("test_empty", (none_under,), lambda: "none under")
    again = store.memo("test_empty", (np.zeros((0, 4, 3), np.uint8),), lambda: "computed again")
    other = store.memo("test_empty", (np.zeros((0, 5, 3), np.uint8),), lambda: "another width")
    assert (first, again, other) == ("none under", "none under", "another width")


def test_stored_arrays_are_read_only_so_a_caller_cannot_change_them_for_the_next():
    @dataclasses.dataclass(frozen=True)
    class Fields:  # a result with named parts, some arrays, one nested in a tuple
        mask: np.ndarray
        sigma: float
        pair: tuple

    value = store.memo("test_read_only", (np.zeros(3),), lambda: (np.ones(3), Fields(np.ones(2), 1.5, (np.ones(4), 2))))
    for array in (value[0], value[1].mask, value[1].pair[0]):
        with pytest.raises(ValueError):
            array[0] = 5


def test_disabled_computes_every_time_and_stores_nothing():
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return len(calls)

    key = (np.arange(5),)
    with store.disabled():
        for _ in range(2):
            store.memo("test_disabled", key, count)
    assert len(calls) == 2
    assert store.memo("test_disabled", key, count) == 3  # nothing was stored


def test_the_store_keeps_a_bounded_number_of_entries():
    store.clear()
    for index in range(store.KEPT + 10):
        store.memo("test_bound", (index,), lambda: np.zeros(1))
    assert len(store._STORE) == store.KEPT


def test_a_writeable_array_changed_in_place_gets_a_fresh_result():
    array = np.arange(6.0)
    first = store.memo("test_in_place", (array,), lambda: array.sum())
    array[0] = 100.0  # the same object, other bytes: never the stored result
    assert store.memo("test_in_place", (array,), lambda: array.sum()) == first + 100.0


def test_a_sealed_array_is_hashed_once_and_forgotten_when_freed():
    array = np.arange(6.0)
    array.flags.writeable = False
    view = array[1:]  # read-only view of a read-only array: sealed too
    writeable_view = np.arange(4.0)[1:]
    writeable_view.flags.writeable = False  # its base can still change: not sealed
    assert store.sealed(array) and store.sealed(view) and not store.sealed(writeable_view)
    key = store.array_digest(array)
    assert id(array) in store._DIGESTS and store.array_digest(array) == key
    assert store.array_digest(array.copy()) == key  # the same content, hashed afresh, gives the same digest
    assert store.array_digest(view) != key
    ident = id(array)
    del array, view
    assert ident not in store._DIGESTS


def test_a_box_cut_again_from_a_sealed_array_finds_the_stored_result_and_another_box_does_not(monkeypatch):
    crop = np.arange(120.0).reshape(10, 12).copy()  # owning its memory: its boxes are keyed by where they lie
    crop.flags.writeable = False
    assert store.sealed(crop[2:5, 3:7])
    owners: list[int] = []
    owner = store._owner

    def counted_owner(view):
        owners.append(1)
        return owner(view)

    monkeypatch.setattr(store, "_owner", counted_owner)
    calls = []

    def total(box: np.ndarray) -> float:
        calls.append(1)
        return float(box.sum())

    first = store.memo("test_box", (crop[2:5, 3:7],), lambda: total(crop[2:5, 3:7]))
    again = store.memo("test_box", (crop[2:5, 3:7],), lambda: total(crop[2:5, 3:7]))  # a new view of the same box
    other = store.memo("test_box", (crop[2:5, 3:8],), lambda: total(crop[2:5, 3:8]))
    shifted = store.memo("test_box", (crop[3:6, 3:7],), lambda: total(crop[3:6, 3:7]))  # the same shape elsewhere
    assert len(calls) == 3 and again == first == float(crop[2:5, 3:7].sum())
    assert other == float(crop[2:5, 3:8].sum()) and shifted == float(crop[3:6, 3:7].sum())
    assert owners  # the boxes were keyed by their place in the sealed crop, not hashed byte by byte
    twin = crop.copy()
    twin[3, 4] += 1.0
    twin.flags.writeable = False  # another sealed array, other bytes in the same box: never the first one's result
    assert store.memo("test_box", (twin[2:5, 3:7],), lambda: total(twin[2:5, 3:7])) == first + 1.0


def test_threads_asking_for_the_same_key_at_once_compute_it_once():
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow() -> int:
        calls.append(1)
        started.set()
        release.wait(5)
        return 42

    key = (np.arange(9),)
    store.clear()
    results = []
    first = threading.Thread(target=lambda: results.append(store.memo("test_once", key, slow)))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=lambda: results.append(store.memo("test_once", key, slow)))
    second.start()
    second.join(0.2)
    assert second.is_alive()  # it waits for the first thread's result rather than computing its own
    release.set()
    first.join(5)
    second.join(5)
    assert results == [42, 42] and len(calls) == 1


def test_a_failed_computation_is_not_stored_and_the_next_caller_computes_again():
    key = (np.arange(4),)

    def fails() -> int:
        raise RuntimeError("no result")

    with pytest.raises(RuntimeError, match="no result"):
        store.memo("test_failed", key, fails)
    assert store.memo("test_failed", key, lambda: 7) == 7
