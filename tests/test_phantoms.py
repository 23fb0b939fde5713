"""Phantoms and details, checked against independent facts."""

import numpy as np
import pytest

from solver import phantoms
from solver.phantoms import (
    TEST_IMAGES,
    EllipseSet,
    blob_detail,
    camera,
    ellipses_with_text,
    insert_detail,
    make_test_image,
    random_ellipse_parameters,
    random_ellipses,
    random_ellipses_batch,
    render_ellipses,
    shepp_logan,
    text_detail,
    text_extent,
)


def _assert_unit_image(image, size):
    assert image.shape == (size, size)
    assert image.dtype == np.float64
    assert np.isfinite(image).all()
    assert image.min() == 0.0 and image.max() == 1.0


# ----------------------------------------------------------------------------- test images


@pytest.mark.parametrize("size", [32, 128, 400])
def test_shepp_logan_takes_the_modified_phantom_values_and_spans_0_to_1(size):
    image = shepp_logan(size)
    _assert_unit_image(image, size)
    levels = np.unique(np.round(image, 9))
    assert set(levels) <= {0.0, 0.1, 0.2, 0.3, 0.4, 1.0}


def test_shepp_logan_agrees_with_scikit_images_400_pixel_phantom():
    from skimage.data import shepp_logan_phantom

    reference = shepp_logan_phantom()
    ours = shepp_logan(400)
    # Both rasterise the same ellipses; only pixels on edges may fall on the other side.
    assert np.mean(np.abs(ours - reference) > 0.05) < 0.01


def test_camera_is_the_resized_scikit_image_photograph():
    from skimage.data import camera as skimage_camera

    image = camera(128)
    _assert_unit_image(image, 128)
    block_means = skimage_camera().astype(float).reshape(128, 4, 128, 4).mean(axis=(1, 3))
    assert np.corrcoef(image.ravel(), block_means.ravel())[0, 1] > 0.99


def test_every_registered_image_is_a_unit_image_and_seeded_ones_are_reproducible():
    for name, (label, make) in TEST_IMAGES.items():
        assert isinstance(label, str) and label
        image = make(64, 5)
        _assert_unit_image(image, 64)
        np.testing.assert_array_equal(image, make(64, 5))
        detail_image, mask = make_test_image(name, 64, 5)
        np.testing.assert_array_equal(detail_image, image)
        assert (mask is not None) == (name == "ellipses_text")
    assert set(TEST_IMAGES) == {"shepp_logan", "ellipses", "ellipses_text", "camera", "mni_t1"}


def test_registry_validates_name_size_and_seed():
    with pytest.raises(ValueError, match="name"):
        make_test_image("mandrill", 64)
    with pytest.raises(ValueError, match="size"):
        TEST_IMAGES["shepp_logan"].make(4, 0)
    with pytest.raises(ValueError, match="size"):
        shepp_logan(64.0)
    with pytest.raises(ValueError, match="seed"):
        TEST_IMAGES["camera"].make(64, -1)


# ----------------------------------------------------------------------------- ellipses


@pytest.mark.parametrize("seed", [0, 1, 17, 12345])
def test_random_ellipses_span_exactly_0_to_1(seed):
    _assert_unit_image(random_ellipses(128, seed), 128)


def test_random_ellipses_are_deterministic_per_seed_and_differ_between_seeds():
    a = random_ellipses(64, 7)
    np.testing.assert_array_equal(a, random_ellipses(64, 7))
    assert np.abs(a - random_ellipses(64, 8)).max() > 0.1


def test_ellipse_parameters_follow_the_papers_distribution():
    counts = []
    for seed in range(200):
        e = random_ellipse_parameters(seed)
        counts.append(len(e))
        assert np.all((e.axis_a <= 0.25) & (e.axis_b <= 0.25))
        assert np.all((e.axis_a > 0) & (e.axis_b > 0))
        assert np.all(np.abs(e.centre_x) <= 0.7) and np.all(np.abs(e.centre_y) <= 0.7)
        assert np.all((e.bias >= 0.3) & (e.bias <= 1.0))
        # Intensities never go negative on an ellipse, and ellipses stay inside the field.
        assert np.all(e.min_intensity() >= 0.0)
        reach = np.maximum(np.abs(e.centre_x), np.abs(e.centre_y)) + np.maximum(e.axis_a, e.axis_b)
        assert np.all(reach < 1.0)
    assert min(counts) >= 20 and max(counts) <= 45
    # 200 draws from 26 equally likely counts reach both ends of the range in practice.
    assert min(counts) <= 22 and max(counts) >= 43


def test_ellipse_images_have_a_zero_border_and_smoothly_varying_intensities():
    image = random_ellipses(128, 3)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    assert np.all(border == 0.0)
    # Linear intensity variation: many distinct grey levels, not a few constants.
    assert np.unique(image).size > 1000


def test_one_rendered_ellipse_has_the_analytic_area_and_intensity():
    size, a, b = 256, 0.5, 0.25
    one = EllipseSet(
        centre_x=np.array([0.1]),
        centre_y=np.array([-0.2]),
        axis_a=np.array([a]),
        axis_b=np.array([b]),
        angle=np.array([0.6]),
        grad_x=np.array([0.3]),
        grad_y=np.array([-0.4]),
        bias=np.array([2.0]),
    )
    image = render_ellipses(size, one)
    # Area pi a b in field units; a pixel is (2 / N)^2 of them.
    expected_pixels = np.pi * a * b * (size / 2) ** 2
    assert np.count_nonzero(image) == pytest.approx(expected_pixels, rel=0.01)
    # Pixel (i, j) samples x = (2 j + 1 - N) / N, y = (N - 1 - 2 i) / N.
    i, j = 150, 140
    x, y = (2 * j + 1 - size) / size, (size - 1 - 2 * i) / size
    assert image[i, j] == pytest.approx(2.0 + 0.3 * x - 0.4 * y, abs=1e-12)


def test_the_same_seed_draws_the_same_shapes_at_every_size():
    small = random_ellipses(64, 11)
    large = random_ellipses(256, 11)
    # Box-average the large image onto the small grid: same picture, up to edges.
    pooled = large.reshape(64, 4, 64, 4).mean(axis=(1, 3))
    assert np.corrcoef(small.ravel(), pooled.ravel())[0, 1] > 0.95


def test_batch_equals_the_single_images():
    batch = random_ellipses_batch(32, [3, 4, 5])
    assert batch.shape == (3, 32, 32)
    for b, seed in enumerate([3, 4, 5]):
        np.testing.assert_array_equal(batch[b], random_ellipses(32, seed))


def test_constant_ellipses_when_gradient_is_zero():
    image = random_ellipses(64, 2, gradient=0.0, count=(1, 1))
    assert set(np.unique(image)) == {0.0, 1.0}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": 0, "count": (5, 2)}, "count"),
        ({"seed": 0, "axes": (0.0, 0.2)}, "axes"),
        ({"seed": 0, "margin": 1.0}, "margin"),
        ({"seed": 0, "gradient": -1.0}, "gradient"),
        ({"seed": 0, "bias": (0.5, 0.2)}, "bias"),
    ],
)
def test_ellipse_arguments_are_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_ellipses(32, **kwargs)


def test_batch_needs_seeds():
    with pytest.raises(ValueError, match="seeds"):
        random_ellipses_batch(32, [])


# ----------------------------------------------------------------------------- details


@pytest.mark.parametrize("height", [6, 10, 24])
def test_text_mask_lies_inside_its_box_of_the_stated_height(height):
    row, col = 20, 30
    mask = text_detail(256, "Can u see it?", (row, col), height)
    rows, cols = text_extent("Can u see it?", height)
    assert rows == height
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    ink_rows = np.flatnonzero(mask.any(axis=1))
    ink_cols = np.flatnonzero(mask.any(axis=0))
    assert ink_rows.min() >= row and ink_rows.max() < row + height
    assert ink_cols.min() >= col and ink_cols.max() < col + cols
    # The ink uses most of the stated height, and edges are anti-aliased (grey levels).
    assert ink_rows.max() - ink_rows.min() + 1 >= 0.7 * height
    assert np.any((mask > 0.05) & (mask < 0.95))
    # Thin anti-aliased strokes at 6 px still reach most of full intensity.
    assert mask.max() > 0.8


def test_text_detail_validates_its_arguments():
    with pytest.raises(ValueError, match="position"):
        text_detail(64, "Hi", (60, 0), 8)
    with pytest.raises(ValueError, match="position"):
        text_detail(64, "Hi", (-1, 0), 8)
    with pytest.raises(ValueError, match="position"):
        text_detail(64, "Hi", (1.5, 0), 8)
    with pytest.raises(ValueError, match="text"):
        text_detail(64, "", (0, 0), 8)
    with pytest.raises(ValueError, match="text"):
        text_detail(64, "two\nlines", (0, 0), 8)
    with pytest.raises(ValueError, match="height"):
        text_detail(64, "Hi", (0, 0), 2)
    with pytest.raises(ValueError, match="larger than the 32 x 32 image"):
        text_detail(32, "Can u see it?", None, 20)


def test_blob_is_one_inside_zero_outside_with_the_disc_area():
    radius, softness = 10.0, 4.0
    mask = blob_detail(128, (60.0, 70.5), radius, softness)
    assert mask[60, 70] == 1.0 and mask[60, 71] == 1.0
    r = np.hypot(*np.meshgrid(np.arange(128) - 60.0, np.arange(128) - 70.5, indexing="ij"))
    assert np.all(mask[r <= radius - softness / 2] == 1.0)
    assert np.all(mask[r >= radius + softness / 2] == 0.0)
    # A ramp symmetric about the radius integrates to the disc area (up to O(s^2 / r^2)).
    assert mask.sum() == pytest.approx(np.pi * radius**2, rel=0.02)
    hard = blob_detail(128, (60.0, 70.5), radius, softness=0.0)
    assert set(np.unique(hard)) == {0.0, 1.0}


def test_blob_detail_validates_its_arguments():
    with pytest.raises(ValueError, match="radius"):
        blob_detail(64, (32, 32), 0.0)
    with pytest.raises(ValueError, match="softness"):
        blob_detail(64, (32, 32), 5.0, -1.0)
    with pytest.raises(ValueError, match="center"):
        blob_detail(64, (32,), 5.0)


def test_insert_detail_adds_and_clips_without_touching_the_input():
    image = np.full((16, 16), 0.95)
    mask = np.zeros((16, 16))
    mask[4:8, 4:8] = 1.0
    mask[10, 10] = 0.5
    out = insert_detail(image, mask, 0.1)
    assert np.all(image == 0.95)
    assert np.all(out[4:8, 4:8] == 1.0)  # 1.05 clipped
    assert out[10, 10] == pytest.approx(1.0)
    assert out[0, 0] == 0.95
    darker = insert_detail(image, mask, -0.5)
    assert darker[10, 10] == pytest.approx(0.7)
    with pytest.raises(ValueError, match="contrast"):
        insert_detail(image, mask, 1.5)
    with pytest.raises(ValueError, match="detail_mask"):
        insert_detail(image, mask[:8], 0.1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_ellipses_with_text_puts_the_exact_contrast_on_the_object(seed):
    size, contrast = 256, 0.1
    image, mask = ellipses_with_text(size, seed, contrast=contrast)
    base = random_ellipses(size, seed)
    _assert_unit_image(image, size)
    # image = s * base + contrast * mask, with the base scale s in [1 - contrast, 1].
    scale = image[mask == 0].max() / base[mask == 0].max()
    assert 1 - contrast - 1e-12 <= scale <= 1.0
    np.testing.assert_allclose(image, scale * base + contrast * mask, atol=1e-12)
    # The text sits on the object, not the background.
    assert np.all(base[mask > 0] > 0)


def test_ellipses_with_text_honours_position_and_height():
    image, mask = ellipses_with_text(128, 0, text="Hi", position=(10, 20), height=12)
    np.testing.assert_array_equal(mask, text_detail(128, "Hi", (10, 20), 12))
    with pytest.raises(ValueError, match="contrast"):
        ellipses_with_text(128, 0, contrast=0.0)


def test_ellipses_with_text_fits_at_the_smallest_app_size():
    image, mask = ellipses_with_text(32, 0)
    assert image.shape == mask.shape == (32, 32) and mask.max() > 0.5


def test_module_exports_what_it_documents():
    for name in phantoms.__all__:
        assert hasattr(phantoms, name)
