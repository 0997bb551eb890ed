"""Regenerate docs/zones-classical.jpg: the classical renderer's zone editing (LDLA) on the two packaged portraits.

Per portrait: its twelve zones outlined, the aligned face, every zone aged to 100 %, every zone smoothed to 0 %
(current scores assumed from the estimated age: no ScoreNet ships with the hub).

.venv/bin/python docs/zones_strip.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from any folder

from engine.core.media import strip  # noqa: E402 - after the path set-up above
from engine.core.settings import Settings  # noqa: E402
from engine.tasks.zones import ZONES, ZonesRequest, edit_zones, find_zones  # noqa: E402
from evaluation.benchmarks import offline_benchmark  # noqa: E402

SCORES = [100, 0]  # every zone aged fully, every zone smoothed fully
MARGIN = 0.12  # of the zones' extent, kept around them so the face's outline shows
OUT = Path(__file__).resolve().parent / "zones-classical.jpg"


def zones_box(masks) -> tuple[slice, slice]:
    """The square around every zone (with MARGIN), where the edits are: the aligned face's middle at a
    size its creases show at."""
    ys, xs = np.nonzero(np.logical_or.reduce(list(masks)))
    size = max(ys.max() - ys.min(), xs.max() - xs.min()) * (1 + 2 * MARGIN)
    cy, cx = (ys.max() + ys.min()) / 2, (xs.max() + xs.min()) / 2
    top, left = int(max(0, cy - size / 2)), int(max(0, cx - size / 2))
    return slice(top, top + int(size)), slice(left, left + int(size))


def main() -> None:
    settings = Settings(profile="offline")
    rows = []
    for item in offline_benchmark().inputs[:2]:  # the astronaut and Grace Hopper
        found = find_zones(item.rgb, settings)
        edits = [
            edit_zones(ZonesRequest(item.rgb, dict.fromkeys(ZONES, float(score)), "classical", seed=0), settings)
            for score in SCORES
        ]
        images = [found.outlined, found.located.crop, *(edit.after for edit in edits)]
        box = zones_box(found.located.masks.values())
        labels = ["zones", f"source, {found.source_age} y", *(f"all zones {score} %" for score in SCORES)]
        rows.append(strip([image[box] for image in images], labels, height=320))
    Image.fromarray(np.concatenate(rows, axis=0)).save(OUT, quality=88)
    print(OUT)


if __name__ == "__main__":
    main()
