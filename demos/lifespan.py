"""Tab "Lifespan aging": one face from cradle to cane with Cradle2Cane (two-pass SDXL-Turbo)."""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from demos.age import example_portraits
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
    notice,
    open_photo,
    output_folder,
    photo_input,
    user_errors,
    warn_results,
)
from engine.core.images import keep_photo_notes
from engine.core.limits import AGE, GPU_CONCURRENCY, MAX_FACES_AGED, SEED
from engine.core.models import ModelUnavailable
from engine.core.registry import get_cache
from engine.tasks.lifespan import (
    CLASSICAL_IN_ONE_LINE,
    FACES_AGED,
    LIFESPAN_PRESET,
    LifespanRequest,
    age_photo,
    save_outputs,
)

logger = logging.getLogger(__name__)

TITLE = "Lifespan aging"
API_NAME = "lifespan"
# On a phone the strip (nine faces side by side) is shown at a height its faces can be seen at and scrolls sideways: fit
# to the screen's width it was a band about 40 px high, under its own label and buttons
# The gallery is as tall as its rows: Gradio's own least height (450 px) left most of the box empty under one row of ages,
# and its most height (a 495 px box) hid the last row of nine ages, the oldest, behind a scroll with no cue (11 of 17
# ages). On a phone two a row: three cut each caption after its first word ("5 years, cl...")
CSS = """#lifespan-aged .grid-wrap { min-height: 0; max-height: none; }
@media (max-width: 640px) {
  #lifespan-aged .grid-container { --grid-cols: 2 !important; }
  #lifespan-strip .image-container { overflow-x: auto; justify-content: flex-start; }
  #lifespan-strip .image-container > button, #lifespan-strip .image-frame { width: max-content; max-width: none; }
  #lifespan-strip .image-frame img { height: 150px; width: auto; max-width: none; }
}"""


def availability() -> str:
    """A banner when the method cannot run here, saying exactly what is missing and how to provide it."""
    cache = get_cache()
    if cache.settings.profile == "tiny":
        return TEST_PROFILE_BANNER
    if not cache.in_profile("lifespan"):
        # one line on what the face gets; what the diffusion path needs is the Models panel's (below)
        return (
            f"**Classical renderer** (Cradle2Cane is not in the `{cache.settings.profile}` profile; the Models panel "
            f"below says what it needs): {CLASSICAL_IN_ONE_LINE} (the manifest lists every change, and what each did)."
        )
    return ""


# The share of the progress bar the ages take; writing their files takes the rest. Grace Hopper's 9-age strip on 2 CPUs
# with the classical renderer: about 3.2 s drawing, 0.9 s writing (a diffusion strip's drawing takes longer, and the
# bar then moves faster over the files). One bar from 0 to 1: the files' own from 0 looked like the job restarting.
DRAWING = 0.8


def run(
    photo,
    mode,
    target,
    preset,
    source_age,
    gender,
    seed,
    extra_prompt,
    paste,
    framing="face",
    face=None,
    all_faces=False,
    receding_hairline=False,
    progress=gr.Progress(),
):
    """Main action (API `/lifespan`) -> aged images, strip, GIF, MP4, pass-1 images, manifest, source age and gender
    used (each face's, when every face is aged), what the age estimator reads in each output ("10: 31, 80: 49")."""
    with user_errors():
        image = open_photo(photo)
        with loader_notes_on_refusal(image):
            request = LifespanRequest(
                image.rgb,
                target if mode == "Single age" else preset,  # one age or the box's text: a message quotes it as given
                source_age=source_age,  # empty text: estimated
                gender=None if gender == "estimate" else gender,
                seed=seed,
                extra_prompt=(extra_prompt or "").strip() or None,  # an empty box: none
                paste=paste,
                face_index=face,  # empty text: the largest
                all_faces=all_faces,
                receding_hairline=receding_hairline,
                framing=framing,
            )
            output = age_photo(request, progress=lambda fraction, message: progress(DRAWING * fraction, desc=message))
    # a group photo's summary of its faces is information (an Info notice), the rest are warnings
    warn_results([message for message in output.warnings if not message.startswith(FACES_AGED)])
    for message in output.warnings:
        if message.startswith(FACES_AGED):
            notice(gr.Info, message)
    keep_photo_notes(output.warnings, image)  # in the manifest and the images' own; shown when the photo opened
    # the files take a second or two more: the bar goes on over them, saying which (it stood at the last age's share)
    files = save_outputs(
        output,
        output_folder("lifespan"),
        Path(photo).stem,
        lambda fraction, what: progress(DRAWING + (1 - DRAWING) * fraction, desc=what),
    )
    shown = files["photos"] if paste else files["faces"]
    renderer = output.models["renderer"]
    labels = [f"{t:g} years" + (", classical" if renderer == "classical" else "") for t in output.targets]  # shown whole
    manifest = output.manifest()
    return (
        list(zip(shown, labels)),
        files["strip"],
        files["gif"],
        files["mp4"],
        list(zip(files["pass1"], labels)),
        manifest,
        used(output, "source_age", "source_age_from", "{:g}"),
        used(output, "gender", "gender_from"),
        readings(output),
    )


def readings(output) -> str:
    """What the hub's age estimator reads in each output, by the age asked: "10: 31, 40: 44, 80: 49" ("no face" where it
    finds none; with every face aged, the chosen face's). In the captions it was cut off beside three tiles a row."""
    if output.estimated_ages is None:
        return ""
    read = [f"{t:g}: {'no face' if age is None else f'{age:.0f}'}" for t, age in zip(output.targets, output.estimated_ages)]
    return ("" if not output.group else f"face {output.face_index}: ") + ", ".join(read)


def used(output, value: str, source: str, form: str = "{}") -> str:
    """The chosen face's `value` and where it came from; with every face aged, each face's, numbered."""
    if not output.group:
        return f"{form.format(getattr(output, value))} ({getattr(output, source)})"
    return "; ".join(
        f"face {face.index}: " + (f"{form.format(getattr(face, value))} ({getattr(face, source)})" if face.aged else "not aged")
        for face in output.group
    )


def build() -> None:
    banner(availability())
    # the diffusion renderer's own controls are shown only where it can run (the classical renderer refuses an extra
    # attribute and has no pass 1: offered anyway, they were refused or showed an empty box)
    diffusion = get_cache().in_profile("lifespan")
    with gr.Row():
        with gr.Column():
            photo = photo_input()
            with gr.Row():
                source_age = gr.Textbox(label=f"Source age ({AGE.text()}; leave empty to estimate it)", placeholder="e.g. 33")
                gender = RadioField(["estimate", "female", "male"], value="estimate", label="Gender")
            mode = RadioField(["Single age", "Lifespan"], value="Lifespan", label="Targets")
            # only the chosen mode's control is shown (both were, and the one the mode ignores looked in use)
            target = SliderField(AGE.low, AGE.high, value=60, step=1, label=f"Target age ({AGE.text()})", visible=False)
            preset = gr.Textbox(" ".join(str(a) for a in LIFESPAN_PRESET), label=f"Lifespan ages ({AGE.text()})")
            with gr.Accordion("More", open=False):
                seed = NumberField(0, label=f"Seed ({SEED.text()})", precision=0, minimum=SEED.low, maximum=SEED.high)
                extra_prompt = gr.Textbox(
                    label="Extra attribute (e.g. grey hair); uses the strongest noise level", visible=diffusion
                )
                paste = gr.Checkbox(True, label="Paste the aged face back into the photo")
                framing = RadioField(
                    ["face", "photo"], value="face", label="Strip and animation show the aligned face or the whole photo"
                )
                show_pass1 = gr.Checkbox(False, label="Show the pass-1 (AdaNI) intermediates", visible=diffusion)
            with gr.Accordion("Group photo and hairline", open=False):
                face = gr.Textbox(
                    label="Face to age (leave empty for the largest)",
                    info="0 is the largest face, 1 the next, and so on, as the Age estimation tab numbers them",
                    placeholder="e.g. 1",
                )
                all_faces = gr.Checkbox(
                    False,
                    label="Age every face in the photo (classical renderer)",
                    info=f"up to {MAX_FACES_AGED} (the chosen and the largest others), each from its own estimated age, each "
                    "pasted back; the source age and gender above are the chosen face's, and the face strip shows it "
                    "(framing 'photo' in More shows the whole group)",
                )
                receding_hairline = gr.Checkbox(
                    False,
                    label="Receding hairline with age (classical renderer)",
                    info="the temples and front move back as in men's pattern hair loss, on every face aged whose gender is male "
                    "(given above, or estimated)",
                )
            go = gr.Button("Age this face", variant="primary")
            gr.Examples(example_portraits(), inputs=photo, label="Public-domain portraits")
        with gr.Column():
            # each tile shows the whole image: cropped to fill it, a full-length portrait's tile showed the jacket and
            # cut off the face; and the gallery is as tall as its images (one age is shown the column's whole width,
            # and at a fixed 380 px its lower part was cut off, as was a lifespan's third row)
            gallery = gr.Gallery(label="Aged", columns=3, height="auto", object_fit="contain", elem_id="lifespan-aged")
            with gr.Row():
                animation = gr.Image(label="Animation (GIF)", interactive=False)
                video = gr.File(label="Animation (MP4)")
            pass1 = gr.Gallery(label="Pass 1 (AdaNI)", columns=3, visible=False, object_fit="contain")
            with gr.Row():
                used_age = gr.Textbox(label="Source age used", interactive=False)
                used_gender = gr.Textbox(label="Gender used", interactive=False)
            read = gr.Textbox(label="What the age estimator reads in each output (age asked: age read)", interactive=False)
    # the whole width: nine faces in one row of the half-width column showed about 70 px each
    strip = gr.Image(label="Lifespan strip", interactive=False, elem_id="lifespan-strip")
    manifest = ExactJSON(label="Manifest (targets, seeds, timings, models; what each stage did)")
    show_pass1.change(lambda show: gr.Gallery(visible=show), show_pass1, pass1, api_visibility="private")
    mode.change(
        lambda chosen: (gr.update(visible=chosen == "Single age"), gr.update(visible=chosen == "Lifespan")),
        mode,
        [target, preset],
        api_visibility="private",
    )
    # the whole photo's framing shows the faces pasted back: choosing it ticks paste, and unticking paste frames the
    # faces (the two could be set against each other, and the request was then refused), in the browser at once
    framing.input(None, [framing, paste], paste, js="(framing, paste) => framing === 'photo' ? true : paste")
    paste.input(None, [paste, framing], framing, js="(paste, framing) => paste ? framing : 'face'")
    results = [gallery, strip, animation, video, pass1, manifest, used_age, used_gender, read]
    history = cleared_by_new_photo(photo, results)
    cleared_on_run(go, results)
    go.click(
        history.shown_while_current(run),
        [photo, mode, target, preset, source_age, gender, seed, extra_prompt, paste, framing, face, all_faces, receding_hairline],
        results,
        api_name=API_NAME,
        concurrency_id="gpu",
        concurrency_limit=GPU_CONCURRENCY,
        **main_action(gallery),
    )


def preload() -> None:
    """Build the pipeline at start-up where it is part of the profile (ZeroGPU wants models loaded early)."""
    cache = get_cache()
    if cache.in_profile("lifespan"):
        try:
            cache.get("lifespan")
        except ModelUnavailable as error:
            logger.warning("lifespan aging unavailable: %s", error)
