"""Every setting of the hub, read from the environment in this one place.

Functions take the frozen `Settings` (or the few fields they need), never the
environment directly, so a test can build its own `Settings` and pass it in.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, overload

from engine.core import limits
from engine.core.errors import SettingsError
from engine.core.gpu import on_zero_gpu

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]

PROFILES = ("full", "offline", "tiny")

# HUB_LDLA_REFINER values and what each runs, as the zones tab and the manifest name it.
REFINER_LABELS = {
    "turbo": "SDXL-Turbo img2img at a very small strength, zone LoRA off (the paper uses the SDXL refiner: "
    "HUB_LDLA_REFINER=sdxl-refiner)",
    "sdxl-refiner": "SDXL refiner 1.0 img2img at a very small strength, as the paper",
}

LDLA_REFINERS = tuple(REFINER_LABELS)

# HUB_SCHEDULER values -> the diffusers scheduler class built from the model's own scheduler config.
SCHEDULERS = {"euler_ancestral": "EulerAncestralDiscreteScheduler", "euler": "EulerDiscreteScheduler"}

# The conformal age-estimation report's synthetic-face probe (its table "Checking CP Age Estimator on
# Generated Images"): prompted ages 1, 5, 10, ..., 100, UTKFace's two genders and its named races
# (0-3: White, Black, Asian, Indian; race 4, "Other", names no one a prompt could draw).
PROBE_AGES = (1, *range(5, 101, 5))
PROBE_GENDERS = ("female", "male")
PROBE_ETHNICITIES = ("White", "Black", "Asian", "Indian")
PROBE_MAX_AGE = 120  # the oldest age a results record holds (evaluation/tasks.py); the report prompts up to 100


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


def _env_int(name: str, default: int) -> int:
    """A whole number from the environment; "1.5" is refused, not rounded ("1e6" and "2.0" are whole)."""
    value = _env_float(name, default)
    if not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number, got {os.environ.get(name)!r}")
    return int(value)


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


def _env_list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _env_ages(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in _env_list(name, tuple(map(str, default))))
    except ValueError:
        raise ValueError(f"{name} must be whole ages separated by commas such as 1,5,10, got {os.environ.get(name)!r}") from None


def _env_path(name: str) -> Path | None:
    raw = os.environ.get(name, "").strip()
    return Path(raw).expanduser() if raw else None


REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _calibration_source(raw: str) -> dict[str, Any]:
    """HUB_CALIBRATION as settings: an existing file or a *.json path is a path; ORG/NAME[@REV] is a Hub repo."""
    if not raw:
        return {}
    path = Path(raw).expanduser()
    repo, _, revision = raw.partition("@")
    if not path.exists() and path.suffix.lower() != ".json" and REPO_ID.match(repo):
        return {"calibration_repo": repo, "calibration_revision": revision or None}
    return {"calibration_path": path}


@dataclass(frozen=True)
class Settings:
    """The hub's settings; `from_env()` documents each environment variable."""

    # HUB_PROFILE: full (Hub weights, GPU Space), offline (registry models only),
    # tiny (random tiny models, tests only). Default: full with CUDA, else offline.
    profile: str = "offline"
    # HUB_CALIBRATION: the conformal calibration artefact written by
    # `python -m engine calibrate`: a path, or a Hub model repo id (ORG/NAME or
    # ORG/NAME@REVISION) holding age_conformal.json. Without one there is no interval.
    calibration_path: Path = ROOT / "calibration" / "age_conformal.json"
    calibration_repo: str | None = None
    calibration_revision: str | None = None
    # HUB_MAX_PIXELS: images above this many pixels are refused before decoding.
    max_pixels: int = limits.MAX_PIXELS
    # HUB_MIN_SIDE: images with a shorter side than this (px) are refused.
    min_side: int = limits.MIN_SIDE
    # HUB_MAX_UPLOAD_MB: the server refuses a larger upload before storing it.
    max_upload_bytes: int = limits.MAX_UPLOAD_BYTES
    # HUB_TEMP_KEEP_S, HUB_TEMP_CHECK_S: uploads and results are deleted once older than keep, checked every check.
    temp_keep_s: int = limits.TEMP_KEEP_S
    temp_check_s: int = limits.TEMP_CHECK_S
    # HUB_DETECT_THRESHOLD: YuNet face score threshold.
    detect_threshold: float = 0.6
    # HUB_AGE_ESTIMATOR: a Hub repo id or local folder of a transformers image
    # classifier whose labels are integer ages (full profile only).
    age_estimator_source: str | None = None
    # HUB_MODEL_DIR_<NAME>: a local folder that replaces a Hub model's repo id.
    model_dirs: dict[str, Path] = field(default_factory=dict)
    # HUB_MODEL_REVISION_<NAME>: the revision (commit, tag, branch) of a Hub model to pull.
    model_revisions: dict[str, str] = field(default_factory=dict)
    # HUB_MODEL_REPO_<NAME>: a Hub repo (ORG/NAME) to pull a checkpoint from in place of the catalogue's (a checkpoint
    # shared with `train.push`: CRADLE2CANE, SCORENET, AGE_ENCODER, LDLA), at HUB_MODEL_REVISION_<NAME>.
    model_repos: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    # HUB_TESTING=1: allows the tiny profile (random models draw noise: tests only).
    testing: bool = False
    # HUB_STORE_DIR: the leaderboard's local results store.
    store_dir: Path = ROOT / "store"
    # HUB_RESULTS_REPO, HUB_REQUESTS_REPO: Hub dataset repos the store syncs with (token: HF_TOKEN).
    results_repo: str | None = None
    requests_repo: str | None = None
    # HUB_SYNC_MINUTES: how often changed results and requests are committed to those repos.
    sync_minutes: float = 1.0
    # HUB_JUDGE_BASE_URL, HUB_JUDGE_MODEL, HUB_JUDGE_API_KEY: an OpenAI-compatible VLM judge; the
    # standard OPENAI_BASE_URL and OPENAI_API_KEY are read when the HUB_ ones are unset. The judge
    # scores verified submissions when a model and a key (or a base URL) are set.
    judge_base_url: str | None = None
    judge_model: str | None = None
    judge_api_key: str | None = None
    # HUB_ADMIN_TOKEN: the maintainer's token for reviewing reported claims when not on a Space
    # (unset: nobody can review locally).
    admin_token: str | None = None
    # SPACE_AUTHOR_NAME (set by Hugging Face Spaces): the Space's owner, who reviews claims when
    # logged in with Hugging Face.
    space_owner: str | None = None
    # HUB_PROXY_HOPS: how many proxies in front of the app append to X-Forwarded-For (on a Space: the Hub's). An
    # anonymous submitter's address is the entry that many from the header's right end, the one the outermost of them
    # saw connect; entries left of it are whatever the client sent, so keying the rate limit on them let anyone reset it.
    # The Hub does not document its proxies: 1 is an assumption, to be checked against the header a Space receives.
    proxy_hops: int = 1
    # OAUTH_CLIENT_ID (set on a Space with `hf_oauth: true`) or HUB_LOGIN=1: show "Sign in with
    # Hugging Face". Off elsewhere: Gradio's local stand-in for the login needs a machine logged in to the Hub.
    login: bool = False
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
    # HUB_ROTATE_MODE (angle | vector | difference), HUB_ROTATE_LAMBDA: Rotate-CLIP.
    rotate_mode: str | None = None
    rotate_lambda: float | None = None
    # HUB_PASS1_LATENTS (sample | mean): pass-1 start latents drawn from the VAE posterior with the
    # request's seed (published inference) or its mean.
    pass1_latents: str | None = None
    # HUB_CLIP_PREPROCESS (rescaled | unscaled): CLIP image input scaled to [0, 1] before its
    # normalisation (as the released weights were trained) or not (as the published inference runs).
    clip_preprocess: str | None = None
    # HUB_PASS2_INPUT (float | 8bit): pass 2 starts from the pass-1 image as computed, or rounded to
    # 8 bits as the published inference does.
    pass2_input: str | None = None
    # HUB_SCHEDULER (euler_ancestral | euler): replaces the scheduler SDXL-Turbo ships
    # (EulerAncestralDiscrete in its scheduler config); unset keeps the model's own.
    scheduler: str | None = None
    # HUB_LDLA_REFINER (turbo | sdxl-refiner): the zone editor's whole-face refiner: the shared
    # SDXL-Turbo at a very small strength (default), or the paper's separate SDXL refiner 1.0.
    ldla_refiner: str = "turbo"
    # HUB_LDLA_PROMPT_ETHNICITY=1: the zone prompt names the ethnicity (the paper's prompt); unset,
    # it does not, as train.zones trains.
    ldla_prompt_ethnicity: bool = False
    # HUB_CLASSICAL_TEXTURE=0: the classical lifespan model leaves out the prototype skin-texture
    # transfer (engine/methods/classical/texture.py); on by default.
    classical_texture: bool = True
    # HUB_CLASSICAL_PHOTO_RESOLUTION=0: the classical renderers draw an older face's wrinkles, texture and spots (and the
    # zone editor's creases) at the aligned crop's own resolution, finer than a small photo holds (as the prototype
    # transfer's paper does, whose faces share one resolution); on by default: kept to the photo's pixels
    # (alignment.change_at_photo_resolution).
    classical_photo_resolution: bool = True
    # HUB_CLASSICAL_CHILD_SKIN=1: a child's target under 16 also gets rosier cheeks and fainter brows
    # (engine/methods/classical/childskin.py); off by default: on the astronaut at 10 it takes the SFace
    # similarity to her photo from 0.805 to 0.792, under the renderer's 0.80 floor.
    classical_child_skin: bool = False
    # HUB_CLASSICAL_NECK_STRETCH: toward a child the classical lifespan model's cardioidal strain raises the chin, and
    # the neck below it is stretched where the strain fades out before the frame's edge (engine/methods/classical/
    # youth.py); where the photo ends close under the chin the strain is weakened so that the neck is stretched at most
    # this many times (the stage and a warning say so). 0: the strain in full, as the growth model has it. The default
    # from looking, on Takeo's portrait framed to end 0.35 d under his chin: his neck stretched 2.0 times (the full
    # strain at 10) reads as a neck, 3.2 (at 5) and 4.7 (at 0) as vertical streaks; the packaged portraits with their
    # necks below the crop stretch theirs 1.6-1.8 times at 0. A child's photo grown older lowers the chin, squeezing the
    # neck: at most this many times too; whatever the setting, short of folding the frame over (youth.UNFOLDED_SQUEEZE).
    classical_neck_stretch: float = 2.0
    # HUB_CLASSICAL_HAIR_PIGMENT (#rrggbb, sRGB): the colour grey hair is given back toward a younger target
    # when too few of the person's own pigmented strands are left to measure (engine/methods/classical/hair.py).
    # The default, a medium brown, is a guess (from looking at brown hair in portraits; brown is the commonest
    # adult hair colour in Europe); the manifest says when it was used.
    classical_hair_pigment: str = "#5f4632"
    # HUB_CLASSICAL_WORKERS: threads the classical renderer draws a strip's ages (and the pluralistic futures) on at
    # once (engine/core/workers.py); 0 or unset: as many as this process has CPUs. 1 draws them one after another.
    # The images are the same either way.
    classical_workers: int = 0
    # GRADIO_ANALYTICS_ENABLED: Gradio's usage analytics; off unless set to 1.
    analytics: bool = False
    # The synthetic-face probe's grid (`python -m leaderboard.evaluate --task probe`): one face per
    # prompted age x gender x ethnicity x seed. HUB_PROBE_AGES "1,5,10", HUB_PROBE_GENDERS "female,male",
    # HUB_PROBE_ETHNICITIES "White,Black", HUB_PROBE_SEEDS (faces per cell, seeds 0..n-1).
    probe_ages: tuple[int, ...] = PROBE_AGES
    probe_genders: tuple[str, ...] = PROBE_GENDERS
    probe_ethnicities: tuple[str, ...] = PROBE_ETHNICITIES
    probe_seeds: int = 1

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"HUB_PROFILE must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if self.max_pixels < 1:
            raise ValueError(f"HUB_MAX_PIXELS must be positive, got {self.max_pixels}")
        if self.min_side < 1:
            raise ValueError(f"HUB_MIN_SIDE must be positive, got {self.min_side}")
        if self.max_upload_bytes < 1:
            raise ValueError(f"HUB_MAX_UPLOAD_MB must be positive, got {self.max_upload_bytes / 2**20:g}")
        if self.temp_keep_s < 1 or self.temp_check_s < 1:
            raise ValueError(
                f"HUB_TEMP_KEEP_S and HUB_TEMP_CHECK_S must be whole seconds of at least 1, got {self.temp_keep_s}, {self.temp_check_s}"
            )
        if self.profile == "tiny" and not self.testing:
            raise ValueError(
                "HUB_PROFILE=tiny runs random miniature models that draw noise: it is for tests only "
                "(set HUB_TESTING=1 as the test suite does), use full or offline"
            )
        if not self.sync_minutes > 0:
            raise ValueError(f"HUB_SYNC_MINUTES must be positive, got {self.sync_minutes}")
        if self.scheduler is not None and self.scheduler not in SCHEDULERS:
            raise ValueError(f"HUB_SCHEDULER must be one of {', '.join(SCHEDULERS)} or unset, got {self.scheduler!r}")
        if self.ldla_refiner not in LDLA_REFINERS:
            raise ValueError(f"HUB_LDLA_REFINER must be one of {', '.join(LDLA_REFINERS)}, got {self.ldla_refiner!r}")
        if not 0.0 < self.detect_threshold < 1.0:
            raise ValueError(f"HUB_DETECT_THRESHOLD must be in (0, 1), got {self.detect_threshold}")
        if not self.probe_ages or any(not 0 <= age <= PROBE_MAX_AGE for age in self.probe_ages):
            raise ValueError(f"HUB_PROBE_AGES must be ages from 0 to {PROBE_MAX_AGE}, got {self.probe_ages}")
        if not self.probe_genders or any(g not in PROBE_GENDERS for g in self.probe_genders):
            raise ValueError(f"HUB_PROBE_GENDERS must be among {', '.join(PROBE_GENDERS)}, got {self.probe_genders}")
        if not self.probe_ethnicities:
            raise ValueError("HUB_PROBE_ETHNICITIES must name at least one ethnicity, e.g. White,Black,Asian,Indian")
        if re.fullmatch(r"#[0-9a-fA-F]{6}", self.classical_hair_pigment) is None:
            raise ValueError(
                f"HUB_CLASSICAL_HAIR_PIGMENT must be an sRGB colour written #rrggbb (e.g. #5f4632), got {self.classical_hair_pigment!r}"
            )
        if self.classical_neck_stretch != 0 and not self.classical_neck_stretch >= 1:
            raise ValueError(
                "HUB_CLASSICAL_NECK_STRETCH must be 0 (the strain in full, short of a fold) or the most the neck may be "
                "stretched (or squeezed, as a child's photo grows older), 1 or more (e.g. 2), "
                f"got {self.classical_neck_stretch}"
            )
        if self.classical_workers < 0:
            raise ValueError(
                f"HUB_CLASSICAL_WORKERS must be 0 (as many as there are CPUs) or a number of threads, got {self.classical_workers}"
            )
        if self.proxy_hops < 1:
            raise ValueError(f"HUB_PROXY_HOPS must be at least 1 (the proxy in front of the app), got {self.proxy_hops}")
        if self.probe_seeds < 1:
            raise ValueError(f"HUB_PROBE_SEEDS must be at least 1 face per cell, got {self.probe_seeds}")

    @property
    def dtype_name(self) -> str:
        """fp16 on CUDA, fp32 on CPU."""
        return "float16" if self.device == "cuda" else "float32"

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the environment gives (a value it cannot take: SettingsError, naming it, which the commands and
        the app print as one line; a traceback hid it)."""
        try:
            return cls._from_env()
        except SettingsError:
            raise
        except ValueError as error:
            raise SettingsError(str(error)) from None

    @classmethod
    def _from_env(cls) -> Settings:
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
        model_repos = {
            key[len("HUB_MODEL_REPO_") :].lower(): value.strip()
            for key, value in os.environ.items()
            if key.startswith("HUB_MODEL_REPO_") and value.strip()
        }
        for name, repo in model_repos.items():
            if not REPO_ID.match(repo):
                raise ValueError(f"HUB_MODEL_REPO_{name.upper()} must be a Hub repo id ORG/NAME, got {repo!r}")
        kwargs: dict[str, Any] = dict(
            profile=profile,
            model_revisions=model_revisions,
            model_repos=model_repos,
            max_pixels=_env_int("HUB_MAX_PIXELS", cls.max_pixels),
            min_side=_env_int("HUB_MIN_SIDE", cls.min_side),
            max_upload_bytes=round(_env_float("HUB_MAX_UPLOAD_MB", cls.max_upload_bytes / 2**20) * 2**20),
            temp_keep_s=_env_int("HUB_TEMP_KEEP_S", cls.temp_keep_s),
            temp_check_s=_env_int("HUB_TEMP_CHECK_S", cls.temp_check_s),
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
            sync_minutes=_env_float("HUB_SYNC_MINUTES", cls.sync_minutes),
            pass1_latents=os.environ.get("HUB_PASS1_LATENTS", "").strip() or None,
            clip_preprocess=os.environ.get("HUB_CLIP_PREPROCESS", "").strip() or None,
            scheduler=os.environ.get("HUB_SCHEDULER", "").strip() or None,
            ldla_refiner=os.environ.get("HUB_LDLA_REFINER", "").strip() or cls.ldla_refiner,
            ldla_prompt_ethnicity=bool(_env_flag("HUB_LDLA_PROMPT_ETHNICITY", False)),
            classical_texture=bool(_env_flag("HUB_CLASSICAL_TEXTURE", True)),
            classical_photo_resolution=bool(_env_flag("HUB_CLASSICAL_PHOTO_RESOLUTION", True)),
            classical_child_skin=bool(_env_flag("HUB_CLASSICAL_CHILD_SKIN", False)),
            classical_neck_stretch=_env_float("HUB_CLASSICAL_NECK_STRETCH", cls.classical_neck_stretch),
            classical_hair_pigment=os.environ.get("HUB_CLASSICAL_HAIR_PIGMENT", "").strip() or cls.classical_hair_pigment,
            classical_workers=_env_int("HUB_CLASSICAL_WORKERS", cls.classical_workers),
            proxy_hops=_env_int("HUB_PROXY_HOPS", cls.proxy_hops),
            pass2_input=os.environ.get("HUB_PASS2_INPUT", "").strip() or None,
            analytics=_env_flag("GRADIO_ANALYTICS_ENABLED", False),
            probe_ages=_env_ages("HUB_PROBE_AGES", cls.probe_ages),
            probe_genders=_env_list("HUB_PROBE_GENDERS", cls.probe_genders),
            probe_ethnicities=_env_list("HUB_PROBE_ETHNICITIES", cls.probe_ethnicities),
            probe_seeds=_env_int("HUB_PROBE_SEEDS", cls.probe_seeds),
        )
        kwargs.update(_calibration_source(os.environ.get("HUB_CALIBRATION", "").strip()))
        store = _env_path("HUB_STORE_DIR")
        if store is not None:
            kwargs["store_dir"] = store
        for field_name, variable in (
            ("results_repo", "HUB_RESULTS_REPO"),
            ("requests_repo", "HUB_REQUESTS_REPO"),
            ("judge_base_url", "HUB_JUDGE_BASE_URL"),
            ("judge_model", "HUB_JUDGE_MODEL"),
            ("judge_api_key", "HUB_JUDGE_API_KEY"),
            ("admin_token", "HUB_ADMIN_TOKEN"),
            ("space_owner", "SPACE_AUTHOR_NAME"),
        ):
            kwargs[field_name] = os.environ.get(variable, "").strip() or None
        kwargs["login"] = bool(os.environ.get("OAUTH_CLIENT_ID", "").strip()) or bool(_env_flag("HUB_LOGIN", False))
        for field_name, standard in (("judge_base_url", "OPENAI_BASE_URL"), ("judge_api_key", "OPENAI_API_KEY")):
            kwargs[field_name] = kwargs[field_name] or os.environ.get(standard, "").strip() or None
        return cls(**kwargs)

    @property
    def judge_configured(self) -> bool:
        """A model and somewhere to send it: a key (the default OpenAI endpoint) or a base URL."""
        return bool(self.judge_model and (self.judge_api_key or self.judge_base_url))

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
