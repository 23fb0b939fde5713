"""Arrays as 8-bit pictures: a plotly colour scale applied to a value range, encoded as PNG
or WebP bytes (for ``st.image`` and for the image panels of ``explorer.figures``).

Values are mapped linearly from the range onto 256 colours of the scale (clipped at both
ends); a complex image is shown by its magnitude.

Encoding was the larger part of drawing a cached page (a 256 x 256 PNG with ``optimize``
took about 30 ms, plotly's sampling of the colour scale another 15-30 ms; PNGs are now written at
:data:`PNG_LEVEL` and the palette interpolated here),
and a page shows the same pictures on every rerun and to every visitor: the encoded bytes are kept, keyed on a digest of the array's
content, its range, scale and format (:data:`MEMO_ENTRIES` pictures, least recently used
dropped first).
"""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from explorer.memo import Memo, array_digest

__all__ = ["colourscale", "shown", "coloured_png", "coloured_webp", "coloured_webp_lossless", "coloured_jpeg",
           "image_png"]


def colourscale(name: str) -> list:
    """A named plotly colour scale as an explicit list of ``[position, "rgb(r, g, b)"]``
    (so no theme can replace it)."""
    return [list(stop) for stop in _colour_stops(name)]


@functools.lru_cache(maxsize=64)
def _colour_stops(name: str) -> tuple[tuple[float, str], ...]:
    # plotly looks a name up through its validators (about 3 ms a call): once per scale
    import plotly.colors

    # As "rgb(r, g, b)" strings: the browser's plotly parsed inferno's first stop
    # "#000004" as a short hex with alpha and drew zero as pink.
    scale = plotly.colors.get_colorscale(name)
    return tuple((float(pos), plotly.colors.convert_colors_to_same_type(colour, "rgb")[0][0]) for pos, colour in scale)


def shown(image: np.ndarray) -> np.ndarray:
    """What a picture shows: the image, or its magnitude when it is complex (float64)."""
    image = np.asarray(image)
    return np.abs(image) if np.iscomplexobj(image) else image.astype(np.float64)


#: zlib level of the PNGs: a colour map or range change encodes a row of pictures while the
#: visitor waits, and at 256 x 256 level 3 took 2.4 ms a picture against 28.6 ms with
#: ``optimize`` (and 7.8 ms at the default 6), for pictures 3 % larger (32.3 against 31.2 kB).
PNG_LEVEL = 3

#: The scale in which a picture's PNG is encoded; its other scales swap the palette.
PNG_BASE_SCALE = "gray"

#: Encoded pictures kept (about 10-40 kB each at N = 256): a page's twenty pictures for
#: a few dozen page states.
MEMO_ENTRIES = 512


_MEMO = Memo(MEMO_ENTRIES)


def _content(image: np.ndarray, width: int | None = None) -> tuple[np.ndarray, str]:
    """The array (contiguous) and a digest of its content; ``width`` checked."""
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
        raise ValueError(f"width must be a positive number of pixels or None, got {width!r}")
    array = np.ascontiguousarray(image)
    return array, array_digest(array)


def _memo_key(kind: str, content: str, value_range: tuple[float, float], scale: str, width: int | None) -> tuple:
    # the content's digest covers the array's dtype and shape
    return kind, content, float(value_range[0]), float(value_range[1]), scale, width


def _encoded(kind: str, image: np.ndarray, value_range: tuple[float, float], scale: str,
             encode: Callable[[Any], bytes], width: int | None = None) -> bytes:
    """``encode(palette image)``, memoised on the array's content and the drawing options."""
    array, content = _content(image, width)
    key = _memo_key(kind, content, value_range, scale, width)
    return _MEMO.get_or_make(key, lambda: encode(_palette_image(array, value_range, scale, width)))


@functools.lru_cache(maxsize=64)
def _palette(scale: str) -> tuple[int, ...]:
    """The 256 colours of ``scale`` as a flat (r, g, b, ...) palette: the scale sampled at
    ``k / 255`` by linear interpolation between its stops, rounded, as plotly's
    ``sample_colorscale`` does (the same integers for every named scale), without its
    per-colour parsing (30 ms a scale, which a visitor waited for at each new colour map)."""
    stops = _colour_stops(scale)
    positions = np.array([position for position, _ in stops])
    colours = np.array([[float(v) for v in colour[colour.index("(") + 1:-1].split(",")] for _, colour in stops])
    samples = np.linspace(0.0, 1.0, 256)
    above = np.clip(np.searchsorted(positions, samples, side="left"), 1, len(stops) - 1)
    below = above - 1
    share = (samples - positions[below]) / (positions[above] - positions[below])
    rgb = colours[below] + share[:, None] * (colours[above] - colours[below])
    return tuple(int(v) for v in np.round(rgb).astype(int).ravel())


def _palette_image(image: np.ndarray, value_range: tuple[float, float], scale: str, width: int | None) -> Any:
    from PIL import Image

    lo, hi = value_range
    scaled = np.nan_to_num(np.clip((shown(image) - lo) / max(hi - lo, 1e-12), 0.0, 1.0))
    if width is not None and width < scaled.shape[-1]:
        # each pixel the mean of the area it covers (the height as the browser keeps the
        # aspect ratio: rounded down)
        height = int(scaled.shape[0] * width / scaled.shape[1])
        scaled = np.asarray(Image.fromarray(scaled.astype(np.float32), mode="F").resize(
            (width, max(height, 1)), Image.Resampling.BOX))
    indices = np.round(scaled * 255).astype(np.uint8)
    picture = Image.fromarray(indices, mode="P")
    picture.putpalette(list(_palette(scale)))
    return picture


def _save(picture: Any, image_format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, image_format, **options)
    return buffer.getvalue()


def coloured_png(image: np.ndarray, value_range: tuple[float, float], scale: str = "gray", *,
                 width: int | None = None) -> bytes:
    """``image`` as an 8-bit palette PNG: values mapped linearly from ``value_range`` onto
    256 colours of the plotly colour scale ``scale`` (clipped at both ends). Exact; with
    ``width``, an image wider than that is drawn ``width`` pixels wide, each pixel the mean
    of the clipped values it covers (for ``st.image(width=...)``, which would otherwise
    decode, shrink and encode the picture again on every run).

    A picture's PNG in another scale is its PNG in :data:`PNG_BASE_SCALE` with the palette
    replaced: the same file as encoding it again, without the mapping and compression
    (about 4 ms a picture at 256 x 256) while a visitor waits for a new colour map.
    """
    array, content = _content(image, width)

    def encode() -> bytes:
        base = _MEMO.get_or_make(
            _memo_key("png", content, value_range, PNG_BASE_SCALE, width),
            lambda: _save(_palette_image(array, value_range, PNG_BASE_SCALE, width), "PNG", compress_level=PNG_LEVEL))
        return base if scale == PNG_BASE_SCALE else _with_palette(base, _palette(scale))

    return _MEMO.get_or_make(_memo_key("png", content, value_range, scale, width), encode)


def _with_palette(png: bytes, palette: tuple[int, ...]) -> bytes:
    """The palette PNG ``png`` (one this module wrote) with the colours of its ``PLTE``
    chunk replaced by the first as many of ``palette`` (its checksum recomputed)."""
    start = 8  # after the signature: chunks of length, type, data, CRC
    while start + 8 <= len(png):
        length = int.from_bytes(png[start:start + 4], "big")
        if png[start + 4:start + 8] == b"PLTE":
            chunk = b"PLTE" + bytes(palette[:length])
            return b"".join((png[:start], png[start:start + 4], chunk, zlib.crc32(chunk).to_bytes(4, "big"),
                             png[start + 12 + length:]))
        start += 12 + length
    raise ValueError("png has no palette chunk")


def coloured_webp_lossless(image: np.ndarray, value_range: tuple[float, float], scale: str = "gray") -> bytes:
    """The same pixels as :func:`coloured_png`, as a lossless WebP: exact, and about a
    fifth smaller than the PNG for reconstructions (measured 13.1 against 16.6 kB)."""
    return _encoded("webp lossless", image, value_range, scale,
                    lambda p: _save(p.convert("RGB"), "WEBP", lossless=True, method=6))


def coloured_webp(image: np.ndarray, value_range: tuple[float, float], scale: str = "inferno") -> bytes:
    """The same as :func:`coloured_png`, as a lossy WebP (quality 85): for error and
    change maps, noise-like pictures whose PNG is 3-5 times larger and whose every pixel
    value does not matter to the eye."""
    return _encoded("webp", image, value_range, scale,
                    lambda p: _save(p.convert("RGB"), "WEBP", quality=85, method=4))


def coloured_jpeg(image: np.ndarray, value_range: tuple[float, float], scale: str = "inferno", *,
                  width: int | None = None) -> bytes:
    """The same as :func:`coloured_png` (``width`` included), as a JPEG (quality 90): error
    and change maps for ``st.image``, which turns any picture that is not a PNG, JPEG or GIF
    into this JPEG itself (decoding and encoding it again on every run)."""
    return _encoded("jpeg", image, value_range, scale,
                    lambda p: _save(p.convert("RGB"), "JPEG", quality=90), width)


def image_png(image: np.ndarray, value_range: tuple[float, float] = (0.0, 1.0)) -> bytes:
    """An image as 8-bit grayscale PNG bytes (clipped to ``value_range``)."""
    from PIL import Image

    lo, hi = value_range
    scaled = np.clip((shown(image) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    buffer = io.BytesIO()
    Image.fromarray(np.round(scaled * 255).astype(np.uint8), mode="L").save(buffer, "PNG")
    return buffer.getvalue()
