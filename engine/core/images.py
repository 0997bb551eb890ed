"""Reading user images safely: every odd file becomes RGB uint8 or a clear error.

Refuses before decoding what would be too big to decode (decompression bombs),
downscales a photo larger than the working size while decoding it (JPEG: DCT
scaling, so a 36 MP photo is never decoded at full size), honours EXIF
orientation, flattens alpha onto white (with a warning when any pixel is not
fully opaque), scales 16-bit samples to 8 bits, and takes the first frame of an
animation with a warning.
"""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from skimage.metrics import structural_similarity

from engine.core.errors import InputError
from engine.core.pixels import to_uint8

__all__ = ["InputError", "LoadedImage", "check_rgb", "keep_photo_notes", "load_image"]


@dataclass
class LoadedImage:
    rgb: np.ndarray  # (H, W, 3) uint8, at most the working size
    name: str
    warnings: list[str] = field(default_factory=list)
    original_size: tuple[int, int] | None = None  # (width, height) as displayed, when downscaled to rgb

    @property
    def scale(self) -> float:
        """Pixels of the original photo per pixel of `rgb` (1.0 when not downscaled)."""
        if self.original_size is None:
            return 1.0
        return max(self.original_size) / max(self.rgb.shape[:2])

    @property
    def note(self) -> str:
        """What the loader did to the photo's size, for the user (empty when nothing)."""
        if self.original_size is None:
            return ""
        height, width = self.rgb.shape[:2]
        return f"{self.name} is {self.original_size[0]}x{self.original_size[1]} px: processed at {width}x{height} px (the working size)."


def keep_photo_notes(warnings: list[str], *images: LoadedImage | None) -> None:
    """Put what the loader did to each photo (a first frame taken, transparency flattened onto white, a large photo
    processed at the working size: its outputs are that size), shown when it opened, at the head of an output's
    `warnings`, so that the manifest records it too."""
    warnings[:0] = [
        note for image in images if image is not None for note in [*image.warnings, image.note] if note and note not in warnings
    ]


def check_rgb(rgb, what: str = "photo") -> np.ndarray:
    """`rgb` as the engine takes a photo: an (H, W, 3) uint8 array, or InputError saying what it is instead."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        got = f"{rgb.dtype} array of shape {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise InputError(
            f"the {what} must be an RGB image, an (H, W, 3) uint8 array, got a {got}: load it with engine.core.images.load_image"
        )
    if rgb.size == 0:
        raise InputError(f"the {what} is empty ({rgb.shape[1]}x{rgb.shape[0]} px): give a photo with a face in it")
    return rgb


def _describe(source: str | os.PathLike | bytes) -> str:
    return "uploaded bytes" if isinstance(source, (bytes, bytearray)) else str(source)


def _to_rgb(image: Image.Image) -> tuple[Image.Image, float]:
    """Convert any PIL mode to RGB without clipping 16-bit or dropping alpha onto black; with the share of
    pixels that were not fully opaque (0.0 without an alpha channel), which were flattened onto white."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        # 16-bit samples span 0..65535; "I" and "F" can hold anything, so use their range.
        top = 65535.0 if mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        if mode in ("I", "F") and array.max(initial=0) > 65535:
            top = float(array.max())
        gray = to_uint8(array / top * 255.0)
        return Image.fromarray(gray, "L").convert("RGB"), 0.0
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        transparent = float(np.mean(np.asarray(rgba.getchannel("A")) < 255))
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB"), transparent
    if mode != "RGB":
        return image.convert("RGB"), 0.0
    return image, 0.0


def load_image(
    source: str | os.PathLike | bytes,
    *,
    max_pixels: int,
    min_side: int,
    name: str | None = None,
    working_side: int | None = None,
) -> LoadedImage:
    """Open `source` (a path or bytes) as RGB uint8, or raise InputError saying why.

    `name` is how messages refer to the file (default: its path). With `working_side`, a photo whose
    longer side is larger is downscaled to it (aspect kept; a JPEG is decoded at a reduced scale first),
    and `original_size` says the size it had.
    """
    name = name or _describe(source)
    if isinstance(source, (bytes, bytearray)):
        if len(source) == 0:
            raise InputError("The file is empty (0 bytes): upload a JPEG or PNG photo.")
        stream: io.BytesIO | Path = io.BytesIO(source)
    else:
        path = Path(source)
        if not path.exists():
            raise InputError(f"{name}: no such file.")
        if path.is_dir():
            raise InputError(f"{name} is a folder, not an image file.")
        if path.stat().st_size == 0:
            raise InputError(f"{name} is empty (0 bytes): upload a JPEG or PNG photo.")
        stream = path

    warnings: list[str] = []
    try:
        with Image.open(stream) as image:
            width, height = image.size  # read from the header, nothing decoded yet
            if width * height > max_pixels:
                raise InputError(
                    f"{name} is {width}x{height} px ({width * height / 1e6:.0f} MP), over the "
                    f"{max_pixels / 1e6:.0f} MP limit: resize it below that and try again."
                )
            if min(width, height) < min_side:
                raise InputError(
                    f"{name} is only {width}x{height} px: a face needs at least {min_side}x{min_side} px. Upload a larger photo."
                )
            frames = getattr(image, "n_frames", 1)
            if frames > 1:
                image.seek(0)
                warnings.append(f"{name} is animated ({frames} frames): only the first frame is used.")
            target = working_side if working_side is not None and max(width, height) > working_side else None
            if target is not None:
                factor = target / max(width, height)
                # rounded up: thumbnail() rounds the shorter side either way (whichever keeps the aspect closer), and a
                # photo it would keep at the minimum is kept
                shorter = math.ceil(min(width, height) * factor)
                if shorter < min_side:  # a strip this thin has no face at the working size: said before it is decoded
                    raise InputError(
                        f"{name} is {width}x{height} px: shrunk to the working size ({target} px on its longer side), "
                        f"its shorter side would be {shorter} px at most, under the {min_side} px a face needs. Crop it "
                        "to the part with the face and try again."
                    )
                # JPEG: decode at 1/2, 1/4 or 1/8 scale, never smaller than asked (a no-op for other formats)
                image.draft(None, (math.ceil(width * factor), math.ceil(height * factor)))
            image.load()
            oriented = ImageOps.exif_transpose(image)
            turned = oriented.size != image.size  # EXIF rotated it by 90 degrees
            original_size = (height, width) if turned else (width, height)
            converted, transparent = _to_rgb(oriented)
            if transparent > 0:
                share = (
                    "all"
                    if transparent == 1
                    else "under 1%"
                    if transparent < 0.01
                    else "over 99%"
                    if transparent > 0.99
                    else f"{transparent:.0%}"
                )
                warnings.append(
                    f"{name} has an alpha channel with transparency ({share} of its pixels are transparent or "
                    "half-transparent): they were flattened onto white, so a half-transparent face looks paler "
                    "than it is. Upload the photo without transparency to keep its colours."
                )
            if target is not None:
                converted.thumbnail((target, target), Image.Resampling.LANCZOS)
            rgb = np.array(converted, dtype=np.uint8)
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{name} is not an image that can be read: upload a JPEG, PNG, WebP, GIF, BMP or TIFF.") from None
    except Image.DecompressionBombError as error:
        # PIL refuses far-too-large headers inside open(), before our own check can run.
        pixels = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{int(pixels.group(1)) / 1e6:.0f} MP" if pixels else "too large"
        raise InputError(
            f"{name} is {size}, over the {max_pixels / 1e6:.0f} MP limit: resize it below that and try again."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InputError(f"{name} is truncated or corrupt ({error}): re-export or re-upload the file.") from None
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError(f"{name} decoded to an unexpected shape {rgb.shape}: save it as an RGB JPEG or PNG.")
    return LoadedImage(rgb=rgb, name=name, warnings=warnings, original_size=original_size if target is not None else None)


def mean_pairwise_structural_distance(images: list[np.ndarray]) -> float | None:
    """Mean over pairs of 1 - SSIM (greyscale, 7 px windows: skimage's default after Wang et al. 2004)
    of same-size uint8 RGB images: how different a set looks, pixel structure rather than identity.
    None for fewer than two images."""
    if len(images) < 2:
        return None
    shapes = {image.shape for image in images}
    if len(shapes) != 1:
        raise ValueError(f"structural distance needs images of one size, got {sorted(shapes)}")
    grey = [np.asarray(Image.fromarray(image).convert("L"), dtype=np.float64) for image in images]
    distances = [
        1.0 - structural_similarity(grey[i], grey[j], data_range=255.0) for i in range(len(grey)) for j in range(i + 1, len(grey))
    ]
    return float(np.mean(distances))
