"""Share a checkpoint on the Hugging Face Hub with a generated model card: the one push every trainer uses.

    python -m train.push --checkpoint outputs/lifespan/checkpoint-20000 --repo ORG/NAME [--private]

Uploads the safetensors weights and JSON configs that serving loads and a README
model card: method, training data, metrics from the leaderboard store, licence,
intended use and misuse. A `train.lifespan` checkpoint shares its `Cradle2Cane/`
serving folder (given, or inside the checkpoint folder) as `Cradle2Cane/` in the repo,
where the engine looks; a `train.zones` checkpoint shares its folder. The training
state and anything that is not safetensors or JSON stay local. The engine pulls a
pushed checkpoint by repo id and revision (HUB_MODEL_DIR_<NAME> for a local copy).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from engine.core.settings import get_settings
from engine.methods.cradle2cane.loaders import C2C_SUBFOLDER
from evaluation.records import read_records
from train.common import TRAINING_STATE_FILES

logger = logging.getLogger(__name__)

SHARED = ("*.safetensors", "*.json", "hparams.yml")  # hparams.yml: the settings a lifespan checkpoint was trained with
KEPT_LOCAL = TRAINING_STATE_FILES
LICENCES = {
    "lifespan": "cc-by-nc-4.0",  # built on SDXL-Turbo (non-commercial) and the Cradle2Cane checkpoint (CC BY-NC 4.0)
    "zones": "other",  # a LoRA on SDXL-Turbo: Stability AI Non-Commercial Research Community License
}


def detect_method(folder: Path) -> str:
    if (folder / C2C_SUBFOLDER).is_dir() or (folder / "face_project.safetensors").is_file():
        return "lifespan"
    if (folder / "scorenet.safetensors").is_file():
        return "zones"
    raise ValueError(
        f"{folder} is neither a Cradle2Cane checkpoint (Cradle2Cane/ or face_project.safetensors) "
        "nor a train.zones checkpoint (scorenet.safetensors)"
    )


def model_card(method: str, repo: str, metrics: list[dict], training_data: str) -> str:
    title = {
        "lifespan": "Cradle2Cane lifespan face aging (LoRA + projection MLPs)",
        "zones": "LDLA local zone aging (LoRA + ScoreNet)",
    }[method]
    rows = (
        "\n".join(
            f"| {m['method']} | {m['benchmark']} | {m['evaluators']} | "
            + ", ".join(f"{k} {v:.2f}" for k, v in m["metrics"].items() if v is not None)
            + " |"
            for m in metrics
        )
        or "| - | - | - | no verified results in the leaderboard store yet |"
    )
    return f"""---
license: {LICENCES[method]}
library_name: diffusers
tags: [face-aging, {method}, sdxl-turbo, lora]
base_model: stabilityai/sdxl-turbo
---

# {title}

Checkpoint `{repo}`, made with the Face Aging Hub training scripts (`train.{method}`).

## Training data

{training_data}

## Results (from the Face Aging Hub leaderboard store)

| method | benchmark | evaluators | metrics |
|---|---|---|---|
{rows}

## Licence

Built on SDXL-Turbo (Stability AI Non-Commercial Research Community License)
{"and the published Cradle2Cane weights (CC BY-NC 4.0)" if method == "lifespan" else ""}: non-commercial use only.

## Intended use

Research on face aging and its evaluation, and demonstrations where the people shown
have agreed to it. Outputs are synthetic: label them as AI-edited (the hub writes
this into every PNG it saves).

## Misuse

Do not use it to deceive (fake documents, impersonation, fabricated evidence), to
age or de-age people without their consent, to infer anyone's real age for decisions
about them, or on images of minors for anything but their guardians' own use.
"""


def push(
    checkpoint: Path, repo: str, private: bool = False, training_data: str = "not stated", store_dir: Path | None = None, api=None
) -> str:
    """Upload the checkpoint's safetensors and JSON files plus a model card; returns the commit's revision."""
    from huggingface_hub import HfApi  # noqa: PLC0415 - huggingface_hub loads only when the Hub is used

    method = detect_method(checkpoint)
    records = read_records(Path(store_dir) / "results")[0] if store_dir else []
    metrics = [
        {
            "method": r.method,
            "benchmark": r.protocol.benchmark,
            "evaluators": r.protocol_label().split(" | ")[-1],
            "metrics": r.metrics,
        }
        for r in records
        if r.task == method
    ]
    api = api or HfApi()
    api.create_repo(repo, private=private, exist_ok=True)
    card = model_card(method, repo, metrics, training_data)
    api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=repo, commit_message="Model card")
    folder, path_in_repo = checkpoint, None
    if method == "lifespan":  # the serving folder, where the engine reads it (C2C_SUBFOLDER)
        folder = checkpoint / C2C_SUBFOLDER if (checkpoint / C2C_SUBFOLDER).is_dir() else checkpoint
        path_in_repo = C2C_SUBFOLDER
    commit = api.upload_folder(
        repo_id=repo,
        folder_path=str(folder),
        path_in_repo=path_in_repo,
        allow_patterns=["**/" + p for p in SHARED] + list(SHARED),
        ignore_patterns=list(KEPT_LOCAL),
        commit_message=f"{method} checkpoint from {checkpoint.name}",
    )
    return getattr(commit, "oid", None) or str(commit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="train.push", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--repo", required=True, help="ORG/NAME on the Hub")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--training-data", default="not stated", help="what the checkpoint was trained on")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    try:
        revision = push(args.checkpoint, args.repo, args.private, args.training_data, Path(get_settings().store_dir))
    except ValueError as error:
        print(f"push: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"repo": args.repo, "revision": revision}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
