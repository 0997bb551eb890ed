"""Serving lifespan aging: photo -> face -> source age -> Cradle2Cane -> faces, paste-back, strip, animation.

The tab and the CLI both call `age_photo`. GPU work runs inside `gpu_task`, which is
`spaces.GPU` on a ZeroGPU Space and a plain call elsewhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from engine.core.media import strip, write_mp4
from engine.core.models import ModelUnavailable
from engine.core.provenance import SOFTWARE, png_info
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.faces.alignment import align_face, paste_back
from engine.faces.detection import choose_face

LIFESPAN_PRESET = (5, 10, 20, 30, 40, 50, 60, 70, 80)


METHOD = "Cradle2Cane (two-pass SDXL-Turbo)"


CLASSICAL_METHOD = "classical renderer (procedural zone aging along age curves)"


try:  # ZeroGPU Spaces lend a GPU per decorated call; elsewhere the decorator is absent
    import spaces

    gpu_task = spaces.GPU(duration=60)
except ImportError:  # not on a Space

    def gpu_task(function):
        return function


@dataclass
class LifespanOutput:
    source_age: float
    gender: str
    source_age_from: str  # "given" or "estimated"
    gender_from: str
    targets: list[float]
    strengths: list[float]
    seeds: list[int]
    faces: list[np.ndarray]  # aligned aged faces, one per target
    pass1: list[np.ndarray]
    photos: list[np.ndarray] | None  # each aged face pasted back into the photo
    models: dict
    timings: dict[str, float]
    unet_calls: int
    warnings: list[str] = field(default_factory=list)

    def manifest(self) -> dict:
        return {
            "method": METHOD if self.models.get("renderer") == "diffusion" else CLASSICAL_METHOD,
            "source_age": self.source_age,
            "source_age_from": self.source_age_from,
            "gender": self.gender,
            "gender_from": self.gender_from,
            "targets": self.targets,
            "strengths": self.strengths,
            "seeds": self.seeds,
            "unet_calls": self.unet_calls,
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
            "models": self.models,
            "warnings": self.warnings,
            "ai_edited": True,
        }


def parse_targets(targets: list[float] | str) -> list[float]:
    """Target ages from a list or text like "20, 40 60"; each must be 0-80."""
    if isinstance(targets, str):
        parts = targets.replace(",", " ").split()
        try:
            targets = [float(part) for part in parts]
        except ValueError:
            raise ValueError(f"target ages must be numbers between 0 and 80, got {targets!r}") from None
    if not targets:
        raise ValueError("give at least one target age between 0 and 80")
    return [float(t) for t in targets]


@gpu_task
def run_pipeline(pipeline, crop, source_age, gender, targets, seed, extra_prompt, progress):
    source = pipeline.encode_source(crop)
    return pipeline(source, source_age, gender, targets, seed, extra_prompt, progress)


def lifespan_renderer(settings: Settings | None = None) -> tuple[str, str]:
    """("diffusion" or "classical", why): Cradle2Cane where its models load, else the classical renderer."""
    cache = get_cache(settings)
    if not cache.in_profile("lifespan"):
        return "classical", f"Cradle2Cane is not part of the {cache.settings.profile!r} profile"
    try:
        cache.get("lifespan")
    except ModelUnavailable as error:
        return "classical", f"Cradle2Cane could not load: {error}"
    return "diffusion", "Cradle2Cane (two-pass SDXL-Turbo)"


def age_photo(
    rgb: np.ndarray,
    targets: list[float],
    source_age: float | None = None,
    gender: str | None = None,
    seed: int = 0,
    extra_prompt: str | None = None,
    paste: bool = True,
    face_index: int | None = None,
    renderer: str = "auto",
    settings: Settings | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> LifespanOutput:
    """Every target age of the chosen face; `renderer` is diffusion, classical or auto (diffusion where it loads)."""
    settings = settings or get_settings()
    cache = get_cache(settings)
    # 1. the renderer first: a missing model is the most useful thing to say
    notes = []
    if renderer == "auto":
        renderer, why = lifespan_renderer(settings)
        if renderer == "classical":
            notes.append(f"{why}: the classical renderer is used (wrinkles and skin only; it cannot change face shape).")
    if renderer not in ("diffusion", "classical"):
        raise ValueError(f"renderer must be auto, diffusion or classical, got {renderer!r}")
    if renderer == "classical" and extra_prompt:
        raise ValueError("an extra attribute prompt needs the diffusion renderer; the classical renderer draws only aging signs")
    pipeline = cache.get("lifespan") if renderer == "diffusion" else None
    start = time.perf_counter()
    # 2. find and align the face
    if pipeline is not None:
        face, warnings = choose_face(cache.get("face_detector").detect(rgb), face_index)
        aligned = align_face(rgb, face, pipeline.config.resolution)
    else:
        from engine.methods.ldla.pipeline import locate

        located = locate(rgb, settings, face_index)
        face, warnings = located.face, located.warnings
    # 3. source age and gender from the estimator unless given
    age_from = "given" if source_age is not None else "estimated"
    gender_from = "given" if gender is not None else "estimated"
    if source_age is None or gender is None:
        from engine.age.estimators import age_estimator

        estimate = age_estimator(settings).estimate(rgb, [face])[0]
        source_age = round(estimate.age) if source_age is None else source_age
        gender = estimate.gender if gender is None else gender
    timings = {"analysis_s": time.perf_counter() - start}
    warnings = notes + warnings
    # 4. every target: Cradle2Cane, or the classical renderer at the curves' zone scores
    if pipeline is not None:
        result = run_pipeline(pipeline, aligned.crop, float(source_age), gender, targets, seed, extra_prompt, progress)
        timings.update(result.timings)
        faces, pass1 = [item.image for item in result.items], [item.pass1 for item in result.items]
        strengths, seeds, unet_calls = [item.strength for item in result.items], [item.seed for item in result.items], result.unet_calls
        photos = [paste_back(rgb, image, aligned.matrix) for image in faces] if paste else None
        models = {"profile": settings.profile, "renderer": "diffusion", "checkpoint": pipeline.checkpoint}
    else:
        from engine.methods.cradle2cane.maths import check_age
        from engine.methods.ldla.curves import scores_for_age
        from engine.methods.ldla.pipeline import edit_zones

        for target in targets:
            check_age(target, "target age")
        repeated = sorted({t for t in targets if list(targets).count(t) > 1})
        if repeated:
            raise ValueError(f"target ages repeat: {repeated}; each target is generated once")
        edits = []
        for number, target in enumerate(targets):
            if progress:
                progress(number / len(targets), f"classical renderer, age {target:g}")
            skin = (target - float(source_age)) / 80.0  # the age gap as a share of the lifespan, within [-1, 1]
            edits.append(edit_zones(rgb, scores_for_age(target), "classical", seed, source_age=float(source_age),
                                    located=located, settings=settings, skin=skin))
        timings["render_s"] = time.perf_counter() - start - timings["analysis_s"]
        faces, pass1, strengths, seeds, unet_calls = [e.after for e in edits], [], [], [seed] * len(targets), 0
        photos = [e.photo for e in edits] if paste else None
        models = {"profile": settings.profile, "renderer": "classical", "checkpoint": "classical renderer (no weights)"}
    timings["total_s"] = time.perf_counter() - start
    return LifespanOutput(
        source_age=float(source_age),
        gender=gender,
        source_age_from=age_from,
        gender_from=gender_from,
        targets=[float(t) for t in targets],
        strengths=strengths,
        seeds=seeds,
        faces=faces,
        pass1=pass1,
        photos=photos,
        models=models,
        timings=timings,
        unet_calls=unet_calls,
        warnings=warnings,
    )


def provenance(output: LifespanOutput, target: float | None = None):
    """PNG text chunks for one lifespan image (or the strip when `target` is None)."""
    fields = {}
    seed = None
    if target is not None:
        fields["TargetAge"] = f"{target:g}"
        seed = output.seeds[output.targets.index(target)]
    return png_info(output.manifest()["method"], output.models.get("checkpoint"), seed, output.manifest(), **fields)


def save_outputs(output: LifespanOutput, folder: Path, stem: str = "aged") -> dict[str, list[str] | str]:
    """Write every image as PNG with provenance, the strip, a GIF and an MP4 of the lifespan."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[str] | str] = {"faces": [], "photos": [], "pass1": []}
    for index, target in enumerate(output.targets):
        tag = f"{stem}_{target:g}"
        path = folder / f"{tag}_face.png"
        Image.fromarray(output.faces[index]).save(path, pnginfo=provenance(output, target))
        written["faces"].append(str(path))
        if output.pass1:  # the diffusion renderer's AdaNI intermediates
            path = folder / f"{tag}_pass1.png"
            Image.fromarray(output.pass1[index]).save(path, pnginfo=provenance(output, target))
            written["pass1"].append(str(path))
        if output.photos is not None:
            path = folder / f"{tag}_photo.png"
            Image.fromarray(output.photos[index]).save(path, pnginfo=provenance(output, target))
            written["photos"].append(str(path))
    labels = [f"{t:g} y" for t in output.targets]
    path = folder / f"{stem}_strip.png"
    Image.fromarray(strip(output.faces, labels)).save(path, pnginfo=provenance(output))
    written["strip"] = str(path)
    frames = [Image.fromarray(tile) for tile in np.split(strip(output.faces, labels), len(output.targets), axis=1)]
    path = folder / f"{stem}_lifespan.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=600, loop=0,
                   comment=f"AI-edited: {output.manifest()['method']}, {SOFTWARE}".encode())
    written["gif"] = str(path)
    written["mp4"] = str(write_mp4(frames, folder / f"{stem}_lifespan.mp4"))
    return written
