"""The training loop every trainer shares (train.common.run_steps), on a one-layer model: gradient
accumulation and the fp16 loss scaler, through a real accelerate Accelerator on the CPU."""

from __future__ import annotations

import json
import logging

import pytest
import torch
import torch.nn.functional as F

from train.common import EpochShuffle, cpu_fp16_supported, make_accelerator, run_steps

pytestmark = pytest.mark.pipelines

POINTS = torch.tensor([[0.1, 0.2, 0.3], [0.3, -0.1, 0.2], [-0.2, 0.1, 0.1], [0.05, 0.3, -0.3]])
TARGETS = torch.tensor([0.2, -0.1, 0.4, 0.3])


class Points(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return len(POINTS)

    def __getitem__(self, index: int) -> dict:
        return {"x": POINTS[index], "y": TARGETS[index]}


def linear() -> torch.nn.Linear:
    layer = torch.nn.Linear(3, 1)
    with torch.no_grad():  # small outputs, so fp16 gradients at the scaler's first scale (2^16) stay finite
        layer.weight.copy_(torch.tensor([[0.1, -0.2, 0.05]]))
        layer.bias.fill_(0.05)
    return layer


def fit(tmp_path, batch_size: int, accumulation: int, steps: int, precision: str = "no", max_grad_norm=None, gradient_hook=None):
    """`steps` optimiser steps of SGD on the points; (weights after each step, history, accelerator)."""
    accelerator = make_accelerator(precision, accumulation)
    model = linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loader = torch.utils.data.DataLoader(Points(), batch_size=batch_size, sampler=EpochShuffle(len(POINTS), 0))
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    if gradient_hook is not None:
        accelerator.unwrap_model(model).weight.register_hook(gradient_hook)
    after = [torch.cat([p.detach().clone().flatten() for p in model.parameters()])]
    scales = []

    def step_fn(batch, step, micro):
        loss = F.mse_loss(model(batch["x"]).squeeze(-1).float(), batch["y"])
        return [("total", optimizer, loss)], {"mse": float(loss.detach())}

    def record(step):
        after.append(torch.cat([p.detach().clone().flatten() for p in model.parameters()]))
        scales.append(None if accelerator.scaler is None else accelerator.scaler.get_scale())

    step, history = run_steps(loader, step_fn, accelerator, tmp_path, 0, steps, [(1, record, False)], max_grad_norm, (model,))
    assert step == steps
    return after, history, scales


@pytest.mark.parametrize("max_grad_norm", [None, 0.05])
def test_two_micro_batches_of_one_make_the_update_of_one_batch_of_two(tmp_path, max_grad_norm):
    """Accumulation 2 over batches of 1 == batches of 2: the same weights after each optimiser step
    (clipping applies to the accumulated gradient, once per step), the same logged loss and norm."""
    whole, whole_log, _ = fit(tmp_path / "whole", 2, 1, 3, max_grad_norm=max_grad_norm)
    split, split_log, _ = fit(tmp_path / "split", 1, 2, 3, max_grad_norm=max_grad_norm)
    assert len(split) == 4 and not torch.equal(split[0], split[1])  # the steps moved the weights
    for a, b in zip(whole, split):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    for a, b in zip(whole_log, split_log):
        assert a.keys() == b.keys() == {"mse", "total_grad_norm"}
        assert a["mse"] == pytest.approx(b["mse"], rel=1e-6) and a["total_grad_norm"] == pytest.approx(
            b["total_grad_norm"], rel=1e-5
        )
    if max_grad_norm is not None:
        assert whole_log[0]["total_grad_norm"] > max_grad_norm  # the clip did act
    logged = [json.loads(line) for line in (tmp_path / "split" / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in logged] == [1, 2, 3]  # optimiser steps, not micro-batches


def test_fewer_batches_than_one_accumulation_is_refused(tmp_path):
    with pytest.raises(ValueError, match="fewer than gradient_accumulation_steps=8"):
        fit(tmp_path, 2, 8, 1)


@pytest.mark.skipif(not cpu_fp16_supported(), reason="this torch build has no fp16 autocast or gradient scaler on the CPU")
def test_an_overflowing_fp16_step_is_skipped_logged_and_training_continues(tmp_path, caplog):
    """An inf in a gradient at step 0: the scaler skips that update (the weights stay), halves its
    scale and the log says so; step 1 trains normally."""
    seen = {"calls": 0}

    def overflow_once(gradient):
        seen["calls"] += 1
        return gradient * float("inf") if seen["calls"] == 1 else gradient

    with caplog.at_level(logging.WARNING, logger="train.common"):
        after, history, scales = fit(tmp_path, 2, 1, 2, precision="fp16", max_grad_norm=1.0, gradient_hook=overflow_once)
    assert history[0]["total_skipped"] is True and "total_grad_norm" not in history[0]  # no finite norm to report
    assert torch.equal(after[1], after[0])  # the skipped update left the weights as they were
    assert scales == [2.0**15, 2.0**15]  # halved from 2^16 once; no growth within 2000 good steps
    assert history[1]["total_skipped"] is False and history[1]["total_grad_norm"] > 0
    assert not torch.equal(after[2], after[1])  # training continued
    assert "overflowed in fp16" in caplog.text and "skipped this update" in caplog.text
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [entry["total_skipped"] for entry in logged] == [True, False]
