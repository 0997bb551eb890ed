"""The classical (data-free) lifespan model on the shipped real portraits, with the offline models."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.errors import InputError
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.alignment import paste_back
from engine.methods.classical.lifespan import SUMMARY, age_face, hair_masks
from engine.methods.ldla.pipeline import locate
from engine.tasks.lifespan import LifespanRequest, age_photo
from tests.conftest import astronaut

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")


@pytest.fixture(scope="module")
def aged():
    image = astronaut()
    output = age_photo(LifespanRequest(image, [10, 70], renderer="classical"), OFFLINE)
    return image, output


def _chroma(rgb: np.ndarray, mask: np.ndarray) -> float:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    return float(np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)[mask > 0].mean())


def test_older_target_greys_the_hair_and_younger_target_keeps_its_colour(aged):
    image, output = aged
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    assert masks.note == "" and masks.hair.mean() > 0.05  # the astronaut's hair is found
    young, old = output.faces
    assert _chroma(old, masks.hair) < 0.6 * _chroma(located.crop, masks.hair)  # greyer hair at 70
    assert abs(_chroma(young, masks.hair) - _chroma(located.crop, masks.hair)) < 3  # grey is not undone at 10
    assert output.stages[1]["hair"].endswith("greyed") and "shape" in output.stages[0]
    assert output.manifest()["classical_changes"] == SUMMARY  # the manifest says what the renderer changes
    assert output.manifest()["classical_stages"]["70"]["hair"] == output.stages[1]["hair"]


def test_younger_target_reads_younger_and_identity_is_kept(aged):
    image, output = aged
    cache = get_cache(OFFLINE)
    detector, identity = cache.get("face_detector"), cache.get("identity_offline")
    source = detector.detect(image)[0]
    young = output.photos[0]
    found = detector.detect(young)
    assert found
    from engine.age.estimators import age_estimator  # noqa: PLC0415 - kept beside the one test that scores ages

    estimator = age_estimator(OFFLINE)
    assert estimator.estimate(young, found[:1])[0].age < output.source_age - 5
    for photo in output.photos:
        face = detector.detect(photo)[0]
        assert identity.similarity(identity.embed(image, source), identity.embed(photo, face)) > 0.8


def test_photo_size_is_kept_and_untouched_pixels_are_exact(aged):
    image, output = aged
    located = locate(image, OFFLINE)
    for face, photo in zip(output.faces, output.photos):
        assert face.shape == located.crop.shape and photo.shape == image.shape
        changed = np.any(photo != image, axis=-1)
        # only pixels the aligned crop covers may change: the rest of the photo is returned exactly
        covered = paste_back(np.zeros_like(image), np.full_like(face, 255), located.matrix)[..., 0] > 0
        assert changed.any() and not (changed & ~covered).any()


def test_a_target_outside_0_to_80_is_a_clear_error():
    image = astronaut()
    located = locate(image, OFFLINE)
    with pytest.raises(InputError, match="between 0 and 80, got 95"):
        age_face(image, located, hair_masks(located, OFFLINE), 40, 95, 0, OFFLINE)


def test_same_seed_same_output_and_another_seed_differs():
    image = astronaut()
    first, again, other = (
        age_photo(LifespanRequest(image, [70], seed=seed, source_age=40, gender="female", renderer="classical"), OFFLINE)
        for seed in (3, 3, 4)
    )
    assert np.array_equal(first.faces[0], again.faces[0])
    assert not np.array_equal(first.faces[0], other.faces[0])


def test_group_photo_ages_every_face_only_when_asked():
    import cv2  # noqa: PLC0415 - only this test builds a group photo

    from tests.conftest import grace_hopper  # noqa: PLC0415

    hopper = grace_hopper()
    hopper = cv2.resize(hopper, (round(hopper.shape[1] * 512 / hopper.shape[0]), 512))
    group = np.ascontiguousarray(np.concatenate([astronaut(), hopper], axis=1))
    halves = (np.s_[:, :512], np.s_[:, 512:])
    one = age_photo(LifespanRequest(group, [70], source_age=40, renderer="classical"), OFFLINE)
    every = age_photo(LifespanRequest(group, [70], source_age=40, renderer="classical", all_faces=True), OFFLINE)
    changed = [not np.array_equal(one.photos[0][half], group[half]) for half in halves]
    assert sorted(changed) == [False, True]  # default: only the largest face is aged
    untouched = halves[changed.index(False)]
    assert not np.array_equal(every.photos[0][untouched], group[untouched])  # asked: the other face is aged too
    aged = halves[changed.index(True)]
    assert np.array_equal(every.photos[0][aged], one.photos[0][aged])  # the largest face as when aged alone
    assert any("Every face aged: 2 of 2" in warning for warning in every.warnings)
    with pytest.raises(InputError, match="needs the classical renderer"):
        LifespanRequest(group, [70], renderer="diffusion", all_faces=True)
