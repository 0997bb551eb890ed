"""The typed boundary of each task: a request checked on creation raises UserError naming the bad value;
the task modules load without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from engine.core.errors import InputError, UserError
from engine.core.models import ModelUnavailable
from engine.core.settings import ROOT, Settings
from engine.faces.detection import NoFaceError
from engine.tasks.estimate import EstimateRequest
from engine.tasks.lifespan import LifespanRequest
from engine.tasks.pluralistic import PluralisticRequest
from engine.tasks.renderers import choose_renderer
from engine.tasks.zones import ZonesRequest

pytestmark = pytest.mark.unit

RGB = np.zeros((64, 64, 3), np.uint8)


def test_user_errors_are_value_errors_and_a_missing_model_is_not_one():
    assert issubclass(InputError, UserError) and issubclass(NoFaceError, UserError) and issubclass(UserError, ValueError)
    assert issubclass(ModelUnavailable, RuntimeError) and not issubclass(ModelUnavailable, UserError)


def test_task_modules_load_without_torch():
    code = (
        "import sys, engine.tasks.lifespan, engine.tasks.pluralistic, engine.tasks.zones, engine.tasks.estimate;"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_lifespan_request_is_parsed_once():
    request = LifespanRequest(RGB, "20, 40 60", source_age=" 33 ", seed=4.0)  # type: ignore[arg-type]
    assert request.targets == [20.0, 40.0, 60.0] and request.source_age == 33.0 and request.seed == 4
    assert LifespanRequest(RGB, ["5", 80], source_age="").source_age is None  # type: ignore[list-item, arg-type]
    # the face as a form's text box or number box gives it: empty is the largest
    assert [
        LifespanRequest(RGB, [20], face_index=given).face_index  # type: ignore[arg-type]
        for given in ("", " 1 ", 2.0, None)
    ] == [None, 1, 2, None]
    # a whole number stays exact, however large (a float would echo 10**30 as 1000000000000000019884624838656)
    assert [
        LifespanRequest(RGB, [20], face_index=given).face_index  # type: ignore[arg-type]
        for given in (10**30, str(10**30))
    ] == [10**30] * 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(targets="20, forty"), "target age 'forty' in '20, forty' is not a number between 0 and 80: give ages"),
        (dict(targets=""), "give at least one target age"),
        (dict(targets=[20, 95]), "target age must be an age between 0 and 80, got 95$"),
        (dict(targets=[40, 20, 40]), "target ages given more than once: 40; give each age once"),
        (dict(source_age="old"), "source age must be a number between 0 and 80 or empty, got 'old'"),
        (dict(gender="other"), "gender must be one of"),
        (dict(seed=1.5), "seed must be a whole number from 0 to 4294967295, got 1.5"),
        (dict(targets=" ".join(str(a) for a in range(0, 81, 4))), "21 target ages given; at most 17 per request"),
        (dict(extra_prompt="  "), "the extra prompt is empty"),
        # a 100,000-character text was echoed back whole in a warning
        (dict(extra_prompt="grey " * 30), "the extra prompt must be a few words, at most 100 characters; got 149: 'grey grey"),
        (dict(extra_prompt=7), "the extra prompt must be text, got 7"),
        (dict(extra_prompt="grey hair", renderer="classical"), "extra attribute prompt needs the diffusion renderer"),
        (dict(renderer="oil paint"), "renderer must be auto, diffusion or classical, got 'oil paint'"),
        (dict(face_index=-1), "face index must be a whole number"),
        (dict(face_index="second"), "face index must be a whole number from 0 \\(the largest face\\), got 'second'"),
        (dict(face_index=1.5), "face index must be a whole number from 0 \\(the largest face\\), got 1.5"),
        # text is plain ASCII decimal: Python's own parsers read "1_0" as 10 and other scripts' digits as ASCII ones
        (dict(face_index="1_0"), "face index must be a whole number from 0 \\(the largest face\\), got '1_0'"),
        (dict(face_index="9" * 5000), "face index must be a whole number from 0 \\(the largest face\\), got '9999"),
        (dict(face_index="\uff11"), "face index must be a whole number from 0 \\(the largest face\\), got '\uff11'"),
        (dict(targets="1_0"), "target age must be a number between 0 and 80, got '1_0'"),
        (dict(targets="20 \uff13\uff10"), "target age '\uff13\uff10' in '20 \uff13\uff10' is not a number between 0 and 80"),
        (dict(source_age="3e1"), "source age must be a number between 0 and 80 or empty, got '3e1'"),
        (dict(all_faces=True, paste=False), "ageing every face shows the other faces only pasted back"),
        (dict(rgb=np.zeros((64, 64), np.float32)), "must be an RGB image"),
        (dict(rgb=np.zeros((0, 0, 3), np.uint8)), "the photo is empty \\(0x0 px\\)"),
        # an age left out between commas is refused, not skipped
        (dict(targets="10,,30"), "target ages '10,,30' have an empty entry between commas: give an age in each"),
        (dict(targets="10, , 30"), "have an empty entry between commas"),
        # ages that read the same to 6 digits would write the same files and manifest entries
        (dict(targets=[30, 30.000001]), "target ages 30, 30.000001 all read 30 to 6 digits, which names their images"),
    ],
)
def test_bad_lifespan_requests_are_refused(kwargs, message):
    fields = dict(rgb=RGB, targets=[20, 40]) | kwargs
    with pytest.raises(UserError, match=message):
        LifespanRequest(**fields)


def test_one_age_is_one_target_and_text_ages_are_read_alike_by_every_task():
    """A bare number, or its text, is one target (lifespan) or the target (pluralistic); the same parser reads
    the text of a source age in every task, empty meaning "estimate it"."""
    assert LifespanRequest(RGB, 60).targets == [60.0]  # type: ignore[arg-type]
    assert LifespanRequest(RGB, " 60 ").targets == [60.0]  # type: ignore[arg-type]
    assert LifespanRequest(RGB, np.float64(30)).targets == [30.0]  # type: ignore[arg-type]
    assert LifespanRequest(RGB, "20,40").targets == [20.0, 40.0]  # type: ignore[arg-type]
    assert PluralisticRequest(RGB, "60").target == 60.0 and PluralisticRequest(RGB, 60).target == 60.0  # type: ignore[arg-type]
    assert PluralisticRequest(RGB, 60, source_age=" 33").source_age == 33.0  # type: ignore[arg-type]
    assert PluralisticRequest(RGB, 60, source_age="").source_age is None  # type: ignore[arg-type]
    assert ZonesRequest(RGB, {"forehead": 50}, source_age="33").source_age == 33.0  # type: ignore[arg-type]


AGE_RULE = "must be a number between 0 and 80"


@pytest.mark.parametrize(
    "make, message",
    [
        # a single bad target is quoted as given, not wrapped in a list
        (lambda: LifespanRequest(RGB, "abc"), f"target age {AGE_RULE}, got 'abc'"),  # type: ignore[arg-type]
        (lambda: LifespanRequest(RGB, ["abc"]), f"target age {AGE_RULE}, got 'abc'"),  # type: ignore[list-item]
        (lambda: LifespanRequest(RGB, "95"), "target age must be an age between 0 and 80, got '95'"),  # type: ignore[arg-type]
        (
            lambda: LifespanRequest(RGB, None),  # type: ignore[arg-type]
            "target ages must be an age, text such as '20, 40 60' or a list of ages",
        ),
        (lambda: PluralisticRequest(RGB, "sixty"), f"target age {AGE_RULE}, got 'sixty'"),  # type: ignore[arg-type]
        (lambda: PluralisticRequest(RGB, "95"), "target age must be an age between 0 and 80, got '95'"),  # type: ignore[arg-type]
        # a bool is not an age (True would be 1)
        (lambda: LifespanRequest(RGB, [True]), f"target age {AGE_RULE}, got True"),
        (lambda: LifespanRequest(RGB, True), f"target age {AGE_RULE}, got True"),  # type: ignore[arg-type]
        (lambda: LifespanRequest(RGB, [20], source_age=False), f"source age {AGE_RULE} or empty, got False"),
        (lambda: PluralisticRequest(RGB, True), f"target age {AGE_RULE}, got True"),
        (lambda: PluralisticRequest(RGB, 60, source_age=True), f"source age {AGE_RULE} or empty, got True"),
        (lambda: ZonesRequest(RGB, {"forehead": 50}, source_age=True), f"source age {AGE_RULE} or empty, got True"),
    ],
)
def test_bad_ages_are_refused_quoting_what_was_given(make, message):
    with pytest.raises(InputError) as caught:
        make()
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("value", ["no", "false", 1, 0, None])
@pytest.mark.parametrize(
    "make, field",
    [
        (lambda value: LifespanRequest(RGB, [20], paste=value), "paste"),
        (lambda value: LifespanRequest(RGB, [20], all_faces=value), "all_faces"),
        (lambda value: LifespanRequest(RGB, [20], receding_hairline=value), "receding_hairline"),
        (lambda value: PluralisticRequest(RGB, 60, shared_seed=value), "shared_seed"),
        (lambda value: ZonesRequest(RGB, {"forehead": 50}, refine=value), "refine"),
    ],
)
def test_an_option_takes_true_or_false_only(make, field, value):
    """Text such as "no" is refused by name, not read as on (bool("no") is True)."""
    with pytest.raises(InputError) as caught:
        make(value)
    assert str(caught.value) == f"{field} must be true or false, got {'no value' if value is None else repr(value)}"


def test_options_keep_true_and_false():
    request = LifespanRequest(RGB, [20], all_faces=np.bool_(True), receding_hairline=True)  # type: ignore[arg-type]
    assert (request.paste, request.all_faces, request.receding_hairline) == (True, True, True)
    assert type(request.all_faces) is bool
    unpasted = LifespanRequest(RGB, [20], paste=np.bool_(False))  # type: ignore[arg-type]
    assert unpasted.paste is False
    assert PluralisticRequest(RGB, 60, shared_seed=True).shared_seed is True


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(samples=2.5), "samples must be a whole number from 2 to 8"),
        (dict(intensity=float("nan")), "intensity \\(diversity\\) must be between 0 and 2"),
        (dict(reference=RGB, renderer="classical"), "the image-guided mode needs the diffusion path"),
        (dict(source_age=81), "source age must be an age between 0 and 80"),
        (dict(rgb=np.zeros((0, 5, 3), np.uint8)), "the photo is empty \\(5x0 px\\)"),
        (dict(receding_hairline="yes"), "receding_hairline must be true or false"),
        (dict(receding_hairline=True, renderer="diffusion"), "the receding hairline option needs the classical renderer"),
    ],
)
def test_bad_pluralistic_requests_are_refused(kwargs, message):
    with pytest.raises(UserError, match=message):
        PluralisticRequest(**(dict(rgb=RGB, target=60) | kwargs))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(targets={"chin": 50}), "unknown zone 'chin'"),
        (dict(targets={"forehead": 101}), "target score for forehead must be between 0 and 100"),
        (dict(current={"forehead": -1}), "current score for forehead must be between 0 and 100"),
        (dict(renderer="oil paint"), "renderer must be 'classical' or 'diffusion'"),
        (dict(refine=True), "the classical renderer has no refiner pass"),
        (dict(source_age=81), "source age must be an age between 0 and 80, got 81"),  # as in every other tab
    ],
)
def test_bad_zone_requests_are_refused(kwargs, message):
    with pytest.raises(UserError, match=message):
        ZonesRequest(**(dict(rgb=RGB, targets={"forehead": 50}) | kwargs))


def test_zone_and_estimate_requests_keep_good_values():
    request = ZonesRequest(
        RGB,
        {"forehead": 50},
        "diffusion",
        seed=3.0,  # type: ignore[arg-type]
        source_age=80,
        ethnicity="  ",
        refine=True,
    )
    assert request.seed == 3 and request.source_age == 80.0 and request.ethnicity is None
    with pytest.raises(UserError, match="ethnicity must be a few words, at most 100 characters; got 100000"):
        ZonesRequest(RGB, {"forehead": 50}, "classical", ethnicity="x" * 100_000)
    assert EstimateRequest(RGB, 0.8).confidence == 0.8
    with pytest.raises(UserError, match="confidence must be strictly between 0 and 1"):
        EstimateRequest(RGB, 1.0)


def test_auto_is_classical_where_cradle2cane_is_not_in_the_profile():
    assert choose_renderer("classical", Settings(profile="offline")) == ("classical", "")
    renderer, note = choose_renderer("auto", Settings(profile="offline"))
    assert renderer == "classical" and "not part of the 'offline' profile" in note
    with pytest.raises(UserError, match="renderer must be auto, diffusion or classical"):
        choose_renderer("fast", Settings(profile="offline"))


def test_the_diversity_is_one_computation_in_numpy_and_torch():
    import torch

    from engine.faces.identity import mean_pairwise_distance
    from engine.methods.pae.maths import mean_pairwise_distance as torch_distance

    embeddings = np.random.default_rng(0).standard_normal((5, 128))
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    expected = np.mean([1 - unit[i] @ unit[j] for i in range(5) for j in range(5) if i != j])
    assert mean_pairwise_distance(embeddings) == pytest.approx(expected, abs=1e-12)
    assert torch_distance(torch.from_numpy(embeddings).float()) == pytest.approx(expected, abs=1e-6)
    assert mean_pairwise_distance(embeddings[:1]) == 0.0


def test_given_source_age_and_gender_are_used_and_the_face_still_read(monkeypatch):
    # the estimator's reading of a given age is kept beside it (readings.far_from_given says a typo), never used for it
    from types import SimpleNamespace

    from engine.age import estimators

    reader = SimpleNamespace(estimate=lambda rgb, faces: [SimpleNamespace(age=35.4, gender="female")])
    monkeypatch.setattr(estimators, "age_estimator", lambda settings=None: reader)
    source = estimators.source_age_gender(RGB, face=None, age=33, gender="male")  # type: ignore[arg-type]
    assert (source.age, source.gender, source.age_from, source.gender_from, source.read) == (33.0, "male", "given", "given", 35.4)
    estimated = estimators.source_age_gender(RGB, face=None)  # type: ignore[arg-type]
    assert (estimated.age, estimated.gender, estimated.age_from) == (35.0, "female", "estimated")


SEED_RULE = "seed must be a whole number from 0 to 4294967295"


@pytest.mark.parametrize(
    "seed, shown",
    [
        (-1, "-1"),
        (2**32, "4294967296"),
        (2**64, "18446744073709551616"),
        (10**400, "an integer of 401 digits"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        ("7", "'7'"),
        ("seven", "'seven'"),
        (None, "no value"),  # an emptied number box ("got None" named Python's word for it)
    ],
)
def test_every_task_refuses_the_same_bad_seeds_with_one_message(seed, shown):
    """A seed outside 32 bits, NaN or text is refused on creation with the same words by every task, before
    any model runs, instead of failing later inside numpy or torch."""
    for make in (
        lambda: LifespanRequest(RGB, [20], seed=seed),
        lambda: PluralisticRequest(RGB, 60, seed=seed),
        lambda: ZonesRequest(RGB, {"forehead": 50}, seed=seed),
    ):
        with pytest.raises(InputError) as caught:
            make()
        assert str(caught.value) == f"{SEED_RULE}, got {shown}"


def test_the_largest_seed_is_accepted_everywhere():
    top = 2**32 - 1
    assert LifespanRequest(RGB, [20], seed=top).seed == top
    assert PluralisticRequest(RGB, 60, seed=float(top)).seed == top  # type: ignore[arg-type]
    assert ZonesRequest(RGB, {"forehead": 50}, seed=top).seed == top
