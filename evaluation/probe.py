"""The conformal age-estimation report's synthetic-face probe, as a harness mode.

    python -m leaderboard.evaluate --task probe [--probe-out outputs/probe] [--confidence 0.9]
    from evaluation.probe import run_probe
    report = run_probe(settings, Path("outputs/probe"))

Faces are drawn text-to-image by prompted age, gender and ethnicity (engine/methods/probe:
SDXL-Turbo over the hub's cached models; the grid is the settings `probe_*`), and each is
read by the hub's age estimator with its conformal interval and gender, exactly as the age
tab reads a photo (engine/tasks/estimate.py). The report's table follows, one row per
prompted age: mean predicted age, MAE against the prompted age, mean interval half-width,
coverage of the prompted age, and the share of faces read as the prompted gender.

The prompted age is what was asked for, not what was drawn: a generator that draws a
40-year-old for "a 90 year old" shows up here as estimator error. The table measures the
pair, as the report's does. A face in which no face is detected is counted and named in
its row, never dropped; without a calibration there is no interval, so half-width and
coverage are missing and the outputs say why.

Writes into the output folder: `faces/*.png`, `strip.png` (one row per gender x ethnicity
x seed, one column per prompted age), `probe.csv`, `probe.md` and `probe.json`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from engine.age.calibration import load_calibration
from engine.age.conformal import on_grid
from engine.age.estimators import age_estimator
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.faces.detection import NoFaceError
from engine.methods.probe.faces import PROMPT_TEMPLATE, FaceGenerator, ProbeCell, probe_grid
from engine.tasks.estimate import EstimateRequest, estimate, gender_threshold
from evaluation.probe_table import ProbeRow, probe_table, table_markdown, write_csv

logger = logging.getLogger(__name__)

CONFIDENCE = 0.9  # the report's 90 % intervals

REPORT = (
    "Conformal age-estimation project report (UTKFace), 'Checking CP Age Estimator on Generated Images By "
    "Diffusion Model': prompted vs predicted age and 90 % interval half-widths, ages 1-100"
)

DEPARTURES = [
    "generator: SDXL-Turbo text-to-image, 1 step, guidance 0, 512 px, not fine-tuned (the report: Stable Diffusion "
    "v1.5 fine-tuned on UTKFace, guidance 7.5)",
    "grid: every prompted age x gender x ethnicity x seed (settings HUB_PROBE_*), where the report drew one face per "
    "age with one gender and race",
    "estimator: the hub's age estimator and its calibration artefact (the report: its MobileNetV2 conformal model)",
    "ethnicities: UTKFace's named races; its race 'Other' names no one a prompt could draw",
]

TILE = 128  # px per face in the strip


def _caption(lines: list[str], height: int, width: int) -> np.ndarray:
    tile = np.full((height, width, 3), 24, np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(tile, line, (6, 24 + 22 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def probe_strip(rows: list[ProbeRow], faces: dict[str, np.ndarray]) -> np.ndarray:
    """One line per gender x ethnicity x seed, one column per prompted age; each face captioned
    "prompted > predicted" ("no face" when none was detected)."""
    from engine.core.media import strip  # noqa: PLC0415 - cv2 drawing, only when a strip is written

    lines: dict[tuple[str, str, int], list[ProbeRow]] = {}
    for row in rows:
        lines.setdefault((row.cell.gender, row.cell.ethnicity, row.cell.seed), []).append(row)
    blocks = []
    for (gender, ethnicity, seed), line in lines.items():
        labels = [f"{r.cell.age} > {'no face' if r.age is None else r.age_text or f'{r.age:.0f}'}" for r in line]
        images = [faces[r.file] for r in line]
        drawn = strip(images, labels, height=TILE)
        blocks.append(np.concatenate([_caption([gender, ethnicity, f"seed {seed}"], drawn.shape[0], TILE), drawn], axis=1))
    width = max(block.shape[1] for block in blocks)
    return np.concatenate([np.pad(b, ((0, 0), (0, width - b.shape[1]), (0, 0))) for b in blocks], axis=0)


def read_face(cell: ProbeCell, rgb: np.ndarray, file: str, confidence: float, settings: Settings) -> ProbeRow:
    """The estimator's reading of one probe face: the largest face found, as the age tab reads a photo (an upside-down
    face is not read, as there: `faces_found` counts the upright ones)."""
    try:
        analysis = estimate(EstimateRequest(rgb, confidence), settings)
    except NoFaceError:
        return ProbeRow(cell, file, faces_found=0)
    face = analysis.faces[0]
    return ProbeRow(cell, file, len(analysis.faces), face.age, face.interval, face.gender, face.p_female, face.age_text)


def run_probe(
    settings: Settings | None = None,
    out: Path = Path("outputs/probe"),
    confidence: float = CONFIDENCE,
    generator: FaceGenerator | None = None,
) -> dict:
    """Draw the grid's faces, read each with the estimator, write the table, strip and record; return the record."""
    settings = settings or get_settings()
    confidence = on_grid(confidence)
    # 1. the grid and the generator (the cached SDXL-Turbo's models, unless one is given)
    cells = probe_grid(settings.probe_ages, settings.probe_genders, settings.probe_ethnicities, settings.probe_seeds)
    generator = generator or get_cache(settings).get("probe_faces")
    estimator = age_estimator(settings)
    calibration, calibration_note = load_calibration(settings, estimator.estimator_id)
    threshold, threshold_from = gender_threshold(calibration)
    (out / "faces").mkdir(parents=True, exist_ok=True)
    # 2. draw each face and read it
    rows, faces = [], {}
    for index, cell in enumerate(cells):
        rgb = generator.generate(cell)
        file = f"faces/{cell.name}.png"
        Image.fromarray(rgb).save(out / file)
        faces[file] = rgb
        rows.append(read_face(cell, rgb, file, confidence, settings))
        logger.info("probe %d/%d %s: %s", index + 1, len(cells), cell.name, rows[-1].age)
    # 3. the table, the strip and the record
    table = probe_table(rows)
    no_face = [row.file for row in rows if row.age is None]
    several = [row.file for row in rows if row.faces_found > 1]
    describe = getattr(generator, "describe", None)
    record = {
        "kind": "synthetic-face-probe",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "report": REPORT,
        "generator": describe() if describe else {"model": generator.model, "prompt_template": PROMPT_TEMPLATE},
        "profile": settings.profile,
        "grid": {
            "ages": list(settings.probe_ages),
            "genders": list(settings.probe_genders),
            "ethnicities": list(settings.probe_ethnicities),
            "seeds_per_cell": settings.probe_seeds,
            "n_faces": len(cells),
        },
        "estimator": estimator.estimator_id,
        "confidence": confidence,
        "calibrated": calibration is not None,
        "calibration": calibration_note,
        "intervals": None if calibration is None else calibration.method,
        "gender_threshold": {"threshold": threshold, "from": threshold_from},
        "no_face": {"count": len(no_face), "files": no_face},
        "several_faces_largest_read": several,
        "departures_from_report": DEPARTURES,
        "table": table,
        "rows": [row.to_json() for row in rows],
    }
    (out / "probe.json").write_text(json.dumps(record, indent=1))
    write_csv(table, out / "probe.csv")
    (out / "probe.md").write_text(probe_markdown(record))
    Image.fromarray(probe_strip(rows, faces)).save(out / "strip.png")
    return record


def probe_markdown(record: dict) -> str:
    intervals = (
        f"{record['confidence']:.0%} conformal, {record['calibration']}"
        if record["calibrated"]
        else f"no intervals: {record['calibration']}; half-width and coverage are missing"
    )
    no_face = record["no_face"]
    lines = [
        "# Synthetic-face probe",
        "",
        f"Faces: {record['grid']['n_faces']} from {record['generator']['model']}, prompt "
        f'"{record["generator"]["prompt_template"]}". Estimator: {record["estimator"]}. Intervals: {intervals}. '
        f"Gender: female when p(female) >= {record['gender_threshold']['threshold']:g}, "
        f"{record['gender_threshold']['from']}.",
        "",
        table_markdown(record["table"]),
        "",
        f"No face detected in {no_face['count']} of {record['grid']['n_faces']} faces"
        + (f": {', '.join(no_face['files'])}." if no_face["files"] else "."),
        "",
        "Departures from the report: " + "; ".join(record["departures_from_report"]) + ".",
    ]
    return "\n".join(lines) + "\n"
