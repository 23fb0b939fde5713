"""Test images and training phantoms, all real float64 (N, N) arrays scaled to [0, 1].

Coordinates
-----------
Analytic phantoms live on the square [-1, 1]^2 (the *field of view*). Pixel (i, j) of an
N x N image samples the point

    x_j = (2 j + 1 - N) / N            (column, left to right)
    y_i = (N - 1 - 2 i) / N            (row, top to bottom: y points up)

i.e. pixel centres, so the image is symmetric about the origin. Ellipse shapes are drawn
with hard edges (a pixel belongs to an ellipse when its centre does), as in MATLAB's
``phantom`` and in the authors' ellipse generator: the images are then exactly piecewise
smooth, which is the setting of the sparsity theory.

Contents
--------
shepp_logan(size)
    Modified (Toft) Shepp-Logan head phantom, rasterised analytically at N.
camera(size)
    scikit-image's 512 x 512 ``camera`` photograph, resized to N.
random_ellipses(size, seed, ...), random_ellipses_batch(size, seeds, ...)
    The random-ellipse distribution the paper's U-Net is trained on.
random_ellipse_parameters(seed, ...), render_ellipses(size, ellipses)
    The same, in two steps (parameters do not depend on N).
text_detail, text_extent, blob_detail, insert_detail
    Small details (text, a smooth "tumour") and how to add them to an image.
ellipses_with_text(size, seed, ...)
    An ellipse image with a faint "Can u see it?" inside the object; returns the image
    *and* the detail mask, so the caller can measure what happened to the detail.
TEST_IMAGES, make_test_image(name, size, seed)
    Registry of the named test images for the user interface.

A user's own image file is decoded by ``solver.uploads``.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from solver.mr_images import mni_t1

__all__ = [
    "EllipseSet",
    "ImageSpec",
    "TEST_IMAGES",
    "blob_detail",
    "camera",
    "ellipses_with_text",
    "insert_detail",
    "make_test_image",
    "random_ellipse_parameters",
    "random_ellipses",
    "random_ellipses_batch",
    "render_ellipses",
    "shepp_logan",
    "text_detail",
    "text_extent",
]

MIN_SIZE = 8
MAX_SIZE = 4096

DEFAULT_TEXT = "Can u see it?"


# --------------------------------------------------------------------------- validation


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise ValueError(f"size must be an integer, got {size!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be in [{MIN_SIZE}, {MAX_SIZE}], got {size}")
    return int(size)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def _check_range(name: str, value, low: float, high: float) -> tuple[float, float]:
    """Validate a (min, max) pair inside [low, high] with min <= max."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (min, max), got {value!r}") from None
    if not (low <= lo <= hi <= high):
        raise ValueError(f"{name} must satisfy {low} <= min <= max <= {high}, got {value!r}")
    return lo, hi


def _scale01(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Map an array linearly onto [0, 1] (min -> 0, max -> 1); constant input is an error."""
    lo = float(image.min())
    hi = float(image.max())
    if not hi > lo:
        raise ValueError(f"{what} is constant (every value is {lo:g}); cannot scale it to [0, 1]")
    out = (image - lo) / (hi - lo)
    # Rounding can leave values a few ulps outside [0, 1]; the contract is exact.
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _pixel_coordinates(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates: x per column (increasing), y per row (decreasing)."""
    x = (2.0 * np.arange(size) + 1.0 - size) / size
    return x, -x


# --------------------------------------------------------------------------- ellipses


@dataclass(frozen=True)
class EllipseSet:
    """Parameters of K ellipses on the field [-1, 1]^2 (each field a float64 array (K,)).

    Ellipse k is the set of points p with ``|D^-1 R(-angle) (p - c)| <= 1``, where
    ``c = (centre_x, centre_y)``, ``D = diag(axis_a, axis_b)`` (semi-axes, in field units:
    1 is half the image width) and ``angle`` is the counter-clockwise rotation in radians.
    On the ellipse the intensity is the linear function
    ``bias + grad_x * x + grad_y * y``; overlapping ellipses add.
    """

    centre_x: np.ndarray
    centre_y: np.ndarray
    axis_a: np.ndarray
    axis_b: np.ndarray
    angle: np.ndarray
    grad_x: np.ndarray
    grad_y: np.ndarray
    bias: np.ndarray

    def __len__(self) -> int:
        return int(self.centre_x.shape[0])

    def min_intensity(self) -> np.ndarray:
        """Exact minimum of each ellipse's linear intensity over the (continuous) ellipse.

        A linear function g.p + b on the ellipse c + R D u (|u| <= 1) has minimum
        ``g.c + b - |D R^T g|``.
        """
        cos, sin = np.cos(self.angle), np.sin(self.angle)
        along_a = self.axis_a * (self.grad_x * cos + self.grad_y * sin)
        along_b = self.axis_b * (-self.grad_x * sin + self.grad_y * cos)
        return (
            self.bias
            + self.grad_x * self.centre_x
            + self.grad_y * self.centre_y
            - np.hypot(along_a, along_b)
        )


def render_ellipses(size: int, ellipses: EllipseSet) -> np.ndarray:
    """Rasterise a set of ellipses (sum of their intensities), without normalising.

    Parameters
    ----------
    size : int
        Image side N.
    ellipses : EllipseSet
        Shapes and intensities on the field [-1, 1]^2.

    Returns
    -------
    image : np.ndarray, shape (N, N), float64
        Sum over ellipses of ``intensity * indicator(pixel centre inside)``.

    Notes
    -----
    Each ellipse is evaluated only on the pixels of its bounding box, so the cost is
    proportional to the ellipses' area rather than K N^2 (about 1 ms for 30 ellipses at
    N = 256).
    """
    size = _check_size(size)
    x, y = _pixel_coordinates(size)
    out = np.zeros((size, size))
    half = (size - 1) / 2.0
    for cx, cy, a, b, t, gx, gy, c in zip(
        ellipses.centre_x.tolist(),
        ellipses.centre_y.tolist(),
        ellipses.axis_a.tolist(),
        ellipses.axis_b.tolist(),
        ellipses.angle.tolist(),
        ellipses.grad_x.tolist(),
        ellipses.grad_y.tolist(),
        ellipses.bias.tolist(),
    ):
        cos, sin = math.cos(t), math.sin(t)
        # Half-extents of the rotated ellipse along x and y.
        ex = math.sqrt((a * cos) ** 2 + (b * sin) ** 2)
        ey = math.sqrt((a * sin) ** 2 + (b * cos) ** 2)
        # Invert x_j = (2 j + 1 - N) / N and y_i = (N - 1 - 2 i) / N; one pixel of slack.
        j0 = max(int(math.floor((cx - ex) * size / 2 + half)) - 1, 0)
        j1 = min(int(math.ceil((cx + ex) * size / 2 + half)) + 2, size)
        i0 = max(int(math.floor(half - (cy + ey) * size / 2)) - 1, 0)
        i1 = min(int(math.ceil(half - (cy - ey) * size / 2)) + 2, size)
        if j0 >= j1 or i0 >= i1:
            continue
        dx = x[j0:j1] - cx
        dy = (y[i0:i1] - cy)[:, None]
        u = (dx * cos + dy * sin) / a
        v = (dy * cos - dx * sin) / b
        inside = u * u + v * v <= 1.0
        if gx == 0.0 and gy == 0.0:
            out[i0:i1, j0:j1] += c * inside
        else:
            value = c + gx * x[j0:j1] + gy * y[i0:i1][:, None]
            out[i0:i1, j0:j1] += inside * value
    return out


def random_ellipse_parameters(
    seed: int,
    *,
    count: tuple[int, int] = (20, 45),
    axes: tuple[float, float] = (0.03, 0.25),
    margin: float = 0.3,
    gradient: float = 0.9,
    bias: tuple[float, float] = (0.3, 1.0),
) -> EllipseSet:
    """Draw the parameters of one random-ellipse phantom (independent of the image size).

    The distribution follows the authors' training-data generator (after Genzel, Macdonald
    and Maerz, "robust-nets"):

    - K ellipses, K uniform on the integers ``count[0] .. count[1]`` (both included);
    - centres uniform on ``[-(1 - margin), 1 - margin]^2``;
    - semi-axes uniform on ``axes`` in field units (1 = half the image width, so the
      default 0.25 is an eighth of the width, as in the original code), each capped
      at ``0.9 (1 - max(|c_x|, |c_y|))`` so that no ellipse leaves the field;
    - rotation uniform on [0, pi);
    - intensity ``b + g_x x + g_y y`` on the ellipse with ``b`` uniform on ``bias`` and
      ``g ~ gradient * N(0, I)``; a gradient that would make the intensity negative
      somewhere on its ellipse is redrawn (the original redraws until the rendered
      ellipse is non-negative; here the test is exact on the continuous ellipse).

    Parameters
    ----------
    seed : int
        Seed (>= 0) for ``np.random.default_rng``.
    count : (int, int)
        Smallest and largest number of ellipses.
    axes : (float, float)
        Smallest and largest semi-axis, in field units.
    margin : float
        Centres stay at least this far (field units) from the border, in [0, 1).
    gradient : float
        Standard deviation of each gradient component (>= 0); 0 gives constant ellipses.
    bias : (float, float)
        Range of the intensity at the origin of the field.

    Returns
    -------
    EllipseSet
    """
    seed = _check_seed(seed)
    (kmin, kmax), (amin, amax), (bmin, bmax) = _check_ellipse_ranges(count, axes, margin, gradient, bias)
    rng = np.random.default_rng(seed)
    k = int(rng.integers(kmin, kmax + 1))
    reach = 1.0 - margin
    cx = rng.uniform(-reach, reach, k)
    cy = rng.uniform(-reach, reach, k)
    cap = 0.9 * (1.0 - np.maximum(np.abs(cx), np.abs(cy)))
    a = np.minimum(rng.uniform(amin, amax, k), cap)
    b = np.minimum(rng.uniform(amin, amax, k), cap)
    angle = rng.uniform(0.0, np.pi, k)
    c = rng.uniform(bmin, bmax, k)
    gx = gradient * rng.standard_normal(k)
    gy = gradient * rng.standard_normal(k)
    ellipses = EllipseSet(cx, cy, a, b, angle, gx, gy, c)
    _redraw_negative_gradients(ellipses, gradient, rng)
    return ellipses


def _check_ellipse_ranges(count, axes, margin, gradient, bias) -> tuple[tuple[int, int], tuple[float, float],
                                                                      tuple[float, float]]:
    """The checked ``count``, ``axes`` and ``bias`` ranges of :func:`random_ellipse_parameters`."""
    try:
        kmin, kmax = (int(v) for v in count)
        if (kmin, kmax) != tuple(count):
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(f"count must be a pair of integers (min, max), got {count!r}") from None
    if not 1 <= kmin <= kmax:
        raise ValueError(f"count must satisfy 1 <= min <= max, got {count!r}")
    amin, amax = _check_range("axes", axes, 0.0, 1.0)
    if amin <= 0.0:
        raise ValueError(f"axes must be positive, got {axes!r}")
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"margin must be in [0, 1), got {margin}")
    if not (gradient >= 0.0 and math.isfinite(gradient)):
        raise ValueError(f"gradient must be finite and >= 0, got {gradient}")
    bmin, bmax = _check_range("bias", bias, 0.0, math.inf)
    if bmax <= 0.0:
        raise ValueError(f"bias must allow positive intensities, got {bias!r}")
    return (kmin, kmax), (amin, amax), (bmin, bmax)


def _redraw_negative_gradients(ellipses: EllipseSet, gradient: float, rng: np.random.Generator) -> None:
    """Redraw, in place, the gradients that make an ellipse's intensity negative somewhere."""
    gx, gy = ellipses.grad_x, ellipses.grad_y
    # Vectorised rejection: redraw only the gradients that go negative. Acceptance is
    # about 1/3 or better with the defaults, so 20 plain rounds almost always suffice;
    # after that the redraws shrink, so the loop ends after a bounded number of rounds
    # whatever the parameters (a zero gradient is always admissible, since c >= 0).
    bad = ellipses.min_intensity() < 0.0
    shrink, rounds = 1.0, 0
    while bad.any():
        rounds += 1
        if rounds > 20:
            shrink *= 0.8
        n_bad = int(bad.sum())
        gx[bad] = shrink * gradient * rng.standard_normal(n_bad)
        gy[bad] = shrink * gradient * rng.standard_normal(n_bad)
        if shrink < 1e-3:
            gx[bad] = 0.0
            gy[bad] = 0.0
        bad = ellipses.min_intensity() < 0.0


def random_ellipses(size: int, seed: int, **params) -> np.ndarray:
    """Random-ellipse phantom: the training distribution of the paper's U-Net.

    Parameters
    ----------
    size : int
        Image side N (8 .. 4096).
    seed : int
        Seed (>= 0); the same seed gives the same phantom (at any N: the shapes are drawn
        on the continuous field, then rasterised).
    **params
        Keyword options of `random_ellipse_parameters` (``count``, ``axes``, ``margin``,
        ``gradient``, ``bias``).

    Returns
    -------
    image : np.ndarray, shape (N, N), float64, values in [0, 1]
        Sum of 20 - 45 ellipses with linearly varying intensities, scaled so that the
        background (no ellipse) is 0 and the brightest pixel is 1.

    Examples
    --------
    >>> x = random_ellipses(256, seed=3)
    >>> x.shape, float(x.min()), float(x.max())
    ((256, 256), 0.0, 1.0)
    """
    size = _check_size(size)
    image = render_ellipses(size, random_ellipse_parameters(seed, **params))
    peak = float(image.max())
    if not peak > 0.0:
        # Only possible when every ellipse misses every pixel centre (tiny N, tiny axes).
        raise ValueError(
            f"no ellipse covers a pixel centre at size {size} for seed {seed}; "
            "use a larger size or larger axes"
        )
    # Intensities are >= 0 and the background is 0, so dividing by the peak is the
    # [0, 1] scaling; min-max guards the corner case of a field fully covered at tiny N.
    return _scale01(image, "ellipse image") if image.min() > 0.0 else image / peak


def random_ellipses_batch(size: int, seeds, **params) -> np.ndarray:
    """A stack of random-ellipse phantoms, one per seed.

    Parameters
    ----------
    size : int
        Image side N.
    seeds : iterable of int
        One seed (>= 0) per image; image b equals ``random_ellipses(size, seeds[b])``.
    **params
        As for `random_ellipses`.

    Returns
    -------
    images : np.ndarray, shape (B, N, N), float64, values in [0, 1]
    """
    size = _check_size(size)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must contain at least one seed, got an empty sequence")
    out = np.empty((len(seeds), size, size))
    for b, seed in enumerate(seeds):
        out[b] = random_ellipses(size, seed, **params)
    return out


# Modified Shepp-Logan (Toft, 1996; MATLAB's phantom 'Modified Shepp-Logan'):
# intensity, semi-axis a, semi-axis b, centre x, centre y, rotation (degrees).
_MODIFIED_SHEPP_LOGAN = np.array(
    [
        [1.0, 0.69, 0.92, 0.0, 0.0, 0.0],
        [-0.8, 0.6624, 0.8740, 0.0, -0.0184, 0.0],
        [-0.2, 0.1100, 0.3100, 0.22, 0.0, -18.0],
        [-0.2, 0.1600, 0.4100, -0.22, 0.0, 18.0],
        [0.1, 0.2100, 0.2500, 0.0, 0.35, 0.0],
        [0.1, 0.0460, 0.0460, 0.0, 0.1, 0.0],
        [0.1, 0.0460, 0.0460, 0.0, -0.1, 0.0],
        [0.1, 0.0460, 0.0230, -0.08, -0.605, 0.0],
        [0.1, 0.0230, 0.0230, 0.0, -0.605, 0.0],
        [0.1, 0.0230, 0.0460, 0.06, -0.605, 0.0],
    ]
)


def shepp_logan(size: int) -> np.ndarray:
    """Modified Shepp-Logan phantom, rasterised analytically at N x N.

    The ten ellipses of the modified (Toft) phantom are sampled at pixel centres (no
    resizing, so edges stay sharp at every N); this is the same phantom as MATLAB's
    ``phantom(N)`` and scikit-image's ``data.shepp_logan_phantom()`` (400 x 400).

    Parameters
    ----------
    size : int
        Image side N (8 .. 4096).

    Returns
    -------
    image : np.ndarray, shape (N, N), float64
        Values in {0, 0.1, 0.2, 0.3, 0.4, 1} (up to rounding): 0 outside the head and
        in the ventricles, 1 on the skull; so already in [0, 1] with min 0 and max 1.
    """
    size = _check_size(size)
    t = _MODIFIED_SHEPP_LOGAN
    zero = np.zeros(len(t))
    ellipses = EllipseSet(
        centre_x=t[:, 3],
        centre_y=t[:, 4],
        axis_a=t[:, 1],
        axis_b=t[:, 2],
        angle=np.deg2rad(t[:, 5]),
        grad_x=zero,
        grad_y=zero,
        bias=t[:, 0],
    )
    image = render_ellipses(size, ellipses)
    # 1 - 0.8 - 0.2 is -5.6e-17 in floating point: clip the rounding, keep the values.
    return np.clip(image, 0.0, 1.0)


@functools.lru_cache(maxsize=1)
def _camera_source() -> np.ndarray:
    from skimage import data

    image = data.camera().astype(np.float64)
    image.setflags(write=False)
    return image


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """Square image to size x size: bilinear, with anti-aliasing when shrinking."""
    from skimage.transform import resize

    if image.shape == (size, size):
        return image.astype(np.float64, copy=True)
    shrinking = image.shape[0] > size
    return resize(
        image,
        (size, size),
        order=1,
        mode="reflect",
        anti_aliasing=shrinking,
        preserve_range=True,
    ).astype(np.float64, copy=False)


def camera(size: int) -> np.ndarray:
    """scikit-image's ``camera`` photograph (512 x 512, 8-bit), resized to N x N.

    Parameters
    ----------
    size : int
        Image side N (8 .. 4096).

    Returns
    -------
    image : np.ndarray, shape (N, N), float64
        Bilinear resize (Gaussian anti-aliasing when N < 512), then mapped linearly onto
        [0, 1] (min 0, max 1).
    """
    size = _check_size(size)
    return _scale01(_resize(_camera_source(), size), "camera image")


# --------------------------------------------------------------------------- details


@functools.lru_cache(maxsize=64)
def _font(font_size: int):
    from PIL import ImageFont

    # Pillow >= 10.1 embeds a scalable default font (needs no font files); load_default
    # with a size returns a FreeTypeFont, which renders anti-aliased glyphs.
    return ImageFont.load_default(size=font_size)


def _check_text(text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string, got {text!r}")
    if "\n" in text or "\r" in text:
        raise ValueError(f"text must be a single line, got {text!r}")
    return text


def _check_height(height) -> int:
    if isinstance(height, bool) or not isinstance(height, numbers.Integral) or height < 4:
        raise ValueError(f"height must be an integer >= 4 (pixels), got {height!r}")
    return int(height)


@functools.lru_cache(maxsize=256)
def _render_text(text: str, height: int) -> np.ndarray:
    """Anti-aliased rendering of one line of text, cropped to its box; ink rows <= height."""
    from PIL import Image, ImageDraw

    # Largest font whose ink box is at most `height` rows tall: the font size (em) is
    # larger than the ink of a given string, so start above it and come down.
    font_size = 2 * height
    while True:
        left, top, right, bottom = _font(font_size).getbbox(text)
        if bottom - top <= height or font_size <= 1:
            break
        font_size -= 1
    width, ink_height = max(right - left, 1), max(bottom - top, 1)
    canvas = Image.new("L", (width, ink_height), 0)
    ImageDraw.Draw(canvas).text((-left, -top), text, fill=255, font=_font(font_size))
    glyphs = np.asarray(canvas, dtype=np.float64) / 255.0
    glyphs.setflags(write=False)
    return glyphs


def text_extent(text: str, height: int) -> tuple[int, int]:
    """Size (rows, columns) of the box `text_detail` fills for this text and height.

    Parameters
    ----------
    text : str
        One line of text.
    height : int
        Box height in pixels (>= 4).

    Returns
    -------
    (rows, cols) : tuple of int
        ``rows == height``; ``cols`` is the rendered text width in pixels.
    """
    text = _check_text(text)
    height = _check_height(height)
    return height, int(_render_text(text, height).shape[1])


def text_detail(
    size: int,
    text: str = DEFAULT_TEXT,
    position: tuple[int, int] | None = None,
    height: int = 12,
) -> np.ndarray:
    """Anti-aliased text mask, to be added to an image as a small detail.

    Parameters
    ----------
    size : int
        Image side N.
    text : str
        One line of text, drawn with Pillow's built-in scalable font (no font files).
    position : (int, int) or None
        (row, column) of the top-left corner of the text box, in pixels; the box is
        ``text_extent(text, height)`` and must lie inside the image. None centres it.
    height : int
        Height of the text box in pixels (>= 4). The glyphs are drawn with the largest
        font whose ink fits: every non-zero pixel lies in rows ``row .. row + height - 1``
        and columns ``col .. col + width - 1`` (for most texts the ink spans the whole
        height).

    Returns
    -------
    mask : np.ndarray, shape (N, N), float64, values in [0, 1]
        1 on the glyphs, fractional on their anti-aliased edges, 0 elsewhere.
    """
    size = _check_size(size)
    rows, cols = text_extent(text, height)
    glyphs = _render_text(text, rows)
    if position is None:
        position = ((size - rows) // 2, (size - cols) // 2)
    try:
        row, col = (int(p) for p in position)
        if any(int(p) != p for p in position):
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(
            f"position must be a pair of integers (row, col), got {position!r}"
        ) from None
    if rows > size or cols > size:
        raise ValueError(
            f"text {text!r} at height {rows} needs a {rows} x {cols} box, larger than the "
            f"{size} x {size} image; use a smaller height or a shorter text"
        )
    if not (0 <= row <= size - rows and 0 <= col <= size - cols):
        raise ValueError(
            f"position must keep the {rows} x {cols} text box inside the {size} x {size} "
            f"image (row in [0, {size - rows}], col in [0, {size - cols}]), got {position!r}"
        )
    mask = np.zeros((size, size))
    # Centre the glyph rows vertically in the box (the ink may be shorter than height).
    top = row + (rows - glyphs.shape[0]) // 2
    mask[top : top + glyphs.shape[0], col : col + cols] = glyphs
    return mask


def blob_detail(
    size: int,
    center: tuple[float, float],
    radius: float,
    softness: float | None = None,
) -> np.ndarray:
    """Smooth round "tumour" mask.

    Parameters
    ----------
    size : int
        Image side N.
    center : (float, float)
        (row, column) of the centre, in pixels (fractional allowed).
    radius : float
        Radius in pixels (> 0), where the mask is 1/2.
    softness : float or None
        Width in pixels (>= 0) of the smooth edge; None uses ``max(1, radius / 4)``; 0 gives
        a hard disc.

    Returns
    -------
    mask : np.ndarray, shape (N, N), float64, values in [0, 1]
        ``smoothstep((radius + softness/2 - r) / softness)`` with r the distance to the
        centre: exactly 1 for ``r <= radius - softness/2`` and exactly 0 for
        ``r >= radius + softness/2`` (compact support, so the detail is localised).
    """
    size = _check_size(size)
    try:
        crow, ccol = (float(c) for c in center)
    except (TypeError, ValueError):
        raise ValueError(f"center must be a pair (row, col), got {center!r}") from None
    if not (math.isfinite(crow) and math.isfinite(ccol)):
        raise ValueError(f"center must be finite, got {center!r}")
    if not (radius > 0 and math.isfinite(radius)):
        raise ValueError(f"radius must be a positive number of pixels, got {radius}")
    if softness is None:
        softness = max(1.0, radius / 4.0)
    if not (softness >= 0 and math.isfinite(softness)):
        raise ValueError(f"softness must be >= 0, got {softness}")
    idx = np.arange(size, dtype=np.float64)
    r = np.hypot(idx[:, None] - crow, idx[None, :] - ccol)
    if softness == 0:
        return (r <= radius).astype(np.float64)
    t = np.clip((radius + softness / 2.0 - r) / softness, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def insert_detail(image, detail_mask, contrast: float) -> np.ndarray:
    """Add a detail to an image: ``clip(image + contrast * detail_mask, 0, 1)``.

    Parameters
    ----------
    image : np.ndarray, shape (N, N), real
        Image with values in [0, 1]; not modified.
    detail_mask : np.ndarray, shape (N, N), real, values in [0, 1]
        Mask from `text_detail` or `blob_detail`.
    contrast : float
        Intensity of the detail in [-1, 1] (image units: 0.1 is 10% of the full range);
        negative values darken.

    Returns
    -------
    np.ndarray, shape (N, N), float64, values in [0, 1]

    Notes
    -----
    Values are clipped to [0, 1], so a detail on a region brighter than ``1 - contrast``
    loses part of its contrast. `ellipses_with_text` avoids this by scaling the base
    image down just enough first.
    """
    image = np.asarray(image)
    detail_mask = np.asarray(detail_mask)
    if image.ndim != 2 or image.shape[0] != image.shape[1]:
        raise ValueError(f"image must be a square 2-D array, got shape {image.shape}")
    if detail_mask.shape != image.shape:
        raise ValueError(
            f"detail_mask must have the image's shape {image.shape}, got {detail_mask.shape}"
        )
    if np.iscomplexobj(image) or np.iscomplexobj(detail_mask):
        raise ValueError("image and detail_mask must be real")
    if not (np.isfinite(image).all() and np.isfinite(detail_mask).all()):
        raise ValueError("image and detail_mask must be finite")
    if not (-1.0 <= contrast <= 1.0):
        raise ValueError(f"contrast must be in [-1, 1], got {contrast}")
    return np.clip(image.astype(np.float64) + contrast * detail_mask, 0.0, 1.0)


def _default_text_height(size: int, text: str) -> int:
    """About N / 32 pixels (8 px at N = 256), but at least 6 and narrow enough to fit."""
    height = max(6, round(size / 32))
    while height > 4 and text_extent(text, height)[1] > size - 4:
        height -= 1
    return height


def _place_in_support(support: np.ndarray, rows: int, cols: int, pad: int) -> tuple[int, int]:
    """Top-left corner of the rows x cols box best covered by ``support``.

    Score = fraction of the padded box inside the support (summed-area table, all
    positions at once); ties go to the position nearest the image centre.
    """
    size = support.shape[0]
    pr, pc = rows + 2 * pad, cols + 2 * pad
    if pr > size or pc > size:
        pad = 0
        pr, pc = rows, cols
    table = np.zeros((size + 1, size + 1))
    table[1:, 1:] = support.astype(np.float64).cumsum(0).cumsum(1)
    cover = table[pr:, pc:] - table[:-pr, pc:] - table[pr:, :-pc] + table[:-pr, :-pc]
    cover /= pr * pc
    r0 = np.arange(cover.shape[0])[:, None] + pr / 2.0 - size / 2.0
    c0 = np.arange(cover.shape[1])[None, :] + pc / 2.0 - size / 2.0
    # The distance term is < 1 / (pr * pc), below one pixel of coverage: a tie-breaker only.
    score = cover - 0.5 * (r0 * r0 + c0 * c0) / (size * size) / (pr * pc)
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(i) + pad, int(j) + pad


def ellipses_with_text(
    size: int,
    seed: int,
    text: str = DEFAULT_TEXT,
    contrast: float = 0.1,
    position: tuple[int, int] | None = None,
    height: int | None = None,
    **params,
) -> tuple[np.ndarray, np.ndarray]:
    """Random-ellipse phantom with a faint line of text inside the object.

    Parameters
    ----------
    size : int
        Image side N.
    seed : int
        Seed (>= 0) of the ellipse image (`random_ellipses`).
    text : str
        The detail, one line (default "Can u see it?", as in the paper).
    contrast : float
        Height of the detail in (0, 1], in image units (0.1 = 10% of the full range).
    position : (int, int) or None
        Top-left (row, col) of the text box in pixels. None places it automatically where
        the box (with a small margin) is best covered by the ellipses, nearest the centre
        among equals, so the text sits on the object rather than on the background.
    height : int or None
        Text height in pixels (the ink of the whole line spans exactly this many rows);
        None uses about N / 32 (at least 6), reduced until the text fits across the image.
    **params
        Options of `random_ellipse_parameters`.

    Returns
    -------
    image : np.ndarray, shape (N, N), float64, values in [0, 1] (min 0, max 1)
        ``s * ellipses + contrast * mask`` with s in [1 - contrast, 1] the largest scale
        that keeps every pixel <= 1: nothing is clipped, the detail's contrast is exactly
        ``contrast`` (to rounding) everywhere, and the peak is 1 like the other images.
    detail_mask : np.ndarray, shape (N, N), float64, values in [0, 1]
        The text mask (`text_detail`), for measuring the error on the detail's region
        (e.g. ``detail_mask > 0``).
    """
    size = _check_size(size)
    text = _check_text(text)
    if not (0.0 < contrast <= 1.0):
        raise ValueError(f"contrast must be in (0, 1], got {contrast}")
    if height is None:
        height = _default_text_height(size, text)
    rows, cols = text_extent(text, height)
    base = random_ellipses(size, seed, **params)
    if position is None:
        position = _place_in_support(base > 0.0, rows, cols, pad=max(1, rows // 4))
    mask = text_detail(size, text, position, height)
    # Largest scale s of the base that keeps s * base + contrast * mask <= 1 everywhere;
    # s >= 1 - contrast because base, mask <= 1, and the maximum is then exactly 1.
    on = base > 0.0
    scale = min(1.0, float(np.min((1.0 - contrast * mask[on]) / base[on])))
    image = scale * base + contrast * mask
    # Removes the last-ulp rounding so the peak is exactly 1.0.
    image /= image.max()
    return image, mask


# --------------------------------------------------------------------------- registry


class ImageSpec(NamedTuple):
    """A named test image: a label for the user interface and ``make(size, seed)``."""

    label: str
    make: Callable[[int, int], np.ndarray]


def _seedless(function: Callable[[int], np.ndarray]) -> Callable[[int, int], np.ndarray]:
    """Adapt a deterministic image to the (size, seed) signature; the seed is validated."""

    def make(size: int, seed: int = 0) -> np.ndarray:
        _check_seed(seed)
        return function(size)

    make.__name__ = make.__qualname__ = function.__name__
    make.__doc__ = f"{function.__name__}(size); the seed is ignored."
    return make


def _ellipses_text_image(size: int, seed: int = 0) -> np.ndarray:
    return ellipses_with_text(size, seed)[0]


#: name -> ImageSpec(label, make(size, seed) -> np.ndarray (N, N) float64 in [0, 1]).
#: Images without randomness ignore the seed. `make_test_image` also returns the detail
#: mask where an image has one.
TEST_IMAGES: dict[str, ImageSpec] = {
    "shepp_logan": ImageSpec("Shepp-Logan phantom", _seedless(shepp_logan)),
    "ellipses": ImageSpec("Random ellipses (training distribution)", random_ellipses),
    "ellipses_text": ImageSpec('Ellipses with "Can u see it?"', _ellipses_text_image),
    "camera": ImageSpec("Cameraman photograph", _seedless(camera)),
    "mni_t1": ImageSpec("MR brain slice (MNI ICBM152 T1)", _seedless(mni_t1)),
}


def make_test_image(name: str, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Build a registered test image together with its detail mask, if it has one.

    Parameters
    ----------
    name : str
        A key of `TEST_IMAGES`.
    size : int
        Image side N.
    seed : int
        Seed (>= 0); ignored by deterministic images.

    Returns
    -------
    image : np.ndarray, shape (N, N), float64, values in [0, 1]
    detail_mask : np.ndarray, shape (N, N), float64, or None
        The inserted detail (only for ``"ellipses_text"``), else None.
    """
    if name not in TEST_IMAGES:
        raise ValueError(f"name must be one of {sorted(TEST_IMAGES)}, got {name!r}")
    if name == "ellipses_text":
        return ellipses_with_text(size, seed)
    return TEST_IMAGES[name].make(size, seed), None
