"""The full profile's real loading code, fed from local folders (HUB_MODEL_DIR_<NAME>) in the published layouts.

The folders hold tiny random models saved with save_pretrained, so every from_pretrained,
the VAE override, the CLIP processor and tokenizer, the LoRA file, the published
`face_project.bin` / `clip_project.bin` and `backbone.pth` go through the same code an
online GPU Space runs.
"""

from __future__ import annotations

import pytest
import torch
from diffusers import StableDiffusionXLImg2ImgPipeline
from peft.utils import get_peft_model_state_dict

from engine.core.registry import get_cache
from engine.core.settings import Settings
from engine.faces.alignment import align_face
from engine.methods import tiny
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
