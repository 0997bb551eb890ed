"""What every tab shares: the image input, the loader, and the engine-error adapter."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import gradio as gr

from engine.core.errors import InputError, UserError
from engine.core.images import LoadedImage, load_image
from engine.core.models import ModelUnavailable
from engine.core.settings import get_settings

logger = logging.getLogger(__name__)


class PhotoInput(gr.Image):
    """gr.Image that hands the uploaded file's path to the engine undecoded.

    The engine's loader then refuses bad files (bombs, truncated files, non-images)
    with a clear message, instead of failing inside Gradio's own decoding.
    """

    is_template = True  # rendered by gr.Image's front end

    def preprocess(self, payload):
        if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
            return str(payload.path)
        return super().preprocess(payload)


def photo_input(label: str = "Photo") -> PhotoInput:
    return PhotoInput(label=label, type="filepath", sources=["upload", "webcam", "clipboard"], height=360)


INTERNAL_ERROR = (
    "Internal error (logged): this is a bug in the hub, not a problem with your photo or settings. "
    "Try again; if it happens again, report it with the time it happened."
)


@contextmanager
def user_errors():
    """Errors by type, as the user sees them: bad input (UserError) as its own message, a missing model
    (ModelUnavailable) as such; anything else is a bug: logged with its traceback, shown as an internal error."""
    try:
        yield
    except gr.Error:
        raise
    except UserError as error:
        raise gr.Error(str(error)) from error
    except ModelUnavailable as error:
        raise gr.Error(f"A model this tab needs is not available: {error}") from error
    except Exception as error:
        logger.exception("internal error in a tab (%s: %s)", type(error).__name__, error)
        raise gr.Error(INTERNAL_ERROR) from error


def open_photo(path: str | None) -> LoadedImage:
    if not path:
        raise InputError("No photo: upload one, take one with the webcam, or pick an example.")
    settings = get_settings()
    image = load_image(path, max_pixels=settings.max_pixels, min_side=settings.min_side, name=Path(path).name)
    warn(image.warnings)
    return image


def warn(messages: list[str]) -> None:
    for message in messages:
        gr.Warning(message)


TEST_PROFILE_BANNER = "**Test profile**: random tiny models draw noise here. These images are not results."


def banner(text: str) -> None:
    """A Markdown line above a tab's controls, shown only when there is something to say."""
    gr.Markdown(text, visible=bool(text))
