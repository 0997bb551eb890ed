"""The full profile's real loading code, fed from local folders (HUB_MODEL_DIR_<NAME>) in the published layouts.

The folders hold tiny random models saved with save_pretrained, so every from_pretrained,
the VAE override, the CLIP processor and tokenizer, the LoRA file, the published
`face_project.bin` / `clip_project.bin` and `backbone.pth` go through the same code an
online GPU Space runs.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionXLImg2ImgPipeline
from peft.utils import get_peft_model_state_dict

from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.alignment import align_face
from engine.methods import tiny
from engine.methods.cradle2cane.loaders import sdxl_turbo_files
from tests.conftest import astronaut

pytestmark = pytest.mark.pipelines


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub")
    pipe = tiny.sdxl_img2img()
    pipe.save_pretrained(root / "sdxl-turbo")
    pipe.vae.save_pretrained(root / "sdxl-vae-fp16-fix")
    clip = tiny.clip()
    clip.model.save_pretrained(root / "clip")
    clip.processor.save_pretrained(root / "clip")
    clip.tokenizer.save_pretrained(root / "clip")
    checkpoint = root / "cradle2cane"
    weights = checkpoint / "Cradle2Cane"
    tiny.add_random_lora(pipe)
    StableDiffusionXLImg2ImgPipeline.save_lora_weights(
        str(weights),
        unet_lora_layers=get_peft_model_state_dict(pipe.unet, adapter_name="cradle2cane"),
        weight_name="pytorch_lora_weights.safetensors",
    )
    face_mlp, clip_mlp = tiny.projections()
    torch.save(face_mlp.state_dict(), weights / "face_project.bin")  # the published flat layout, plain state dicts
    torch.save(clip_mlp.state_dict(), weights / "clip_project.bin")
    torch.save(tiny.arcface().state_dict(), checkpoint / "backbone.pth")
    return {
        "sdxl_turbo": root / "sdxl-turbo",
        "sdxl_vae": root / "sdxl-vae-fp16-fix",
        "clip_vit_l14": root / "clip",
        "cradle2cane": checkpoint,
    }


def test_full_profile_builds_cradle2cane_from_local_folders(model_dirs):
    settings = Settings(profile="full", model_dirs=model_dirs)
    cache = get_cache(settings)
    pipeline = cache.get("lifespan")
    assert "cradle2cane" in pipeline.pipe.unet.peft_config
    assert pipeline.config.resolution == 512 and pipeline.face_mlp.config["input_dim"] == 8 * 49
    image = astronaut()
    face = cache.get("face_detector").detect(image)[0]
    source = pipeline.encode_source(align_face(image, face, 512).crop)
    result = pipeline(source, 30, "female", [60], seed=0)
    assert result.items[0].image.shape == (512, 512, 3)
    states = {row.spec.name: row.state for row in cache.states()}
    assert all(states[name] == "live" for name in ("sdxl_turbo", "sdxl_vae", "clip_vit_l14", "cradle2cane", "arcface_r100"))


def test_a_missing_folder_is_named_with_what_to_do(model_dirs, tmp_path):
    from engine.core.models import ModelUnavailable

    settings = Settings(profile="full", model_dirs={**model_dirs, "cradle2cane": tmp_path / "nowhere"})
    with pytest.raises(ModelUnavailable, match="HUB_MODEL_DIR_CRADLE2CANE=.*nowhere is not a folder"):
        get_cache(settings).get("lifespan")


def test_a_teammates_pushed_checkpoint_is_pulled_by_repo_and_named_in_the_outputs(model_dirs, tmp_path, monkeypatch):
    # train.push shares the Cradle2Cane/ folder alone: HUB_MODEL_REPO_CRADLE2CANE reads it (only the published repo
    # could be pulled), ArcFace's backbone.pth comes from the published repo (it was looked for beside the checkpoint
    # alone: "backbone.pth is missing"), and outputs name the checkpoint used (they named the published one)
    import huggingface_hub

    pushed = tmp_path / "pushed"
    shutil.copytree(model_dirs["cradle2cane"] / "Cradle2Cane", pushed / "Cradle2Cane")
    pulls, fetched = [], []

    def snapshot_download(repo_id, revision=None, allow_patterns=None):
        pulls.append((repo_id, revision))
        return str(pushed)

    def hf_hub_download(repo_id, filename, **kwargs):
        fetched.append((repo_id, filename))
        return str(model_dirs["cradle2cane"] / "backbone.pth")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hf_hub_download)
    others = {name: folder for name, folder in model_dirs.items() if name != "cradle2cane"}
    settings = Settings(
        profile="full", model_dirs=others, model_repos={"cradle2cane": "org/my-c2c"}, model_revisions={"cradle2cane": "v2"}
    )
    pipeline = get_cache(settings).get("lifespan")
    assert pulls == [("org/my-c2c", "v2")] and fetched == [("byliutao/Cradle2Cane", "backbone.pth")]
    assert pipeline.checkpoint == "org/my-c2c@v2"
    local = get_cache(Settings(profile="full", model_dirs=model_dirs)).get("lifespan")
    assert local.checkpoint == "local folder 'cradle2cane' (HUB_MODEL_DIR_CRADLE2CANE)"  # not its server path


def test_projections_trained_for_other_models_are_refused_naming_the_checkpoint(model_dirs, tmp_path):
    # a face_project reading another ArcFace's hidden state ended in "mat1 and mat2 shapes cannot be multiplied"
    from engine.core.models import ModelUnavailable
    from engine.methods.cradle2cane.nets import ProjectionMLP

    folder = tmp_path / "other"
    shutil.copytree(model_dirs["cradle2cane"], folder)
    (folder / "Cradle2Cane" / "face_project.bin").unlink()
    torch.save(ProjectionMLP(512, 64).state_dict(), folder / "Cradle2Cane" / "face_project.bin")
    settings = Settings(profile="full", model_dirs={**model_dirs, "cradle2cane": folder})
    with pytest.raises(
        ModelUnavailable, match="local folder 'other' .*face_project reads 512 values, and ArcFace's hidden state here is 392"
    ):
        get_cache(settings).get("lifespan")


@pytest.fixture(scope="module")
def trained_with_other_settings(model_dirs, tmp_path_factory):
    """The same checkpoint, with the hparams.yml a run with t1=10, t2=30 and SVR off writes."""
    folder = tmp_path_factory.mktemp("hub-hparams") / "cradle2cane"
    shutil.copytree(model_dirs["cradle2cane"], folder)
    (folder / "Cradle2Cane" / "hparams.yml").write_text(
        "t1: 10\nt2: 30\nuse_swr: false\nswr_alpha: 0.01\nswr_beta: 1.1\nclip_map_model: vector\n"
        "id_strength: 0.25\ninfer_step: 4\nprompt_mode: normal\nrank: 40\n"
    )
    return {**model_dirs, "cradle2cane": folder}


def test_a_checkpoints_own_settings_override_the_defaults(model_dirs, trained_with_other_settings):
    image = astronaut()
    targets = [38, 55]  # gaps 8 and 25: 0.5 and 0.75 with the paper's 5/20, 0.25 and 0.5 with 10/30
    runs = {}
    for name, dirs in (("default", model_dirs), ("hparams", trained_with_other_settings)):
        cache = get_cache(Settings(profile="full", model_dirs=dirs))
        pipeline = cache.get("lifespan")
        face = cache.get("face_detector").detect(image)[0]
        runs[name] = (pipeline, pipeline(pipeline.encode_source(align_face(image, face, 512).crop), 30, "male", targets))
    default, hparams = runs["default"][1], runs["hparams"][1]
    assert [i.strength for i in default.items] == [0.5, 0.75] and default.unet_calls == 2 + 3 + 1
    assert [i.strength for i in hparams.items] == [0.25, 0.5] and hparams.unet_calls == 1 + 2 + 1
    manifest = runs["hparams"][0].manifest()
    assert manifest["settings"]["thresholds"] == [10.0, 30.0] and manifest["settings"]["use_svr"] is False
    assert manifest["settings"]["rotate_mode"] == "vector" and manifest["settings"]["svr_beta"] == 1.1
    assert manifest["settings_from"]["thresholds"] == "checkpoint" and manifest["settings_from"]["use_svr"] == "checkpoint"
    assert manifest["settings_from"]["pass1_latents"] == "default"


def test_the_users_setting_overrides_the_checkpoint(trained_with_other_settings):
    settings = Settings(profile="full", model_dirs=trained_with_other_settings, adani_thresholds=(5, 20))
    manifest = get_cache(settings).get("lifespan").manifest()
    assert manifest["settings"]["thresholds"] == [5, 20] and manifest["settings_from"]["thresholds"] == "setting"
    assert manifest["settings"]["rotate_mode"] == "vector"  # the rest still from the checkpoint


def test_a_checkpoint_asking_for_what_cannot_run_is_refused(trained_with_other_settings, tmp_path):
    folder = tmp_path / "cradle2cane"
    shutil.copytree(trained_with_other_settings["cradle2cane"], folder)
    (folder / "Cradle2Cane" / "hparams.yml").write_text("use_four_image_swr: true\n")
    settings = Settings(profile="full", model_dirs={**trained_with_other_settings, "cradle2cane": folder})
    from engine.core.models import ModelUnavailable

    with pytest.raises(ModelUnavailable, match="hparams.yml: use_four_image_swr = True is not supported"):
        get_cache(settings).get("lifespan")


# stabilityai/sdxl-turbo's file tree (as the Hub lists it), with sizes in GB where large.
SDXL_TURBO_TREE = {
    ".gitattributes": 0, "LICENSE.md": 0, "README.md": 0, "image_quality_one_step.png": 0, "output_tile.jpg": 0,
    "prompt_alignment_one_step.png": 0, "model_index.json": 0, "scheduler/scheduler_config.json": 0,
    "sd_xl_turbo_1.0.safetensors": 13.9, "sd_xl_turbo_1.0_fp16.safetensors": 6.94,
    "text_encoder/config.json": 0, "text_encoder/model.fp16.safetensors": 0.25, "text_encoder/model.safetensors": 0.49,
    "text_encoder_2/config.json": 0, "text_encoder_2/model.fp16.safetensors": 1.39,
    "text_encoder_2/model.safetensors": 2.78, "tokenizer/merges.txt": 0, "tokenizer/special_tokens_map.json": 0,
    "tokenizer/tokenizer_config.json": 0, "tokenizer/vocab.json": 0, "tokenizer_2/merges.txt": 0,
    "tokenizer_2/special_tokens_map.json": 0, "tokenizer_2/tokenizer_config.json": 0, "tokenizer_2/vocab.json": 0,
    "unet/config.json": 0, "unet/diffusion_pytorch_model.fp16.safetensors": 5.14,
    "unet/diffusion_pytorch_model.safetensors": 10.3, "vae/config.json": 0,
    "vae/diffusion_pytorch_model.fp16.safetensors": 0.17, "vae/diffusion_pytorch_model.safetensors": 0.33,
}  # fmt: skip


@pytest.mark.parametrize("variant, weights", [("fp16", 6.78), (None, 13.57)])
def test_only_the_files_the_pipeline_loads_are_downloaded(variant, weights, model_dirs):
    from huggingface_hub.utils import filter_repo_objects

    chosen = set(filter_repo_objects(SDXL_TURBO_TREE, allow_patterns=sdxl_turbo_files(variant)))
    assert round(sum(SDXL_TURBO_TREE[name] for name in chosen), 2) == weights  # UNet and both text encoders
    assert not any(name.startswith("vae/") or name.startswith("sd_xl_turbo") for name in chosen)
    # and they are all the pipeline needs: a folder with only them loads (the VAE is given separately)
    folder = model_dirs["sdxl_turbo"]
    saved = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    kept = set(filter_repo_objects(saved, allow_patterns=sdxl_turbo_files(None)))
    assert {name for name in saved if not name.startswith("vae/")} == kept


def test_the_probe_draws_text_to_image_with_the_cached_sdxl_turbo_models_and_every_lora_off(model_dirs, monkeypatch):
    from diffusers import StableDiffusionXLPipeline

    from engine.core.models import use_adapter
    from engine.methods.probe import faces
    from engine.methods.probe.faces import ProbeCell

    settings = Settings(profile="full", model_dirs=model_dirs)
    cache = get_cache(settings)
    probe = cache.get("probe_faces")
    img2img = cache.get("sdxl_turbo")
    # one copy of each model: the text-to-image pipeline holds the cached img2img pipeline's objects
    assert isinstance(probe.pipe, StableDiffusionXLPipeline)
    for name in ("unet", "vae", "text_encoder", "text_encoder_2", "scheduler"):
        assert getattr(probe.pipe, name) is getattr(img2img, name), name
    assert probe.model == "stabilityai/sdxl-turbo" and (probe.steps, probe.guidance_scale) == (1, 0.0)
    cell = ProbeCell(30, "female", "Asian", 0)
    before = probe.generate(cell)
    assert before.shape == (512, 512, 3) and before.dtype == np.uint8
    # lifespan aging loads its LoRA on the shared UNet and leaves it on; the probe switches it off
    cache.get("lifespan")
    use_adapter(img2img, "cradle2cane")
    assert np.array_equal(probe.generate(cell), before)
    monkeypatch.setattr(faces, "use_adapter", lambda pipe, name: None)
    use_adapter(img2img, "cradle2cane")
    assert not np.array_equal(probe.generate(cell), before)  # with the LoRA on, the face differs
