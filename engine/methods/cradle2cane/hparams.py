"""A Cradle2Cane checkpoint's own settings: the `hparams.yml` beside its LoRA and MLPs.

The published inference (github.com/byliutao/Cradle2Cane, infer.py) reads this file from the
checkpoint folder and runs with the values the weights were trained with; so does this project.
Key names are the reference config's (config/train_config.yaml). A key the file lacks keeps the
method's default; a value this project cannot run is refused with the key named, never ignored.
No torch here: the file is read and checked before any model loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

HPARAMS_FILE = "hparams.yml"

# hparams.yml key -> Cradle2CaneConfig field it sets (the values pass Cradle2CaneConfig's checks).
KEY_TO_FIELD = {
    "infer_step": "num_inference_steps",
    "all_strength": "strengths",
    "id_strength": "pass2_strength",
    "use_swr": "use_svr",
    "swr_alpha": "svr_alpha",
    "swr_beta": "svr_beta",
    "clip_map_model": "rotate_mode",
    "resolution": "resolution",
}

# Keys whose only value this project implements; another value is refused by name.
REQUIRED_VALUES: dict[str, Any] = {
    "prompt_mode": "normal",  # "a face image of a {age} years old {gender}"
    "use_adaptive_noise_inject": True,  # AdaNI; off means one fixed pass-1 strength
    "use_four_image_swr": False,  # SVR over outputs at all three strengths (extra pass-1 runs)
    "use_arcface_project": True,
    "use_clip_project": True,
    "face_project_use_hidden_state": True,  # the 25088-d hidden state, not the 512-d embedding
}


class CheckpointSettingsError(ValueError):
    """A checkpoint's hparams.yml cannot be read or asks for what this project does not run."""


def read_checkpoint_settings(folder: Path) -> dict[str, Any]:
    """Cradle2CaneConfig field -> value from `folder/hparams.yml`; {} when the folder has no such file."""
    path = Path(folder) / HPARAMS_FILE
    if not path.is_file():
        return {}
    try:
        values = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise CheckpointSettingsError(f"{path} is not valid YAML: {error}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise CheckpointSettingsError(f"{path} must be a mapping of setting names to values, got {type(values).__name__}")
    return checkpoint_overrides(values, str(path))


def checkpoint_overrides(values: dict[str, Any], where: str = HPARAMS_FILE) -> dict[str, Any]:
    """Translate published hparams keys into Cradle2CaneConfig fields, refusing what cannot run."""
    for key, wanted in REQUIRED_VALUES.items():
        if key in values and values[key] != wanted:
            raise CheckpointSettingsError(
                f"{where}: {key} = {values[key]!r} is not supported (this project runs {key} = {wanted!r}); "
                "use a checkpoint trained with it"
            )
    overrides: dict[str, Any] = {}
    if "t1" in values or "t2" in values:
        if not ("t1" in values and "t2" in values):
            raise CheckpointSettingsError(f"{where}: give both t1 and t2 (AdaNI thresholds), got only one")
        overrides["thresholds"] = (_number(values, "t1", where), _number(values, "t2", where))
    for key, field_name in KEY_TO_FIELD.items():
        if key not in values:
            continue
        value = values[key]
        if field_name == "strengths":
            if not isinstance(value, (list, tuple)) or len(value) != 3:
                raise CheckpointSettingsError(f"{where}: all_strength must list three strengths, got {value!r}")
            value = tuple(_number({key: v}, key, where) for v in value)
        elif field_name in ("num_inference_steps", "resolution"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise CheckpointSettingsError(f"{where}: {key} must be a whole number, got {value!r}")
        elif field_name == "use_svr":
            if not isinstance(value, bool):
                raise CheckpointSettingsError(f"{where}: {key} must be true or false, got {value!r}")
        elif field_name == "rotate_mode":
            if not isinstance(value, str):
                raise CheckpointSettingsError(f"{where}: {key} must be a mode name, got {value!r}")
        else:
            value = _number(values, key, where)
        overrides[field_name] = value
    return overrides


def _number(values: dict[str, Any], key: str, where: str) -> float:
    value = values[key]
    if isinstance(value, str):  # YAML 1.1 reads "1e-4" as a string
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckpointSettingsError(f"{where}: {key} must be a number, got {value!r}")
    return float(value)
