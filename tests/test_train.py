"""Tests of the training command: its recipe, its outputs and the options it refuses."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from solver import datasets, metrics
from solver.networks import UNet, load_network
from solver.operators import make_operator
from solver.sampling import make_mask
from solver.train import train

SIZE, CROP, BATCH, WIDTH, STEPS, SEED, LR, VAL_IMAGES = 32, 16, 2, 4, 4, 3, 3e-3, 4


def _argv(tmp_path, *extra: str) -> list[str]:
    return [
        "--pattern", "multilevel", "--rate", "0.25", "--size", str(SIZE), "--device", "cpu",
        "--steps", str(STEPS), "--batch-size", str(BATCH), "--crop", str(CROP),
        "--base-width", str(WIDTH), "--lr", str(LR), "--seed", str(SEED),
        "--val-images", str(VAL_IMAGES), "--val-progress-images", "2", "--no-progress",
        "--out", str(tmp_path / "weights" / "tiny.safetensors"),
        "--run-dir", str(tmp_path / "run"), *extra,
    ]  # fmt: skip


def _recipe(operator) -> UNet:
    """The training the module docstring describes, written out step by step.

    The U-Net is initialised from ``torch.manual_seed(seed)``; batch ``k`` holds the train
    images ``k B .. k B + B - 1``; its crop positions come from
    ``np.random.default_rng([seed, k])``; Adam on the MSE with the learning rate on a
    cosine from ``lr`` to 5% of it over the steps (the time budget, 65 minutes, is far
    away); on CPU the network runs channels-last.
    """
    torch.manual_seed(SEED)
    model = UNet(base_width=WIDTH, depth=4).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    for k in range(STEPS):
        floor = 0.05
        lr = LR * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * k / STEPS)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        images = torch.from_numpy(datasets.images("train", k * BATCH, BATCH, SIZE)).float()
        inputs = datasets.network_input(operator, images)
        rng = np.random.default_rng([SEED, k])
        inputs, target = datasets.random_crops(inputs, images[:, None], CROP, rng)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
        loss = nn.functional.mse_loss(model(inputs), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model


@pytest.mark.slow
def test_training_gives_the_documented_recipe_bit_for_bit(tmp_path):
    result = train(_argv(tmp_path))
    trained, card = load_network(result["weights"])
    operator = make_operator("fourier", make_mask("multilevel", SIZE, 0.25, seed=0))
    expected = _recipe(operator)

    # Same initialisation, data, crops and schedule: every tensor is equal, bit for bit.
    got, want = trained.state_dict(), expected.state_dict()
    assert list(got) == list(want)
    differing = [name for name in want if not torch.equal(got[name], want[name].contiguous())]
    assert differing == []

    # The card's validation numbers are those of the recipe's network on the first
    # VAL_IMAGES validation images.
    expected.eval()
    truth = torch.from_numpy(datasets.images("validation", 0, VAL_IMAGES, SIZE)).float()
    with torch.no_grad():
        out = expected(datasets.network_input(operator, truth))[:, 0]
    psnr = np.mean([metrics.psnr(o, t) for o, t in zip(out.double().numpy(), truth.double().numpy())])
    assert card["validation"]["psnr_db"] == round(float(psnr), 3)
    assert card["validation"]["seeds"] == f"900000..{900000 + VAL_IMAGES - 1}"
    assert card["training"]["steps"] == STEPS and card["training"]["images_seen"] == STEPS * BATCH
    assert card["training"]["crop_size"] == CROP and card["training"]["init_seed"] == SEED
    assert card["training"]["initialised_from"] is None

    # The run directory: the checkpoint of the last step and one validation record (the
    # time budget between validations is far away, so only the one after the last step).
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "history.jsonl"]
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [record["step"] for record in history] == [STEPS]
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == STEPS and checkpoint["losses"] == result["losses"]
    assert all(torch.equal(checkpoint["model"][name], got[name]) for name in got)


@pytest.mark.parametrize(
    ("option", "value", "name"),
    [
        ("--rate", "0", "rate"),
        ("--rate", "1.5", "rate"),
        ("--rate", "nan", "rate"),
        ("--depth", "9", "depth"),
        ("--size", "40", "size"),
        ("--crop", "-16", "crop"),
        ("--crop", "12", "crop"),
        ("--batch-size", "0", "batch_size"),
        ("--base-width", "0", "base_width"),
        ("--threads", "0", "threads"),
        ("--val-images", "0", "val_images"),
        ("--steps", "0", "steps"),
        ("--minutes", "0", "minutes"),
        ("--minutes", "inf", "minutes"),
        ("--lr", "-1e-3", "lr"),
        ("--lr", "nan", "lr"),
        ("--min-lr-fraction", "1.5", "min_lr_fraction"),
        ("--val-minutes", "-1", "val_minutes"),
        ("--checkpoint-minutes", "-1", "checkpoint_minutes"),
        ("--seed", "-1", "seed"),
        ("--mask-seed", "-1", "mask_seed"),
    ],
)
def test_training_refuses_an_option_that_cannot_train_before_writing_anything(
    tmp_path, option, value, name
):
    # The last occurrence of an option wins; "=" lets a value start with "-".
    with pytest.raises(ValueError, match=rf"^{name} must"):
        train(_argv(tmp_path, f"{option}={value}"))
    assert not (tmp_path / "run").exists() and not (tmp_path / "weights").exists()
