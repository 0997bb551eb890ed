"""A VLM judge through any OpenAI-compatible endpoint, with the lifespan paper's three prompts (appendix C.2).

It never imputes: a reply that does not parse strictly, or a request that still
fails after its retries, is recorded as missing and counted. Replies are cached by
(image hash, prompt, model). 429 and 5xx answers, timeouts and connection errors are
retried with exponential backoff; at most `concurrency` requests run at once.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from engine.core.errors import UserError
from engine.core.files import atomic_write_text
from engine.core.settings import Settings

logger = logging.getLogger(__name__)


# Appendix C.2 of the lifespan paper: the protocol's prompts, verbatim, so scores are comparable.
PROMPTS = {
    "age": "Please detect the age of the person in the image and return in the following format: age:{age}.",
    "quality": "Please evaluate image quality of the face image and provide a quality score (0–100), and return in "
    "the following format: quality:{quality_score}.",
    "identity": "Please evaluate if the individuals in these two images are the same person based solely on facial "
    "structure, ignoring factors such as style, lighting, age, or background. Provide a score between 1 (completely "
    "different) and 100 (completely identical), and return in the following format: similarity:{similarity_score}.",
}

KEYS = {"age": "age", "quality": "quality", "identity": "similarity"}

RANGES = {"age": (0.0, 120.0), "quality": (0.0, 100.0), "identity": (1.0, 100.0)}


def parse(kind: str, reply: str | None) -> float | None:
    """The number in a reply that is exactly `key:{number}` (case, spaces and a final period allowed); else None."""
    if reply is None:
        return None
    match = re.fullmatch(rf"\s*{KEYS[kind]}\s*:\s*(\d+(?:\.\d+)?)\s*\.?\s*", reply, flags=re.IGNORECASE)
    if match is None:
        return None
    value = float(match.group(1))
    low, high = RANGES[kind]
    return value if low <= value <= high else None


def _data_uri(image: np.ndarray) -> tuple[str, str]:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    raw = buffer.getvalue()
    return "data:image/png;base64," + base64.b64encode(raw).decode(), hashlib.sha256(raw).hexdigest()


@dataclass
class JudgeStats:
    requests: int = 0
    retries: int = 0
    cached: int = 0
    missing: dict = field(default_factory=lambda: {"unparsed": 0, "failed": 0})


class Judge:
    def __init__(
        self,
        base_url: str | None,
        model: str | None,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        concurrency: int = 4,
        cache_path: Path | None = None,
    ):
        from openai import OpenAI  # noqa: PLC0415 - openai loads only when the VLM judge is configured

        if not model or not (base_url or api_key):
            raise UserError(
                "the judge needs a model (HUB_JUDGE_MODEL) and a base URL (HUB_JUDGE_BASE_URL or OPENAI_BASE_URL) "
                "or a key for the default endpoint (HUB_JUDGE_API_KEY or OPENAI_API_KEY)"
            )
        self.model = model
        self.client = OpenAI(base_url=base_url, api_key=api_key or "unused", timeout=timeout, max_retries=0)
        self.max_retries, self.backoff = max_retries, backoff
        self.stats = JudgeStats()
        self._slots = threading.Semaphore(concurrency)
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.concurrency = concurrency
        self.cache_path = cache_path
        self._cache: dict[str, str | None] = json.loads(cache_path.read_text()) if cache_path and cache_path.is_file() else {}

    @classmethod
    def from_settings(cls, settings: Settings, store_dir: Path) -> Judge:
        """The judge the settings configure, caching its replies in `store_dir`."""
        return cls(
            settings.judge_base_url,
            settings.judge_model,
            settings.judge_api_key,
            cache_path=Path(store_dir) / "judge_cache.json",
        )

    def _complete(self, content: list[dict]) -> str | None:
        """The reply text, or None when every attempt failed (429, 5xx, timeout, connection)."""
        import openai  # noqa: PLC0415 - openai loads only when the VLM judge is configured

        messages: list = [{"role": "user", "content": content}]  # the documented message shape, as plain dicts
        for attempt in range(self.max_retries + 1):
            try:
                with self._slots:
                    with self._lock:
                        self.stats.requests += 1
                    response = self.client.chat.completions.create(model=self.model, messages=messages, temperature=0)
                return response.choices[0].message.content
            except (
                openai.RateLimitError,
                openai.APITimeoutError,
                openai.APIConnectionError,
                openai.InternalServerError,
            ) as error:
                reason = type(error).__name__
            except openai.APIStatusError as error:
                if error.status_code < 500:
                    logger.warning("judge refused the request (%s): not retried", error.status_code)
                    return None
                reason = f"HTTP {error.status_code}"
            if attempt < self.max_retries:
                with self._lock:
                    self.stats.retries += 1
                logger.info("judge %s; retry %d in %.2fs", reason, attempt + 1, self.backoff * 2**attempt)
                time.sleep(self.backoff * 2**attempt)
        return None

    def ask(self, kind: str, image: np.ndarray, reference: np.ndarray | None = None) -> float | None:
        """One score, or None (missing). `identity` needs the reference (source) image."""
        if kind not in PROMPTS:
            raise ValueError(f"judge question must be one of {sorted(PROMPTS)}, got {kind!r}")
        if (kind == "identity") != (reference is not None):
            raise ValueError("the identity question needs a reference image; the others take none")
        uri, digest = _data_uri(image)
        content: list[dict] = [{"type": "text", "text": PROMPTS[kind]}]
        if reference is not None:
            reference_uri, reference_digest = _data_uri(reference)
            digest = f"{reference_digest}+{digest}"
            content.append({"type": "image_url", "image_url": {"url": reference_uri}})
        content.append({"type": "image_url", "image_url": {"url": uri}})
        key = json.dumps([digest, PROMPTS[kind], self.model])
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # the same question asked twice at once is sent once
            with self._lock:
                cached = key in self._cache
                if cached:
                    self.stats.cached += 1
                    reply = self._cache[key]
            if not cached:
                reply = self._complete(content)
                if reply is not None:
                    with self._lock:
                        self._cache[key] = reply
        value = parse(kind, reply)
        with self._lock:
            if reply is None:
                self.stats.missing["failed"] += 1
            elif value is None:
                self.stats.missing["unparsed"] += 1
                logger.warning("judge reply did not parse as %s: %r (recorded as missing)", kind, reply[:80])
        return value

    def ask_many(self, questions: list[tuple]) -> list[float | None]:
        """[(kind, image) or (kind, image, reference)] -> scores in order, run `concurrency` at a time."""
        with ThreadPoolExecutor(self.concurrency) as pool:
            results = list(pool.map(lambda q: self.ask(*q), questions))
        self.save()
        return results

    def save(self) -> None:
        if self.cache_path is not None:
            with self._lock:
                text = json.dumps(self._cache)
            atomic_write_text(self.cache_path, text)
