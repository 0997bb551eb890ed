"""What every tab shares: the image input, the loader, and the engine-error adapter."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import gradio as gr

from engine.core.images import InputError, LoadedImage, load_image
from engine.core.models import ModelUnavailable
from engine.core.settings import get_settings
from engine.faces.detection import NoFaceError

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


@contextmanager
def user_errors():
    """Engine errors become gr.Error with what the user can do; nothing else is swallowed."""
    try:
        yield
    except (InputError, NoFaceError) as error:
        raise gr.Error(str(error)) from error
    except ModelUnavailable as error:
        raise gr.Error(f"A model this tab needs is not available: {error}") from error
    except ValueError as error:
        raise gr.Error(str(error)) from error


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
