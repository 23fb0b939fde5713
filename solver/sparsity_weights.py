"""Level sparsities and weights as in the published FIRENET code (Colbrook, Antun, Hansen).

The published experiments weight the l1 norm per wavelet level by ``w_j = sqrt(s / s_j)``
(``s = sum_j s_j``) like :func:`solver.wavelets.level_weights`, but estimate the *local
sparsities* ``s_j`` differently:

- the image is first scaled to [0, 1] (min-max) and a coefficient counts when its
  modulus exceeds an **absolute** threshold (0.1 by default, 0.5 in their text-detail
  demo), not a fraction of the largest coefficient;
- the approximation is **merged into the coarsest detail level**: ``levels`` wavelet
  levels give ``levels`` sparsities, and the approximation and the coarsest detail bands
  share one weight;
- their index ranges ``M(i):M(i+1)`` over MATLAB's ``wavedec2`` vector overlap by one
  coefficient, so each finer level also counts the last coefficient of the level before
  it (the bottom-right diagonal coefficient). ``reference_indexing=True`` (default) keeps
  this so the counts equal theirs; ``False`` counts each level's own coefficients only.

Piecewise-constant images put many coefficients exactly on these thresholds (Shepp-Logan
at N = 64: 116 Haar coefficients of modulus exactly 0.1 and 48 of exactly 0.5), so the
counts there depend on floating-point rounding, in the published code as here.

Their stability experiments also type the sparsities in by hand (e.g. ``[4, 12, 48, 50,
100, 100]``); :func:`weights_from_sparsities` turns such a list into weights.
"""

from __future__ import annotations

import numpy as np
import torch

from solver.validation import check_positive
from solver.wavelets import Wavelet2D

__all__ = [
    "DEFAULT_THRESHOLD",
    "level_sparsities",
    "parse_sparsities",
    "sparsity_level_weights",
    "weights_from_sparsities",
]

#: The published default threshold on the [0, 1]-scaled image's wavelet coefficients.
DEFAULT_THRESHOLD = 0.1


def _check_image(image, size: int | None = None) -> np.ndarray:
    arr = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"image must be a square 2-D array, got shape {arr.shape}")
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"image must be numeric, got dtype {arr.dtype}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"image must have side {size}, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("image must contain only finite values (found NaN or Inf)")
    return arr


def level_sparsities(
    image,
    wavelet: Wavelet2D,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    reference_indexing: bool = True,
) -> np.ndarray:
    """Local sparsities per wavelet level, counted as in the published code.

    Parameters
    ----------
    image : array_like or torch.Tensor, shape (N, N), real or complex
        The image (its modulus is used when complex); scaled to [0, 1] by its minimum and
        maximum before the transform, as in the published code.
    wavelet : Wavelet2D
        Defines the levels (``wavelet.size == N``).
    threshold : float, default 0.1
        A coefficient counts when ``|c| > threshold`` (absolute, on the scaled image), > 0.
    reference_indexing : bool, default True
        Count as the published code does, where each finer level also counts the last
        (bottom-right diagonal) coefficient of the level before it; see the module notes.

    Returns
    -------
    np.ndarray, int64, shape (levels,)
        Coarsest first; entry 0 covers the approximation *and* the coarsest detail bands.

    Raises
    ------
    ValueError
        For a non-square image, a size that does not match ``wavelet`` or a bad threshold.
    """
    if not isinstance(wavelet, Wavelet2D):
        raise ValueError(f"wavelet must be a Wavelet2D, got {type(wavelet).__name__}")
    threshold = check_positive("threshold", threshold)
    arr = _check_image(image, wavelet.size)
    arr = np.abs(arr) if np.iscomplexobj(arr) else arr.astype(np.float64)
    low, high = float(arr.min()), float(arr.max())
    scaled = (arr - low) / (high - low) if high > low else np.zeros_like(arr)
    with torch.no_grad():
        coeffs = wavelet.forward(torch.from_numpy(np.ascontiguousarray(scaled))).numpy()
    significant = np.abs(coeffs) > threshold
    level_map = wavelet.level_map.copy()
    level_map[level_map == 0] = 1  # the approximation joins the coarsest detail level
    counts = np.bincount(level_map.ravel(), weights=significant.ravel(), minlength=wavelet.levels + 1)
    counts = counts[1:].astype(np.int64)
    if reference_indexing:
        # level j (>= 2) also counts the last diagonal coefficient of level j - 1, which
        # sits at packed position (2m - 1, 2m - 1) for that level's band side m
        for j in range(2, wavelet.levels + 1):
            m = wavelet.size >> (wavelet.levels - j + 2)
            counts[j - 1] += int(significant[2 * m - 1, 2 * m - 1])
    return counts


def parse_sparsities(text: str) -> np.ndarray:
    """A typed list of local sparsities, e.g. ``"4, 12, 48, 50, 100, 100"``.

    Parameters
    ----------
    text : str
        Numbers separated by commas, semicolons or spaces (brackets allowed), coarsest
        level first.

    Returns
    -------
    np.ndarray, float64, (L,)
        The numbers; check their count with :func:`weights_from_sparsities`.

    Raises
    ------
    ValueError
        For an empty list, a word that is not a number, or a number that is not finite
        and > 0, quoting it.
    """
    if not isinstance(text, str):
        raise ValueError(f"sparsities must be a string of numbers, got {type(text).__name__}")
    words = text.replace("[", " ").replace("]", " ").replace(",", " ").replace(";", " ").split()
    if not words:
        raise ValueError("sparsities must list at least one number, got an empty text")
    values = []
    for word in words:
        try:
            value = float(word)
        except ValueError:
            raise ValueError(f"sparsities must be numbers, got {word!r}") from None
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"sparsities must be finite and > 0, got {word!r}")
        values.append(value)
    return np.array(values)


def weights_from_sparsities(sparsities, wavelet: Wavelet2D) -> torch.Tensor:
    """Level weights ``w_j = sqrt(s / s_j)`` from a list of local sparsities.

    Parameters
    ----------
    sparsities : sequence of float, length ``levels`` or ``levels + 1``
        Coarsest first, every entry > 0. With ``levels`` entries (the published
        convention) the first covers the approximation and the coarsest detail level
        together; with ``levels + 1`` entries the approximation has its own.
    wavelet : Wavelet2D
        Defines the levels.

    Returns
    -------
    torch.Tensor, float64, shape (N, N)
        The weight of every packed coefficient (for ``FIRENET(weights=...)``).

    Raises
    ------
    ValueError
        For a wrong length, a non-positive or non-finite entry.

    Examples
    --------
    >>> W = Wavelet2D("haar", levels=2, size=8)
    >>> weights_from_sparsities([1, 3], W)[0, 0].item()  # sqrt(4 / 1)
    2.0
    """
    if not isinstance(wavelet, Wavelet2D):
        raise ValueError(f"wavelet must be a Wavelet2D, got {type(wavelet).__name__}")
    try:
        values = np.asarray(sparsities, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"sparsities must be a list of positive numbers, got {sparsities!r}") from None
    lv = wavelet.levels
    if values.ndim != 1 or values.size not in (lv, lv + 1):
        raise ValueError(
            f"sparsities must have {lv} entries (approximation merged into the coarsest "
            f"level) or {lv + 1} (approximation separate) for {lv} wavelet levels, got "
            f"shape {values.shape}"
        )
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise ValueError(f"sparsities must all be finite and > 0, got {values.tolist()}")
    total = values.sum()
    per_level = np.sqrt(total / values)
    if values.size == lv:
        per_level = np.concatenate([per_level[:1], per_level])
    return wavelet.broadcast_levels(per_level)


def sparsity_level_weights(
    image,
    wavelet: Wavelet2D,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    reference_indexing: bool = True,
) -> torch.Tensor:
    """The published weights for an image: :func:`level_sparsities` then :func:`weights_from_sparsities`.

    A level with no significant coefficient counts as one (its weight is then the largest,
    ``sqrt(s)``), as :func:`solver.wavelets.level_weights` does, so the weights stay
    finite; an image with none at all gives unit weights.

    Returns
    -------
    torch.Tensor, float64, shape (N, N)
    """
    counts = level_sparsities(image, wavelet, threshold=threshold, reference_indexing=reference_indexing)
    if counts.sum() == 0:
        return torch.ones(wavelet.size, wavelet.size, dtype=torch.float64)
    return weights_from_sparsities(np.maximum(counts, 1), wavelet)
