"""Cradle2Cane on the tiny profile: pass 1, batching, LoRA, checkpoints, CLI and provenance."""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import replace
from typing import cast

import numpy as np
import pytest
import torch
from PIL import Image
from PIL.GifImagePlugin import GifImageFile
from PIL.PngImagePlugin import PngImageFile

from engine import cli
from engine.core.media import CAPTION_SHARE, GAP
from engine.core.models import ModelUnavailable
from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.alignment import align_face
from engine.faces.iresnet import IResNet, load_iresnet
from engine.methods.cradle2cane.maths import adani_strength
from engine.methods.cradle2cane.nets import (
    ProjectionMLP,
    load_projection,
    save_projection,
)
from engine.methods.cradle2cane.pipeline import Cradle2CaneConfig, item_seed
from engine.tasks.lifespan import LifespanRequest, age_photo
from tests.conftest import astronaut, touching_heads

pytestmark = pytest.mark.pipelines

TINY = Settings(profile="tiny", testing=True)


@pytest.fixture(scope="module")
def c2c():
    return get_cache(TINY).get("lifespan")


@pytest.fixture(scope="module")
def source(c2c):
    image = astronaut()
    face = get_cache(TINY).get("face_detector").detect(image)[0]
    return c2c.encode_source(align_face(image, face, c2c.config.resolution).crop)


def test_diffusion_renderer_pastes_its_face_within_the_face_s_own_part_of_the_photo():
    # the whole aligned crop is generated and pasted back: beside a touching head it took in much of the neighbour's face
    pair = touching_heads()
    neighbour = get_cache(TINY).get("face_detector").detect(pair)[0]
    output = age_photo(LifespanRequest(pair, [70], face_index=1, renderer="diffusion", read_ages=False), TINY)
    assert output.photos is not None and not np.array_equal(output.photos[0], pair)
    x0, y0, x1, y1 = (max(int(v), 0) for v in neighbour.box_xyxy())
    assert np.array_equal(output.photos[0][y0:y1, x0:x1], pair[y0:y1, x0:x1])


def test_tiny_profile_needs_the_testing_switch():
    with pytest.raises(ValueError, match="tiny runs random miniature models .* tests only"):
        Settings(profile="tiny")


def test_source_is_encoded_once(c2c, source):
    crop = (source.pixels[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert c2c.encode_source(crop) is source


def _published(c2c, crop, source_age, gender, target, seed):
    """One target as the published inference (infer.py, infer_image_with_ID) runs it: the pipeline
    gets PIL images and encodes them itself, one generator serves both passes, CLIP gets the uint8
    image unscaled, Rotate-CLIP in "angle" mode, the pass-1 pooled text embedding kept for pass 2."""
    pipe = c2c.pipe
    face = Image.fromarray(crop)
    generator = torch.Generator().manual_seed(item_seed(seed, target))
    strength = adani_strength(source_age, target, c2c.config.thresholds)
    pooled = []

    def keep_pooled(pipeline, step, timestep, tensors):
        pooled.append(tensors["add_text_embeds"])
        return {}

    pipe.disable_lora()
    aged = pipe(
        prompt=f"a face image of a {target} years old {gender}",
        image=face,
        num_inference_steps=4,
        strength=strength,
        guidance_scale=1,
        generator=generator,
        callback_on_step_end=keep_pooled,
        callback_on_step_end_tensor_inputs=["add_text_embeds"],
    ).images[0]
    pipe.enable_lora()
    with torch.inference_mode():
        model = c2c.clip_model
        pixels = c2c.clip_processor(images=face, return_tensors="pt", do_rescale=False)["pixel_values"]
        image_feature = torch.nn.functional.normalize(model.get_image_features(pixel_values=pixels).pooler_output, dim=-1)
        words = c2c.clip_tokenizer([f"{source_age} years old", f"{target} years old"], padding=True, return_tensors="pt")
        text = torch.nn.functional.normalize(model.get_text_features(**words).pooler_output, dim=-1)
        theta = torch.arccos((text[0] * text[1]).sum())
        mid = (torch.sin(theta / 2) * text[1] + torch.sin(theta / 2) * text[0]) / torch.sin(theta)
        clip = torch.nn.functional.normalize(image_feature + (mid - text[0]), dim=-1)
        source_pixels = torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255
        tokens = torch.stack([c2c.face_mlp(c2c.arcface_hidden(source_pixels)), c2c.clip_mlp(clip)], dim=1)
    final = pipe(
        prompt_embeds=tokens,
        pooled_prompt_embeds=pooled[0],
        image=aged,
        num_inference_steps=4,
        strength=0.25,
        guidance_scale=1,
        generator=generator,
    ).images[0]
    return np.asarray(aged), np.asarray(final)


def test_both_passes_equal_the_published_inference(c2c, source):
    crop = (source.pixels[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    published = c2c.with_config(
        replace(c2c.config, clip_preprocess="unscaled", pass1_latents="sample", rotate_mode="angle", pass2_input="8bit")
    )
    assert type(c2c.pipe.scheduler).__name__ == "EulerAncestralDiscreteScheduler"  # SDXL-Turbo's own
    targets = [34, 50, 75]  # all three AdaNI strengths
    result = published(published.encode_source(crop), 30, "female", targets, seed=3)
    for item in result.items:
        aged, final = _published(c2c, crop, 30, "female", item.target_age, 3)
        assert np.abs(aged.astype(int) - item.pass1.astype(int)).max() <= 3
        assert np.abs(final.astype(int) - item.image.astype(int)).max() <= 3
    # the default CLIP preprocessing (rescaled, as trained) sees another image feature
    unscaled = published.encode_source(crop).clip
    assert float((unscaled * source.clip).sum()) < 0.99


def test_pass1_samples_the_vae_posterior_with_the_seed_and_mean_is_a_setting(c2c, source):
    sampled = [c2c(source, 30, "female", [60], seed=s).items[0] for s in (1, 2)]
    mean_model = c2c.with_config(replace(c2c.config, pass1_latents="mean"))
    result = mean_model(source, 30, "female", [60], seed=3)
    c2c.pipe.disable_lora()
    plain = c2c.pipe(
        prompt="a face image of a 60 years old female",
        image=source.latent_mean * c2c.pipe.vae.config.scaling_factor,
        strength=0.75,
        num_inference_steps=4,
        guidance_scale=1.0,
        generator=torch.Generator().manual_seed(item_seed(3, 60)),
        output_type="np",
    ).images[0]
    expected = (np.clip(plain, 0, 1) * 255).round().astype(np.uint8)
    assert np.abs(expected.astype(int) - result.items[0].pass1.astype(int)).max() <= 1
    # the sampled start differs from the mean's, and from seed to seed
    assert np.abs(expected.astype(int) - c2c(source, 30, "female", [60], seed=3).items[0].pass1.astype(int)).mean() > 0.1
    assert np.abs(sampled[0].pass1.astype(int) - sampled[1].pass1.astype(int)).mean() > 0.1


def test_batched_strip_equals_sequential_calls(c2c, source):
    targets = [5, 30, 33, 45, 80]  # gaps 25, 0, 3, 15, 50: all three AdaNI strengths
    batched = c2c(source, 30, "male", targets, seed=7)
    assert sorted({item.strength for item in batched.items}) == [0.25, 0.5, 0.75]
    assert batched.unet_calls == 1 + 2 + 3 + 1  # one batch per strength, one pass-2 batch
    for item in batched.items:
        alone = c2c(source, 30, "male", [item.target_age], seed=7).items[0]
        assert alone.seed == item.seed
        assert np.abs(alone.image.astype(int) - item.image.astype(int)).max() <= 2
        assert np.abs(alone.image.astype(int) - item.image.astype(int)).mean() < 0.05


def test_different_targets_and_seeds_differ(c2c, source):
    a, b = c2c(source, 30, "male", [20, 70], seed=0).items
    assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() > 1
    again = c2c(source, 30, "male", [20], seed=1).items[0]
    assert np.abs(a.image.astype(int) - again.image.astype(int)).mean() > 1


def test_pass2_uses_the_lora(c2c, source, monkeypatch):
    with_lora = c2c(source, 30, "female", [50], seed=2).items[0].image
    monkeypatch.setattr(c2c.pipe, "enable_lora", lambda: None)  # pass 2 would keep the LoRA off
    without = c2c(source, 30, "female", [50], seed=2).items[0].image
    assert np.abs(with_lora.astype(int) - without.astype(int)).mean() > 1


def test_svr_and_rotate_settings_change_the_identity_tokens(c2c, source):
    pass1 = source.pixels.expand(1, -1, -1, -1)

    def tokens(target):
        with torch.inference_mode():
            return c2c.project(*c2c.identity_inputs(source.arcface, source.clip, [30], [target], pass1))

    base = tokens(60)
    assert base.shape == (1, 2, c2c.pipe.unet.config.cross_attention_dim)
    same_age = tokens(30)
    assert torch.allclose(base[:, 0], same_age[:, 0])  # the face token does not depend on age
    assert not torch.allclose(base[:, 1], same_age[:, 1])  # Rotate-CLIP does


def test_step_check_is_up_front():
    with pytest.raises(ValueError, match="strength 0.25 with 2 inference steps runs 0 denoising steps"):
        Cradle2CaneConfig(num_inference_steps=2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(targets=[40, 40]), "target ages given more than once: 40;"),
        (dict(targets=[90]), "target age must be an age between 0 and 80, got 90"),
        (dict(gender="robot"), "gender must be one of"),
        (dict(targets=[]), "at least one target age"),
    ],
)
def test_bad_requests_are_refused(c2c, source, kwargs, message):
    request = dict(source_age=30, gender="male", targets=[40]) | kwargs
    with pytest.raises(ValueError, match=message):
        c2c(source, **request)


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_projection_loads_the_published_layout(tmp_path, norm):
    torch.manual_seed(0)
    model = ProjectionMLP(392, 64, norm=norm).eval()
    state = model.state_dict()
    assert "layers.0.weight" in state and "layers.4.weight" in state and "fc_out.weight" in state
    assert ("layers.1.running_mean" in state) == (norm == "batch")
    path = tmp_path / "face_project.bin"
    torch.save(state, path)
    loaded = load_projection(path, output_dim=64)
    x = torch.randn(3, 392)
    assert torch.allclose(loaded(x), model(x))
    save_projection(loaded, tmp_path / "ours" / "face_project")
    again = load_projection(tmp_path / "ours" / "face_project.safetensors", output_dim=64)
    assert torch.allclose(again(x), model(x))
    with pytest.raises(ValueError, match="projects to 64 but the UNet expects 2048"):
        load_projection(path, output_dim=2048)


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/face-aging-hub-pwned",))


def test_a_pickle_with_code_is_refused(tmp_path):
    path = tmp_path / "clip_project.bin"
    path.write_bytes(pickle.dumps({"layers.0.weight": _Payload()}))
    with pytest.raises(ValueError, match="refusing to unpickle"):
        load_projection(path)
    assert not os.path.exists("/tmp/face-aging-hub-pwned")


def test_iresnet_checkpoint_round_trip_and_hidden_state(tmp_path):
    torch.manual_seed(0)
    model = IResNet((1, 1, 1, 1), (8, 8, 8, 8)).eval()
    path = tmp_path / "backbone.pth"
    torch.save(model.state_dict(), path)
    loaded = load_iresnet(path, (1, 1, 1, 1), (8, 8, 8, 8))
    x = torch.rand(2, 3, 112, 112) * 2 - 1
    assert loaded.hidden_state(x).shape == (2, 8 * 7 * 7)
    assert torch.allclose(loaded(x), model(x))
    assert load_iresnet(path).hidden_size == 8 * 7 * 7  # the layout is read off the weights
    with pytest.raises(ValueError, match="not an iresnet100 checkpoint"):
        load_iresnet(path, (3, 13, 30, 3), (64, 128, 256, 512))


def test_lifespan_is_missing_offline_with_how_to_provide():
    with pytest.raises(ModelUnavailable, match="HUB_PROFILE=full"):
        get_cache(Settings(profile="offline")).get("lifespan")


@pytest.fixture()
def _cli(command):
    def run(*args, profile="tiny"):
        return command(cli.main, *args, env={"HUB_PROFILE": profile, "HUB_TESTING": "1"})

    return run


def test_cli_writes_images_manifest_and_provenance(images, tmp_path, _cli):
    out = tmp_path / "out"
    result = _cli("lifespan", str(images["astronaut"]), "--targets", "20", "40", "60", "--seed", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["targets"] == [20.0, 40.0, 60.0] and len(manifest["seeds"]) == 3
    assert manifest["source_age_from"] == "estimated" and manifest["gender"] in ("female", "male")
    assert set(manifest["strengths"]) <= {0.25, 0.5, 0.75}
    assert {"pass1_s", "pass2_s", "total_s"} <= set(manifest["timings_s"])
    assert manifest["models"]["profile"] == "tiny"
    # the effective method settings, where each came from, and the scheduler that ran them
    assert manifest["models"]["settings"]["thresholds"] == [5.0, 20.0]
    assert manifest["models"]["settings"]["pass1_latents"] == "sample"
    assert manifest["models"]["settings_from"]["thresholds"] == "default"
    assert manifest["models"]["scheduler"] == "EulerAncestralDiscreteScheduler"
    for kind in ("faces", "photos", "pass1"):
        assert len(manifest["files"][kind]) == 3
    photo = cast(PngImageFile, Image.open(manifest["files"]["photos"][0]))
    assert photo.size == (512, 512)
    assert photo.text["AI-edited"].startswith("yes") and photo.text["Seed"] == str(manifest["seeds"][0])
    assert photo.text["Method"].startswith("Cradle2Cane") and photo.text["TargetAge"] == "20"
    strip = Image.open(manifest["files"]["strip"])
    # the face as it is and three ages, labels in a band below
    assert strip.size == (4 * 256 + 3 * GAP, 256 + round(CAPTION_SHARE * 256))
    gif = cast(GifImageFile, Image.open(manifest["files"]["gif"]))
    assert gif.n_frames == 4
    assert os.path.getsize(manifest["files"]["mp4"]) > 1000


def test_cli_adds_up_repeated_targets_and_lists_its_files_so_they_open_from_anywhere(images, tmp_path, monkeypatch, _cli):
    monkeypatch.chdir(tmp_path)  # --out relative to the folder the command runs in
    args = ("--renderer", "classical", "--out", "rel")
    result = _cli("lifespan", str(images["astronaut"]), "--targets", "20", "--targets", "40", *args, profile="offline")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "rel" / "manifest.json").read_text())
    assert manifest["targets"] == [20.0, 40.0]  # both lists (the last alone was kept)
    for path in [*manifest["files"]["faces"], manifest["files"]["strip"]]:
        assert os.path.isabs(path) and os.path.exists(path)
    missing = tmp_path / "nowhere.png"
    result = _cli("lifespan", str(missing), "--targets", "20", *args, profile="offline")
    assert result.returncode == 2 and result.stderr.strip() == f"{missing}: no such file."  # the path once


def test_cli_an_option_the_renderer_auto_chose_cannot_draw_says_why_auto_chose_it(images, tmp_path, _cli):
    result = _cli(
        "lifespan",
        str(images["astronaut"]),
        "--targets",
        "20",
        "--extra-prompt",
        "grey hair",
        "--out",
        str(tmp_path),
        profile="offline",
    )
    assert result.returncode == 2
    assert "an extra attribute prompt needs the diffusion renderer" in result.stderr
    assert "(auto chose the classical renderer: Cradle2Cane is not part of the 'offline' profile)" in result.stderr


def test_cli_given_source_age_and_gender_are_used(images, tmp_path, _cli):
    result = _cli(
        "lifespan",
        str(images["astronaut"]),
        "--targets",
        "50",
        "--source-age",
        "33",
        "--gender",
        "male",
        "--no-paste",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["source_age"] == 33 and manifest["gender"] == "male" and manifest["source_age_from"] == "given"
    assert manifest["strengths"] == [0.5] and manifest["files"]["photos"] == []


def test_cli_offline_diffusion_says_which_model_is_missing(images, tmp_path, _cli):
    result = _cli(
        "lifespan",
        str(images["astronaut"]),
        "--targets",
        "50",
        "--renderer",
        "diffusion",
        "--out",
        str(tmp_path),
        profile="offline",
    )
    assert result.returncode == 2
    assert "lifespan is not part of the 'offline' profile" in result.stderr and "sdxl_turbo" in result.stderr


def test_cli_offline_uses_the_classical_renderer_and_says_so(images, tmp_path, _cli):
    result = _cli(
        "lifespan",
        str(images["grace_hopper"]),
        "--targets",
        "30",
        "80",
        "--source-age",
        "60",
        "--out",
        str(tmp_path),
        profile="offline",
    )
    assert result.returncode == 0, result.stderr
    assert "the classical renderer is used" in result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["models"]["renderer"] == "classical" and manifest["method"].startswith("classical renderer")
    assert manifest["files"]["pass1"] == [] and len(manifest["files"]["photos"]) == 2
    photo = cast(PngImageFile, Image.open(manifest["files"]["photos"][1]))
    assert photo.text["Method"].startswith("classical renderer")
    original = np.array(Image.open(images["grace_hopper"]).convert("RGB"))
    younger, older = (np.array(Image.open(p).convert("RGB")) for p in manifest["files"]["photos"])
    assert not np.array_equal(younger, original) and not np.array_equal(older, original)


def test_classical_lifespan_smooths_younger_and_lines_older(images):
    from engine.faces.zones import ZONES
    from engine.methods.classical.lifespan import hair_masks
    from engine.methods.ldla.pipeline import locate
    from tests.engine.tasks.test_zones import high_frequency

    image = np.array(Image.open(images["astronaut"]).convert("RGB"))
    output = age_photo(
        LifespanRequest(image, [20, 80], source_age=40, gender="female", renderer="classical"), Settings(profile="offline")
    )
    located = locate(image, Settings(profile="offline"))
    union = np.zeros(located.crop.shape[:2], np.uint8)
    for zone in ZONES:
        union |= located.masks[zone]
    before = high_frequency(located.crop, union)
    younger, older = (high_frequency(face, union) for face in output.faces)
    assert before < older
    # the skin of the zones: her hair lying over the temples and the fringe is in them too, and the younger path
    # leaves the hair's strands as they are (only the skin is smoothed)
    skin = union * (hair_masks(located, Settings(profile="offline")).hair == 0)
    before = high_frequency(located.crop, skin)
    younger, older = (high_frequency(face, skin) for face in output.faces)
    assert younger < before < older


def test_adapters_on_a_shared_pipeline_are_switched_one_at_a_time():
    from engine.core.models import use_adapter
    from engine.methods import tiny

    pipe = tiny.sdxl_img2img()
    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))

    def run():
        return pipe(
            prompt="a face",
            image=latents,
            strength=0.5,
            num_inference_steps=4,
            guidance_scale=1.0,
            generator=torch.Generator().manual_seed(0),
            output_type="np",
        ).images[0]

    base = run()
    tiny.add_random_lora(pipe, seed=1, adapter_name="cradle2cane")
    tiny.add_random_lora(pipe, seed=2, adapter_name="ldla")
    outputs = {}
    for name in ("cradle2cane", "ldla", None):
        use_adapter(pipe, name)
        outputs[name] = run()
    assert np.allclose(outputs[None], base, atol=1e-6)
    assert not np.allclose(outputs["cradle2cane"], outputs["ldla"], atol=1e-3)
    assert not np.allclose(outputs["cradle2cane"], base, atol=1e-3)
    with pytest.raises(KeyError, match="'pixel_art' is not loaded"):
        use_adapter(pipe, "pixel_art")
