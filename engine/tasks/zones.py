"""Local zone editing (LDLA): the task API behind the zones tab and `python -m engine zones`.

`find_zones` locates the face and its twelve zones and says each zone's current score;
`edit_zones` takes a `ZonesRequest` (checked once, on creation) and renders the zones whose
target differs (engine/methods/ldla/pipeline.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from engine.age.estimators import source_age_gender
from engine.core.checks import check_flag, check_seed, parse_optional_age, parse_prompt_words
from engine.core.gpu import gpu_scope, gpu_seconds
from engine.core.images import check_rgb
from engine.core.registry import get_cache
from engine.core.settings import REFINER_LABELS, Settings, get_settings
from engine.faces.zones import ZONES, draw_zones
from engine.methods.ldla import pipeline as ldla
from engine.methods.ldla.pipeline import LocatedFace, ZoneEdit, save_outputs

__all__ = ["ZONES", "ZoneEdit", "ZoneFinding", "ZonesRequest", "edit_zones", "find_zones", "refiner_label", "save_outputs"]


def refiner_label(settings: Settings | None = None) -> str:
    """What the diffusion renderer's whole-face refiner runs (HUB_LDLA_REFINER), without loading it."""
    return REFINER_LABELS[(settings or get_settings()).ldla_refiner]


@dataclass
class ZonesRequest:
    """One zone edit, checked on creation: every field is as the engine uses it afterwards."""

    rgb: np.ndarray  # (H, W, 3) uint8
    targets: dict[str, float]  # zone -> target score, 0-100 %
    renderer: str = "classical"  # classical or diffusion
    seed: int = 0
    current: dict[str, float] | None = None  # zone -> current score, where the user knows it
    source_age: float | None = None  # the age the other current scores are assumed from (None: estimated)
    ethnicity: str | None = None  # for the diffusion renderer's prompt
    refine: bool = False  # whole-face refiner pass (diffusion renderer)

    def __post_init__(self) -> None:
        check_rgb(self.rgb)
        self.targets = ldla.check_scores(self.targets, "target score")
        if self.current is not None:
            self.current = ldla.check_scores(self.current, "current score")
        self.refine = check_flag(self.refine, "refine")
        ldla.check_renderer(self.renderer, self.refine)
        self.seed = check_seed(self.seed)
        self.source_age = parse_optional_age(self.source_age, "source age")
        self.ethnicity = parse_prompt_words(self.ethnicity, "ethnicity")


def edit_zones(request: ZonesRequest, settings: Settings | None = None) -> ZoneEdit:
    """The photo with each zone whose target differs from its current score rendered at the target."""
    if request.renderer != "diffusion":
        return _edit(request, None, settings)
    # the model and the face's zones before the GPU is lent; the rendering inside its scope
    get_cache(settings).get("zone_diffusion")
    return _edit_on_gpu(request, _locate(request.rgb, settings), settings)


def _locate(rgb: np.ndarray, settings: Settings | None) -> LocatedFace:
    """The largest face, its landmarks and zones, refused under the width the zone editor edits (TOO_SMALL_TO_EDIT)."""
    return ldla.locate(rgb, settings, too_small_for=ldla.TOO_SMALL_TO_EDIT)


def _edit(request: ZonesRequest, located: LocatedFace | None, settings: Settings | None) -> ZoneEdit:
    located = located or _locate(request.rgb, settings)
    return ldla.edit_zones(
        request.rgb,
        request.targets,
        request.renderer,
        request.seed,
        current=request.current,
        source_age=request.source_age,
        ethnicity=request.ethnicity,
        refine=request.refine,
        located=located,
        settings=settings,
    )


def zones_seconds(request: ZonesRequest, located: LocatedFace | None = None, settings: Settings | None = None) -> int:
    """GPU seconds for the diffusion renderer on `request`: one img2img call per zone asked (a zone left
    at its current score costs nothing, so this is an upper bound) and the refiner pass, each one
    denoising step on one 512 px image (engine/methods/ldla/renderers.py: 5 x 0.2 and 10 x 0.1)."""
    calls = len(request.targets) + int(request.refine)
    return gpu_seconds(calls, calls)


_edit_on_gpu = gpu_scope(zones_seconds)(_edit)


@dataclass
class ZoneFinding:
    located: LocatedFace
    source_age: float  # the age the current scores are assumed from: given, or estimated in whole years
    current: dict[str, float]  # each zone's current score, 0-100
    current_from: str  # where the current scores come from (given, measured or assumed)

    @functools.cached_property
    def outlined(self) -> np.ndarray:
        """The aligned face with its zones outlined and named, drawn when first asked for: the zones tab's scores at a
        typed age ask only for the scores."""
        return draw_zones(self.located.crop, self.located.zones, self.located.masks)


def find_zones(rgb: np.ndarray, settings: Settings | None = None, source_age: float | str | None = None) -> ZoneFinding:
    """The face's zones outlined, with every zone's current score and where it comes from; the scores not measured are
    assumed from `source_age` (a number or its text, 0-80), or from the estimate (in whole years, as the tab's age field
    steps) when None or ""."""
    given = parse_optional_age(source_age, "source age")
    located = _locate(check_rgb(rgb), settings)
    age = given if given is not None else int(source_age_gender(rgb, located.face, settings=settings).age)
    current, source = ldla.zone_scores_now(rgb, located, age, None, settings)
    return ZoneFinding(located, age, current, source)
