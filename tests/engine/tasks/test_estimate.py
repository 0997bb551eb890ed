"""Age estimation with intervals on the packaged portraits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.age import conformal
from engine.core.settings import Settings
from engine.tasks.estimate import OPEN_AT_CAP, FaceAge, estimate_ages
from tests.conftest import astronaut, grace_hopper, synthetic_artefact

pytestmark = pytest.mark.pipelines

SETTINGS = Settings(profile="offline")


AGES = np.arange(81, dtype=np.float64)


@pytest.mark.parametrize("portrait, low, high", [(astronaut, 20, 60), (grace_hopper, 50, 80)])
def test_portrait_without_calibration_gets_an_age_and_no_interval(portrait, low, high):
    analysis = estimate_ages(portrait(), 0.9, SETTINGS)
    assert len(analysis.faces) == 1
    face = analysis.faces[0]
    assert low <= face.age <= high
    assert face.distribution.shape == (81,) and face.distribution.sum() == pytest.approx(1.0)
    # never the raw spread under a percentage: no interval, and a plain statement why
    assert face.interval is None and face.interval_text == "none (uncalibrated)"
    assert face.calibrated is False and face.method == "none (uncalibrated)"
    record = face.to_json("x.jpg")
    assert record["interval"] is None and record["calibrated"] is False and "no interval" in record["note"]
    assert not analysis.calibrated and "no calibration loaded" in analysis.calibration
    assert "/" not in analysis.calibration.replace("python -m", "")  # no server path on the page


def test_a_calibration_file_named_and_missing_is_said_not_passed_over(tmp_path, caplog):
    # HUB_CALIBRATION=/tmp/nope.json gave "no calibration loaded (set HUB_CALIBRATION ...)", as if it were unset
    missing = tmp_path / "nope.json"
    analysis = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=missing))
    assert analysis.faces[0].interval is None
    assert analysis.calibration.startswith("no calibration loaded: the file HUB_CALIBRATION names is not there")
    assert str(tmp_path) not in analysis.calibration  # no server path on the page; the log names it
    assert f"HUB_CALIBRATION names {missing}, which is not a file" in caplog.text


@pytest.mark.parametrize("portrait, low, high", [(astronaut, 20, 60), (grace_hopper, 50, 80)])
def test_calibrated_portrait_gets_its_age_inside_its_interval_and_the_data_named(portrait, low, high, tmp_path):
    settings = Settings(profile="offline", calibration_path=synthetic_artefact(tmp_path / "age.json"))
    analysis = estimate_ages(portrait(), 0.9, settings)
    face = analysis.faces[0]
    assert face.interval is not None
    lo, hi = face.interval
    assert low <= face.age <= high and lo <= face.age <= (hi if hi is not None else 80)
    assert face.calibrated and analysis.calibrated
    assert analysis.calibration == "mondrian-normalised on 3000 faces of synthetic-faces (CC0-1.0), 2026-11-30"
    assert str(tmp_path) not in analysis.calibration and "age.json" not in analysis.calibration


def test_astronaut_is_female_with_high_probability():
    face = estimate_ages(astronaut(), 0.9, SETTINGS).faces[0]
    assert face.gender == "female" and face.p_female > 0.8


def test_higher_confidence_gives_a_wider_interval(tmp_path):
    settings = Settings(profile="offline", calibration_path=synthetic_artefact(tmp_path / "age.json"))
    narrow = estimate_ages(astronaut(), 0.5, settings).faces[0].interval
    wide = estimate_ages(astronaut(), 0.95, settings).faces[0].interval
    assert narrow is not None and wide is not None and narrow[1] is not None and wide[1] is not None
    assert wide[0] <= narrow[0] and wide[1] >= narrow[1] and (wide[1] - wide[0]) > (narrow[1] - narrow[0])


def test_an_age_at_the_estimators_top_class_is_shown_open_ended(tmp_path):
    # an 85-year-old: the estimator's mass piles up in its top class (80 and over)
    distribution = np.exp(-0.5 * ((AGES - 80) / 3.0) ** 2)
    distribution /= distribution.sum()
    age = float(AGES @ distribution)
    calibration = conformal.Calibration.from_json(json.loads(synthetic_artefact(tmp_path / "age.json").read_text()))
    lo, hi, note = calibration.interval(age, AGES, distribution, 0.9)
    assert hi is None and "upper end open" in note and lo < 80
    face = FaceAge(0, [0, 0, 1, 1], 79.6, (lo, hi), 0.9, True, "m", "male", 0.1, AGES, distribution, note, OPEN_AT_CAP)
    record = face.to_json("old.jpg")
    assert record["age_text"] == "80+" and record["at_cap"] is True
    assert record["interval"] == [round(lo, 1), None] and record["upper_open"] == "cap"
    assert record["interval_text"] == f"{lo:.0f} - 80+"  # an 85-year-old is inside it
    younger = FaceAge(0, [0, 0, 1, 1], 41.94, (30.0, 52.0), 0.9, True, "m", "male", 0.1, AGES, distribution)
    assert younger.to_json("x.jpg")["age_text"] == "41.9" and younger.to_json("x.jpg")["at_cap"] is False


def test_an_upside_down_face_gets_no_age_and_the_photo_is_refused_when_every_face_is_so():
    from engine.faces.detection import NoFaceError  # noqa: PLC0415 - only this test needs it

    with pytest.raises(NoFaceError, match=r"looks upside down: .* Turn the photo upright and try again\."):
        estimate_ages(np.ascontiguousarray(astronaut()[::-1, ::-1]), 0.9, SETTINGS)


@pytest.mark.parametrize("turns, how", [(1, "90 degrees clockwise"), (3, "90 degrees anticlockwise")])
def test_a_face_on_its_side_gets_no_age_and_the_message_names_the_turn_that_makes_it_upright(turns, how):
    from engine.faces.detection import NoFaceError  # noqa: PLC0415 - only this test needs it

    # the detector finds her on her side with its five points level, so her aligned crop lies on its side as well:
    # estimated so, she read 35 (41 upright); the crop's quarter turns tell it
    with pytest.raises(NoFaceError, match=rf"looks turned on its side: .* photo turned {how} .* Turn the photo upright"):
        estimate_ages(np.ascontiguousarray(np.rot90(astronaut(), turns)), 0.9, SETTINGS)


def group_of(first: np.ndarray, second: np.ndarray, monkeypatch) -> np.ndarray:
    """The two photos side by side, with the detector reporting the largest face it finds in each on its own: YuNet misses
    a turned face among others in one photo (the upside-down check itself reads the real pixels)."""
    import dataclasses  # noqa: PLC0415 - only these tests need it

    from engine.core.registry import get_cache  # noqa: PLC0415 - only these tests need it

    detector = get_cache(SETTINGS).get("face_detector")
    shift = float(first.shape[1])
    left, right = detector.detect(first)[0], detector.detect(second)[0]
    right = dataclasses.replace(right, box=(right.box[0] + shift, *right.box[1:]), landmarks=right.landmarks + [shift, 0.0])
    group = np.concatenate([first, second], axis=1)
    real = type(detector).detect
    monkeypatch.setattr(
        type(detector), "detect", lambda self, rgb: [left, right] if rgb.shape == group.shape else real(self, rgb)
    )
    return group


def test_in_a_group_an_upside_down_face_is_named_and_the_upright_one_keeps_its_number(monkeypatch):
    turned, upright = np.ascontiguousarray(astronaut()[::-1, ::-1]), astronaut()
    expected = estimate_ages(upright, 0.9, SETTINGS).faces[0].age
    analysis = estimate_ages(group_of(turned, upright, monkeypatch), 0.9, SETTINGS)
    assert [face.index for face in analysis.faces] == [1]
    assert analysis.faces[0].age == pytest.approx(expected, abs=1.0)
    assert len(analysis.warnings) == 1 and analysis.warnings[0].startswith("Face 0 is given no age: The face found")
    # named as upside down, without advice to turn the photo, which would turn face 1 over
    assert "looks upside down" in analysis.warnings[0] and "Turn the photo" not in analysis.warnings[0]


def test_a_group_whose_every_face_is_upside_down_is_refused_saying_so(monkeypatch):
    from engine.faces.detection import NoFaceError  # noqa: PLC0415 - only this test needs it

    turned = np.ascontiguousarray(astronaut()[::-1, ::-1])
    with pytest.raises(
        NoFaceError,
        match=r"^All 2 faces found look upside down or on their side\. Face 0: The face found .* Turn the photo upright",
    ):
        estimate_ages(group_of(turned, turned, monkeypatch), 0.9, SETTINGS)


def test_a_face_narrower_than_the_size_asked_for_is_read_with_a_warning_that_says_so(tmp_path):
    # a face 8-17 px wide was given an age and a calibrated interval with nothing said (Biden's read 37 and 46 at 17 and
    # 14 px, about 70 from 58 px up)
    import cv2  # noqa: PLC0415 - only this test shrinks a photo

    settings = Settings(profile="offline", calibration_path=synthetic_artefact(tmp_path / "age.json"))
    whole = estimate_ages(astronaut(), 0.9, settings)
    assert not [warning for warning in whole.warnings if "px wide" in warning]
    small = cv2.resize(astronaut(), (160, 160), interpolation=cv2.INTER_AREA)  # her face about 29 px wide
    analysis = estimate_ages(small, 0.9, settings)
    (face,) = analysis.faces
    width = face.box[2] - face.box[0]
    assert 11 < width < 40
    (warning,) = [warning for warning in analysis.warnings if "px wide" in warning]
    assert warning.startswith(f"Face 0 is {int(width)} px wide, under the 40 px an estimate needs")
    assert warning.endswith("its interval's coverage, measured on larger faces, does not hold for it.")
    assert face.interval is not None  # still said: the warning stands beside it


def test_the_calibration_named_on_the_page_says_what_it_measured_on_its_held_out_faces(tmp_path):
    # the badge said "Calibrated" whatever the calibration measured (one neither of whose methods held its coverage is
    # still kept): what it measured is said beside it
    path = synthetic_artefact(tmp_path / "age.json")
    artefact = json.loads(path.read_text())
    artefact["report"] = {"0.90": {"confidence": 0.9, "coverage": 0.853, "n": 750}}  # meta is stored at the top level
    path.write_text(json.dumps(artefact))
    analysis = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=path))
    assert analysis.calibration == (
        "mondrian-normalised on 3000 faces of synthetic-faces (CC0-1.0), 2026-11-30; on 750 held-out faces, 85.3% inside "
        "their 90% interval"
    )


def test_an_interval_on_the_pooled_quantile_is_said_where_the_faces_are(tmp_path):
    # a thin age bin's interval rests on every age's quantile; that was said only in the JSON's note
    path = synthetic_artefact(tmp_path / "age.json")
    artefact = json.loads(path.read_text())
    artefact["mondrian"]["bins"] = {key: [None] * len(bins) for key, bins in artefact["mondrian"]["bins"].items()}
    path.write_text(json.dumps(artefact))
    analysis = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=path))
    assert "pooled quantile used" in analysis.faces[0].note
    assert (
        "Face 0's interval rests on the calibration's faces of every age: its age bin had too few, so its 90% holds on "
        "average over all ages, not for faces of its age." in analysis.warnings
    )
    whole = estimate_ages(astronaut(), 0.9, Settings(profile="offline", calibration_path=synthetic_artefact(tmp_path / "b.json")))
    assert not [warning for warning in whole.warnings if "every age" in warning]
