"""PNG text chunks that say what made an image, with which weights and seed, and that it is AI-edited."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

SOFTWARE = "Face Aging Hub"

# The longest stem of a file written from a photo, in UTF-8 bytes (whole characters): a file system holds 255 bytes a
# name, and an upload named with 249 had its files refused by it after the aging was done ("File name too long")
FILE_STEM_BYTES = 100
# characters no file name holds (path separators), and control characters (a newline in a name)
_UNSAFE = {"/", "\\", "\0"}


def file_stem(name: str) -> str:
    """`name` (a photo's file name without its extension) as the stem of the files written from it: path separators and
    control characters replaced by "_", leading dots and spaces dropped (no hidden file, nor one outside the folder),
    cut to FILE_STEM_BYTES bytes of whole characters; "photo" where nothing is left."""
    safe = "".join("_" if char in _UNSAFE or not char.isprintable() else char for char in name).lstrip(". ")
    while len(safe.encode("utf-8")) > FILE_STEM_BYTES:
        safe = safe[:-1]
    return safe.rstrip() or "photo"


def face_suffix(face_index: int) -> str:
    """What the files of a face other than the photo's largest (face 0) add to their stem, "_face1": face 0's and face 1's
    futures of one photo were both "einstein_70_sample0_face.png", and a second download replaced the first."""
    return f"_face{face_index}" if face_index else ""


# Manifest fields that differ between two runs of the same request (wall-clock timings): the JSON manifest
# and the tabs show them, but they stay out of the images, so that the same request and seed write
# byte-identical PNGs.
PER_RUN_FIELDS = ("timings_s",)


def png_info(method: str, checkpoint: str, seed: int | None, manifest: dict, **fields) -> PngImagePlugin.PngInfo:
    """The text chunks of one image: `manifest` without its per-run fields (PER_RUN_FIELDS)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", SOFTWARE)
    info.add_text("AI-edited", "yes: this image was generated or edited by an AI model")
    info.add_text("Method", method)
    info.add_text("Checkpoint", str(checkpoint))
    if seed is not None:
        info.add_text("Seed", str(seed))
    for key, value in fields.items():
        info.add_text(key, str(value))
    info.add_text("Manifest", json.dumps({key: value for key, value in manifest.items() if key not in PER_RUN_FIELDS}))
    return info


# zlib's level for the PNGs written: 1, not Pillow's default 6. The files are for the page to show and the visitor to
# download at once: measured on Grace Hopper's aged photo (512 x 600) and her 9-age strip, level 1 wrote them in 33 and
# 41 ms against 75 and 102 ms, 7 % larger; a 9-age lifespan writes 19 PNGs (the tab's bar stood still for 1.6 s).
PNG_COMPRESS_LEVEL = 1


def save_png(image: np.ndarray, path: Path, info: PngImagePlugin.PngInfo | None = None) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, pnginfo=info, compress_level=PNG_COMPRESS_LEVEL)
    return str(path)
