"""The shipped MR test image (MNI ICBM152 T1 slice): file, licence, sizes, registry."""

import numpy as np
import pytest
from PIL import Image

from solver.kspace import image_to_kspace, prepare_kspace
from solver.mr_images import MNI_T1_PATH, mni_t1
from solver.phantoms import TEST_IMAGES, make_test_image
from solver.sampling import make_mask


def test_shipped_png_and_licence_notice():
    with Image.open(MNI_T1_PATH) as im:
        assert im.size == (256, 256) and im.mode == "L"
    assert MNI_T1_PATH.stat().st_size < 64 * 1024
    notice = MNI_T1_PATH.with_name("mni_t1_axial.LICENSE.txt").read_text()
    assert "Louis Collins" in notice and "Permission to use, copy, modify" in notice


@pytest.mark.parametrize("size", [128, 256, 512])
def test_loads_at_sizes_in_unit_range(size):
    image = mni_t1(size)
    assert image.shape == (size, size) and image.dtype == np.float64
    assert image.min() == 0.0 and image.max() == 1.0
    # a head in the middle of the field of view on a dark background
    centre = slice(size // 4, 3 * size // 4)
    assert image[: size // 16].max() < 0.05 and image[centre, centre].mean() > 0.3


def test_native_size_is_the_png_and_halving_averages_it():
    with Image.open(MNI_T1_PATH) as im:
        pixels = np.asarray(im, dtype=np.float64)
    expected = (pixels - pixels.min()) / (pixels.max() - pixels.min())
    np.testing.assert_allclose(mni_t1(256), expected)
    half = mni_t1(128)
    blocks = mni_t1(256).reshape(128, 2, 128, 2).mean(axis=(1, 3))
    assert np.abs(half - (blocks - blocks.min()) / (blocks.max() - blocks.min())).mean() < 0.02


def test_registered_as_a_test_image():
    assert "mni_t1" in TEST_IMAGES
    image, detail = make_test_image("mni_t1", 64, seed=3)
    assert detail is None
    np.testing.assert_array_equal(image, mni_t1(64))
    with pytest.raises(ValueError, match="size"):
        mni_t1(0)


@pytest.mark.parametrize("convention", ["centred", "corner"])
def test_kspace_convention_is_detected_on_the_mr_image(convention):
    mask = make_mask("lines_random", 128, 0.25, seed=0)
    k = image_to_kspace(mni_t1(128), convention=convention) * mask
    assert prepare_kspace(k).convention == convention
