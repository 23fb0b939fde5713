"""Bytes for the download buttons: images (PNG in a ZIP), arrays (NPZ), curves (CSV),
settings (JSON).

The functions return zero-argument callables, so the bytes are only produced when the
user clicks (``st.download_button`` accepts a callable): reruns stay cheap.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from explorer.image_bytes import image_png

__all__ = ["CURVE_COLUMNS", "arrays_npz", "curves_csv", "png_zip", "result_arrays", "slug"]


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


def result_arrays(shown: Mapping[str, np.ndarray], base: Any, perturbed: Any = None,
                  perturbation_image: np.ndarray | None = None,
                  clean: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """What the NPZ carries: the images shown, the mask and the data ``y`` (complex, in the
    mask's sample order) and, with a perturbation applied (``perturbed``: the problem the
    methods were given), the perturbed data, the perturbation ``e = y' - y`` when it
    perturbs the data in place (else the new mask), its image, and each method's clean
    reconstruction (``clean``: title -> image)."""
    arrays: dict[str, np.ndarray] = {**shown, "mask": base.mask, "data y": _numpy(base.y)}
    if perturbed is None:
        return arrays
    arrays["data y perturbed"] = _numpy(perturbed.y)
    if tuple(perturbed.y.shape) == tuple(base.y.shape) and np.array_equal(perturbed.mask, base.mask):
        arrays["perturbation e"] = _numpy(perturbed.y) - _numpy(base.y)
    else:
        arrays["mask perturbed"] = perturbed.mask
    if perturbation_image is not None:
        arrays["perturbation image"] = perturbation_image
    for title, image in (clean or {}).items():
        arrays[f"{title} clean"] = image
    return arrays


def _numpy(values: Any) -> np.ndarray:
    return values.detach().cpu().numpy() if hasattr(values, "detach") else np.asarray(values)


#: The columns of the curves' CSV: one row per point, empty where a quantity does not apply.
CURVE_COLUMNS = ("chart", "curve", "layer", "seconds", "relative_error", "certified_gap",
                 "own_certificate", "perturbation_size", "output_change")


def curves_csv(convergence: Mapping[str, Mapping[str, Sequence[float]]],
               stability: Mapping[str, Mapping[str, Sequence[float]]] | None = None) -> Callable[[], bytes]:
    """The plotted curves as one CSV (:data:`CURVE_COLUMNS`): the convergence chart's
    (method -> ``layer``, ``error``, ``gap``, optional ``own`` and ``seconds``) and the
    stability chart's (curve -> ``size``, ``change``). NaN is written as an empty cell."""
    rows: list[dict[str, Any]] = []
    for name, curve in convergence.items():
        columns = {"layer": "layer", "seconds": "seconds", "relative_error": "error",
                   "certified_gap": "gap", "own_certificate": "own"}
        for i in range(len(curve["layer"])):
            row = {"chart": "convergence", "curve": name}
            for column, key in columns.items():
                values = curve.get(key) or ()
                row[column] = values[i] if i < len(values) else None
            rows.append(row)
    for name, curve in (stability or {}).items():
        for size, change in zip(curve["size"], curve["change"]):
            rows.append({"chart": "stability", "curve": name, "perturbation_size": size, "output_change": change})

    def build() -> bytes:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=CURVE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in CURVE_COLUMNS})
        return text.getvalue().encode()

    return build


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return "" if value is None else value
