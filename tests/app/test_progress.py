"""The lifespan tab's progress bar: one bar from the first age to the last file written, never going back."""

from __future__ import annotations

import pytest

import demos.lifespan

pytestmark = pytest.mark.app


def test_the_lifespan_bar_moves_forward_over_the_ages_then_the_files(images):
    told: list[tuple[float, str]] = []
    demos.lifespan.run(
        str(images["astronaut"]),
        "Lifespan",
        36,
        "10, 70",
        "",
        "estimate",
        0,
        "",
        True,
        progress=lambda fraction, desc=None: told.append((fraction, desc)),
    )
    fractions = [fraction for fraction, _ in told]
    # the files' own bar started again from 0 after the ages': it read as the job restarting
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1
    messages = [message for _, message in told]
    last_age = max(index for index, message in enumerate(messages) if "age" in message and "writing" not in message)
    assert messages.index("writing the images at 10 years") > last_age  # the ages first, then their files
    assert messages[-1] == "results written"
