"""Lifespan aging without diffusion: each target age rendered by the classical zone renderer.

Every zone goes to the score this hub's age curves give for the target age, and the whole
face's skin texture and tone move by the age gap as a share of the lifespan. Wrinkles and
skin only: the classical renderer cannot change the face's shape.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.core.settings import Settings
from engine.methods.ldla.curves import scores_for_age
from engine.methods.ldla.pipeline import LocatedFace, ZoneEdit, edit_zones

LIFESPAN_YEARS = 80.0  # the age gap is a share of this, so the skin amount stays within [-1, 1]


def render_lifespan(
    rgb: np.ndarray,
    located: LocatedFace,
    source_age: float,
    targets: list[float],
    seed: int,
    settings: Settings | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> list[ZoneEdit]:
    """One zone edit of the located face per target age, in order, all with `seed`."""
    edits = []
    for number, target in enumerate(targets):
        if progress:
            progress(number / len(targets), f"classical renderer, age {target:g}")
        skin = (target - source_age) / LIFESPAN_YEARS
        edits.append(
            edit_zones(
                rgb,
                scores_for_age(target),
                "classical",
                seed,
                source_age=source_age,
                located=located,
                settings=settings,
                skin=skin,
            )
        )
    return edits
