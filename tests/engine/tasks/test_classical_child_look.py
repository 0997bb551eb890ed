"""An adult made a child by the classical renderer, on the astronaut (41): the neck under the raised chin, the
child's skin (rosier cheeks, fainter brows) where FaceMesh finds them on the output."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.settings import Settings
from engine.faces.zones import CHIN, LEFT_MOUTH, RIGHT_MOUTH, SUBNASALE, inter_ocular
from engine.methods.classical.aging import growth_strain
from engine.methods.classical.childskin import CHEEK_POINTS
from engine.methods.classical.youth import child_scales, child_warp, photo_below
from engine.methods.ldla.pipeline import LocatedFace, locate
from engine.tasks.lifespan import LifespanRequest, age_photo
from tests.conftest import astronaut

pytestmark = pytest.mark.pipelines

OFFLINE = Settings(profile="offline")
SOURCE, CHILD = 41.0, 5.0
# The neck under her chin at 5 is stretched at most this much along the chin's column. Within the aligned crop
# alone (the fade in the 30 px under FaceMesh's chin) it was stretched 2.0-2.4 times into vertical streaks; taking
# in the photo's neck below the crop, 1.2 times on average and 1.6 at the fade's steepest.
NECK_STRETCH_AT_MOST = 1.7
# At 5 her cheeks are redder than at 41 by at least this much a* (OpenCV 8-bit Lab; the flush adds 4 at the
# cheeks' centre, the younger skin's colour evening takes a little of the source's own redness away).
CHEEKS_REDDER = 1.5
# The brows' hair at 5 is lighter than at 41 by at least this much lightness, and still this much darker than the
# cheeks (measured 148 -> 181 against cheeks at 202).
BROWS_LIGHTER = 10.0
# Re-landmarked at 5, the mouth's width, the nose's width and its height relative to the eyes are within this of
# child_scales (Farkas's ratios; measured 0.80, 0.93, 0.88 against 0.84, 0.90, 0.85): FaceMesh's re-landmarking
# noise is about 0.01 d a point, and the strain moves the eyes and features a little apart besides.
SCALE_TOLERANCE = 0.06
NOSE_WIDTH, NASION = (129, 358), 168
RIGHT_BROW_CORE, LEFT_BROW_CORE = [105, 66], [334, 296]  # FaceMesh points in the brows' middle


@pytest.fixture(scope="module")
def located() -> LocatedFace:
    return locate(astronaut(), OFFLINE)


def _neck_stretch(located: LocatedFace, below_rows: int) -> float:
    """The largest vertical stretch (output rows per source row) under the chin along its column, when the child
    warp to CHILD works on the crop and `below_rows` rows of the photo below it: a ramp of row numbers warped."""
    size = located.crop.shape[0]
    height = size + below_rows
    ramp = np.repeat(np.arange(height, dtype=np.float32)[:, None], size, 1)
    frame = np.dstack([ramp] * 3)
    k = growth_strain(SOURCE, CHILD)
    moved = child_warp(frame, located.points, k, child_scales(SOURCE, CHILD))[..., 0]
    column = moved[:, int(round(located.points[CHIN, 0]))].astype(np.float64)
    neck = column[:-1] > located.points[CHIN, 1]  # output rows showing what was under the chin
    slope = np.diff(column)[neck]  # source rows per output row
    return float(1.0 / slope.min())


def test_the_neck_under_a_childs_raised_chin_is_drawn_from_the_photos_neck_not_stretched(located):
    below = photo_below(located.rgb, located.matrix, located.crop.shape[0])
    assert len(below) > 60  # the photo holds her neck below the crop
    stretch = _neck_stretch(located, len(below))
    assert 1.0 < stretch < NECK_STRETCH_AT_MOST, stretch
    assert _neck_stretch(located, 0) > NECK_STRETCH_AT_MOST  # within the crop alone the chin's rise has nowhere to go


def _cheeks_and_brows(photo: np.ndarray) -> tuple[float, float, float]:
    """(the cheeks' mean a*, their lightness, the brows' middle's lightness; OpenCV 8-bit Lab), where FaceMesh
    finds them on `photo`."""
    located = locate(photo, OFFLINE)
    p = located.points[:, :2]
    d = inter_ocular(p)
    lab = cv2.cvtColor(located.crop, cv2.COLOR_RGB2LAB).astype(np.float64)
    r = int(round(0.06 * d))

    def patch(x: float, y: float, channel: int, share: float = 50.0) -> float:
        col, row = int(round(x)), int(round(y))
        return float(np.percentile(lab[row - r : row + r, col - r : col + r, channel], share))

    cheeks = [(p[i, 0], p[i, 1] + 0.1 * d) for i in CHEEK_POINTS]
    brows = [(p[i, 0], p[i, 1] + 0.05 * d) for i in (*RIGHT_BROW_CORE, *LEFT_BROW_CORE)]  # just under the upper edge
    hair = 20.0  # the brows' hair: the darker fifth of a patch (the rest is the skin between the hairs)
    return (
        float(np.mean([patch(x, y, 1) for x, y in cheeks])),
        float(np.mean([patch(x, y, 0) for x, y in cheeks])),
        float(np.mean([patch(x, y, 0, hair) for x, y in brows])),
    )


def test_at_five_her_cheeks_are_rosier_and_her_brows_fainter():
    image = astronaut()
    settings = Settings(profile="offline", classical_child_skin=True)
    output = age_photo(LifespanRequest(image, [CHILD, SOURCE], source_age=SOURCE, renderer="classical"), settings)
    child, same = output.photos
    assert "child skin" in output.stages[0] and "child skin" not in output.stages[1]
    plain = age_photo(LifespanRequest(image, [CHILD], source_age=SOURCE, renderer="classical"), OFFLINE)
    assert "child skin" not in plain.stages[0]  # off by default
    (red_child, skin_child, brow_child), (red_same, _, brow_same) = _cheeks_and_brows(child), _cheeks_and_brows(same)
    assert red_child > red_same + CHEEKS_REDDER, (red_child, red_same)
    assert brow_child > brow_same + BROWS_LIGHTER, (brow_child, brow_same)  # fainter
    assert brow_child < skin_child - BROWS_LIGHTER, (brow_child, skin_child)  # still a brow


def _sizes(photo: np.ndarray) -> np.ndarray:
    """The mouth's width, the nose's width (alae) and its height (nasion to subnasale), in inter-ocular distances,
    where FaceMesh finds them on `photo`."""
    p = locate(photo, OFFLINE).points[:, :2]
    return np.array(
        [
            abs(p[LEFT_MOUTH, 0] - p[RIGHT_MOUTH, 0]),
            abs(p[NOSE_WIDTH[1], 0] - p[NOSE_WIDTH[0], 0]),
            p[SUBNASALE, 1] - p[NASION, 1],
        ]
    ) / inter_ocular(p)


def test_at_five_her_mouth_and_nose_are_smaller_relative_to_her_eyes_as_child_scales_says():
    output = age_photo(LifespanRequest(astronaut(), [CHILD, SOURCE], source_age=SOURCE, renderer="classical"), OFFLINE)
    measured = _sizes(output.photos[0]) / _sizes(output.photos[1])
    scales = child_scales(SOURCE, CHILD)
    expected = np.array([scales.mouth_width, scales.nose_width, scales.nose_height])
    assert np.all(measured < 1.0), measured  # every feature smaller relative to the eyes
    assert np.abs(measured - expected).max() < SCALE_TOLERANCE, (measured, expected)
