"""The evaluation harness: run (or read) a method on a benchmark, score it, write a verified record.

    accelerate launch -m leaderboard.evaluate --method cradle2cane --benchmark offline
    python -m leaderboard.evaluate --method classical --benchmark offline [--out DIR]
    python -m leaderboard.evaluate --method folder:DIR --benchmark offline    # a researcher's outputs

Benchmark `offline`: the public-domain portraits that ship in packages (scikit-image's
astronaut, matplotlib's Grace Hopper), each aged to every target age, so the whole
loop runs on any machine. A submitted folder holds one image per (input, target)
named `{input}_{target}.png` (e.g. `astronaut_40.png`).

Scoring (offline evaluators): the packaged age model on each output's largest face
(age MAE, overall and per target-age bucket) and SFace identity similarity x 100
against the input face; HCS from the two. An output with no face gets missing age
and identity, counted in the record; nothing is imputed and nothing is dropped.
Inputs are split across processes with accelerate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from engine.age.estimators import age_estimator
from engine.core.errors import InputError, UserError
from engine.core.images import load_image
from engine.core.models import checkpoint_name
from engine.core.registry import get_cache
from engine.core.settings import ROOT, get_settings
from engine.tasks.lifespan import LifespanRequest, age_photo
from evaluation.benchmarks import (
    BENCHMARKS,
    BenchmarkInput,
)
from evaluation.hub_benchmark import DEPARTURES, HubBenchmarkConfig, Shards, choose_faces, read_faces
from evaluation.records import ResultsRecord
from evaluation.runlog import RunLog, row_key
from evaluation.scoring import (
    IDENTITY_MODELS,
    breakdown,
    fid_against,
    held_out,
    judge_outputs,
    score_input,
    summarise,
)
from evaluation.tasks import METHOD_TYPES, mean_present

logger = logging.getLogger(__name__)


# The methods this harness runs itself, each with its method type: their names are the project's (leaderboard/submissions.py
# refuses them to a submitter's outputs)
HARNESS_METHODS = {"classical": "classical", "cradle2cane": "diffusion"}


def folder_name(method: str) -> str:
    """A folder of outputs' (`folder:DIR`) own name, its path made absolute first ("folder:." was named "" and its run,
    scored whole, ended in a RecordError); a link keeps its own name, not its target's."""
    return Path(os.path.abspath(method.partition(":")[2])).name


def method_kind(method: str) -> str:
    """The method type a record names for a method this harness runs (submitted folders name their own)."""
    if method.startswith("folder:"):
        return "submitted"
    kind = HARNESS_METHODS.get(method)
    if kind is None:
        raise InputError(f"method must be {', '.join(HARNESS_METHODS)} or folder:DIR, got {method!r}")
    return kind


def record_type(method: str, method_type: str | None) -> str:
    """The method type a record of `method` names: a harness method's own (another named is refused: the harness
    ran it, its type is not the caller's to choose), or a folder's, which must name one of METHOD_TYPES."""
    kind = method_kind(method)
    if kind != "submitted":
        if method_type is not None and method_type != kind:
            raise InputError(
                f"the method type names a folder of outputs' type; {method} is the harness's own {kind} method, "
                f"got {method_type!r}: leave it out"
            )
        return kind
    if method_type not in METHOD_TYPES:
        raise InputError(f"a folder of outputs needs its method type, one of {', '.join(METHOD_TYPES)}, got {method_type!r}")
    return method_type


def check_output_folder(method: str, names: list[str], settings) -> None:
    """A folder of outputs (`folder:DIR`) exists and holds every output `names` lists, each an image the scoring reads
    (`load_image` under the settings' pixel and size limits, as the queue's zip check reads them): one missing was
    scored as an output without a face, and a folder that did not exist gave a row of "missing" only. The refusal
    names the files, not the folder (the queue's work folder is a server path)."""
    folder = Path(method.partition(":")[2])
    if not folder.is_dir():
        raise InputError(f"no folder of outputs at {str(folder)!r}: give folder:DIR, DIR the folder holding them")
    problems = []
    for name in names:
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} (no such file)")
            continue
        try:
            load_image(path, max_pixels=settings.max_pixels, min_side=settings.min_side)
        except InputError as error:
            problems.append(f"{name} ({error})")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise InputError(
            f"{len(problems)} of the {len(names)} outputs in the folder are missing or unreadable: {shown}. "
            "The folder needs one PNG per input photo and target age, named <input>_<age>.png"
        )


def method_outputs(
    method: str,
    item: BenchmarkInput,
    targets: tuple[float, ...],
    seed: int,
    settings,
    source_age: float | None = None,
    gender: str | None = None,
) -> tuple[list[np.ndarray | None], float, dict]:
    """(one image per target or None where a submitted file is missing, seconds per image, what the method said of the
    photo: the source age it aged from and where that came from, and its warnings (a stage skipped, hair left as it
    is, zones it could not place), which explain a photo's figures; {} for submitted outputs).

    `source_age` and `gender`: the dataset's labels when it has them; None: the method estimates them."""
    kind = method_kind(method)
    if method.startswith("folder:"):
        folder = Path(method.partition(":")[2])
        images: list[np.ndarray | None] = []
        for target in targets:
            path = folder / f"{item.name}_{target:g}.png"
            try:
                images.append(load_image(path, max_pixels=settings.max_pixels, min_side=settings.min_side).rgb)
            except InputError as error:
                logger.warning("missing or unreadable output %s: %s", path, error)
                images.append(None)
        return images, float("nan"), {}

    renderer = "classical" if kind == "classical" else "diffusion"
    start = time.perf_counter()
    # not read by the task (read_ages): the harness scores each output itself, with its own evaluators
    request = LifespanRequest(
        item.rgb, list(targets), source_age=source_age, gender=gender, seed=seed, renderer=renderer, read_ages=False
    )
    output = age_photo(request, settings)
    seconds = (time.perf_counter() - start) / len(targets)
    assert output.photos is not None  # the request pastes back (paste=True)
    said = {"source_age": round(output.source_age, 1), "source_age_from": output.source_age_from, "warnings": output.warnings}
    return list(output.photos), seconds, said


def served_checkpoint(method: str, settings) -> dict:
    """The run's record of the Cradle2Cane weights the harness served (`cradle2cane`): a shared repo at its commit, a local
    folder by its name, or the published one; nothing for another method."""
    if method != "cradle2cane":
        return {}
    return {
        "checkpoint": checkpoint_name("cradle2cane", settings, get_cache(settings).spec("cradle2cane").source.partition(":")[2])
    }


def shared_checkpoint(method: str, settings) -> dict | None:
    """The record's `checkpoint` ({repo, revision}) where the harness served a checkpoint shared on the Hub
    (HUB_MODEL_REPO_CRADLE2CANE): how `train.push` finds the rows that are that checkpoint's own results."""
    repo = settings.model_repos.get("cradle2cane") if method == "cradle2cane" else None
    if not repo:
        return None
    named = checkpoint_name("cradle2cane", settings, repo)
    return {"repo": repo, "revision": named.partition("@")[2] or None}


def code_version() -> str | None:
    """The hub's git commit ("<sha>+dirty" where tracked files differ from it), or None where it cannot be told (not a git
    checkout, as a Space's build; git missing, refusing the folder, or failing), said in the log: a record names the code
    that made its figures. The environment's GIT_* variables are left out, and the checkout must be the hub's own folder
    (GIT_DIR, or a checkout around the hub's folder, named another repository's commit)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10, env=env)

    try:
        top = git("rev-parse", "--show-toplevel")
        head = git("rev-parse", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError) as error:
        logger.info("the record names no code version: git could not be run (%s)", error)
        return None
    failed = next((run for run in (top, head, status) if run.returncode != 0), None)
    if failed is not None:
        logger.info("the record names no code version: %s", (failed.stderr.strip() or "git failed").splitlines()[-1])
        return None
    if Path(top.stdout.strip()).resolve() != Path(ROOT).resolve():
        logger.info("the record names no code version: %s is not a git checkout of its own", ROOT)
        return None
    return head.stdout.strip() + ("+dirty" if status.stdout.strip() else "")


def input_digests(inputs) -> dict[str, str]:
    """Each benchmark input's pixels, by name, as the first 16 hex digits of their sha256 (shape included): a record
    names the photos it was measured on, not only their names."""
    return {
        item.name: hashlib.sha256(repr(item.rgb.shape).encode() + np.ascontiguousarray(item.rgb).tobytes()).hexdigest()[:16]
        for item in inputs
    }


def hardware() -> str:
    try:
        import torch  # noqa: PLC0415 - torch loads on first use, not at start-up

        if torch.cuda.is_available():
            return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name()}"
    except ImportError:
        pass
    return f"CPU {platform.processor() or platform.machine()}"


def process_state(settings):
    """accelerate's view of the processes; on a machine without CUDA, several processes talk over gloo."""
    from accelerate import PartialState  # noqa: PLC0415 - accelerate loads only when a harness or trainer runs

    return PartialState(cpu=settings.device == "cpu")


def judge_and_fid(state, judge, judged: list, fid_reference: Path | None) -> tuple[dict, dict, dict | None]:
    """(metrics, counts, judge report) from the VLM judge and FID over every process's outputs.

    `judged`: (row, output, source) for every output of every process (gathered by the caller). Only the
    main process asks the judge (each question once) and computes FID; the others receive its results."""
    from accelerate.utils import broadcast_object_list  # noqa: PLC0415 - accelerate loads only when a harness runs

    result: list = [({}, {}, None)]
    if state.is_main_process:
        metrics: dict = {}
        counts: dict = {}
        report = None
        if fid_reference is not None:
            metrics["fid"], counts["fid"] = fid_against(fid_reference, [image for _, image, _ in judged])
        if judge is not None:  # beside the model-based scores, never instead of them
            judge_metrics, report = judge_outputs(judge, judged)
            metrics.update(judge_metrics)
            counts["image_quality"] = (
                "from the VLM judge" if judge_metrics["image_quality"] is not None else "missing: no judge reply parsed"
            )
        result = [(metrics, counts, report)]
    broadcast_object_list(result)
    return result[0]


def build_record(
    method: str,
    kind: str,
    protocol: dict,
    rows: list[dict],
    seconds: list[float],
    extra: tuple[dict, dict, dict | None],
    settings,
    evaluators: str,
    judge,
    run_config: dict,
    notes: dict,
) -> ResultsRecord:
    metrics, counts = summarise(rows)
    metrics["seconds_per_image"] = mean_present(s for s in seconds if s == s)  # NaN: not timed (submitted outputs)
    extra_metrics, extra_counts, judge_report = extra
    metrics.update(extra_metrics)
    counts.update(extra_counts)
    estimator = age_estimator(settings)
    served = served_checkpoint(method, settings)
    named = {
        "age_estimator": f"{estimator.estimator_id}@{estimator.version}",
        "identity_model": get_cache(settings).get(IDENTITY_MODELS[evaluators]).name,
        "judge_model": judge.model if judge is not None else None,
    }
    return ResultsRecord.from_json(
        {
            "task": "lifespan",
            "method": method if not method.startswith("folder:") else folder_name(method),
            "method_type": kind,
            "provenance": "verified",
            "protocol": {**protocol, "n_images": len(rows)},
            "evaluators": named,
            "metrics": metrics,
            "run_config": {**run_config, "python": sys.version.split()[0], **served},
            "checkpoint": shared_checkpoint(method, settings),
            "hardware": hardware(),
            "date": dt.date.today().isoformat(),
            "notes": {
                **counts,
                "evaluators_held_out": held_out({k: v for k, v in named.items() if k != "judge_model"}),
                **notes,
                **breakdown(rows),
                "rows": rows,
                **({"judge": judge_report} if judge_report else {}),
            },
        }
    )


def evaluate(
    method: str,
    benchmark_name: str,
    seed: int = 0,
    settings=None,
    method_type: str | None = None,
    judge=None,
    evaluators: str = "offline",
    fid_reference: Path | None = None,
) -> ResultsRecord:
    from accelerate.utils import gather_object  # noqa: PLC0415 - accelerate loads only when a harness or trainer runs

    settings = settings or get_settings()
    if evaluators not in IDENTITY_MODELS:
        raise InputError(f"evaluators must be one of {sorted(IDENTITY_MODELS)}, got {evaluators!r}")
    if benchmark_name not in BENCHMARKS:
        raise InputError(f"benchmark must be one of {sorted(BENCHMARKS)}, got {benchmark_name!r}")
    benchmark = BENCHMARKS[benchmark_name]()
    kind = record_type(method, method_type)
    if method.startswith("folder:"):
        names = [f"{item.name}_{target:g}.png" for item in benchmark.inputs for target in benchmark.targets]
        check_output_folder(method, names, settings)
    state = process_state(settings)
    code = code_version()  # the code as the run starts (files changed meanwhile are not what made its figures)
    rows, seconds, judged, said = [], [], [], []
    with state.split_between_processes(list(range(len(benchmark.inputs)))) as mine:
        for index in mine:
            item = benchmark.inputs[index]
            try:
                images, per_image, of_photo = method_outputs(method, item, benchmark.targets, seed, settings)
            except UserError as error:  # a photo the method refuses (a face too small): its rows missing, with the reason
                rows += _missing_rows(item.name, benchmark.targets, str(error))
                continue
            if of_photo:
                said.append((item.name, of_photo))
            scored = score_input(item, images, benchmark.targets, settings, evaluators)
            rows += scored
            seconds.append(per_image)
            judged += [(row, image, item.rgb) for row, image in zip(scored, images) if image is not None]
    rows, seconds, said = gather_object(rows), gather_object(seconds), gather_object(said)
    # every process's outputs, so the judge and FID see the whole benchmark, not one shard of it
    extra = judge_and_fid(state, judge, gather_object(judged) if judge or fid_reference else [], fid_reference)
    protocol = {"benchmark": benchmark.name, "input_set": benchmark.input_set, "target_ages": list(benchmark.targets)}
    run_config = {
        "method": method,
        "benchmark": benchmark_name,
        "seed": seed,
        "profile": settings.profile,
        "processes": state.num_processes,
        "code": code,
        "inputs_sha256": input_digests(benchmark.inputs),
    }
    # per photo, what the method said of it (the harness's own methods): why a photo reads as it does is in the record
    notes = {"method_notes": dict(said)} if said else {}
    return build_record(method, kind, protocol, rows, seconds, extra, settings, evaluators, judge, run_config, notes)


def default_run_dir(method: str, run_config: dict) -> Path:
    """outputs/benchmark-runs/{method}-{hash of the run configuration}: the same settings resume the same run."""
    digest = hashlib.sha256(json.dumps(run_config, sort_keys=True).encode()).hexdigest()[:12]
    slug = re.sub(r"[^\w.-]+", "-", method.partition(":")[2] if method.startswith("folder:") else method).strip("-")
    return ROOT / "outputs" / "benchmark-runs" / f"{slug or 'outputs'}-{digest}"


def _missing_rows(name: str, targets, reason: str) -> list[dict]:
    return [{"input": name, "target": float(t), "age": None, "identity": None, "error": reason} for t in targets]


def evaluate_hub(
    method: str,
    config: HubBenchmarkConfig | None = None,
    seed: int = 0,
    settings=None,
    method_type: str | None = None,
    judge=None,
    evaluators: str = "offline",
    fid_reference: Path | None = None,
    run_dir: Path | None = None,
) -> ResultsRecord:
    """The lifespan protocol on a Hub dataset (`HubBenchmarkConfig`; the paper's by default), resumable
    and split across processes; every process's rows are gathered before scoring and judging.

    Each row is appended to the run folder as it is scored; a rerun with the same settings skips
    the rows there. The judge and FID read the outputs kept in the run folder (`outputs/`), so they
    see every process's outputs and those of earlier, interrupted runs."""
    from accelerate.utils import gather_object  # noqa: PLC0415 - accelerate loads only when a harness or trainer runs
    from tqdm.auto import tqdm  # noqa: PLC0415 - the progress bar loads only when a benchmark runs

    settings = settings or get_settings()
    config = config or HubBenchmarkConfig()
    if evaluators not in IDENTITY_MODELS:
        raise InputError(f"evaluators must be one of {sorted(IDENTITY_MODELS)}, got {evaluators!r}")
    kind = record_type(method, method_type)
    if method.startswith("folder:"):  # the folder, before the dataset is read (its outputs are checked as they are read)
        check_output_folder(method, [], settings)
    keep_outputs = judge is not None or fid_reference is not None
    run_config = {
        "method": method,
        "benchmark": config.to_json(),
        "seed": seed,
        "evaluators": evaluators,
        "profile": settings.profile,
        "keep_outputs": keep_outputs,
    }
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(method, run_config)
    state = process_state(settings)
    shards = Shards.open(config)
    faces, passed_over = choose_faces(shards)
    log = RunLog.open(run_dir, run_config, state.process_index)
    done = log.done()
    state.wait_for_everyone()  # every process splits the same to-do list: none writes before all have read
    todo = [face for face in faces if any((face.name, t) not in done for t in config.targets)]
    if done:
        logger.info("%s: resuming; %d of %d images left", run_dir, len(todo), len(faces))
    outputs = run_dir / "outputs"
    rows: list[dict] = []
    kept: list[str] = []  # the outputs this process wrote for the judge and FID
    with state.split_between_processes(todo) as mine:
        bar = tqdm(
            total=len(mine),
            unit="image",
            desc=f"{config.name} [process {state.process_index}]",
            position=state.local_process_index,
        )
        for face, rgb, problem in read_faces(shards, mine, settings.max_pixels, settings.min_side):
            targets = tuple(t for t in config.targets if (face.name, t) not in done)
            scored: list[dict]
            if rgb is None:
                scored = _missing_rows(face.name, targets, f"unreadable input: {problem}")
            else:
                item = BenchmarkInput(face.name, rgb)
                try:
                    images, per_image, _ = method_outputs(method, item, targets, seed, settings, face.age, face.gender)
                except UserError as error:  # e.g. no face in the source photo: its rows are missing, with the reason
                    scored = _missing_rows(face.name, targets, str(error))
                else:
                    # each row keeps its image's time in the run folder, so a resumed run's speed covers
                    # every image, those of the runs before it too
                    timed = per_image if per_image == per_image else None  # NaN: submitted outputs, not timed
                    scored = [{**row, "seconds": timed} for row in score_input(item, images, targets, settings, evaluators)]
                    # a folder's output missing or unreadable (its input may have been one the method could not age):
                    # its row is unscored with the reason, counted in the record and noted in the table, not refused
                    # as the offline benchmark's eight are (thousands of rows; a run resumes)
                    for row, image in zip(scored, images):
                        if image is None:
                            row["error"] = f"output {face.name}_{row['target']:g}.png missing or unreadable"
                    if keep_outputs:
                        save_png(rgb, outputs / f"{face.name}.png")
                        for target, image in zip(targets, images):
                            if image is not None:
                                save_png(image, outputs / f"{face.name}_{target:g}.png")
                                kept.append(f"{face.name}_{target:g}.png")
            for row in scored:
                log.append(row)
                rows.append(row)
            bar.update()
        bar.close()
    log.close()
    for row in gather_object(rows):
        done.setdefault(row_key(row), row)
    order = {face.name: index for index, face in enumerate(faces)}
    rows = sorted(done.values(), key=lambda r: (order[r["input"]], config.targets.index(r["target"])))
    seconds = [row["seconds"] for row in rows if row.get("seconds") is not None]  # rows of failed inputs are not timed
    rows = [{key: value for key, value in row.items() if key != "seconds"} for row in rows]  # the record's rows: scores only
    kept = gather_object(kept)
    state.wait_for_everyone()  # every process's outputs are on disk before the judge reads them
    judged = []
    unseen: list[str] = []  # written by a process, yet not in the folder the main process reads
    if keep_outputs and state.is_main_process:
        unseen = sorted(name for name in kept if not (outputs / name).is_file())
        if unseen:
            logger.warning(
                "%d outputs the processes wrote are not in %s (e.g. %s): the judge and FID leave them out; on "
                "several machines, put --run-dir on a filesystem they all share",
                len(unseen),
                outputs,
                unseen[0],
            )
        for row in rows:
            output = outputs / f"{row['input']}_{row['target']:g}.png"
            if output.is_file():
                judged.append((row, _read_png(output), _read_png(outputs / f"{row['input']}.png")))
    extra = judge_and_fid(state, judge, judged, fid_reference)
    source = f"local folder {config.data_dir}" if config.data_dir else "the Hub"
    protocol = {
        "benchmark": config.name,
        "input_set": f"{config.repo_id} split {config.split}: {config.selection()}",
        "target_ages": list(config.targets),
        "dataset": config.repo_id,
        "revision": config.revision,
        "split": config.split,
    }
    notes = {
        "source_labels": {
            "age": f"column {config.age_column!r}" if config.age_column else "estimated by the method",
            "gender": f"column {config.gender_column!r}" if config.gender_column else "estimated by the method",
        },
        "read_from": source,
        "departures_from_the_paper": list(DEPARTURES),
        "n_failed_inputs": len({r["input"] for r in rows if r.get("error")}),
        **(
            {
                "outputs_not_judged": {
                    "count": len(unseen),
                    "why": f"written by another process but not in {outputs}, which the judge and FID read: "
                    "--run-dir is not on a filesystem every machine shares",
                }
            }
            if unseen
            else {}
        ),
        **({"passed_over": {k: len(v) for k, v in passed_over.items()}} if passed_over else {}),
    }
    run = {**run_config, "processes": state.num_processes, "run_dir": str(run_dir)}
    return build_record(method, kind, protocol, rows, seconds, extra, settings, evaluators, judge, run, notes)


def save_png(rgb: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.png")
    Image.fromarray(rgb).save(temporary)
    temporary.replace(path)


def _read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.array(image.convert("RGB"))
