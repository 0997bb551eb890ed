"""Checks on the values every task takes from a user: ages, gender, seed, on/off options, a face's number.

Each returns the value as the engine uses it, or raises InputError naming the bad
value and the accepted range (the ranges are declared once, in engine/core/limits.py).
Methods call them too (a Cradle2Cane source age is checked the same way whether it
came from the tab, the CLI or the harness).
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

from engine.core.errors import InputError
from engine.core.limits import AGE, PROMPT_WORDS_CHARS, SEED, quote

GENDERS = ("male", "female")
# A number typed as text: plain decimal digits (ASCII), a sign, a point. Python's float() and int() also read "1_0" as
# 10 and full-width or other scripts' digits as ASCII ones, so a typo became another age silently
DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)


def check_age(age: float, name: str) -> float:
    """`age` as a float; `name` says which age in the message (e.g. "target age")."""
    return AGE.check(age, name)


def parse_age(value, name: str) -> float:
    """An age given as a number or as the text a form's box sends ("33", " 60 "), as a float.

    The one parser of ages every task uses (lifespan, pluralistic, zones), so a text age means the same
    everywhere. A bool, other text, NaN or an age outside the range is refused, the message quoting the
    value as it was given.
    """
    return _parse_age(value, name, "")


def parse_optional_age(value, name: str) -> float | None:
    """As `parse_age`, with None or empty text meaning "not given" (None: the task estimates it)."""
    if value is None or isinstance(value, str) and not value.strip():
        return None
    return _parse_age(value, name, " or empty")


def _parse_age(value, name: str, alternative: str) -> float:
    rule = f"{name} must be a number {AGE.between()}{alternative}"
    if isinstance(value, str):
        if not DECIMAL.fullmatch(value.strip()):
            raise InputError(f"{rule}, got {quote(value)}")
        number = float(value.strip())
        if not (math.isfinite(number) and AGE.low <= number <= AGE.high):
            raise InputError(f"{AGE.describe(name)}, got {quote(value)}")
        return AGE.check(number, name)  # as a number given is (-0 is 0)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InputError(f"{rule}, got {quote(value)}")
    return AGE.check(value, name)


def check_flag(value, name: str) -> bool:
    """An on/off option as a bool: True or False only, so that text such as "no" is not read as on."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be true or false, got {quote(value)}")
    return bool(value)


def parse_prompt_words(value, name: str) -> str | None:
    """Words a request adds to a prompt, stripped; None where none are given (None or blank): text of at most
    PROMPT_WORDS_CHARS characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, got {quote(value)}")
    text = value.strip()
    if len(text) > PROMPT_WORDS_CHARS:
        raise InputError(f"{name} must be a few words, at most {PROMPT_WORDS_CHARS} characters; got {len(text)}: {quote(text)}")
    return text or None


def check_gender(gender: str) -> str:
    if gender not in GENDERS:
        raise InputError(f"gender must be one of {GENDERS}, got {gender!r}")
    return gender


def check_seed(seed: int) -> int:
    """A whole number in the seed range (an integral float, as a number field sends, counts)."""
    return int(SEED.check(seed, "seed"))


def number_in(text: str) -> int | float | None:
    """The number `text` writes (surrounding spaces aside): a whole number exact, however large, as an int; a decimal as a
    float; None for anything else (other text, or more digits than Python reads as a whole number:
    sys.get_int_max_str_digits)."""
    stripped = text.strip()
    if not DECIMAL.fullmatch(stripped):
        return None
    try:
        return int(stripped) if stripped.lstrip("+-").isdigit() else float(stripped)
    except ValueError:
        return None


def parse_face_index(value: int | float | str | None) -> int | None:
    """Which face of a photo, in the detector's order (0: the largest): None or empty text means "the largest"; anything
    else must be a whole number from 0 (as text too, or a whole float, as a form's number box may send it). A whole
    number stays exact, however large, so a message quotes it as given."""
    if value is None or isinstance(value, str) and value.strip() == "":
        return None
    number = number_in(value) if isinstance(value, str) else value
    if isinstance(number, numbers.Integral) and not isinstance(number, (bool, np.bool_)):
        if number < 0:
            raise InputError(f"face index must be a whole number from 0 (the largest face), got {quote(value)}")
        return int(number)
    whole = float(number) if isinstance(number, numbers.Real) and not isinstance(number, (bool, np.bool_)) else math.nan
    if not math.isfinite(whole) or whole < 0 or whole != int(whole):
        raise InputError(f"face index must be a whole number from 0 (the largest face), got {quote(value)}")
    return int(whole)
