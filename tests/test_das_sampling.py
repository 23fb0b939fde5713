"""The published per-block DAS pattern: rate, block structure, decay, seeds, registry."""

import numpy as np
import pytest

from solver.sampling import (
    PATTERNS,
    RATE_TOLERANCE,
    dyadic_level_map,
    make_mask,
    sampling_rate,
)
from solver.sampling.das import (
    axis_bands,
    das_block_counts,
    das_block_weights,
    das_sampling,
    decay_sparsities,
)


@pytest.mark.parametrize("size", [32, 64, 256, 1024])
@pytest.mark.parametrize("rate", [0.03, 0.1, 0.25, 0.6, 1.0])
def test_registered_das_reaches_the_rate_and_samples_dc(size, rate):
    mask = make_mask("das", size, rate, seed=2)
    assert mask.shape == (size, size) and mask.dtype == bool
    assert abs(sampling_rate(mask) - rate) <= RATE_TOLERANCE
    assert mask.sum() == max(1, round(rate * size * size))
    assert mask[size // 2, size // 2]


@pytest.mark.parametrize("reference", ["shepp_logan", "ellipses", "camera", "mni_t1"])
def test_das_from_a_reference_image_reaches_the_rate(reference):
    mask = make_mask("das", 128, 0.15, seed=0, reference=reference)
    assert mask.sum() == round(0.15 * 128 * 128)


def test_bands_are_the_dyadic_axis_levels():
    # the centre band of side 2^(j0+1) is level 0 of the square annuli with that centre
    for size, levels in [(64, 5), (256, 7), (256, 4)]:
        bands = axis_bands(size, levels)
        centre = 2 ** (size.bit_length() - levels)
        annuli = dyadic_level_map(size, centre)
        np.testing.assert_array_equal(np.maximum.outer(bands, bands), annuli)


def test_block_weights_closed_form_for_two_levels():
    # Haar (q = 0, v = 1), s = (a, b): M11 = a + b 2^-4, M12 = a 2^-1 + b 2^-1, M22 = a 2^-2 + b;
    # first row and column doubled, then normalised
    a, b = 3.0, 5.0
    m11, m12, m22 = 4 * (a + b / 16), 2 * (a / 2 + b / 2), a / 4 + b
    expected = np.array([[m11, m12], [m12, m22]])
    np.testing.assert_allclose(das_block_weights([a, b]), expected / expected.sum())


def test_block_counts_are_exact_and_never_exceed_a_block():
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 500, size=(5, 5))
    weights = rng.random((5, 5))
    for budget in (1, 7, 400, int(sizes.sum()) - 3, int(sizes.sum())):
        counts = das_block_counts(sizes, weights, budget)
        assert counts.sum() == budget and (counts <= sizes).all() and (counts >= 0).all()
        # unsaturated blocks hold c M_b rounded (one c for all of them)
        free = counts < sizes
        if free.any():
            c = (budget - sizes[~free].sum()) / weights[free].sum()
            assert np.abs(counts[free] - c * weights[free]).max() < 1.0


def test_das_counts_match_the_mask_block_by_block():
    result = das_sampling(128, 0.2, seed=4, decay=1.0)
    bands = result.bands
    for k1 in range(result.counts.shape[0]):
        for k2 in range(result.counts.shape[1]):
            block = np.ix_(bands == k1, bands == k2)
            assert result.mask[block].sum() == result.counts[k1, k2]
            assert result.mask[block].size == result.sizes[k1, k2]


@pytest.mark.parametrize("size, rate", [(64, 0.1), (64, 0.25), (256, 0.1),
                                        pytest.param(256, 0.4, marks=pytest.mark.slow),
                                        pytest.param(512, 0.05, marks=pytest.mark.slow)])
def test_more_decay_moves_samples_towards_dc(size, rate):
    decays = np.arange(0.0, 2.01, 0.25)
    inner = []
    outer_density = []
    for d in decays:
        result = das_sampling(size, rate, decay=d)
        ring = np.maximum.outer(np.arange(result.counts.shape[0]), np.arange(result.counts.shape[1]))
        inner.append([result.counts[ring <= k].sum() for k in range(ring.max())])
        outer_density.append(result.densities[-1, -1])
    assert (np.diff(np.array(inner), axis=0) >= 0).all()  # every square of bands gains samples
    assert (np.diff(outer_density) <= 0).all()  # the outermost block loses them
    assert outer_density[-1] < outer_density[0]


def test_published_annulus_densities_at_256():
    # published mask at N = 256, 25 %: outermost three annuli 0.99 / 0.52 / 0.12
    result = das_sampling(256, 0.25, decay=2.0)
    np.testing.assert_allclose(result.annulus_densities()[-3:], [0.99, 0.52, 0.12], atol=0.03)


def test_deterministic_per_seed():
    a = make_mask("das", 128, 0.2, seed=7)
    b = make_mask("das", 128, 0.2, seed=7)
    c = make_mask("das", 128, 0.2, seed=8)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    # the counts do not depend on the seed, only the positions inside blocks
    np.testing.assert_array_equal(das_sampling(128, 0.2, 7).counts, das_sampling(128, 0.2, 8).counts)


def test_decay_model_sparsities():
    s = decay_sparsities(64, 5, 1.0)  # j0 = 1: level sizes 16, 48, 192, 768, 3072
    np.testing.assert_allclose(s, [16, 24, 48, 96, 192])
    np.testing.assert_allclose(decay_sparsities(64, 5, 2.0)[1:], 12.0)


def test_registry_entry_and_errors():
    spec = PATTERNS["das"]
    assert spec.random and {p.name for p in spec.params} == {"reference", "decay", "centre_size", "threshold"}
    with pytest.raises(ValueError, match="decay"):
        make_mask("das", 64, 0.2, decay=3.0)
    with pytest.raises(ValueError, match="reference"):
        make_mask("das", 64, 0.2, reference="brain")
    with pytest.raises(ValueError, match="centre_size"):
        make_mask("das", 64, 0.2, centre_size=64)
    with pytest.raises(ValueError, match="rate"):
        make_mask("das", 64, 1.5)
    with pytest.raises(ValueError, match="sparsities"):
        das_sampling(64, 0.2, sparsities=[0, 0, 0])
    with pytest.raises(ValueError, match="levels"):
        das_sampling(64, 0.2, sparsities=[1, 2, 3], levels=4)
