"""A child's skin and eyebrows on an adult's aligned face: rosier cheeks, fainter brows.

youth.py gives a younger face its creases back and a child's proportions; what still read as an adult on the
astronaut (41) made 5 and 10 (from looking at the outputs at 1:1) was, beside the shape, a sallow, even tone with
no colour in the cheeks, and dark, defined adult brows. (Her pores are gone already at 1:1 once youth.rejuvenate
has filled the creases; taking the fine band out further erased her freckles, which children have too -
ephelides appear in early childhood, Bastiaens et al. 2004, Pigment Cell Res 17: 225-229 - and read as plastic, so it is not done here.)

- Cheeks: a child's cheeks are rosier (more red, less yellow) than an adult's; the skin's redness from blood
  perfusion is read as health (Stephen, Coetzee, Law Smith and Perrett 2009, "Skin blood perfusion and
  oxygenation colour affect perceived human health", PLoS ONE 4: e5083), an even colour as younger (Fink, Grammer
  and Matts 2006, Evol Hum Behav 27: 433-442), and texture.py's older skin is less rosy and more yellow. The
  child link and the size of the shift are from looking.
- Brows: scalp and body hair darken through childhood (Rees 2003, "Genetics of hair and skin color", Annu Rev
  Genet 37: 67-90), so a child's brows are fainter: brow hair moved BROW_FADE of the way to the skin beside it.

Both at `child_share` (1 for a child before puberty, none from its end): pure maths, no models.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.core.blurs import masked_blur
from engine.core.pixels import from_lab, to_lab
from engine.faces.zones import inter_ocular
from engine.methods.classical.shape import smoothstep

# Puberty, when hair darkens toward its adult colour (Rees 2003): a child's cheeks and brows in full up to the first
# age, none from the second (smoothstep between; the ages from looking at the usual span of puberty).
PUBERTY_YEARS = (10.0, 16.0)
# Rosy cheeks (from looking; a* up 7 over 0.28 d read as rouge on a made-up adult): at the cheeks' centre a* up to
# ROSY_A above the skin's median and b* down by ROSY_B in proportion (OpenCV 8-bit Lab), fading as a Gaussian of
# CHEEK_SIGMA d about FaceMesh's cheek points (50 and 280, on the cheekbones' apples). Cheeks already that much
# redder than the face are left (adding to an 80-year-old's ruddy skin read as a rash, not a child). At 0.35 d the
# two flushes met over the nose and the whole face read pinker; a child's flush sits on the cheeks' apples.
ROSY_A = 4.0
ROSY_B = 2.0
CHEEK_POINTS = (50, 280)
CHEEK_SIGMA = 0.25
CHEEK_LOWER = 0.1  # the cheeks' centre this many d below the FaceMesh points (the apples' fullest part, from looking)
# Brows (from looking): the hair moved this far toward the skin around it; a child's brows stay visible, and the
# brows carry much of a face's identity (Sadr, Jarudi and Sinha 2003, "The role of eyebrows in face recognition",
# Perception 32: 285-293), so their shape is kept and they fade by less than a third.
BROW_FADE = 0.3
BROW_CLOSE = 0.25  # a grey closing this wide (in d) fills a brow's width with the skin's lightness
BROW_DARKER = 12.0  # lightness levels below the filled skin at which a brow pixel counts as wholly hair


def child_share(target: float) -> float:
    """How much of a child's skin and brows a face at `target` years has: 1 up to puberty's start, 0 from its end."""
    if target < 0:
        raise ValueError(f"age must be at least 0, got {target}")
    start, end = PUBERTY_YEARS
    return float(smoothstep(np.asarray((end - target) / (end - start))))


def cheek_weight(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 0-1: the cheeks' rosy area, a Gaussian about each cheek's apple (1 at its centre)."""
    p = np.asarray(points, np.float64)[:, :2]
    d = inter_ocular(p)
    ys, xs = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    weight = np.zeros(shape, np.float64)
    for index in CHEEK_POINTS:
        cx, cy = p[index, 0], p[index, 1] + CHEEK_LOWER * d
        weight = np.maximum(weight, np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (CHEEK_SIGMA * d) ** 2)))
    return weight.astype(np.float32)


def child_skin(face: np.ndarray, skin: np.ndarray, brows: np.ndarray, points: np.ndarray, share: float) -> np.ndarray:
    """The aligned face (RGB uint8) with a child's skin at `share` (0-1): cheeks rosier within
    `skin` (H, W 0-1: the skin without eyes, lips, brows and hair), and the brow hair within `brows` (uint8 mask;
    all zeros to leave the brows, as behind a glasses frame, whose dark rim would fade with them) fainter. Pixels
    outside both are returned exactly."""
    if share <= 0:
        return face.copy()
    d = inter_ocular(points)
    lab = to_lab(face)
    out = lab.copy()
    skin = np.asarray(skin, np.float32)
    # rosy cheeks: up to ROSY_A redder than the skin's median, the cheeks' own redness counted
    inside = skin > 0.5
    if inside.any():
        redness = masked_blur(lab[..., 1], inside.astype(np.float32), CHEEK_SIGMA * d / 2)
        missing = np.clip(float(np.median(lab[..., 1][inside])) + ROSY_A - redness, 0.0, ROSY_A)
        rosy = share * skin * cheek_weight(points, face.shape[:2]) * missing
        out[..., 1] += rosy
        out[..., 2] -= ROSY_B / ROSY_A * rosy
    # fainter brows: each hair toward the skin's lightness (a grey closing fills the brow) and colour beside it
    region = cv2.GaussianBlur((brows > 0).astype(np.float32), (0, 0), 0.02 * d)
    if region.max() > 0:
        size = max(3, int(round(BROW_CLOSE * d)) | 1)
        filled = cv2.morphologyEx(lab[..., 0], cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
        hair = np.clip((filled - lab[..., 0]) / BROW_DARKER, 0.0, 1.0)
        fade = share * BROW_FADE * region * hair
        out[..., 0] += fade * (filled - lab[..., 0])
        beside = (skin > 0.5).astype(np.float32)
        for channel in (1, 2):
            out[..., channel] += fade * (masked_blur(lab[..., channel], beside, 0.15 * d) - lab[..., channel])
    changed = np.maximum(skin, region) * share > 0
    return from_lab(out, face, changed)
