"""Checks on the values every task takes from a user: ages, gender, seed.

Each returns the value as the engine uses it, or raises InputError naming the bad
value and the accepted range (the ranges are declared once, in engine/core/limits.py).
Methods call them too (a Cradle2Cane source age is checked the same way whether it
came from the tab, the CLI or the harness).
"""

from __future__ import annotations

from engine.core.errors import InputError
from engine.core.limits import AGE, SEED

GENDERS = ("male", "female")


def check_age(age: float, name: str) -> float:
    """`age` as a float; `name` says which age in the message (e.g. "target age")."""
    return AGE.check(age, name)


def check_gender(gender: str) -> str:
    if gender not in GENDERS:
        raise InputError(f"gender must be one of {GENDERS}, got {gender!r}")
    return gender


def check_seed(seed: int) -> int:
    """A whole number in the seed range (an integral float, as a number field sends, counts)."""
    return int(SEED.check(seed, "seed"))
