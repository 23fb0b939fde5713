"""A real MR image for the test images: an axial slice of the MNI ICBM152 2009 T1 template.

The slice is shipped as ``solver/data/mni_t1_axial.png`` (256 x 256, 8-bit; made once by
``scripts/extract_mni_slice.py`` from the template in the nilearn wheel; licence notice in
``solver/data/mni_t1_axial.LICENSE.txt``). Nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from solver.validation import check_int

__all__ = ["MNI_T1_PATH", "mni_t1"]

#: The shipped PNG.
MNI_T1_PATH = Path(__file__).resolve().with_name("data") / "mni_t1_axial.png"


@functools.lru_cache(maxsize=1)
def _mni_source() -> np.ndarray:
    from PIL import Image

    with Image.open(MNI_T1_PATH) as im:
        image = np.asarray(im.convert("L"), dtype=np.float64)
    image.setflags(write=False)
    return image


def mni_t1(size: int) -> np.ndarray:
    """Axial T1 slice of the MNI ICBM152 2009a template (MNI z = 10 mm), N x N in [0, 1].

    Parameters
    ----------
    size : int
        Image side N, 8 .. 4096.

    Returns
    -------
    np.ndarray, float64, (N, N)
        The 256 x 256 PNG resized bilinearly (anti-aliased when shrinking) and mapped
        onto [0, 1] (min 0, max 1). Above 256 the image is an interpolation: it has no
        detail finer than the template's 1 mm voxels.
    """
    size = check_int("size", size, 8, 4096)
    source = _mni_source()
    if size == source.shape[0]:
        image = source.astype(np.float64)
    else:
        from skimage.transform import resize

        image = resize(source, (size, size), order=1, mode="reflect",
                       anti_aliasing=size < source.shape[0], preserve_range=True)
    low, high = image.min(), image.max()
    return (image - low) / (high - low)
