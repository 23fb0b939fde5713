"""Arrays as 8-bit pictures: a plotly colour scale applied to a value range, encoded as PNG
or WebP bytes (for ``st.image`` and for the image panels of ``explorer.figures``).

Values are mapped linearly from the range onto 256 colours of the scale (clipped at both
ends); a complex image is shown by its magnitude.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

__all__ = ["colourscale", "shown", "coloured_png", "coloured_webp", "coloured_webp_lossless", "image_png"]


def colourscale(name: str) -> list:
    """A named plotly colour scale as an explicit list (so no theme can replace it)."""
    import plotly.colors

    # As "rgb(r, g, b)" strings: the browser's plotly parsed inferno's first stop
    # "#000004" as a short hex with alpha and drew zero as pink.
    scale = plotly.colors.get_colorscale(name)
    return [[float(pos), plotly.colors.convert_colors_to_same_type(colour, "rgb")[0][0]]
            for pos, colour in scale]


def shown(image: np.ndarray) -> np.ndarray:
    """What a picture shows: the image, or its magnitude when it is complex (float64)."""
    image = np.asarray(image)
    return np.abs(image) if np.iscomplexobj(image) else image.astype(np.float64)


def _palette_image(image: np.ndarray, value_range: tuple[float, float], scale: str) -> Any:
    import plotly.colors
    from PIL import Image

    lo, hi = value_range
    scaled = np.clip((shown(image) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    indices = np.round(np.nan_to_num(scaled) * 255).astype(np.uint8)
    colours = plotly.colors.sample_colorscale(colourscale(scale), list(np.linspace(0.0, 1.0, 256)))
    picture = Image.fromarray(indices, mode="P")
    picture.putpalette([int(v) for colour in colours for v in plotly.colors.unlabel_rgb(colour)])
    return picture


def coloured_png(image: np.ndarray, value_range: tuple[float, float], scale: str = "gray") -> bytes:
    """``image`` as an 8-bit palette PNG: values mapped linearly from ``value_range`` onto
    256 colours of the plotly colour scale ``scale`` (clipped at both ends). Exact."""
    buffer = io.BytesIO()
    _palette_image(image, value_range, scale).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def coloured_webp_lossless(image: np.ndarray, value_range: tuple[float, float], scale: str = "gray") -> bytes:
    """The same pixels as :func:`coloured_png`, as a lossless WebP: exact, and about a
    fifth smaller than the PNG for reconstructions (measured 13.1 against 16.6 kB)."""
    buffer = io.BytesIO()
    _palette_image(image, value_range, scale).convert("RGB").save(buffer, "WEBP", lossless=True, method=6)
    return buffer.getvalue()


def coloured_webp(image: np.ndarray, value_range: tuple[float, float], scale: str = "inferno") -> bytes:
    """The same as :func:`coloured_png`, as a lossy WebP (quality 85): for error and
    change maps, noise-like pictures whose PNG is 3-5 times larger and whose every pixel
    value does not matter to the eye."""
    buffer = io.BytesIO()
    _palette_image(image, value_range, scale).convert("RGB").save(buffer, "WEBP", quality=85, method=4)
    return buffer.getvalue()


def image_png(image: np.ndarray, value_range: tuple[float, float] = (0.0, 1.0)) -> bytes:
    """An image as 8-bit grayscale PNG bytes (clipped to ``value_range``)."""
    from PIL import Image

    lo, hi = value_range
    scaled = np.clip((shown(image) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    buffer = io.BytesIO()
    Image.fromarray(np.round(scaled * 255).astype(np.uint8), mode="L").save(buffer, "PNG")
    return buffer.getvalue()
