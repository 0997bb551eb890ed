"""Local zone editing (LDLA): the task API behind the zones tab and `python -m engine zones`.

`find_zones` locates the face and its twelve zones and says each zone's current score;
`edit_zones` renders the zones whose target differs (engine/methods/ldla/pipeline.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.age.estimators import age_estimator
from engine.core.settings import Settings
from engine.faces.zones import ZONES, draw_zones
from engine.methods.ldla.pipeline import LocatedFace, ZoneEdit, edit_zones, locate, save_outputs, zone_scores_now

__all__ = ["ZONES", "ZoneEdit", "ZoneFinding", "edit_zones", "find_zones", "save_outputs"]


@dataclass
class ZoneFinding:
    located: LocatedFace
    outlined: np.ndarray  # the aligned face with its zones drawn
    source_age: int  # estimated, in whole years (the tab's age field steps by years)
    current: dict[str, float]  # each zone's current score, 0-100
    current_from: str  # where the current scores come from (given, measured or assumed)


def find_zones(rgb: np.ndarray, settings: Settings | None = None) -> ZoneFinding:
    """The face's zones outlined, with every zone's current score and where it comes from."""
    located = locate(rgb, settings)
    age = round(age_estimator(settings).estimate(rgb, [located.face])[0].age)
    current, source = zone_scores_now(rgb, located, age, None, settings)
    return ZoneFinding(located, draw_zones(located.crop, located.zones, located.masks), age, current, source)
