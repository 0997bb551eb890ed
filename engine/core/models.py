"""The model cache every tab shares.

Each model is declared once (`ModelSpec`: name, where its weights come from, its
licence, its loader). `ModelCache.get(name)` builds it on first use and keeps it;
a model that cannot be built is remembered as missing with the reason and what
to do, which the page lists, and is not tried again for RETRY_SECONDS or until
`clear()` (settings are frozen: other settings get a cache of their own,
`registry.get_cache`).
"""

from __future__ import annotations

import importlib
import importlib.resources
import importlib.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.settings import Settings, get_settings

# A model that could not be built is tried again after this long: often enough that a Space recovers from a
# brief Hub outage within minutes, rarely enough that a render asking for an optional model on every call does
# not retry (and log) each time (a choice).
RETRY_SECONDS = 300.0

logger = logging.getLogger(__name__)


# Model calls that change shared state (e.g. switching a LoRA on a shared pipeline) hold this lock.
GPU_LOCK = threading.RLock()


def use_adapter(pipe, name: str | None) -> None:
    """Run `pipe` with only LoRA adapter `name` active, or with every adapter off (None).

    Pipelines are shared (lifespan aging and the zone renderer may both hold an
    adapter on one SDXL-Turbo); call this under GPU_LOCK right before the call.
    """
    loaded = getattr(pipe.unet, "peft_config", None) or {}
    if name is None:
        if loaded:
            pipe.disable_lora()
        return
    if name not in loaded:
        raise KeyError(f"LoRA adapter {name!r} is not loaded on this pipeline (loaded: {sorted(loaded)})")
    if len(loaded) > 1:
        pipe.set_adapters([name])
    pipe.enable_lora()


class ModelUnavailable(RuntimeError):
    """A model cannot be built here; the message says why and how to provide it."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    task: str
    # "package:<dist>/<path>" (a file inside an installed package), "hub:<repo id>"
    # (a Hub repo, replaceable by the folder in HUB_MODEL_DIR_<NAME>), or
    # "setting:<ENV VAR>" (a repo id or folder the user names).
    source: str
    licence: str
    profiles: tuple[str, ...]
    # "package.module:function": the function that builds the model from (spec, settings). Named, not
    # imported, so the catalogue of every model lives here in core while each loader lives beside the
    # code it builds (faces, age, methods), and listing the models imports none of them (no torch).
    # A callable (spec, settings) -> model is taken as it is (tests, plugins).
    loader: str | Callable[[ModelSpec, Settings], Any]
    install: str = ""  # what makes the source available, for the page and errors

    def load(self, settings: Settings) -> Any:
        loader = self.loader
        if isinstance(loader, str):
            module, _, function = loader.partition(":")
            loader = getattr(importlib.import_module(module), function)
        return loader(self, settings)


def package_file(spec: ModelSpec) -> Path:
    """The file a `package:` source names, or ModelUnavailable saying what to install."""
    kind, _, rest = spec.source.partition(":")
    if kind != "package":
        raise ValueError(f"{spec.name}: source {spec.source!r} is not a package file")
    package, _, relative = rest.partition("/")
    if importlib.util.find_spec(package) is None:
        raise ModelUnavailable(f"{spec.name}: Python package {package!r} is not installed; {spec.install}")
    path = Path(str(importlib.resources.files(package))) / relative
    if not path.is_file():
        raise ModelUnavailable(f"{spec.name}: {path} is missing from package {package!r}; {spec.install}")
    return path


def hub_source(spec: ModelSpec, settings: Settings) -> str:
    """A local folder named by HUB_MODEL_DIR_<NAME>, else the Hub repo id: HUB_MODEL_REPO_<NAME>'s (a shared
    checkpoint), or the catalogue's."""
    local = settings.model_dirs.get(spec.name)
    if local is not None:
        if not local.is_dir():
            raise ModelUnavailable(
                f"{spec.name}: HUB_MODEL_DIR_{spec.name.upper()}={local} is not a folder; "
                f"download {spec.source.partition(':')[2]} there or unset it"
            )
        return str(local)
    return settings.model_repos.get(spec.name) or spec.source.partition(":")[2]


# (name, repo, revision asked) -> the commit a pull resolved it to: outputs name the commit, also where none was asked
_pulled: dict[tuple[str, str, str | None], str] = {}


def checkpoint_name(name: str, settings: Settings, default: str) -> str:
    """How outputs name the checkpoint `name` was read from: a local folder by its name and the setting that named it
    (not its server path), a shared repo with the revision asked or the commit it was pulled at, else `default`."""
    local = settings.model_dirs.get(name)
    if local is not None:
        return f"local folder {Path(local).name!r} (HUB_MODEL_DIR_{name.upper()})"
    repo = settings.model_repos.get(name)
    if repo:
        revision = settings.model_revisions.get(name)
        pulled = _pulled.get((name, repo, revision))
        return f"{repo}@{revision or pulled}" if revision or pulled else repo
    return default


def pulled_folder(name: str, settings: Settings, patterns: list[str]) -> Path | None:
    """The checkpoint folder of `name`: HUB_MODEL_DIR_<NAME>'s, else a download of HUB_MODEL_REPO_<NAME> (a checkpoint
    shared with `train.push`) at HUB_MODEL_REVISION_<NAME>; None when neither is set."""
    local = settings.model_dirs.get(name)
    if local is not None:
        return Path(local)
    repo = settings.model_repos.get(name)
    if not repo:
        return None
    from huggingface_hub import snapshot_download  # noqa: PLC0415 - huggingface_hub loads only when the Hub is used

    revision = settings.model_revisions.get(name)
    try:
        folder = Path(snapshot_download(repo, revision=revision, allow_patterns=patterns))
    except Exception as error:  # offline, private, or missing: say which and what to do
        raise ModelUnavailable(
            f"{name}: could not fetch HUB_MODEL_REPO_{name.upper()}={repo} from the Hugging Face Hub "
            f"({type(error).__name__}); check the id and your access, or download it and set HUB_MODEL_DIR_{name.upper()}"
        ) from None
    _pulled[(name, repo, revision)] = folder.name[:12]  # the Hub cache's snapshots/<commit>
    return folder


def onnx_providers(settings: Settings) -> list[str]:
    import onnxruntime  # noqa: PLC0415 - onnxruntime loads with the first ONNX model

    available = onnxruntime.get_available_providers()
    if settings.device == "cuda" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


@dataclass
class ModelState:
    spec: ModelSpec
    state: str  # "live", "not loaded", "missing", "not in profile"
    detail: str = ""


def markdown_text(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, newlines or things read as HTML tags."""
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


class ModelCache:
    """Builds each declared model once, on first use; safe to share between threads."""

    def __init__(self, specs: list[ModelSpec], settings: Settings | None = None):
        names = [spec.name for spec in specs]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise ValueError(f"model names declared twice: {sorted(duplicates)}")
        self.settings = settings or get_settings()
        self._specs = {spec.name: spec for spec in specs}
        self._models: dict[str, Any] = {}
        self._errors: dict[str, str] = {}
        self._failed_at: dict[str, float] = {}  # time.monotonic() of each remembered failure
        self._locks = {name: threading.Lock() for name in self._specs}

    def spec(self, name: str) -> ModelSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(f"no model named {name!r}; declared: {sorted(self._specs)}") from None

    def in_profile(self, name: str) -> bool:
        return self.settings.profile in self.spec(name).profiles

    def get(self, name: str) -> Any:
        spec = self.spec(name)
        if name in self._models:
            return self._models[name]
        if not self.in_profile(name):
            raise ModelUnavailable(
                f"{name} is not part of the {self.settings.profile!r} profile "
                f"(it is in: {', '.join(spec.profiles)}). To provide it: {spec.install}"
            )
        with self._locks[name]:
            if name in self._models:
                return self._models[name]
            if name in self._errors and time.monotonic() - self._failed_at[name] < RETRY_SECONDS:
                # Tried lately with these settings: say why again without retrying (a render asks for an
                # optional model on every call) or logging again. `clear()` makes the next call retry.
                raise ModelUnavailable(self._errors[name])
            try:
                logger.info("loading %s from %s", name, spec.source)
                self._models[name] = spec.load(self.settings)
                self._errors.pop(name, None)
                return self._models[name]
            except ModelUnavailable as error:
                self._errors[name], self._failed_at[name] = str(error), time.monotonic()
                logger.info(
                    "%s is unavailable (tried again in %.0f s or when the cache is cleared): %s", name, RETRY_SECONDS, error
                )
                raise
            except Exception as error:  # a loader's own failure: keep why, say how
                self._errors[name] = f"{name} failed to load from {spec.source}: {error}. {spec.install}".strip()
                self._failed_at[name] = time.monotonic()
                logger.warning(
                    "%s is unavailable (tried again in %.0f s or when the cache is cleared): %s",
                    name,
                    RETRY_SECONDS,
                    self._errors[name],
                )
                raise ModelUnavailable(self._errors[name]) from error

    def clear(self) -> None:
        """Forget which models were unavailable, so the next `get` of each tries again (after a checkpoint is
        trained or downloaded into the folder a setting names). Built models are kept: callers may hold them,
        and building again would load a second copy."""
        self._errors.clear()

    def available(self, name: str) -> bool:
        try:
            self.get(name)
        except ModelUnavailable:
            return False
        return True

    def states(self) -> list[ModelState]:
        rows = []
        for name, spec in self._specs.items():
            if name in self._models:
                rows.append(ModelState(spec, "live"))
            elif name in self._errors:
                rows.append(ModelState(spec, "missing", self._errors[name]))
            elif not self.in_profile(name):
                rows.append(ModelState(spec, "not in profile", f"profiles: {', '.join(spec.profiles)}"))
            else:
                rows.append(ModelState(spec, "not loaded", "built on first use"))
        return rows

    def status_markdown(self) -> str:
        lines = [
            f"Profile **{self.settings.profile}** on **{self.settings.device}** ({self.settings.dtype_name}).",
            "",
            "| model | task | source | licence | state | why / how to provide |",
            "|---|---|---|---|---|---|",
        ]
        for row in self.states():
            detail = row.detail if row.state != "not in profile" else f"{row.detail}. {row.spec.install}"
            detail = markdown_text(detail)
            lines.append(
                f"| {row.spec.name} | {row.spec.task} | `{row.spec.source}` | {row.spec.licence} | {row.state} | {detail} |"
            )
        return "\n".join(lines)


def torch_dtype(settings: Settings):
    import torch  # noqa: PLC0415 - torch loads on first use, not at start-up

    return getattr(torch, settings.dtype_name)


def hub_folder(spec: ModelSpec, settings: Settings, allow_patterns: list[str] | None = None) -> Path:
    """A local copy of a Hub repo: the folder HUB_MODEL_DIR_<NAME> names, or a download."""
    source = hub_source(spec, settings)
    if spec.name in settings.model_dirs:  # hub_source checked it is a folder (a repo id may read as a relative path)
        return Path(source)
    from huggingface_hub import snapshot_download  # noqa: PLC0415 - huggingface_hub loads only when the Hub is used

    try:
        return Path(snapshot_download(source, revision=settings.model_revisions.get(spec.name), allow_patterns=allow_patterns))
    except Exception as error:  # offline, gated, or missing: say which model and what to do
        raise ModelUnavailable(
            f"{spec.name}: could not fetch {source} from the Hugging Face Hub ({type(error).__name__}). {spec.install}"
        ) from None


def trained_file(spec: ModelSpec, settings: Settings, filename: str) -> Path:
    """A checkpoint file this project trains, in the folder HUB_MODEL_DIR_<NAME> names or the repo HUB_MODEL_REPO_<NAME>
    names (its safetensors and JSON configs pulled)."""
    folder = pulled_folder(spec.name, settings, ["*.safetensors", "*.json"])
    if folder is None:
        raise ModelUnavailable(f"{spec.name}: not configured. {spec.install}")
    path = Path(folder) / filename
    if not path.is_file():  # named as outputs name it: a page shows the message, and no server path
        logger.info("%s: %s is missing", spec.name, path)
        raise ModelUnavailable(
            f"{spec.name}: {checkpoint_name(spec.name, settings, str(folder))} holds no {filename}. {spec.install}"
        )
    return path
