"""Image sequences a person can share: a labelled strip of faces and an MP4 of it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

CAPTION_SHARE = 0.14  # the caption band under each tile, as a share of the tile's height
BAND_GREY = 24  # the caption band's and the gaps' grey
GAP = 4  # px between tiles: a photo's edge ran straight into the next photo's
MARGIN = 2  # px kept clear each side of a label


def strip(images: list[np.ndarray], labels: list[str], height: int = 256) -> np.ndarray:
    """The images side by side in one row at `height` px, GAP px apart, each at its own aspect ratio (a square face,
    or a photo at its framing), with its label in a band below it (nothing drawn over an image), as large as the band
    allows and small enough to fit its tile (a tall photo's narrow tiles ran their labels together: "10305070")."""
    band = max(16, int(round(CAPTION_SHARE * height)))
    tiles = []
    for index, (image, label) in enumerate(zip(images, labels)):
        width = max(1, int(round(height * image.shape[1] / image.shape[0])))
        tile = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        caption = np.full((band, width, 3), BAND_GREY, np.uint8)
        scale, thickness = band / 40, 2
        (text_width, text_height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        room = width - 2 * MARGIN
        if text_width > room:  # the font's size is linear in its scale
            scale *= room / text_width
            thickness = 1 if scale < 0.5 else 2
            (text_width, text_height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        origin = (max(MARGIN, (width - text_width) // 2), (band + text_height) // 2)
        cv2.putText(caption, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
        if index:
            tiles.append(np.full((height + band, GAP, 3), BAND_GREY, np.uint8))
        tiles.append(np.concatenate([tile, caption], axis=0))
    return np.concatenate(tiles, axis=1)


def strip_frames(images: list[np.ndarray], labels: list[str], height: int = 256) -> list[np.ndarray]:
    """Each image with its label below, as `strip` draws them, one frame per image (for a GIF or MP4)."""
    return [strip([image], [label], height) for image, label in zip(images, labels)]


# MPEG-4 Part 2 (OpenCV's "mp4v") stores a frame's width and height in 13 bits (ISO/IEC 14496-2, the video object
# layer's video_object_layer_width and _height): OpenCV's writer will not open at 8192 px or more, and a wide photo's
# strip at its own framing (8000 x 306 px: a frame 13,385 px wide) failed the whole request
MP4V_MAX_SIDE = 8191


def write_mp4(frames: list[Image.Image], path: Path, seconds_per_frame: float = 0.6) -> Path:
    """The frames as an MP4 (mp4v), each shown `seconds_per_frame`; frames wider or taller than MP4V_MAX_SIDE are
    shrunk to fit it, their aspect kept (the strip and the GIF keep their size)."""
    width, height = frames[0].size
    if max(width, height) > MP4V_MAX_SIDE:
        shrink = MP4V_MAX_SIDE / max(width, height)
        width, height = max(1, int(width * shrink)), max(1, int(height * shrink))
        frames = [frame.resize((width, height), Image.Resampling.LANCZOS) for frame in frames]
    fps = 10
    fourcc = cv2.VideoWriter_fourcc(*"mp4v")  # type: ignore[attr-defined]  # present at run time, missing from the stubs
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write an MP4 to {path} (its codec or the folder refused it)")
    try:
        for frame in frames:
            bgr = cv2.cvtColor(np.asarray(frame), cv2.COLOR_RGB2BGR)
            for _ in range(max(1, round(seconds_per_frame * fps))):
                writer.write(bgr)
    finally:
        writer.release()
    return path
