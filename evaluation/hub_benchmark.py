"""The papers' lifespan benchmark on a Hub dataset: which faces, read shard by shard from parquet.

Protocol (Cradle2Cane, sec. 4.1 "Evaluation Benchmarks and Metrics"): faces from the CelebA-HQ
test part, 100 per gender, each aged to 0-80 years in 5-year steps. The dataset is read as its
parquet shards (`HfApi.list_repo_files`, then each shard opened through `HfFileSystem`, which
fetches only the byte ranges pyarrow asks for) or from a local folder holding the same shards
(a downloaded snapshot): the same code reads both. Only the label columns are read to choose the
faces; images are then read one row group at a time, only for the rows a process was given, so
the dataset is never held in memory or downloaded whole.

Departures from the paper, each a setting: the paper draws its faces at random and does not
publish which; here they are the first `n_images / 2` faces of each gender in the split's row
order (reproducible without reading every image). The paper's "3,200 test images" is 200 faces
x 16 targets, but "0 to 80 in 5-year intervals" is 17 targets; the text's 17 are kept (as this
project's seeded Table 1 rows do).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow.parquet as pq
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download

from engine.age.labelled import GENDER_WORDS, class_names, image_bytes, read_card
from engine.core.errors import InputError
from engine.core.images import load_image
from engine.core.limits import AGE, MAX_TARGETS

# CelebA-HQ (Karras et al. 2018) as parquet on the Hub: an `image` column ({bytes, path}) and a
# `label` column (class 0 female, 1 male; from its dataset card); splits train (28,000) and
# validation (2,000 faces held out from training: the test part). No age labels.
CELEBA_HQ_REPO = "mattymchen/celeba-hq"
CELEBA_HQ_REVISION = "1bc5dfbeb766d03abeddf5a48b9871479a4395bb"  # its main branch when this was written
CELEBA_HQ_SPLIT = "validation"
PAPER_FACES_PER_GENDER = 100  # sec. 4.1: "we randomly select 100 face images per gender"
PAPER_TARGETS = tuple(float(age) for age in range(0, 81, 5))  # sec. 4.1: "from 0 to 80 years in 5-year intervals"

# Where this benchmark departs from the paper's protocol (sec. 4.1); every record of it lists them.
DEPARTURES = (
    "faces: the first n/2 of each gender in the split's row order (the paper draws them at random and does not publish them)",
    "targets: 0-80 by 5 as the paper's text says (17); its count of 3,200 images for 200 faces implies 16",
    "evaluators: this hub's (the paper used the Face++ API and Qwen-VL); the record names them",
    "inputs are the dataset's photos as they are (the paper removed their backgrounds with CarveKit first)",
)

GENDERS = ("female", "male")
ROWS_PER_BATCH = 256  # label columns are read this many rows at a time


@dataclass(frozen=True)
class HubBenchmarkConfig:
    """Which dataset, split, columns, faces and target ages; the defaults are the paper's protocol."""

    repo_id: str = CELEBA_HQ_REPO
    revision: str | None = CELEBA_HQ_REVISION
    split: str = CELEBA_HQ_SPLIT
    image_column: str = "image"
    # None: the dataset has no age labels (CelebA-HQ) and the method estimates each source age.
    age_column: str | None = None
    # None: faces are taken in row order without balancing genders.
    gender_column: str | None = "label"
    n_images: int = 2 * PAPER_FACES_PER_GENDER
    targets: tuple[float, ...] = PAPER_TARGETS
    # A local folder holding the repo's parquet shards (and its README.md), read instead of the Hub.
    data_dir: Path | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", self.repo_id):
            raise InputError(f"dataset must be a Hub dataset id ORG/NAME, got {self.repo_id!r}")
        if isinstance(self.n_images, bool) or not isinstance(self.n_images, int) or self.n_images < 1:
            raise InputError(f"the number of images must be a positive integer, got {self.n_images!r}")
        if self.gender_column and self.n_images % 2:
            raise InputError(f"faces are balanced by gender: ask for an even number of images, got {self.n_images}")
        targets = [AGE.check(t, "target age") for t in self.targets]
        if not targets or len(set(targets)) != len(targets) or len(targets) > MAX_TARGETS:
            raise InputError(f"target ages must be 1-{MAX_TARGETS} distinct ages 0-80, got {list(self.targets)}")
        object.__setattr__(self, "targets", tuple(targets))

    @property
    def name(self) -> str:
        """The benchmark's name in records, e.g. "celeba-hq-200, targets 0-80 by 5"."""
        return f"{self.repo_id.split('/')[-1].lower()}-{self.n_images}, targets {describe_targets(self.targets)}"

    def selection(self) -> str:
        if self.gender_column:
            return f"the first {self.n_images // 2} faces of each gender (column {self.gender_column!r}) in row order"
        return f"the first {self.n_images} faces in row order"

    def to_json(self) -> dict:
        return {
            "dataset": self.repo_id,
            "revision": self.revision,
            "split": self.split,
            "image_column": self.image_column,
            "age_column": self.age_column,
            "gender_column": self.gender_column,
            "n_images": self.n_images,
            "target_ages": list(self.targets),
            "data_dir": str(self.data_dir) if self.data_dir else None,
        }


def describe_targets(targets: tuple[float, ...]) -> str:
    """ "0-80 by 5" for an evenly spaced run of three or more, else the list ("10, 70")."""
    steps = {round(b - a, 6) for a, b in zip(targets, targets[1:])}
    if len(targets) >= 3 and len(steps) == 1 and steps.pop() > 0:
        return f"{targets[0]:g}-{targets[-1]:g} by {targets[1] - targets[0]:g}"
    return ", ".join(f"{t:g}" for t in targets)


def split_files(files: list[str], split: str) -> list[str]:
    """The parquet shards of `split` in a repo listing, in order: `data/{split}-00000-of-00002*.parquet`
    (the Hub's converted layout) or any `.parquet` under a folder named `split`."""
    shards = []
    for name in files:
        parts = name.split("/")
        if not name.endswith(".parquet"):
            continue
        if split in parts[:-1] or re.match(rf"{re.escape(split)}(?:[-_.]|$)", parts[-1]):
            shards.append(name)
    return sorted(shards)


@dataclass
class Shards:
    """Where the shards are: a local folder, or a Hub dataset repo at a revision."""

    config: HubBenchmarkConfig
    files: list[str] = field(default_factory=list)  # shard paths relative to the repo root, in order
    card: dict = field(default_factory=dict)

    @classmethod
    def open(cls, config: HubBenchmarkConfig) -> Shards:
        where = f"{config.repo_id}@{config.revision or 'main'}"
        if config.data_dir is not None:
            folder = Path(config.data_dir)
            if not folder.is_dir():
                raise InputError(f"--data-dir {folder}: no such folder (it holds the dataset's parquet shards)")
            listing = [p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet")]
            card = read_card(folder)
            where = str(folder)
        else:
            try:
                listing = HfApi().list_repo_files(config.repo_id, repo_type="dataset", revision=config.revision)
                card = {}  # the dataset card names a class column's classes; a dataset may have none
                if "README.md" in listing:
                    card_path = hf_hub_download(config.repo_id, "README.md", repo_type="dataset", revision=config.revision)
                    card = read_card(Path(card_path).parent)
            except Exception as error:  # noqa: BLE001 - any Hub failure is one message naming the dataset
                raise InputError(
                    f"dataset {where} could not be listed on the Hub ({type(error).__name__}: {error}); "
                    "check the id and revision, or point --data-dir at a folder holding its parquet shards"
                ) from None
        files = split_files(listing, config.split)
        if not files:
            raise InputError(f"dataset {where}: no parquet shards for split {config.split!r} (files: {sorted(listing)[:8]})")
        return cls(config, files, card)

    def stream(self, name: str) -> IO[bytes]:
        """One shard, opened for random access (pyarrow reads its footer, then only the columns asked for)."""
        if self.config.data_dir is not None:
            return (Path(self.config.data_dir) / name).open("rb")
        return HfFileSystem().open(f"datasets/{self.config.repo_id}/{name}", "rb", revision=self.config.revision)


@dataclass(frozen=True)
class Face:
    """One chosen face: where it is (shard, row within it) and its labels."""

    name: str  # "{split}-{row across the split:06d}": output files are named "{name}_{target}.png"
    shard: str
    row: int
    gender: str | None
    age: float | None


def _gender(value: object, names: list[str] | None, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        if names is None:
            raise InputError(f"{where}: gender class {value!r} but the dataset card names no classes for it")
        value = names[int(value)]  # type: ignore[call-overload]
    word = GENDER_WORDS.get(str(value).strip().lower())
    if word is None:
        raise InputError(f"{where}: gender {value!r} is not one of female, male, f, m")
    return word


def choose_faces(shards: Shards) -> tuple[list[Face], dict[str, list[str]]]:
    """(the faces of the protocol in row order, rows passed over with the reason).

    Reads only the gender and age columns. A row whose gender or age label is missing is passed over
    and listed; a split too small for the protocol is refused, naming what it has."""
    config = shards.config
    columns = [c for c in (config.gender_column, config.age_column) if c]
    names = class_names(shards.card, config.gender_column) if config.gender_column else None
    quota: dict[str | None, int] = {g: config.n_images // 2 for g in GENDERS} if config.gender_column else {None: config.n_images}
    chosen: list[Face] = []
    passed: dict[str, list[str]] = {"gender label missing": [], "age label missing": []}
    offset = 0
    for shard in shards.files:
        with shards.stream(shard) as stream:
            parquet = pq.ParquetFile(stream)
            missing = [c for c in [config.image_column, *columns] if c not in parquet.schema_arrow.names]
            if missing:
                raise InputError(
                    f"dataset {config.repo_id} shard {shard}: no column {missing[0]!r} "
                    f"(columns: {parquet.schema_arrow.names}); name the columns with --image-column / --gender-column / --age-column"
                )
            batches = (
                parquet.iter_batches(batch_size=ROWS_PER_BATCH, columns=columns)
                if columns
                else [None] * (parquet.metadata.num_rows > 0)
            )
            row = 0
            for batch in batches:
                values = batch.to_pydict() if batch is not None else {}
                count = batch.num_rows if batch is not None else parquet.metadata.num_rows
                for index in range(count):
                    name = f"{config.split}-{offset + row:06d}"
                    gender = _gender(values[config.gender_column][index], names, name) if config.gender_column else None
                    age = values[config.age_column][index] if config.age_column else None
                    if config.gender_column and gender is None:
                        passed["gender label missing"].append(name)
                    elif config.age_column and age is None:
                        passed["age label missing"].append(name)
                    elif quota.get(gender, 0) > 0:
                        quota[gender] -= 1
                        chosen.append(Face(name, shard, row, gender, None if age is None else float(age)))
                    row += 1
                if not any(quota.values()):
                    break
            offset += parquet.metadata.num_rows
        if not any(quota.values()):
            break
    short = {g: n for g, n in quota.items() if n}
    if short:
        have = {str(g): config.n_images // len(quota) - n for g, n in short.items()}
        raise InputError(
            f"dataset {config.repo_id} split {config.split!r} has too few usable faces for {config.n_images} images "
            f"({config.selection()}): found {have}; ask for fewer with --n-images"
        )
    return chosen, {k: v for k, v in passed.items() if v}


def read_faces(
    shards: Shards, faces: list[Face], max_pixels: int, min_side: int
) -> Iterator[tuple[Face, np.ndarray | None, str | None]]:
    """(face, RGB, None) or (face, None, why it cannot be read) for `faces`, shard by shard and row group by row group; one row group
    of the image column in memory at a time."""
    config = shards.config
    by_shard: dict[str, list[Face]] = {}
    for face in faces:
        by_shard.setdefault(face.shard, []).append(face)
    for shard, wanted in by_shard.items():
        with shards.stream(shard) as stream:
            parquet = pq.ParquetFile(stream)
            starts = np.cumsum([0] + [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)])
            for group in sorted({int(np.searchsorted(starts, face.row, side="right")) - 1 for face in wanted}):
                column = parquet.read_row_group(group, columns=[config.image_column]).column(0)
                for face in (f for f in wanted if starts[group] <= f.row < starts[group + 1]):
                    content = image_bytes(column[face.row - int(starts[group])].as_py())
                    if content is None:
                        yield face, None, f"no image bytes in column {config.image_column!r}"
                        continue
                    try:
                        yield face, load_image(content, max_pixels=max_pixels, min_side=min_side, name=face.name).rgb, None
                    except InputError as error:
                        yield face, None, str(error)
