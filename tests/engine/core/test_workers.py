"""Independent pieces of work on a few threads: results and errors come back as a plain loop gives them."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine.core import memo
from engine.core.settings import Settings
from engine.core.workers import ahead, available_cpus, cgroup_cpus, map_in_order, worker_count

pytestmark = pytest.mark.unit


def test_results_come_back_in_the_items_order_whichever_finishes_first():
    def slow_first(item: int) -> int:
        time.sleep(0.05 if item == 0 else 0.0)  # the first item finishes last
        return item * item

    assert map_in_order(slow_first, [0, 1, 2, 3], workers=2) == [0, 1, 4, 9]
    assert map_in_order(slow_first, [0, 1, 2, 3], workers=1) == [0, 1, 4, 9]
    assert map_in_order(slow_first, [], workers=2) == []


def test_two_workers_run_at_the_same_time():
    both = threading.Barrier(2, timeout=5)

    def meet(item: int) -> int:
        both.wait()  # returns only once the other item is running too
        return item

    assert map_in_order(meet, [1, 2], workers=2) == [1, 2]


def test_the_first_error_in_order_is_raised_as_the_loop_raises_it():
    def fails_late_and_early(item: int) -> int:
        if item == 1:
            time.sleep(0.1)  # the first failure in order is the last to happen
            raise ValueError(f"bad item {item}")
        if item == 2:
            raise ValueError(f"bad item {item}")
        return item

    for workers in (1, 2):
        with pytest.raises(ValueError, match="bad item 1"):
            map_in_order(fails_late_and_early, [0, 1, 2, 3], workers=workers)


def test_progress_is_reported_in_order_on_the_callers_thread():
    seen: list[tuple[int, str]] = []
    map_in_order(
        lambda item: item, [5, 6, 7], workers=2, waiting=lambda number: seen.append((number, threading.current_thread().name))
    )
    assert [number for number, _ in seen] == [0, 1, 2]
    assert {name for _, name in seen} == {threading.current_thread().name}


def test_the_store_is_off_in_the_threads_when_the_caller_turned_it_off():
    key = (np.arange(7),)
    memo.clear()
    with memo.disabled():
        map_in_order(lambda item: memo.memo("test_workers_store", key, lambda: item), [1, 2], workers=2)
    calls: list[int] = []

    def three() -> int:
        calls.append(1)
        return 3

    assert memo.memo("test_workers_store", key, three) == 3 and calls  # nothing was stored
    names: list[str] = []

    def stores(item: int) -> int:
        names.append(threading.current_thread().name)
        return memo.memo("test_workers_store_on", (np.arange(7), item), lambda: item)

    map_in_order(stores, [1, 2], workers=2)
    assert all(name != threading.current_thread().name for name in names)  # both ran on the pool's threads
    assert memo.memo("test_workers_store_on", (np.arange(7), 2), lambda: 9) == 2  # with it on, their results were kept


def test_the_worker_count_follows_the_setting_and_never_exceeds_the_items():
    assert worker_count(0, 100) == available_cpus()
    assert worker_count(3, 2) == 2
    assert worker_count(1, 9) == 1
    assert worker_count(0, 0) == 1
    with pytest.raises(ValueError, match="0 .as many as there are CPUs. or more, got -1"):
        worker_count(-1, 9)
    with pytest.raises(ValueError, match="at least one worker thread is needed, got 0"):
        map_in_order(lambda item: item, [1], workers=0)


def test_the_setting_is_read_from_the_environment_and_checked(monkeypatch):
    monkeypatch.setenv("HUB_CLASSICAL_WORKERS", "1")
    assert Settings.from_env().classical_workers == 1
    monkeypatch.setenv("HUB_CLASSICAL_WORKERS", "-2")
    with pytest.raises(
        ValueError, match="HUB_CLASSICAL_WORKERS must be 0 .as many as there are CPUs. or a number of threads, got -2"
    ):
        Settings.from_env()
    monkeypatch.setenv("HUB_CLASSICAL_WORKERS", "1.5")
    with pytest.raises(ValueError, match="HUB_CLASSICAL_WORKERS must be a whole number"):
        Settings.from_env()


def test_work_done_ahead_runs_beside_the_block_and_is_waited_for_at_its_end():
    both = threading.Barrier(2, timeout=5)
    done: list[str] = []

    def work() -> None:
        both.wait()  # returns 0 or 1 (its place at the barrier): `wait() or append` skipped the append on 1
        done.append("ahead")

    with ahead(work):
        both.wait()  # returns only once the work ahead is running beside this block
    assert done == ["ahead"]  # the block's end waited for it
    with ahead(None):
        pass


def test_work_done_ahead_that_fails_is_dropped_for_its_reader_to_raise():
    def fails() -> None:
        raise RuntimeError("not now")

    with ahead(fails):
        value = 1
    assert value == 1


def test_work_done_ahead_keeps_the_store_off_where_the_caller_turned_it_off():
    key = (np.arange(11),)
    memo.clear()
    with memo.disabled(), ahead(lambda: memo.memo("test_ahead_store", key, lambda: 1)):
        pass
    assert memo.memo("test_ahead_store", key, lambda: 2) == 2  # nothing was stored


def test_a_control_groups_cpu_quota_caps_the_cpus(tmp_path):
    (tmp_path / "cpu.max").write_text("200000 100000\n")  # cgroup v2: two CPUs' worth of time per period
    assert cgroup_cpus(tmp_path) == 2
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # one and a half: two threads use it
    assert cgroup_cpus(tmp_path) == 2
    (tmp_path / "cpu.max").write_text("max 100000\n")  # no quota
    assert cgroup_cpus(tmp_path) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpus(v1) == 1
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")  # v1's "no quota"
    assert cgroup_cpus(v1) is None
    assert cgroup_cpus(tmp_path / "missing") is None
    (tmp_path / "cpu.max").write_text("garbled\n")
    assert cgroup_cpus(tmp_path) is None
