"""The deploy check's own preconditions, without installing anything."""

from __future__ import annotations

import re
import shutil

import pytest

from space.check import CheckFailed, check_room

pytestmark = pytest.mark.unit


def test_a_disk_too_full_for_the_fresh_environment_is_named_with_what_it_has(tmp_path):
    free_gb = shutil.disk_usage(tmp_path).free / 1e9
    with pytest.raises(
        CheckFailed, match=rf"{re.escape(str(tmp_path))} has [\d.]+ GB free; the fresh environment needs about \d+ GB"
    ):
        check_room(tmp_path, needs_gb=free_gb + 1000)
    check_room(tmp_path, needs_gb=0.001)  # room enough: nothing said
