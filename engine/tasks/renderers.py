"""What the lifespan and pluralistic tasks share: the renderer choice and the face as that renderer needs it.

`choose_renderer` is the one place "auto" is decided: Cradle2Cane (diffusion) where its models
load, else the classical renderer, with the reason. `find_face` returns the chosen face; for the
classical renderer also its zones (engine/methods/ldla/pipeline.py `locate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.errors import InputError
from engine.core.models import ModelUnavailable
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.alignment import check_face_upright, faces_or_why_not
from engine.faces.detection import Face, choose_face
from engine.faces.territory import others_than
from engine.methods.classical.lifespan import TOO_SMALL_TO_AGE
from engine.methods.ldla.pipeline import CLASSICAL_WEIGHTS, LocatedFace, locate

RENDERERS = ("auto", "diffusion", "classical")
CLASSICAL_CHECKPOINT = CLASSICAL_WEIGHTS  # a classical output's checkpoint, in every task's manifest (the zones' too)
# the lifespan and pluralistic tasks' refusal of the option on the diffusion renderer, which cannot draw it
RECEDING_NEEDS_CLASSICAL = "the receding hairline option needs the classical renderer; turn it off or choose classical"


def check_renderer(requested: str) -> str:
    if requested not in RENDERERS:
        raise InputError(f"renderer must be auto, diffusion or classical, got {requested!r}")
    return requested


def not_in_profile(profile: str) -> str:
    """The note that the classical renderer stands in because the profile has no Cradle2Cane (a tab whose banner says so
    already need not show it again with each result; the manifest keeps it)."""
    return f"Cradle2Cane is not part of the {profile!r} profile"


def choose_renderer(requested: str, settings: Settings | None = None) -> tuple[str, str]:
    """(renderer, note): `requested` itself unless "auto"; auto is "diffusion" where Cradle2Cane loads, else
    "classical" with the note saying why ("" when there is nothing to say)."""
    if check_renderer(requested) != "auto":
        return requested, ""
    cache = get_cache(settings)
    if not cache.in_profile("lifespan"):
        return "classical", not_in_profile(cache.settings.profile)
    try:
        cache.get("lifespan")
    except ModelUnavailable as error:
        return "classical", f"Cradle2Cane could not load: {error}"
    return "diffusion", ""


def check_chosen(request, renderer: str, why: str) -> None:
    """`request.check_for(renderer)` once "auto" has chosen, its refusal saying why auto chose that renderer (an option
    the classical renderer cannot draw, asked on "auto" where Cradle2Cane is missing, was refused without saying that
    auto had fallen back to it)."""
    try:
        request.check_for(renderer)
    except InputError as error:
        if not why:
            raise
        raise InputError(f"{error} (auto chose the classical renderer: {why})") from error


@dataclass
class FoundFace:
    face: Face  # as detected in the photo
    located: LocatedFace | None  # its zones, for the classical renderer
    warnings: list[str]
    # the photo's other faces: the face's edits stay off their parts of it (engine/faces/territory.py)
    others: tuple[Face, ...] = ()


def find_face(
    rgb: np.ndarray,
    renderer: str,
    face_index: int | None = None,
    settings: Settings | None = None,
    faces: list[Face] | None = None,
    beside: tuple[Face, ...] = (),
) -> FoundFace:
    """The face at `face_index` (default: the largest), with its zones when `renderer` is classical; `faces`: the
    detector's faces of `rgb` where the caller found them already (`faces_or_why_not`), else found here; `beside`: the
    faces found lying on their side, its neighbours too (`locate`)."""
    if renderer == "classical":
        located = locate(rgb, settings, face_index, faces, too_small_for=TOO_SMALL_TO_AGE, beside=beside)
        return FoundFace(located.face, located, list(located.warnings), located.others)
    detector = get_cache(settings).get("face_detector")
    every = faces_or_why_not(detector, rgb) if faces is None else faces
    face, warnings = choose_face(every, face_index)
    check_face_upright(detector, rgb, face)
    return FoundFace(face, None, warnings, others_than(face, [*every, *beside]))
