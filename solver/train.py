"""Train the U-Net on random-ellipse phantoms; write safetensors weights and a model card.

Run as a module, e.g. the shipped network (one thread of a shared 2-core CPU)::

    python -m solver.train --pattern multilevel --rate 0.25 --size 256 --device auto \\
        --minutes 100 --batch-size 8 --crop 128 --base-width 16 --lr 5e-4 --seed 0 \\
        --out solver/weights/unet_multilevel_r25_n256.safetensors

``--init-weights FILE.safetensors`` starts from trained weights instead (fine-tuning,
e.g. after the sampling mask changed); the card then records both stages.

What it does
------------
* Data (``solver.datasets``): a new seeded random-ellipse image per example (train seeds
  from 1_000_000 up; half carry a small low-contrast text or blob detail), noiseless
  measurements ``y = A x`` with the fixed mask ``make_mask(pattern, size, rate, mask_seed)``,
  input ``A* y`` as two channels. ``A* y`` is computed on the full image (the aliasing is
  global); the network then trains on aligned random crops of input and target (it is
  fully convolutional), which makes a CPU step several times cheaper. Validation uses
  full images (validation seeds from 900_000).
* ``--data-consistency`` adds the parameter-free last layer ``x + Re A*(y - A x)``
  (``solver.networks.data_consistency``) during training and in the saved network: the
  U-Net then only has to fill in the coefficients that were not measured. The layer
  needs the whole image, so it trains on full images (``--crop 0``).
* Adam on the mean squared error; the learning rate follows a cosine from ``--lr`` down to
  5% of it, over whichever budget (``--steps`` or ``--minutes``) runs out first.
* A checkpoint (our own ``torch.save`` state dict, only ever read back by this script) is
  written to ``--run-dir`` every ``--checkpoint-minutes``; ``--resume`` continues from it,
  with the same data stream (every example is a function of its step number).
* At the end: weights as safetensors and a JSON model card beside them
  (``solver.networks.save_network``), with validation PSNR / SSIM on ``--val-images``
  full images.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from solver import datasets
from solver.networks import UNet, data_consistency, mask_sha256, save_network
from solver.validation import check_fraction, check_int, check_positive, check_seed

__all__ = ["build_parser", "main", "train"]


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m solver.train`` (options are checked by ``train``)."""
    parser = argparse.ArgumentParser(
        prog="python -m solver.train",
        description="Train the U-Net reconstruction network on random-ellipse phantoms.",
    )
    add = parser.add_argument
    add("--pattern", default="multilevel", help="sampling pattern (solver.sampling.PATTERNS)")
    add("--rate", type=float, default=0.25, help="sampling rate in (0, 1]")
    add("--size", type=int, default=256, help="image side N (divisible by 16)")
    add("--mask-seed", type=int, default=0, help="seed of the sampling mask")
    add("--operator", default="fourier", choices=("fourier", "walsh"))
    add("--device", default="auto", help="'auto' (CUDA when available), 'cpu', 'cuda', ...")
    add("--threads", type=int, default=1, help="torch CPU threads (1: the machine is shared)")
    add("--minutes", type=float, default=65.0, help="training time budget (minutes)")
    add("--steps", type=int, default=None, help="maximum number of optimiser steps")
    add("--batch-size", type=int, default=8)
    add("--crop", type=int, default=128, help="training crop side (0 or >= size: full images)")
    add("--base-width", type=int, default=16)
    add("--depth", type=int, default=4)
    add("--norm", default="batch", choices=("batch", "group", "instance", "none"))
    add("--no-residual", action="store_true", help="predict the image, not a correction")
    add("--data-consistency", action="store_true",
        help="finish with the layer x + Re A*(y - A x) (needs --crop 0: full images)")
    add("--lr", type=float, default=2e-4)
    add("--min-lr-fraction", type=float, default=0.05, help="final lr as a fraction of --lr")
    add("--seed", type=int, default=0, help="seed of initialisation and crop positions")
    add("--val-images", type=int, default=32, help="validation images for the final card")
    add("--val-progress-images", type=int, default=8, help="validation images during training")
    add("--val-minutes", type=float, default=5.0, help="minutes between validations")
    add("--checkpoint-minutes", type=float, default=3.0)
    add("--out", default=None, help="output .safetensors (default: weights/unet_<pattern>_r<rate>_n<size>)")
    add("--run-dir", default=None, help="checkpoints and logs (default: runs/<out stem>)")
    add("--resume", action="store_true", help="continue from <run-dir>/checkpoint.pt")
    add("--init-weights", default=None,
        help="start from these shipped weights (.safetensors + card; fine-tuning)")
    add("--no-progress", action="store_true", help="no tqdm bar")
    return parser


def _validate_args(args: argparse.Namespace) -> None:
    """Refuse settings that cannot train, before any file is written.

    Raises
    ------
    ValueError
        Naming the option (with ``_`` for ``-``) and the value it got.
    """
    check_fraction("rate", args.rate)
    check_int("depth", args.depth, low=1, high=8)
    factor = 2**args.depth
    if args.size < factor or args.size % factor:
        raise ValueError(f"size must be a positive multiple of {factor}, got {args.size}")
    check_int("crop", args.crop, low=0)
    if args.crop and args.crop < args.size and args.crop % factor:
        raise ValueError(f"crop must be a multiple of {factor}, got {args.crop}")
    if args.data_consistency and args.crop and args.crop < args.size:
        raise ValueError(
            f"data_consistency needs full images (crop 0), got crop {args.crop}: the layer "
            "applies the sampling operator to the whole image"
        )
    for name in ("batch_size", "base_width", "threads", "val_images", "val_progress_images"):
        check_int(name, getattr(args, name), low=1)
    if args.steps is not None:
        check_int("steps", args.steps, low=1)
    check_positive("minutes", args.minutes)
    check_positive("lr", args.lr)
    check_fraction("min_lr_fraction", args.min_lr_fraction, low_open=False)
    # 0 is meaningful: validate (or checkpoint) after every step.
    check_positive("val_minutes", args.val_minutes, allow_zero=True)
    check_positive("checkpoint_minutes", args.checkpoint_minutes, allow_zero=True)
    check_seed(args.seed)
    check_seed(args.mask_seed, "mask_seed")


def train(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run training; return a summary (paths, losses, metrics).

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    dict
        ``weights``, ``card`` (paths), ``losses`` (per-step training loss), ``steps``,
        ``validation`` (final metrics).

    Raises
    ------
    ValueError
        For settings that cannot train (naming the option), a checkpoint or initial
        weights that do not fit the settings, or a budget already used up.
    """
    args = build_parser().parse_args(argv)
    _validate_args(args)
    torch.set_num_threads(args.threads)
    device = _pick_device(args.device)
    files = _run_files(args)
    mask, operator = _sampling_operator(args, device)
    model, init_card = _initial_model(args, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    progress = _resume_or_start(args, files, model, optimizer, device)

    _training_loop(args, model, optimizer, operator, files, progress, device)
    if progress.step == 0:
        raise ValueError("no training step was taken (budget already used: resume of a finished run?)")
    _save_checkpoint(args, files.checkpoint, model, optimizer, progress)

    final = _evaluate(model, operator, *_validation_set(args, operator, args.val_images, device),
                      with_ssim=True)
    card = _model_card(args, files.weights.stem, mask, progress, device, init_card, final, argv)
    card_file = save_network(files.weights, model.cpu(), card)
    print(
        f"wrote {files.weights} and {card_file}: {progress.step} steps, "
        f"{progress.elapsed / 60:.1f} min, validation PSNR {final['psnr_db']:.2f} dB, "
        f"SSIM {final['ssim']:.4f} (zero-filled {final['zero_filled_psnr_db']:.2f} dB)",
        flush=True,
    )
    return {"weights": files.weights, "card": card_file, "losses": progress.losses,
            "steps": progress.step, "validation": final}


# ---------------------------------------------------------------------------------------
# Set-up: device, output paths, the sampling mask and its operator.
# ---------------------------------------------------------------------------------------


def _pick_device(name: str) -> torch.device:
    """The torch device for ``--device``: "auto" is CUDA when available, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass(frozen=True)
class _RunFiles:
    """Where a run writes: the weights (card beside them) and its run directory."""

    weights: Path
    run_dir: Path

    @property
    def checkpoint(self) -> Path:
        """The state ``--resume`` continues from."""
        return self.run_dir / "checkpoint.pt"

    @property
    def history(self) -> Path:
        """One JSON line per validation during training."""
        return self.run_dir / "history.jsonl"


def _run_files(args: argparse.Namespace) -> _RunFiles:
    """The output paths (defaults from pattern, rate and size); creates the run directory."""
    rate_tag = f"{round(args.rate * 100):d}"
    weights = Path(args.out or f"weights/unet_{args.pattern}_r{rate_tag}_n{args.size}.safetensors")
    files = _RunFiles(weights=weights, run_dir=Path(args.run_dir or Path("runs") / weights.stem))
    files.run_dir.mkdir(parents=True, exist_ok=True)
    return files


def _sampling_operator(args: argparse.Namespace, device: torch.device) -> tuple[np.ndarray, Any]:
    """The fixed sampling mask (N, N) bool and its subsampled operator on ``device``."""
    from solver.operators import make_operator
    from solver.sampling import make_mask

    mask = np.asarray(make_mask(args.pattern, args.size, args.rate, seed=args.mask_seed), dtype=bool)
    operator = make_operator(args.operator, mask)
    if hasattr(operator, "to"):
        operator = operator.to(device)
    return mask, operator


# ---------------------------------------------------------------------------------------
# The model: a seeded initialisation or weights to fine-tune.
# ---------------------------------------------------------------------------------------


def _initial_model(args: argparse.Namespace, device: torch.device) -> tuple[UNet, dict[str, Any] | None]:
    """The U-Net to train, seeded by ``--seed`` or loaded from ``--init-weights``.

    Returns the model (channels-last on CPU) and the card of the initial weights (None
    when the network starts from its random initialisation).
    """
    torch.manual_seed(args.seed)  # the script owns its process: seeds the initialisation
    model = UNet(base_width=args.base_width, depth=args.depth, residual=not args.no_residual,
                 norm=args.norm, data_consistency=args.data_consistency).to(device)
    init_card = _load_initial_weights(model, args.init_weights) if args.init_weights else None
    if device.type == "cpu":
        # oneDNN convolutions are ~15% faster in NHWC on CPU; the weights are the same.
        model = model.to(memory_format=torch.channels_last)
    return model, init_card


def _load_initial_weights(model: UNet, path: str) -> dict[str, Any]:
    """Copy the weights of the network saved at ``path`` into ``model``; return its card."""
    from solver.networks import load_network

    initial, init_card = load_network(path)
    if _weight_shapes(initial.architecture) != _weight_shapes(model.architecture):
        raise ValueError(
            f"init_weights architecture {initial.architecture} differs from {model.architecture}"
        )
    model.load_state_dict(initial.state_dict())
    return init_card


def _weight_shapes(architecture: dict[str, Any]) -> dict[str, Any]:
    """The architecture fields that fix the weights' shapes.

    The data-consistency layer has no weights: a network trained without it can be
    fine-tuned with it.
    """
    return {k: v for k, v in architecture.items() if k != "data_consistency"}


# ---------------------------------------------------------------------------------------
# Progress and checkpoints: what --resume continues from.
# ---------------------------------------------------------------------------------------


@dataclass
class _Progress:
    """What a checkpoint saves besides the weights: steps taken, training time, losses."""

    step: int = 0
    elapsed: float = 0.0  # seconds of training, validation and checkpoint time excluded
    losses: list[float] = field(default_factory=list)


def _config(args: argparse.Namespace) -> dict[str, Any]:
    """The settings a resumed run must share with the run it continues."""
    keys = ("pattern", "rate", "size", "mask_seed", "operator", "batch_size", "crop",
            "base_width", "depth", "norm", "no_residual", "data_consistency", "seed")
    return {k: getattr(args, k) for k in keys}


def _resume_or_start(
    args: argparse.Namespace, files: _RunFiles, model: UNet, optimizer: torch.optim.Optimizer,
    device: torch.device,
) -> _Progress:
    """With ``--resume`` and a checkpoint, load it into model and optimiser; else start at 0.

    A fresh run (no ``--resume``) removes the history of an earlier run in the same run
    directory.
    """
    if args.resume and files.checkpoint.is_file():
        state = torch.load(files.checkpoint, map_location=device, weights_only=True)
        if state["config"] != _config(args):
            raise ValueError(
                f"resume: checkpoint config {state['config']} differs from {_config(args)}"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        progress = _Progress(state["step"], state["elapsed"], list(state["losses"]))
        print(f"resumed from {files.checkpoint} at step {progress.step} "
              f"({progress.elapsed / 60:.1f} min)", flush=True)
        return progress
    if not args.resume:
        files.history.unlink(missing_ok=True)
    return _Progress()


def _save_checkpoint(
    args: argparse.Namespace, path: Path, model: UNet, optimizer: torch.optim.Optimizer,
    progress: _Progress,
) -> None:
    """Write the state ``--resume`` continues from (our own format, read only by this script)."""
    state = {
        "config": _config(args), "model": model.state_dict(),
        "optimizer": optimizer.state_dict(), "step": progress.step, "elapsed": progress.elapsed,
        "losses": progress.losses,
    }
    # Write then rename: a run killed mid-write never leaves a truncated checkpoint.
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------
# The training loop and its optimiser step.
# ---------------------------------------------------------------------------------------


def _training_loop(
    args: argparse.Namespace, model: UNet, optimizer: torch.optim.Optimizer, operator: Any,
    files: _RunFiles, progress: _Progress, device: torch.device,
) -> None:
    """Take optimiser steps until the step or time budget runs out.

    Validates on ``--val-progress-images`` every ``--val-minutes`` and checkpoints every
    ``--checkpoint-minutes`` (both also after the last step); the time they take is not
    counted as training time.
    """
    from tqdm import tqdm

    validation_set = _validation_set(args, operator, args.val_progress_images, device)
    budget = 60.0 * args.minutes

    def budget_left() -> bool:
        return progress.elapsed < budget and (args.steps is None or progress.step < args.steps)

    bar = tqdm(total=args.steps, initial=progress.step, disable=args.no_progress,
               mininterval=10.0, dynamic_ncols=False, file=sys.stderr, unit="step")
    model.train()
    t_last = time.perf_counter()
    last_val, last_ckpt = progress.elapsed, progress.elapsed
    val_psnr = float("nan")
    while budget_left():
        lr = _optimiser_step(args, model, optimizer, operator, progress, device)
        now = time.perf_counter()
        progress.elapsed += now - t_last
        t_last = now
        bar.update(1)
        done = not budget_left()
        if progress.elapsed - last_val >= 60.0 * args.val_minutes or done:
            val_psnr, line = _record_validation(model, operator, validation_set, progress, lr,
                                                files.history)
            bar.write(line)
            last_val = progress.elapsed
            t_last = time.perf_counter()  # validation time is not training time
        bar.set_postfix(loss=f"{float(np.mean(progress.losses[-20:])):.2e}",
                        val_psnr=f"{val_psnr:.2f}", refresh=False)
        if progress.elapsed - last_ckpt >= 60.0 * args.checkpoint_minutes or done:
            _save_checkpoint(args, files.checkpoint, model, optimizer, progress)
            last_ckpt = progress.elapsed
            t_last = time.perf_counter()
    bar.close()


def _optimiser_step(
    args: argparse.Namespace, model: UNet, optimizer: torch.optim.Optimizer, operator: Any,
    progress: _Progress, device: torch.device,
) -> float:
    """One Adam step on the batch of step ``progress.step``; return the learning rate used.

    Advances ``progress.step`` and appends the batch's loss; ``progress.elapsed`` is the
    caller's to keep.
    """
    lr = _learning_rate(args, progress.step, progress.elapsed)
    for group in optimizer.param_groups:
        group["lr"] = lr
    inputs, target = _training_batch(args, operator, progress.step, device)
    if device.type == "cpu":
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    loss = nn.functional.mse_loss(_reconstruct(model, operator, inputs, target), target)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    progress.step += 1
    progress.losses.append(loss.item())
    return lr


def _learning_rate(args: argparse.Namespace, step: int, elapsed: float) -> float:
    """Cosine decay over the budget that runs out first (steps or time)."""
    progress = elapsed / (60.0 * args.minutes)
    if args.steps is not None:
        progress = max(progress, step / args.steps)
    progress = min(max(progress, 0.0), 1.0)
    floor = args.min_lr_fraction
    return args.lr * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def _training_batch(
    args: argparse.Namespace, operator: Any, step: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch of optimiser step ``step``: a function of the step number only."""
    start = step * args.batch_size
    target = torch.from_numpy(datasets.images("train", start, args.batch_size, args.size))
    target = target.to(device=device, dtype=torch.float32)
    inputs = datasets.network_input(operator, target)
    rng = np.random.default_rng([args.seed, step])
    return datasets.random_crops(inputs, target[:, None], _crop_size(args), rng)


def _crop_size(args: argparse.Namespace) -> int:
    """Side of the training crops: the full image when ``--crop`` is 0 or not smaller."""
    return args.crop if args.crop and args.crop < args.size else args.size


def _reconstruct(model: UNet, operator: Any, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The network's image (B, 1, N, N), with the data-consistency layer if it has one.

    Training data are noiseless, so the measurements are ``y = A x`` of the target.
    """
    out = model(inputs)
    if not model.data_consistency:
        return out
    y = operator.forward(target[:, 0].to(torch.complex64))
    return data_consistency(operator, out[:, 0], y)[:, None]


# ---------------------------------------------------------------------------------------
# Validation: during training (history.jsonl) and at the end (the card).
# ---------------------------------------------------------------------------------------


def _validation_set(
    args: argparse.Namespace, operator: Any, count: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``count`` validation images: inputs (B, 2, N, N) and targets (B, N, N), float32."""
    target = torch.from_numpy(datasets.images("validation", 0, count, args.size))
    target = target.to(device=device, dtype=torch.float32)
    return datasets.network_input(operator, target), target


@torch.no_grad()
def _evaluate(
    model: UNet, operator: Any, inputs: torch.Tensor, target: torch.Tensor, with_ssim: bool = False
) -> dict[str, float]:
    """Mean PSNR (and SSIM) of the network and of the zero-filled input against ``target``.

    Runs in eval mode, four images at a time, and leaves the model in the mode it was in.
    """
    from solver import metrics

    was_training = model.training
    model.eval()
    out = torch.cat([
        _reconstruct(model, operator, inputs[i : i + 4], target[i : i + 4, None])
        for i in range(0, inputs.shape[0], 4)
    ])[:, 0]
    model.train(was_training)
    out = out.double().cpu().numpy()
    ref = target.double().cpu().numpy()
    zero = inputs[:, 0].double().cpu().numpy()
    result = {
        "psnr_db": float(np.mean([metrics.psnr(o, r) for o, r in zip(out, ref)])),
        "zero_filled_psnr_db": float(np.mean([metrics.psnr(z, r) for z, r in zip(zero, ref)])),
        "mse": float(np.mean((out - ref) ** 2)),
    }
    if with_ssim:
        result["ssim"] = float(np.mean([metrics.ssim(o, r) for o, r in zip(out, ref)]))
        result["zero_filled_ssim"] = float(np.mean([metrics.ssim(z, r) for z, r in zip(zero, ref)]))
    return result


def _record_validation(
    model: UNet, operator: Any, validation_set: tuple[torch.Tensor, torch.Tensor],
    progress: _Progress, lr: float, history: Path,
) -> tuple[float, str]:
    """Validate now, append the record to the history file; return PSNR and a progress line."""
    metrics_now = _evaluate(model, operator, *validation_set)
    recent = float(np.mean(progress.losses[-50:]))
    record = {"step": progress.step, "minutes": progress.elapsed / 60, "lr": lr, "loss": recent,
              **metrics_now}
    with history.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
    line = (
        f"step {progress.step}  {progress.elapsed / 60:.1f} min  loss {recent:.3e}  val PSNR "
        f"{metrics_now['psnr_db']:.2f} dB (zero-filled {metrics_now['zero_filled_psnr_db']:.2f})"
    )
    return metrics_now["psnr_db"], line


# ---------------------------------------------------------------------------------------
# The model card.
# ---------------------------------------------------------------------------------------


def _model_card(
    args: argparse.Namespace, name: str, mask: np.ndarray, progress: _Progress,
    device: torch.device, init_card: dict[str, Any] | None, final: dict[str, float],
    argv: Sequence[str] | None,
) -> dict[str, Any]:
    """The model card written beside the weights (``save_network`` adds the architecture)."""
    return {
        "name": name,
        "description": (
            "U-Net mapping the zero-filled image A* y (real, imaginary channels) to the "
            "image, trained on random-ellipse phantoms for one fixed sampling mask."
        ),
        "sampling": _sampling_card(args, mask),
        "operator": args.operator,
        "image_size": args.size,
        "input": "A* y for noiseless y = A x, channels (real, imaginary), float32",
        "output": (
            ("real image (N, N); residual: Re(A* y) + U-Net correction" if not args.no_residual
             else "real image (N, N)")
            + ("; then the data-consistency layer x + Re A*(y - A x)"
               if args.data_consistency else "")
        ),
        "training": _training_card(args, progress, device, init_card, argv),
        "validation": _validation_card(args, final),
        "budget_note": _budget_note(args, device, progress.elapsed, _crop_size(args)),
    }


def _sampling_card(args: argparse.Namespace, mask: np.ndarray) -> dict[str, Any]:
    """The card's ``sampling`` section: enough to rebuild and check the mask."""
    return {
        "pattern": args.pattern,
        "rate": args.rate,
        "achieved_rate": float(mask.mean()),
        "seed": args.mask_seed,
        "params": {},
        "mask_shape": list(mask.shape),
        "mask_sha256": mask_sha256(mask),
        "mask_hash_convention": "sha256 of the (N, N) numpy bool array's bytes, row-major, centred k-space",
        "num_measurements": int(mask.sum()),
    }


def _training_card(
    args: argparse.Namespace, progress: _Progress, device: torch.device,
    init_card: dict[str, Any] | None, argv: Sequence[str] | None,
) -> dict[str, Any]:
    """The card's ``training`` section; totals include the stage it was initialised from."""
    step, elapsed = progress.step, progress.elapsed
    previous = (init_card or {}).get("training", {})
    return {
        "data": (
            "solver.phantoms.random_ellipses(size, seed), generated on the fly, one new image "
            "per example; odd seeds carry a small low-contrast text or blob detail "
            "(solver.datasets)"
        ),
        "seed_ranges": {"train": f"{datasets.SPLIT_SEEDS['train']}..",
                        "validation": f"{datasets.SPLIT_SEEDS['validation']}..",
                        "test": f"{datasets.SPLIT_SEEDS['test']}.."},
        "detail_fraction": 0.5,
        "noise_augmentation": "none (noiseless measurements)",
        "crop_size": _crop_size(args),
        "batch_size": args.batch_size,
        "steps": step,
        "images_seen": step * args.batch_size,
        "initialised_from": None if init_card is None else {
            "weights_sha256": init_card["weights_sha256"],
            "mask_sha256": init_card["sampling"]["mask_sha256"],
            "training": previous,
        },
        "total_steps": step + previous.get("total_steps", previous.get("steps", 0)),
        "total_images_seen": step * args.batch_size
        + previous.get("total_images_seen", previous.get("images_seen", 0)),
        "epochs": None,
        "epochs_note": "no epochs: every training example is a new image",
        "optimizer": "Adam",
        "loss": "MSE",
        "lr": args.lr,
        "lr_schedule": f"cosine from lr to {args.min_lr_fraction} * lr over the budget",
        "init_seed": args.seed,
        "time_minutes": round(elapsed / 60, 2),
        "total_time_minutes": round(elapsed / 60 + previous.get("total_time_minutes", previous.get("time_minutes", 0.0)), 2),
        "device": str(device) if device.type != "cpu" else f"cpu ({platform.processor() or platform.machine()})",
        "threads": args.threads,
        "torch_version": torch.__version__,
        "command": "python -m solver.train " + " ".join(argv if argv is not None else sys.argv[1:]),
    }


def _validation_card(args: argparse.Namespace, final: dict[str, float]) -> dict[str, Any]:
    """The card's ``validation`` section, from ``_evaluate(..., with_ssim=True)``."""
    first = datasets.SPLIT_SEEDS["validation"]
    return {
        "images": args.val_images,
        "seeds": f"{first}..{first + args.val_images - 1}",
        "psnr_db": round(final["psnr_db"], 3),
        "ssim": round(final["ssim"], 4),
        "zero_filled_psnr_db": round(final["zero_filled_psnr_db"], 3),
        "zero_filled_ssim": round(final["zero_filled_ssim"], 4),
    }


def _budget_note(args: argparse.Namespace, device: torch.device, elapsed: float, crop: int) -> str:
    """What the training budget was, and what a bigger one would change, for the card."""
    if device.type == "cpu":
        where = f"a CPU with {args.threads} thread(s)"
    elif device.type == "cuda":
        where = f"a GPU ({torch.cuda.get_device_name(device)})"
    else:
        where = str(device)
    choices = [f"base width {args.base_width}"
               + (" instead of the paper's 32" if args.base_width < 32 else "")]
    if crop < args.size:
        choices.append(f"random {crop} x {crop} crops instead of full images")
    return (
        f"This stage trained for {elapsed / 60:.0f} minutes on {where}: "
        + ", ".join(choices)
        + f", {args.batch_size} images per step. The network is accurate on its training "
        "distribution; a longer run on more images would still improve it."
    )


def main(argv: Sequence[str] | None = None) -> int:
    train(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
