"""Loaders of the zone diffusion renderer and ScoreNet, named by the catalogue in engine/core/registry.py."""

from __future__ import annotations

from pathlib import Path

from engine.core.models import (
    GPU_LOCK,
    ModelSpec,
    ModelUnavailable,
    checkpoint_name,
    hub_folder,
    pulled_folder,
    torch_dtype,
    trained_file,
)
from engine.core.registry import (
    get_cache,
)
from engine.core.settings import Settings
from engine.methods import tiny
from engine.methods.cradle2cane.loaders import C2C_SUBFOLDER, set_scheduler
from engine.methods.cradle2cane.pipeline import PROJECTIONS, projection_file
from engine.methods.ldla.renderers import ADAPTER, NO_ZONE_LORA, DiffusionRenderer, DiffusionSettings
from engine.methods.ldla.scorenet import load_scorenet
from engine.methods.lora import LORA_FILE


def load_zone_diffusion(spec: ModelSpec, settings: Settings):

    if settings.profile == "tiny":
        pipe, resolution = tiny.sdxl_img2img(), 64
    else:
        pipe, resolution = get_cache(settings).get("sdxl_turbo"), 512
    refiner = get_cache(settings).get("zone_refiner") if settings.ldla_refiner == "sdxl-refiner" else None
    folder = pulled_folder("ldla", settings, ["*.safetensors", "*.json"])  # a zone LoRA from train.zones
    adapter, checkpoint = None, NO_ZONE_LORA
    if folder is not None:
        named = checkpoint_name("ldla", settings, "")
        checkpoint = f"zone LoRA from {named}"
        lifespan = lifespan_checkpoint(Path(folder), "ldla" in settings.model_repos)
        if lifespan:  # a Cradle2Cane checkpoint's LoRA loaded as the zone LoRA without a word
            raise ModelUnavailable(
                f"zone_diffusion: {named} is a Cradle2Cane (lifespan) checkpoint, not a zone LoRA from {lifespan}"
            )
        if not (Path(folder) / LORA_FILE).is_file():
            raise ModelUnavailable(f"zone_diffusion: {named} holds no {LORA_FILE}")
        with GPU_LOCK:
            pipe.load_lora_weights(str(folder), weight_name=LORA_FILE, adapter_name=ADAPTER)
        adapter = ADAPTER
    return DiffusionRenderer(
        pipe,
        resolution,
        DiffusionSettings(prompt_ethnicity=settings.ldla_prompt_ethnicity),
        adapter=adapter,
        refiner=refiner,
        refiner_name=settings.ldla_refiner,
        checkpoint=checkpoint,
    )


def lifespan_checkpoint(folder: Path, from_repo: bool) -> str:
    """Nothing ("") unless `folder` holds a Cradle2Cane checkpoint (train.lifespan's or the published one), as its
    serving folder or the folder above it: then the rest of a refusal saying where it goes instead."""
    setting = "HUB_MODEL_REPO_CRADLE2CANE to its repo" if from_repo else None
    for weights, here in ((folder / C2C_SUBFOLDER, "this folder"), (folder, "the folder holding this one")):
        if any(projection_file(weights, name) for name in PROJECTIONS):  # either MLP, in either format the engine reads
            return f"train.zones; to serve it, set {setting or f'HUB_MODEL_DIR_CRADLE2CANE to {here}'}"
    return ""


def sdxl_refiner_files(variant: str | None) -> list[str]:
    """What StableDiffusionXLImg2ImgPipeline loads from the SDXL refiner repo, its VAE given separately."""
    weights = f".{variant}.safetensors" if variant else ".safetensors"
    return [
        "model_index.json",
        "scheduler/scheduler_config.json",
        "tokenizer_2/*",
        "text_encoder_2/config.json",
        f"text_encoder_2/model{weights}",
        "unet/config.json",
        f"unet/diffusion_pytorch_model{weights}",
    ]


def load_zone_refiner(spec: ModelSpec, settings: Settings):
    """The paper's separate refiner (SDXL refiner 1.0) for the zone editor's whole-face pass."""
    if settings.profile == "tiny":
        refiner = tiny.sdxl_img2img(seed=1)  # a second random pipeline: a separate model, as the paper's
        set_scheduler(refiner, settings.scheduler)
        return refiner
    from diffusers import StableDiffusionXLImg2ImgPipeline  # noqa: PLC0415 - diffusers loads on first use of a diffusion path

    variant = "fp16" if settings.device == "cuda" else None
    folder = hub_folder(spec, settings, sdxl_refiner_files(variant))
    refiner = StableDiffusionXLImg2ImgPipeline.from_pretrained(
        str(folder),
        vae=get_cache(settings).get("sdxl_vae"),
        torch_dtype=torch_dtype(settings),
        variant=variant,
        use_safetensors=True,
    )
    refiner.set_progress_bar_config(disable=True)
    set_scheduler(refiner, settings.scheduler)
    return refiner.to(settings.device)


def load_scorenet_model(spec: ModelSpec, settings: Settings):

    return load_scorenet(trained_file(spec, settings, "scorenet.safetensors"))
