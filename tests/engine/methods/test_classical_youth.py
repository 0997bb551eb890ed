"""The maths of younger faces: child proportions and the crease removal's image operations (no models)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from engine.faces.zones import CHIN, LEFT_EYE, OUTER_LIPS, RIGHT_EYE, inter_ocular
from engine.methods.classical.aging import strain_origin
from engine.methods.classical.youth import (
    BIOCULAR_RATIO_AT_6,
    CHEEK_OUTLINE,
    CREASE_EDGES_LEFT,
    CREASE_LOAD_AT_80,
    EDGE_MARGIN,
    FOLD_LEFT,
    GROWTH_STEP,
    LENS_RIM,
    NECK_FADE,
    NECK_FADE_LEAST,
    NOSE,
    NOSE_HEIGHT_RATIO_AT_6,
    RIDGES_LEFT,
    WIDE_FOLD_LIFT,
    YOUNG_FOLD_LEFT,
    ChildScales,
    FeatureMove,
    FoldBands,
    child_scales,
    child_warp,
    crease_amount,
    crease_load,
    describe_bands,
    faded_strain_radius,
    feature_moves,
    features_inverse,
    fold_bands,
    frame_rows,
    frame_zone,
    growth_steps,
    moved_by_features,
    proportion_deficit,
    remove_creases,
    strain_extent,
    unstrained,
    where_frame_lies,
)

pytestmark = pytest.mark.unit


def test_proportion_deficit_is_one_at_six_zero_for_adults_and_falls_with_age():
    assert proportion_deficit(6.0) == pytest.approx(1.0)
    assert proportion_deficit(18.0) == 0.0 and proportion_deficit(40.0) == 0.0
    ages = np.arange(0.0, 19.0)
    deficits = [proportion_deficit(age) for age in ages]
    assert all(a > b for a, b in zip(deficits[:-1], deficits[1:]))  # strictly falling until growth ends
    assert deficits[0] > 1.5  # a newborn is further from adult proportions than a 6-year-old


def test_child_scales_are_one_between_adults():
    for source, target in ((40, 20), (80, 30), (30, 60), (18, 80)):
        assert child_scales(source, target) == ChildScales(1.0, 1.0, 1.0, 1.0, 0.0)


def test_a_child_grown_older_takes_the_proportions_a_younger_target_takes_back_in_steps_as_in_one():
    grown = child_scales(5.0, 40.0)
    assert grown.nose_height > 1.0 and grown.nose_width > 1.0 and grown.mouth_width > 1.0  # features grow with the face
    assert grown.eye < 1.0 and grown.cheek < 0.0  # the eyes look smaller, the cheeks slimmer
    back = child_scales(40.0, 5.0)
    for field in ("nose_height", "nose_width", "mouth_width", "eye"):
        assert getattr(grown, field) * getattr(back, field) == pytest.approx(1.0)  # a round trip changes nothing
        steps = getattr(child_scales(5.0, 10.0), field) * getattr(child_scales(10.0, 40.0), field)
        assert steps == pytest.approx(getattr(grown, field))
    assert grown.cheek == pytest.approx(-back.cheek)
    assert child_scales(5.0, 10.0).cheek + child_scales(10.0, 40.0).cheek == pytest.approx(grown.cheek)
    # growth ends at 18: a child grown to 20 or to 70 has the same proportions
    assert child_scales(5.0, 20.0) == child_scales(5.0, 70.0)


def test_child_scales_follow_farkas_at_six_and_shrink_monotonically_toward_birth():
    at_six = child_scales(40.0, 6.0)
    assert at_six.nose_height == pytest.approx(NOSE_HEIGHT_RATIO_AT_6 / BIOCULAR_RATIO_AT_6)  # relative to the eyes
    targets = [16.0, 12.0, 8.0, 5.0, 2.0]
    scales = [child_scales(40.0, target) for target in targets]
    for younger, older in zip(scales[1:], scales[:-1]):
        assert younger.nose_height < older.nose_height < 1.0
        assert younger.mouth_width < older.mouth_width < 1.0
        assert younger.eye > older.eye > 1.0  # the eyes look larger within a smaller face
        assert younger.cheek > older.cheek > 0.0


def test_a_child_grown_older_grows_its_features_in_steps_so_the_skin_is_never_folded_over():
    # in one step from a newborn's or a 2-year-old's photo to 20 the nose (grown down from the nasion) and the mouth
    # (grown about its centre) met over the upper lip: the warp folded the skin there over (a torn, doubled lip)
    points = _face_points()
    ys, xs = np.mgrid[0:512, 0:512].astype(np.float32)
    ramp = np.dstack([xs, ys, np.zeros_like(xs)])  # each output pixel's source position, read back from the warp
    for source in (0.0, 2.0, 5.0):
        scales = child_scales(source, 20.0)
        steps = growth_steps(scales)
        assert all(max(step.nose_height, step.nose_width, step.mouth_width) <= GROWTH_STEP + 1e-9 for step in steps)
        for field in ("nose_height", "nose_width", "mouth_width", "eye"):
            assert np.prod([getattr(step, field) for step in steps]) == pytest.approx(getattr(scales, field))
        assert sum(step.cheek for step in steps) == pytest.approx(scales.cheek)
        drawn = child_warp(ramp, points, 0.0, scales).astype(np.float64)
        sx, sy = drawn[..., 0], drawn[..., 1]
        area = np.diff(sx, axis=1)[:-1] * np.diff(sy, axis=0)[:, :-1] - np.diff(sy, axis=1)[:-1] * np.diff(sx, axis=0)[:, :-1]
        # every output pixel shows the skin of one place, in order (in one step from 0 and 2: -0.84 and -1.23)
        assert area.min() > 0.3, (source, area.min())
    assert growth_steps(child_scales(41.0, 5.0)) == [child_scales(41.0, 5.0)]  # toward a child: one step, as before


def test_crease_amount_is_the_share_of_the_zone_scores_a_younger_target_no_longer_has():
    source = {"forehead": 80.0, "glabella": 40.0}
    assert crease_amount(source, {"forehead": 40.0, "glabella": 20.0}) == pytest.approx(0.5)
    assert crease_amount(source, {"forehead": 0.0, "glabella": 0.0}) == pytest.approx(1.0)
    assert crease_amount(source, source) == 0.0 and crease_amount(source, {"forehead": 90.0, "glabella": 50.0}) == 0.0
    assert crease_amount({"forehead": 0.0}, {"forehead": 0.0}) == 0.0  # a smooth source has nothing to remove


def test_feature_moves_scale_inside_the_ellipse_and_leave_far_points_alone():
    move = FeatureMove(
        np.array([100.0, 100.0]), np.array([20.0, 10.0]), np.array([100.0, 100.0]), np.array([0.8, 0.9]), np.zeros(2)
    )
    points = np.array([[110.0, 100.0], [100.0, 105.0], [200.0, 100.0], [100.0, 160.0]])
    moved = moved_by_features(points, [move])
    assert moved[0] == pytest.approx([108.0, 100.0])  # inside: scaled about the anchor
    assert moved[1] == pytest.approx([100.0, 104.5])
    assert moved[2] == pytest.approx(points[2]) and moved[3] == pytest.approx(points[3])  # beyond the falloff: still


def _skin_patch(creases: bool) -> np.ndarray:
    """A flat skin-coloured patch (OpenCV 8-bit Lab) with thin dark creases and one thick dark frame bar."""
    lab = np.zeros((200, 200, 3), np.float32)
    lab[...] = (170.0, 145.0, 150.0)
    if creases:
        for row in (40, 70, 100):
            lab[row : row + 3, 20:180, 0] -= 25.0  # 3 px creases, 25 levels deep
    lab[150:162, 20:180] = (40.0, 150.0, 175.0)  # a dark, brown frame: not skin
    return lab


def test_remove_creases_fills_thin_dark_valleys_and_keeps_a_frame():
    lab = _skin_patch(creases=True)
    skin = np.ones(lab.shape[:2], np.float32)
    out = remove_creases(lab, skin, d=100.0, amount=1.0)
    crease = np.s_[70:73, 40:160]
    depth_before, depth_after = 170.0 - lab[crease][..., 0].mean(), 170.0 - out[crease].mean()
    assert depth_before == 25.0 and depth_after < depth_before / 3  # filled, not kept as an edge
    frame = np.s_[152:160, 40:160]
    assert np.abs(out[frame] - lab[frame][..., 0]).max() < 3  # the frame is kept as it was
    assert np.array_equal(remove_creases(lab, skin, 100.0, 0.0), lab[..., 0])  # amount 0: unchanged
    outside = np.zeros_like(skin)
    assert np.array_equal(remove_creases(lab, outside, 100.0, 1.0), lab[..., 0])  # nothing outside the skin


def test_unstrained_inverts_the_faded_strain_exactly_where_it_stretches_the_neck():
    from engine.methods.classical.aging import cardioidal_strain  # noqa: PLC0415 - the forward strain, to compare

    origin = np.array([256.0, 200.0])
    head, border = 280.0, 306.0  # a narrow fade: the neck below the chin is stretched about 2.5 times
    rng = np.random.default_rng(0)
    sources = origin + rng.uniform(-320, 320, (400, 2))
    k = -0.07
    offset = sources - origin
    radius = np.hypot(offset[:, 0], offset[:, 1])
    strain = k * (1.0 + offset[:, 1] / radius)  # k (1 - cos theta), theta = 0 straight up
    landed = origin + offset * (faded_strain_radius(radius, strain, head, border) / radius)[:, None]
    assert np.allclose(unstrained(landed, origin, k, head, border), sources, atol=1e-3)
    inside = radius < head  # full strain: the cardioidal strain itself
    assert np.allclose(landed[inside], cardioidal_strain(sources[inside], origin, k))
    assert np.allclose(landed[radius > border], sources[radius > border])  # no motion beyond the border


def _face_points() -> np.ndarray:
    """FaceMesh-shaped points on a 512 px aligned face (about the FFHQ template): the eyes' and lips' outlines,
    the nose, the outline at mouth level and the chin (152) low, as on the packaged portraits."""

    def ellipse(count: int, centre: tuple[float, float], radii: tuple[float, float]) -> np.ndarray:
        angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
        return np.column_stack([centre[0] + radii[0] * np.cos(angles), centre[1] + radii[1] * np.sin(angles)])

    points = np.tile([256.0, 320.0], (478, 1))
    points[RIGHT_EYE] = ellipse(len(RIGHT_EYE), (193.0, 240.0), (25.0, 9.0))
    points[LEFT_EYE] = ellipse(len(LEFT_EYE), (319.0, 240.0), (25.0, 9.0))
    points[OUTER_LIPS] = ellipse(len(OUTER_LIPS), (256.0, 372.0), (50.0, 16.0))
    points[NOSE] = np.column_stack([np.linspace(236, 276, len(NOSE)), np.linspace(245, 320, len(NOSE))])
    for side, x in (("right", 160.0), ("left", 352.0)):
        points[CHEEK_OUTLINE[side]] = [[x, 360.0], [x + np.sign(256 - x) * 10, 390.0]]
    points[CHIN] = (256.0, 470.0)
    return points


def test_child_warp_stops_before_every_edge_of_the_frame_and_fades_in_the_neck_below_the_chin():
    rng = np.random.default_rng(1)
    points = _face_points()
    for height in (512, 712):  # the crop alone, and the crop with 200 rows of the photo below it
        face = rng.integers(0, 256, (height, 512, 3), dtype=np.uint8)
        out = child_warp(face, points, -0.07, child_scales(41.0, 5.0))
        band = int(EDGE_MARGIN * 512) // 2  # the outer half of the margin: where the paste-back's feather is thinnest
        inner = np.zeros((height, 512), bool)
        inner[band:-band, band:-band] = True
        assert np.array_equal(out[~inner], face[~inner])  # nothing moves at the frame's edges: a seamless paste
        assert not np.array_equal(out[inner], face[inner])
    # the strain's extent along the ray straight down: full to the chin, fading over NECK_FADE d below it when the
    # frame holds that much, and over less (at least NECK_FADE_LEAST d) when it ends closer
    down = np.array([[0.0, 1.0]])
    d = 126.0
    head, border = strain_extent(points, (712, 512), down)
    chin = 470.0 - strain_origin(points)[1]
    assert head[0] == pytest.approx(chin, abs=0.5) and border[0] == pytest.approx(chin + NECK_FADE * d, abs=1.0)
    head, border = strain_extent(points, (512, 512), down)
    assert border[0] == pytest.approx(512 - 1 - EDGE_MARGIN * 512 - strain_origin(points)[1])
    assert border[0] - head[0] == pytest.approx(NECK_FADE_LEAST * d, abs=1.0)


def test_the_child_warp_shows_each_point_where_the_feature_moves_carry_it_even_toward_birth():
    # toward 0-2 the mouth's and cheeks' moves stretch the skin beside them about twice: the inverse by a fixed-point
    # iteration then sampled points up to 22 px from where they belong (on a portrait: vertical streaks, a swollen
    # upper lip), and the grid's map resized up as if its nodes lay at the middles of its blocks put every point 3.5 px
    # further on where the moves change fast (6.5 px off); each output pixel must show the source point the moves carry
    # there, within what interpolating the map between nodes 8 px apart gives (1.4 px at 0, 0.9 at 5)
    points = _face_points()
    height = width = 512
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramps = np.dstack([xs, ys, np.zeros_like(xs)])
    for target in (0.0, 2.0, 5.0):
        out = child_warp(ramps, points, 0.0, child_scales(41.0, target))
        face = (slice(200, 480), slice(120, 400))  # the features and the cheeks, away from the frame's edges
        shown = out[face][..., :2].astype(np.float64)
        landed = moved_by_features(shown, feature_moves(points, child_scales(41.0, target)))
        error = np.hypot(landed[..., 0] - xs[face], landed[..., 1] - ys[face])
        assert error.max() < 2.0, (target, error.max())


def test_where_the_feature_moves_fold_the_skin_over_the_inverse_leaves_no_point_further_than_it_found_it():
    # lips squeezed under the nose: toward 0 the nose's and the mouth's moves fold the skin between them over, and no
    # point maps onto those targets; Newton's full steps had sent such points thousands of pixels away
    points = _face_points()
    angles = np.linspace(0, 2 * np.pi, len(OUTER_LIPS), endpoint=False)
    points[OUTER_LIPS] = np.column_stack([256.0 + 50.0 * np.cos(angles), 330.0 + 4.0 * np.sin(angles)])
    moves = feature_moves(points, child_scales(41.0, 0.0))
    ys, xs = np.mgrid[0:520:8, 0:520:8].astype(np.float64)
    target = np.stack([xs, ys], -1)
    source = features_inverse(target, moves)
    start = np.hypot(*(moved_by_features(target, moves) - target).transpose(2, 0, 1))
    left = np.hypot(*(moved_by_features(source, moves) - target).transpose(2, 0, 1))
    assert np.all(left <= start + 1e-9)
    assert left.max() > 1.0  # the fold: some targets have no point
    assert (left > 0.01).sum() < 10 and np.hypot(*(source - target).transpose(2, 0, 1)).max() < 40.0


def test_fold_bands_follow_the_descent_taken_back_as_far_as_the_skin_is_creased():
    none = fold_bands(0.0)  # nothing taken back: the fold bands as the looked-at younger skin leaves them
    assert (none.fold_left, none.wide_lift) == (FoldBands().fold_left, FoldBands().wide_lift)
    full = fold_bands(1.0)  # an 80-year-old's creased skin at 30 or younger
    assert (full.fold_left, full.wide_lift, full.crease_edges_left, full.ridges_left) == pytest.approx(
        (YOUNG_FOLD_LEFT, WIDE_FOLD_LIFT, CREASE_EDGES_LEFT, RIDGES_LEFT)
    )
    half = fold_bands(1.0, CREASE_LOAD_AT_80 / 2)  # half as creased: half way
    assert half.wide_lift == pytest.approx(WIDE_FOLD_LIFT / 2)
    assert (half.fold_left, half.wide_lift) == (fold_bands(0.5).fold_left, fold_bands(0.5).wide_lift)
    assert fold_bands(1.0, 3 * CREASE_LOAD_AT_80) == full  # never past the full treatment
    assert fold_bands(1.0, None) == FoldBands()  # the load could not be measured: not guessed
    assert FoldBands().fold_left > half.fold_left > full.fold_left
    with pytest.raises(ValueError, match="got 1.5"):
        fold_bands(1.5)


def test_a_crease_removed_takes_its_edges_and_ridges_with_it_whatever_the_descent_taken_back():
    # a 51-year-old made 10: every crease goes, a third of the descent to 80 is taken back; at a full amount the
    # edges and ridges go as far as for an 80-year-old, and the crease amount takes them in step with the creases
    bands = fold_bands(0.32, CREASE_LOAD_AT_80)
    assert (bands.crease_edges_left, bands.ridges_left) == pytest.approx((CREASE_EDGES_LEFT, RIDGES_LEFT))
    assert fold_bands(0.0) == dataclasses.replace(bands, fold_left=FOLD_LEFT, wide_lift=0.0)
    half = fold_bands(0.0, CREASE_LOAD_AT_80 / 2)  # skin half as creased: half way
    assert half.crease_edges_left == pytest.approx(1.0 + (CREASE_EDGES_LEFT - 1.0) / 2) and half.fold_left == FOLD_LEFT


def _crepe_patch() -> np.ndarray:
    """Skin (OpenCV 8-bit Lab) whose left half is crepey (dark 3 px creases with light ridges between them, 8 px
    apart), with a broad soft highlight on the smooth right half."""
    lab = np.zeros((200, 240, 3), np.float32)
    lab[...] = (170.0, 145.0, 150.0)
    for row in range(20, 180, 8):
        lab[row : row + 3, 20:110, 0] -= 20.0
        lab[row + 4 : row + 6, 20:110, 0] += 12.0
    ys, xs = np.mgrid[:200, :240]
    lab[..., 0] += 15.0 * np.exp(-((xs - 180.0) ** 2 + (ys - 100.0) ** 2) / (2 * 6.0**2))
    return lab


def test_crepe_is_flattened_by_its_edges_and_ridges_and_a_highlight_on_smooth_skin_is_kept():
    lab = _crepe_patch()
    skin = np.ones(lab.shape[:2], np.float32)
    before = remove_creases(lab, skin, 100.0, 1.0)
    after = remove_creases(lab, skin, 100.0, 1.0, crease_edges_left=CREASE_EDGES_LEFT, ridges_left=RIDGES_LEFT)
    crepe = np.s_[40:160, 40:90]
    assert after[crepe].std() < 0.5 * before[crepe].std()  # the net of light and dark lines mostly gone
    highlight = np.s_[94:107, 174:187]
    assert np.abs(after[highlight] - before[highlight]).max() < 0.5  # the light on smooth skin is not a ridge


def test_the_wide_bands_valleys_are_lifted_by_their_own_depth_and_nothing_is_darkened():
    lab = np.zeros((200, 200, 3), np.float32)
    lab[...] = (170.0, 145.0, 150.0)
    xs = np.arange(200)[None, :]
    lab[..., 0] -= 15.0 * np.exp(-((xs - 100.0) ** 2) / (2 * 12.0**2))  # a broad fold shadow, 15 levels deep
    skin = np.ones(lab.shape[:2], np.float32)
    kept = remove_creases(lab, skin, 100.0, 1.0)
    lifted = remove_creases(lab, skin, 100.0, 1.0, wide_lift=1.0)
    depth = [170.0 - out[50:150, 100].mean() for out in (kept, lifted)]
    # lifted by its part in the wide band (between the fold band's blur and WIDE_FOLD_SIGMA's; the broadest part is
    # the face's shape and stays): for a shadow this wide (a sigma of 0.12 d), over a third of it
    assert depth[1] < 0.6 * depth[0]
    assert (lifted >= kept - 1e-3).all()  # a lift only: nothing darker
    flat = _skin_patch(creases=False)[:120]  # no valley: nothing to lift
    assert np.allclose(remove_creases(flat, skin[:120], 100.0, 1.0, wide_lift=1.0), remove_creases(flat, skin[:120], 100.0, 1.0))


def test_crease_load_measures_how_creased_the_skin_is():
    skin = np.ones((200, 200), np.float32)
    smooth, creased = crease_load(_skin_patch(False), skin, 100.0), crease_load(_skin_patch(True), skin, 100.0)
    assert smooth is not None and creased is not None
    # three 3 px creases 25 levels deep over 160 of the patch's 200 columns fill 0.9 levels on the patch's mean, less
    # what the fine blur takes off their depth
    assert smooth < 0.1 and 0.6 < creased < 0.9
    crepe = crease_load(_crepe_patch(), np.ones((200, 240), np.float32), 100.0)
    assert crepe is not None and crepe > creased  # crepe: more creased still
    assert crease_load(_skin_patch(True), np.zeros_like(skin), 100.0) is None  # no skin: not measured


def test_skin_the_closing_lifts_nothing_on_average_is_treated_as_uncreased_in_the_bands_and_the_manifest():
    from engine.methods.classical.youth import creased_share

    assert creased_share(-0.3) == 0.0 and creased_share(CREASE_LOAD_AT_80 / 2) == pytest.approx(0.5)
    assert creased_share(3 * CREASE_LOAD_AT_80) == 1.0
    assert fold_bands(1.0, -0.3) == FoldBands()  # nothing further than the looked-at younger skin
    assert "not creased (crease load -0.30)" in describe_bands(fold_bands(1.0, -0.3), 1.0, -0.3, 1.0)


def test_the_manifest_says_how_far_the_fold_bands_went_and_why():
    full = describe_bands(fold_bands(1.0, CREASE_LOAD_AT_80), 1.0, CREASE_LOAD_AT_80, 1.0)
    assert f"fold band kept at {YOUNG_FOLD_LEFT:.0%}" in full and f"lifted {WIDE_FOLD_LIFT:.0%}" in full
    assert "100% of the soft-tissue descent" in full and f"edges kept at {CREASE_EDGES_LEFT:.0%}" in full
    # a partial gap: what the output shows, the crease amount of the way to the full amount's bands
    part = describe_bands(fold_bands(0.32, CREASE_LOAD_AT_80), 0.32, CREASE_LOAD_AT_80, 0.5)
    assert f"edges kept at {1 - 0.5 * (1 - CREASE_EDGES_LEFT):.0%}" in part and "50% of the creases removed" in part
    assert "no creases removed" in describe_bands(fold_bands(0.0), 0.0, 1.0, 0.0)
    assert "could not be measured" in describe_bands(fold_bands(1.0, None), 1.0, None, 1.0)


def test_the_frame_zone_holds_each_lens_rim_and_the_bridge_but_not_what_is_seen_through_the_lenses():
    import cv2

    lenses = np.zeros((200, 300), np.float32)
    for centre in ((90, 100), (210, 100)):
        cv2.ellipse(lenses, centre, (45, 30), 0, 0, 360, 1.0, -1)
    frame = frame_zone(lenses, 10.0)
    assert frame[100, 150] > 0.9  # the bridge between the lenses
    assert frame[100, 45] > 0.4 and frame[130, 90] > 0.4  # each lens's edge (outer side, bottom)
    assert frame[100, 90] < 0.05 and frame[100, 210] < 0.05  # through the lenses: not the frame
    assert frame[20, 150] < 0.05 and frame[190, 20] < 0.05  # far from the glasses


def test_a_frames_rows_span_its_lenses_and_rim_across_the_whole_width():
    # the frame's arms run from the lenses to the ears beside the face, at the lenses' height: `where_frame_lies` looks
    # for them in those rows
    points = _face_points()
    d = inter_ocular(points)
    lenses = np.zeros((512, 512), np.float32)
    lenses[230:280, 160:230] = lenses[230:280, 290:360] = 1.0
    rows = frame_rows(lenses, points)
    grow = LENS_RIM * d
    assert rows[230:280].all() and rows[int(230 - grow) + 1].all() and rows[int(279 + grow) - 1].all()
    assert not rows[: int(230 - grow) - 1].any() and not rows[int(279 + grow) + 2 :].any()
    assert not frame_rows(np.zeros((512, 512), np.float32), points).any()  # no lenses, no frame


def test_a_frames_arm_and_its_rows_are_kept_out_and_a_sideburn_above_the_arm_is_not():
    # skin of one lightness with two lenses (rows 230-279); on the image's right, a thin dark arm running from the right
    # lens's rim to the ear low in the lenses' rows (rows 261-273), a sideburn (a dark block 16 px wide) above it, and a
    # dark strand as thin as the arm apart from the rims; on the image's left, no arm, and a sideburn as high
    points = _face_points()
    grow = int(round(LENS_RIM * inter_ocular(points)))
    crop = np.full((512, 512, 3), 180, np.uint8)
    lenses = np.zeros((512, 512), np.float32)
    lenses[230:280, 160:230] = lenses[230:280, 290:360] = 1.0
    cv2.line(crop, (360, 262), (470, 272), (60, 60, 60), 3)  # the arm: from the rim outward
    crop[219:241, 430:446] = crop[219:241, 60:76] = 50  # the sideburns
    cv2.line(crop, (478, 229), (508, 227), (60, 60, 60), 2)  # a strand above the arm, apart from the rims
    frame = where_frame_lies(crop, lenses, points)
    assert frame[230:280, 230:290].all() and frame[255, 362:370].all()  # the bridge and the rims
    arm = np.zeros((512, 512), np.uint8)
    cv2.line(arm, (400, 265), (465, 271), 1, 1)
    assert frame[arm > 0].all()  # the arm, out to the ear
    # by the arm, the rows within LENS_RIM d of it (the hair beside an arm is as dark as the arm); above them the
    # sideburn is hair, not the frame, and so is the strand
    assert frame[260 - grow + 2 : 274 + grow - 2, 256:].all()
    assert not frame[219:241, 430:446].any() and not frame[222:236, 475:510].any()
    # where no arm is found, the frame's rows are kept out as a whole (an arm too faint to find may lie there)
    assert frame[219:241, 60:76].all() and frame[230 - grow + 1 : 280 + grow - 1, :256].all()
    assert not frame[: 230 - grow - 1].any() and not frame[280 + grow + 1 :].any()  # nothing above or below its rows
    # a brow crossing the frame's top rows and a lash line inside the left lens (thin dark lines touching the rim) are
    # no arms: with them, the left side still keeps all its rows out and the right side's arm is still found as it is
    cv2.line(crop, (150, 214), (235, 220), (60, 60, 60), 3)  # the brow, cut by the rows' top
    cv2.line(crop, (165, 250), (225, 252), (60, 60, 60), 2)  # the lash line, through the lens
    np.testing.assert_array_equal(where_frame_lies(crop, lenses, points), frame)
    # a thick brow beside the right lens, cut by the rows' top: no thin line along the cut (the rows are read padded)
    cv2.line(crop, (300, 212), (420, 216), (60, 60, 60), 12)
    np.testing.assert_array_equal(
        where_frame_lies(crop, lenses, points) & (np.arange(512)[:, None] >= 217), frame & (np.arange(512)[:, None] >= 217)
    )


def test_the_face_outline_is_where_each_ray_leaves_the_ovals_hull_either_winding_and_on_its_edge():
    from engine.faces.zones import FACE_OVAL  # noqa: PLC0415
    from engine.methods.classical.youth import outline_radius  # noqa: PLC0415

    points = np.zeros((478, 2))
    angles = np.linspace(0, 2 * np.pi, len(FACE_OVAL), endpoint=False)
    points[FACE_OVAL] = np.stack([200 + 100 * np.sin(angles), 200 - 100 * np.cos(angles)], -1)  # a circle of 100 px
    rays = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    reversed_oval = points.copy()
    reversed_oval[FACE_OVAL] = points[FACE_OVAL][::-1]
    for oval in (points, reversed_oval):  # both windings
        assert outline_radius(oval, np.array([200.0, 250.0]), rays) == pytest.approx([86.6, 86.6, 50.0], abs=0.5)
        # the origin within rounding of the rightmost edge: the ray back across the face reaches its far side (an
        # edge's normal read off the origin's side was flipped there, and that ray read 0)
        assert outline_radius(oval, np.array([300.0 - 1e-7, 200.0]), rays)[1] == pytest.approx(200.0, abs=1.0)
    assert outline_radius(points, np.array([400.0, 200.0]), rays).max() == 0.0  # outside the face: none
    # the origin within rounding of an edge of a random oval: the rays into the face reach across it (an edge's normal
    # read off the origin's side was flipped in about 2 % of such ovals, and the rays into the face read 0)
    rng = np.random.default_rng(0)
    for _ in range(300):
        oval = points.copy()
        oval[FACE_OVAL] = rng.uniform(100, 300, (len(FACE_OVAL), 2))
        hull = cv2.convexHull(oval[FACE_OVAL].astype(np.float32))[:, 0, :].astype(np.float64)
        start, end = hull[0], hull[1]
        origin = start + rng.uniform(0.2, 0.8) * (end - start)  # on the edge, to rounding
        inward = (hull.mean(0) - origin) / np.linalg.norm(hull.mean(0) - origin)
        radius = outline_radius(oval, origin, inward[None])[0]
        relative = cv2.convexHull((oval[FACE_OVAL] - origin).astype(np.float32))
        inside = cv2.pointPolygonTest(relative, (0.0, 0.0), False) >= 0
        assert radius > 1.0 if inside else radius == 0.0  # across the face, or outside it by rounding
