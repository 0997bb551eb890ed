"""Pluralistic aging: several plausible futures of one face at one target age.

Diffusion path (PAE on the shared two-pass Cradle2Cane pipeline): each sample draws its
own age embedding e_age ~ N(mu, sigma^2 I) in CLIP space, which takes the place of the
target age's text feature in Rotate-CLIP (the pass-2 CLIP token), and has its own
diffusion seed, so diversity comes from both the embedding and the denoising. All
samples run as one batch per pass.

Classical path (offline): a PAE over zone scores: each sample's per-zone scores are
drawn around the target age's curve values (in logit space, so they stay inside
0-100) and rendered by the classical renderer with the sample's own seed.

Every sample is scored: its estimated age, its identity similarity to the source, and
the set's diversity as the mean pairwise cosine distance of SFace identity embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.faces.alignment import align_face, paste_back
from engine.faces.detection import choose_face
from engine.methods.classical.pluralistic import sample_zone_scores
from engine.methods.cradle2cane.maths import check_age
from engine.methods.cradle2cane.pipeline import item_seed
from engine.methods.pae.maths import mean_pairwise_distance, text_pae

MIN_SAMPLES, MAX_SAMPLES = 2, 8


DIVERSITY_EMBEDDING = "SFace identity embedding (1 - cosine, mean over pairs)"


@dataclass
class PluralisticOutput:
    target: float
    mode: str  # text-driven | image-guided | classical
    intensity: float
    seeds: list[int]
    faces: list[np.ndarray]
    photos: list[np.ndarray]
    ages: list[float | None]  # estimated age of each sample (None: no face found in it)
    identities: list[float | None]  # identity similarity to the source x 100
    diversity: float | None
    source_age: float
    gender: str
    models: dict
    warnings: list[str] = field(default_factory=list)

    def manifest(self) -> dict:
        return {
            "method": "pluralistic aging (" + ("classical renderer, PAE over zone scores" if self.mode == "classical"
                                                else f"PAE, {self.mode}, on Cradle2Cane") + ")",
            "target_age": self.target, "mode": self.mode, "intensity": self.intensity, "seeds": self.seeds,
            "estimated_ages": [None if a is None else round(a, 1) for a in self.ages],
            "identity_x100": [None if i is None else round(i, 1) for i in self.identities],
            "diversity": None if self.diversity is None else round(self.diversity, 4),
            "diversity_measured_in": DIVERSITY_EMBEDDING, "source_age": self.source_age, "gender": self.gender,
            "models": self.models, "warnings": self.warnings, "ai_edited": True,
        }


def sample_seeds(seed: int, target: float, count: int, shared: bool) -> list[int]:
    """One diffusion seed per sample (or the same one for all when `shared`)."""
    return [item_seed(seed if shared else seed + index, target) for index in range(count)]


def check_request(target: float, samples: int, intensity: float) -> None:
    check_age(target, "target age")
    if not isinstance(samples, int) or not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be a whole number from {MIN_SAMPLES} to {MAX_SAMPLES}, got {samples!r}")
    if not isinstance(intensity, (int, float)) or math.isnan(intensity) or not 0 <= intensity <= 2:
        raise ValueError(f"intensity (diversity) must be between 0 and 2, got {intensity!r}")


def pluralistic(
    rgb: np.ndarray,
    target: float,
    samples: int = 4,
    intensity: float = 0.3,
    seed: int = 0,
    reference: np.ndarray | None = None,
    source_age: float | None = None,
    gender: str | None = None,
    shared_seed: bool = False,
    renderer: str = "auto",
    settings: Settings | None = None,
    progress=None,
) -> PluralisticOutput:
    settings = settings or get_settings()
    cache = get_cache(settings)
    # 1. check inputs and choose the path
    check_request(target, samples, intensity)
    warnings = []
    if renderer == "auto":
        from engine.tasks.lifespan import lifespan_renderer

        renderer, why = lifespan_renderer(settings)
        if renderer == "classical":
            warnings.append(f"{why}: the classical renderer is used, with a PAE over zone scores.")
    if renderer == "classical" and reference is not None:
        raise ValueError("the image-guided mode needs the diffusion path; the classical renderer samples zone scores")
    # 2. the face, and the source age and gender
    detector = cache.get("face_detector")
    face, chosen = choose_face(detector.detect(rgb), None)
    warnings += chosen
    if source_age is None or gender is None:
        from engine.age.estimators import age_estimator

        estimate = age_estimator(settings).estimate(rgb, [face])[0]
        source_age = round(estimate.age) if source_age is None else source_age
        gender = estimate.gender if gender is None else gender
    seeds = sample_seeds(seed, target, samples, shared_seed)
    # 3. the samples
    if renderer == "diffusion":
        pipeline = cache.get("lifespan")
        aligned = align_face(rgb, face, pipeline.config.resolution)
        source = pipeline.encode_source(aligned.crop)
        generator = torch.Generator().manual_seed(seed)
        text = pipeline.clip_text_features([target])  # (1, P)
        if reference is None:
            mode = "text-driven"
            embeddings = text_pae(text[0], intensity, samples, generator)
        else:
            mode = "image-guided"
            encoder = cache.get("age_encoder")
            ref_face, _ = choose_face(detector.detect(reference), None)
            ref_crop = align_face(reference, ref_face, pipeline.config.resolution).crop
            with torch.inference_mode():
                mu, log_sigma = encoder(pipeline.clip_image_feature(ref_crop).float(), text.float())
            eta = torch.randn((samples, mu.shape[-1]), generator=generator)
            embeddings = mu + intensity * torch.exp(log_sigma) * eta  # intensity scales the learned spread
        result = pipeline.sample(source, float(source_age), gender, float(target), embeddings, seeds, progress)
        faces = [item.image for item in result.items]
        photos = [paste_back(rgb, image, aligned.matrix) for image in faces]
        models = {"profile": settings.profile, "renderer": "diffusion", "checkpoint": pipeline.checkpoint}
    else:
        from engine.methods.ldla.curves import scores_for_age
        from engine.methods.ldla.pipeline import edit_zones, locate

        mode = "classical"
        located = locate(rgb, settings)
        warnings += [w for w in located.warnings if w not in warnings]
        edits = [edit_zones(rgb, scores, "classical", sample_seed, source_age=float(source_age), located=located, settings=settings)
                 for scores, sample_seed in zip(sample_zone_scores(scores_for_age(target), intensity, samples, seed), seeds)]
        faces, photos = [e.after for e in edits], [e.photo for e in edits]
        models = {"profile": settings.profile, "renderer": "classical", "checkpoint": "classical renderer (no weights)"}
    # 4. score each sample and the set
    ages, identities, embeddings_out = score_samples(rgb, face, photos, settings)
    diversity = mean_pairwise_distance(torch.from_numpy(np.stack(embeddings_out))) if len(embeddings_out) >= 2 else None
    if len(embeddings_out) < len(photos):
        warnings.append(f"{len(photos) - len(embeddings_out)} samples show no detectable face: their age and identity are missing"
                        + ("" if diversity is not None else "; too few faces for a diversity"))
    return PluralisticOutput(float(target), mode, float(intensity), seeds, faces, photos, ages, identities, diversity,
                             float(source_age), gender, models, warnings)


def score_samples(rgb, source_face, photos, settings):
    from engine.age.estimators import age_estimator

    cache = get_cache(settings)
    detector, identity = cache.get("face_detector"), cache.get("identity_offline")
    estimator = age_estimator(settings)
    source_embedding = identity.embed(rgb, source_face)
    ages, identities, embeddings = [], [], []
    for photo in photos:
        found = detector.detect(photo)
        if not found:
            ages.append(None)
            identities.append(None)
            continue
        embedding = identity.embed(photo, found[0])
        embeddings.append(embedding)
        ages.append(float(estimator.estimate(photo, found[:1])[0].age))
        identities.append(100.0 * identity.similarity(source_embedding, embedding))
    return ages, identities, embeddings
