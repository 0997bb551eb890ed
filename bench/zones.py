"""Local zone benchmarks: the classical renderer on all zones of a 512 px face (target <= 300 ms on
2 CPU cores), and the diffusion renderer's time per zone on a GPU when one is present.

    .venv/bin/python -m bench.zones
"""

from __future__ import annotations

import json
import statistics

from bench.timing import run_times

RUNS = 20


def _portrait():
    from skimage import data

    return data.astronaut()


def classical(runs: int = RUNS) -> dict:
    from engine.core.settings import Settings
    from engine.faces.zones import ZONES
    from engine.methods.ldla.pipeline import edit_zones, locate

    settings = Settings(profile="offline")
    image = _portrait()
    located = locate(image, settings)
    targets = {zone: 90.0 for zone in ZONES}
    edit_zones(image, targets, source_age=20, located=located, settings=settings)  # warm-up
    renders, seeds = [], iter(range(runs))

    def edit() -> None:
        renders.append(
            edit_zones(image, targets, seed=next(seeds), source_age=20, located=located, settings=settings).timings["render_s"]
        )

    totals = run_times(edit, runs)
    return {
        "zones": len(ZONES),
        "face_px": 512,
        "render_all_zones_p50_ms": round(1000 * statistics.median(renders), 1),
        "with_paste_back_p50_ms": round(1000 * statistics.median(totals), 1),
        "target_ms": 300,
        "runs": runs,
    }


def diffusion_gpu(runs: int = 5) -> dict:
    import torch

    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device: run `python -m bench.zones` on a GPU machine"}
    from bench.lifespan import real_architecture
    from engine.core.settings import Settings
    from engine.methods.ldla.pipeline import crop_box, locate
    from engine.methods.ldla.renderers import DiffusionRenderer

    renderer = DiffusionRenderer(real_architecture().pipe, resolution=512)
    located = locate(_portrait(), Settings(profile="offline"))
    zone = located.zones["forehead"]
    crop = crop_box(located.crop, zone.box)
    renderer.render(crop, zone, zone.polygon, 100.0, 0, 80, 0)
    seeds = iter(range(runs))
    times = run_times(lambda: renderer.render(crop, zone, zone.polygon, 100.0, 0, 80, next(seeds)), runs, torch.cuda.synchronize)
    return {"device": torch.cuda.get_device_name(), "seconds_per_zone_p50": round(statistics.median(times), 4), "runs": runs}


def main() -> None:
    print(json.dumps({"classical_cpu": classical(), "diffusion_gpu": diffusion_gpu()}, indent=1))


if __name__ == "__main__":
    main()
