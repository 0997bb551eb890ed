"""5-point face alignment to an FFHQ-style crop, and paste-back into the photo through a feathered mask."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.faces.detection import (
    Face,
    NoFaceError,
)

# FFHQ-style 512 px crop: where the five points land (the 5-point template used by
# FFHQ-trained restorers, e.g. facexlib / GFPGAN).
FFHQ_TEMPLATE_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.19360],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ],
    dtype=np.float32,
)


# Where the crop runs past the photo's edge, the photo's edge is extended (never mirrored, which would
# invent ears and hair), blurred, and faded toward a neutral grey over this share of the crop (from looking).
PAD_FADE_SHARE = 0.12
PAD_BLUR_SHARE = 0.03
PAD_NEUTRAL = 128.0


@dataclass(frozen=True)
class AlignedFace:
    crop: np.ndarray  # (size, size, 3) uint8
    matrix: np.ndarray  # (2, 3) original -> crop
    inside: np.ndarray | None = None  # (size, size) float32: 1 where the crop shows the photo, 0 on padding


def alignment_matrix(landmarks: np.ndarray, size: int = 512) -> np.ndarray:
    """Similarity transform (rotation, uniform scale, shift) taking the 5 points to the FFHQ template."""
    template = FFHQ_TEMPLATE_512 * (size / 512.0)
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(landmarks, dtype=np.float32), template, method=cv2.LMEDS)
    if matrix is None:
        raise NoFaceError("The face's landmarks are degenerate: try a clearer, frontal photo.")
    return matrix


def pad_neutral(crop: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The crop with its padding (where `inside` < 1) made of the photo's edge extended, blurred and faded to grey."""
    if inside.min() >= 1.0:
        return crop
    size = crop.shape[0]
    outside = (inside < 0.5).astype(np.uint8)
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, 5)  # pixels from the photo's edge
    fade = np.clip(distance / (PAD_FADE_SHARE * size), 0.0, 1.0)[..., None]
    blurred = cv2.GaussianBlur(crop.astype(np.float32), (0, 0), PAD_BLUR_SHARE * size)
    padding = blurred * (1 - fade) + PAD_NEUTRAL * fade
    weight = 1.0 - inside[..., None]
    return np.clip(np.round(crop * (1 - weight) + padding * weight), 0, 255).astype(np.uint8)


def align_face(rgb: np.ndarray, face: Face, size: int = 512) -> AlignedFace:
    """An FFHQ-style crop; where it runs past the photo, the padding invents no features (`pad_neutral`)."""
    matrix = alignment_matrix(face.landmarks, size)
    crop = cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    ones = np.ones(rgb.shape[:2], np.float32)
    inside = cv2.warpAffine(ones, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return AlignedFace(crop=pad_neutral(crop, inside), matrix=matrix, inside=inside)


def feather_mask(size: int, margin: float = 0.06) -> np.ndarray:
    """(size, size) float mask in [0, 1]: 1 inside, falling smoothly to 0 at the crop's edge."""
    inset = max(2, int(round(margin * size)))
    mask = np.zeros((size, size), np.float32)
    mask[inset:-inset, inset:-inset] = 1.0
    blur = 2 * (inset // 2) + 1
    mask = cv2.GaussianBlur(mask, (blur, blur), 0)
    mask[: inset // 2, :] = mask[-(inset // 2) :, :] = 0.0
    mask[:, : inset // 2] = mask[:, -(inset // 2) :] = 0.0
    return mask


def paste_back(original: np.ndarray, edited_crop: np.ndarray, matrix: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Put an edited aligned crop back into the photo through a feathered mask.

    Pixels where the warped mask is 0 are returned exactly as they were.
    """
    height, width = original.shape[:2]
    size = edited_crop.shape[0]
    if mask is None:
        mask = feather_mask(size)
    inverse = cv2.invertAffineTransform(matrix)
    warped = cv2.warpAffine(edited_crop, inverse, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    weight = cv2.warpAffine(mask, inverse, (width, height), flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
    blended = original.astype(np.float32) * (1.0 - weight) + warped.astype(np.float32) * weight
    result = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    return np.where(weight > 0, result, original)
