"""Every setting of the hub, read from the environment in this one place.

Functions take the frozen `Settings` (or the few fields they need), never the
environment directly, so a test can build its own `Settings` and pass it in.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, overload

from engine.core.gpu import on_zero_gpu

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]

PROFILES = ("full", "offline", "tiny")


def _cuda_available() -> bool:
    """CUDA is usable. On a ZeroGPU Space it is, lent per call: torch is not asked, because asking would
    initialise CUDA in the main process, which ZeroGPU forbids. Without an NVIDIA driver on the machine
    it cannot be, and torch is not imported (start-up stays light on CPU machines); with one, torch is asked."""
    if on_zero_gpu():
        return True
    if not (Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi")):
        return False
    try:
        import torch  # noqa: PLC0415 - torch loads only where a GPU driver is present
    except ImportError:
        return False
    return torch.cuda.is_available()


@overload
def _env_float(name: str, default: float) -> float: ...
@overload
def _env_float(name: str, default: None) -> float | None: ...
def _env_float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def _env_flag(name: str, default: bool | None) -> bool | None:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0 (true/false), got {raw!r}")


def _env_pair(name: str, default: tuple[float, float] | None) -> tuple[float, float] | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        low, high = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(f"{name} must be two numbers such as 5,20, got {raw!r}") from None
    return (low, high)


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
    # HUB_MODEL_REVISION_<NAME>: the revision (commit, tag, branch) of a Hub model to pull.
    model_revisions: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    # HUB_TESTING=1: allows the tiny profile (random models draw noise: tests only).
    testing: bool = False
    # HUB_STORE_DIR: the leaderboard's local results store.
    store_dir: Path = ROOT / "store"
    # HUB_RESULTS_REPO, HUB_REQUESTS_REPO: Hub dataset repos the store syncs with (token: HF_TOKEN).
    results_repo: str | None = None
    requests_repo: str | None = None
    # HUB_JUDGE_BASE_URL, HUB_JUDGE_MODEL, HUB_JUDGE_API_KEY: an OpenAI-compatible VLM judge.
    judge_base_url: str | None = None
    judge_model: str | None = None
    judge_api_key: str | None = None
    # Lifespan (Cradle2Cane) method overrides; None (unset) keeps the method's default, declared
    # once in Cradle2CaneConfig (engine/methods/cradle2cane/pipeline.py), which lifespan_config applies these onto.
    # HUB_ADANI_THRESHOLDS "t1,t2": AdaNI |age gap| boundaries (released config: 5,30).
    adani_thresholds: tuple[float, float] | None = None
    # HUB_ADANI_ONE_THRESHOLD=1: in-the-wild mode, strengths 0.25 / 0.5 only.
    adani_one_threshold: bool | None = None
    # HUB_SVR=1, HUB_SVR_ALPHA, HUB_SVR_BETA: SVR-ArcFace (off in the released weights).
    svr: bool | None = None
    svr_alpha: float | None = None
    svr_beta: float | None = None
    # HUB_ROTATE_MODE (angle | difference), HUB_ROTATE_LAMBDA: Rotate-CLIP.
    rotate_mode: str | None = None
    rotate_lambda: float | None = None
    # GRADIO_ANALYTICS_ENABLED: Gradio's usage analytics; off unless set to 1.
    analytics: bool = False

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"HUB_PROFILE must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if self.max_pixels < 1:
            raise ValueError(f"HUB_MAX_PIXELS must be positive, got {self.max_pixels}")
        if self.min_side < 1:
            raise ValueError(f"HUB_MIN_SIDE must be positive, got {self.min_side}")
        if self.profile == "tiny" and not self.testing:
            raise ValueError(
                "HUB_PROFILE=tiny runs random miniature models that draw noise: it is for tests only "
                "(set HUB_TESTING=1 as the test suite does), use full or offline"
            )
        if not 0.0 < self.detect_threshold < 1.0:
            raise ValueError(f"HUB_DETECT_THRESHOLD must be in (0, 1), got {self.detect_threshold}")

    @property
    def dtype_name(self) -> str:
        """fp16 on CUDA, fp32 on CPU."""
        return "float16" if self.device == "cuda" else "float32"

    @classmethod
    def from_env(cls) -> Settings:
        cuda = _cuda_available()
        profile = os.environ.get("HUB_PROFILE", "").strip().lower() or ("full" if cuda else "offline")
        model_dirs = {
            key[len("HUB_MODEL_DIR_") :].lower(): Path(value).expanduser()
            for key, value in os.environ.items()
            if key.startswith("HUB_MODEL_DIR_") and value.strip()
        }
        model_revisions = {
            key[len("HUB_MODEL_REVISION_") :].lower(): value.strip()
            for key, value in os.environ.items()
            if key.startswith("HUB_MODEL_REVISION_") and value.strip()
        }
        kwargs: dict[str, Any] = dict(
            profile=profile,
            model_revisions=model_revisions,
            max_pixels=int(_env_float("HUB_MAX_PIXELS", cls.max_pixels)),
            min_side=int(_env_float("HUB_MIN_SIDE", cls.min_side)),
            detect_threshold=_env_float("HUB_DETECT_THRESHOLD", cls.detect_threshold),
            age_estimator_source=os.environ.get("HUB_AGE_ESTIMATOR", "").strip() or None,
            model_dirs=model_dirs,
            device="cuda" if cuda else "cpu",
            testing=_env_flag("HUB_TESTING", False),
            adani_thresholds=_env_pair("HUB_ADANI_THRESHOLDS", None),
            adani_one_threshold=_env_flag("HUB_ADANI_ONE_THRESHOLD", None),
            svr=_env_flag("HUB_SVR", None),
            svr_alpha=_env_float("HUB_SVR_ALPHA", None),
            svr_beta=_env_float("HUB_SVR_BETA", None),
            rotate_mode=os.environ.get("HUB_ROTATE_MODE", "").strip() or None,
            rotate_lambda=_env_float("HUB_ROTATE_LAMBDA", None),
            analytics=_env_flag("GRADIO_ANALYTICS_ENABLED", False),
        )
        calibration = _env_path("HUB_CALIBRATION")
        if calibration is not None:
            kwargs["calibration_path"] = calibration
        store = _env_path("HUB_STORE_DIR")
        if store is not None:
            kwargs["store_dir"] = store
        for field_name, variable in (
            ("results_repo", "HUB_RESULTS_REPO"),
            ("requests_repo", "HUB_REQUESTS_REPO"),
            ("judge_base_url", "HUB_JUDGE_BASE_URL"),
            ("judge_model", "HUB_JUDGE_MODEL"),
            ("judge_api_key", "HUB_JUDGE_API_KEY"),
        ):
            kwargs[field_name] = os.environ.get(variable, "").strip() or None
        return cls(**kwargs)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
        logger.info("profile %s on %s", _settings.profile, _settings.device)
    return _settings
