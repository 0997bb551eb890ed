"""Tab "Local zone editing": age or smooth wrinkles one facial zone at a time (LDLA)."""

from __future__ import annotations

import filecmp
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

import gradio as gr

from demos.age import example_portraits
from demos.common import (
    ExactJSON,
    NumberField,
    RadioField,
    SliderField,
    cleared_by_new_photo,
    cleared_on_run,
    keep_recent,
    loader_notes_on_refusal,
    main_action,
    notice,
    open_photo,
    output_folder,
    photo_input,
    uploaded,
    user_errors,
    warn,
)
from engine.core.images import keep_photo_notes
from engine.core.limits import AGE, DEFAULT_CONCURRENCY, GPU_CONCURRENCY, SEED, ZONE_SCORE
from engine.core.provenance import file_stem, save_png
from engine.core.registry import get_cache
from engine.faces.zones import zone_name
from engine.tasks import zones as task

logger = logging.getLogger(__name__)

TITLE = "Local zone editing"
# the zone edits' queue where only the classical renderer can run (on CPU, beside the other tabs' work)
CPU_QUEUE = "zones"
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


def renderer_choices() -> list[tuple[str, str]]:
    """The renderers as the tab offers them, one the profile lacks labelled so (picked, it was refused with a message
    for the server's operator); the value stays its name, which the API takes."""
    available = get_cache().in_profile("zone_diffusion")
    return [(name if name == "classical" or available else f"{name} (not available here)", name) for name in RENDERERS]


def find_zones(photo):
    """API `/find_zones`: zones outlined on the aligned face; every slider set to the zone's current (assumed) score."""
    if not photo:  # the photo was cleared
        return [None, "", None] + [gr.update() for _ in task.ZONES]
    with user_errors():
        image = open_photo(photo)
        with loader_notes_on_refusal(image):
            found = task.find_zones(image.rgb)
    warn(found.located.warnings)
    # a PNG named after the photo, as the edit's files are (its download was "image.webp")
    overlay = save_png(found.outlined, output_folder("zones") / f"{file_stem(Path(photo).stem)}_zones.png")
    return [overlay, _scores_note(found), found.source_age] + [found.current[z] for z in task.ZONES]


def scores_at_age(photo, source_age, found_for=""):
    """The zones' current scores at the age typed in the tab's age box (the estimate's when it is emptied), and the note
    saying where they come from: the sliders showed the scores of the age the zones were found at, and the box said
    that another age was the one they are assumed from. Nothing where the photo's zones were not found (`found_for`, as
    `apply_in_tab` reads it: each age typed over a refused photo said its refusal again)."""
    if not photo or not same_photo(found_for, photo):
        return [gr.update(), None]
    with user_errors():
        image = open_photo(photo)
        with loader_notes_on_refusal(image):
            found = task.find_zones(image.rgb, source_age=None if source_age in (None, "") else source_age)
    return [_scores_note(found), [found.current[zone] for zone in task.ZONES]]


def _scores_note(found: task.ZoneFinding) -> str:
    return f"Sliders start at each zone's current score ({found.current_from}). A zone left at its current score is not touched."


# Per browser session, the last photo whose zones the tab found, when, and what it found: a photo dropped onto the one
# shown changes the photo box two or three times within a second in Gradio's browser, each change asked for the zones
# again, and every notice the photo or its refusal gave was shown that many times (the zones found as often). Kept
# REPEAT_SECONDS (a find asked again later, a "try again" after a failure, runs again) for the most recent sessions.
_last_found: OrderedDict[str, tuple[str | None, float, list]] = OrderedDict()
_last_found_lock = threading.Lock()
REPEAT_SECONDS = 10.0
SESSIONS_KEPT = 256  # each holds the outlined face, about 0.8 MB


def zones_for_tab(photo, request: gr.Request):
    """`find_zones` as the tab asks for it, and the photo the sliders' zones are of ("" when none is: Apply refuses the
    photo then). A refusal is said, in a notice kept until closed and in the note, not raised: Gradio's browser drops
    a find asked for while another runs when that one fails, and a photo picked meanwhile kept the last one's zones
    and scores. The photo the session's last find was for, asked again within REPEAT_SECONDS (the same upload, or the
    PNG made of it for the browser), is answered as it was then, its notices not said again."""
    session = getattr(request, "session_hash", None)
    now = time.monotonic()
    with _last_found_lock:
        last = _last_found.pop(session, None) if session is not None else None
        for stale in [key for key, (_, when, _) in _last_found.items() if now - when > REPEAT_SECONDS]:
            del _last_found[stale]
    if photo and session is not None and last is not None and now - last[1] <= REPEAT_SECONDS and last[0] == uploaded(photo):
        with _last_found_lock:
            _last_found[session] = last  # kept for the drop's next change (popped, the third was found again)
        found = last[2]
        return [*found[:-1], photo if found[-1] else ""]  # the sliders' zones are of this path's photo
    try:
        found = [*find_zones(photo), photo or ""]
    except gr.Error as error:
        notice(lambda message: gr.Warning(message, duration=None), error.message)
        found = [None, f"**Zones not found:** {error.message}", None] + [gr.update() for _ in task.ZONES] + [""]
    if session is not None and photo:
        with _last_found_lock:  # timed from the find's end: a slow find (a model loading) had its repeats miss
            keep_recent(_last_found, session, (uploaded(photo), time.monotonic(), found), SESSIONS_KEPT)
    return found


def same_photo(one: str | None, other: str | None) -> bool:
    """Whether two uploaded photos' files are one photo: the same path (an upload and a photo handed over as data are
    both kept under a name made from their bytes), or files with the same bytes; no photo is no photo's."""
    if not one or not other:
        return False
    if one == other:
        return True
    try:
        return filecmp.cmp(one, other, shallow=False)
    except OSError:  # one of them is gone (its temporary file deleted): not known to be the same
        return False


def apply_in_tab(photo, renderer, seed, refine, ethnicity, source_age, *scores_found_for_current_and_chosen):
    """Apply as the tab asks for it: `apply`, with last, after the scores, the photo the sliders' zones are of, read in
    the browser with them ("" when none is), the current scores the sliders were last set to (by the zones found, or
    the age typed; null before either) and the scores set by hand (null where none was). Another photo is refused: Apply is disabled while a photo's zones are found,
    but between two photos picked in quick succession it is offered once the first one's are, and an edit waiting in
    the queue meanwhile read the sliders of the one and the photo of the other. A zone whose slider shows the current
    score it was set to is left as it is: with another age typed since the zones were found (the current scores are
    assumed from it) every zone was edited from the new age's score to the one its slider showed. A zone set by hand is
    edited whatever its slider shows (one moved as its zones' scores were being written read as a current score)."""
    *scores, found_for, current, chosen = scores_found_for_current_and_chosen
    if isinstance(current, list) and len(current) == len(scores):
        hand = chosen if isinstance(chosen, list) and len(chosen) == len(scores) else [None] * len(scores)
        scores = [None if score == now and by_hand is None else score for score, now, by_hand in zip(scores, current, hand)]
    if photo and not same_photo(found_for, photo):
        raise gr.Error(
            "This photo's zones are still being found, or could not be found (the note under the zones says which): Apply "
            "once they are outlined, or pick another photo.",
            duration=None,
            print_exception=False,  # a request to wait, not a fault (demos/common.py's user_errors)
        )
    return apply(photo, renderer, seed, refine, ethnicity, source_age, *scores)


def apply(photo, renderer, seed, refine, ethnicity, source_age, *scores):
    """Main action (API `/edit_zones`): photo, renderer, seed, refine, ethnicity, source age, 12 zone scores
    -> before/after photo, before/after face, manifest. A score given as None leaves its zone as it is (a score the
    API's caller leaves out is the slider's default, 0: no lines)."""
    with user_errors():
        image = open_photo(photo)
        with loader_notes_on_refusal(image):
            targets = {zone: score for zone, score in zip(task.ZONES, scores) if score is not None}
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
        notice(gr.Info, "Every zone is at its current score: the photo is unchanged.")
    label = "classical renderer" if renderer == "classical" else "diffusion renderer"
    assert edit.photo is not None  # the tab's edits paste back into the photo
    # the edit's files as the CLI writes them: named after the photo, with their provenance (zones-1.png before, none)
    folder, stem = output_folder("zones"), file_stem(Path(photo).stem)
    photo_before = save_png(image.rgb, folder / f"{stem}_photo_before.png")  # the photo as uploaded
    files = task.save_outputs(edit, folder, stem, overlay=False)  # the tab's overlay is drawn as the zones are found
    return (photo_before, files["photo"]), (files["face_before"], files["face_after"]), {**edit.manifest(), "shown_as": label}


def build() -> None:
    gr.Markdown(renderer_status())
    with gr.Row():
        with gr.Column():
            photo = photo_input()
            gr.Examples(example_portraits(), inputs=photo, label="Public-domain portraits")
            overlay = gr.Image(label="Zones", interactive=False, height=360, format="png")
            note = gr.Markdown()
        with gr.Column():
            # its 50 beside the zones' current scores read as the score Apply would use (it leaves them as they are)
            master = gr.Slider(
                ZONE_SCORE.low,
                ZONE_SCORE.high,
                value=50,
                step=1,
                label="All zones (uniform aging score, %)",
                info="moving it sets every zone below to its score; the zones start at their current scores, which Apply "
                "leaves as they are",
            )
            sliders = [
                SliderField(ZONE_SCORE.low, ZONE_SCORE.high, value=0, step=1, label=zone_name(zone) + " (%)")
                for zone in task.ZONES
            ]
            with gr.Row():
                renderer = RadioField(renderer_choices(), value="classical", label="Renderer")
                seed = NumberField(0, label=f"Seed ({SEED.text()})", precision=0, minimum=SEED.low, maximum=SEED.high)
            with gr.Accordion("More", open=False):
                # the diffusion renderer's own options, offered only where it can run: on a CPU Space a refiner ticked
                # was refused with "choose the diffusion renderer", which is not available there
                diffusion = get_cache().in_profile("zone_diffusion")
                lacking = "" if diffusion else ", not available here"
                refine = gr.Checkbox(
                    False,
                    label=f"Whole-face refiner pass (diffusion renderer{lacking}): {task.refiner_label()}",
                    interactive=diffusion,
                )
                ethnicity = gr.Textbox(
                    label=f"Ethnicity for the diffusion prompt ({'optional' if diffusion else 'not available here'})",
                    interactive=diffusion,
                )
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
    manifest = ExactJSON(label="Manifest (scores, renderer, seed)")
    # The scores set by hand since the photo changed, one per zone (null: not set), kept in the browser: finding the
    # zones takes a round trip of a second or more, and its current scores overwrote what "All zones" or a zone's
    # slider had been set to meanwhile (the master showed 90, the zones their found scores).
    chosen = gr.JSON(None, visible=False)  # null (none set), or a list of 12
    # and the source age typed meanwhile (null: none), which the estimate found with the zones overwrote
    typed_age = gr.JSON(None, visible=False)
    # and the current scores the sliders were last set to, by the zones found or the age typed (null: none yet): a zone
    # whose slider shows its current score is left as it is by Apply, one set otherwise (by hand, "All zones", or its
    # reset button, which `input` does not see) is edited
    shown_current = gr.JSON(None, visible=False)
    photo.change(None, None, [chosen, typed_age, shown_current], js="() => [null, null, null]")
    history = cleared_by_new_photo(photo, [comparison, face, manifest])
    source_age.input(None, source_age, typed_age, js="(age) => [age]")
    # Apply waits for the zones: clicked before they were found, it edited with the sliders' old scores (on a first
    # photo every zone at 0, smoothed away)
    finding = photo.change(lambda: gr.Button(interactive=False), None, go, queue=False, api_visibility="private")
    # the photo whose zones the sliders show (its path, "" when none), kept in the browser so that Apply reads it with
    # the sliders: Apply refuses another photo
    found_for = gr.Textbox("", visible=False)
    # its progress on the outlined face alone (on every slider a refused photo left twelve red "Error" badges where the
    # sliders were). "always_last": a photo picked while the last one's zones are being found is found after them (a
    # step's default, "once", dropped it, and the new photo kept the last one's zones)
    found = finding.then(
        zones_for_tab,
        photo,
        [overlay, note, source_age, *sliders, found_for],
        show_progress_on=overlay,
        trigger_mode="always_last",
        api_visibility="private",
    )
    # then the scores and the source age set by hand meanwhile are put back over the found ones, in the browser (a round
    # trip to write them overwrote a zone moved while it was on its way), and Apply is offered again
    kept = "(chosen, typed, age, ...found) => [typed ?? age, ...found.map((score, zone) => chosen?.[zone] ?? score), found]"
    ready = dict(fn=lambda: gr.Button(interactive=True), inputs=None, outputs=go, queue=False, api_visibility="private")
    found.then(
        None,
        [chosen, typed_age, source_age, *sliders],
        [source_age, *sliders, shown_current],
        js=kept,
        trigger_mode="always_last",
    ).then(**ready)
    found.failure(**ready)  # an internal error (a failed step runs only the `failure` steps after it)
    # an age typed in the box (Enter, or leaving it) sets the zones not set by hand to that age's scores, and the note
    # says so; Apply leaves those zones as they are whether or not this has reached the page yet (`apply_in_tab`)
    at_age = gr.JSON(None, visible=False)
    rescore = (
        "(chosen, found, current, ...shown) => "
        "found ? [...found.map((score, zone) => chosen?.[zone] ?? score), found] : [...shown, current]"
    )
    gr.on(
        [source_age.submit, source_age.blur],
        scores_at_age,
        [photo, source_age, found_for],
        [note, at_age],
        show_progress_on=note,
        trigger_mode="always_last",
        api_visibility="private",
    ).then(None, [chosen, at_age, shown_current, *sliders], [*sliders, shown_current], js=rescore)
    # the API's `/find_zones` and `/edit_zones`, as they were: a refused photo is an error, and no record of which photo
    # the zones were found for is asked for (the tab's own find and Apply keep it)
    api = gr.Button(visible=False)
    api.click(find_zones, photo, [overlay, note, source_age, *sliders], api_name="find_zones")
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
    edit = [photo, renderer, seed, refine, ethnicity, source_age, *sliders]
    cleared_on_run(go, [comparison, face, manifest])  # a refused edit leaves no last edit beside its error
    # the GPU's one slot where the diffusion renderer can run; else a CPU group of its own: in the lifespan and
    # pluralistic tabs' slot, a 1 s classical edit waited behind another visitor's 17-age lifespan (10.9 s against 0.6 s)
    queue, at_once = ("gpu", GPU_CONCURRENCY) if diffusion else (CPU_QUEUE, DEFAULT_CONCURRENCY)
    for trigger, fn, inputs, name in (
        (go, history.shown_while_current(apply_in_tab), [*edit, found_for, shown_current, chosen], None),
        (api, apply, edit, API_NAME),
    ):
        trigger.click(
            fn,
            inputs,
            [comparison, face, manifest],
            api_name=name,
            api_visibility="public" if name else "private",
            concurrency_id=queue,
            concurrency_limit=at_once,
            **main_action(comparison),
        )
