"""Errors by type: what the user can fix, as opposed to a bug.

`UserError` (and its kinds, `InputError` here and `NoFaceError` in engine/faces/detection.py)
is bad input the user can fix: its message names the bad value and what to do, and the
tabs and the CLI show it as it is. `ModelUnavailable` (engine/core/models.py) is the other
error a user meets, a model that cannot be built here; it is a RuntimeError, kept apart.
Anything else is a bug: the tabs log it with its traceback and say so; the CLI lets it
propagate.
"""

from __future__ import annotations


class UserError(ValueError):
    """Bad input the user can fix; the message names the bad value and what to do."""


class InputError(UserError):
    """Bad user input (a file, a value); the message says what is wrong and what to do."""


class SettingsError(UserError):
    """An environment variable the hub reads holds a value it cannot take; the message names the variable and the value."""
