"""Bytes for the download buttons: images (PNG in a ZIP), arrays (NPZ), settings (JSON).

The functions return zero-argument callables, so the bytes are only produced when the
user clicks (``st.download_button`` accepts a callable): reruns stay cheap.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping

import numpy as np

from explorer.figures import image_png

__all__ = ["png_zip", "arrays_npz", "slug"]


def slug(name: str) -> str:
    """A file-name-safe version of a panel title."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def png_zip(images: Mapping[str, np.ndarray]) -> Callable[[], bytes]:
    """A ZIP of 8-bit PNGs, one per image (values clipped to [0, 1])."""
    frozen = {slug(k): np.array(v, copy=True) for k, v in images.items()}

    def build() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, image in frozen.items():
                archive.writestr(f"{name}.png", image_png(image))
        return buffer.getvalue()

    return build


def arrays_npz(arrays: Mapping[str, np.ndarray]) -> Callable[[], bytes]:
    """A compressed NPZ with the given arrays under file-name-safe keys."""
    frozen = {slug(k): np.asarray(v) for k, v in arrays.items()}

    def build() -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **frozen)
        return buffer.getvalue()

    return build
