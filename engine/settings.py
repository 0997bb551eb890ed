"""Every setting of the hub, read from the environment in this one place.

Functions take the frozen `Settings` (or the few fields they need), never the
environment directly, so a test can build its own `Settings` and pass it in.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ("full", "offline", "tiny")


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def _env_path(name: str) -> Path | None:
    raw = os.environ.get(name, "").strip()
    return Path(raw).expanduser() if raw else None


@dataclass(frozen=True)
class Settings:
    """The hub's settings; `from_env()` documents each environment variable."""

    # HUB_PROFILE: full (Hub weights, GPU Space), offline (registry models only),
    # tiny (random tiny models, tests only). Default: full with CUDA, else offline.
    profile: str = "offline"
    # HUB_CALIBRATION: the conformal calibration artefact written by
    # `python -m engine calibrate`; without it intervals are "uncalibrated".
    calibration_path: Path = ROOT / "calibration" / "age_conformal.json"
    # HUB_MAX_PIXELS: images above this many pixels are refused before decoding.
    max_pixels: int = 40_000_000
    # HUB_MIN_SIDE: images with a shorter side than this (px) are refused.
    min_side: int = 16
    # HUB_DETECT_THRESHOLD: YuNet face score threshold.
    detect_threshold: float = 0.6
    # HUB_AGE_ESTIMATOR: a Hub repo id or local folder of a transformers image
    # classifier whose labels are integer ages (full profile only).
    age_estimator_source: str | None = None
    # HUB_MODEL_DIR_<NAME>: a local folder that replaces a Hub model's repo id.
    model_dirs: dict[str, Path] = field(default_factory=dict)
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"HUB_PROFILE must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if self.max_pixels < 1:
            raise ValueError(f"HUB_MAX_PIXELS must be positive, got {self.max_pixels}")
        if self.min_side < 1:
            raise ValueError(f"HUB_MIN_SIDE must be positive, got {self.min_side}")
        if not 0.0 < self.detect_threshold < 1.0:
            raise ValueError(f"HUB_DETECT_THRESHOLD must be in (0, 1), got {self.detect_threshold}")

    @property
    def dtype_name(self) -> str:
        """fp16 on CUDA, fp32 on CPU."""
        return "float16" if self.device == "cuda" else "float32"

    @classmethod
    def from_env(cls) -> "Settings":
        cuda = _cuda_available()
        profile = os.environ.get("HUB_PROFILE", "").strip().lower() or ("full" if cuda else "offline")
        model_dirs = {
            key[len("HUB_MODEL_DIR_"):].lower(): Path(value).expanduser()
            for key, value in os.environ.items()
            if key.startswith("HUB_MODEL_DIR_") and value.strip()
        }
        kwargs = dict(
            profile=profile,
            max_pixels=int(_env_float("HUB_MAX_PIXELS", cls.max_pixels)),
            min_side=int(_env_float("HUB_MIN_SIDE", cls.min_side)),
            detect_threshold=_env_float("HUB_DETECT_THRESHOLD", cls.detect_threshold),
            age_estimator_source=os.environ.get("HUB_AGE_ESTIMATOR", "").strip() or None,
            model_dirs=model_dirs,
            device="cuda" if cuda else "cpu",
        )
        calibration = _env_path("HUB_CALIBRATION")
        if calibration is not None:
            kwargs["calibration_path"] = calibration
        return cls(**kwargs)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
        logger.info("profile %s on %s", _settings.profile, _settings.device)
    return _settings
