"""Share a checkpoint on the Hugging Face Hub with a generated model card: the one push every trainer uses.

    python -m train.push --checkpoint outputs/lifespan/checkpoint-20000 --repo ORG/NAME --training-data "FFHQ 512 (CC BY-NC-SA 4.0)" [--method NAME] [--private]

Uploads, in one commit, the safetensors weights and JSON configs that serving loads and a
model card written with `huggingface_hub.ModelCard` / `ModelCardData` (licence name and
link, base model, pipeline tag, the leaderboard's verified results of this checkpoint (`push`)
as eval results; then method, training data, intended use and misuse). A checkpoint the engine
could not load (a file missing or unreadable) or trained on the tiny profile (random miniature
models, for tests) is refused. A `train.lifespan` checkpoint shares its
`Cradle2Cane/` serving folder (given, or inside the checkpoint folder) as `Cradle2Cane/`
in the repo, where the engine looks; `train.zones` and `train.pluralistic` checkpoints
share their folders. The training
state and anything that is not safetensors or JSON stay local. The engine pulls a
pushed checkpoint by repo id and revision (HUB_MODEL_DIR_<NAME> for a local copy).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from huggingface_hub import CommitOperationAdd, EvalResult, HfApi, ModelCard, ModelCardData
from safetensors import safe_open

from engine.core.settings import get_settings
from engine.methods.cradle2cane.loaders import C2C_SUBFOLDER
from engine.methods.cradle2cane.pipeline import PROJECTIONS
from engine.methods.lora import LORA_FILE
from evaluation.records import read_records
from train.common import TRAINING_STATE_FILES

logger = logging.getLogger(__name__)

SHARED = ("*.safetensors", "*.json", "hparams.yml")  # hparams.yml: the settings a lifespan checkpoint was trained with
# What a trainer records beside each checkpoint it saves (train/loop.py): the profile it ran, so a tiny-profile smoke
# run's random miniature weights are never shared as a model
TRAINED_WITH = "trained_with.json"
KEPT_LOCAL = (*TRAINING_STATE_FILES, TRAINED_WITH)  # the profile record is the push's check, not serving's


@dataclass(frozen=True)
class MethodCard:
    """What a model card says of one trainer's checkpoints."""

    title: str
    base_model: str
    licence: str  # a Hub licence identifier, or "other" with a name and a link
    licence_note: str  # why, for the card's Licence section
    library_name: str = "diffusers"
    licence_name: str | None = None
    licence_link: str | None = None


CARDS = {
    "lifespan": MethodCard(
        "Cradle2Cane lifespan face aging (LoRA + projection MLPs)",
        "stabilityai/sdxl-turbo",
        "other",
        "A LoRA and two projection MLPs trained here (`train.lifespan`, not fine-tuned from the published Cradle2Cane "
        "weights) on SDXL-Turbo, under the Stability AI Non-Commercial Research Community License; its identity "
        "features come from ArcFace (InsightFace's weights, non-commercial research only): non-commercial use only.",
        licence_name="sai-nc-community",
        licence_link="https://huggingface.co/stabilityai/sdxl-turbo/blob/main/LICENSE.md",
    ),
    "zones": MethodCard(
        "LDLA local zone aging (LoRA + ScoreNet)",
        "stabilityai/sdxl-turbo",
        "other",
        "A LoRA on SDXL-Turbo, under the Stability AI Non-Commercial Research Community License: non-commercial use only.",
        licence_name="sai-nc-community",
        licence_link="https://huggingface.co/stabilityai/sdxl-turbo/blob/main/LICENSE.md",
    ),
    "pluralistic": MethodCard(
        "PAE age encoder for pluralistic face aging (mu / sigma heads on CLIP features)",
        "openai/clip-vit-large-patch14",
        "cc-by-nc-4.0",
        "Reads CLIP ViT-L/14 features (MIT) and is served only inside the Cradle2Cane pipeline "
        "(CC BY-NC 4.0): non-commercial use only.",
        library_name="pytorch",
    ),
}

# Where each trainer's serving files sit in its checkpoint folder and in the repo (where the engine reads them).
SERVING_FOLDER = {"lifespan": C2C_SUBFOLDER, "zones": None, "pluralistic": None}


def detect_method(folder: Path) -> str:
    if (folder / C2C_SUBFOLDER).is_dir() or (folder / "face_project.safetensors").is_file():
        return "lifespan"
    if (folder / "scorenet.safetensors").is_file():
        return "zones"
    if (folder / "age_encoder.safetensors").is_file():
        return "pluralistic"
    raise ValueError(
        f"{folder} is neither a Cradle2Cane checkpoint (Cradle2Cane/ or face_project.safetensors), "
        "a train.zones checkpoint (scorenet.safetensors) nor a train.pluralistic one (age_encoder.safetensors)"
    )


def checkpoint_problems(method: str, checkpoint: Path, folder: Path) -> list[str]:
    """Why the engine could not serve the checkpoint: a file its loader needs missing, a safetensors file that does not
    open, or weights trained on the tiny profile; empty when it can be shared."""
    needed = {
        "lifespan": [f"{name}.safetensors" for name in PROJECTIONS] + [f"{name}.json" for name in PROJECTIONS] + [LORA_FILE],
        "zones": ["scorenet.safetensors", "scorenet.json", LORA_FILE],
        "pluralistic": ["age_encoder.safetensors", "age_encoder.json"],
    }[method]
    problems = [f"{name} is missing" for name in needed if not (folder / name).is_file()]
    for path in sorted(folder.rglob("*.safetensors")):
        try:
            with safe_open(path, framework="pt"):
                pass
        except Exception as error:  # noqa: BLE001 - any header or size error: the file cannot be loaded
            problems.append(f"{path.relative_to(folder)} does not open as safetensors ({error})")
    profile = trained_profile(checkpoint, folder)
    if profile == "tiny":
        problems.append("it was trained on the tiny profile (random miniature models, for tests), not a model to share")
    return problems


def trained_profile(checkpoint: Path, folder: Path) -> str | None:
    """The profile a checkpoint was trained on, as its trainer recorded it (or a lifespan checkpoint's hparams.yml)."""
    for path in (checkpoint / TRAINED_WITH, folder / "hparams.yml"):
        if path.is_file():
            try:
                values = yaml.safe_load(path.read_text())
            except yaml.YAMLError:
                continue
            if isinstance(values, dict) and isinstance(values.get("profile"), str):
                return values["profile"]
    return None


def model_card(method: str, repo: str, metrics: list[dict], training_data: str) -> ModelCard:
    """The model card: metadata through `ModelCardData` (licence, base model, pipeline tag, the
    leaderboard's metrics as eval results), then the text."""
    card = CARDS[method]
    results = [
        EvalResult(
            task_type="image-to-image",
            task_name=f"{method} face aging",
            dataset_type=m["benchmark"],
            dataset_name=m["benchmark"],
            metric_type=name.lower().replace(" ", "_"),
            metric_name=name,
            metric_config=m["evaluators"],  # which age and identity models scored it
            metric_value=round(float(value), 4),
        )
        for m in metrics
        for name, value in m["metrics"].items()
        if value is not None
    ]
    data = ModelCardData(
        model_name=repo,
        license=card.licence,
        license_name=card.licence_name,
        license_link=card.licence_link,
        library_name=card.library_name,
        base_model=card.base_model,
        pipeline_tag="image-to-image",
        tags=["face-aging", method],
        eval_results=results or None,
    )
    rows = (
        "\n".join(
            f"| {m['method']} | {m['benchmark']} | {m['evaluators']} | "
            + ", ".join(f"{k} {v:.2f}" for k, v in m["metrics"].items() if v is not None)
            + " |"
            for m in metrics
        )
        or "| - | - | - | no verified results in the leaderboard store yet |"
    )
    text = f"""---
{data.to_yaml()}
---

# {card.title}

Checkpoint `{repo}`, made with the Face Aging Hub training scripts (`train.{method}`).

## Training data

{training_data}

## Results (from the Face Aging Hub leaderboard store)

| method | benchmark | evaluators | metrics |
|---|---|---|---|
{rows}

## Licence

{card.licence_note}

## Intended use

Research on face aging and its evaluation, and demonstrations where the people shown
have agreed to it. Outputs are synthetic: label them as AI-edited (the hub writes
this into every PNG it saves).

## Misuse

Do not use it to deceive (fake documents, impersonation, fabricated evidence), to
age or de-age people without their consent, to infer anyone's real age for decisions
about them, or on images of minors for anything but their guardians' own use.
"""
    return ModelCard(text)


def shared_files(folder: Path) -> list[Path]:
    """The serving files under `folder`: safetensors and JSON, never the training state."""
    files = {path for pattern in SHARED for path in folder.rglob(pattern) if path.is_file()}
    return sorted(path for path in files if path.name not in KEPT_LOCAL)


def push(
    checkpoint: Path,
    repo: str,
    private: bool = False,
    training_data: str = "",
    store_dir: Path | None = None,
    api=None,
    results_method: str | None = None,
) -> str:
    """Upload the checkpoint's serving files and its model card in one commit; returns the commit's revision. The card's
    results are the leaderboard store's verified rows of this checkpoint: those the harness served it for (their
    record's checkpoint is this repo, HUB_MODEL_REPO_<NAME>), and the outputs a researcher made with it and submitted as
    a folder named `results_method` (default: the repo's name). Every row of the task was listed before, other methods'
    and papers' numbers as this checkpoint's; a row the harness ran under the method's name alone ("cradle2cane") is
    the published weights'."""
    checkpoint = Path(checkpoint)
    if not isinstance(training_data, str) or not training_data.strip():
        raise ValueError("name the training data (--training-data: the data set, its size and licence): the card states it")
    method = detect_method(checkpoint)
    subfolder = SERVING_FOLDER[method]
    folder = checkpoint / subfolder if subfolder and (checkpoint / subfolder).is_dir() else checkpoint
    problems = checkpoint_problems(method, checkpoint, folder)
    if problems:
        raise ValueError(f"{folder} cannot be shared: {'; '.join(problems)}")
    named = results_method or repo.rpartition("/")[2]
    records = read_records(Path(store_dir) / "results")[0] if store_dir else []
    metrics = [
        {
            "method": r.method,
            "benchmark": r.protocol.benchmark,
            "evaluators": r.protocol_label().split(" | ")[-1],
            "metrics": r.metrics,
        }
        for r in records
        if r.task == method and r.provenance == "verified" and own_result(r, repo, named)
    ]
    card = model_card(method, repo, metrics, training_data)
    files = shared_files(folder)
    if not files:
        raise ValueError(f"{folder} holds no safetensors or JSON files to share")
    prefix = f"{subfolder}/" if subfolder else ""
    operations = [CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=str(card).encode())] + [
        CommitOperationAdd(path_in_repo=prefix + path.relative_to(folder).as_posix(), path_or_fileobj=str(path)) for path in files
    ]
    api = api or HfApi()
    api.create_repo(repo, private=private, exist_ok=True)
    commit = api.create_commit(repo_id=repo, operations=operations, commit_message=f"{method} checkpoint from {checkpoint.name}")
    return getattr(commit, "oid", None) or str(commit)


def own_result(record, repo: str, named: str) -> bool:
    """A verified row of this checkpoint: served from this repo by the harness, or a submitted folder named `named`."""
    if (record.checkpoint or {}).get("repo") == repo:
        return True
    return record.method == named and str((record.run_config or {}).get("method", "")).startswith("folder:")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="train.push", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--repo", required=True, help="ORG/NAME on the Hub")
    parser.add_argument("--private", action="store_true")
    parser.add_argument(
        "--training-data", required=True, help="what the checkpoint was trained on (data set, size, licence), for the card"
    )
    parser.add_argument(
        "--method",
        default=None,
        help="its rows' method name in the leaderboard store, whose results the card lists (default: the repo's name)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    try:
        revision = push(
            args.checkpoint,
            args.repo,
            args.private,
            args.training_data,
            Path(get_settings().store_dir),
            results_method=args.method,
        )
    except ValueError as error:
        print(f"push: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"repo": args.repo, "revision": revision}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
