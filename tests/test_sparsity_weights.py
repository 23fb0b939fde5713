"""The published level sparsities and weights, against PyWavelets in MATLAB's vector order."""

import numpy as np
import pytest
import pywt
import torch

from solver.phantoms import random_ellipses, shepp_logan
from solver.sparsity_weights import (
    level_sparsities,
    parse_sparsities,
    sparsity_level_weights,
    weights_from_sparsities,
)
from solver.wavelets import Wavelet2D


def _matlab_counts(image, levels, threshold, overlap):
    """Count as the published MATLAB code does, from PyWavelets' coefficients.

    MATLAB's wavedec2 vector is [A(:); H_L(:); V_L(:); D_L(:); ...; H_1(:); V_1(:); D_1(:)]
    (column-major, coarsest first); group i covers the 1-based range M(i):M(i+1) with
    M = [1, 4^(J0+1), ..., 4^(J0+L)]: group 1 holds the approximation and the coarsest
    details, and each range also contains its left end, the previous group's last entry.
    """
    x = (image - image.min()) / (image.max() - image.min())
    coeffs = pywt.wavedec2(x, "haar", mode="periodization", level=levels)
    vector = np.concatenate(
        [coeffs[0].ravel(order="F")] + [b.ravel(order="F") for bands in coeffs[1:] for b in bands]
    )
    j0 = int(np.log2(image.shape[0])) - levels
    bounds = [1] + [4 ** (j0 + i) for i in range(1, levels + 1)]
    counts = []
    for i in range(levels):
        start = bounds[i] - 1 if (overlap or i == 0) else bounds[i]
        counts.append(int(np.sum(np.abs(vector[start:bounds[i + 1]]) > threshold)))
    return np.array(counts)


# Thresholds away from ties: Shepp-Logan has 116 Haar coefficients exactly at 0.1 and 48
# at 0.5 (the published values), where the count depends on rounding.
@pytest.mark.parametrize("overlap", [True, False])
@pytest.mark.parametrize("threshold", [0.09, 0.49, 0.012])
@pytest.mark.parametrize("levels", [3, 5, 6])
def test_counts_match_matlab_order_on_shepp_logan(levels, threshold, overlap):
    image = shepp_logan(64)
    counts = level_sparsities(
        image, Wavelet2D("haar", levels, 64), threshold=threshold, reference_indexing=overlap
    )
    np.testing.assert_array_equal(counts, _matlab_counts(image, levels, threshold, overlap))


@pytest.mark.parametrize("seed", range(3))
def test_counts_match_on_random_ellipses(seed):
    image = random_ellipses(128, seed)
    counts = level_sparsities(image, Wavelet2D("haar", 6, 128), threshold=0.05)
    np.testing.assert_array_equal(counts, _matlab_counts(image, 6, 0.05, True))


def test_shepp_logan_64_published_coarse_weights():
    # The published weights at N = 64 with one level fewer than the maximum are
    # 3.68, 3.68, 3.13, ... i.e. sparsities 13, 18, 45 on the three coarsest levels
    # (threshold 0.5). The finer levels depend on how the phantom is rasterised.
    counts = level_sparsities(shepp_logan(64), Wavelet2D("haar", 5, 64), threshold=0.5)
    np.testing.assert_array_equal(counts[:3], [13, 18, 45])


def test_weights_from_a_typed_list():
    W = Wavelet2D("haar", 6, 128)
    typed = [4, 12, 48, 50, 100, 100]  # the published stability experiments' list
    weights = weights_from_sparsities(typed, W)
    assert weights.shape == (128, 128) and weights.dtype == torch.float64
    expected = np.sqrt(314 / np.array(typed, float))
    level = W.level_map.copy()
    level[level == 0] = 1  # approximation shares the coarsest weight
    np.testing.assert_allclose(weights.numpy(), expected[level - 1])
    separate = weights_from_sparsities([1, *typed], W)  # approximation on its own
    np.testing.assert_allclose(separate.numpy()[0, 0], np.sqrt(315.0))


def test_image_weights_equal_weights_of_its_counts():
    W = Wavelet2D("haar", 5, 64)
    image = shepp_logan(64)
    counts = level_sparsities(image, W, threshold=0.1)
    np.testing.assert_allclose(
        sparsity_level_weights(image, W).numpy(), weights_from_sparsities(counts, W).numpy()
    )
    assert torch.equal(sparsity_level_weights(np.zeros((64, 64)), W), torch.ones(64, 64, dtype=torch.float64))


@pytest.mark.parametrize(
    "bad, match",
    [([1, 2], "entries"), ([1, 0, 2, 3, 4], "> 0"), ([1, np.nan, 2, 3, 4], "finite"), ("abc", "sparsities")],
)
def test_typed_list_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        weights_from_sparsities(bad, Wavelet2D("haar", 5, 64))


def test_argument_errors():
    W = Wavelet2D("haar", 5, 64)
    with pytest.raises(ValueError, match="threshold"):
        level_sparsities(shepp_logan(64), W, threshold=0)
    with pytest.raises(ValueError, match="image"):
        level_sparsities(np.zeros((32, 32)), W)
    with pytest.raises(ValueError, match="wavelet"):
        level_sparsities(np.zeros((64, 64)), "haar")


def test_parse_typed_sparsities():
    np.testing.assert_array_equal(parse_sparsities("[4, 12, 48; 50 100 100]"), [4, 12, 48, 50, 100, 100])
    np.testing.assert_array_equal(parse_sparsities("1.5e2"), [150.0])
    for text, match in [("", "empty"), ("4, x", "'x'"), ("4, -1", "'-1'"), ("nan", "'nan'"), (4, "string")]:
        with pytest.raises(ValueError, match=match):
            parse_sparsities(text)
