"""The model cache: built once, missing models say why and how."""

from __future__ import annotations

import threading

import pytest

from engine.core.models import ModelCache, ModelSpec, ModelUnavailable
from engine.core.registry import SPECS
from engine.core.settings import Settings

pytestmark = pytest.mark.unit

SETTINGS = Settings(profile="offline")


def test_cache_builds_each_model_once_across_threads():
    calls = []

    def loader(spec, settings):
        calls.append(spec.name)
        return object()

    cache = ModelCache([ModelSpec("m", "t", "package:x/y", "CC0", ("offline",), loader)], SETTINGS)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("m"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["m"] and len({id(r) for r in results}) == 1


def test_missing_model_says_why_and_how():
    spec = ModelSpec(
        "ghost",
        "age",
        "package:no_such_package_xyz/model.onnx",
        "CC0",
        ("offline",),
        lambda s, st: __import__("engine.core.models").core.models.package_file(s),
        install="pip install ghost-models",
    )
    cache = ModelCache([spec], SETTINGS)
    with pytest.raises(ModelUnavailable, match="'no_such_package_xyz' is not installed; pip install ghost-models"):
        cache.get("ghost")
    assert "| ghost | age |" in cache.status_markdown() and "missing" in cache.status_markdown()


def test_hub_estimator_slot_is_listed_with_how_to_provide():
    cache = ModelCache(SPECS, Settings(profile="full"))
    with pytest.raises(ModelUnavailable, match="set HUB_AGE_ESTIMATOR"):
        cache.get("age_hub")
    offline = ModelCache(SPECS, SETTINGS)
    with pytest.raises(ModelUnavailable, match="not part of the .offline. profile .* To provide it: set HUB_AGE_ESTIMATOR"):
        offline.get("age_hub")
    states = {row.spec.name: row.state for row in offline.states()}
    assert states["age_hub"] == "not in profile"
    assert all(spec.licence for spec in SPECS)
