"""Local zone aging (LDLA paper, "Locally Controlled Face Aging with Latent Diffusion Models").

For each zone whose target score differs from its current one (sec. 3.3, inference):
crop the zone -> render it at the target score -> blend it back through a feathered
mask; then an optional whole-face refiner pass at a very small strength, and the
face is pasted back into the photo. Pixels outside every changed zone's feathered
mask are returned exactly as they were.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from engine.age.estimators import source_age_gender
from engine.core.errors import InputError
from engine.core.limits import ZONE_SCORE
from engine.core.memo import memo
from engine.core.models import checkpoint_name
from engine.core.pixels import to_lab, to_uint8
from engine.core.provenance import file_stem, png_info, save_png
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.faces.alignment import align_face, change_at_photo_resolution, faces_or_why_not, paste_back, upsampling
from engine.faces.detection import Face, check_upright, choose_face, refuse_small_face
from engine.faces.landmarks import face_landmarks
from engine.faces.segmentation import brow_mask
from engine.faces.territory import others_than
from engine.faces.zones import (
    ZONES,
    Zone,
    build_zones,
    check_zone,
    draw_zones,
    exclusion_mask,
    face_hull,
    feathered,
    inter_ocular,
    support_box,
    zone_name,
)
from engine.methods.classical.aging import lightness_only, skin_median
from engine.methods.classical.hair import is_monochrome
from engine.methods.classical.youth import glasses_lenses, rejuvenate, young_skin_mask
from engine.methods.ldla.curves import scores_for_age

logger = logging.getLogger(__name__)

FACE_SIZE = 512
# The zone editor refuses a face under MIN_FACE_PX (`locate`'s too_small_for): the zones are edited on the face enlarged
# to FACE_SIZE px, and on the astronaut shrunk to faces 16 and 24 px wide, every zone at 100 %, the classical renderer's
# creases came out as sharp drawn lines across a blurred face (looked at; at 40 px the face is soft but whole). The line
# is the 40 px every size message asks for, as the classical lifespan renderer's is.
TOO_SMALL_TO_EDIT = f"the zone editor, which edits it enlarged to {FACE_SIZE} px, where creases on a face this small are sharp lines across a blur"

FEATHER = 0.05  # blend feather radius, in inter-ocular distances (chosen by looking at seams)

RENDERERS = ("classical", "diffusion")
CLASSICAL_WEIGHTS = "classical renderer (no weights)"
ZONES_MONOCHROME_NOTE = (  # the zone editor's manifest entry for a black-and-white photo
    "a black-and-white photo: every change acts on lightness only (creases and smoothing as shades of grey; the "
    "changes of hue alone, older skin's touch of yellow and younger skin's evened colour, are left out)"
)


def check_scores(scores: dict[str, float], what: str = "score") -> dict[str, float]:
    if not isinstance(scores, dict):
        raise InputError(f"{what}s must map zone names to scores (0-100 %), got {type(scores).__name__}")
    checked = {}
    for zone, score in scores.items():
        check_zone(zone)
        checked[zone] = ZONE_SCORE.check(score, f"{what} for {zone}")
    return checked


def check_renderer(name: str, refine: bool = False) -> str:
    if name not in RENDERERS:
        raise InputError(f"renderer must be 'classical' or 'diffusion', got {name!r}")
    if refine and name == "classical":
        raise InputError(f"the {name} renderer has no refiner pass: choose the diffusion renderer, or leave the refiner off")
    return name


@dataclass
class LocatedFace:
    """A face found, aligned to 512 px, with its FaceMesh points and zones (all in the aligned frame)."""

    rgb: np.ndarray
    face: Face  # as detected in the photo
    matrix: np.ndarray
    crop: np.ndarray
    points: np.ndarray
    zones: dict[str, Zone]
    masks: dict[str, np.ndarray]
    unplaceable: dict[str, str]
    warnings: list[str]
    soft: dict[tuple[str, float], np.ndarray] = field(default_factory=dict, repr=False)  # feathered masks, made once
    # (size, size) float32: 1 where the crop shows the photo, 0 on the padding beyond its edge (alignment.pad_neutral);
    # None: the crop lies within the photo
    inside: np.ndarray | None = None
    # the photo's other faces the detector found: the face's edits stay off their parts of it (engine/faces/territory.py)
    others: tuple[Face, ...] = ()

    def feathered_mask(self, zone: str, radius: float) -> np.ndarray:
        """The zone's mask (or "skin": `skin_mask`) feathered by `radius` px, computed once per face: a lifespan
        strip edits the same face at every target."""
        key = (zone, round(radius, 3))
        if key not in self.soft:
            mask = feathered(skin_mask(self) if zone == "skin" else self.masks[zone], radius)
            mask.flags.writeable = False  # every target of a strip reads it, on several threads at once
            self.soft.setdefault(key, mask)
        return self.soft[key]


def locate(
    rgb: np.ndarray,
    settings: Settings | None = None,
    face_index: int | None = None,
    faces: list[Face] | None = None,
    too_small_for: str | None = None,
    beside: tuple[Face, ...] = (),
) -> LocatedFace:
    """The face at `face_index` (default: the largest) aligned, landmarked and zoned; `faces`: the detector's faces of
    `rgb` where they were found already (a group photo's every face), else they are found here. `too_small_for`: the
    method that refuses a face under MIN_FACE_PX and what it makes of one (detection.refuse_small_face; TOO_SMALL_TO_EDIT,
    the classical renderer's TOO_SMALL_TO_AGE), checked before the landmarks, the cheapest refusal first. `beside`: faces
    of the photo the detector found only turned (alignment.faces_on_their_side), the face's neighbours too."""
    cache = get_cache(settings)
    every = faces_or_why_not(cache.get("face_detector"), rgb) if faces is None else faces
    face, warnings = choose_face(every, face_index)
    if too_small_for is not None:
        refuse_small_face(face, too_small_for)
    aligned = align_face(rgb, face, FACE_SIZE)
    # a failure says what is wrong with the face
    points = face_landmarks(cache.get("face_mesh"), aligned.crop, face, aligned.matrix)
    check_upright(cache.get("face_detector"), aligned.crop, face, aligned.matrix)  # FaceMesh places points on one upside down too
    zones, masks = build_zones(points, aligned.crop.shape[:2])
    unplaceable = unplaceable_zones(points, masks, aligned.matrix, rgb.shape[:2])
    if unplaceable:
        warnings.append(
            "Cannot place these wrinkle zones, left unchanged: "
            + "; ".join(f"{zone_name(zone)} ({reason})" for zone, reason in unplaceable.items())
            + ". A frontal photo with the whole face inside it shows every zone."
        )
    # the crop and points are read-only (every stage copies before changing): the per-face store hashes them once
    aligned.crop.flags.writeable = False
    points.flags.writeable = False
    inside = aligned.inside if aligned.inside is not None and aligned.inside.min() < 1 else None
    if inside is not None:
        inside.flags.writeable = False
    others = others_than(face, [*every, *beside])
    return LocatedFace(
        rgb, face, aligned.matrix, aligned.crop, points, zones, masks, unplaceable, warnings, inside=inside, others=others
    )


def unplaceable_zones(
    points: np.ndarray, masks: dict[str, np.ndarray], matrix: np.ndarray, shape: tuple[int, int]
) -> dict[str, str]:
    """Zones cut by the photo's border, hidden by a turned head, or left with no skin to edit."""
    reasons = {}
    inverse = cv2.invertAffineTransform(matrix)
    height, width = shape
    nose, right, left = points[1, 0], points[33, 0], points[263, 0]
    balance = (nose - right) / max(left - nose, 1e-6)  # 1 for a frontal face
    for zone, mask in masks.items():
        box = support_box(mask)  # the mask's pixels are listed within its box only (the same pixels, in the same order)
        if box is None:
            reasons[zone] = "no visible skin there"
            continue
        ys, xs = np.nonzero(mask[box])
        ys, xs = ys + box[0].start, xs + box[1].start
        if len(xs) < 20:
            reasons[zone] = "no visible skin there"
            continue
        original = np.stack([xs, ys], 1) @ inverse[:, :2].T + inverse[:, 2]
        outside = np.mean((original[:, 0] < 0) | (original[:, 1] < 0) | (original[:, 0] >= width) | (original[:, 1] >= height))
        if outside > 0.1:
            reasons[zone] = f"{outside:.0%} outside the photo"
        elif zone.endswith("_right") and balance < 0.45 or zone.endswith("_left") and balance > 1 / 0.45:
            reasons[zone] = "the head is turned away from it"
    return reasons


@dataclass
class ZoneEdit:
    photo: np.ndarray | None  # the whole photo, edited; None when the caller asked for the aligned face only
    before: np.ndarray  # the aligned face before
    after: np.ndarray  # the aligned face after (with `resolve=False` and `unresolved` set: its raised zones and older skin
    # at the crop's resolution, for the caller to low-pass)
    located: LocatedFace
    current: dict[str, float]
    current_source: str
    targets: dict[str, float]
    changed: list[str]
    renderer: str
    seed: int
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    renderer_settings: dict = field(default_factory=dict)  # prompt template, crop size, refiner (diffusion)
    # with `resolve=False`: the face the classical renderer's raised zones and older skin were drawn on, for a caller that
    # keeps its own later changes and these to the photo's pixels in one pass (None: none left to the caller, resolved
    # here or nothing to resolve)
    unresolved: np.ndarray | None = None

    @property
    def checkpoint(self) -> str:
        """The weights the edit was drawn with (the diffusion renderer's zone LoRA, or none), as outputs name them."""
        return self.renderer_settings.get("checkpoint") or CLASSICAL_WEIGHTS

    def manifest(self) -> dict:
        return {
            "method": "LDLA local zone aging",
            "renderer": self.renderer,
            "checkpoint": self.checkpoint,
            "renderer_settings": self.renderer_settings,
            "seed": self.seed,
            "current_scores": self.current,
            "current_scores_from": self.current_source,
            "target_scores": self.targets,
            "changed_zones": self.changed,
            "unplaceable_zones": self.located.unplaceable,
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
            "warnings": self.warnings,
            "ai_edited": True,
        }


def measure_scores(located: LocatedFace, scorenet) -> dict[str, float]:
    """Each placeable zone's score (0-100 %) as ScoreNet reads its crop."""
    import torch  # noqa: PLC0415 - torch loads on first use, not at start-up

    names = [zone for zone in ZONES if zone not in located.unplaceable]
    crops = [
        cv2.resize(crop_box(located.crop, located.zones[zone].box), (128, 128), interpolation=cv2.INTER_AREA) for zone in names
    ]
    batch = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255.0
    with torch.inference_mode():
        scores = scorenet(batch).numpy() * 100.0
    return {zone: float(round(score)) for zone, score in zip(names, scores)}


def zone_scores_now(
    rgb, located: LocatedFace, source_age: float | None, given: dict[str, float] | None, settings: Settings | None = None
) -> tuple[dict[str, float], str]:
    """(current score of every zone, where they come from): given ones first, then ScoreNet where one is
    loaded, then this hub's age curves at the given or estimated age (assumed, not measured)."""
    given = check_scores(given or {}, "current score")
    cache = get_cache(settings)
    measured = measure_scores(located, cache.get("scorenet")) if cache.available("scorenet") else {}
    unloaded = scorenet_unloaded(settings)
    if source_age is None and len({**measured, **given}) < len(ZONES):
        source_age = source_age_gender(rgb, located.face, settings=settings).age
    scores = {**(scores_for_age(source_age) if source_age is not None else {}), **measured, **given}
    parts = []
    if given:
        parts.append(f"given for {', '.join(sorted(given))}")
    if set(measured) - set(given):
        named = checkpoint_name("scorenet", settings or get_settings(), "a ScoreNet")
        parts.append(f"measured by ScoreNet ({named}) for " + ", ".join(sorted(set(measured) - set(given))))
    assumed = [z for z in ZONES if z not in given and z not in measured]
    if assumed:
        parts.append(
            f"assumed from age {source_age:.0f} by the heuristic curves (not measured) for "
            + ("every other zone" if parts else "every zone")
            + (f"; {unloaded}" if unloaded else "")
        )
    return scores, "; ".join(parts)


_told_unloaded: set[str] = set()  # ScoreNet load failures already logged (once per reason)


def scorenet_unloaded(settings: Settings | None) -> str:
    """Nothing ("") unless a ScoreNet is set (HUB_MODEL_DIR_SCORENET or HUB_MODEL_REPO_SCORENET) and cannot be loaded: then a
    sentence saying so for the page and the manifest, which name no server path (the log gives the reason, once): a
    wrong folder was passed over without a word, the scores assumed as if none were set."""
    settings = settings or get_settings()
    if "scorenet" not in settings.model_dirs and "scorenet" not in settings.model_repos:
        return ""
    cache = get_cache(settings)
    if cache.available("scorenet"):
        return ""
    reason = next((row.detail for row in cache.states() if row.spec.name == "scorenet"), "")
    if reason not in _told_unloaded:
        _told_unloaded.add(reason)
        logger.warning("the ScoreNet set could not be loaded, zone scores are assumed: %s", reason)
    return "the ScoreNet the settings name could not be loaded (the server's log says why)"


def crop_box(image: np.ndarray, box: tuple[int, int, int]) -> np.ndarray:
    """The square box, reflected where it leaves the image."""
    x, y, side = box
    height, width = image.shape[:2]
    pad = max(0, -x, -y, x + side - width, y + side - height)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101) if pad else image
    return padded[y + pad : y + pad + side, x + pad : x + pad + side].copy()


def _uncovered(covered: np.ndarray, radius: float) -> np.ndarray:
    """(H, W) float32: 0 in `covered` (bool) deeper than `radius` px from its edge, rising to 1 at its edge and beyond."""
    size = 2 * max(2, int(round(radius))) + 1
    core = cv2.erode(covered.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return np.where(covered, 1.0 - feathered(core, radius), 1.0).astype(np.float32)


def _blend(
    face: np.ndarray, rendered: np.ndarray, box: tuple[int, int, int], weight: np.ndarray, inplace: bool = False
) -> np.ndarray:
    """Blend a rendered crop into the face where `weight` (full-face, feathered) is above 0; `inplace`: into
    `face` itself (a caller that owns it), not a copy."""
    x, y, side = box
    height, width = face.shape[:2]
    canvas = face if inplace else face.copy()
    xs, ys = slice(max(x, 0), min(x + side, width)), slice(max(y, 0), min(y + side, height))
    # only the part of the box where the weight is above 0 (the rest is returned as it was in any case)
    inside = weight[ys, xs] > 0
    rows, cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    if len(rows) == 0:
        return canvas
    xs = slice(xs.start + int(cols[0]), xs.start + int(cols[-1]) + 1)
    ys = slice(ys.start + int(rows[0]), ys.start + int(rows[-1]) + 1)
    part = rendered[ys.start - y : ys.stop - y, xs.start - x : xs.stop - x].astype(np.float32)
    w = weight[ys, xs][..., None]
    region = face[ys, xs].astype(np.float32)
    # where the weight is 0 this gives the face's own value back exactly (region x 1 + part x 0)
    canvas[ys, xs] = to_uint8(region * (1 - w) + part * w)
    return canvas


def skin_mask(located: LocatedFace) -> np.ndarray:
    """The face's skin: inside the face hull, off the eyes and lips."""

    shape = located.crop.shape[:2]
    return face_hull(located.points, shape) & (1 - exclusion_mask(located.points, shape))


def face_skin(located: LocatedFace) -> np.ndarray:
    """`skin_mask` of the face, found once per face (it depends on the landmarks and the crop's size alone)."""
    return memo("skin_mask", (located.points, located.crop.shape[:2]), lambda: skin_mask(located))


def skin_colour(located: LocatedFace) -> np.ndarray | None:
    """(2,) float32: the face's skin colour, the median a*, b* (OpenCV's 8-bit CIELAB) of its skin (`skin_mask`); None
    where no skin shows. Found once per face (`skin_median`, which the skin beyond the outline reads too)."""
    median = skin_median(located.crop, face_skin(located))
    return None if median is None else median[1:]


SMOOTH_REACH = 3  # px around each pixel that the younger skin's bilateral filter (d = 7) reads


def young_face(located: LocatedFace) -> np.ndarray:
    """The aligned face with its creases filled and folds flattened in full, as the classical lifespan model's
    younger skin (youth.rejuvenate): glasses' lenses keep their tint, brows and what is not skin-coloured stay
    sharp. The classical zone renderer goes each lower score's share of the way to it."""
    skin = skin_mask(located)
    lenses = glasses_lenses(located.crop, skin, located.points)
    brows = brow_mask(located.crop, located.points)
    young = young_skin_mask(skin, np.zeros_like(brows), brows, located.points)
    return rejuvenate(located.crop, young, located.points, 1.0, lenses)


def skin_texture_and_tone(face: np.ndarray, amount: float, seed: int, window: tuple[slice, slice] | None = None) -> np.ndarray:
    """Aged skin (amount > 0): fine seeded texture, a little less luminance and saturation, a little more
    yellow; younger skin (amount < 0): an edge-preserving smoothing. Luminance carries the texture.
    `window` (rows, columns): only that part of `face` is made and returned; its pixels are the whole face's
    but within SMOOTH_REACH of a window's edge inside the face (younger skin)."""
    lab = to_lab(face if window is None else face[window])
    if amount > 0:
        texture = memo("skin_texture", (seed, face.shape[:2]), lambda: _skin_texture(face.shape[:2], seed))
        texture = texture if window is None else texture[window]
        lab[..., 0] += amount * (4.0 * texture - 3.0)
        lab[..., 1] = 128 + (lab[..., 1] - 128) * (1 - 0.12 * amount)  # a* toward neutral: less rosy
        lab[..., 2] += 3.0 * amount  # b*: a touch more yellow
    else:
        smooth = cv2.bilateralFilter(lab[..., 0], d=7, sigmaColor=12, sigmaSpace=5)
        lab[..., 0] = lab[..., 0] * (1 + amount) - smooth * amount
    return cv2.cvtColor(to_uint8(lab), cv2.COLOR_LAB2RGB)


def _skin_texture(shape: tuple[int, int], seed: int) -> np.ndarray:
    """The seeded fine texture of `skin_texture_and_tone` (the same for every target of a strip: drawn once)."""
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 0.8)


def renderer_for(name: str, settings: Settings | None = None):
    from engine.methods.ldla.renderers import ClassicalRenderer  # noqa: PLC0415 - pulls in torch: loads on the first request that needs it, not at start-up

    if check_renderer(name) == "classical":
        return ClassicalRenderer()
    return get_cache(settings).get("zone_diffusion")


def edit_zones(
    rgb: np.ndarray,
    targets: dict[str, float],
    renderer: str = "classical",
    seed: int = 0,
    current: dict[str, float] | None = None,
    source_age: float | None = None,
    ethnicity: str | None = None,
    refine: bool = False,
    located: LocatedFace | None = None,
    settings: Settings | None = None,
    skin: float = 0.0,
    paste: bool = True,
    covered: np.ndarray | None = None,
    resolve: bool = True,
) -> ZoneEdit:
    """`skin` in [-1, 1] also ages (> 0) or freshens (< 0) the skin of the whole face: texture and tone.
    `paste=False` leaves the photo out (`photo` is None): for callers that work on the aligned face only.
    `covered` (H, W) in the aligned frame, non-zero where hair covers the zones (a fringe over the forehead): no zone's
    change nor the skin's reaches it (creases drawn there were strokes across the hair).
    On a face the crop upsamples, the classical renderer's aged zones and aged skin are kept no finer than the photo's
    pixels (alignment.change_at_photo_resolution; settings.classical_photo_resolution); `resolve=False` leaves that to the
    caller, with the face to measure the change from (`ZoneEdit.unresolved`), so its own later changes and these are
    low-passed in one pass (the lifespan's older skin: one blur of the face's change instead of two)."""
    settings = settings or get_settings()
    timings = {}
    start = time.perf_counter()
    # 1. check inputs
    targets = check_scores(targets, "target score")
    if not -1.0 <= skin <= 1.0:
        raise ValueError(f"skin amount must be between -1 and 1, got {skin}")
    if not resolve and skin < 0:  # the freshened skin is drawn after the change left to the caller, which would blur it
        raise ValueError(f"resolve=False leaves an older face's change to the caller: a skin amount of {skin} (< 0) is not one")
    engine = renderer_for(check_renderer(renderer, refine), settings)
    # 2. the face, its landmarks and zones
    located = located or locate(rgb, settings)
    warnings = list(located.warnings)
    if ethnicity and renderer == "classical":
        warnings.append(f"the ethnicity {ethnicity!r} is not used: only the diffusion renderer's prompt names one")
    if ethnicity and renderer == "diffusion" and not engine.settings.prompt_ethnicity:
        warnings.append(
            f"the ethnicity {ethnicity!r} is not in the prompt: the zone renderer runs the training prompt, which names "
            "none (HUB_LDLA_PROMPT_ETHNICITY=1 adds it, as the paper's prompt does, for a checkpoint trained with it)"
        )
    timings["locate_s"] = time.perf_counter() - start
    # 3. current scores: given, measured by ScoreNet, or assumed from the age through the curves
    current_scores, current_source = zone_scores_now(rgb, located, source_age, current, settings)
    unloaded = scorenet_unloaded(settings)
    if unloaded and any(zone not in (current or {}) for zone in ZONES):  # every score given: none was assumed
        warnings.append(f"Current zone scores assumed from the age curves: {unloaded}.")
    # 4. render each zone that changes and blend it back through its feathered mask
    start = time.perf_counter()
    d = inter_ocular(located.points)
    face = located.crop.copy()
    # the feathered zone masks are the face's own (kept per face); the part hair covers is taken off each one here, faded
    # out within the hair's edge (its mixed pixels), so the skin right up to the hairline is edited in full
    if covered is not None and np.shape(covered) != face.shape[:2]:
        raise ValueError(f"covered must be the aligned face's {face.shape[:2]} mask, got shape {np.shape(covered)}")
    bare = None
    if covered is not None and np.any(covered):  # kept per face: every target of a strip hands the same hair mask
        hair = np.asarray(covered)  # keyed as given: a stored (read-only) mask is hashed once
        bare = memo("uncovered", (hair, round(FEATHER * d, 3)), lambda: _uncovered(hair > 0, FEATHER * d))
    # the classical renderer's creases and aged skin drawn no finer than the photo's pixels (on a small face they were
    # sharp pen strokes at the crop's resolution), here or by the caller (`resolve`); what a lower score smooths, and the
    # freshened skin, are taken away as drawn
    scale = upsampling(located.matrix)
    drawn = renderer == "classical" and scale > 1 and settings.classical_photo_resolution
    resolved = False
    union = np.zeros(face.shape[:2], np.float32)  # where anything changed: for the refiner and the paste-back only
    keep_union = refine or paste
    younger = None  # the classical renderer's lower scores: the face's skin made young as the lifespan path does
    if renderer == "classical" and any(t < current_scores[z] for z, t in targets.items() if z not in located.unplaceable):
        younger = young_face(located)
    colour = skin_colour(located) if renderer == "classical" else None  # what a crease's shadow shows

    def draw(zone_key: str, target: float) -> None:
        nonlocal face
        zone = located.zones[zone_key]
        crop = crop_box(face, zone.box)
        kwargs: dict = {"ethnicity": ethnicity} if renderer == "diffusion" else {"skin_colour": colour}
        if younger is not None:
            kwargs["younger"] = crop_box(younger, zone.box)
        local = zone.in_box()  # the crop's own frame: its polygon, and the lines' anchor and axis with it
        rendered = engine.render(crop, local, local.polygon, d, current_scores[zone_key], target, seed, **kwargs)
        weight = located.feathered_mask(zone_key, FEATHER * d)
        if bare is not None:
            weight = weight * bare
        face = _blend(face, rendered, zone.box, weight, inplace=True)  # `face` is this call's own copy
        if keep_union:
            np.maximum(union, weight, out=union)

    def tone() -> None:
        nonlocal face
        weight = located.feathered_mask("skin", FEATHER * d)
        if bare is not None:
            weight = weight * bare
        # made only in the box of the (feathered) skin, and as far beyond it as the younger skin's filter reads
        window = support_box(weight, SMOOTH_REACH)
        if window is not None:
            top, bottom, left, right = window[0].start, window[0].stop, window[1].start, window[1].stop
            toned = skin_texture_and_tone(face, skin, seed, window)
            face = _blend(face, toned, (left, top, max(bottom - top, right - left)), weight, inplace=True)
        if keep_union:
            np.maximum(union, weight, out=union)

    moving = {z: t for z, t in targets.items() if z not in located.unplaceable and abs(t - current_scores[z]) >= 1e-9}
    # what a lower score smooths first, taken away as drawn; then the raised zones and an older skin over it (its tone
    # reaches the lowered zones too), their change low-passed once where the face is upsampled (each zone's alone had
    # been, zone by zone: a dozen overlapping crops)
    for zone_key, target in moving.items():
        if target < current_scores[zone_key]:
            draw(zone_key, target)
    unresolved = face.copy() if drawn else None
    for zone_key, target in moving.items():
        if target > current_scores[zone_key]:
            draw(zone_key, target)
    if skin > 0:
        tone()
    pending = None
    if unresolved is not None and not np.array_equal(unresolved, face):
        if resolve:
            face, resolved = change_at_photo_resolution(unresolved, face, scale), True
        else:
            pending = unresolved
    if skin < 0:
        tone()
    changed = list(moving) + (["skin"] if skin else [])
    timings["render_s"] = time.perf_counter() - start
    # 6. optional whole-face refiner at a very small strength, kept to the edited zones
    if refine and changed:
        refined = engine.refine(face, seed)
        face = _blend(face, refined, (0, 0, face.shape[0]), union)
    # a black-and-white photo stays black and white: of the edit only its grey level is kept (no yellowing)
    monochrome = bool(changed) and is_monochrome(located.crop)
    if monochrome:
        face = lightness_only(located.crop, face)
    # 7. paste back into the photo: unchanged outside the zones
    photo = None if not paste else paste_back(rgb, face, located.matrix, mask=union) if changed else rgb.copy()
    renderer_settings = engine.manifest() if renderer == "diffusion" else {}
    if monochrome:
        renderer_settings["monochrome"] = ZONES_MONOCHROME_NOTE
    if resolved:
        renderer_settings["photo_resolution"] = (
            f"creases and older skin drawn no finer than the photo's pixels (the photo is upsampled {scale:.1f} times into "
            "the aligned face)"
        )
    if refine and renderer == "diffusion":
        renderer_settings["refined"] = True
    return ZoneEdit(
        photo,
        located.crop,
        face,
        located,
        current_scores,
        current_source,
        targets,
        changed,
        renderer,
        seed,
        timings,
        warnings,
        renderer_settings,
        pending,
    )


def save_outputs(edit: ZoneEdit, folder, stem: str = "zones", overlay: bool = True) -> dict[str, str]:
    """The edited photo, before/after faces and (`overlay`) the zone overlay as PNGs with provenance (`stem`: as
    provenance.file_stem makes it). The tab shows no overlay of the edit (its own is drawn as the zones are found)."""
    folder, stem = Path(folder), file_stem(stem)
    manifest = edit.manifest()
    info = png_info(f"LDLA local zone aging ({edit.renderer} renderer)", edit.checkpoint, edit.seed, manifest)
    if edit.photo is None:
        raise ValueError("this edit was made without the photo (paste=False): nothing to save")
    files = {
        "photo": save_png(edit.photo, folder / f"{stem}_photo.png", info),
        "face_before": save_png(edit.before, folder / f"{stem}_face_before.png", info),
        "face_after": save_png(edit.after, folder / f"{stem}_face_after.png", info),
    }
    if overlay:
        zones = draw_zones(edit.located.crop, edit.located.zones, edit.located.masks)
        files["zones"] = save_png(zones, folder / f"{stem}_zones.png", info)
    return files
