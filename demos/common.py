"""What every tab shares: the image and number inputs, the loader, the engine-error adapter, and the
temporary folder for results."""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from engine.core.errors import InputError, UserError
from engine.core.images import LoadedImage, load_image
from engine.core.limits import WORKING_SIDE, quote
from engine.core.models import ModelUnavailable
from engine.core.provenance import save_png
from engine.core.registry import get_cache
from engine.core.settings import get_settings
from engine.faces.detection import NoFaceError
from engine.tasks.renderers import not_in_profile

logger = logging.getLogger(__name__)


class PhotoInput(gr.Image):
    """gr.Image that hands the uploaded file's path to the engine undecoded.

    The engine's loader then refuses bad files (bombs, truncated files, non-images)
    with a clear message, instead of failing inside Gradio's own decoding.
    """

    is_template = True  # rendered by gr.Image's front end
    history: PhotoHistory  # the photos it holds per session (photo_input)

    def preprocess(self, payload):
        if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
            return str(payload.path)
        return super().preprocess(payload)


class NumberField(gr.Number):
    """gr.Number that hands the value to the tab as it arrived.

    The tab checks it against the table of limits (engine/core/limits.py), so text, NaN, infinity or a
    huge integer sent to the API gets the same message the CLI gives, instead of failing inside Gradio's
    own rounding with a bare "Error".
    """

    is_template = True  # rendered by gr.Number's front end

    def preprocess(self, payload):
        return payload


# the largest whole number a browser's JSON reads exactly (JavaScript's Number.MAX_SAFE_INTEGER, 2^53 - 1)
SAFE_INTEGER = 2**53 - 1


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def exact_in_a_browser(value: Any) -> Any:
    """`value` with every whole number a browser would round (beyond SAFE_INTEGER) given as its digits (a string), and
    with it every whole number of the same list (a list of seeds, one of them under 2^53, was strings and a number)."""
    if isinstance(value, dict):
        return {key: exact_in_a_browser(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        if any(_whole(item) and abs(item) > SAFE_INTEGER for item in value):
            return [str(item) if _whole(item) else exact_in_a_browser(item) for item in value]
        return [exact_in_a_browser(item) for item in value]
    if _whole(value) and abs(value) > SAFE_INTEGER:
        return str(value)
    return value


class ExactJSON(gr.JSON):
    """gr.JSON whose whole numbers a browser would round are sent as their digits: a manifest's 56-bit seeds
    (cradle2cane/seeds.py) showed rounded on the page (48801411607663290 for ...291), and its copy button copied that.
    The manifests written to files keep them as numbers."""

    is_template = True  # rendered by gr.JSON's front end

    def postprocess(self, value):
        return super().postprocess(exact_in_a_browser(value))


class SliderField(gr.Slider):
    """gr.Slider that hands the value to the tab as it arrived (see NumberField)."""

    is_template = True  # rendered by gr.Slider's front end

    def preprocess(self, payload):
        return payload


def _refused_choice(
    component: gr.Radio | gr.CheckboxGroup | gr.Dropdown, payload, rule: str, accepted: list | None = None
) -> gr.Error:
    """A value outside a choice component's choices, refused in words: the value named, the choices listed (`rule`: "one
    of" or "a list of some of"), and logged in one line. Gradio's own refusal printed a traceback of about 25 lines to
    the server's log for each such request sent to the API (a cheap way to fill it), and named one letter of a text
    sent for a list ("Value: 'A' is not in the list of choices")."""
    name = (component.label or "the choice").split(" (")[0]  # the label less its parenthesis
    values = accepted if accepted is not None else [value for _, value in component.choices]
    message = f"{name} must be {rule} {values}, got {quote(payload)}"
    logger.info("refused: %s", message)
    return gr.Error(message, duration=None, print_exception=False)


def _worded(base: type[gr.Radio | gr.CheckboxGroup | gr.Dropdown], rule: str) -> Callable:
    """A choice component's `preprocess`: `base`'s, its refusal said in words (`_refused_choice`, with `rule`); a list's
    value that is not a list (None, a number, a dict), and a radio's that is none, refused before `base` reads it
    (iterating one raised a TypeError, printed as a traceback; a dict of choices passed as one; a radio left unset was
    read as its first meaning)."""

    def preprocess(self, payload):
        if (rule == LIST_RULE and not isinstance(payload, list)) or (base is gr.Radio and payload is None):
            raise _refused_choice(self, payload, rule)
        accepted = getattr(self, "accepted", None)  # the values the API takes, where the page shows some of them
        if accepted is not None:
            if all(value in accepted for value in (payload if rule == LIST_RULE else [payload])):
                return payload
            raise _refused_choice(self, payload, rule, accepted)
        try:
            return base.preprocess(self, payload)
        except (gr.Error, TypeError):
            raise _refused_choice(self, payload, rule) from None

    return preprocess


LIST_RULE = "a list of some of"


class RadioField(gr.Radio):
    is_template = True  # rendered by gr.Radio's front end
    preprocess = _worded(gr.Radio, "one of")


class CheckboxGroupField(gr.CheckboxGroup):
    is_template = True  # rendered by gr.CheckboxGroup's front end
    accepted: list | None = None  # the values the API takes, where the page shows some of them (its choices otherwise)
    preprocess = _worded(gr.CheckboxGroup, LIST_RULE)


class DropdownField(gr.Dropdown):
    is_template = True  # rendered by gr.Dropdown's front end
    preprocess = _worded(gr.Dropdown, "one of")


def photo_input(label: str = "Photo", visible: bool = True) -> PhotoInput:
    """A tab's photo box, with the record of the photos it holds per session (`history`, PhotoHistory) and the PNG it
    is handed of a photo the browser cannot show (`shown_in_browser`)."""
    photo = PhotoInput(label=label, type="filepath", sources=["upload", "webcam", "clipboard"], height=360, visible=visible)
    history = photo.history = PhotoHistory()

    def held(path: str | None, request: gr.Request) -> None:
        history.note(request, path)

    photo.change(held, photo, None, queue=False, api_visibility="private")

    def for_browser(path: str | None, request: gr.Request):
        copy = shown_in_browser(path)
        if isinstance(copy, str) and history.replaced(request, path):  # another photo came while it was made
            return gr.skip()
        return copy

    # queued one at a time (a copy decodes the photo whole, up to the pixel limit: 120 MB of RGB, and encodes it); an
    # upload made while one waits is copied after it ("once" left it a broken image)
    photo.upload(
        for_browser,
        photo,
        photo,
        concurrency_limit=1,
        concurrency_id="browser-copy",
        trigger_mode="always_last",
        show_progress="hidden",
        api_visibility="private",
    )
    return photo


# The formats (Pillow's names) a browser shows in an image box. A photo in another that Pillow reads (PPM, TIFF, TGA, ...)
# showed as a broken image, as if the upload had failed, though every tab reads it.
SHOWN_BY_BROWSERS = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "ICO"})


def shown_in_browser(path: str | None):
    """An uploaded photo the browser cannot show, as a PNG of the same pixels (its name's stem kept), which it can, and
    which the tab then reads; any other upload as it is (`gr.skip()`). A file that is no image, or that the loader
    refuses, is left as it is too, for the tab's action to refuse with its message; so is one the loader changes as it
    reads it (only an animation's first frame, transparency flattened: the note is said when the tab reads it)."""
    if not path:
        return gr.skip()
    try:
        with Image.open(path) as image:
            shown = image.format in SHOWN_BY_BROWSERS
    except (OSError, ValueError, Image.DecompressionBombError):  # not an image Pillow knows
        return gr.skip()
    if shown:
        return gr.skip()
    settings = get_settings()
    try:
        loaded = load_image(path, max_pixels=settings.max_pixels, min_side=settings.min_side, name=Path(path).name)
    except UserError:
        return gr.skip()
    if loaded.warnings:
        return gr.skip()
    logger.info("an upload the browser cannot show (%s) given to it as a PNG", Path(path).suffix or "no extension")
    copy = save_png(loaded.rgb, output_folder("photos") / f"{Path(path).stem}.png")
    digest = _file_digest(copy)
    with _browser_copies_lock:
        keep_recent(_browser_copies, digest, path, PhotoHistory.SESSIONS)
        keep_recent(_copy_names, Path(copy).name, None, PhotoHistory.SESSIONS)
    return copy


def keep_recent(store: OrderedDict, key, value, limit: int) -> None:
    """`store[key] = value` as its most recent entry, the least recent dropped past `limit` entries (the caller holds
    the store's lock)."""
    store.pop(key, None)
    store[key] = value
    while len(store) > limit:
        store.popitem(last=False)


# Each PNG made for the browser, by its bytes' digest, with the upload it was made from: one photo (PhotoHistory), so
# that a request sent with the upload, between the two, is not taken for one of a photo replaced since. By its bytes:
# Gradio hands the copy back from its own cache, under another folder (its name kept, which `_copy_names` holds)
_browser_copies: OrderedDict[str, str] = OrderedDict()
_copy_names: OrderedDict[str, None] = OrderedDict()
_browser_copies_lock = threading.Lock()


def _file_digest(path: str) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def uploaded(path: str | None) -> str | None:
    """The photo the user uploaded: for a PNG made for the browser (`shown_in_browser`), wherever Gradio keeps it, the
    upload it was made from; any other path itself."""
    if path is None:
        return None
    with _browser_copies_lock:
        if Path(path).name not in _copy_names:  # not one of the copies' names: no file read
            return path
    try:
        digest = _file_digest(path)
    except OSError:  # gone (its temporary file deleted): not known to be a copy
        return path
    with _browser_copies_lock:
        return _browser_copies.get(digest, path)


INTERNAL_ERROR = (
    "Internal error (logged): this is a bug in the hub, not a problem with your photo or settings. "
    "Try again; if it happens again, report it with the time it happened."
)


@contextmanager
def user_errors():
    """Errors by type, as the user sees them: bad input (UserError) as its own message, a missing model
    (ModelUnavailable) as such; anything else is a bug: logged with its traceback, shown as an internal error."""
    # Gradio prints the traceback of every error a tab raises unless told not to: a refused input wrote two tracebacks
    # (about 50 lines each) to the server's log, so a visitor could fill it cheaply. A refusal is logged in one line; an
    # internal error's traceback once, by this logger
    try:
        yield
    except gr.Error:
        raise
    except UserError as error:
        logger.info("refused: %s", error)
        raise gr.Error(str(error), duration=None, print_exception=False) from error  # kept until closed: it says what to do
    except ModelUnavailable as error:
        logger.info("model unavailable: %s", error)
        raise gr.Error(f"A model this tab needs is not available: {error}", duration=None, print_exception=False) from error
    except Exception as error:
        logger.exception("internal error in a tab (%s: %s)", type(error).__name__, error)
        raise gr.Error(INTERNAL_ERROR, duration=None, print_exception=False) from error


def guarded(fn):
    """`fn` run inside user_errors, whatever kind of function it is (plain, generator, coroutine)."""
    wrapper = _guarded(fn)
    wrapper.guarded = True
    return wrapper


def _guarded(fn):
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args, **kwargs):
            with user_errors():
                return await fn(*args, **kwargs)

        return run_async
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def run_generator(*args, **kwargs):
            with user_errors():
                yield from fn(*args, **kwargs)

        return run_generator
    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def run_async_generator(*args, **kwargs):
            with user_errors():
                async for item in fn(*args, **kwargs):
                    yield item

        return run_async_generator

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with user_errors():
            return fn(*args, **kwargs)

    return run


def guard_events(demo: gr.Blocks) -> None:
    """Every event of the page (every tab's, formatting included) runs inside user_errors, so no exception
    reaches the user as Gradio's bare "Error": bad input shows its message, a bug is logged with its
    traceback and shown as an internal error."""
    for block_fn in demo.fns.values():
        if block_fn.fn is not None and not getattr(block_fn.fn, "guarded", False):
            block_fn.fn = guarded(block_fn.fn)


def open_photo(path: str | None) -> LoadedImage:
    """The uploaded photo, downscaled to the working size (engine/core/limits.py) while it is decoded."""
    if not path:
        raise InputError("No photo: upload one, take one with the webcam, or pick an example.")
    settings = get_settings()
    image = load_image(
        path, max_pixels=settings.max_pixels, min_side=settings.min_side, name=Path(path).name, working_side=WORKING_SIDE
    )
    warn(image.warnings)
    if image.note:
        notice(gr.Info, image.note)
    return image


@contextmanager
def loader_notes_on_refusal(*images: LoadedImage | None):
    """A refusal for want of a face names what the loader did to the photos (only an animation's first frame read,
    transparency flattened onto white), which may be why no face was found: the tab warned of it as each photo opened,
    which a caller of the API never sees."""
    try:
        yield
    except NoFaceError as error:
        notes = [note for image in images if image is not None for note in image.warnings]
        if not notes:
            raise
        raise NoFaceError(f"{error} {' '.join(notes)}") from error


@dataclass
class _Session:
    photos: list[str | None] = field(default_factory=list)  # the last PhotoHistory.PHOTOS, oldest first
    changes: int = 0  # photos held since the session began
    # the inputs whose results were last made (a digest), `changes` then, when they were made (time.monotonic), and the
    # results themselves (sent again for a repeat: the click that asked again had emptied the page, `cleared_on_run`)
    shown: tuple[str, int, float, Any] | None = None


class PhotoHistory:
    """For each browser session, the last photos a tab's photo input has held (their paths, oldest first), so that the
    results of a request still running when another photo came are not shown beside it as if they were its own; and
    the inputs of the last request made, so that a double click's second request is not made again.

    Only what the input held is compared: a request for a photo this history has not seen yet (picked and sent at
    once, its change on its way) is never taken for an old one, and a session with no history (an API caller) keeps
    every result."""

    SESSIONS = 4096  # kept at most, the longest unused dropped first: a few hundred bytes each
    PHOTOS = 8  # per session
    # A request with the inputs of the last one made within this many seconds is not made again: a double click's second
    # request starts as soon as the first ends
    REPEAT_SECONDS = 3.0

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, request: gr.Request | None, photo: str | None) -> None:
        session = getattr(request, "session_hash", None)
        if session is None:
            return
        with self._lock:
            record = self._sessions.get(session) or _Session()
            record.photos = [*record.photos, photo][-self.PHOTOS :]
            record.changes += 1
            keep_recent(self._sessions, session, record, self.SESSIONS)

    def replaced(self, request: gr.Request | None, photo: str | None) -> bool:
        """Whether the input held `photo` and has held another one since (a different path: an upload and an example
        are kept under a name made from their bytes, so the same photo picked again is the same path; a PNG made for
        the browser is the upload it was made from)."""
        record = self._record(request)
        held = [uploaded(seen) for seen in record.photos] if record is not None else []
        photo = uploaded(photo)
        return bool(held) and photo is not None and held[-1] != photo and photo in held[:-1]

    def _repeated(self, request: gr.Request | None, inputs: str) -> tuple[Any] | None:
        """The results of `inputs` (in a 1-tuple) where they were made for this session within REPEAT_SECONDS, no photo
        held since: a second click while they were made, taken once they were (`main_action`); else None. Later, the
        same inputs are made again: the page may have lost them (a dropped connection, files deleted after an hour)."""
        record = self._record(request)
        if (
            record is not None
            and record.shown is not None
            and record.shown[:2] == (inputs, record.changes)
            and time.monotonic() - record.shown[2] <= self.REPEAT_SECONDS
        ):
            return (record.shown[3],)
        return None

    def _made(self, request: gr.Request | None, inputs: str, results: Any) -> None:
        """Note that `results` of `inputs` were made now (a session with no history, an API caller, is never noted)."""
        record = self._record(request)
        if record is not None:
            record.shown = (inputs, record.changes, time.monotonic(), results)

    def _record(self, request: gr.Request | None) -> _Session | None:
        session = getattr(request, "session_hash", None)
        with self._lock:
            return self._sessions.get(session) if session is not None else None

    def shown_while_current(self, fn: Callable) -> Callable:
        """`fn`, a tab's main action whose first input is the photo, with its results (or its refusal) dropped when
        another photo has replaced that one by the time they are ready: the new photo cleared the outputs, which stay
        clear. A request with the inputs of one just made (a second click while it ran, which `main_action` runs once
        it ends: `_repeated`) is not made again: the results just made are sent again (the click emptied the page,
        `cleared_on_run`; left as they were, a tab stood empty). Gradio hands the
        browser session in as the first argument (a `gr.Request` parameter); `fn` keeps its signature otherwise, so
        the API's parameter names are unchanged."""

        def run(request: gr.Request, *args):
            photo = args[0] if args else None
            inputs = hashlib.sha256(repr(args).encode()).hexdigest()
            if (repeat := self._repeated(request, inputs)) is not None:
                logger.info("the results of these inputs were just made: sent again, not made again")
                return repeat[0]
            # its notices (warnings, information) wait for the results and go with them: sent as made, a group photo's
            # eight warnings popped up beside the portrait that had replaced it
            with held_notices() as notices:
                try:
                    result = fn(*args)
                except gr.Error:
                    if self.replaced(request, photo):
                        logger.info("a refusal for a photo replaced meanwhile was not shown")
                        return gr.skip()
                    show_notices(notices)
                    raise
            if self.replaced(request, photo):
                logger.info("results for a photo replaced meanwhile were not shown")
                return gr.skip()  # every output left as it is
            show_notices(notices)
            self._made(request, inputs, result)
            return result

        functools.update_wrapper(run, fn)
        session = inspect.Parameter("request", inspect.Parameter.POSITIONAL_ONLY, annotation=gr.Request)
        run.__signature__ = inspect.signature(fn).replace(  # type: ignore[attr-defined]
            parameters=[session, *inspect.signature(fn).parameters.values()]
        )
        run.__annotations__ = {**fn.__annotations__, "request": gr.Request}
        return run


def main_action(first_output: gr.components.Component) -> dict:
    """How a tab's main action is taken (keyword arguments of its click):
    - clicked while its last request still runs, it runs once that one ends, with the inputs as they are then. A new
      photo hides the running request's progress (its outputs are cleared), and Gradio's default for a click, "once",
      dropped a click made meanwhile: nothing happened, and nothing said why;
    - its progress, and a refusal's "Error" badge, show on `first_output` alone: on every output, one click without a
      photo put red badges on four boxes of the age tab and eight of the lifespan tab, beside the notice that says
      what to do."""
    return {"trigger_mode": "always_last", "show_progress_on": first_output}


def cleared_by_new_photo(photo: PhotoInput, results: list[gr.components.Component]) -> PhotoHistory:
    """A new photo in `photo` (uploaded, picked from the examples, or cleared) empties the `results` shown for the last
    one: they stayed beside it, the source age "used" included, as if they were the new photo's. The box's history,
    returned, drops the results of a request for the last photo still running then (`shown_while_current`): they were
    written beside the new photo once ready."""
    photo.change(lambda: tuple(None for _ in results), None, results, queue=False, api_visibility="private")
    return photo.history


# closes the notices shown (Gradio's toasts: an error stays until closed, as it says what to do)
CLOSE_NOTICES = "document.querySelectorAll('[data-testid=\"toast-close\"]').forEach((close) => close.click());"


def cleared_on_run(button: gr.Button, results: list[gr.components.Component]) -> None:
    """A click on `button` empties the `results` shown for the last request at once, in the browser (no request to the
    server), and closes the last request's notices: a refused request left the last one's results beside its error,
    its GIF and MP4 to download among them, as if they were the new request's, and the errors of requests since put
    right stayed over the new results ("Error (3)")."""
    blank = "[" + ", ".join("null" for _ in results) + "]"
    button.click(None, None, results, js=f"() => {{ {CLOSE_NOTICES} return {blank}; }}", queue=False, api_visibility="private")


# what CommonMark reads as markup: a submitter's text (a claim's protocol names) shown in a Markdown status as written
MARKDOWN_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def literal_markdown(text: str) -> str:
    """`text` shown as written inside Markdown: every markup character escaped with a backslash."""
    return MARKDOWN_MARKUP.sub(r"\\\1", text)


# the notices of a main action still running (`PhotoHistory.shown_while_current`), per thread: None outside one
_held = threading.local()


@contextmanager
def held_notices():
    """Within it, `notice` keeps this thread's notices in the list it yields instead of sending them."""
    notices: list[tuple[Callable[[str], Any], str]] = []
    outer = getattr(_held, "notices", None)
    _held.notices = notices
    try:
        yield notices
    finally:
        _held.notices = outer


def notice(kind: Callable[[str], Any], message: str) -> None:
    """Show `message` as `kind` (gr.Warning or gr.Info), or keep it for its results where a main action runs."""
    held = getattr(_held, "notices", None)
    if held is None:
        kind(message)
    else:
        held.append((kind, message))


def show_notices(notices: list[tuple[Callable[[str], Any], str]]) -> None:
    for kind, message in notices:
        kind(message)


def warn(messages: list[str]) -> None:
    for message in messages:
        notice(gr.Warning, message)


def warn_results(messages: list[str]) -> None:
    """A result's warnings, less the classical renderer's fallback note where the profile has no Cradle2Cane: the tab's
    banner says that once (the manifest keeps it with the result)."""
    warn([message for message in messages if not message.startswith(not_in_profile(get_cache().settings.profile))])


TEST_PROFILE_BANNER = "**Test profile**: random tiny models draw noise here. These images are not results."


def banner(text: str) -> None:
    """A Markdown line above a tab's controls, shown only when there is something to say."""
    gr.Markdown(text, visible=bool(text))


# Results a tab writes as files (the lifespan strip, GIF and MP4) go to one folder per request under a
# folder of this process; they are deleted on the schedule that deletes Gradio's own copies and uploads
# (app.py), and all of them when the server stops.
_outputs: Path | None = None
_outputs_lock = threading.Lock()


def outputs_root() -> Path:
    global _outputs
    with _outputs_lock:
        if _outputs is None or not _outputs.is_dir():
            _outputs = Path(tempfile.mkdtemp(prefix="face-aging-hub-"))
        return _outputs


def output_folder(kind: str) -> Path:
    """A new folder for one request's files."""
    return Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=outputs_root()))


def image_files(kind: str, *images: np.ndarray) -> list[str]:
    """Each image written as a PNG into a new folder of this request; their paths, in order.

    Tabs hand Gradio files, not arrays: Gradio caches an array under the hash of its bytes and
    rewrites that file in place, so two requests with the same result (two visitors trying the same
    example) would have one rewrite the file while the other's client downloads it, which cuts the
    download short. A file is copied into Gradio's cache under a temporary name and renamed."""
    folder = output_folder(kind)
    paths = []
    for number, rgb in enumerate(images):
        paths.append(save_png(rgb, folder / f"{kind}-{number}.png"))
    return paths


def delete_outputs(older_than_s: float | None) -> int:
    """Delete the request folders last written more than `older_than_s` seconds ago (None: all, and the
    process's folder itself); the number of request folders deleted."""
    with _outputs_lock:
        root = _outputs
    if root is None or not root.is_dir():
        return 0
    now = time.time()
    deleted = 0
    for folder in root.iterdir():
        try:
            newest = max([folder.stat().st_mtime] + [f.stat().st_mtime for f in folder.rglob("*")])
        except FileNotFoundError:
            continue
        if older_than_s is None or now - newest > older_than_s:
            shutil.rmtree(folder, ignore_errors=True)
            deleted += 1
    if older_than_s is None:
        shutil.rmtree(root, ignore_errors=True)
    return deleted
