"""Tab "Pluralistic aging": several plausible futures of one face at one target age, with a diversity control."""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from demos.age import package_folder
from demos.common import (
    TEST_PROFILE_BANNER,
    ExactJSON,
    NumberField,
    RadioField,
    SliderField,
    banner,
    cleared_by_new_photo,
    cleared_on_run,
    loader_notes_on_refusal,
    main_action,
    open_photo,
    output_folder,
    photo_input,
    user_errors,
    warn_results,
)
from engine.core.images import keep_photo_notes
from engine.core.limits import AGE, GPU_CONCURRENCY, INTENSITY, SAMPLES, SEED
from engine.core.registry import get_cache
from engine.tasks.pluralistic import (
    DIVERSITY_EMBEDDING,
    STRUCTURAL_DIVERSITY,
    PluralisticRequest,
    pluralistic,
    save_outputs,
)

logger = logging.getLogger(__name__)

TITLE = "Pluralistic aging"
API_NAME = "pluralistic"
# The futures' gallery is as tall as its rows (Gradio's least and most heights, 450 px and 55% of the window, are left
# out: eight futures' last rows were behind a scroll in the box); on a phone one future a row, its caption whole (in two
# columns of about 150 px, "0: age 55, identity 91" was cut after "identi")
CSS = """#pluralistic-futures .grid-wrap { min-height: 0; max-height: none; }
@media (max-width: 640px) { #pluralistic-futures .grid-container { --grid-cols: 1 !important; } }"""


def availability() -> str:
    cache = get_cache()
    if cache.settings.profile == "tiny":
        return TEST_PROFILE_BANNER
    if not cache.in_profile("lifespan"):
        return (
            "**Classical renderer**: without the diffusion models (see the Models panel) the futures differ the "
            "way people do: toward an older age in greying onset and pattern, sagging, weight (a fuller or leaner lower "
            "face), age spots, sallowness, and wrinkle scores per zone (a PAE over zone scores), each drawn from a stated "
            "spread; toward a younger one in how much grey hair regains its colour, how much sagging is taken back, "
            "how much of the creases is filled, and weight (age spots and sallowness are not drawn)."
        )
    return ""


def run(
    photo,
    target,
    samples,
    intensity,
    reference,
    seed,
    receding_hairline=False,
    face=None,
    source_age=None,
    gender="estimate",
    progress=gr.Progress(),
):
    """Main action (API `/pluralistic`): photo, target age, samples, intensity, optional reference face, seed, receding
    hairline (men, classical renderer), face (its number; empty: the largest), source age (empty: estimated), gender
    ("estimate", "female" or "male") -> gallery of futures with their estimated age and identity, the set's diversity,
    manifest."""
    with user_errors():
        image = open_photo(photo)
        guide = open_photo(reference) if reference else None
        with loader_notes_on_refusal(image, guide):
            request = PluralisticRequest(
                image.rgb,
                target,
                samples,
                intensity,
                seed,
                None if guide is None else guide.rgb,
                receding_hairline=receding_hairline,
                face_index=face,  # empty text: the largest
                source_age=source_age,  # empty text: estimated
                gender=None if gender in (None, "estimate") else gender,
            )
            output = pluralistic(request, progress=lambda fraction, message: progress(fraction, desc=message))
    warn_results(output.warnings)
    keep_photo_notes(output.warnings, image, guide)  # in the manifest; shown when the photos opened
    # named after the photo and the target, with their provenance, as the CLI writes them (futures-0.png before)
    files = save_outputs(output, output_folder("futures"), Path(photo).stem, photos=False)  # the gallery shows faces
    # short enough to show whole under a thumbnail: the estimated age and identity first (what the caption is for)
    gallery = [
        (
            photo_,
            f"{i}: age {'missing' if age is None else f'{age:.0f}'}, identity {'missing' if ident is None else f'{ident:.0f}'}",
        )
        for i, (photo_, age, ident) in enumerate(zip(files["faces"], output.ages, output.identities))
    ]
    diversity = "missing (fewer than two samples show a face)" if output.diversity is None else f"{output.diversity:.4f}"
    structural = "missing" if output.structural_diversity is None else f"{output.structural_diversity:.4f}"
    renderer = "the classical renderer" if output.mode == "classical" else f"mode {output.mode}"
    text = (
        f"Futures of face {output.face_index} drawn by {renderer} from its source age {output.source_age:g} "
        f"({output.source_age_from}) and gender {output.gender} ({output.gender_from}); where they are wrong, give them in "
        "the Source age and Gender boxes. "
        f"Under each: its estimated age, and its identity, the face recognition model's "
        f"cosine similarity to the photo's face x 100 (two different people read about 18). "
        f"**Diversity**: {diversity} between the samples' identities, measured as the {DIVERSITY_EMBEDDING}; "
        f"{structural} between their structures, measured on the {STRUCTURAL_DIVERSITY}."
        + (
            " At diversity 0 every future draws the mean person's differences: they differ only by each one's own seed "
            "(which strands grey, where spots fall); raise it for futures that differ as people do."
            if output.intensity == 0
            else ""
        )
    )
    return gallery, text, output.manifest()


def example_futures() -> list[list]:
    """The portrait that ships inside scikit-image with a target age well past the face's own: the astronaut (read at 41)
    at 70. Grace Hopper, the other tabs' second example, reads at the estimator's top class, 80: every target is her
    past, and her "futures" at 60 were younger versions of her. (The camera operator, read at 20, near profile in black
    and white, changes too little at 60 for a first look: the estimator reads his futures at 20-27.)"""
    path = package_folder("skimage") / "data" / "astronaut.png"
    return [[str(path), 70]] if path.is_file() else []


def build() -> None:
    banner(availability())
    with gr.Row():
        with gr.Column():
            photo = photo_input()
            target = SliderField(AGE.low, AGE.high, value=60, step=1, label=f"Target age ({AGE.text()})")
            samples = SliderField(SAMPLES.low, SAMPLES.high, value=4, step=1, label=f"Samples ({SAMPLES.text()})")
            # the image-guided mode needs the diffusion path: its reference face is shown only where that can run; the
            # diversity's label names the PAE's noise only there (the classical futures' spread is said under it)
            diffusion = get_cache().in_profile("lifespan")
            intensity = SliderField(
                INTENSITY.low,
                INTENSITY.high,
                value=0.3,
                step=0.05,
                label=(
                    f"Diversity (PAE sampling intensity: noise size relative to the age embedding, {INTENSITY.text()})"
                    if diffusion
                    else f"Diversity ({INTENSITY.text()})"
                ),
                # at the default, futures toward an old age differ as subtly as people of that age do: a visitor read them as
                # near-identical
                info="classical renderer: 0.3 draws futures as far apart as people of one age are (each difference is named "
                "per future in the manifest); higher values draw them further apart than most people are",
            )
            with gr.Accordion(
                "Image-guided mode, face, source age, hairline and seed" if diffusion else "Face, source age, hairline and seed",
                open=False,
            ):
                reference = photo_input("Reference face of the target age (needs a trained age encoder)", visible=diffusion)
                face = gr.Textbox(
                    label="Face (leave empty for the largest)",
                    info="0 is the largest face, 1 the next, and so on, as the Age estimation tab numbers them",
                    placeholder="e.g. 1",
                )
                source_age = gr.Textbox(label=f"Source age ({AGE.text()}; leave empty to estimate it)", placeholder="e.g. 33")
                gender = RadioField(["estimate", "female", "male"], value="estimate", label="Gender")
                seed = NumberField(0, label=f"Seed ({SEED.text()})", precision=0, minimum=SEED.low, maximum=SEED.high)
                receding = gr.Checkbox(
                    False,
                    label="Receding hairline in men's futures (classical renderer)",
                    info="as often as men whose hairline has not receded at the photo's age have by the target age",
                )
            go = gr.Button("Sample futures", variant="primary")
            gr.Examples(example_futures(), inputs=[photo, target], label="A public-domain portrait, with a target age")
        with gr.Column():
            # as tall as its rows (CSS)
            gallery = gr.Gallery(label="Futures", columns=2, height="auto", elem_id="pluralistic-futures")
            diversity = gr.Markdown()
            manifest = ExactJSON(label="Manifest")
    history = cleared_by_new_photo(photo, [gallery, diversity, manifest])
    cleared_on_run(go, [gallery, diversity, manifest])
    go.click(
        history.shown_while_current(run),
        [photo, target, samples, intensity, reference, seed, receding, face, source_age, gender],
        [gallery, diversity, manifest],
        api_name=API_NAME,
        concurrency_id="gpu",
        concurrency_limit=GPU_CONCURRENCY,
        **main_action(gallery),
    )
