"""The VLM judge against a local OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import time

import numpy as np
import pytest

from evaluation.judge import parse
from tests.evaluation.conftest import judge

pytestmark = pytest.mark.unit


def face(value=100):
    return np.full((32, 32, 3), value, np.uint8)


def test_good_malformed_and_out_of_range_replies(server):
    url, script = server
    script.replies += [
        ("ok", "age:42"),
        ("ok", "I think she is about forty"),
        ("ok", "age: 250"),
        ("ok", "quality: 87."),
        ("ok", "similarity:64"),
    ]
    j = judge(url, concurrency=1)
    assert j.ask("age", face(1)) == 42.0
    assert j.ask("age", face(2)) is None  # prose: missing, never guessed
    assert j.ask("age", face(3)) is None  # outside 0-120: missing
    assert j.ask("quality", face(4)) == 87.0
    assert j.ask("identity", face(5), reference=face(6)) == 64.0
    assert j.stats.missing == {"unparsed": 2, "failed": 0} and j.stats.retries == 0
    identity_request = script.bodies[-1]["messages"][0]["content"]
    assert [part["type"] for part in identity_request] == ["text", "image_url", "image_url"]
    assert identity_request[0]["text"].startswith("Please evaluate if the individuals in these two images")


def test_429_and_5xx_are_retried_with_backoff(server):
    url, script = server
    script.replies += [("status", 429), ("status", 503), ("ok", "age:35")]
    j = judge(url)
    assert j.ask("age", face()) == 35.0
    assert j.stats.retries == 2 and j.stats.requests == 3 and j.stats.missing == {"unparsed": 0, "failed": 0}


def test_a_request_that_keeps_failing_is_missing_not_imputed(server):
    url, script = server
    script.replies += [("status", 500)] * 3
    j = judge(url, max_retries=2)
    assert j.ask("age", face()) is None
    assert j.stats.retries == 2 and j.stats.missing["failed"] == 1


def test_slow_replies_time_out_and_are_retried(server):
    url, script = server
    script.replies += [("slow", 1.5), ("ok", "age:51")]
    j = judge(url, timeout=0.5)
    assert j.ask("age", face()) == 51.0 and j.stats.retries == 1


def test_replies_are_cached_by_image_prompt_and_model(server, tmp_path):
    url, script = server
    script.replies += [("ok", "age:44")]
    cache = tmp_path / "judge.json"
    j = judge(url, cache_path=cache)
    assert j.ask_many([("age", face(9)), ("age", face(9))]) == [44.0, 44.0]
    assert script.calls == 1 and j.stats.cached == 1  # asked twice at once, sent once
    calls = script.calls
    again = judge(url, cache_path=cache)
    assert again.ask("age", face(9)) == 44.0 and script.calls == calls and again.stats.cached == 1


def test_concurrency_is_limited(server):
    url, script = server
    script.replies += [("slow", 0.3)] * 6
    j = judge(url, concurrency=2, timeout=5)
    start = time.monotonic()
    assert j.ask_many([("age", face(i)) for i in range(6)]) == [30.0] * 6
    assert time.monotonic() - start >= 0.85  # six 0.3 s replies, two at a time


def test_parse_is_strict():
    assert parse("age", "age:42") == 42.0 and parse("age", " Age : 42.5 ") == 42.5
    assert parse("age", "age:42, maybe 45") is None and parse("age", "The age is 42") is None
    assert parse("identity", "similarity:0") is None  # the scale is 1-100
