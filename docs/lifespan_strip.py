"""Regenerate docs/lifespan-classical.jpg: the classical renderer's lifespan of the two packaged portraits.

.venv/bin/python docs/lifespan_strip.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from any folder

from engine.core.media import strip  # noqa: E402 - after the path set-up above
from engine.core.settings import Settings  # noqa: E402
from engine.tasks.lifespan import LifespanRequest, age_photo, strip_labels  # noqa: E402
from evaluation.benchmarks import offline_benchmark  # noqa: E402

TARGETS = [5, 10, 20, 30, 50, 70, 80]
OUT = Path(__file__).resolve().parent / "lifespan-classical.jpg"


def main() -> None:
    settings = Settings(profile="offline")
    rows = []
    for item in offline_benchmark().inputs[:2]:  # the astronaut and Grace Hopper
        output = age_photo(LifespanRequest(item.rgb, TARGETS, seed=0, renderer="classical", read_ages=False), settings)
        rows.append(strip([output.source_face, *output.faces], strip_labels(output), height=224))  # as the tab's strip
    Image.fromarray(np.concatenate(rows, axis=0)).save(OUT, quality=88)
    print(OUT)


if __name__ == "__main__":
    main()
