"""Labelled face images for calibration: a UTKFace-style folder, a CSV, or a Hub dataset.

Each source gives `LabelledData`: its name, licence and where it came from, one
`LabelledImage` per usable label (the image bytes are read lazily), and every row
it could not use with the reason. Nothing is guessed: a missing gender stays None,
a row without a readable age is listed as skipped, never filled in.

- folder: files named `{age}_{gender}_{race}_*.jpg` (UTKFace: gender 0 male, 1 female);
- CSV: columns `file`, `age` and optionally `gender` (female / male / f / m, blank when
  unknown), file paths relative to the CSV;
- Hub dataset id (ORG/NAME[@REVISION]): the repo's parquet files (an image column of
  bytes, an age column, optionally a gender column), or an image folder with a
  `metadata.csv` (`file_name`, age, gender), read through huggingface_hub; the
  licence comes from its dataset card.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd
from huggingface_hub import RepoCard, snapshot_download

from engine.core.errors import InputError

logger = logging.getLogger(__name__)

UTKFACE_NAME = re.compile(r"^(\d{1,3})_([01])_(\d+)_.+\.(jpe?g|png)$", re.IGNORECASE)

UTKFACE_GENDERS = {"0": "male", "1": "female"}  # UTKFace README: gender is 0 (male) or 1 (female)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}

GENDER_WORDS = {"female": "female", "f": "female", "woman": "female", "male": "male", "m": "male", "man": "male"}

MAX_AGE = 130  # a label above this is a typo, not an age

HUB_PATTERNS = [
    "*.parquet",
    "**/*.parquet",
    "*.csv",
    "**/*.csv",
    "**/*.jpg",
    "**/*.jpeg",
    "**/*.png",
    "*.jpg",
    "*.png",
    "README.md",
]

SKIP_NAME = "name not {age}_{gender}_{race}_*"
SKIP_LABEL = "age label missing or not an age"
SKIP_FILE = "image file missing"


@dataclass(frozen=True)
class LabelledImage:
    key: str  # a stable name: the split hashes it, reports quote it
    age: float
    gender: str | None  # "female", "male" or None when the label is missing
    read: Callable[[], bytes]


@dataclass
class LabelledData:
    name: str
    source: str  # "folder", "csv" or "hub"
    licence: str | None  # None: not stated by the data
    items: list[LabelledImage]
    skipped: dict[str, list[str]] = field(default_factory=dict)
    repo: str | None = None
    revision: str | None = None


def _age(value: object) -> float | None:
    try:
        age = float(str(value).strip())
    except ValueError:
        return None
    return age if math.isfinite(age) and 0 <= age <= MAX_AGE else None


def _gender_word(value: object, where: str) -> str | None:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip().lower()
    if not text:
        return None
    if text not in GENDER_WORDS:
        raise InputError(f"{where}: gender {value!r} is not one of female, male, f, m (leave it blank when unknown)")
    return GENDER_WORDS[text]


def utkface_folder(folder: Path) -> LabelledData:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    items, skipped = [], {SKIP_NAME: []}  # type: ignore[var-annotated]
    for path in files:
        match = UTKFACE_NAME.match(path.name)
        if not match:
            skipped[SKIP_NAME].append(path.name)
            continue
        items.append(LabelledImage(path.name, float(match.group(1)), UTKFACE_GENDERS[match.group(2)], path.read_bytes))
    return LabelledData(folder.name, "folder", None, items, skipped)


def csv_labels(path: Path) -> LabelledData:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if "file" not in columns or "age" not in columns:
            raise InputError(f"{path.name}: needs columns file, age (and optionally gender); found {columns}")
        rows = [{k.strip().lower(): v for k, v in row.items() if k} for row in reader]
    items, skipped = [], {SKIP_LABEL: [], SKIP_FILE: []}  # type: ignore[var-annotated]
    for number, row in enumerate(rows, start=2):  # line numbers as a spreadsheet shows them
        name = (row.get("file") or "").strip()
        age = _age(row.get("age"))
        if age is None:
            skipped[SKIP_LABEL].append(f"line {number}: {name or '?'} age {row.get('age')!r}")
            continue
        file = path.parent / name
        if not name or not file.is_file():
            skipped[SKIP_FILE].append(f"line {number}: {name!r}")
            continue
        gender = _gender_word(row.get("gender"), f"{path.name} line {number}")
        items.append(LabelledImage(name, age, gender, file.read_bytes))
    return LabelledData(path.stem, "csv", None, items, skipped)


def hub_snapshot(repo_id: str, revision: str | None) -> Path:
    """The dataset repo's tables, images and card, downloaded (or from the local Hub cache)."""
    return Path(snapshot_download(repo_id, repo_type="dataset", revision=revision, allow_patterns=HUB_PATTERNS))


def read_card(folder: Path) -> dict:
    readme = folder / "README.md"
    return RepoCard.load(readme).data.to_dict() if readme.is_file() else {}


def class_names(card: dict, column: str) -> list[str] | None:
    """A ClassLabel column's names, from the card's dataset_info, index order."""
    info = card.get("dataset_info") or {}
    for entry in info if isinstance(info, list) else [info]:
        for feature in entry.get("features") or []:
            if feature.get("name") == column:
                names = ((feature.get("dtype") or {}).get("class_label") or {}).get("names")
                if isinstance(names, dict):
                    return [str(names[k]) for k in sorted(names, key=int)]
                if isinstance(names, list):
                    return [str(n) for n in names]
    return None


def image_bytes(value: object) -> bytes | None:
    """The encoded image in a parquet image cell: a datasets Image struct {bytes, path} or raw bytes; None without bytes."""
    if isinstance(value, dict):
        value = value.get("bytes")
    return bytes(value) if isinstance(value, (bytes, bytearray)) else None


def hub_dataset(
    repo_id: str,
    revision: str | None = None,
    image_column: str = "image",
    age_column: str = "age",
    gender_column: str | None = "gender",
    download: Callable[[str, str | None], Path] | None = None,
) -> LabelledData:
    try:
        folder = (download or hub_snapshot)(repo_id, revision)
    except Exception as error:  # noqa: BLE001 - any Hub failure is reported as a bad --data, not a crash
        raise InputError(
            f"dataset {repo_id}{f'@{revision}' if revision else ''} could not be read from the Hub "
            f"({type(error).__name__}: {error}); if you meant a local folder or CSV, no such path exists"
        ) from None
    card = read_card(folder)
    licence = card.get("license")
    parquet = sorted(folder.rglob("*.parquet"))
    metadata = sorted(folder.rglob("metadata.csv"))
    if parquet:
        table = pd.concat([pd.read_parquet(p) for p in parquet], ignore_index=True)
        origin = [f"{p.relative_to(folder)}" for p in parquet]
    elif metadata:
        table = pd.concat([pd.read_csv(m).assign(_folder=str(m.parent)) for m in metadata], ignore_index=True)
        image_column = "file_name"
        origin = [f"{m.relative_to(folder)}" for m in metadata]
    else:
        raise InputError(f"dataset {repo_id}: no parquet files and no metadata.csv; cannot find labelled images")
    for column in (image_column, age_column):
        if column not in table.columns:
            raise InputError(
                f"dataset {repo_id}: no column {column!r} in {origin[0]} (columns: {list(table.columns)}); "
                "name the columns with --image-column / --age-column"
            )
    genders = table[gender_column] if gender_column and gender_column in table.columns else None
    names = class_names(card, gender_column) if genders is not None and gender_column else None
    items, skipped = [], {SKIP_LABEL: [], SKIP_FILE: []}  # type: ignore[var-annotated]
    for index, row in table.iterrows():
        key = f"{repo_id}#{index}"
        age = _age(row[age_column])
        if age is None:
            skipped[SKIP_LABEL].append(f"row {index}: age {row[age_column]!r}")
            continue
        gender = None
        if genders is not None:
            value = row[gender_column]
            if names is not None and not isinstance(value, str) and not pd.isna(value):
                value = names[int(value)]
            gender = _gender_word(value, f"dataset {repo_id} row {index}")
        if "_folder" in table.columns:
            file = Path(row["_folder"]) / str(row[image_column])
            if not file.is_file():
                skipped[SKIP_FILE].append(f"row {index}: {row[image_column]!r}")
                continue
            items.append(LabelledImage(f"{repo_id}/{row[image_column]}", age, gender, file.read_bytes))
        else:
            content = image_bytes(row[image_column])
            if content is None:
                skipped[SKIP_FILE].append(f"row {index}: no image bytes in column {image_column!r}")
                continue
            items.append(LabelledImage(key, age, gender, partial(bytes, content)))
    if genders is None:
        logger.info("dataset %s has no %r column: per-gender coverage will show genders as unknown", repo_id, gender_column)
    return LabelledData(repo_id, "hub", licence, items, skipped, repo=repo_id, revision=revision)


def open_labelled(
    data: str,
    image_column: str = "image",
    age_column: str = "age",
    gender_column: str | None = "gender",
    download: Callable[[str, str | None], Path] | None = None,
) -> LabelledData:
    """A folder, a CSV file, or a Hub dataset id (ORG/NAME or ORG/NAME@REVISION)."""
    path = Path(data).expanduser()
    if path.is_dir():
        return utkface_folder(path)
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise InputError(f"--data {path.name}: a file must be a CSV with columns file, age, gender")
        return csv_labels(path)
    repo, _, revision = data.partition("@")
    if re.match(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$", repo) and not data.startswith((".", "/", "~")):
        return hub_dataset(repo, revision or None, image_column, age_column, gender_column, download)
    raise InputError(f"--data {data!r} is neither a folder, a CSV file, nor a Hub dataset id (ORG/NAME): check the path")
