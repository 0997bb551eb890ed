"""What the hub's own age estimator and face recognition model read in a task's outputs: each output's estimated age and
its identity to the source face, and a warning where the ages read lie far from the ages asked for. These are readings
for the person who asked, never searched against: no renderer's setting is chosen by them."""

from __future__ import annotations

import numpy as np

from engine.age.estimators import SourceAgeGender, age_estimator
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.detection import Face, box_overlap, centre_in

# years: the age estimator reading the futures' mean further than this from the target is said (the largest age error
# the hub's renderers are to reach on its offline benchmark; beyond it the futures do not look the age asked for)
OFF_TARGET_YEARS = 15.0


def far_from_given(source: SourceAgeGender) -> list[str]:
    """[] or a warning that the source age given is more than OFF_TARGET_YEARS from the estimator's reading of the face:
    a typo (2 for 25) was taken without a word, and an adult's face was grown up again from 2."""
    if source.age_from != "given" or source.read is None or abs(round(source.read) - source.age) <= OFF_TARGET_YEARS:
        return []
    return [
        f"The source age given, {source.age:g}, is {abs(round(source.read) - source.age):g} years from the age estimator's "
        f"reading of the face, {source.read:.0f}: the face is aged from the age given. If it is not the one meant, correct "
        "it, or give none to age from the estimate."
    ]


def off_target(ages: list[float | None], target: float) -> list[str]:
    """[] or a warning that the age estimator reads the futures (`ages`, None where a sample shows no face) at a mean
    more than OFF_TARGET_YEARS from `target`: the samples show the estimates one by one, the gap was never said. With
    the mean nearer, the futures read further than that are named by their numbers (Obama's eight at 60 read at a
    mean of 46, and four of them at 36-44, with nothing said)."""
    read = [age for age in ages if age is not None]
    if not read:
        return []
    mean = sum(read) / len(read)
    if abs(round(mean) - target) <= OFF_TARGET_YEARS:  # as the warning shows it (see `_far`)
        far = _far([(f"future {number}: ", age, target) for number, age in enumerate(ages)])
        if not far:
            return []
        return [
            f"The age estimator reads {'this future' if len(far) == 1 else 'these futures'} more than "
            f"{OFF_TARGET_YEARS:g} years from the target of {target:g}: {'; '.join(far)}. The futures' mean, {mean:.0f}, "
            f"is within {OFF_TARGET_YEARS:g} years of it."
        ]
    side = "under" if mean < target else "over"
    spread = f"{min(read):.0f}-{max(read):.0f} (mean {mean:.0f})" if len(read) > 1 else f"{mean:.0f}"
    return [
        f"The age estimator reads the futures at {spread}, {abs(round(mean) - target):g} years {side} the target of {target:g}: "
        f"they look {'younger' if mean < target else 'older'} than asked."
    ]


def faces_where(source_face: Face, photos: list[np.ndarray], settings: Settings) -> list[Face | None]:
    """Each output's face where `source_face` was: of the detections whose box's centre lies in its box, the one whose box
    overlaps it most; None for an output without one (a neighbour's face beside it is not it)."""
    detector = get_cache(settings).get("face_detector")
    faces: list[Face | None] = []
    for photo in photos:
        found = [face for face in detector.detect(photo) if centre_in(face, source_face)]
        faces.append(max(found, key=lambda candidate: box_overlap(candidate, source_face)) if found else None)
    return faces


def estimated_ages(source_face: Face, photos: list[np.ndarray], settings: Settings) -> list[float | None]:
    """What the age estimator reads in each output's face where `source_face` was (`faces_where`); None: no face there."""
    return _ages_of(photos, faces_where(source_face, photos, settings), settings)


def _ages_of(photos: list[np.ndarray], faces: list[Face | None], settings: Settings) -> list[float | None]:
    """The age estimator's reading of each photo's face; None where it has none."""
    estimator = age_estimator(settings)
    return [None if face is None else float(estimator.estimate(photo, [face])[0].age) for photo, face in zip(photos, faces)]


def read_outputs(
    rgb: np.ndarray, source_face: Face, photos: list[np.ndarray], settings: Settings
) -> tuple[list[float | None], list[float | None], list[np.ndarray]]:
    """(estimated ages, identities x 100 to the source: None for an output without a face; the SFace embeddings of the
    outputs with one), each from the output's face where `source_face` was (`faces_where`)."""
    faces = faces_where(source_face, photos, settings)
    identity = get_cache(settings).get("identity_offline")
    source_embedding = identity.embed(rgb, source_face)
    identities: list[float | None] = []
    embeddings: list[np.ndarray] = []
    for photo, face in zip(photos, faces):
        if face is None:
            identities.append(None)
            continue
        embedding = identity.embed(photo, face)
        embeddings.append(embedding)
        identities.append(100.0 * identity.similarity(source_embedding, embedding))
    return _ages_of(photos, faces, settings), identities, embeddings


def off_targets(ages: list[float | None], targets: list[float]) -> list[str]:
    """[] or a warning naming each target whose output the age estimator reads (`ages`, one per target, None where an
    output shows no face) more than OFF_TARGET_YEARS from it, and which way: a lifespan's captions said "80 years" of a
    face the estimator read at 54, and nothing said so."""
    off = _far([(f"at {target:g}, ", age, target) for target, age in zip(targets, ages)])
    if not off:
        return []
    return [
        f"The age estimator reads {'this face' if len(off) == 1 else 'these faces'} more than {OFF_TARGET_YEARS:g} years from "
        f"the age asked: {'; '.join(off)}. "
        + ("The face does not look that age to it." if len(off) == 1 else "The faces do not look those ages to it.")
    ]


def _far(readings: list[tuple[str, float | None, float]]) -> list[str]:
    """Each reading (what names it, the age read or None where no face was, the age asked) read more than
    OFF_TARGET_YEARS from the age asked, as "<name><age read> (younger)" or "(older)". Each is compared as it is shown,
    to a whole year: a future read at 44.6 was listed as "45" among those more than 15 years from 60."""
    return [
        f"{name}{age:.0f} ({'younger' if age < asked else 'older'})"
        for name, age, asked in readings
        if age is not None and abs(round(age) - asked) > OFF_TARGET_YEARS
    ]
