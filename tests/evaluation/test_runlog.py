"""The hub benchmark's pure parts: shard naming, target descriptions, settings checks, the resumable rows file."""

from __future__ import annotations

import json
from typing import cast

import pytest

from engine.core.errors import InputError
from evaluation.hub_benchmark import HubBenchmarkConfig, describe_targets, split_files
from evaluation.runlog import RunLog
from evaluation.scoring import held_out

pytestmark = pytest.mark.unit


def test_the_split_shards_are_found_in_the_hubs_layouts_and_no_other_split():
    files = [
        "README.md",
        "data/train-00000-of-00002-aa.parquet",
        "data/validation-00000-of-00001-a47e.parquet",
        "data/train-00001-of-00002-bb.parquet",
        "default/validation/0000.parquet",
        "data/validation_extra.csv",
        "data/validationish-00000.parquet",
    ]
    assert split_files(files, "validation") == ["data/validation-00000-of-00001-a47e.parquet", "default/validation/0000.parquet"]
    assert split_files(files, "train") == ["data/train-00000-of-00002-aa.parquet", "data/train-00001-of-00002-bb.parquet"]
    assert split_files(files, "test") == []


def test_targets_are_described_as_the_paper_writes_them():
    assert describe_targets(tuple(float(a) for a in range(0, 81, 5))) == "0-80 by 5"
    assert describe_targets((10.0, 70.0)) == "10, 70"
    assert describe_targets((10.0, 30.0, 70.0)) == "10, 30, 70"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"repo_id": "celeba"}, "ORG/NAME, got 'celeba'"),
        ({"n_images": 0}, "positive integer, got 0"),
        ({"n_images": 3}, "even number of images, got 3"),
        ({"targets": (10.0, 90.0)}, "target age"),
        ({"targets": (10.0, 10.0)}, "distinct ages"),
        ({"targets": ()}, "distinct ages"),
    ],
)
def test_bad_benchmark_settings_are_refused_by_name(changes, message):
    with pytest.raises(InputError, match=message):
        HubBenchmarkConfig(**changes)
    assert HubBenchmarkConfig(n_images=3, gender_column=None).n_images == 3  # unbalanced: any count


def test_rows_are_resumed_and_a_line_cut_by_a_kill_is_produced_again(tmp_path):
    config = {"method": "classical", "seed": 0, "targets": (10.0, 70.0)}
    log = RunLog.open(tmp_path, config, process_index=0)
    log.append({"input": "a", "target": 10.0, "age": 30.0, "identity": 90.0})
    log.close()
    other = RunLog.open(tmp_path, config, process_index=1)
    other.append({"input": "b", "target": 10.0, "age": None, "identity": None, "error": "No face found"})
    other.close()
    with (tmp_path / "rows-0.jsonl").open("a") as handle:
        handle.write('{"input": "a", "target": 70.0, "ag')  # killed mid-write
    resumed = RunLog.open(tmp_path, config, process_index=0)
    assert set(resumed.done()) == {("a", 10.0), ("b", 10.0)}
    resumed.append({"input": "a", "target": 70.0, "age": 31.0, "identity": 88.0})
    resumed.close()
    lines = (tmp_path / "rows-0.jsonl").read_text().splitlines()
    assert [json.loads(line)["target"] for line in lines] == [10.0, 70.0]  # the cut line is gone, not left in the middle
    assert set(RunLog.open(tmp_path, config).done()) == {("a", 10.0), ("a", 70.0), ("b", 10.0)}


def test_a_run_folder_refuses_another_configuration_naming_the_difference(tmp_path):
    RunLog.open(tmp_path, {"method": "classical", "seed": 0})
    with pytest.raises(InputError, match=r"another configuration \(method: 'classical' in the run, 'cradle2cane' now\)"):
        RunLog.open(tmp_path, {"method": "cradle2cane", "seed": 0})
    (tmp_path / "rows-0.jsonl").write_text('{"input": "a", "target": 10.0}\nnot json\n{"input": "b", "target": 10.0}\n')
    with pytest.raises(InputError, match="line 2 is not a JSON row"):
        RunLog.open(tmp_path, {"method": "classical", "seed": 0}).done()


def test_the_record_says_which_evaluators_a_method_trains_against():
    statement = held_out({"age_estimator": "org/mivolo-age@abc", "identity_model": "SFace 2021dec int8 (OpenCV zoo)"})
    assert statement["age_estimator"]["trained_against_by"] == ["cradle2cane"]
    assert statement["identity_model"]["trained_against_by"] == []
    assert held_out({"identity_model": "ArcFace (insightface buffalo_l)"})["identity_model"]["trained_against_by"] == [
        "cradle2cane"
    ]


def test_images_are_read_one_row_group_at_a_time_and_only_where_a_face_was_asked_for(tmp_path, monkeypatch):
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    from evaluation import hub_benchmark as H

    def png(level):
        buffer = io.BytesIO()
        Image.fromarray(np.full((32, 32, 3), level, np.uint8)).save(buffer, format="PNG")
        return buffer.getvalue()

    (tmp_path / "data").mkdir()
    rows = {"image": [{"bytes": png(10 * i), "path": None} for i in range(6)], "label": [0, 1, 0, 1, 0, 1]}
    pq.write_table(pa.table(rows), tmp_path / "data" / "validation-00000-of-00001.parquet", row_group_size=2)
    groups_read: list[int] = []
    real = pq.ParquetFile.read_row_group

    def read_row_group(self, i, **kw):
        groups_read.append(i)
        return real(self, i, **kw)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", read_row_group)
    config = HubBenchmarkConfig(repo_id="test/grey", revision=None, n_images=2, targets=(10.0,), data_dir=tmp_path)
    shards = H.Shards.open(config)
    faces = [
        H.Face("validation-000005", shards.files[0], 5, "male", None),
        H.Face("validation-000004", shards.files[0], 4, "female", None),
    ]
    read = list(H.read_faces(shards, faces, max_pixels=10**6, min_side=16))
    assert groups_read == [2]  # rows 4 and 5 live in the third row group; the others are never read
    assert [(face.name, int(cast(np.ndarray, rgb)[0, 0, 0])) for face, rgb, _ in read] == [
        ("validation-000005", 50),
        ("validation-000004", 40),
    ]
    missing = list(H.read_faces(shards, faces[:1], max_pixels=10**6, min_side=64))
    assert missing[0][1] is None and missing[0][2] is not None and "64" in missing[0][2]  # too small: the reason, not a crash
