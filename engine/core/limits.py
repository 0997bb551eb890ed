"""Every limit a user can meet, declared once with its reason.

The tabs (slider ranges, labels, messages), the command line (help text, checks), the
API (the same checks on every request) and the app (queue, uploads, temporary files)
read these, so every message states the same range. Settings that an operator may move
(`HUB_MAX_PIXELS`, `HUB_MAX_UPLOAD_MB`, `HUB_TEMP_KEEP_S`, `HUB_TEMP_CHECK_S`) take their
defaults from here (engine/core/settings.py).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from engine.core.errors import InputError


def quote(value) -> str:
    """A bad value as a message quotes it: short text whole, long text cut, a huge integer by its size."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(int(value)) >= 10**30:
        return f"an integer of {len(str(abs(int(value)))) if int(value).bit_length() < 14000 else 'over 4000'} digits"
    if value is None:  # a number box emptied, or a value left out: "got None" named Python's word for it
        return "no value"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: float) -> str:
    """2**32 - 1 as 4294967295, not 4.29497e+09; 0.5 as 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Range:
    """A closed range of numbers a user may give; `check` turns anything else into an InputError."""

    low: float
    high: float
    whole: bool = False  # whole numbers only (seeds, counts)
    unit: str = ""  # as a message writes it after the number: " %"
    noun: str = ""  # what a value is, for messages: "an age"

    def text(self) -> str:
        """The range as every label writes it, e.g. "0-80"."""
        return f"{_number(self.low)}-{_number(self.high)}{self.unit}"

    def between(self) -> str:
        """The range as every message writes it, e.g. "between 0 and 80"."""
        return f"between {_number(self.low)} and {_number(self.high)}{self.unit}"

    def describe(self, name: str) -> str:
        """The rule as every message states it, e.g. "target age must be an age between 0 and 80"."""
        if self.whole:
            return f"{name} must be a whole number from {_number(self.low)} to {_number(self.high)}{self.unit}"
        return f"{name} must be {self.noun + ' ' if self.noun else ''}{self.between()}"

    def check(self, value, name: str) -> float:
        """`value` as a float inside the range; a bool, text, NaN, infinity or out-of-range number is refused.

        Text is refused rather than parsed: a number field that sends text is a client bug or an attack,
        and the message shows what arrived.
        """
        valid = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if valid and isinstance(value, numbers.Integral):
            valid = self.low <= int(value) <= self.high  # exact for an integer of any size
        elif valid:
            valid = math.isfinite(value) and self.low <= value <= self.high and (not self.whole or float(value).is_integer())
        if not valid:
            raise InputError(f"{self.describe(name)}, got {quote(value)}")
        return float(value) + 0.0  # -0 is 0: kept, it labelled a face "-0 y" and named its file "-0_face.png"


# Ages: the offline age estimator's distribution has 81 classes, ages 0-80 (engine/age/estimators.py), and
# the released Cradle2Cane training config samples ages up to max_age 80; no method here covers older.
AGE = Range(0, 80, noun="an age")
# Seeds: 32 bits is the widest range every seeded library here takes (numpy's legacy RandomState,
# OpenCV's RNG; torch takes 64 bits) and a browser number field holds it exactly (2^53).
SEED = Range(0, 2**32 - 1, whole=True)
# Interval confidence in the tab (%): a calibration artefact holds quantiles for 0.50-0.99
# (engine/age/calibration.py); the engine itself takes any confidence strictly between 0 and 1.
CONFIDENCE_PERCENT = Range(50, 99, unit=" %")
# Pluralistic futures per request: at least 2, so that diversity (a mean over pairs) is defined; at most 8,
# the range the tab has always offered (all samples run as one batch, so this bounds one request's work).
SAMPLES = Range(2, 8, whole=True)
# PAE sampling intensity (the sigma of e_age, or the scale of a learned sigma): the range the tab has
# always offered; a value outside it is refused, never clamped.
INTENSITY = Range(0, 2)
# Zone aging scores (%), as LDLA's ScoreNet and its prompts define them.
ZONE_SCORE = Range(0, 100, unit=" %")
# Lifespan targets per request: one every 5 years from 0 to 80 is 17, more than any strip shows usefully;
# a longer list only queues work in front of other users.
MAX_TARGETS = 17
# Words a request adds to a diffusion prompt (the lifespan's extra attribute, the zones' ethnicity): a few words; CLIP
# reads 77 tokens of a whole prompt, so a longer text is cut by the tokenizer, and one echoed back in a warning was a
# 100 KB notice
PROMPT_WORDS_CHARS = 100
# Faces aged per request when every face of a group photo is asked for: the chosen face and the largest others up to
# this many. Faces times targets is the request's work, which waits in one queue with everyone's: a photo of 64 tiled
# faces at 17 targets held it for 110 s at 2.4 GB; 8 faces is a family photo, about 8 single-face strips of work.
MAX_FACES_AGED = 8

# Photos. Refused before decoding above this many pixels (the header is read, nothing is decoded):
# 40 MP holds every current phone and most camera sensors; a decoded 40 MP RGB photo is 120 MB.
MAX_PIXELS = 40_000_000
# Refused below this side (px): YuNet finds no face in less.
MIN_SIDE = 16
# Working size: photos are downscaled at decode time so that their longer side is at most this (px).
# The largest model input is a 512 px aligned face (Cradle2Cane's SDXL-Turbo at 512, FFHQ alignment,
# engine/faces/alignment.py); at 2048 px a face a quarter of the photo wide still gets 512 real pixels.
WORKING_SIDE = 2048

# Uploads (any file, refused by the server before it is stored): the largest file any tab takes is a zip
# of leaderboard outputs, whose own cap (leaderboard/archive.py ArchiveLimits.zip_bytes) must not exceed this.
MAX_UPLOAD_BYTES = 200 * 2**20

# The request queue. At most this many requests wait; one more is refused at once with "queue full"
# instead of waiting behind work it cannot see (20 concurrent users, as the concurrency benchmark
# sends, plus room for the slower tabs' queue).
QUEUE_MAX_SIZE = 64
# Events that run at once per event unless a tab says otherwise: the CPU tabs share the 2 cores of a
# basic Space; the age tab takes 4 (it is light, ~0.1 s a photo); GPU work runs one at a time.
DEFAULT_CONCURRENCY = 2
AGE_CONCURRENCY = 4
GPU_CONCURRENCY = 1

# Temporary files (uploads, and the images, GIFs and videos made for a request) are deleted once they
# are older than TEMP_KEEP_S, checked every TEMP_CHECK_S; all of them when the server stops. An hour is
# time enough to download a result; nothing is kept longer.
TEMP_KEEP_S = 3600
TEMP_CHECK_S = 600


def megabytes(size: int) -> str:
    """A byte count as messages write it: whole MB when that is exact, else one decimal rounded up, so a
    size over a limit never reads as equal to it ("200.1 MB; the limit is 200 MB"); under 1 MB in KB, and
    under 1 KB in bytes, by the same rule."""
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value.is_integer() else f"{math.ceil(value * 10) / 10:.1f} {unit}"
    return f"{size} bytes"


def duration(seconds: float) -> str:
    """Seconds as the privacy statement writes them: "1 hour 10 minutes", "90 seconds"."""
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    hours, minutes = divmod(round(seconds / 60), 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    parts += [f"{minutes} minute{'s' if minutes != 1 else ''}"] if minutes else []
    return " ".join(parts)
