"""The tiny profile's SDXL img2img pipeline (engine.methods.sdxl's builder at tiny configs)."""

from __future__ import annotations

import pytest
import torch

from engine.methods import tiny

pytestmark = pytest.mark.pipelines


def test_a_tiny_pipeline_is_a_function_of_its_seed():
    a, b, c = tiny.sdxl_img2img(0), tiny.sdxl_img2img(0), tiny.sdxl_img2img(1)
    first, again, other = (dict(p.unet.state_dict()) | dict(p.text_encoder_2.state_dict()) for p in (a, b, c))
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)
