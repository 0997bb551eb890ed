"""Loaders of the Cradle2Cane models (SDXL-Turbo, its VAE, CLIP, the checkpoint, ArcFace, the pipeline).

Named by the catalogue in engine/core/registry.py; each reads a Hub repo or the local
folder HUB_MODEL_DIR_<NAME> names.
"""

from __future__ import annotations

from pathlib import Path

from engine.core.models import (
    ModelSpec,
    ModelUnavailable,
    checkpoint_name,
    hub_folder,
    pulled_folder,
    torch_dtype,
)
from engine.core.registry import (
    get_cache,
)
from engine.core.settings import SCHEDULERS, Settings
from engine.faces.iresnet import load_iresnet
from engine.methods import tiny
from engine.methods.cradle2cane.hparams import read_checkpoint_settings
from engine.methods.cradle2cane.pipeline import (
    Cradle2Cane,
    checkpoint_missing,
    lifespan_config,
    load_checkpoint,
)
from engine.methods.tiny import TinyClip


def load_sdxl_vae(spec: ModelSpec, settings: Settings):
    from diffusers import AutoencoderKL  # noqa: PLC0415 - diffusers loads on first use of a diffusion path

    folder = hub_folder(spec, settings, ["*.json", "diffusion_pytorch_model.safetensors"])  # the files the Space preloads
    return AutoencoderKL.from_pretrained(str(folder), torch_dtype=torch_dtype(settings), use_safetensors=True)


def load_sdxl_turbo(spec: ModelSpec, settings: Settings):
    from diffusers import StableDiffusionXLImg2ImgPipeline  # noqa: PLC0415 - diffusers loads on first use of a diffusion path

    variant = "fp16" if settings.device == "cuda" else None
    folder = hub_folder(spec, settings, sdxl_turbo_files(variant))
    vae = get_cache(settings).get("sdxl_vae")
    pipe = StableDiffusionXLImg2ImgPipeline.from_pretrained(
        str(folder), vae=vae, torch_dtype=torch_dtype(settings), variant=variant, use_safetensors=True
    )
    pipe.set_progress_bar_config(disable=True)
    set_scheduler(pipe, settings.scheduler)
    return pipe.to(settings.device)


def set_scheduler(pipe, name: str | None) -> None:
    """Keep the model's own scheduler (None), or rebuild the one HUB_SCHEDULER names from its config."""
    if name is None:
        return
    import diffusers  # noqa: PLC0415 - diffusers loads on first use of a diffusion path

    pipe.scheduler = getattr(diffusers, SCHEDULERS[name]).from_config(pipe.scheduler.config)


def sdxl_turbo_files(variant: str | None) -> list[str]:
    """The allow-list of what StableDiffusionXLImg2ImgPipeline.from_pretrained loads from the SDXL-Turbo
    repo with the VAE given separately: configs, tokenizers, and one weights file per model in the
    variant asked for (the repo also holds single-file checkpoints and its own VAE, several GB)."""
    weights = f".{variant}.safetensors" if variant else ".safetensors"
    return [
        "model_index.json",
        "scheduler/scheduler_config.json",
        "tokenizer/*",
        "tokenizer_2/*",
        "text_encoder/config.json",
        f"text_encoder/model{weights}",
        "text_encoder_2/config.json",
        f"text_encoder_2/model{weights}",
        "unet/config.json",
        f"unet/diffusion_pytorch_model{weights}",
    ]


def load_clip(spec: ModelSpec, settings: Settings):
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer  # noqa: PLC0415 - transformers loads on first use of a path that needs it

    folder = str(hub_folder(spec, settings, ["*.json", "*.txt", "*.safetensors"]))
    model = CLIPModel.from_pretrained(folder, dtype=torch_dtype(settings), use_safetensors=True)
    placed = model.to(settings.device)
    return TinyClip(placed.eval(), CLIPImageProcessor.from_pretrained(folder), CLIPTokenizer.from_pretrained(folder))


def load_cradle2cane_weights(spec: ModelSpec, settings: Settings) -> Path:
    """The published checkpoint folder: LoRA, face_project.bin, clip_project.bin under Cradle2Cane/."""

    folder = hub_folder(spec, settings, [f"{C2C_SUBFOLDER}/*", ARCFACE_FILE])
    weights = folder / C2C_SUBFOLDER
    missing = checkpoint_missing(weights)
    if missing:  # named as outputs name it (a page shows it): the Hub cache's path is a server path
        named = checkpoint_name(spec.name, settings, spec.source.partition(":")[2])
        raise ModelUnavailable(f"{spec.name}: {named} lacks {missing} in {C2C_SUBFOLDER}/. {spec.install}")
    return folder


def load_arcface(spec: ModelSpec, settings: Settings):
    """ArcFace's backbone.pth: in HUB_MODEL_DIR_ARCFACE_R100's folder, else beside the Cradle2Cane checkpoint (the
    published repo holds it), else, for a checkpoint trained here (`train.push` shares no ArcFace weights), the published
    repo's file."""
    own = settings.model_dirs.get(spec.name)
    folder = Path(own) if own is not None else get_cache(settings).get("cradle2cane")
    path = folder / ARCFACE_FILE
    if not path.is_file() and own is None:
        repo = spec.source.partition(":")[2].rpartition("/")[0]  # hub:byliutao/Cradle2Cane/backbone.pth
        from huggingface_hub import hf_hub_download  # noqa: PLC0415 - huggingface_hub loads only when the Hub is used

        try:
            path = Path(hf_hub_download(repo, ARCFACE_FILE, revision=settings.model_revisions.get(spec.name)))
        except Exception as error:  # offline, or missing: say which file and where it was looked for
            raise ModelUnavailable(
                f"{spec.name}: {ARCFACE_FILE} is not beside the Cradle2Cane checkpoint and could not be fetched from "
                f"{repo} ({type(error).__name__}). {spec.install}"
            ) from None
    if not path.is_file():
        where = checkpoint_name(spec.name, settings, checkpoint_name("cradle2cane", settings, "the Cradle2Cane checkpoint"))
        raise ModelUnavailable(f"{spec.name}: {where} holds no {ARCFACE_FILE}. {spec.install}")
    return load_iresnet(path).to(settings.device, torch_dtype(settings))


def load_lifespan(spec: ModelSpec, settings: Settings):

    if settings.profile == "tiny":
        pipe = tiny.sdxl_img2img()
        set_scheduler(pipe, settings.scheduler)
        clip = tiny.clip()
        checkpoint = {}
        trained = pulled_folder("cradle2cane", settings, [f"{C2C_SUBFOLDER}/*"])  # one trained on the tiny profile
        named = "tiny random weights (tests only)"
        if trained is not None:
            weights = trained / C2C_SUBFOLDER
            checkpoint = read_checkpoint_settings(weights)
            face_mlp, clip_mlp = load_checkpoint(pipe, weights)
            named = f"{checkpoint_name('cradle2cane', settings, '')}, trained on the tiny profile (tests only)"
        else:
            tiny.add_random_lora(pipe)
            face_mlp, clip_mlp = tiny.projections()
        tiny_arcface = tiny.arcface()  # drawn after the projections, as it always was (the same random weights)
        check_projection_inputs(face_mlp, clip_mlp, tiny_arcface, clip.model, named)
        config, sources = lifespan_config(settings, resolution=64, checkpoint=checkpoint)
        return Cradle2Cane(
            pipe,
            clip.model,
            clip.processor,
            clip.tokenizer,
            tiny_arcface,
            face_mlp,
            clip_mlp,
            config,
            checkpoint=named,
            settings_from=sources,
        )
    cache = get_cache(settings)
    pipe = cache.get("sdxl_turbo")
    clip = cache.get("clip_vit_l14")
    arcface = cache.get("arcface_r100")
    weights = cache.get("cradle2cane") / C2C_SUBFOLDER
    config, sources = lifespan_config(settings, checkpoint=read_checkpoint_settings(weights))
    face_mlp, clip_mlp = load_checkpoint(pipe, weights)
    named = checkpoint_name("cradle2cane", settings, cache.spec("cradle2cane").source.partition(":")[2])
    check_projection_inputs(face_mlp, clip_mlp, arcface, clip.model, named)
    return Cradle2Cane(
        pipe,
        clip.model,
        clip.processor,
        clip.tokenizer,
        arcface,
        face_mlp,
        clip_mlp,
        config,
        checkpoint=named,
        settings_from=sources,
    )


def check_projection_inputs(face_mlp, clip_mlp, arcface, clip_model, named: str) -> None:
    """A checkpoint's projection MLPs read what this profile's ArcFace and CLIP give (one trained with another profile's
    models ended in a shape error deep in a matmul, naming no checkpoint)."""
    for label, mlp, wanted, what in (
        ("face_project", face_mlp, arcface.fc.in_features, "ArcFace's hidden state"),
        ("clip_project", clip_mlp, clip_model.config.projection_dim, "CLIP's image feature"),
    ):
        if mlp.config["input_dim"] != wanted:
            raise ModelUnavailable(
                f"cradle2cane: {named}: its {label} reads {mlp.config['input_dim']} values, and {what} here is {wanted} "
                "wide: use a checkpoint trained with this profile's models"
            )


C2C_SUBFOLDER = "Cradle2Cane"  # where a checkpoint repo (published or trained here) keeps the LoRA and both MLPs

ARCFACE_FILE = "backbone.pth"
