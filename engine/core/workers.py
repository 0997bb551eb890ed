"""Independent pieces of work run on a few threads at once, their results in order.

The classical renderer draws each target of a strip (and each pluralistic future) on its own: the targets share
nothing but the face's read-only inputs, and its stages spend most of their time in OpenCV and numpy calls that
release the GIL, so two threads on two cores render a strip in about two thirds of the time (bench
lifespan_classical_cpu). The results are the same as one after another: every target draws its noise from its own
seed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from engine.core import memo

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity where the system says, else the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


def worker_count(setting: int, items: int) -> int:
    """Threads for `items` pieces of work: `setting` (0: `available_cpus()`), never more than the pieces."""
    if setting < 0:
        raise ValueError(f"the number of worker threads must be 0 (as many as there are CPUs) or more, got {setting}")
    return max(min(setting or available_cpus(), items), 1)


def map_in_order(
    function: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    waiting: Callable[[int], None] | None = None,
) -> list[R]:
    """[function(item) for item in items], up to `workers` at once on threads; the results in the items' order, and
    an error raised as the loop would raise it (the first item's in order; the items not yet started are dropped).
    The per-face store (engine/core/memo.py) is on or off in the threads as it is in the caller. `waiting(number)`,
    where given, is called on the caller's thread before it waits for item `number`, in order (a progress bar)."""
    if workers < 1:
        raise ValueError(f"at least one worker thread is needed, got {workers}")
    stored = memo.enabled()

    def run(item: T) -> R:
        if stored:
            return function(item)
        with memo.disabled():
            return function(item)

    if workers == 1 or len(items) < 2:
        results = []
        for number, item in enumerate(items):
            if waiting:
                waiting(number)
            results.append(run(item))
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="classical") as pool:
        futures = [pool.submit(run, item) for item in items]
        try:
            results = []
            for number, future in enumerate(futures):
                if waiting:
                    waiting(number)
                results.append(future.result())
            return results
        finally:
            for future in futures:
                future.cancel()


@contextmanager
def ahead(function: Callable[[], object] | None) -> Iterator[None]:
    """Runs `function` (None: nothing) on a thread of its own while the block runs, the per-face store on or off in it
    as it is here, and waits for it at the block's end. It is for work that fills the per-face store ahead of the
    code that reads it: that code waits for a result being computed rather than compute it again, and computes it
    itself where this failed, so what `function` raises is logged and dropped (the reader raises it again)."""
    if function is None:
        yield
        return
    stored = memo.enabled()

    def run() -> None:
        try:
            if stored:
                function()
            else:
                with memo.disabled():
                    function()
        except Exception:  # noqa: BLE001 - the reader computes the same and raises it there
            logger.debug("work done ahead failed; it is done again where it is read", exc_info=True)

    thread = threading.Thread(target=run, name="classical-ahead", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
