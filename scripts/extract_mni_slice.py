"""Write one axial slice of the MNI ICBM152 2009 T1 template as solver/data/mni_t1_axial.png.

The template is the copy that the nilearn wheel ships
(``nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz``, the
symmetric ICBM152 2009a non-linear T1 average, 1 mm, 197 x 233 x 189 voxels); nothing is
downloaded. Needs the development tools of ``requirements-dev.txt`` (nilearn, nibabel);
the app itself reads only the PNG.

Run once from the repository root::

    .venv/bin/python scripts/extract_mni_slice.py [--z-mm 10] [--size 256]

The slice at MNI height ``z`` (millimetres) is shown in neurological orientation
(anterior at the top, the subject's left on the image's left), padded with
background to a square, resized to ``size`` x ``size`` with a Lanczos filter and stored
as an 8-bit greyscale PNG scaled so that the slice's maximum is 255. The licence notice
is written next to it (``mni_t1_axial.LICENSE.txt``).
"""

from __future__ import annotations

import argparse
import importlib.resources
from pathlib import Path

import numpy as np

TEMPLATE = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
OUT_DIR = Path(__file__).resolve().parents[1] / "solver" / "data"

NOTICE = """\
solver/data/mni_t1_axial.png: one axial slice (MNI z = {z_mm:g} mm) of the ICBM 2009a
Nonlinear Symmetric T1 template (MNI152NLin2009aSym), as shipped by nilearn
({template}), resized to {size} x {size}, 8-bit. Made by scripts/extract_mni_slice.py.

Copyright (C) 1993-2009 Louis Collins, McConnell Brain Imaging Centre, Montreal
Neurological Institute, McGill University. Permission to use, copy, modify, and
distribute this software and its documentation for any purpose and without fee is
hereby granted, provided that the above copyright notice appear in all copies. The
authors and McGill University make no representations about the suitability of this
software for any purpose. It is provided "as is" without express or implied warranty.
The authors are not responsible for any data loss, equipment damage, property loss, or
injury to subjects or patients resulting from the use or misuse of this software
package.

References: V. S. Fonov, A. C. Evans, R. C. McKinstry, C. R. Almli, D. L. Collins,
"Unbiased nonlinear average age-appropriate brain templates from birth to adulthood",
NeuroImage 47, Supplement 1, S102 (2009); V. Fonov et al., "Unbiased average
age-appropriate atlases for pediatric studies", NeuroImage 54(1), 313-327 (2011);
D. L. Collins, A. P. Zijdenbos, W. F. C. Baare, A. C. Evans, "ANIMAL+INSECT: Improved
cortical structure segmentation", IPMI 1999.
"""


def axial_slice(z_mm: float) -> np.ndarray:
    """The template's axial slice nearest to MNI height ``z_mm``: float64 (rows, cols)."""
    import nibabel

    path = importlib.resources.files("nilearn.datasets") / "data" / TEMPLATE
    image = nibabel.load(str(path))
    affine = image.affine
    k = int(round((z_mm - affine[2, 3]) / affine[2, 2]))
    if not 0 <= k < image.shape[2]:
        raise ValueError(f"z_mm={z_mm} is outside the template (slices 0..{image.shape[2] - 1})")
    volume = np.asarray(image.dataobj[:, :, k], dtype=np.float64)  # (x: left->right, y: post->ant)
    return np.flipud(volume.T)  # rows: anterior at the top; columns: left to right


def to_png(slice_2d: np.ndarray, size: int, path: Path) -> None:
    from PIL import Image

    rows, cols = slice_2d.shape
    side = max(rows, cols)
    square = np.zeros((side, side))
    r0, c0 = (side - rows) // 2, (side - cols) // 2
    square[r0:r0 + rows, c0:c0 + cols] = slice_2d
    scaled = np.clip(square / square.max(), 0.0, 1.0)
    image = Image.fromarray(np.round(scaled * 255).astype(np.uint8), mode="L")
    image.resize((size, size), Image.Resampling.LANCZOS).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--z-mm", type=float, default=10.0, help="MNI height of the slice (mm)")
    parser.add_argument("--size", type=int, default=256, help="side of the PNG in pixels")
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    png = OUT_DIR / "mni_t1_axial.png"
    to_png(axial_slice(args.z_mm), args.size, png)
    (OUT_DIR / "mni_t1_axial.LICENSE.txt").write_text(
        NOTICE.format(z_mm=args.z_mm, template=TEMPLATE, size=args.size)
    )
    print(f"wrote {png} ({png.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
