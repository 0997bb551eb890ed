"""The classical renderer's per-face store (engine/core/memo.py) and its worker threads (engine/core/workers.py)
change nothing: a strip rendered with the store, cold and warm, on two threads, is the strip rendered one age after
another without it, pixel for pixel."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pytest

from engine.core import memo
from engine.core.errors import InputError
from engine.core.settings import Settings
from engine.faces.alignment import upsampling
from engine.methods.classical import beyond, hair, lifespan, shape, texture
from engine.methods.classical.hair import prepare_grey_hair
from engine.methods.classical.lifespan import Variation, drawing_order, hair_masks, render_lifespan
from engine.methods.ldla.pipeline import locate
from tests.conftest import astronaut

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")
TARGETS: list[float] = [5, 30, 70]  # a child (strain, proportions), a younger adult, an older face (every stage)

T = TypeVar("T")


def _noted(note: Callable[[], None], compute: Callable[[], T]) -> Callable[[], T]:
    """`compute`, calling `note` first: a spy's record of which field was computed, and where."""

    def run() -> T:
        note()
        return compute()

    return run


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
    assert masks.tips is not None and masks.wisps is not None and masks.fringe is not None
    for array in (located.crop, located.points, masks.hair, masks.brows, masks.tips, masks.wisps, masks.fringe):
        assert memo.sealed(array)
        with pytest.raises(ValueError):
            array[0] = 0  # a stage that changed one in place would change every later key's meaning


def test_one_older_age_has_its_hair_work_done_ahead_on_the_idle_cpu_and_the_same_face(monkeypatch):
    image = astronaut()
    located = locate(image, OFFLINE)
    masks = hair_masks(located, OFFLINE)
    # the greying's per-face work computed ahead is all the greying then reads: it computes none of it again
    scale, pattern = upsampling(located.matrix), Variation().grey_pattern
    memo.clear()
    prepare_grey_hair(
        masks.hair, np.random.default_rng([2, 2]), pattern, located.points, located.crop, scale, masks.past_mask(), masks.tips
    )
    computed: list[str] = []
    stored = hair.memo
    monkeypatch.setattr(
        hair, "memo", lambda name, parts, compute: stored(name, parts, _noted(lambda: computed.append(name), compute))
    )
    rng = np.random.default_rng([2, 2])
    hair.grey_hair(
        located.crop,
        masks.hair,
        0.6,
        rng,
        pattern,
        located.points,
        located.crop,
        scale=scale,
        wisps=masks.past_mask(),
        tips=masks.tips,
    )
    assert computed == []
    monkeypatch.undo()
    # one target on two CPUs: the second does that work ahead, on its own thread, and the face is the one a single
    # thread gives without the store
    with memo.disabled():
        plain = render_lifespan(image, located, 40.0, [70], 2, OFFLINE.with_(classical_workers=1))
    memo.clear()
    where: dict[str, set[str]] = {}

    def spy(name, parts, compute):
        return stored(name, parts, _noted(lambda: where.setdefault(name, set()).add(threading.current_thread().name), compute))

    monkeypatch.setattr(hair, "memo", spy)
    monkeypatch.setattr(beyond, "memo", spy)  # and the hair past the crop's edge, which her hair runs into
    # the render's greying waits for the work ahead to end, so which thread computed what does not hang on how fast each
    # ran: every field the greying reads must then be found stored (a field the work ahead read differently from the
    # render, other stray hair say, is computed on the main thread)
    done = threading.Event()
    work_ahead, greying = lifespan._hair_ahead, lifespan.grey_hair

    def signalling(*args, **kwargs):
        work = work_ahead(*args, **kwargs)

        def run() -> None:
            try:
                work()
            finally:
                done.set()

        return run

    def after_the_work_ahead(*args, **kwargs):
        assert done.wait(120), "the work ahead did not end"
        return greying(*args, **kwargs)

    monkeypatch.setattr(lifespan, "_hair_ahead", signalling)
    monkeypatch.setattr(lifespan, "grey_hair", after_the_work_ahead)
    ahead = render_lifespan(image, located, 40.0, [70], 2, OFFLINE.with_(classical_workers=2))
    for name in (
        "hair_alpha",
        "edge_hair_share",
        "hair_flow",
        "white_noise",
        "strand_ranks",
        "hair_core",
        "white_near_core",
        "hair_beyond",
    ):
        assert where[name] == {"ahead"}, name
    np.testing.assert_array_equal(ahead[0].photo, plain[0].photo)
    assert ahead[0].stages == plain[0].stages


@pytest.mark.parametrize(
    ("target", "modules", "names"),
    [
        # the prototype's warp onto the face and the older folds' field
        (70.0, (texture, shape), ("prototype_on_landmarks", "older_fold_field")),
        # the neck in the crop and the photo's rows under it (`_young_neck`)
        (10.0, (lifespan,), ("young_neck",)),
    ],
)
def test_the_work_that_needs_no_hair_mask_is_done_on_the_second_cpu_while_the_masks_are_found(
    monkeypatch, target, modules, names
):
    image = astronaut()
    located = locate(image, OFFLINE)
    with memo.disabled():
        plain = render_lifespan(image, located, 40.0, [target], 2, OFFLINE.with_(classical_workers=1))
    memo.clear()
    where: dict[str, set[str]] = {}
    for module in modules:
        stored = module.memo

        def spy(name, parts, compute, stored=stored):
            return stored(
                name, parts, _noted(lambda: where.setdefault(name, set()).add(threading.current_thread().name), compute)
            )

        monkeypatch.setattr(module, "memo", spy)
    # the masks' block waits for that work to end before any age is rendered: it is then found stored, not computed
    # again by the render, which draws the same
    ahead = render_lifespan(image, located, 40.0, [target], 2, OFFLINE.with_(classical_workers=2))
    for name in names:
        assert where[name] == {"ahead"}, name
    np.testing.assert_array_equal(ahead[0].photo, plain[0].photo)
    assert ahead[0].stages == plain[0].stages


def test_a_strips_ages_are_drawn_younger_and_older_alternating_farthest_first_and_come_back_in_order():
    strip = [5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]
    assert drawing_order(strip, 40.0) == [0, 8, 1, 7, 2, 6, 3, 5, 4]  # 5, 80, 10, 70, 20, 60, 30, 50, 40
    assert drawing_order([70.0, 30.0, 50.0], 20.0) == [0, 2, 1]  # older only: the farthest first
    assert drawing_order([10.0, 80.0, 20.0, 10.0], 40.0) == [0, 1, 3, 2]  # a repeated age keeps its place among equals
    image = astronaut()
    located = locate(image, OFFLINE)
    said: list[str] = []
    faces = render_lifespan(
        image, located, 40.0, [70.0, 10.0, 50.0], 2, OFFLINE.with_(classical_workers=2), lambda _, text: said.append(text)
    )
    assert said == [f"classical renderer, age {age}" for age in ("10", "70", "50")]  # the progress names the age drawn
    # each image is its own target's, in the order asked
    for face, target in zip(faces, (70.0, 10.0, 50.0)):
        alone = render_lifespan(image, located, 40.0, [target], 2, OFFLINE.with_(classical_workers=1))[0]
        np.testing.assert_array_equal(face.after, alone.after)


def test_a_bad_age_is_refused_the_same_way_whatever_the_cpus():
    image = astronaut()
    located = locate(image, OFFLINE)
    for workers in (1, 2):  # with two, the one target leaves a CPU to the work done ahead, which reads the ages too
        with pytest.raises(InputError, match="target age must be between 0 and 80, got 150"):
            render_lifespan(image, located, 40.0, [150], 2, OFFLINE.with_(classical_workers=workers))
        # the first bad age in the order asked, though the younger one would be drawn first
        with pytest.raises(InputError, match="got 150"):
            render_lifespan(image, located, 40.0, [150, -5], 2, OFFLINE.with_(classical_workers=workers))
