"""Target age -> zone scores: the age curves the classical renderer and the assumed current scores follow."""

from __future__ import annotations

from engine.faces.zones import (
    ZONE_TYPES,
)

# Target age -> zone score: a documented heuristic, not the paper's clinical atlases
# (which are not public): each zone type starts to show lines at `onset` years and
# reaches 100 % at `full`, along (age - onset) / (full - onset) to the power gamma.
AGE_CURVES = {
    "forehead": (20, 80, 1.0),
    "glabella": (25, 80, 1.0),
    "crow's feet": (25, 75, 0.9),
    "under-eye": (20, 75, 1.0),
    "inter-ocular": (35, 85, 1.2),
    "nasolabial": (20, 75, 0.8),
    "upper lip": (40, 85, 1.2),
    "lip corner": (35, 80, 1.0),
}


def scores_for_age(age: float) -> dict[str, float]:
    """Zone scores (0-100 %) that the heuristic curves give for an age."""
    if not 0 <= age <= 120:
        raise ValueError(f"age must be between 0 and 120, got {age}")
    scores = {}
    for zone, kind in ZONE_TYPES.items():
        onset, full, gamma = AGE_CURVES[kind]
        progress = min(max((age - onset) / (full - onset), 0.0), 1.0)  # the curve is flat before onset and after full
        scores[zone] = float(round(100.0 * progress**gamma))  # whole percent, as the sliders step
    return scores
