"""The model cache: built once, missing models say why and how."""

from __future__ import annotations

import logging
import threading

import pytest

from engine.core import models
from engine.core.models import ModelCache, ModelSpec, ModelUnavailable, checkpoint_name
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


def _folder_model(folder):
    """A model read from `folder/model.txt`, unavailable (saying so) until that file exists."""

    def loader(spec, settings):
        path = folder / "model.txt"
        if not path.is_file():
            raise ModelUnavailable(f"{spec.name}: {path} is missing; write it there")
        return path.read_text()

    return ModelSpec("later", "t", "setting:HUB_MODEL_DIR_LATER", "CC0", ("offline",), loader)


def test_an_unavailable_model_is_tried_and_logged_once_then_found_after_clear(tmp_path, caplog):
    cache = ModelCache([_folder_model(tmp_path)], SETTINGS)
    with caplog.at_level(logging.INFO, logger="engine.core.models"):
        for _ in range(5):  # a render asks for an optional model on every call
            assert not cache.available("later")
        with pytest.raises(ModelUnavailable, match="model.txt is missing; write it there"):
            cache.get("later")  # the remembered reason, every time
    assert [r.getMessage() for r in caplog.records].count("loading later from setting:HUB_MODEL_DIR_LATER") == 1
    assert sum("later is unavailable" in r.getMessage() for r in caplog.records) == 1
    assert {row.spec.name: row.state for row in cache.states()}["later"] == "missing"

    (tmp_path / "model.txt").write_text("weights")
    assert not cache.available("later")  # remembered until the cache is cleared
    cache.clear()
    assert cache.get("later") == "weights"
    assert {row.spec.name: row.state for row in cache.states()}["later"] == "live"


def test_a_failed_model_is_tried_again_after_the_retry_interval(tmp_path, monkeypatch):
    """A Space that started during a brief Hub outage gets its models once the Hub is back, without a restart."""
    now = [1000.0]
    monkeypatch.setattr(models.time, "monotonic", lambda: now[0])
    cache = ModelCache([_folder_model(tmp_path)], SETTINGS)
    assert not cache.available("later")
    (tmp_path / "model.txt").write_text("weights")  # the outage ends
    now[0] += models.RETRY_SECONDS - 1
    assert not cache.available("later")  # still within the interval: the remembered reason
    now[0] += 2
    assert cache.get("later") == "weights"
    assert {row.spec.name: row.state for row in cache.states()}["later"] == "live"


def test_a_loaders_own_failure_is_remembered_with_its_reason():
    calls = []

    def broken(spec, settings):
        calls.append(spec.name)
        raise OSError("disk read error")

    cache = ModelCache([ModelSpec("broken", "t", "package:x/y", "CC0", ("offline",), broken, install="reinstall x")], SETTINGS)
    for _ in range(3):
        with pytest.raises(ModelUnavailable, match="broken failed to load from package:x/y: disk read error. reinstall x"):
            cache.get("broken")
    assert calls == ["broken"]


def test_a_checkpoint_shared_with_train_push_is_pulled_by_its_repo(tmp_path, monkeypatch):
    # HUB_MODEL_REPO_SCORENET (only a local folder could be named): its safetensors and JSON configs are pulled
    import huggingface_hub

    from engine.core.registry import get_cache

    pulls = []

    def snapshot_download(repo_id, revision=None, allow_patterns=None):
        pulls.append((repo_id, revision, allow_patterns))
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    settings = Settings(profile="offline", model_repos={"scorenet": "org/zones"}, model_revisions={"scorenet": "abc"})
    # the pull holds none: named by its repo and the commit pulled, not the Hub cache's path on the server
    with pytest.raises(ModelUnavailable, match="scorenet: org/zones@abc holds no scorenet.safetensors") as refused:
        get_cache(settings).get("scorenet")
    assert str(tmp_path) not in str(refused.value)
    assert pulls == [("org/zones", "abc", ["*.safetensors", "*.json"])]
    assert checkpoint_name("scorenet", settings, "") == "org/zones@abc"


def test_a_repo_pulled_without_a_revision_is_named_by_the_commit_it_was_pulled_at(tmp_path, monkeypatch):
    # "zone LoRA from org/zones" named no commit: the Hub cache's snapshots/<commit> folder says which
    import huggingface_hub

    from engine.core.models import pulled_folder

    snapshot = tmp_path / "snapshots" / "0123456789abcdef0123"
    snapshot.mkdir(parents=True)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo_id, revision=None, allow_patterns=None: str(snapshot))
    settings = Settings(profile="offline", model_repos={"ldla": "org/zones"})
    assert checkpoint_name("ldla", settings, "") == "org/zones"  # not pulled yet
    assert pulled_folder("ldla", settings, ["*.json"]) == snapshot
    assert checkpoint_name("ldla", settings, "") == "org/zones@0123456789ab"


def test_a_repo_setting_that_is_no_repo_id_is_named(monkeypatch):
    monkeypatch.setenv("HUB_MODEL_REPO_CRADLE2CANE", "my checkpoint")
    with pytest.raises(ValueError, match="HUB_MODEL_REPO_CRADLE2CANE must be a Hub repo id ORG/NAME, got 'my checkpoint'"):
        Settings.from_env()


def test_other_settings_try_a_model_again(tmp_path):
    from engine.core.registry import get_cache

    missing = Settings(profile="offline", model_dirs={"scorenet": tmp_path / "nowhere"})
    with pytest.raises(
        ModelUnavailable, match="scorenet: local folder 'nowhere' \\(HUB_MODEL_DIR_SCORENET\\) holds no scorenet.safetensors"
    ):
        get_cache(missing).get("scorenet")
    elsewhere = Settings(profile="offline", model_dirs={"scorenet": tmp_path / "elsewhere"})
    with pytest.raises(ModelUnavailable, match="elsewhere"):
        get_cache(elsewhere).get("scorenet")  # a new setting is tried, not answered with the old reason
