"""Run the evaluation harness and add its verified record to the leaderboard's store.

    accelerate launch -m leaderboard.evaluate --method cradle2cane --benchmark offline
    python -m leaderboard.evaluate --method classical --benchmark offline [--out DIR]
    python -m leaderboard.evaluate --method folder:DIR --benchmark offline    # a researcher's outputs
    python -m leaderboard.evaluate --task zones --method classical --benchmark offline   # LDLA zone evaluation
    accelerate launch -m leaderboard.evaluate --method cradle2cane --benchmark hub   # the papers' protocol on CelebA-HQ
    python -m leaderboard.evaluate --task probe [--probe-out outputs/probe]   # the conformal report's synthetic faces

The harness itself (benchmarks, scoring, judge) is `evaluation/`; this command only
writes what it returns into the store the leaderboard reads. The probe measures the age
estimator, not a method: it writes its table, strip and record into --probe-out, not the store.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
from pathlib import Path

from engine.age.conformal import check_confidence
from engine.core.checks import check_seed
from engine.core.errors import InputError, SettingsError, UserError
from engine.core.files import writable_folder
from engine.core.limits import SEED
from engine.core.models import ModelUnavailable
from engine.core.processes import end_process_group
from engine.core.settings import get_settings
from engine.methods.ldla.pipeline import RENDERERS
from evaluation.benchmarks import (
    BENCHMARKS,
)
from evaluation.harness import evaluate, evaluate_hub, folder_name, process_state
from evaluation.hub_benchmark import HubBenchmarkConfig
from evaluation.judge import Judge
from evaluation.probe import CONFIDENCE, run_probe
from evaluation.probe_table import table_markdown
from evaluation.scoring import (
    IDENTITY_MODELS,
)
from evaluation.tasks import METHOD_TYPES
from evaluation.zones import evaluate_zones
from leaderboard.claims import METHOD_NAME
from leaderboard.store import ResultsStore, slug
from leaderboard.submissions import listed_elsewhere
from leaderboard.views import protocol_digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leaderboard.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--task", choices=("lifespan", "zones", "probe"), default="lifespan", help="what is evaluated (default lifespan)"
    )
    parser.add_argument(
        "--method", default=None, help="lifespan: classical, cradle2cane or folder:DIR of outputs; zones: classical or diffusion"
    )
    parser.add_argument(
        "--benchmark",
        default=None,
        choices=[*sorted(BENCHMARKS), "hub"],
        help="lifespan and zones. offline: the 2 packaged portraits; offline-packaged: every real face photo that ships "
        "in an installed package (`make benchmark-data`); hub: the papers' lifespan protocol on a Hub dataset "
        "(see the hub options)",
    )
    parser.add_argument("--seed", type=int, default=0, help=f"the seed every output is rendered with, {SEED.text()} (default 0)")
    parser.add_argument(
        "--method-type", default=None, choices=METHOD_TYPES, help="a folder of outputs' method type (needed for folder:DIR)"
    )
    parser.add_argument(
        "--name", default=None, help="folder:DIR: the method's name in the table (default: the folder's own name)"
    )
    parser.add_argument("--judge", action="store_true", help="also ask the VLM judge (HUB_JUDGE_BASE_URL, HUB_JUDGE_MODEL)")
    parser.add_argument(
        "--evaluators",
        choices=sorted(IDENTITY_MODELS),
        default="offline",
        help="offline: packaged age model + SFace; full: the Hub age estimator + ArcFace (insightface)",
    )
    parser.add_argument("--fid-reference", type=Path, default=None, help="a folder of real faces for FID (needs torchmetrics)")
    parser.add_argument("--out", default=None, help="store folder (default: HUB_STORE_DIR)")
    defaults = HubBenchmarkConfig()
    hub = parser.add_argument_group("hub benchmark (defaults: the lifespan paper's protocol on CelebA-HQ)")
    hub.add_argument("--dataset", default=None, help=f"Hub dataset id (default {defaults.repo_id})")
    hub.add_argument("--revision", default=None, help="the dataset's commit, tag or branch (default: the pinned commit)")
    hub.add_argument("--split", default=None, help=f"(default {defaults.split})")
    hub.add_argument("--image-column", default=None, help=f"(default {defaults.image_column})")
    hub.add_argument("--age-column", default=None, help="source ages (default none: estimated)")
    hub.add_argument(
        "--gender-column", default=None, help=f"balances faces by gender; 'none' for row order (default {defaults.gender_column})"
    )
    hub.add_argument("--n-images", type=int, default=None, help=f"faces (default {defaults.n_images})")
    hub.add_argument("--targets", type=float, nargs="+", default=None, help="target ages (default 0-80 by 5)")
    hub.add_argument("--data-dir", type=Path, default=None, help="a local folder holding the dataset's parquet shards")
    hub.add_argument("--run-dir", type=Path, default=None, help="where rows go as they are scored (a rerun resumes)")
    parser.add_argument(
        "--probe-out", type=Path, default=Path("outputs/probe"), help="probe: folder for faces, table, strip and record"
    )
    parser.add_argument(
        "--confidence", type=float, default=CONFIDENCE, help="probe: interval confidence (default 0.9, the report's)"
    )
    args = parser.parse_args(argv)
    try:
        code = run(args, parser, defaults)
    except SettingsError as error:  # an environment variable it cannot take: named in one line
        print(f"evaluate: {error}", file=sys.stderr)
        return 2
    if code == 0:
        end_process_group()
    return code


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, defaults: HubBenchmarkConfig) -> int:
    """The command `main` parsed: a probe, or a method evaluated and its record stored (by the main process)."""
    if args.task != "probe" and (args.method is None or args.benchmark is None):
        parser.error(f"--task {args.task} needs --method and --benchmark")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    if args.task == "probe":
        return run_probe_task(settings, args.probe_out, args.confidence)
    given = [f"--{name.replace('_', '-')}" for name in HUB_OPTIONS if getattr(args, name) is not None]
    if given and args.benchmark != "hub":  # set for another benchmark, they were ignored without a word
        parser.error(f"{', '.join(given)}: options of --benchmark hub, not of --benchmark {args.benchmark}")
    if args.fid_reference is not None and not args.fid_reference.is_dir():
        parser.error(f"--fid-reference: no folder at {str(args.fid_reference)!r} (a folder of real face photos for FID)")
    try:
        # before the work: a seed out of range failed every output (reported as outputs without a face), and a store
        # folder that cannot be written to lost the whole run at its end
        check_seed(args.seed)
        writable_folder(args.out or settings.store_dir, "--out" if args.out else "the store folder (HUB_STORE_DIR)")
        if args.method.startswith("folder:") and not args.method_type:
            raise InputError(f"a folder of outputs needs --method-type ({', '.join(METHOD_TYPES)})")
        if args.name is not None and not args.method.startswith("folder:"):
            raise InputError(f"--name names a folder of outputs' method, with --method folder:DIR; got --method {args.method}")
        if args.method.startswith("folder:"):
            check_shown_name(args.name, args.method)
        judge = None
        if args.judge:
            judge = Judge.from_settings(settings, settings.store_dir)
        if args.task == "zones":
            if args.method not in RENDERERS:
                raise InputError(f"--method for zones must be one of {', '.join(RENDERERS)}, got {args.method!r}")
            record = evaluate_zones(args.method, args.benchmark, args.seed, settings)
        elif args.benchmark == "hub":
            # an option left out is the default's; one given, even empty, is checked as given
            dataset = defaults.repo_id if args.dataset is None else args.dataset
            gender_column = defaults.gender_column if args.gender_column is None else args.gender_column
            config = HubBenchmarkConfig(
                repo_id=dataset,
                # the pinned commit belongs to the default dataset; another dataset is read at main unless named
                revision=args.revision or (defaults.revision if dataset == defaults.repo_id else None),
                split=defaults.split if args.split is None else args.split,
                image_column=defaults.image_column if args.image_column is None else args.image_column,
                age_column=(defaults.age_column if args.age_column is None else args.age_column) or None,
                gender_column=None if (gender_column or "none").lower() == "none" else gender_column,
                n_images=defaults.n_images if args.n_images is None else args.n_images,
                targets=defaults.targets if args.targets is None else tuple(args.targets),
                data_dir=args.data_dir,
            )
            record = evaluate_hub(
                args.method,
                config,
                args.seed,
                settings,
                args.method_type,
                judge,
                args.evaluators,
                args.fid_reference,
                args.run_dir,
            )
        else:
            record = evaluate(
                args.method, args.benchmark, args.seed, settings, args.method_type, judge, args.evaluators, args.fid_reference
            )
    except (UserError, ModelUnavailable) as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return 2
    if args.task == "lifespan" and record.nothing_scored():  # a row of "missing" only is not listed (as the queue refuses it)
        print(
            f"evaluate: no output could be scored ({record.notes.get('n_missing_age')} of {record.notes.get('n_outputs')} "
            "without a face the age estimator finds), so nothing is listed: check the outputs are the benchmark's "
            "faces, aged",
            file=sys.stderr,
        )
        return 2
    if args.method.startswith("folder:"):
        record.method = args.name if args.name is not None else folder_name(args.method)
    if process_state(settings).is_main_process:  # one record, written once
        store = ResultsStore(Path(args.out)) if args.out else ResultsStore.from_settings(settings)
        # one row per method and protocol: evaluating it again replaces its row (each run added one more, the same
        # method listed two and three times in one table)
        name = run_name(record)
        replaced = (store.root / "results" / f"{slug(name)}.json").exists()
        try:
            path = store.add_result(record, name=name)
        except OSError as error:  # a full disk: the figures are printed, not lost with the run
            print(f"evaluate: the record could not be written under {store.root}: {error}", file=sys.stderr)
            print(json.dumps(record.to_json(), indent=1, sort_keys=True))
            return 1
        summary = {k: (None if v is None else round(v, 3)) for k, v in record.metrics.items()}
        counts = (
            {"missing_age": record.notes["n_missing_age"]}
            if args.task == "lifespan"
            else {"unplaceable_edits": record.notes["unplaceable_edits"]}
        )
        print(json.dumps({"record": str(path), "replaced": replaced, "metrics": summary, **counts}))
    return 0


def check_shown_name(name: str | None, method: str) -> None:
    """Refuse (InputError), before the work, the name a folder of outputs' row would show: `name` (--name) or the
    folder's own, which was taken as it was: a folder named '=HYPERLINK(...)' or with a right-to-left override was
    listed so, "folder:." ended its whole run in a RecordError (a name of ""), and a row could bear a paper's method's
    name or the project's own ("classical"), as no submitter's may (leaderboard/submissions.py)."""
    shown, given = (name, f"--name {name!r}") if name is not None else (folder_name(method), None)
    given = given or f"the folder's own name, {shown!r}, which names its row unless --name is given,"
    if not (len(shown) <= 64 and re.fullmatch(METHOD_NAME, shown)):
        raise InputError(
            f"{given} cannot name a method: letters, digits, spaces and _ . + - (a letter, digit or _ first), at most 64"
            + ("" if name is not None else ": pass --name")
        )
    reserved = listed_elsewhere(shown)
    if reserved is not None:
        raise InputError(f"{given} is taken: {reserved}. Give the outputs a name of their own (e.g. '{shown}-repro')")


def run_name(record) -> str:
    """The store's file name of a record this command writes (within the store's 60 characters): the same for the same
    task, method (its name and type, and what was run: a folder's path, not only its name, which `folder:a/outputs`
    and `folder:b/outputs` share, and the harness's own method apart from a folder named after it) and protocol."""
    ran = (record.run_config or {}).get("method", "")
    if ran.startswith("folder:"):
        ran = f"folder:{Path(ran.partition(':')[2]).resolve()}"
    parts = [record.task, record.method, record.method_type, ran, protocol_digest(record.comparable_key())]
    key = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]
    return f"{record.task}_{slug(record.method)[:30]}_{key}"


# the hub benchmark's options (`--benchmark hub`): left unset, the paper's protocol (HubBenchmarkConfig's defaults)
HUB_OPTIONS = (
    "dataset",
    "revision",
    "split",
    "image_column",
    "age_column",
    "gender_column",
    "n_images",
    "targets",
    "data_dir",
    "run_dir",
)


def run_probe_task(settings, out: Path, confidence: float) -> int:
    """The synthetic-face probe: its table on stdout (markdown) and its files under `out`."""
    try:
        writable_folder(out, "--probe-out")  # before the work
        record = run_probe(settings, out, check_confidence(confidence))
    except (UserError, ModelUnavailable) as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return 2
    print(table_markdown(record["table"]))
    print(
        json.dumps(
            {
                "probe": str(out),
                "faces": record["grid"]["n_faces"],
                "no_face": record["no_face"]["count"],
                "calibrated": record["calibrated"],
                "gender_threshold": record["gender_threshold"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
