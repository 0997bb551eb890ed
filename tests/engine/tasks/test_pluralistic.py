"""Pluralistic aging: PAE maths, the diffusion path on the tiny profile, the classical path, training, CLI."""

from __future__ import annotations

import json
from typing import cast

import numpy as np
import pytest
import torch
from PIL import Image
from PIL.PngImagePlugin import PngImageFile

from engine import cli
from engine.core.registry import get_cache
from engine.core.settings import ROOT, Settings
from engine.faces.alignment import align_face
from engine.faces.identity import SFACE_MATCH_COSINE
from engine.methods.classical.lifespan import render_lifespan
from engine.methods.classical.pluralistic import POPULATION_INTENSITY, sample_zone_scores
from engine.methods.ldla.pipeline import locate
from engine.methods.pae.maths import image_pae, kl_to_prior, mean_pairwise_distance, text_pae
from engine.tasks.pluralistic import PluralisticRequest, pluralistic
from tests.conftest import astronaut

pytestmark = pytest.mark.pipelines

TINY = Settings(profile="tiny", testing=True)
OFFLINE = Settings(profile="offline")


def test_kl_matches_the_closed_form():
    torch.manual_seed(0)
    mu, log_sigma, prior = torch.randn(3, 16), torch.randn(3, 16) * 0.3, torch.randn(3, 16)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, log_sigma.exp()), torch.distributions.Normal(prior, torch.full_like(prior, 0.2))
    ).sum(-1)
    assert torch.allclose(kl_to_prior(mu, log_sigma, prior, 0.2), expected, atol=1e-5)
    assert torch.allclose(kl_to_prior(prior, torch.full_like(prior, np.log(0.2)), prior, 0.2), torch.zeros(3), atol=1e-6)


def test_text_pae_spread_grows_with_intensity():
    mu = torch.nn.functional.normalize(torch.randn(32), dim=0)
    spreads = [mean_pairwise_distance(text_pae(mu, eps, 6, torch.Generator().manual_seed(0))) for eps in (0, 0.05, 0.1, 0.2, 0.4)]
    assert spreads[0] == pytest.approx(0.0, abs=1e-12)
    assert all(b > a for a, b in zip(spreads, spreads[1:])), spreads


def test_identical_futures_have_a_diversity_of_zero_not_minus_zero():
    # a cosine past 1 by rounding read "Diversity: -0.0000" under eight identical futures
    from engine.faces.identity import mean_pairwise_distance as identity_distance  # noqa: PLC0415

    rng = np.random.default_rng(0)
    for _ in range(50):
        assert f"{identity_distance(np.stack([rng.normal(size=128).astype(np.float32)] * 8)):.4f}" == "0.0000"


def test_intensity_is_relative_to_the_embedding_norm_in_both_modes():
    generator = torch.Generator().manual_seed(0)
    mu = torch.nn.functional.normalize(torch.randn(768, dtype=torch.float64), dim=0)  # a unit CLIP vector
    text = text_pae(mu, 0.3, 256, generator)
    # the noise is 0.3 of the embedding: the age signal survives (the absolute reading gave cosine ~0.12)
    assert (text - mu).norm(dim=-1).mean() == pytest.approx(0.3, rel=0.02)
    assert torch.nn.functional.cosine_similarity(text, mu[None]).mean() == pytest.approx(1 / (1 + 0.09) ** 0.5, abs=0.01)
    # image-guided: a longer mu and an uneven learned spread; the same intensity means the same relative size
    image_mu, spread = 3 * mu, torch.linspace(0.01, 1.0, 768, dtype=torch.float64)
    image = image_pae(image_mu, spread, 0.3, 256, generator)
    assert ((image - image_mu).norm(dim=-1) / image_mu.norm()).mean() == pytest.approx(0.3, rel=0.02)
    assert (image - image_mu)[:, :100].std() < (image - image_mu)[:, -100:].std() / 5  # the learned shape is kept


@pytest.fixture(scope="module")
def tiny_source():
    pipeline = get_cache(TINY).get("lifespan")
    image = astronaut()
    face = get_cache(TINY).get("face_detector").detect(image)[0]
    return pipeline, pipeline.encode_source(align_face(image, face, pipeline.config.resolution).crop)


def test_zero_intensity_and_one_seed_give_identical_samples(tiny_source):
    pipeline, source = tiny_source
    embeddings = text_pae(pipeline.clip_text_features([60])[0], 0.0, 3, torch.Generator().manual_seed(0))
    result = pipeline.sample(source, 30, "female", 60, embeddings, [7, 7, 7])
    first = result.items[0].image.astype(int)
    for item in result.items[1:]:  # identical up to float rounding between rows of one batch
        assert np.abs(first - item.image).max() <= 1 and np.abs(first - item.image).mean() < 0.02


def test_the_sampled_embedding_reaches_pass_two(tiny_source):
    pipeline, source = tiny_source
    text = pipeline.clip_text_features([60])[0]
    embeddings = torch.stack([text, text + 0.5 * torch.randn(text.shape, generator=torch.Generator().manual_seed(1))])
    result = pipeline.sample(source, 30, "female", 60, embeddings, [7, 7])  # same seed: only the embedding differs
    assert np.array_equal(result.items[0].pass1, result.items[1].pass1)  # pass 1 does not see it
    with torch.inference_mode():
        tokens = pipeline.project(
            *pipeline.identity_inputs(
                source.arcface.expand(2, -1),
                source.clip.expand(2, -1),
                [30, 30],
                [60, 60],
                source.pixels.expand(2, -1, -1, -1),
                embeddings,
            )
        )
    assert torch.allclose(tokens[0, 0], tokens[1, 0]) and not torch.allclose(tokens[0, 1], tokens[1, 1])  # the CLIP token
    # ten times the rounding noise between identical rows (< 0.02)
    assert np.abs(result.items[0].image.astype(int) - result.items[1].image.astype(int)).mean() > 0.2


def test_batch_equals_sequential(tiny_source):
    pipeline, source = tiny_source
    embeddings = text_pae(pipeline.clip_text_features([50])[0], 0.3, 4, torch.Generator().manual_seed(2))
    seeds = [11, 12, 13, 14]
    batched = pipeline.sample(source, 30, "male", 50, embeddings, seeds)
    for index, item in enumerate(batched.items):
        alone = pipeline.sample(source, 30, "male", 50, embeddings[index : index + 1], seeds[index : index + 1]).items[0]
        assert np.abs(alone.image.astype(int) - item.image.astype(int)).max() <= 2


@pytest.mark.parametrize("target", [70.0, 10.0])
def test_the_mean_future_is_the_lifespan_models_face(target):
    # at diversity 0 every future is the mean one: the classical lifespan model's face at that target with the same
    # seed, older or younger than the source (toward a younger one the zones were lowered and then filled again)
    rgb = astronaut()
    mean = pluralistic(PluralisticRequest(rgb, target, samples=2, intensity=0.0, seed=0, shared_seed=True), OFFLINE)
    lifespan = render_lifespan(rgb, locate(rgb, OFFLINE), mean.source_age, [target], mean.seeds[0], OFFLINE)[0]
    assert np.array_equal(mean.photos[0], lifespan.photo)
    # the spots drawn are named where they are drawn (none ahead of the mean at diversity 0), not toward a younger target
    assert mean.futures[0]["spots_years_ahead"] == (None if target < mean.source_age else 0.0)


def test_tiny_diffusion_path_runs_as_one_batch_per_pass():
    output = pluralistic(PluralisticRequest(astronaut(), 60, samples=3, intensity=0.4, seed=0), TINY)
    assert output.mode == "text-driven" and len(output.photos) == 3 and len(set(output.seeds)) == 3
    assert output.models["renderer"] == "diffusion"
    assert "diffusion autoencoder" in output.manifest()["method"]  # says what it is, and what the paper uses
    assert "Cradle2Cane generator" in output.manifest()["departure_from_paper"]
    assert output.manifest()["intensity_meaning"].startswith("noise norm relative")


def test_classical_path_samples_zone_scores_and_measures_diversity():
    base = {"forehead": 40.0, "glabella": 0.0, "upper_lip": 100.0}
    assert sample_zone_scores(base, 0.0, 3, seed=0) == [base] * 3
    draws = sample_zone_scores(base, 0.5, 50, seed=0)
    assert all(0 <= s[z] <= 100 for s in draws for z in base)
    spread = [np.std([s["forehead"] for s in sample_zone_scores(base, eps, 200, seed=1)]) for eps in (0.1, 0.3, 0.6)]
    assert spread == sorted(spread) and spread[0] > 0
    same = pluralistic(PluralisticRequest(astronaut(), 70, samples=3, intensity=0.0, seed=0, shared_seed=True), OFFLINE)
    assert same.mode == "classical" and all(np.array_equal(same.photos[0], p) for p in same.photos[1:])
    # the classical futures depart from the paper further than the diffusion path does, and the manifest says how
    assert "no generative model" in same.manifest()["departure_from_paper"]
    assert same.diversity == pytest.approx(0.0, abs=1e-9)
    assert same.structural_diversity == pytest.approx(0.0, abs=1e-9)  # identical samples: no spread between them
    # at the tab's default diversity (the population's own spread) seed 0's futures keep the identity floor of the
    # lifespan benchmark on average (SFace cosine 0.80), none under 0.77: with the crow's feet and the folds' creases
    # drawn, two of the twelve futures of seeds 0-2 fall to 0.76-0.80, which the README states
    default = pluralistic(PluralisticRequest(astronaut(), 70, samples=4, intensity=POPULATION_INTENSITY, seed=0), OFFLINE)
    assert default.diversity is not None
    assert default.diversity > 0 and all(a is not None for a in default.ages)
    identities = cast(list[float], default.identities)  # each sample's face is found (its age is), so its identity is
    assert np.mean(identities) > 80 and min(identities) > 77, default.identities
    # at 0.8 (2.7 times the population's spread: one future drew 8 kg/m^2 more weight and spots 33 years ahead) the
    # futures differ more, and each is still the same person by SFace's own match threshold (cosine 0.363)
    varied = pluralistic(PluralisticRequest(astronaut(), 70, samples=4, intensity=0.8, seed=0), OFFLINE)
    assert varied.diversity is not None and varied.structural_diversity is not None
    varied_identities = cast(list[float], varied.identities)  # every sample's face is found, as at the default above
    assert varied.diversity > default.diversity and all(i > 100 * SFACE_MATCH_COSINE for i in varied_identities)
    assert varied.structural_diversity > 0
    # the futures drawn one after another are the ones drawn on two threads at once, pixel for pixel
    one = pluralistic(PluralisticRequest(astronaut(), 70, samples=4, intensity=0.8, seed=0), OFFLINE.with_(classical_workers=1))
    two = pluralistic(PluralisticRequest(astronaut(), 70, samples=4, intensity=0.8, seed=0), OFFLINE.with_(classical_workers=2))
    for first, second in zip(one.photos, two.photos, strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(samples=1), "samples must be a whole number from 2 to 8"),
        (dict(samples=9), "samples must be a whole number from 2 to 8"),
        (dict(intensity=-0.1), "intensity \\(diversity\\) must be between 0 and 2"),
        (dict(target=95), "target age must be an age between 0 and 80"),
        (dict(face_index="second"), "face index must be a whole number from 0 \\(the largest face\\), got 'second'"),
        # a face the photo does not have, named exactly as given
        (dict(face_index=10**30), f"face index {10**30}: the photo has one face, 0"),
    ],
)
def test_bad_requests_are_refused(kwargs, message):
    request = dict(target=60, samples=4, intensity=0.3) | kwargs
    with pytest.raises(ValueError, match=message):
        pluralistic(PluralisticRequest(astronaut(), **request), OFFLINE)


def test_the_futures_are_of_the_face_chosen_in_a_group_photo():
    """Face 1 of the astronaut beside Grace Hopper (hers the larger face): only it changes, and the futures' ages and
    identities are read on it."""
    from tests.engine.tasks.test_classical_lifespan import _group  # noqa: PLC0415

    group = _group()
    output = pluralistic(
        PluralisticRequest(group, 70, samples=2, seed=0, renderer="classical", face_index=1, source_age=40), OFFLINE
    )
    assert output.manifest()["face"] == 1 and not any("faces found" in warning for warning in output.warnings)
    hopper = group[:, 512:]
    for photo in output.photos:
        assert np.array_equal(photo[:, 512:], hopper) and not np.array_equal(photo[:, :512], group[:, :512])
    # the astronaut's futures, recognised as her: Hopper's face would read under the SFace match line
    assert all(identity is not None and identity / 100 > SFACE_MATCH_COSINE for identity in output.identities)
    assert all(age is not None and age < 65 for age in output.ages)  # not Hopper's (read 79 in her own photo)
    with pytest.raises(ValueError, match="face index 2: the photo has 2 faces, 0 to 1"):
        pluralistic(PluralisticRequest(group, 70, samples=2, renderer="classical", face_index=2), OFFLINE)


def test_image_guided_mode_needs_an_encoder_then_uses_it(tmp_path):
    from PIL import Image

    from engine.core.models import ModelUnavailable
    from tests.conftest import grace_hopper
    from train.common import config_from_yaml
    from train.pluralistic import PluralisticConfig, train

    with pytest.raises(ModelUnavailable, match="HUB_MODEL_DIR_AGE_ENCODER"):
        pluralistic(PluralisticRequest(astronaut(), 60, samples=2, reference=grace_hopper()), TINY)
    data = tmp_path / "faces"
    data.mkdir()
    for index, (image, age, gender) in enumerate([(astronaut(), 42, "female"), (grace_hopper(), 77, "male")] * 2):
        Image.fromarray(image).save(data / f"{age}_{gender}_{index}.png")
    config = config_from_yaml(
        PluralisticConfig,
        ROOT / "train" / "configs" / "pluralistic-tiny.yaml",
        {"data": str(data), "output_dir": str(tmp_path / "run")},
    )
    result = train(config)
    assert result["step"] == 3 and all(np.isfinite(list(h.values())).all() for h in result["history"])
    assert {"age", "identity", "kl"} <= set(result["history"][0])
    settings = Settings(profile="tiny", testing=True, model_dirs={"age_encoder": tmp_path / "run" / "checkpoint-3"})
    output = pluralistic(PluralisticRequest(astronaut(), 60, samples=2, intensity=1.0, reference=grace_hopper()), settings)
    assert output.mode == "image-guided" and len(output.photos) == 2
    assert output.manifest()["models"]["age_encoder"] == "local folder 'checkpoint-3' (HUB_MODEL_DIR_AGE_ENCODER)"
    from engine.faces.detection import NoFaceError

    upside_down = np.ascontiguousarray(grace_hopper()[::-1, ::-1])
    with pytest.raises(NoFaceError, match="reference face: The face found .* looks upside down"):
        pluralistic(PluralisticRequest(astronaut(), 60, samples=2, reference=upside_down), settings)
    # an encoder trained on another profile's CLIP (768 wide) ended in "mat1 and mat2 shapes cannot be multiplied"
    from engine.methods.pae.encoder import AgeEncoder, save_age_encoder

    wide = tmp_path / "wide"
    save_age_encoder(AgeEncoder(768), wide / "age_encoder")
    other = Settings(profile="tiny", testing=True, model_dirs={"age_encoder": wide})
    with pytest.raises(ModelUnavailable, match="local folder 'wide' .* reads CLIP features 768 wide, and this profile's CLIP"):
        pluralistic(PluralisticRequest(astronaut(), 60, samples=2, reference=grace_hopper()), other)


def test_cli_offline_writes_samples_and_manifest(images, tmp_path, command):
    result = command(
        cli.main,
        "pluralistic",
        str(images["astronaut"]),
        "--target",
        "65",
        "--samples",
        "3",
        "--intensity",
        "0.5",
        "--seed",
        "5",
        "--out",
        str(tmp_path),
        env={"HUB_PROFILE": "offline"},
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["mode"] == "classical" and len(manifest["files"]["photos"]) == 3 and manifest["diversity"] is not None
    assert manifest["diversity_measured_in"].startswith("SFace")
    assert manifest["structural_diversity"] is not None and "SSIM" in manifest["structural_diversity_measured_in"]
    # what reproduces a sample: the seed asked for and the sample's index (each future is drawn from the seed in the
    # samples' order; its renderer seed alone does not reproduce it), and where the source age and gender came from
    assert manifest["seed"] == 5 and "index" in manifest["seeds_meaning"]
    assert manifest["source_age_from"] == "estimated" and manifest["gender_from"] == "estimated"
    text = cast(PngImageFile, Image.open(manifest["files"]["photos"][1])).text
    assert (text["Seed"], text["Sample"], text["RendererSeed"]) == ("5", "1", str(manifest["seeds"][1]))


def test_cli_names_a_missing_reference_as_the_option_it_came_from(images, tmp_path, command):
    missing = tmp_path / "nowhere.png"
    args = ("pluralistic", str(images["astronaut"]), "--target", "60", "--reference", str(missing), "--out", str(tmp_path))
    result = command(cli.main, *args, env={"HUB_PROFILE": "offline"})
    assert result.returncode == 2 and result.stderr.strip() == f"--reference {missing}: no such file."


def test_futures_read_far_from_the_target_are_said_with_how_far_and_which_way():
    from engine.tasks.readings import off_target

    assert off_target([42.4, 51.6, None], 70) == [
        "The age estimator reads the futures at 42-52 (mean 47), 23 years under the target of 70: they look younger than asked."
    ]
    assert off_target([40.0], 20) == [
        "The age estimator reads the futures at 40, 20 years over the target of 20: they look older than asked."
    ]
    assert off_target([58.0, 62.0], 70) == []  # within 15 years: as near as the renderers are to reach
    # the mean within 15 years, futures beyond it named by their numbers (the captions number them alike)
    assert off_target([55.0, 36.0, None, 50.0, 77.5], 60) == [
        "The age estimator reads these futures more than 15 years from the target of 60: future 1: 36 (younger); future 4: 78 "
        "(older). The futures' mean, 55, is within 15 years of it."
    ]
    # compared as shown, to a whole year: 44.6 reads "45", 15 years from 60, which is not more than 15
    assert off_target([44.6, 60.0], 60) == [] and off_target([44.4, 60.0], 60)[0].startswith(
        "The age estimator reads this future more than 15 years from the target of 60: future 0: 44 (younger)."
    )
    assert off_target([None, None], 70) == []  # no face in any sample: said elsewhere, no age to compare


def test_a_source_age_given_far_from_the_faces_reading_is_said_on_both_tasks():
    # a typo (2 for 25) was taken without a word, and an adult's face grown up again from 2
    from engine.tasks.lifespan import LifespanRequest, age_photo  # noqa: PLC0415

    typo = age_photo(LifespanRequest(astronaut(), [30], source_age=2, renderer="classical", read_ages=False), OFFLINE)
    said = [w for w in typo.warnings if w.startswith("The source age given, 2, is ")]
    assert len(said) == 1 and "reading of the face, 4" in said[0] and "correct it" in said[0]  # she reads 41
    futures = pluralistic(PluralisticRequest(astronaut(), 60, 2, source_age=2), OFFLINE)
    assert any(w.startswith("The source age given, 2, is ") for w in futures.warnings)
    # with every face aged, the given age is the chosen face's, and said of it
    group = LifespanRequest(astronaut(), [30], source_age=2, renderer="classical", read_ages=False, all_faces=True)
    assert any(w.startswith("Face 0: The source age given, 2, is ") for w in age_photo(group, OFFLINE).warnings)
    near = age_photo(LifespanRequest(astronaut(), [30], source_age=45, renderer="classical", read_ages=False), OFFLINE)
    assert not any(w.startswith("The source age given") for w in near.warnings)


def test_a_lifespan_says_which_ages_its_faces_do_not_look():
    from engine.tasks.readings import off_targets  # noqa: PLC0415

    # a caption said "80 years" of a face the estimator read at 54: each such target is named, and which way
    assert off_targets([54.0, 33.0, None], [80, 30, 10]) == [
        "The age estimator reads this face more than 15 years from the age asked: at 80, 54 (younger). "
        "The face does not look that age to it."
    ]
    assert off_targets([62.0, 54.0], [5, 80]) == [
        "The age estimator reads these faces more than 15 years from the age asked: at 5, 62 (older); at 80, 54 (younger). "
        "The faces do not look those ages to it."
    ]
    assert off_targets([44.0, None], [30, 70]) == []  # within 15 years, or no face read: nothing to say


def test_the_method_line_names_only_what_the_futures_differ_in():
    from engine.tasks.pluralistic import classical_differences  # noqa: PLC0415

    older = classical_differences(monochrome=False)
    assert "greying onset and pattern" in older and "sallowness" in older and "age spots" in older
    assert "sallowness" not in classical_differences(monochrome=True)  # a hue: not drawn on a black-and-white photo
    younger = classical_differences(monochrome=False, younger=True)
    assert younger.startswith("how much of any grey hair regains its colour") and "are not drawn" in younger
    # no hair found: no greying pattern, the eyebrows still greyed or given their colour back by the onset drawn
    assert classical_differences(False, hair=False).startswith("greying onset (the eyebrows': no hair found)")
    assert classical_differences(False, younger=True, hair=False).startswith("how much of the eyebrows' grey regains")
    # at the source age no years pass: only the sagging and the wrinkles differ
    same = classical_differences(False, same_age=True)
    assert same.startswith("sagging") and "no greying, weight, age spots or sallowness is drawn" in same


def test_the_method_line_says_how_a_hairline_recedes_at_each_diversity():
    # receding asked for a man: at diversity 0 every future is the mean one, receding by the share of men who do; above
    # it a future recedes to Norwood III, as often as men do
    def method(intensity: float) -> str:
        request = PluralisticRequest(astronaut(), 70, 2, intensity, receding_hairline=True, gender="male", source_age=40)
        return pluralistic(request, OFFLINE).manifest()["method"]

    assert "the mean future's hairline: receding by the share of men" in method(0.0)
    assert "a hairline receding to Norwood III as often as men" in method(0.3)
