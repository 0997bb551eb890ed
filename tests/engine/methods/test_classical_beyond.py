"""The hair past the aligned crop's edge (engine/methods/classical/beyond.py) on a drawn head: its outline against the
backdrop takes the hair's change as far as each pixel is hair, as the crop's own edge band does."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core import memo
from engine.faces.alignment import frame_border
from engine.faces.zones import LEFT_EYE, LEFT_EYE_INNER, LEFT_EYE_OUTER, RIGHT_EYE, RIGHT_EYE_INNER, RIGHT_EYE_OUTER
from engine.methods.classical.beyond import hair_beyond

pytestmark = pytest.mark.unit

SIZE = 200  # the crop's size; it covers the photo's rows from 100.5 down (row 100 half covered)
HAIR, BACKDROP = 40, 200  # grey levels of the dark hair and the light backdrop


class _Segmenter:
    """The person is what is grey and darker than half-way from the backdrop to the hair (the outline's middle)."""

    def probability(self, region: np.ndarray) -> np.ndarray:
        grey = np.ptp(region.astype(np.int16), axis=-1) < 20
        return ((region.mean(-1) < (HAIR + BACKDROP) / 2) & grey).astype(np.float32)


def _lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[..., 0]


@pytest.fixture()
def drawn_head():
    """(photo, crop, the crop's hair mask, the photo -> crop matrix, landmarks in the crop): dark hair on a light
    backdrop, its top (row 70) past the crop's top (row 100.5), its outline blurred over a few pixels as a photo's is."""
    memo.clear()
    grey: np.ndarray = np.full((200, 200), float(BACKDROP), np.float32)
    rng = np.random.default_rng(0)
    grey[70:190, 40:160] = HAIR + rng.normal(0, 12.0, (120, 120))  # strands lighter and darker
    grey = cv2.GaussianBlur(grey, (0, 0), 1.5)  # the outline's mixed pixels
    photo = np.clip(np.stack([grey] * 3, -1), 0, 255).astype(np.uint8)
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -100.5]])
    crop = cv2.warpAffine(photo, matrix, (SIZE, SIZE), borderMode=cv2.BORDER_REPLICATE)
    hair = (crop.mean(-1) < (HAIR + BACKDROP) / 2).astype(np.uint8)
    hair[70:] = 0  # the face below the hair
    points = np.zeros((478, 2), np.float32)
    for index, x in ((RIGHT_EYE_OUTER, 60), (RIGHT_EYE_INNER, 80), (LEFT_EYE_INNER, 120), (LEFT_EYE_OUTER, 140)):
        points[index] = (x, 90)
    points[[*RIGHT_EYE, *LEFT_EYE], 1] = 90  # the eyes' line at the crop's row 90 (the photo's 190.5)
    return photo, crop, hair, matrix, points


def _greyed(photo, crop, hair, matrix, points) -> np.ndarray:
    """`hair_beyond` with the crop's hair greyed: its darkest by 30 L*, its lighter pixels more (the lightest strands
    turn white), as the hair stage's change by lightness (beyond.colour_change) reads on real hair."""
    levels = np.array([15.0, 25.0, 35.0, 45.0])
    changes = np.array([[30.0, 1.0, 0.0, 0.0], [40.0, 1.0, 0.0, 0.0], [50.0, 1.0, 0.0, 0.0], [60.0, 1.0, 0.0, 0.0]])
    return hair_beyond(photo, photo, matrix, crop, hair, frame_border(SIZE, SIZE), (levels, changes), points, _Segmenter())


def _check_outline(photo: np.ndarray, out: np.ndarray, skip_rows: slice | None = None) -> None:
    """The outline across the hair's top, beyond the crop (each pixel between the hair and the backdrop; `skip_rows`
    left out), took the hair's change as far as it is hair."""
    before, after = _lightness(photo), _lightness(out)
    hair_l, backdrop_l = float(np.median(before[80:95, 60:140])), float(np.median(before[20:50]))
    outline = (before > hair_l + 5) & (before < backdrop_l - 5)
    outline[:60] = outline[85:] = False
    outline[:, :60] = outline[:, 140:] = False
    if skip_rows is not None:
        outline[skip_rows] = False
    assert outline.sum() > 150
    # none left as it was beside greyed hair: a dark line along the outline
    assert (after[outline] - before[outline]).min() > 0.5
    # each takes the change as far as it is hair, less the nearer the backdrop it is: not, by its own lightness, the
    # lighter hair's change (up to 60 L*: a pale rim, lighter than the greyed hair beside it)
    share = (backdrop_l - before[outline]) / (backdrop_l - hair_l)
    np.testing.assert_allclose(after[outline] - before[outline], 30.0 * share, atol=6.0)


def test_the_hairs_outline_past_the_crop_greys_as_far_as_it_is_hair(drawn_head):
    photo, crop, hair, matrix, points = drawn_head
    out = _greyed(photo, crop, hair, matrix, points)
    before, after = _lightness(photo), _lightness(out)
    hair_l = float(np.median(before[80:95, 60:140]))
    greyed = float(np.median(after[80:95, 60:140]))
    assert greyed == pytest.approx(hair_l + 30, abs=3)  # the hair past the crop greys as the crop's darkest hair did
    _check_outline(photo, out)
    # the row the crop's edge half covers greys as the hair beyond it (a line of its dark pixels was left there)
    assert float(np.mean(after[100, 60:140] - before[100, 60:140])) == pytest.approx(30.0, abs=5.0)
    # the backdrop past the outline is as it was
    np.testing.assert_array_equal(out[:55], photo[:55])


def test_a_dark_thing_of_the_backdrop_beside_the_hairs_outline_is_left_as_it_is(drawn_head):
    # a dark blue cable in the backdrop, 5-6 px above the hair's top: near the hair's edge and darker than the backdrop,
    # so on the colour line between the two, but not the hair
    photo, crop, hair, matrix, points = drawn_head
    photo = photo.copy()
    photo[64:66, 50:150] = (30, 30, 110)
    out = _greyed(photo, crop, hair, matrix, points)
    np.testing.assert_array_equal(out[60:66], photo[60:66])
    # and the outline between it and the hair greys as without it (the cable's colour, taken for the backdrop's, read
    # the mixed pixels as no hair, and they stayed dark)
    _check_outline(photo, out, skip_rows=slice(63, 67))
