"""Checks on the values every task takes from a user: ages, gender, seed.

Each returns the value as the engine uses it, or raises InputError naming the bad
value and the accepted range. Methods call them too (a Cradle2Cane source age is
checked the same way whether it came from the tab, the CLI or the harness).
"""

from __future__ import annotations

import math
import numbers

from engine.core.errors import InputError

OLDEST = 80  # the top age every method and estimator of the hub covers

GENDERS = ("male", "female")


def check_age(age: float, name: str, oldest: float = OLDEST) -> float:
    """`age` as a float; `name` says which age in the message (e.g. "target age")."""
    if isinstance(age, bool) or not isinstance(age, numbers.Real) or math.isnan(age) or not 0 <= age <= oldest:
        raise InputError(f"{name} must be an age between 0 and {oldest:g}, got {age!r}")
    return float(age)


def check_gender(gender: str) -> str:
    if gender not in GENDERS:
        raise InputError(f"gender must be one of {GENDERS}, got {gender!r}")
    return gender


def check_seed(seed: int) -> int:
    """A whole number (an integral float, as a number field sends, counts)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Real) or not float(seed).is_integer():
        raise InputError(f"seed must be a whole number, got {seed!r}")
    return int(seed)
