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

SIZE = 200  # the crop's size; it covers the photo's rows 100 and down
HAIR, BACKDROP = 40, 200  # grey levels of the dark hair and the light backdrop


class _Segmenter:
    """The person is what is darker than half-way from the backdrop to the hair (the outline's middle)."""

    def probability(self, region: np.ndarray) -> np.ndarray:
        return (region.mean(-1) < (HAIR + BACKDROP) / 2).astype(np.float32)


def _lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[..., 0]


@pytest.fixture()
def drawn_head():
    """(photo, crop, the crop's hair mask, the photo -> crop matrix, landmarks in the crop): dark hair on a light
    backdrop, its top (row 70) past the crop's top (row 100), its outline blurred over a few pixels as a photo's is."""
    memo.clear()
    grey = np.full((200, 200), float(BACKDROP), np.float32)
    rng = np.random.default_rng(0)
    grey[70:190, 40:160] = HAIR + rng.normal(0, 12.0, (120, 120))  # strands lighter and darker
    grey = cv2.GaussianBlur(grey, (0, 0), 1.5)  # the outline's mixed pixels
    photo = np.clip(np.stack([grey] * 3, -1), 0, 255).astype(np.uint8)
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -100.0]])
    crop = cv2.warpAffine(photo, matrix, (SIZE, SIZE), borderMode=cv2.BORDER_REPLICATE)
    hair = (crop.mean(-1) < (HAIR + BACKDROP) / 2).astype(np.uint8)
    hair[70:] = 0  # the face below the hair
    points = np.zeros((478, 2), np.float32)
    for index, x in ((RIGHT_EYE_OUTER, 60), (RIGHT_EYE_INNER, 80), (LEFT_EYE_INNER, 120), (LEFT_EYE_OUTER, 140)):
        points[index] = (x, 90)
    points[[*RIGHT_EYE, *LEFT_EYE], 1] = 90  # the eyes' line at the crop's row 90 (the photo's 190)
    return photo, crop, hair, matrix, points


def test_the_hairs_outline_past_the_crop_greys_as_far_as_it_is_hair(drawn_head):
    photo, crop, hair, matrix, points = drawn_head
    # the crop's hair greyed: its darkest by 30 L*, its lighter pixels more (the lightest strands turn white), as the
    # hair stage's change by lightness (beyond.colour_change) reads on real hair
    levels = np.array([15.0, 25.0, 35.0, 45.0])
    changes = np.array([[30.0, 1.0, 0.0, 0.0], [40.0, 1.0, 0.0, 0.0], [50.0, 1.0, 0.0, 0.0], [60.0, 1.0, 0.0, 0.0]])
    weight = frame_border(SIZE, SIZE)
    out = hair_beyond(photo, photo, matrix, crop, hair, weight, (levels, changes), points, _Segmenter())
    before, after = _lightness(photo), _lightness(out)
    hair_l, backdrop_l = float(np.median(before[80:95, 60:140])), float(np.median(before[20:50]))
    greyed = float(np.median(after[80:95, 60:140]))
    assert greyed == pytest.approx(hair_l + 30, abs=3)  # the hair past the crop greys as the crop's darkest hair did
    # the outline across the hair's top, beyond the crop: each pixel between the hair and the backdrop
    outline = (before > hair_l + 5) & (before < backdrop_l - 5)
    outline[:60] = outline[85:] = False
    outline[:, :60] = outline[:, 140:] = False
    assert outline.sum() > 150
    # no pale rim lighter than both the greyed hair and the backdrop: taken by its own lightness, a pixel half hair took
    # the lighter hair's change (up to 60 L*), lighter than the backdrop
    assert after[outline].max() <= max(greyed, backdrop_l) + 1.0
    # and none left as it was beside greyed hair: a dark line along the outline
    assert (after[outline] - before[outline]).min() > 0.5
    # each takes the change as far as it is hair: less the nearer the backdrop it is
    share = (backdrop_l - before[outline]) / (backdrop_l - hair_l)
    np.testing.assert_allclose(after[outline] - before[outline], 30.0 * share, atol=6.0)
    # the backdrop past the outline is as it was
    np.testing.assert_array_equal(out[:55], photo[:55])
