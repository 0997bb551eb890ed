"""The lifespan trainer's published-script defaults: target ages, AdaNI strengths, background replacement."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from engine.faces.segmentation import replace_background
from train.lifespan import FaceFolder, TrainConfig, pass1_strengths, sample_targets
from train.losses import centre_weights, pixel_mse_loss
from train.pluralistic import PluralisticConfig
from train.zones import ZonesConfig

pytestmark = pytest.mark.unit


def config(**changes) -> TrainConfig:
    return TrainConfig(data="x", age_model="tiny", **changes)


def test_defaults_are_the_published_training_script():
    c = config()
    weights = (c.w_id, c.w_age, c.w_age_feature, c.w_pixel_mse, c.w_ms_ssim, c.w_gan, c.w_perceptual)
    assert weights == (1.0, 0.75, 1.0, 0.05, 0.1, 0.01, 1.0)  # config/train.sh
    assert (c.t1, c.t2, c.mixed_precision, c.max_grad_norm, c.discriminator_every) == (10.0, 30.0, "fp16", 1.0, 6)
    assert (c.target_sampling, c.age_scale, c.same_age_rate, c.min_age, c.max_age) == ("batch_shift", 20.0, 0.01, 1.0, 80.0)
    assert (c.gan_loss, c.age_loss, c.background) == ("hinge", "smooth_l1", "grey")


def test_a_batch_shares_one_age_shift_within_the_published_range():
    sources = [20.0, 35.0, 50.0]
    shifts = set()
    for seed in range(200):
        targets = sample_targets(sources, config(same_age_rate=0.0), torch.Generator().manual_seed(seed))
        gaps = {round(b - a, 6) for a, b in zip(sources, targets) if 1 < b < 80}
        assert len(gaps) <= 1 and all(1 <= b <= 80 for b in targets)
        shifts |= gaps
    assert min(shifts) >= -60 and max(shifts) <= 60 and min(shifts) < -25 and max(shifts) > 25


def test_same_age_rate_one_keeps_every_age_and_uniform_draws_each_face_its_own():
    sources = [20.0, 35.0, 50.0]
    assert sample_targets(sources, config(same_age_rate=1.0), torch.Generator().manual_seed(0)) == sources
    targets = sample_targets(sources * 4, config(target_sampling="uniform"), torch.Generator().manual_seed(0))
    assert len(set(targets)) == 12 and all(1 <= t <= 80 for t in targets)


def test_pass1_strength_from_the_batch_mean_gap_or_each_face():
    sources, targets = [20.0, 40.0], [22.0, 80.0]  # gaps 2 and 40: mean 21
    assert pass1_strengths(sources, targets, config()) == [0.5, 0.5]
    assert pass1_strengths(sources, targets, config(strength_from="per_face")) == [0.25, 0.75]
    assert pass1_strengths(sources, targets, config(t1=5, t2=20)) == [0.75, 0.75]  # the paper's thresholds


def test_bad_settings_name_the_setting_and_the_choices():
    with pytest.raises(ValueError, match="target_sampling must be one of .*'batch_shift'.*got 'random'"):
        config(target_sampling="random")
    with pytest.raises(ValueError, match="t1 <= t2, got t1=40.0, t2=30.0"):
        config(t1=40.0)
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        config(mixed_precision="fp8")


@pytest.mark.parametrize("config_class", [TrainConfig, ZonesConfig, PluralisticConfig])
def test_a_push_that_cannot_be_made_is_refused_before_training(config_class):
    # a bad repo id ended a whole run in a traceback, a tiny run's random weights were pushed as a model, and the card
    # named the local data folder for the training data
    needed = {"data": "faces", "age_model": "tiny"} if config_class is TrainConfig else {"data": "faces"}
    with pytest.raises(ValueError, match="push_to_hub: Repo id must"):
        config_class(**needed, push_to_hub="bad id!!", training_data="FFHQ")
    with pytest.raises(ValueError, match="push_to_hub: a tiny-profile run trains random miniature models"):
        config_class(**needed, profile="tiny", push_to_hub="org/mine", training_data="FFHQ")
    with pytest.raises(ValueError, match="training_data: name the data"):
        config_class(**needed, push_to_hub="org/mine")
    with pytest.raises(ValueError, match="training_data: name the data .* got None"):  # `--set training_data=` reads as null
        config_class(**needed, push_to_hub="org/mine", training_data=None)
    assert config_class(**needed, push_to_hub="org/mine", training_data="FFHQ 512 (CC BY-NC-SA 4.0)").push_to_hub == "org/mine"


def test_background_replacement_fills_where_the_mask_says_background():
    rgb = np.full((4, 4, 3), 200, np.uint8)
    mask = np.zeros((4, 4), np.float32)
    mask[1:3, 1:3] = 1.0
    grey = replace_background(rgb, mask, "grey")
    assert (grey[1:3, 1:3] == 200).all() and grey[0, 0].tolist() == [128, 128, 128]
    assert replace_background(rgb, mask, "black")[0, 0].tolist() == [0, 0, 0]
    assert replace_background(rgb, mask, "keep") is rgb
    with pytest.raises(ValueError, match="background must be one of"):
        replace_background(rgb, mask, "white")


class HalfMask:
    """A stand-in segmenter: the left half of every image is the person."""

    def probability(self, rgb):
        mask = np.zeros(rgb.shape[:2], np.float32)
        mask[:, : rgb.shape[1] // 2] = 1.0
        return mask


def test_training_faces_come_with_their_background_replaced(tmp_path):
    Image.new("RGB", (8, 8), (250, 10, 10)).save(tmp_path / "30_female_a.png")
    pixels = FaceFolder(tmp_path, 8, "grey", HalfMask())[0]["pixels"]
    assert torch.allclose(pixels[:, :, :4], torch.tensor([250, 10, 10]).view(3, 1, 1) / 255)
    assert torch.allclose(pixels[:, :, 4:], torch.full((3, 8, 4), 128 / 255))
    assert torch.allclose(FaceFolder(tmp_path, 8)[0]["pixels"][:, :, 4:], torch.tensor([250, 10, 10]).view(3, 1, 1) / 255)
    with pytest.raises(ValueError, match="needs a segmentation model"):
        FaceFolder(tmp_path, 8, "grey")


def test_pixel_loss_weighs_the_centre_four_times_the_far_edge():
    weights = centre_weights(65, 65)
    assert weights[32, 32] == pytest.approx(2.0) and weights[0, 0] < weights[0, 32] < weights[32, 32]
    source, out = torch.zeros(1, 3, 65, 65), torch.zeros(1, 3, 65, 65)
    centre, edge = out.clone(), out.clone()
    centre[..., 32, 32], edge[..., 0, 32] = 1.0, 1.0
    assert pixel_mse_loss(source, centre) > 2 * pixel_mse_loss(source, edge)
    assert pixel_mse_loss(source, centre, centre_weighted=False) == pixel_mse_loss(source, edge, centre_weighted=False)
