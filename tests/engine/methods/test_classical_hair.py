"""Strand-by-strand greying and the hair mask's refinement, on synthetic hair patches."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.faces.segmentation import fill_holes
from engine.methods.classical.hair import grey_hair, grey_strands, hair_alpha, temple_lead

pytestmark = pytest.mark.unit

SIZE = 128


def hair_patch(colour: tuple[int, int, int], vertical: bool = False, seed: int = 0) -> np.ndarray:
    """A patch of straight hair: noise stretched along the strands (horizontal unless `vertical`), shading
    the colour by up to +-30 %."""
    noise = np.random.default_rng(seed).standard_normal((SIZE, SIZE)).astype(np.float32)
    along, across = 8.0, 0.7
    noise = cv2.GaussianBlur(noise, (0, 0), sigmaX=across if vertical else along, sigmaY=along if vertical else across)
    shade = 1 + 0.3 * noise / noise.std()
    return np.clip(np.array(colour, np.float32) * shade[..., None], 0, 255).astype(np.uint8)


def lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)


def high_pass_energy(values: np.ndarray) -> float:
    return float(np.mean((values - cv2.GaussianBlur(values, (0, 0), 2.0)) ** 2))


FULL = np.ones((SIZE, SIZE), np.uint8)
DARK, BLOND = (70, 45, 30), (165, 130, 80)  # lightness about that of the astronaut's blond hair


@pytest.mark.parametrize("amount", [0.1, 0.5, 0.9])
def test_share_of_white_strands_is_the_grey_amount(amount):
    hair = hair_patch(DARK)
    strands = grey_strands(lightness(hair), FULL, amount, np.random.default_rng(1), pattern=0.0)
    assert strands.mean() == pytest.approx(amount, abs=0.02)
    # the temples' lead moves where the strands are, not how many
    led = grey_strands(lightness(hair), FULL, amount, np.random.default_rng(1), 1.0, temple_lead((SIZE, SIZE), None))
    assert led.mean() == pytest.approx(amount, abs=0.02)


def test_temples_grey_before_the_crown():
    hair = hair_patch(DARK)
    lead = temple_lead((SIZE, SIZE), None)
    strands = grey_strands(lightness(hair), FULL, 0.3, np.random.default_rng(1), 1.0, lead)
    assert strands[lead > 0.6].mean() > 2 * strands[lead < 0.2].mean()


@pytest.mark.parametrize("vertical", [False, True])
def test_white_strands_run_along_the_hair(vertical):
    hair = hair_patch(DARK, vertical)
    strands = grey_strands(lightness(hair), FULL, 0.5, np.random.default_rng(2), pattern=0.0)
    inner = strands[16:-16, 16:-16]

    def correlation(a, b):
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    along_x = correlation(inner[:, :-4], inner[:, 4:])
    along_y = correlation(inner[:-4], inner[4:])
    along, across = (along_y, along_x) if vertical else (along_x, along_y)
    assert along > 0.5 and across < 0.5 * along  # long along the strands, a pixel or two across


def test_no_low_frequency_blotches():
    # the old field made patches of grey and pigmented hair tens of pixels wide; strands average out
    hair = hair_patch(BLOND)
    strands = grey_strands(lightness(hair), FULL, 0.5, np.random.default_rng(3), pattern=0.0)
    blurred = cv2.GaussianBlur(strands, (0, 0), 16.0)[24:-24, 24:-24]
    assert blurred.std() < 0.05
    # a grey share drawn as patches (low-frequency noise over the threshold) fails the same check
    patches = cv2.GaussianBlur(np.random.default_rng(3).standard_normal((SIZE, SIZE)), (0, 0), 10.0) > 0
    assert cv2.GaussianBlur(patches.astype(np.float32), (0, 0), 16.0)[24:-24, 24:-24].std() > 0.1


@pytest.mark.parametrize("colour", [DARK, BLOND])
def test_grey_hair_keeps_the_strands_detail(colour):
    hair = hair_patch(colour)
    for amount in (0.5, 1.0):
        greyed = grey_hair(hair, FULL, amount, np.random.default_rng(4), pattern=0.0)
        assert high_pass_energy(lightness(greyed)) >= 0.8 * high_pass_energy(lightness(hair))


def test_dark_hair_turns_salt_and_pepper_then_white_and_light_hair_whitens():
    dark = hair_patch(DARK)
    half = lightness(grey_hair(dark, FULL, 0.5, np.random.default_rng(5), pattern=0.0))
    source = lightness(dark)
    # salt and pepper: about half the pixels much lighter than before, about half as they were
    lighter = half > source + 40
    assert 0.35 < lighter.mean() < 0.65 and np.mean(np.abs(half - source) < 3) > 0.25
    white = lightness(grey_hair(dark, FULL, 1.0, np.random.default_rng(5), pattern=0.0))
    assert white.mean() > source.mean() + 80
    blond = hair_patch(BLOND)
    whitened = grey_hair(blond, FULL, 1.0, np.random.default_rng(5), pattern=0.0)

    def chroma(rgb):
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        return float(np.hypot(lab[..., 1] - 128, lab[..., 2] - 128).mean())

    assert lightness(whitened).mean() > lightness(blond).mean() + 10  # lighter, not grey
    assert chroma(whitened) < 0.5 * chroma(blond)  # and it loses its saturation


def test_grey_hair_is_seeded_and_stays_inside_the_soft_mask():
    hair = hair_patch(DARK)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[:, : SIZE // 2] = 1
    first = grey_hair(hair, mask, 0.5, np.random.default_rng(6))
    assert np.array_equal(first, grey_hair(hair, mask, 0.5, np.random.default_rng(6)))
    assert not np.array_equal(first, grey_hair(hair, mask, 0.5, np.random.default_rng(7)))
    np.testing.assert_array_equal(first[:, SIZE // 2 + 8 :], hair[:, SIZE // 2 + 8 :])
    assert np.array_equal(grey_hair(hair, mask, 0.0, np.random.default_rng(6)), hair)
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        grey_strands(lightness(hair), mask, 1.5, np.random.default_rng(6))


def test_hair_alpha_is_soft_only_at_the_boundary_and_follows_strands_past_it():
    guide = np.full((64, 64, 3), 200, np.uint8)
    guide[:, :32] = (60, 40, 30)  # dark hair on the left, a light background on the right
    guide[::4, 32:40] = (60, 40, 30)  # with strands sticking out past the binary mask
    mask = np.zeros((64, 64), np.uint8)
    mask[:, :32] = 1
    alpha = hair_alpha(guide, mask)
    assert np.all(alpha[:, :28] == 1)  # inside: exactly 1
    assert np.all(alpha[:, 37:] == 0)  # beyond the filter's reach: exactly 0
    strands, background = alpha[::4, 32:36], alpha[1::4, 32:36]
    assert strands.min() > 0.3 and background.max() < 0.05  # the edge follows the hair, not the mask's outline


def test_fill_holes_closes_a_crown_cut_by_the_top_of_the_crop():
    mask = np.zeros((40, 40), np.uint8)
    mask[:30, 5:35] = 1
    mask[:10, 15:25] = 0  # a highlight on the crown, open only to the top edge
    mask[15:20, 15:20] = 0  # a hole inside
    assert fill_holes(mask)[:10, 15:25].sum() == 0 and fill_holes(mask)[15:20, 15:20].all()
    assert fill_holes(mask, top_closed=True)[:10, 15:25].all()
    assert fill_holes(mask, top_closed=True)[35:, :].sum() == 0  # the background below stays out
