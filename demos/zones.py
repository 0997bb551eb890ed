"""Tab "Local zone editing": age or smooth wrinkles one facial zone at a time (LDLA)."""

from __future__ import annotations

import filecmp
import logging

import gradio as gr

from demos.age import example_portraits
from demos.common import (
    NumberField,
    SliderField,
    image_files,
    open_photo,
    photo_input,
    user_errors,
    warn,
)
from engine.core.images import keep_photo_notes
from engine.core.limits import AGE, GPU_CONCURRENCY, SEED, ZONE_SCORE
from engine.core.registry import get_cache
from engine.tasks import zones as task

logger = logging.getLogger(__name__)

TITLE = "Local zone editing"
API_NAME = "edit_zones"
RENDERERS = ("classical", "diffusion")


def renderer_status() -> str:
    cache = get_cache()
    lines = ["Renderers:", "- **classical**: available (procedural, CPU, no weights)."]
    if cache.in_profile("zone_diffusion"):
        lines.append("- **diffusion**: available in this profile (SDXL-Turbo img2img; loads on first use).")
    else:
        lines.append(
            f"- **diffusion**: not available in the `{cache.settings.profile}` profile. "
            f"{cache.spec('zone_diffusion').install.replace('<', '&lt;')}."
        )
    if cache.settings.profile == "tiny":
        lines.append("\n**Test profile**: the diffusion renderer runs random tiny models; its output is noise, not a result.")
    return "\n".join(lines)


def find_zones(photo):
    """Zones outlined on the aligned face; every slider set to the zone's current (assumed) score; the photo they are of
    (the tab's state: Apply refuses a photo whose zones the sliders do not show)."""
    if not photo:  # the photo was cleared
        return [None, "", None] + [gr.update() for _ in task.ZONES] + [None]
    with user_errors():
        image = open_photo(photo)
        found = task.find_zones(image.rgb)
    warn(found.located.warnings)
    note = f"Sliders start at each zone's current score ({found.current_from}). A zone left at its current score is not touched."
    return [found.outlined, note, found.source_age] + [found.current[z] for z in task.ZONES] + [photo]


def same_photo(one: str | None, other: str | None) -> bool:
    """Whether two uploaded photos' files are one photo: the same path, or the same bytes (a photo handed over as data,
    not as an uploaded file, is written to a new file each time it is read)."""
    if one is None or other is None:
        return one is other
    if one == other:
        return True
    try:
        return filecmp.cmp(one, other, shallow=False)
    except OSError:  # one of them is gone (its temporary file deleted): not known to be the same
        return False


def apply(photo, renderer, seed, refine, ethnicity, source_age, found_for, *scores):
    """Main action (API `/edit_zones`): photo, renderer, seed, refine, ethnicity, source age, 12 zone scores
    -> before/after photo, before/after face, manifest. `found_for` (the tab's state, not part of the API: None there):
    the photo whose zones the sliders show."""
    if found_for is not None and photo and not same_photo(found_for, photo):
        # Apply is disabled while a photo's zones are found; between two photos picked in quick succession it is offered
        # once the first one's are, and the sliders then hold the first photo's scores
        raise gr.Error("This photo's zones are still being found, or could not be found: Apply once they are outlined.")
    with user_errors():
        image = open_photo(photo)
        targets = dict(zip(task.ZONES, scores))
        request = task.ZonesRequest(
            image.rgb,
            targets,
            renderer,
            seed,
            source_age=None if source_age in (None, "") else source_age,
            ethnicity=ethnicity,
            refine=refine,
        )
        edit = task.edit_zones(request)
    warn(edit.warnings)
    keep_photo_notes(edit.warnings, image)  # in the manifest; shown when the photo opened
    if not edit.changed:
        gr.Info("Every zone is at its current score: the photo is unchanged.")
    label = "classical renderer" if renderer == "classical" else "diffusion renderer"
    assert edit.photo is not None  # the tab's edits paste back into the photo
    photo_before, photo_after, face_before, face_after = image_files("zones", image.rgb, edit.photo, edit.before, edit.after)
    return (photo_before, photo_after), (face_before, face_after), {**edit.manifest(), "shown_as": label}


def build() -> None:
    gr.Markdown(renderer_status())
    with gr.Row():
        with gr.Column():
            photo = photo_input()
            gr.Examples(example_portraits(), inputs=photo, label="Public-domain portraits")
            overlay = gr.Image(label="Zones", interactive=False, height=360)
            note = gr.Markdown()
        with gr.Column():
            master = gr.Slider(ZONE_SCORE.low, ZONE_SCORE.high, value=50, step=1, label="All zones (uniform aging score, %)")
            sliders = [
                SliderField(ZONE_SCORE.low, ZONE_SCORE.high, value=0, step=1, label=zone.replace("_", " ") + " (%)")
                for zone in task.ZONES
            ]
            with gr.Row():
                renderer = gr.Radio(list(RENDERERS), value="classical", label="Renderer")
                seed = NumberField(0, label=f"Seed ({SEED.text()})", precision=0, minimum=SEED.low, maximum=SEED.high)
            with gr.Accordion("More", open=False):
                refine = gr.Checkbox(False, label=f"Whole-face refiner pass (diffusion renderer): {task.refiner_label()}")
                ethnicity = gr.Textbox(label="Ethnicity for the diffusion prompt (optional)")
                source_age = NumberField(
                    label=f"Age the current scores are assumed from ({AGE.text()}; filled in from the estimate)",
                    precision=0,
                    minimum=AGE.low,
                    maximum=AGE.high,
                )
            go = gr.Button("Apply", variant="primary")
    with gr.Row():
        comparison = gr.ImageSlider(label="Photo: before / after", type="numpy")
        face = gr.ImageSlider(label="Face: before / after", type="numpy")
    manifest = gr.JSON(label="Manifest (scores, renderer, seed)")
    # The scores set by hand since the photo changed, one per zone (null: not set), kept in the browser: finding the
    # zones takes a round trip of a second or more, and its current scores overwrote what "All zones" or a zone's
    # slider had been set to meanwhile (the master showed 90, the zones their found scores).
    chosen = gr.JSON(None, visible=False)  # null (none set), or a list of 12
    photo.change(None, None, chosen, js="() => null")
    # Apply waits for the zones: clicked before they were found, it edited with the sliders' old scores (on a first
    # photo every zone at 0, smoothed away)
    finding = photo.change(lambda: gr.Button(interactive=False), None, go, queue=False, api_visibility="private")
    # the photo whose zones the sliders show (a path; hidden from the API): Apply refuses another photo's
    found_for = gr.State(None)
    # its progress, and its refusal of a photo, on the outlined face alone: on every slider a refused photo left twelve
    # red "Error" badges where the sliders were. "always_last": a photo picked while the last one's zones are being found
    # is found after them (a step's default, "once", dropped it, and the new photo kept the last one's zones)
    found = finding.then(
        find_zones,
        photo,
        [overlay, note, source_age, *sliders, found_for],
        api_name="find_zones",
        show_progress_on=overlay,
        trigger_mode="always_last",
    )
    # then the scores set by hand meanwhile are put back over the found ones (in the browser), and Apply is offered again;
    # after a refusal too (a failed step runs only the `failure` steps after it)
    kept = "(chosen, ...found) => [chosen, ...found.map((score, zone) => chosen?.[zone] ?? score)]"
    found.success(
        lambda chosen, *scores: [*scores, gr.Button(interactive=True)],
        [chosen, *sliders],
        [*sliders, go],
        js=kept,
        queue=False,
        api_visibility="private",
        trigger_mode="always_last",
    )
    found.failure(lambda: gr.Button(interactive=True), None, go, queue=False, api_visibility="private")
    # "All zones" sets the twelve sliders in the browser, at once: a round trip to the server could still be on its way
    # when Apply is clicked, and the edit then used the sliders' old scores (every zone "at its current score"). On its
    # every change (typed, dragged, reset by its button, or its typed value brought back within 0-100: `input` alone
    # missed the reset and the clamping, and the zones kept the old or the out-of-range score), and on every input: a
    # value typed again that it already shows is no change, and zones moved alone since then kept their own scores
    every = f"(value) => [...Array({len(sliders)}).fill(value), Array({len(sliders)}).fill(value)]"
    gr.on([master.input, master.change], None, master, [*sliders, chosen], js=every)
    # a zone moved alone (`input`: by hand, not by the master or the zones found); the list is wrapped as the one output
    # (a list handed back bare is read as the outputs, and its first item became `chosen`)
    for zone, slider in enumerate(sliders):
        one = f"(value, chosen) => [Array.from({{length: {len(sliders)}}}, (_, z) => z === {zone} ? value : chosen?.[z] ?? null)]"
        slider.input(None, [slider, chosen], chosen, js=one)
    go.click(
        apply,
        [photo, renderer, seed, refine, ethnicity, source_age, found_for, *sliders],
        [comparison, face, manifest],
        api_name=API_NAME,
        concurrency_id="gpu",
        concurrency_limit=GPU_CONCURRENCY,
    )
