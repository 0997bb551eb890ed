"""Image sequences a person can share: a labelled strip of faces and an MP4 of it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

CAPTION_SHARE = 0.14  # the caption band under each tile, as a share of the tile's height


def strip(images: list[np.ndarray], labels: list[str], height: int = 256) -> np.ndarray:
    """The faces side by side in one row, each with its label in a band below it (nothing drawn over a face)."""
    band = max(16, int(round(CAPTION_SHARE * height)))
    scale = band / 40
    tiles = []
    for image, label in zip(images, labels):
        tile = cv2.resize(image, (height, height), interpolation=cv2.INTER_AREA)
        caption = np.full((band, height, 3), 24, np.uint8)
        (width, text_height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        origin = (max(2, (height - width) // 2), (band + text_height) // 2)
        cv2.putText(caption, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2, cv2.LINE_AA)
        tiles.append(np.concatenate([tile, caption], axis=0))
    return np.concatenate(tiles, axis=1)


def write_mp4(frames: list[Image.Image], path: Path, seconds_per_frame: float = 0.6) -> Path:

    width, height = frames[0].size
    fps = 10
    fourcc = cv2.VideoWriter_fourcc(*"mp4v")  # type: ignore[attr-defined]  # present at run time, missing from the stubs
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write MP4 to {path}")
    try:
        for frame in frames:
            bgr = cv2.cvtColor(np.asarray(frame), cv2.COLOR_RGB2BGR)
            for _ in range(max(1, round(seconds_per_frame * fps))):
                writer.write(bgr)
    finally:
        writer.release()
    return path
