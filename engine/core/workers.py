"""Independent pieces of work run on a few threads at once, their results in order.

The classical renderer draws each target of a strip (and each pluralistic future) on its own: the targets share
nothing but the face's read-only inputs, and its stages spend most of their time in OpenCV and numpy calls that
release the GIL, so two threads on two cores render a strip in about two thirds of the time (bench
lifespan_classical_cpu). The results are the same as one after another: every target makes its own random
generators from the request's seed, and shares nothing it writes to.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from engine.core import memo

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


CGROUP = Path("/sys/fs/cgroup")  # where Linux shows the process's control group (a container's CPU quota)


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity where the system says (else the machine's count), no more than
    its control group's CPU quota allows (a container, such as a Space's, can see a host's cores but be given two)."""
    if hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count() or 1
    quota = cgroup_cpus()
    return max(min(count, quota) if quota is not None else count, 1)


def cgroup_cpus(root: Path = CGROUP) -> int | None:
    """The CPUs a control group's quota allows, rounded up (cgroup v2's cpu.max "quota period", or v1's
    cpu.cfs_quota_us and cpu.cfs_period_us); None where there is no quota or nothing to read."""
    try:
        v2 = root / "cpu.max"
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
            return None if quota == "max" else max(math.ceil(float(quota) / float(period)), 1)
        v1 = root / "cpu"
        if (v1 / "cpu.cfs_quota_us").is_file():
            quota_us = float((v1 / "cpu.cfs_quota_us").read_text())
            period_us = float((v1 / "cpu.cfs_period_us").read_text())
            return None if quota_us <= 0 else max(math.ceil(quota_us / period_us), 1)
    except (OSError, ValueError, ZeroDivisionError):
        return None
    return None


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
    calls = [memo.as_here(functools.partial(function, item)) for item in items]
    if workers == 1 or len(items) < 2:
        return _in_order(calls, waiting)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="worker") as pool:
        futures = [pool.submit(call) for call in calls]
        try:
            return _in_order([future.result for future in futures], waiting)
        except BaseException:
            for future in futures:  # the items not yet started
                future.cancel()
            raise


def _in_order(results: list[Callable[[], R]], waiting: Callable[[int], None] | None) -> list[R]:
    """Each of `results` called in turn (a computation, or a wait for one), `waiting(number)` before each."""
    out = []
    for number, result in enumerate(results):
        if waiting:
            waiting(number)
        out.append(result())
    return out


@contextmanager
def ahead(function: Callable[[], object] | None) -> Iterator[None]:
    """Runs `function` (None: nothing) on a thread of its own while the block runs, the per-face store on or off in it
    as it is here, and waits for it at the block's end. It is for work that fills the per-face store ahead of the
    code that reads it: that code waits for a result being computed rather than compute it again, and computes it
    itself where this failed, so what `function` raises is logged and dropped (the reader raises it again)."""
    if function is None:
        yield
        return
    call = memo.as_here(function)

    def run() -> None:
        try:
            call()
        except Exception:  # noqa: BLE001 - the reader computes the same and raises it there
            logger.debug("work done ahead failed; it is done again where it is read", exc_info=True)

    thread = threading.Thread(target=run, name="ahead", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
