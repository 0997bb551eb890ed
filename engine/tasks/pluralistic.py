"""Pluralistic aging: several plausible futures of one face at one target age.

Diffusion path (PAE on the shared two-pass Cradle2Cane pipeline): each sample draws its
own age embedding e_age ~ N(mu, sigma^2 I) in CLIP space, which takes the place of the
target age's text feature in Rotate-CLIP (the pass-2 CLIP token), and has its own
diffusion seed, so diversity comes from both the embedding and the denoising. All
samples run as one batch per pass.

Classical path (offline): futures that differ the way people do, each drawn from a
stated distribution (engine/methods/classical/pluralistic.py): greying onset and
pattern, sagging, weight, age spots, sallowness, a receding hairline for men, and the
wrinkle scores (a PAE over zone scores in logit space), rendered by the classical
renderer with the sample's own seed; the manifest names what each future drew.

Every sample is scored: its estimated age, its identity similarity to the source, and
the set's diversity as the spread *between samples* (never drift from the source): the
mean pairwise cosine distance of SFace identity embeddings, and the mean pairwise
1 - SSIM of the aligned sample faces (pixel structure).

What the paper does and this path does not: PADA decodes with a diffusion autoencoder (a
DDIM decoder conditioned on a semantic encoding of the source); here the PAE conditions the
Cradle2Cane generator instead (the pass-2 CLIP token), and no diffusion autoencoder exists in
this project. The sampling intensity is relative to the embedding's norm (pae/maths.py).

The tab, the CLI and the API build a `PluralisticRequest` (checked once, on creation) and call
`pluralistic`. torch loads with the first diffusion request, not when this module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.age.estimators import SourceAgeGender, source_age_gender
from engine.core.checks import check_flag, check_gender, check_seed, parse_age, parse_face_index, parse_optional_age
from engine.core.errors import InputError
from engine.core.gpu import gpu_scope
from engine.core.images import check_rgb, mean_pairwise_structural_distance
from engine.core.limits import INTENSITY, SAMPLES
from engine.core.models import ModelUnavailable, checkpoint_name
from engine.core.provenance import face_suffix, file_stem, png_info, save_png
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.core.workers import map_in_order, worker_count
from engine.faces.alignment import align_face, check_face_upright
from engine.faces.detection import NoFaceError, choose_face
from engine.faces.identity import mean_pairwise_distance
from engine.faces.territory import pasted_within_own
from engine.methods.classical.hair import added_recession, is_monochrome
from engine.methods.classical.lifespan import age_face, hair_masks, stage_warnings
from engine.methods.classical.pluralistic import describe_variation, sample_variations
from engine.methods.cradle2cane.seeds import item_seed
from engine.methods.ldla.curves import scores_for_age
from engine.methods.ldla.pipeline import LocatedFace
from engine.tasks.lifespan import cradle2cane_seconds, growth_warning, hairline_warning
from engine.tasks.readings import far_from_given, off_target, read_outputs
from engine.tasks.renderers import (
    CLASSICAL_CHECKPOINT,
    RECEDING_NEEDS_CLASSICAL,
    FoundFace,
    check_chosen,
    check_renderer,
    choose_renderer,
    find_face,
)

MIN_SAMPLES, MAX_SAMPLES = int(SAMPLES.low), int(SAMPLES.high)

DIVERSITY_EMBEDDING = "SFace identity embedding (1 - cosine, mean over pairs)"

STRUCTURAL_DIVERSITY = "aligned sample faces (1 - SSIM, greyscale, mean over pairs)"

# What the diffusion path is, said in every manifest (the paper decodes with a diffusion autoencoder).
DIFFUSION_METHOD = "PAE on the Cradle2Cane generator (the paper: a diffusion autoencoder, not available here)"


# Where each path departs from the paper (PADA), said in every manifest (`departure_from_paper`) and the README's Methods table
PAPER_DEPARTURE = {
    "diffusion": "PADA decodes a sampled age embedding with a diffusion autoencoder; here the sample conditions the "
    "Cradle2Cane generator (the pass-2 CLIP token) instead: no diffusion autoencoder exists in this project",
    "classical": "PADA decodes a sampled age embedding with a diffusion autoencoder; offline there is no generative model: "
    "each future's differences are drawn from stated distributions of how people age (engine/methods/classical/"
    "pluralistic.py) and rendered by the classical lifespan model, its wrinkle scores by a PAE over the zone scores "
    "(in logit space) rather than over CLIP's embedding",
}


# How the classical futures differ (the manifest and the fallback warning say it): `classical_differences`
_GREYING = "greying onset and pattern"
_SAGGING = "sagging (jowls, folds, eye bags, lips)"
_WEIGHT = "weight (a fuller or leaner lower face)"
_WRINKLES = "wrinkle scores and layout"
# toward a younger target the signs of age are taken away: what a future draws there (lifespan.age_face's younger path)
_YOUNGER_GREY = "how much of any grey hair regains its colour and where"
_YOUNGER_BROWS = "how much of the eyebrows' grey regains its colour (no hair found)"
_YOUNGER_REST = (
    "how much sagging (jowls, folds, eye bags, lips) is taken back, weight (a fuller or leaner lower face), and how much "
    "of the creases is filled (from their zone scores); their age spots and sallowness, signs a younger face has less "
    "of, are not drawn, so toward a younger target futures differ less than toward an older one"
)


def classical_differences(monochrome: bool, younger: bool = False, same_age: bool = False, hair: bool = True) -> str:
    """How the classical futures of a photo differ: `monochrome`, a black-and-white photo's draw no sallowness (a change
    of hue alone, which such a photo does not show); `younger`, futures toward a target younger than the source draw no
    age spots or sallowness at all; `same_age`, futures at the source age itself draw no greying, weight, spots or
    sallowness (no years pass); `hair` False, a photo whose hair stage is skipped (no hair found) shows no greying
    pattern (the onset still greys the eyebrows, or gives them their colour back)."""
    greying = _GREYING if hair else "greying onset (the eyebrows': no hair found)"
    if same_age:
        return f"{_SAGGING}, and {_WRINKLES}; at the source age itself no greying, weight, age spots or sallowness is drawn"
    if younger:
        return f"{_YOUNGER_GREY if hair else _YOUNGER_BROWS}, {_YOUNGER_REST}"
    skin = "age spots" if monochrome else "age spots, sallowness"
    return f"{greying}, {_SAGGING}, {_WEIGHT}, {skin}, and {_WRINKLES}"


@dataclass
class PluralisticRequest:
    """One pluralistic request, checked on creation: every field is as the engine uses it afterwards."""

    rgb: np.ndarray  # (H, W, 3) uint8
    target: float  # the target age, 0-80 (its text, "60", is read as the lifespan task reads it)
    samples: int = 4  # how many futures, 2-8
    intensity: float = 0.3  # diversity: the PAE sampling intensity, 0-2
    seed: int = 0
    reference: np.ndarray | None = None  # a face of the target age: the image-guided mode (diffusion only)
    source_age: float | None = None  # None: estimated
    gender: str | None = None  # "male" or "female"; None: estimated
    shared_seed: bool = False  # one diffusion seed for every sample
    renderer: str = "auto"  # auto, diffusion or classical
    receding_hairline: bool = False  # men's futures may recede at the hairline (classical renderer)
    face_index: int | None = None  # in the detector's order (0: the largest, as the age tab numbers faces); None: the largest

    def __post_init__(self) -> None:
        check_rgb(self.rgb)
        self.target = parse_age(self.target, "target age")  # a number or its text, as every task reads an age
        self.samples = int(SAMPLES.check(self.samples, "samples"))
        self.intensity = INTENSITY.check(self.intensity, "intensity (diversity)")
        self.seed = check_seed(self.seed)
        if self.reference is not None:
            check_rgb(self.reference, "reference face")
        self.source_age = parse_optional_age(self.source_age, "source age")
        if self.gender is not None:
            check_gender(self.gender)
        self.shared_seed = check_flag(self.shared_seed, "shared_seed")
        self.receding_hairline = check_flag(self.receding_hairline, "receding_hairline")
        self.face_index = parse_face_index(self.face_index)
        if check_renderer(self.renderer) != "auto":
            self.check_for(self.renderer)

    def check_for(self, renderer: str) -> None:
        """Refuse what `renderer` cannot draw (checked again once "auto" has chosen)."""
        if renderer == "diffusion" and self.receding_hairline:
            raise InputError(RECEDING_NEEDS_CLASSICAL)
        if renderer == "classical" and self.reference is not None:
            raise InputError("the image-guided mode needs the diffusion path; the classical renderer samples zone scores")


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
    structural_diversity: float | None
    source_age: float
    gender: str
    models: dict
    warnings: list[str] = field(default_factory=list)
    hairlines: list[str] = field(default_factory=list)  # classical: each sample's hairline stage ("" when off)
    futures: list[dict] = field(default_factory=list)  # classical: what each sample drew, by name
    receding_asked: bool = False  # the request asked for receding hairlines
    seed: int = 0  # the request's: with the sample's index it reproduces each sample (`seeds` are derived from it)
    source_age_from: str = ""  # "given" or "estimated"
    gender_from: str = ""
    face_index: int = 0  # the face the futures are of, in the detector's order (0: the largest)
    differences: str = ""  # classical: how its futures differ (`classical_differences`)

    def manifest(self) -> dict:
        return {
            "method": "pluralistic aging ("
            + (
                "classical renderer, futures differing in "
                + self.differences
                + (
                    (
                        ", and for men, when asked (receding_hairline), a hairline receding to Norwood III as often as men "
                        "not receded at the source age are at Norwood III or more by the target age"
                        if self.intensity > 0
                        else ", and for men, when asked (receding_hairline), the mean future's hairline: receding by the "
                        "share of men not receded at the source age who are at Norwood III or more by the target age"
                    )
                    if self.receding_asked
                    else ""
                )
                if self.mode == "classical"
                else f"{DIFFUSION_METHOD}, {self.mode}"
            )
            + ")",
            "departure_from_paper": PAPER_DEPARTURE["classical" if self.mode == "classical" else "diffusion"],
            "target_age": self.target,
            "face": self.face_index,
            "mode": self.mode,
            "intensity": self.intensity,
            "seed": self.seed,
            "seeds": self.seeds,
            "seeds_meaning": SEEDS_MEANING,
            "estimated_ages": [None if a is None else round(a, 1) for a in self.ages],
            "identity_x100": [None if i is None else round(i, 1) for i in self.identities],
            "diversity": None if self.diversity is None else round(self.diversity, 4),
            "diversity_measured_in": DIVERSITY_EMBEDDING,
            "structural_diversity": None if self.structural_diversity is None else round(self.structural_diversity, 4),
            "structural_diversity_measured_in": STRUCTURAL_DIVERSITY,
            "intensity_meaning": "noise norm relative to the age embedding's norm"
            if self.mode != "classical"
            else "the spread of every drawn difference; 0.3: the spread between people",
            "source_age": self.source_age,
            "source_age_from": self.source_age_from,
            "gender": self.gender,
            "gender_from": self.gender_from,
            "models": self.models,
            "warnings": self.warnings,
            **({"receding_hairline": self.hairlines, "futures": self.futures} if self.mode == "classical" else {}),
            "ai_edited": True,
        }


# what the manifest's per-sample `seeds` are: a sample's future (its greying, sagging, weight, skin and wrinkle draws, or
# its age embedding) is drawn from the request's seed in the samples' order, so the request's seed and the sample's
# index reproduce it; its renderer seed alone does not
SEEDS_MEANING = (
    "each sample's renderer seed, derived from the request's seed, the sample's index (one for all with shared_seed) and "
    "the target; a sample is reproduced by the same request (seed, target, samples, intensity) and its index, not by its "
    "renderer seed alone"
)


def sample_seeds(seed: int, target: float, count: int, shared: bool) -> list[int]:
    """One diffusion seed per sample (or the same one for all when `shared`)."""
    return [item_seed(seed if shared else seed + index, target) for index in range(count)]


@dataclass
class _Sampled:
    """What a renderer made of every sample."""

    mode: str
    faces: list[np.ndarray]
    photos: list[np.ndarray]
    checkpoint: str
    warnings: list[str] = field(default_factory=list)
    hairlines: list[str] = field(default_factory=list)
    futures: list[dict] = field(default_factory=list)
    differences: str = ""  # classical: how its futures differ (`classical_differences`)


def pluralistic(request: PluralisticRequest, settings: Settings | None = None, progress=None) -> PluralisticOutput:
    """Several futures of the chosen face (default: the largest) at the request's target age, each scored, and the
    set's diversity."""
    settings = settings or get_settings()
    # 1. the renderer first: a missing model is the most useful thing to say
    renderer, why = choose_renderer(request.renderer, settings)
    check_chosen(request, renderer, why)
    warnings: list[str] = []
    pipeline = get_cache(settings).get("lifespan") if renderer == "diffusion" else None
    # 2. the face; 3. its source age and gender, from the estimator unless given
    found = find_face(request.rgb, renderer, request.face_index, settings)
    warnings += found.warnings
    source = source_age_gender(request.rgb, found.face, request.source_age, request.gender, settings)
    warnings += far_from_given(source)
    seeds = sample_seeds(request.seed, request.target, request.samples, request.shared_seed)
    # 4. the samples
    if found.located is None:  # the diffusion renderer: the face alone
        sampled = _diffusion(request, pipeline, found, source, seeds, settings, progress)
    else:  # the classical renderer: the face with its zones
        sampled = _classical(request, found.located, source, seeds, settings)
    warnings += sampled.warnings
    if why:  # said first; what the futures differ in is known once they are drawn (a black-and-white photo's draw no hue)
        warnings.insert(0, f"{why}: the classical renderer is used; its futures differ in {sampled.differences}.")
    # 5. score each sample and the set
    ages, identities, embeddings = read_outputs(request.rgb, found.face, sampled.photos, settings)
    diversity = mean_pairwise_distance(np.stack(embeddings)) if len(embeddings) >= 2 else None
    if len(embeddings) < len(sampled.photos):
        warnings.append(
            f"{len(sampled.photos) - len(embeddings)} samples show no detectable face: their age and identity "
            "are missing" + ("" if diversity is not None else "; too few faces for a diversity")
        )
    warnings += off_target(ages, request.target)
    models = {"profile": settings.profile, "renderer": renderer, "checkpoint": sampled.checkpoint}
    if sampled.mode == "image-guided":  # the age encoder the futures were drawn with, as the checkpoint is named
        models["age_encoder"] = checkpoint_name("age_encoder", settings, "unnamed")
    return PluralisticOutput(
        request.target,
        sampled.mode,
        request.intensity,
        seeds,
        sampled.faces,
        sampled.photos,
        ages,
        identities,
        diversity,
        mean_pairwise_structural_distance(sampled.faces),
        source.age,
        source.gender,
        models,
        warnings,
        sampled.hairlines,
        sampled.futures,
        request.receding_hairline,
        request.seed,
        source.age_from,
        source.gender_from,
        request.face_index or 0,
        sampled.differences,
    )


def _diffusion(
    request: PluralisticRequest,
    pipeline,
    found: FoundFace,
    source: SourceAgeGender,
    seeds: list[int],
    settings: Settings,
    progress,
) -> _Sampled:
    """PAE on Cradle2Cane: each sample's own age embedding and seed, all samples in one batch per pass; each pasted within
    the face's own part of the photo."""
    cache = get_cache(settings)
    resolution = pipeline.config.resolution
    aligned = align_face(request.rgb, found.face, resolution)
    reference_crop = encoder = None
    if request.reference is not None:  # models and faces found before the GPU is lent
        encoder = cache.get("age_encoder")
        width = pipeline.clip_model.config.projection_dim
        if encoder.config["dim"] != width:  # one trained on another profile's CLIP: a shape error deep in a matmul
            raise ModelUnavailable(
                f"age_encoder: {checkpoint_name('age_encoder', settings, 'the age encoder')} reads CLIP features "
                f"{encoder.config['dim']} wide, and this profile's CLIP gives {width}: use one trained with this "
                "profile's CLIP (train.pluralistic)"
            )
        detector = cache.get("face_detector")
        reference_face, _ = choose_face(detector.detect(request.reference), None)
        try:  # as the source face is checked (`find_face`)
            check_face_upright(detector, request.reference, reference_face)
        except NoFaceError as error:
            raise NoFaceError(f"reference face: {error}") from error
        reference_crop = align_face(request.reference, reference_face, resolution).crop
    result = sample_futures(pipeline, aligned.crop, source.age, source.gender, request, seeds, reference_crop, encoder, progress)
    faces = [item.image for item in result.items]
    return _Sampled(
        "text-driven" if reference_crop is None else "image-guided",
        faces,
        [pasted_within_own(request.rgb, image, aligned.matrix, found.face, found.others) for image in faces],
        pipeline.checkpoint,
    )


def futures_seconds(pipeline, crop, source_age, gender, request, seeds, reference_crop=None, encoder=None, progress=None) -> int:
    """GPU seconds for `sample_futures` with these arguments: one Cradle2Cane item per sample at the
    target, and the reference face's CLIP encoding in the image-guided mode."""
    return cradle2cane_seconds(pipeline, source_age, [request.target] * len(seeds), images=int(reference_crop is not None))


@gpu_scope(futures_seconds)
def sample_futures(pipeline, crop, source_age, gender, request, seeds, reference_crop=None, encoder=None, progress=None):
    """The GPU part: encode the source, draw the age embeddings, run both passes for every sample."""
    # torch loads on the first diffusion request, not at start-up
    from engine.methods.pae.sampling import age_embeddings  # noqa: PLC0415

    source_face = pipeline.encode_source(crop)
    embeddings = age_embeddings(
        pipeline, request.target, request.intensity, request.samples, request.seed, reference_crop, encoder
    )
    return pipeline.sample(source_face, source_age, gender, request.target, embeddings, seeds, progress)


def _classical(
    request: PluralisticRequest, located: LocatedFace, source: SourceAgeGender, seeds: list[int], settings: Settings
) -> _Sampled:
    """A PAE over zone scores, each sample rendered by the classical renderer with its own seed."""
    # when asked, men's futures recede at the hairline as often as men not receded at the source age have by the target
    # age (Norwood III or more): the share the lifespan's hairline stage recedes by (men of the target age, receded or
    # not, were drawn before: 80 % of futures receded from 51 to 60, where 43 % of the men with a full hairline at 51 do)
    asked = request.receding_hairline and source.gender == "male"
    receding = added_recession(source.age, request.target) if asked else 0.0
    years = abs(request.target - source.age)
    variations = sample_variations(
        scores_for_age(request.target), request.intensity, request.samples, request.seed, receding, years
    )
    masks = hair_masks(located, settings)
    aged = map_in_order(
        lambda future: age_face(request.rgb, located, masks, source.age, request.target, future[1], settings, future[0]),
        list(zip(variations, seeds)),
        worker_count(settings.classical_workers, len(seeds)),
    )
    warnings = (
        stage_warnings([request.target] * len(aged), aged)
        + hairline_warning(request.receding_hairline, source)
        + growth_warning(source, [request.target])
    )
    if asked and receding <= 0:  # asked of a man's face, with nothing to recede by: said, not left at ''
        warnings.append(
            f"Hairline left as it is: a hairline recedes toward an older age only, and {request.target:g} is not older "
            f"than the source age {source.age:g}."
        )
    hairlines = [a.stages.get("hairline", "") for a in aged]
    monochrome = is_monochrome(located.crop)  # its futures' sallowness is not drawn: a hue (their stages say it too)
    hair = not masks.note  # no hair found: the hair stage is skipped in every future
    futures = [describe_variation(variation, request.target, source.age, monochrome, hair) for variation in variations]
    younger, same_age = request.target < source.age, request.target == source.age
    return _Sampled(
        "classical",
        [a.after for a in aged],
        [a.photo for a in aged],
        CLASSICAL_CHECKPOINT,
        warnings,
        hairlines,
        futures,
        classical_differences(monochrome, younger, same_age, hair),
    )


def save_outputs(output: PluralisticOutput, folder: Path, stem: str = "futures", photos: bool = True) -> dict[str, list[str]]:
    """Every future's photo and aligned face as PNGs named after the photo (`stem`, as the lifespan's files are named)
    and the target, each holding its provenance: the method, the seed and sample index that reproduce it (SEEDS_MEANING),
    its renderer seed and the manifest. The CLI and the tab write the same files (the tab's had been futures-0.png, with
    no name of the photo or the age and no provenance). `photos` False: the faces alone (the tab shows no photo, and a
    3 MP photo's eight took about 1.7 s to write)."""
    stem = file_stem(stem) + face_suffix(output.face_index)
    files: dict[str, list[str]] = {"photos": [], "faces": []}
    manifest = output.manifest()
    for index, (photo, face, seed) in enumerate(zip(output.photos, output.faces, output.seeds)):
        info = png_info(
            manifest["method"],
            output.models["checkpoint"],
            output.seed,  # with Sample, what reproduces this image
            manifest,
            TargetAge=f"{output.target:g}",
            Sample=index,
            RendererSeed=seed,
        )
        if photos:
            files["photos"].append(save_png(photo, folder / f"{stem}_{output.target:g}_sample{index}.png", info))
        files["faces"].append(save_png(face, folder / f"{stem}_{output.target:g}_sample{index}_face.png", info))
    return files
