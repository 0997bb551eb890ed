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


@dataclass(frozen=True)
class AlignedFace:
    crop: np.ndarray  # (size, size, 3) uint8
    matrix: np.ndarray  # (2, 3) original -> crop


def alignment_matrix(landmarks: np.ndarray, size: int = 512) -> np.ndarray:
    """Similarity transform (rotation, uniform scale, shift) taking the 5 points to the FFHQ template."""
    template = FFHQ_TEMPLATE_512 * (size / 512.0)
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(landmarks, dtype=np.float32), template, method=cv2.LMEDS)
    if matrix is None:
        raise NoFaceError("The face's landmarks are degenerate: try a clearer, frontal photo.")
    return matrix


def align_face(rgb: np.ndarray, face: Face, size: int = 512) -> AlignedFace:
    """An FFHQ-style crop; parts outside the photo are filled by reflection."""
    matrix = alignment_matrix(face.landmarks, size)
    crop = cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    return AlignedFace(crop=crop, matrix=matrix)


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
