"""Each target's own diffusion seed (torch-free: the task API draws seeds at start-up cost zero)."""

from __future__ import annotations

import hashlib


def item_seed(seed: int, target_age: float) -> int:
    """Each target's own seed, fixed by the request seed and the target age, not its place in a batch."""
    digest = hashlib.sha256(f"{seed}:{float(target_age)}".encode()).digest()
    return int.from_bytes(digest[:7], "big")
