"""The age embeddings of pluralistic aging's diffusion path (PAE, sec. 3.2), drawn with torch.

Text-driven: e_age ~ N(e_txt(target), sigma^2 I); image-guided: the age encoder's mu and
learned sigma from a reference face of the target age. In both, `intensity` is the noise's
size relative to the embedding's norm (engine/methods/pae/maths.py). One generator seeded by
the request seed draws every sample.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.methods.pae.maths import image_pae, text_pae


def age_embeddings(
    pipeline, target: float, intensity: float, count: int, seed: int, reference_crop: np.ndarray | None = None, encoder=None
) -> torch.Tensor:
    """(count, P) age embeddings in CLIP space for `pipeline.sample`; image-guided when `reference_crop`
    (the reference face aligned at the pipeline's resolution) and its `encoder` are given."""
    generator = torch.Generator().manual_seed(seed)
    text = pipeline.clip_text_features([target])  # (1, P)
    if reference_crop is None:
        return text_pae(text[0], intensity, count, generator)
    with torch.inference_mode():
        mu, log_sigma = encoder(pipeline.clip_image_feature(reference_crop).float(), text.float())
    return image_pae(mu[0], torch.exp(log_sigma[0]), intensity, count, generator)
