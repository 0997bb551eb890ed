"""The classical renderer's per-face store (engine/core/memo.py) and its worker threads (engine/core/workers.py)
change nothing: a strip rendered with the store, cold and warm, on two threads, is the strip rendered one age after
another without it, pixel for pixel."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core import memo
from engine.core.settings import Settings
from engine.methods.classical.lifespan import hair_masks, render_lifespan
from engine.methods.ldla.pipeline import locate
from tests.conftest import astronaut

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")
TARGETS = [5, 30, 70]  # a child (strain, proportions), a younger adult, an older face (every stage)


@pytest.mark.parametrize("receding", [False, True])
def test_a_strip_is_the_same_with_and_without_the_store(receding):
    image = astronaut()
    located = locate(image, OFFLINE)
    one, two = OFFLINE.with_(classical_workers=1), OFFLINE.with_(classical_workers=2)
    with memo.disabled():
        plain = render_lifespan(image, located, 40.0, TARGETS, 2, one, receding_hairline=receding)
    memo.clear()
    cold = render_lifespan(image, located, 40.0, TARGETS, 2, two, receding_hairline=receding)
    warm = render_lifespan(image, located, 40.0, TARGETS, 2, two, receding_hairline=receding)
    for without, first, again in zip(plain, cold, warm):
        assert np.any(without.after != located.crop)  # each target changed the face
        np.testing.assert_array_equal(first.photo, without.photo)
        np.testing.assert_array_equal(again.photo, without.photo)
        np.testing.assert_array_equal(again.after, without.after)
        assert again.stages == without.stages


def test_a_located_face_and_its_hair_masks_are_sealed_so_the_store_hashes_them_once():
    located = locate(astronaut(), OFFLINE)
    masks = hair_masks(located, OFFLINE)
    for array in (located.crop, located.points, masks.hair, masks.brows):
        assert memo.sealed(array)
        with pytest.raises(ValueError):
            array[0] = 0  # a stage that changed one in place would change every later key's meaning
