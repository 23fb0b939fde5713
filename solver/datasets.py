"""Training, validation and test data for the learned network, generated on the fly.

Every example is a deterministic function of one integer seed: the image is
``solver.phantoms.random_ellipses(size, seed)``, and for odd seeds a small low-contrast
detail (a short text or a small blob, as in the paper's training set) is added. The
three splits use disjoint seed ranges, so no test image is ever trained on:

========== ============================ ===========================================
split      seeds                        use
========== ============================ ===========================================
train      1_000_000, 1_000_001, ...    one new image per training example
validation 900_000 .. 900_000 + 99_999  progress and the model card's PSNR / SSIM
test       800_000 .. 800_000 + 99_999  tests and reported comparisons
========== ============================ ===========================================

The network's input is the zero-filled image ``A* y`` for noiseless ``y = A x``, as two
channels (real, imaginary); the target is ``x``.
"""

from __future__ import annotations

import numpy as np
import torch

from solver.validation import check_seed

__all__ = [
    "SPLIT_SEEDS",
    "split_seed",
    "has_detail",
    "example_image",
    "images",
    "network_input",
    "random_crops",
]

#: First seed of each split; each split owns the next 100_000 seeds (train: unbounded).
SPLIT_SEEDS = {"train": 1_000_000, "validation": 900_000, "test": 800_000}
_SPLIT_LENGTH = 100_000

# Short strings for the text details: letters and digits of varied shapes.
_WORDS = ("Can u see it?", "FIRE", "k-space", "42", "A B C", "xyz", "MRI", "8 7 6")


def split_seed(split: str, index: int) -> int:
    """The seed of example ``index`` of ``split`` ("train", "validation" or "test")."""
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {tuple(SPLIT_SEEDS)}, got {split!r}")
    check_seed(index, "index")
    if split != "train" and index >= _SPLIT_LENGTH:
        raise ValueError(f"index must be < {_SPLIT_LENGTH} for split {split!r}, got {index}")
    return SPLIT_SEEDS[split] + int(index)


def has_detail(seed: int) -> bool:
    """Whether the example with this seed carries a detail (odd seeds: half of them)."""
    check_seed(seed)
    return seed % 2 == 1


def _add_detail(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add one small low-contrast detail (text or blob) somewhere on the object.

    As in ``solver.phantoms.ellipses_with_text``, the image is compressed to
    ``[0, 1 - contrast]`` first, so the detail's contrast is exact and nothing clips.
    """
    from solver import phantoms

    n = image.shape[-1]
    contrast = float(rng.uniform(0.05, 0.15))
    support = np.argwhere(image > 0.0)
    centre = support[rng.integers(len(support))] if len(support) else np.array([n // 2, n // 2])
    if rng.random() < 0.5:
        text = str(rng.choice(_WORDS))
        height = max(5, int(round(n * rng.uniform(0.025, 0.05))))
        rows, cols = phantoms.text_extent(text, height)
        while cols > n - 2 and height > 4:
            height -= 1
            rows, cols = phantoms.text_extent(text, height)
        row = int(np.clip(centre[0] - rows // 2, 0, n - rows))
        col = int(np.clip(centre[1] - cols // 2, 0, n - cols))
        detail = phantoms.text_detail(n, text, (row, col), height)
    else:
        radius = float(n * rng.uniform(0.008, 0.03))
        detail = phantoms.blob_detail(n, (float(centre[0]), float(centre[1])), radius)
    return np.clip((1.0 - contrast) * image + contrast * detail, 0.0, 1.0)


def example_image(seed: int, size: int) -> np.ndarray:
    """One ground-truth image.

    Parameters
    ----------
    seed : int
        Example seed (see :func:`split_seed`).
    size : int
        Image side N.

    Returns
    -------
    np.ndarray, shape (N, N), float64 in [0, 1]
    """
    from solver import phantoms

    check_seed(seed)
    image = np.asarray(phantoms.random_ellipses(size, seed), dtype=np.float64)
    if has_detail(seed):
        # A separate stream, so the detail never changes the ellipses of the same seed.
        image = _add_detail(image, np.random.default_rng([seed, 1]))
    return image


def images(split: str, start: int, count: int, size: int) -> np.ndarray:
    """Examples ``start .. start + count - 1`` of a split, shape (count, N, N), float64."""
    return np.stack([example_image(split_seed(split, start + i), size) for i in range(count)])


def network_input(operator, image: torch.Tensor) -> torch.Tensor:
    """Zero-filled image ``A* A x`` as two channels.

    Parameters
    ----------
    operator : SubsampledFourier or SubsampledWalsh
    image : torch.Tensor, shape (B, N, N), real

    Returns
    -------
    torch.Tensor, shape (B, 2, N, N), float32 (real, imaginary)
    """
    complex_dtype = torch.complex128 if image.dtype == torch.float64 else torch.complex64
    zero_filled = operator.adjoint(operator.forward(image.to(complex_dtype)))
    return torch.stack([zero_filled.real, zero_filled.imag], dim=1).to(torch.float32)


def random_crops(
    inputs: torch.Tensor, targets: torch.Tensor, crop: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Aligned random crops of inputs (B, C, N, N) and targets (B, 1, N, N).

    The zero-filled image is computed on the full image first (its aliasing is global);
    only then are input and target cropped at the same place.
    """
    n = inputs.shape[-1]
    if crop >= n:
        return inputs, targets
    rows = rng.integers(0, n - crop + 1, size=inputs.shape[0])
    cols = rng.integers(0, n - crop + 1, size=inputs.shape[0])
    xs = [inputs[b, :, r : r + crop, c : c + crop] for b, (r, c) in enumerate(zip(rows, cols))]
    ts = [targets[b, :, r : r + crop, c : c + crop] for b, (r, c) in enumerate(zip(rows, cols))]
    return torch.stack(xs), torch.stack(ts)
