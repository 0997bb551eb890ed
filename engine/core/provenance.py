"""PNG text chunks that say what made an image, with which weights and seed, and that it is AI-edited."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

SOFTWARE = "Face Aging Hub"


def png_info(method: str, checkpoint: str, seed: int | None, manifest: dict, **fields) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", SOFTWARE)
    info.add_text("AI-edited", "yes: this image was generated or edited by an AI model")
    info.add_text("Method", method)
    info.add_text("Checkpoint", str(checkpoint))
    if seed is not None:
        info.add_text("Seed", str(seed))
    for key, value in fields.items():
        info.add_text(key, str(value))
    info.add_text("Manifest", json.dumps(manifest))
    return info


def save_png(image: np.ndarray, path: Path, info: PngImagePlugin.PngInfo) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, pnginfo=info)
    return str(path)
