"""Serving lifespan aging: photo -> face -> source age -> Cradle2Cane or the classical renderer -> faces,
paste-back, strip, animation.

The tab, the CLI, the harness and the API all build a `LifespanRequest` (checked once, on creation)
and call `age_photo`. GPU work runs inside a GPU scope (`spaces.GPU` on a ZeroGPU Space, a plain call
elsewhere) that asks for the seconds `lifespan_seconds` computes from the targets.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from engine.age.estimators import SourceAgeGender, source_age_gender
from engine.core.checks import (
    check_flag,
    check_gender,
    check_seed,
    parse_age,
    parse_face_index,
    parse_optional_age,
    parse_prompt_words,
)
from engine.core.errors import InputError
from engine.core.gpu import gpu_scope, gpu_seconds
from engine.core.images import check_rgb
from engine.core.limits import AGE, MAX_FACES_AGED, MAX_TARGETS, quote
from engine.core.media import strip, strip_frames, write_mp4
from engine.core.provenance import SOFTWARE, face_suffix, file_stem, png_info, save_png
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.faces.alignment import align_face, faces_on_their_side, faces_or_why_not
from engine.faces.detection import MIN_FACE_PX, Face, FaceRefusal, NoFaceError
from engine.faces.territory import pasted_within_own
from engine.methods.classical.aging import GROWTH_END_YEARS, growth_strain
from engine.methods.classical.lifespan import IN_ONE_LINE as CLASSICAL_IN_ONE_LINE  # noqa: F401 - the tab's banner
from engine.methods.classical.lifespan import SUMMARY as CLASSICAL_SUMMARY
from engine.methods.classical.lifespan import TOO_SMALL_TO_AGE, AgedFace, listed_ages, render_lifespan, stage_warnings
from engine.methods.classical.youth import child_scales
from engine.methods.ldla.pipeline import LocatedFace, locate
from engine.tasks.readings import estimated_ages, far_from_given, off_targets
from engine.tasks.renderers import (
    CLASSICAL_CHECKPOINT,
    RECEDING_NEEDS_CLASSICAL,
    FoundFace,
    check_chosen,
    check_renderer,
    choose_renderer,
    find_face,
)

LIFESPAN_PRESET = (5, 10, 20, 30, 40, 50, 60, 70, 80)

FRAMINGS = ("face", "photo")  # the strip and the animation show the aligned face, or the whole photo as framed
STRIP_HEIGHT = {"face": 256, "photo": 512}  # px per image: a face fills its tile, a photo's face is smaller in it

METHOD = "Cradle2Cane (two-pass SDXL-Turbo)"

CLASSICAL_METHOD = "classical renderer (data-free lifespan model: hair greying, skin, wrinkles, sagging, child growth)"


def parse_targets(targets) -> list[float]:
    """Target ages from one age (a number or its text), text such as "20, 40 60" (spaces or commas between
    ages: the tab's box and the CLI's --targets), or a list of ages (numbers or their text). Each age is read
    by the ages' one parser (engine/core/checks.py), and a message quotes what was given."""
    parts: list
    if isinstance(targets, str):
        parts = targets.replace(",", " ").split()
        entries = [entry.strip() for entry in targets.strip().strip(",").split(",")]
        if len(entries) > 1 and not all(entries):  # "10,,30": an age left out between two commas, not skipped
            raise InputError(f"target ages {quote(targets)} have an empty entry between commas: give an age in each")
    elif isinstance(targets, (list, tuple)) or isinstance(targets, np.ndarray) and targets.ndim == 1:
        parts = list(targets)
    elif isinstance(targets, (numbers.Real, np.bool_)):  # one age (a bool is refused by the age parser, named)
        parts = [targets]
    else:
        raise InputError(
            f"target ages must be an age, text such as '20, 40 60' or a list of ages {AGE.between()}, got {quote(targets)}"
        )
    if not parts:
        raise InputError(f"give at least one target age {AGE.between()}")
    if len(parts) > MAX_TARGETS:
        raise InputError(f"{len(parts)} target ages given; at most {MAX_TARGETS} per request (e.g. one every 5 years)")
    if isinstance(targets, str) and len(parts) > 1:
        values = []
        for part in parts:
            try:
                values.append(parse_age(part, "target age"))
            except InputError:
                raise InputError(
                    f"target age {quote(part)} in {quote(targets)} is not a number {AGE.between()}: "
                    "give ages separated by spaces or commas"
                ) from None
        return values
    # one age: as it was given (its own text quoted, a trailing comma or not)
    return [parse_age(part.strip() if isinstance(targets, str) else part, "target age") for part in parts]


def parse_source_age(text: str | float | None) -> float | None:
    """None or empty text means "estimate it"; anything else must be an age (a number or its text)."""
    return parse_optional_age(text, "source age")


@dataclass
class LifespanRequest:
    """One lifespan request, checked on creation: every field is as the engine uses it afterwards."""

    # Typed as the engine reads them once checked; creating one also takes one age for targets (60 or "60")
    # and the text a form's boxes give (targets "20, 40 60", source age "33" or "": estimated, face index "1" or
    # "": the largest), which __post_init__ parses. The on/off options take True or False only.
    rgb: np.ndarray  # (H, W, 3) uint8
    targets: list[float]  # target ages 0-80
    source_age: float | None = None  # the chosen face's (all_faces: the others' are estimated); None: estimated
    gender: str | None = None  # "male" or "female", the chosen face's; None: estimated
    seed: int = 0
    extra_prompt: str | None = None  # an extra attribute, e.g. "grey hair" (diffusion renderer only)
    paste: bool = True  # paste each aged face back into the photo
    face_index: int | None = None  # in the detector's order (0: the largest, as the age tab numbers faces); None: the largest
    renderer: str = "auto"  # auto, diffusion or classical
    # age every detected face (classical renderer), the chosen one first (face_index None: the largest that can be
    # aged); False: only the chosen face
    all_faces: bool = False
    receding_hairline: bool = False  # the hairline and temples recede with age (classical renderer; for men)
    framing: str = "face"  # the strip and the animation: "face" (aligned crops) or "photo" (the photo's own framing)
    # each output read by the hub's age estimator (engine/tasks/readings.py: a face found in the photo and its age, about
    # 25-60 ms a target on 2 CPUs, by photo), and a warning where an age read lies far from the age asked; False: not read
    # (the evaluation harness scores them itself)
    read_ages: bool = True

    def __post_init__(self) -> None:
        check_rgb(self.rgb)
        self.targets = parse_targets(self.targets)
        repeated = sorted({t for t in self.targets if self.targets.count(t) > 1})
        if repeated:
            raise InputError(f"target ages given more than once: {listed_ages(repeated)}; give each age once")
        # each target is named as written to 6 significant digits (its images' files, labels, manifest entries):
        # two that read the same there would overwrite each other
        labels = [f"{t:g}" for t in self.targets]
        alike = sorted({label for label in labels if labels.count(label) > 1})
        if alike:
            same = [", ".join(f"{t:.15g}" for t in self.targets if f"{t:g}" == label) for label in alike]
            raise InputError(
                f"target ages {'; '.join(same)} all read {', '.join(alike)} to 6 digits, which names their images: "
                "give ages that differ there"
            )
        self.source_age = parse_source_age(self.source_age)
        if self.gender is not None:
            check_gender(self.gender)
        self.seed = check_seed(self.seed)
        if self.extra_prompt is not None and parse_prompt_words(self.extra_prompt, "the extra prompt") is None:
            raise InputError("the extra prompt is empty: leave it out or describe the attribute")
        self.paste = check_flag(self.paste, "paste")
        self.all_faces = check_flag(self.all_faces, "all_faces")
        self.receding_hairline = check_flag(self.receding_hairline, "receding_hairline")
        self.read_ages = check_flag(self.read_ages, "read_ages")
        if self.framing not in FRAMINGS:
            raise InputError(f"framing must be 'face' or 'photo', got {quote(self.framing)}")
        if self.framing == "photo" and not self.paste:
            raise InputError("framing 'photo' shows the aged faces pasted back into the photo: keep paste on, or use 'face'")
        if self.all_faces and not self.paste:
            raise InputError(
                "ageing every face shows the other faces only pasted back into the photo: keep paste on, or age one face"
            )
        self.face_index = parse_face_index(self.face_index)
        if check_renderer(self.renderer) != "auto":
            self.check_for(self.renderer)

    def check_for(self, renderer: str) -> None:
        """Refuse what `renderer` cannot draw (checked again once "auto" has chosen)."""
        if renderer == "diffusion" and self.all_faces:
            raise InputError("ageing every face in a group photo needs the classical renderer; choose one face instead")
        if renderer == "diffusion" and self.receding_hairline:
            raise InputError(RECEDING_NEEDS_CLASSICAL)
        if renderer == "classical" and self.extra_prompt:
            raise InputError(
                "an extra attribute prompt needs the diffusion renderer; the classical renderer draws only aging signs"
            )


@dataclass
class GroupFace:
    """One detected face of a photo aged with `all_faces`: aged from its own source age, or left as it is."""

    index: int  # the detector's order, the largest first (the age tab's "face" column; `face_index`)
    box: list[float]  # x0, y0, x1, y1 in the photo's pixels
    chosen: bool  # the face the request chose (`face_index`): its source age may be given; the strip shows it
    aged: bool  # False: refused (too small, upside down) or not landmarked, and left as it is (`warnings` says why)
    source_age: float | None = None  # None where it was not aged
    source_age_from: str | None = None  # "given" or "estimated"
    gender: str | None = None
    gender_from: str | None = None
    stages: list[dict[str, str]] = field(default_factory=list)  # the classical renderer's stages, one dict per target
    warnings: list[str] = field(default_factory=list)  # about this face alone (not prefixed with its number)

    def manifest(self, targets: list[float]) -> dict:
        return {
            "face": self.index,
            "box": self.box,
            "chosen": self.chosen,
            "aged": self.aged,
            "source_age": self.source_age,
            "source_age_from": self.source_age_from,
            "gender": self.gender,
            "gender_from": self.gender_from,
            "classical_stages": dict(zip((f"{t:g}" for t in targets), self.stages)),
            "warnings": self.warnings,
        }


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
    source_face: np.ndarray  # the chosen face as it is, aligned as the aged faces are: the strip's and animation's first frame
    source_photo: np.ndarray  # the photo as it is (the first frame at the photo's framing)
    # per target, what the age estimator reads in the chosen face's output (None: no face found there); None: not read
    # (`LifespanRequest.read_ages`)
    estimated_ages: list[float | None] | None
    models: dict
    timings: dict[str, float]
    unet_calls: int
    warnings: list[str] = field(default_factory=list)
    stages: list[dict[str, str]] = field(default_factory=list)  # classical renderer: what each stage did, per target
    framing: str = "face"  # what the strip and the animation show (see FRAMINGS)
    face_index: int = 0  # the chosen face, in the detector's order (0: the largest)
    group: list[GroupFace] = field(default_factory=list)  # all_faces: every detected face, in the detector's order

    def manifest(self) -> dict:
        diffusion = self.models.get("renderer") == "diffusion"
        return {
            "method": METHOD if diffusion else CLASSICAL_METHOD,
            "source_age": self.source_age,
            "source_age_from": self.source_age_from,
            "gender": self.gender,
            "gender_from": self.gender_from,
            "targets": self.targets,
            # the diffusion path's noise strengths and UNet calls: the classical renderer has neither (an empty list and a
            # 0 read as a run that did nothing)
            **({"strengths": self.strengths, "unet_calls": self.unet_calls} if diffusion else {}),
            "seeds": self.seeds,
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
            "models": self.models,
            "warnings": self.warnings,
            "framing": self.framing,
            "face": self.face_index,
            **(
                {"estimated_ages": [None if age is None else round(age, 1) for age in self.estimated_ages]}
                if self.estimated_ages is not None
                else {}
            ),
            **({"all_faces": [face.manifest(self.targets) for face in self.group]} if self.group else {}),
            **(
                {
                    "classical_changes": CLASSICAL_SUMMARY,
                    "classical_stages": dict(zip((f"{t:g}" for t in self.targets), self.stages)),
                }
                if self.stages
                else {}
            ),
            "ai_edited": True,
        }


def cradle2cane_seconds(
    pipeline, source_age: float, targets: list[float], extra_prompt: str | None = None, images: int = 0
) -> int:
    """GPU seconds for Cradle2Cane on `targets` (one item each): per item, the pass-1 steps its AdaNI
    strength runs and the pass-2 steps, and two images (pass 1 and pass 2) encoded and decoded; plus
    `images` more images encoded."""
    from engine.methods.cradle2cane.maths import adani_strength, denoising_steps  # noqa: PLC0415 - imports torch: called only once the pipeline (and torch) is loaded

    config = pipeline.config
    pass2 = denoising_steps(config.num_inference_steps, config.pass2_strength)
    steps = [
        denoising_steps(
            config.num_inference_steps,
            adani_strength(source_age, target, config.thresholds, config.one_threshold, extra_prompt is not None),
        )
        + pass2
        for target in targets
    ]
    return gpu_seconds(sum(steps), 2 * len(targets) + images)


def lifespan_seconds(pipeline, crop, source_age, gender, targets, seed=0, extra_prompt=None, progress=None) -> int:
    """GPU seconds for `run_pipeline` with these arguments (ZeroGPU calls it with them)."""
    return cradle2cane_seconds(pipeline, source_age, targets, extra_prompt)


@gpu_scope(lifespan_seconds)
def run_pipeline(pipeline, crop, source_age, gender, targets, seed, extra_prompt, progress):
    source = pipeline.encode_source(crop)
    return pipeline(source, source_age, gender, targets, seed, extra_prompt, progress)


@dataclass
class _Rendered:
    """What a renderer made of every target."""

    faces: list[np.ndarray]
    pass1: list[np.ndarray]
    photos: list[np.ndarray] | None
    source_face: np.ndarray  # the aligned crop the faces were made from
    read_from: list[np.ndarray]  # each aged face pasted back into the photo, whether or not the request shows them
    strengths: list[float]
    seeds: list[int]
    unet_calls: int
    timings: dict[str, float]
    checkpoint: str
    method: dict = field(default_factory=dict)  # effective method settings, their sources, the scheduler
    stages: list[dict[str, str]] = field(default_factory=list)  # the classical renderer's stages, per target
    warnings: list[str] = field(default_factory=list)
    group: list[GroupFace] = field(default_factory=list)  # all_faces: every detected face


def age_photo(
    request: LifespanRequest,
    settings: Settings | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> LifespanOutput:
    """Every target age of the chosen face, by the request's renderer (auto: diffusion where it loads)."""
    settings = settings or get_settings()
    # 1. the renderer first: a missing model is the most useful thing to say
    renderer, why = choose_renderer(request.renderer, settings)
    check_chosen(request, renderer, why)
    notes = [f"{why}: the classical renderer is used; {CLASSICAL_SUMMARY}."] if why else []
    pipeline = get_cache(settings).get("lifespan") if renderer == "diffusion" else None
    start = time.perf_counter()
    # 2. the face; 3. its source age and gender, from the estimator unless given. Every face is aged when all_faces
    # asks: the largest that can be aged is then chosen by its number, so no warning says that only it is used
    found, chosen, faces, lying = _chosen_face(request, renderer, settings)
    given = [name for name, value in (("source age", request.source_age), ("gender", request.gender)) if value is not None]
    if chosen != (request.face_index or 0) and given:  # every face asked for, and the largest could not be aged
        notes.append(
            f"The {' and '.join(given)} given {'is' if len(given) == 1 else 'are'} used for face {chosen}, the largest "
            "face that can be aged; "
            "choose a face by its number to give them for another."
        )
    source = source_age_gender(request.rgb, found.face, request.source_age, request.gender, settings)
    # with every face aged, the given age is the chosen face's: said of it, as its other warnings are
    notes += [_about(chosen, far) if request.all_faces else far for far in far_from_given(source)]
    timings = {"analysis_s": time.perf_counter() - start}
    # 4. every target
    if found.located is None:  # the diffusion renderer: the face alone
        rendered = _diffusion(request, pipeline, found, source, progress)
    else:  # the classical renderer: the face with its zones
        rendered = _classical(request, found, chosen, faces, lying, source, settings, progress)
    timings.update(rendered.timings)
    # 5. what the hub's own age estimator reads in each output (said, never searched against)
    ages: list[float | None] | None = None
    readings: list[str] = []
    if request.read_ages:
        if progress is not None:  # a lifespan's readings take a few hundred ms
            progress(1.0, "reading each output's age")
        read_start = time.perf_counter()
        ages = estimated_ages(found.face, rendered.read_from, settings)
        readings = off_targets(ages, request.targets)
        timings["reading_s"] = time.perf_counter() - read_start
    timings["total_s"] = time.perf_counter() - start
    return LifespanOutput(
        source_age=source.age,
        gender=source.gender,
        source_age_from=source.age_from,
        gender_from=source.gender_from,
        targets=list(request.targets),
        strengths=rendered.strengths,
        seeds=rendered.seeds,
        faces=rendered.faces,
        pass1=rendered.pass1,
        photos=rendered.photos,
        source_face=rendered.source_face,
        source_photo=request.rgb,
        estimated_ages=ages,
        models={"profile": settings.profile, "renderer": renderer, "checkpoint": rendered.checkpoint, **rendered.method},
        timings=timings,
        unet_calls=rendered.unet_calls,
        # all_faces: the chosen face's own warnings are among every face's, named by its number
        # the readings are the chosen face's: with every face aged, named by its number, after every face's warnings and
        # before their summary (the last)
        warnings=notes + found.warnings + rendered.warnings + readings
        if not rendered.group
        else notes + rendered.warnings[:-1] + [_about(chosen, reading) for reading in readings] + rendered.warnings[-1:],
        stages=rendered.stages,
        framing=request.framing,
        face_index=chosen,
        group=rendered.group,
    )


def _diffusion(request: LifespanRequest, pipeline, found: FoundFace, source: SourceAgeGender, progress) -> _Rendered:
    """Cradle2Cane: every target in one batch per pass; each pasted within the face's own part of the photo."""
    aligned = align_face(request.rgb, found.face, pipeline.config.resolution)
    result = run_pipeline(
        pipeline, aligned.crop, source.age, source.gender, request.targets, request.seed, request.extra_prompt, progress
    )
    faces = [item.image for item in result.items]
    pasted = (
        [pasted_within_own(request.rgb, image, aligned.matrix, found.face, found.others) for image in faces]
        if request.paste or request.read_ages
        else []
    )
    return _Rendered(
        faces=faces,
        pass1=[item.pass1 for item in result.items],
        photos=pasted if request.paste else None,
        source_face=aligned.crop,
        read_from=pasted,
        strengths=[item.strength for item in result.items],
        seeds=[item.seed for item in result.items],
        unet_calls=result.unet_calls,
        timings=dict(result.timings),
        checkpoint=pipeline.checkpoint,
        method=pipeline.manifest(),
    )


def _chosen_face(
    request: LifespanRequest, renderer: str, settings: Settings
) -> tuple[FoundFace, int, list[Face], list[tuple[Face, str]]]:
    """The face the request ages (or ages first, with `all_faces`), its number, the faces every face is aged from
    (with `all_faces` the photo's, found once here; else the chosen one), and with `all_faces` the faces lying on their
    side, which are left as they are (`faces_on_their_side`: each with how the photo must be turned): the face asked
    for, else the largest; with `all_faces` and none asked for, the largest that can be aged (a face before it that is
    refused or cannot be landmarked is left as it is, and `_every_face` says why). None can: the largest one's error,
    and how many were tried."""
    if not request.all_faces:
        found = find_face(request.rgb, renderer, request.face_index, settings)
        return found, request.face_index or 0, [found.face], []
    detector = get_cache(settings).get("face_detector")
    faces = faces_or_why_not(detector, request.rgb)
    lying = faces_on_their_side(detector, request.rgb, faces)
    beside = tuple(face for face, _ in lying)
    if request.face_index is not None:
        found = find_face(request.rgb, renderer, request.face_index, settings, faces, beside)
        return found, request.face_index, faces, lying
    largest: NoFaceError | None = None
    for index in range(len(faces)):
        try:
            return find_face(request.rgb, renderer, index, settings, faces, beside), index, faces, lying
        except NoFaceError as error:
            largest = largest or error
    assert largest is not None  # faces_or_why_not found at least one face, and each failed
    if len(faces) < 2:
        raise largest
    raise NoFaceError(f"None of the {len(faces)} faces found can be aged. The largest (face 0): {largest}") from largest


def _classical(
    request: LifespanRequest,
    found: FoundFace,
    chosen: int,
    faces: list[Face],
    lying: list[tuple[Face, str]],
    source: SourceAgeGender,
    settings: Settings,
    progress,
) -> _Rendered:
    """The classical renderer at the age curves' zone scores of each target (engine/methods/classical/lifespan.py);
    with `all_faces`, every other one of `faces` (the photo's, as `_chosen_face` found them) too, pasted into the same
    photos (`chosen`: the number of `found`), and each face of `lying` (on its side) named, left as it is."""
    start = time.perf_counter()
    located = found.located
    assert located is not None  # the classical renderer's face comes with its zones
    share = 1.0 / len(faces)  # of the progress bar, per face
    edits = _render(request, located, source, settings, _scaled(progress, 0, share, ""))
    photos = [edit.photo for edit in edits]
    group = []
    if not request.all_faces:
        warnings = (
            stage_warnings(request.targets, edits)
            + hairline_warning(request.receding_hairline, source)
            + growth_warning(source, request.targets)
        )
    else:
        beside = tuple(face for face, _ in lying)
        group = _every_face(request, faces, chosen, found, source, edits, photos, settings, progress, beside)
        # every face's warnings (the chosen face's, its zones' included) named by its number: faces may say the same
        warnings = [_about(face.index, warning) for face in group for warning in face.warnings]
        warnings += [_lying_left(face, how) for face, how in lying]
        aged = [face for face in group if face.aged]
        warnings.append(
            f"{FACES_AGED}: {len(aged)} of {len(group)} ("
            + "; ".join(f"face {face.index}: source age {face.source_age:g}, {face.source_age_from}" for face in aged)
            + ")."
        )
    return _Rendered(
        stages=[edit.stages for edit in edits],
        warnings=warnings,
        faces=[edit.after for edit in edits],
        pass1=[],
        photos=photos if request.paste else None,
        source_face=located.crop,
        read_from=photos,
        strengths=[],
        seeds=[request.seed] * len(request.targets),
        unet_calls=0,
        timings={"render_s": time.perf_counter() - start},
        checkpoint=CLASSICAL_CHECKPOINT,
        group=group,
    )


# the summary of a group photo's faces (the last of its warnings): information, not a warning (the tab shows it as such)
FACES_AGED = "Faces aged"


def hairline_kept(receding: bool, source: SourceAgeGender, chosen: bool = True) -> str:
    """ "" or why the receding hairline asked for is not drawn on a face: it is men's pattern hair loss (Norwood), so a
    face whose gender (given, or the estimator's) is not male keeps its hairline. The gender given is the chosen
    face's: another face of a group photo is told to be chosen first."""
    if not receding or source.gender == "male":
        return ""
    how = "give the gender as male" if chosen else "choose this face by its number and give the gender as male"
    return (
        f"the face's gender is {source.gender} ({source.gender_from}) and the receding hairline is men's pattern hair "
        f"loss; {how} to recede it"
    )


def hairline_warning(receding: bool, source: SourceAgeGender, chosen: bool = True) -> list[str]:
    """The user's warning where a receding hairline was asked for (`receding`) and the face keeps its hairline."""
    kept = hairline_kept(receding, source, chosen)
    return [f"Hairline left as it is: {kept}."] if kept else []


# A head grown less than this is not told of: the nose and mouth of an adult the estimator reads at 15-17 (a common
# misreading) grow 0.3-1.6 % toward 30 (youth.child_scales), about FaceMesh's own noise on a landmark (0.01 inter-ocular
# distances) and a pixel or two of a 512 px face's mouth; read at 14, 2.6 %
GROWTH_TOLD = 0.02


def growth_warning(source: SourceAgeGender, targets: list[float], chosen: bool = True) -> list[str]:
    """The user's warning where the estimator's source age is a child's and an older target grows the head as a child's
    photo grows (the classical renderer's craniofacial growth run forwards: the chin lowered, the nose and mouth
    enlarged) by GROWTH_TOLD or more: a young-looking adult read as a child would have a grown face grown again. None
    where the source age was given; `chosen` False: another face of a group photo, chosen by its number to give its age."""
    if source.age_from != "estimated":
        return []
    grown = {target: _grown_by(source.age, target) for target in sorted(set(targets)) if growth_strain(source.age, target) > 0}
    told = {target: by for target, by in grown.items() if by >= GROWTH_TOLD}
    if not told:
        return []
    give = "give the source age" if chosen else "choose this face by its number and give its source age"
    return [
        f"The face's age was estimated at {source.age:g}, under {GROWTH_END_YEARS:g}: at {listed_ages(list(told))} its "
        f"head is grown as a child's grows (the chin lowered, the nose and mouth up to {max(told.values()):.0%} larger). "
        f"If the person is {GROWTH_END_YEARS:g} or older, {give}."
    ]


def _grown_by(source_age: float, target: float) -> float:
    """How much larger a child's photo's nose or mouth is drawn at `target` (youth.child_scales), the larger."""
    scales = child_scales(source_age, target)
    return max(scales.nose_height, scales.nose_width, scales.mouth_width) - 1.0


def _render(
    request: LifespanRequest,
    located: LocatedFace,
    source: SourceAgeGender,
    settings: Settings,
    progress: Callable[[float, str], None] | None,
    chosen: bool = True,
    into: list[np.ndarray] | None = None,
) -> list[AgedFace]:
    """One face rendered at every target from `source`, its hairline receding where asked and the face is a man's
    (`hairline_kept` says why not, in each target's stages); `chosen`: the face the request's gender is given for;
    `into`: the photos, one per target, it is pasted into (the request's photo where not given)."""
    kept = hairline_kept(request.receding_hairline, source, chosen)
    edits = render_lifespan(
        request.rgb,
        located,
        source.age,
        request.targets,
        request.seed,
        settings,
        progress,
        request.receding_hairline and not kept,
        into,
    )
    if kept:
        for edit in edits:
            edit.stages["hairline"] = f"receding_hairline skipped: {kept}"
    return edits


def _about(index: int, warning: str) -> str:
    """`warning` named by its face's number, unless it names the face already."""
    return warning if warning.startswith(f"Face {index} ") else f"Face {index}: {warning}"


def _lying_left(face: Face, how: str) -> str:
    """The warning naming a face lying on its side (`faces_on_their_side`), left as it is: how to turn the photo to age
    it, or, where it is too small to age, its size (turned, it would be refused all the same)."""
    found = f"A face lying on its side (box {face.box_text()} px) is left unchanged: the detector finds it only with the photo turned {how}"
    width = face.box[3]  # lying on its side, the face's width is its box's height in the photo
    if width < MIN_FACE_PX:
        return f"{found}, and about {width:.0f} px wide it is too small to age (at least {MIN_FACE_PX} px wide)."
    return f"{found}. To age it, turn the photo {how}."


def _every_face(
    request: LifespanRequest,
    faces: list[Face],
    chosen: int,
    found: FoundFace,
    source: SourceAgeGender,
    edits: list[AgedFace],
    photos: list[np.ndarray],
    settings: Settings,
    progress,
    beside: tuple[Face, ...] = (),
) -> list[GroupFace]:
    """Every detected face of the photo, the chosen one as already aged (`edits`) and each other one aged in place in
    `photos` (one per target) from its own estimated source age and gender; a face too small for the renderer
    (`TOO_SMALL_TO_AGE`), upside down, or that FaceMesh cannot landmark is left as it is, and says so."""
    group = []
    share = 1.0 / len(faces)  # of the progress bar, per face: the chosen face's came first
    # the chosen face and the largest others that can be aged (the detector numbers them largest first), MAX_FACES_AGED
    # in all: a face left unchanged (too small, upside down) takes no place
    places = MAX_FACES_AGED - 1
    for index, face in enumerate(faces):
        box = face.box_xyxy()
        if index != chosen and places == 0:
            warning = (
                f"Face {index} (box {face.box_text()}) is left unchanged: at most {MAX_FACES_AGED} faces are aged per request "
                "(the largest; the server's queue is shared). Choose it by its number to age it."
            )
            group.append(GroupFace(index=index, box=box, chosen=False, aged=False, warnings=[warning]))
            continue
        if index == chosen:
            group.append(
                _aged_face(
                    index,
                    box,
                    True,
                    source,
                    request.targets,
                    edits,
                    found.warnings
                    + hairline_warning(request.receding_hairline, source)
                    + growth_warning(source, request.targets),
                )
            )
            continue
        try:
            # the faces found once, for every face
            located = locate(request.rgb, settings, index, faces, too_small_for=TOO_SMALL_TO_AGE, beside=beside)
        except NoFaceError as error:
            # a refusal (too small, upside down, on its side) says what is wrong with the face, naming its box, without
            # its advice ("use a larger photo", "turn the photo"), which is not for a photo whose other faces are fine
            if isinstance(error, FaceRefusal):
                warning = f"Face {index} is left unchanged: {error.finding}"
            else:  # the error says why, without the face's box
                warning = f"Face {index} (box {face.box_text()}) is left unchanged: {error}"
            group.append(GroupFace(index=index, box=box, chosen=False, aged=False, warnings=[warning]))
            continue
        places -= 1
        estimated = source_age_gender(request.rgb, face, None, None, settings)
        position = index + 1 if index < chosen else index
        step = _scaled(progress, share * position, share, f"face {index}: ")
        aged = _render(request, located, estimated, settings, step, chosen=False, into=photos)
        photos[:] = [edit.photo for edit in aged]
        group.append(
            _aged_face(
                index,
                box,
                False,
                estimated,
                request.targets,
                aged,
                located.warnings
                + hairline_warning(request.receding_hairline, estimated, chosen=False)
                + growth_warning(estimated, request.targets, chosen=False),
            )
        )
    return group


def _aged_face(
    index: int,
    box: list[float],
    chosen: bool,
    source: SourceAgeGender,
    targets: list[float],
    edits: list[AgedFace],
    warnings: list[str],
) -> GroupFace:
    """The manifest's record of one face aged to `targets` (`edits`) from `source`; `warnings`: its locating's."""
    return GroupFace(
        index=index,
        box=box,
        chosen=chosen,
        aged=True,
        source_age=source.age,
        source_age_from=source.age_from,
        gender=source.gender,
        gender_from=source.gender_from,
        stages=[edit.stages for edit in edits],
        warnings=warnings + stage_warnings(targets, edits),
    )


def _scaled(
    progress: Callable[[float, str], None] | None, start: float, share: float, prefix: str
) -> Callable[[float, str], None] | None:
    """`progress` for one face's part of the bar: `share` of it from `start`, its messages led by `prefix`."""
    if progress is None:
        return None
    report = progress
    return lambda fraction, message: report(start + share * fraction, prefix + message)


def provenance(output: LifespanOutput, target: float | None = None):
    """PNG text chunks for one lifespan image (or the strip when `target` is None)."""
    fields = {}
    seed = None
    if target is not None:
        fields["TargetAge"] = f"{target:g}"
        seed = output.seeds[output.targets.index(target)]
    return png_info(output.manifest()["method"], output.models["checkpoint"], seed, output.manifest(), **fields)


def strip_labels(output: LifespanOutput) -> list[str]:
    """The strip's and animation's labels: the face (or photo) as it is comes first, so that the strip, and an animation
    of one age too, shows before and after ("source: 41 y"), then each age ("10 y"). A group photo at its own framing
    with several faces aged is "source": one face's age under a photo of three people read as wrong (each face's is in
    the manifest)."""
    several = sum(face.aged for face in output.group) > 1
    source = "source" if output.framing == "photo" and several else f"source: {output.source_age:.0f} y"
    return [source] + [f"{t:g} y" for t in output.targets]


def save_outputs(
    output: LifespanOutput, folder: Path, stem: str = "aged", progress: Callable[[float, str], None] | None = None
) -> dict[str, list[str] | str]:
    """Write every image as PNG with provenance, the strip, a GIF and an MP4 of the lifespan; `progress` is told the
    share of the files written and what is being written (a 9-age lifespan's 22 files took about 1-2 s on CPU, long
    enough to look stuck)."""
    # an upload's name: cut to a length every file system holds, without path separators; the chosen face's number
    # where it is not the largest, unless every face was aged (the photos show them all)
    stem = file_stem(stem) + face_suffix(0 if output.group else output.face_index)
    # (key, file suffix, images): pass1 holds the diffusion renderer's AdaNI intermediates (none from the classical one)
    every = (("faces", "face", output.faces), ("pass1", "pass1", output.pass1), ("photos", "photo", output.photos))
    kinds = [(key, suffix, found) for key, suffix, found in every if found]
    images: dict[str, list[str]] = {"faces": [], "photos": [], "pass1": []}
    total = sum(len(found) for _, _, found in kinds) + 3  # the images, then the strip, GIF and MP4
    done = 0

    def writing(what: str) -> None:
        if progress is not None:
            progress(done / total, f"writing {what}")

    for index, target in enumerate(output.targets):
        writing(f"the images at {target:g} years")
        for key, suffix, found in kinds:
            path = folder / f"{stem}_{target:g}_{suffix}.png"
            images[key].append(save_png(found[index], path, provenance(output, target)))
            done += 1
    written: dict[str, list[str] | str] = {**images}
    labels = strip_labels(output)
    if output.framing == "photo" and output.photos is not None:
        shown = [output.source_photo, *output.photos]
    else:
        shown = [output.source_face, *output.faces]
    height = STRIP_HEIGHT[output.framing]
    writing("the strip")
    written["strip"] = save_png(strip(shown, labels, height), folder / f"{stem}_strip.png", provenance(output))
    done += 1
    frames = [Image.fromarray(frame) for frame in strip_frames(shown, labels, height)]
    path = folder / f"{stem}_lifespan.gif"
    writing("the GIF")
    frames[0].save(
        path,
        save_all=True,
        append_images=frames[1:],
        duration=600,
        loop=0,
        comment=f"AI-edited: {output.manifest()['method']}, {SOFTWARE}".encode(),
    )
    written["gif"] = str(path)
    done += 1
    writing("the MP4")
    written["mp4"] = str(write_mp4(frames, folder / f"{stem}_lifespan.mp4"))
    if progress is not None:
        progress(1.0, "results written")
    return written
