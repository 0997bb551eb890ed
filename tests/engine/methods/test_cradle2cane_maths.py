"""AdaNI, the step check, SVR, slerp and Rotate-CLIP on synthetic inputs."""

from __future__ import annotations

import math

import pytest
import torch

from engine.methods.cradle2cane.hparams import HPARAMS_FILE, CheckpointSettingsError, read_checkpoint_settings
from engine.methods.cradle2cane.maths import (
    adani_strength,
    denoising_steps,
    rotate_clip,
    slerp,
    svr,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("gap, strength", [(0, 0.25), (5, 0.25), (5.5, 0.5), (6, 0.5), (20, 0.5), (21, 0.75), (80, 0.75)])
def test_adani_buckets(gap, strength):
    assert adani_strength(30, 30 + gap) == strength
    assert adani_strength(30 + gap, 30) == strength  # rejuvenation uses |gap|


def test_adani_thresholds_are_settings():
    assert adani_strength(20, 45, thresholds=(5, 30)) == 0.5
    assert adani_strength(20, 51, thresholds=(5, 30)) == 0.75


def test_adani_one_threshold_and_extra_prompt():
    assert adani_strength(20, 80, one_threshold=True) == 0.5
    assert adani_strength(20, 23, one_threshold=True) == 0.25
    assert adani_strength(20, 21, extra_prompt=True) == 0.75
    with pytest.raises(ValueError, match="0 <= t1 <= t2"):
        adani_strength(20, 30, thresholds=(20, 5))


def test_steps_are_checked_up_front():
    assert [denoising_steps(4, s) for s in (0.25, 0.5, 0.75)] == [1, 2, 3]
    with pytest.raises(ValueError, match="strength 0.2 with 4 inference steps runs 0 denoising steps"):
        denoising_steps(4, 0.2)
    with pytest.raises(ValueError, match=r"strength must be in \(0, 1\]"):
        denoising_steps(4, 0.0)


def test_svr_identity_when_alpha_zero_beta_one():
    matrix = torch.randn(64, 3, dtype=torch.float64)
    assert torch.allclose(svr(matrix, alpha=0.0, beta=1.0), matrix[:, 0])
    assert torch.allclose(svr(matrix, alpha=1e-9, beta=1.0), matrix[:, 0], atol=1e-6)


def test_svr_strengthens_the_dominant_direction():
    torch.manual_seed(0)
    shared = torch.randn(128, 1, dtype=torch.float64) * 3
    matrix = shared + 0.5 * torch.randn(128, 4, dtype=torch.float64)  # same "person", small variations
    u, s, _ = torch.linalg.svd(matrix, full_matrices=False)
    before = matrix[:, 0]
    after = svr(matrix, alpha=0.05, beta=1.0)

    def dominant_share(vector):
        coefficients = u.T @ vector
        return (coefficients[0] ** 2 / (coefficients**2).sum()).item()

    assert dominant_share(after) > dominant_share(before)
    assert svr(matrix, 0.0, 2.0).norm() == pytest.approx(2 * before.norm())  # beta scales


def test_slerp_end_points_and_norms():
    a, b = torch.nn.functional.normalize(torch.randn(2, 16), dim=-1)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-6)
    assert torch.allclose(slerp(a, b, 1.0), b, atol=1e-6)
    for t in (0.25, 0.5, 0.9):
        assert slerp(a, b, t).norm().item() == pytest.approx(1.0, abs=1e-5)
    mid = slerp(a, b, 0.5)
    assert (mid @ a).item() == pytest.approx((mid @ b).item(), abs=1e-5)  # equal angles
    assert torch.allclose(slerp(a, a, 0.3), a, atol=1e-6)  # parallel inputs are handled


@pytest.mark.parametrize("mode", ["angle", "difference"])
def test_rotate_clip_same_age_leaves_the_embedding_unchanged(mode):
    image = torch.nn.functional.normalize(torch.randn(1, 32), dim=-1)
    text = torch.randn(1, 32)
    assert torch.allclose(rotate_clip(image, text, text, mode), image, atol=1e-6)


def test_rotate_clip_moves_toward_the_target_age():
    torch.manual_seed(1)
    image, source, target = torch.randn(3, 1, 32)
    rotated = rotate_clip(image, source, target, "angle", 0.5)
    unit = torch.nn.functional.normalize
    assert rotated.norm().item() == pytest.approx(1.0, abs=1e-5)
    assert (rotated @ unit(target, dim=-1).T).item() > (unit(image, dim=-1) @ unit(target, dim=-1).T).item()
    with pytest.raises(ValueError, match="Rotate-CLIP mode must be one of"):
        rotate_clip(image, source, target, "sideways")
    assert math.isclose(rotate_clip(image, source, target, "angle", 0.0).norm().item(), 1.0, abs_tol=1e-5)


def test_rotate_clip_vector_mode_adds_the_whole_text_difference():
    torch.manual_seed(0)
    image, source, target = (torch.nn.functional.normalize(torch.randn(2, 16), dim=-1) for _ in range(3))
    vector = rotate_clip(image, source, target, "vector")
    assert torch.allclose(vector, torch.nn.functional.normalize(image + target - source, dim=-1), atol=1e-6)
    # "difference" at its default strength 0.5 moves half as far: not the published vector mode
    assert not torch.allclose(vector, rotate_clip(image, source, target, "difference"), atol=1e-3)
    assert torch.allclose(vector, rotate_clip(image, source, target, "difference", 1.0), atol=1e-6)


def test_checkpoint_settings_translate_published_keys(tmp_path):
    (tmp_path / HPARAMS_FILE).write_text(
        "t1: 10\nt2: 30\nuse_swr: false\nswr_alpha: 0.01\nswr_beta: 1.1\nclip_map_model: angle\n"
        "all_strength: [0.25, 0.5, 0.75]\ninfer_step: 4\nid_strength: 0.25\nlearning_rate: 1e-4\n"
    )
    assert read_checkpoint_settings(tmp_path) == {
        "thresholds": (10.0, 30.0),
        "use_svr": False,
        "svr_alpha": 0.01,
        "svr_beta": 1.1,
        "rotate_mode": "angle",
        "strengths": (0.25, 0.5, 0.75),
        "num_inference_steps": 4,
        "pass2_strength": 0.25,
    }
    assert read_checkpoint_settings(tmp_path / "elsewhere") == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ("t1: 10\n", "give both t1 and t2"),
        ("t1: ten\nt2: 30\n", "t1 must be a number, got 'ten'"),
        ("use_swr: maybe\n", "use_swr must be true or false"),
        ("prompt_mode: ethnicity\n", "prompt_mode = 'ethnicity' is not supported"),
        ("- a list\n", "must be a mapping"),
    ],
)
def test_checkpoint_settings_refuse_what_cannot_run(tmp_path, text, message):
    (tmp_path / HPARAMS_FILE).write_text(text)
    with pytest.raises(CheckpointSettingsError, match=message):
        read_checkpoint_settings(tmp_path)
