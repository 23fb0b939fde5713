"""Tests for solver.sampling: rates, determinism, centre sampling, structure, errors."""

import inspect
import math

import numpy as np
import pytest

from solver.sampling import (
    PATTERNS,
    RATE_TOLERANCE,
    dyadic_level_map,
    half_half_mask,
    lines_equispaced_mask,
    lines_random_mask,
    make_mask,
    multilevel_sampling,
    radial_mask,
    spiral_mask,
    user_mask,
    variable_density_mask,
)
from solver.sampling.common import top_k_weighted

NAMES = [
    "multilevel",
    "variable_density",
    "uniform",
    "half_half",
    "lines_random",
    "lines_equispaced",
    "radial",
    "spiral",
    "das",
]
RANDOM = [n for n in NAMES if PATTERNS[n].random]
LINES = ("lines_random", "lines_equispaced")
SIZES = (32, 64, 256)
RATES = (0.05, 0.15, 0.25, 0.5, 1.0)


def budget(size, rate):
    return max(1, round(rate * size * size))


def lines_reachable(size, rate):
    """Whole-column patterns can only give multiples of 1/size."""
    n = max(1, round(rate * size))
    return abs(n / size - rate) <= RATE_TOLERANCE


def centre_block(size, side):
    lo = size // 2 - side // 2
    return slice(lo, lo + side)


# --------------------------------------------------------------------------------------
# Rate, DC, full mask
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", NAMES)
def test_rate_within_half_a_point_or_refused_naming_rate(name, size, rate):
    if name in LINES and not lines_reachable(size, rate):
        with pytest.raises(ValueError, match="rate"):
            make_mask(name, size, rate, seed=3)
        return
    mask = make_mask(name, size, rate, seed=3)
    assert mask.dtype == bool and mask.shape == (size, size)
    assert abs(mask.mean() - rate) <= RATE_TOLERANCE
    if name in LINES:
        assert mask.sum() == size * max(1, round(rate * size))
    else:  # every 2-D pattern hits the budget exactly, not just within tolerance
        assert mask.sum() == budget(size, rate)
    assert mask[size // 2, size // 2], "DC must always be sampled"
    if rate == 1.0:
        assert mask.all()


def test_line_rate_refusal_names_the_nearest_reachable_rates():
    with pytest.raises(ValueError, match=r"rate=0\.05 .* 1/32 .* 2/32 = 0\.0625"):
        lines_random_mask(32, 0.05)


@pytest.mark.parametrize(
    "name, params, error",
    [
        ("uniform", {}, None),
        ("half_half", {}, None),
        ("radial", {}, None),
        ("variable_density", {"centre_size": 1}, None),
        ("variable_density", {}, "centre_size"),  # a 4 x 4 centre needs 16 samples
        ("multilevel", {"centre_size": 2}, "centre_size"),  # level 0 needs 4
        ("lines_random", {}, "rate"),  # one line is 1/32 of the grid
        ("lines_equispaced", {}, "rate"),
        ("spiral", {}, "arms"),  # two arms to the corners need 32 samples
    ],
)
def test_tiny_rate_gives_dc_alone_or_a_reason(name, params, error):
    # 1e-5 * 32^2 rounds to 0: the budget is raised to 1 sample (DC), which is within
    # the tolerance, or the pattern explains why it needs more.
    if error:
        with pytest.raises(ValueError, match=error):
            make_mask(name, 32, 1e-5, **params)
    else:
        mask = make_mask(name, 32, 1e-5, **params)
        assert mask.sum() == 1 and mask[16, 16]


# --------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_same_mask(name, size):
    a = make_mask(name, size, 0.25, seed=11)
    b = make_mask(name, size, 0.25, seed=11)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "name, size, rate",
    [
        (name, size, rate)
        for name in RANDOM
        for size in SIZES
        for rate in (0.05, 0.25, 0.5)
        if name not in LINES or lines_reachable(size, rate)
    ],
)
def test_different_seed_gives_different_mask(name, size, rate):
    a = make_mask(name, size, rate, seed=0)
    b = make_mask(name, size, rate, seed=1)
    assert a.sum() == b.sum()
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("name", [n for n in NAMES if not PATTERNS[n].random])
def test_deterministic_patterns_ignore_the_seed(name):
    assert np.array_equal(make_mask(name, 64, 0.25, seed=0), make_mask(name, 64, 0.25, seed=9))


def test_no_global_random_state_is_used():
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    for name in NAMES:
        make_mask(name, 64, 0.25, seed=5)
    assert np.random.random() == before


# --------------------------------------------------------------------------------------
# Multilevel
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("centre_size", (2, 4, 8))
@pytest.mark.parametrize("size", (32, 256))
def test_dyadic_levels_are_nested_centred_squares(size, centre_size):
    levels = dyadic_level_map(size, centre_size)
    n_levels = int(math.log2(size // centre_size)) + 1
    assert levels.max() == n_levels - 1
    for k in range(n_levels):
        side = centre_size * 2**k
        inside = np.zeros((size, size), dtype=bool)
        inside[centre_block(size, side), centre_block(size, side)] = True
        # Levels <= k are exactly the centred square of offsets [-side/2, side/2).
        assert np.array_equal(levels <= k, inside)
    sizes = np.bincount(levels.ravel())
    expected = [centre_size**2] + [3 * 4 ** (k - 1) * centre_size**2 for k in range(1, n_levels)]
    assert sizes.tolist() == expected


@pytest.mark.parametrize("rate", (0.05, 0.15, 0.25, 0.5))
@pytest.mark.parametrize("size", SIZES)
def test_multilevel_counts_match_mask_and_decay(size, rate):
    decay = 2.5
    res = multilevel_sampling(size, rate, seed=2, centre_size=4, decay=decay)
    m = budget(size, rate)
    assert res.counts.sum() == m == res.mask.sum()
    per_level = np.bincount(res.level_map[res.mask], minlength=res.sizes.size)
    assert per_level.tolist() == res.counts.tolist()
    assert np.array_equal(res.sizes, np.bincount(res.level_map.ravel()))
    dens = res.densities
    # Innermost level always full; the full levels form a prefix; densities fall.
    assert dens[0] == 1.0 and res.mask[centre_block(size, 4), centre_block(size, 4)].all()
    k_full = res.fully_sampled_levels
    assert k_full >= 1 and np.all(dens[:k_full] == 1.0) and np.all(dens[k_full:] < 1.0)
    assert np.all(np.diff(dens) <= 1e-12)
    # Partially sampled levels follow density ratio 2^-decay (integer rounding aside),
    # so their counts fall by 2^(2 - decay) = 1/sqrt(2) per level.
    part = np.flatnonzero((dens < 1.0) & (res.counts >= 200))
    for a, b in zip(part[:-1], part[1:]):
        assert dens[b] / dens[a] == pytest.approx(2.0**-decay, rel=0.02)
        assert res.counts[b] < res.counts[a]


def test_multilevel_paper_setting_saturates_the_centre():
    # N = 1024 at 15%: the inner 128 x 128 block is fully sampled, the density then
    # decays to a few percent on the outermost annulus.
    res = multilevel_sampling(1024, 0.15, seed=0)
    assert res.fully_sampled_levels == 7
    assert res.mask[448:576, 448:576].all()
    assert 0.02 < res.densities[-1] < 0.08
    assert res.mask.sum() == round(0.15 * 1024**2)


def test_multilevel_decay_zero_is_uniform_outside_the_saturated_levels():
    # Only the 4 x 4 centre is forced full; every other level gets the same density.
    res = multilevel_sampling(256, 0.25, seed=0, decay=0.0)
    m = budget(256, 0.25)
    assert res.fully_sampled_levels == 1
    assert np.allclose(res.densities[1:], (m - 16) / (256**2 - 16), atol=1e-3)


# --------------------------------------------------------------------------------------
# Other 2-D patterns
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("centre_size", (1, 4, 7, 16))
@pytest.mark.parametrize("density", ("polynomial", "gaussian"))
def test_variable_density_centre_block_is_full_and_density_falls(density, centre_size):
    size = 128
    mask = variable_density_mask(size, 0.2, seed=4, density=density, centre_size=centre_size)
    cs = centre_block(size, centre_size)
    assert mask[cs, cs].all()
    assert mask.sum() == budget(size, 0.2)
    r = np.hypot(*np.meshgrid(np.arange(size) - size // 2, np.arange(size) - size // 2))
    inner, outer = mask[(r > 8) & (r < 24)].mean(), mask[r > 48].mean()
    assert inner > 2 * outer


def test_variable_density_power_zero_is_uniform_outside_the_centre():
    size = 256
    mask = variable_density_mask(size, 0.25, seed=0, power=0.0, centre_size=1)
    left, right = mask[:, : size // 2].mean(), mask[:, size // 2 :].mean()
    assert left == pytest.approx(0.25, abs=0.01) and right == pytest.approx(0.25, abs=0.01)


def test_top_k_weighted_draws_proportionally_to_the_weights():
    # One draw without replacement must pick index i with probability w_i / sum(w).
    rng = np.random.default_rng(0)
    w = np.array([1.0, 2.0, 5.0])
    picks = np.array([top_k_weighted(rng, np.log(w), 1)[0] for _ in range(20000)])
    freq = np.bincount(picks, minlength=3) / picks.size
    assert np.allclose(freq, w / w.sum(), atol=0.015)


@pytest.mark.parametrize("rate", (0.05, 0.25, 0.5))
def test_half_half_spends_half_the_budget_on_the_centre_square(rate):
    size = 64
    m = budget(size, rate)
    c = math.isqrt(m // 2)
    assert c * c <= m / 2 < (c + 1) ** 2
    mask = half_half_mask(size, rate, seed=1)
    assert mask[centre_block(size, c), centre_block(size, c)].all()
    outside = mask.copy()
    outside[centre_block(size, c), centre_block(size, c)] = False
    assert outside.sum() == m - c * c


def test_uniform_is_spatially_flat():
    mask = make_mask("uniform", 256, 0.2, seed=0)
    quadrants = [q.mean() for q in (mask[:128, :128], mask[:128, 128:], mask[128:, :128])]
    assert np.allclose(quadrants, 0.2, atol=0.01)


# --------------------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("centre_lines", (1, 2, 5, 16))
@pytest.mark.parametrize("name", LINES)
def test_lines_are_whole_columns_with_full_centre(name, centre_lines):
    size = 256
    mask = make_mask(name, size, 0.25, seed=2, centre_lines=centre_lines)
    cols = mask.all(axis=0)
    assert np.array_equal(mask, np.broadcast_to(cols, mask.shape))
    assert cols.sum() == 64
    assert cols[centre_block(size, centre_lines)].all()


def test_equispaced_lines_have_near_constant_spacing():
    size, c = 256, 4
    cols = lines_equispaced_mask(size, 0.25, centre_lines=c).all(axis=0)
    outer = np.ones(size, dtype=bool)
    outer[centre_block(size, c)] = False
    # Positions of the chosen lines within the list of non-centre columns.
    positions = np.flatnonzero(cols[outer])
    gaps = np.diff(positions)
    assert positions.size == 64 - c and gaps.max() - gaps.min() <= 1


def test_random_lines_concentrate_near_dc():
    cols = lines_random_mask(256, 0.25, seed=0, power=4.0).all(axis=0)
    k = np.abs(np.arange(256) - 128)
    assert cols[k < 32].mean() > 2 * cols[k >= 64].mean()


# --------------------------------------------------------------------------------------
# Radial and spiral
# --------------------------------------------------------------------------------------
def test_radial_masks_are_nested_in_the_rate():
    # Golden-angle spokes are nested, so a lower rate gives a subset of a higher one.
    low, high = radial_mask(128, 0.1), radial_mask(128, 0.3)
    assert np.all(high[low])


@pytest.mark.parametrize("name", ("radial", "spiral"))
def test_trajectories_reach_the_edge_of_k_space(name):
    mask = make_mask(name, 256, 0.15)
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    assert border.sum() >= 4
    # Samples spread over all four quadrants.
    quads = [mask[:128, :128], mask[:128, 128:], mask[128:, :128], mask[128:, 128:]]
    assert min(q.mean() for q in quads) > 0.05


def test_radial_spokes_pass_through_dc_in_a_star():
    mask = radial_mask(256, 0.05)
    r = np.hypot(*np.meshgrid(np.arange(256) - 128, np.arange(256) - 128))
    # Spokes cross every circle about DC about twice each, so the density falls like
    # 1/r: ~16x from radius 4-8 to radius 64-128.
    near, far = mask[(r >= 4) & (r < 8)].mean(), mask[(r >= 64) & (r < 128)].mean()
    assert 8 < near / far < 32


@pytest.mark.parametrize("arms", (1, 3, 8))
def test_spiral_any_arm_count_hits_the_budget(arms):
    mask = spiral_mask(128, 0.2, arms=arms)
    assert mask.sum() == budget(128, 0.2)


def test_spiral_with_too_many_arms_for_the_rate_names_arms():
    with pytest.raises(ValueError, match="arms=8 needs at least"):
        spiral_mask(32, 0.05, arms=8)


# --------------------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", (0, 0.0, -0.1, 1.5, float("nan"), float("inf"), "0.5", True, None))
@pytest.mark.parametrize("name", NAMES)
def test_bad_rate_is_refused_naming_rate(name, rate):
    with pytest.raises(ValueError, match="rate"):
        make_mask(name, 64, rate)


@pytest.mark.parametrize("size", (100, 16, 2048, 0, -32, 32.0, 48, True, "64"))
@pytest.mark.parametrize("name", NAMES)
def test_bad_size_is_refused_naming_size(name, size):
    with pytest.raises(ValueError, match="size"):
        make_mask(name, size, 0.25)


@pytest.mark.parametrize("seed", (-1, 1.5, True, "0", None))
@pytest.mark.parametrize("name", NAMES)
def test_bad_seed_is_refused_naming_seed(name, seed):
    with pytest.raises(ValueError, match="seed"):
        make_mask(name, 64, 0.25, seed=seed)


def test_numpy_integer_arguments_are_accepted():
    mask = make_mask("uniform", np.int64(64), np.float32(0.25), seed=np.uint8(3))
    assert mask.sum() == 1024


@pytest.mark.parametrize("pattern", ("foo", "", None, "Uniform", "user"))
def test_unknown_pattern_is_refused_naming_pattern(pattern):
    with pytest.raises(ValueError, match="pattern"):
        make_mask(pattern, 64, 0.25)


@pytest.mark.parametrize(
    "name, params, size, rate, match",
    [
        ("uniform", {"colour": 1}, 64, 0.25, "colour"),
        ("radial", {"spokes": 10}, 64, 0.25, "spokes"),
        ("multilevel", {"centre_size": 3}, 64, 0.25, "centre_size"),
        ("multilevel", {"centre_size": 64}, 64, 1.0, "centre_size"),
        ("multilevel", {"centre_size": 16}, 32, 0.2, "centre_size"),  # 256 > 205 samples
        ("multilevel", {"decay": -1.0}, 64, 0.25, "decay"),
        ("multilevel", {"decay": "fast"}, 64, 0.25, "decay"),
        ("variable_density", {"density": "cubic"}, 64, 0.25, "density"),
        ("variable_density", {"power": -1.0}, 64, 0.25, "power"),
        ("variable_density", {"width": 0.0}, 64, 0.25, "width"),
        ("variable_density", {"centre_size": 8}, 32, 0.05, "centre_size"),  # 64 > 51
        ("variable_density", {"centre_size": 0}, 64, 0.25, "centre_size"),
        ("variable_density", {"centre_size": 4.0}, 64, 0.25, "centre_size"),
        ("half_half", {"centre_fraction": 0.0}, 64, 0.25, "centre_fraction"),
        ("half_half", {"centre_fraction": 1.5}, 64, 0.25, "centre_fraction"),
        ("lines_random", {"centre_lines": 20}, 256, 0.05, "centre_lines"),  # 13 lines
        ("lines_random", {"centre_lines": 0}, 256, 0.25, "centre_lines"),
        ("lines_random", {"centre_lines": 2.5}, 256, 0.25, "centre_lines"),
        ("lines_random", {"power": float("nan")}, 256, 0.25, "power"),
        ("lines_equispaced", {"centre_lines": 14}, 256, 0.05, "centre_lines"),
        ("spiral", {"arms": 0}, 64, 0.25, "arms"),
        ("spiral", {"arms": 16}, 32, 0.1, "arms"),
    ],
)
def test_bad_or_impossible_parameters_are_refused_naming_them(name, params, size, rate, match):
    with pytest.raises(ValueError, match=match):
        make_mask(name, size, rate, **params)


def test_impossible_centre_message_says_why():
    with pytest.raises(ValueError, match=r"centre_lines=20 exceeds the 13 lines"):
        lines_equispaced_mask(256, 0.05, centre_lines=20)
    with pytest.raises(ValueError, match=r"needs 64 samples .* gives only 51"):
        variable_density_mask(32, 0.05, centre_size=8)


# --------------------------------------------------------------------------------------
# User masks
# --------------------------------------------------------------------------------------
def test_user_mask_accepts_bool_and_01_ints_and_copies():
    rng = np.random.default_rng(0)
    ints = (rng.random((64, 64)) < 0.3).astype(np.int32)
    out = user_mask(ints)
    assert out.dtype == bool and np.array_equal(out, ints.astype(bool))
    as_bool = ints.astype(bool)
    out2 = user_mask(as_bool, size=64)
    assert np.array_equal(out2, as_bool) and not np.shares_memory(out2, as_bool)
    out2[:] = False
    assert as_bool.any()
    assert user_mask(ints.tolist()).sum() == ints.sum()


@pytest.mark.parametrize(
    "mask",
    [
        np.ones(64, dtype=bool),  # 1-D
        np.ones((2, 64, 64), dtype=bool),  # 3-D
        np.ones((32, 64), dtype=bool),  # not square
        np.ones((100, 100), dtype=bool),  # not a power of two
        np.ones((16, 16), dtype=bool),  # too small
        np.ones((2048, 2048), dtype=bool),  # too large
        np.ones((64, 64)),  # float
        np.full((64, 64), 2),  # ints other than 0/1
        np.zeros((64, 64), dtype=bool),  # empty
        np.zeros((64, 64), dtype=np.int8),  # empty ints
        [[1, 0], [1]],  # ragged
        "mask",
    ],
)
def test_bad_user_masks_are_refused_naming_mask(mask):
    with pytest.raises(ValueError, match="mask"):
        user_mask(mask)


def test_user_mask_size_mismatch_names_size():
    with pytest.raises(ValueError, match="size=32"):
        user_mask(np.ones((64, 64), dtype=bool), size=32)
    with pytest.raises(ValueError, match="size"):
        user_mask(np.ones((64, 64), dtype=bool), size=60)


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------
def test_registry_has_exactly_the_documented_patterns():
    assert list(PATTERNS) == NAMES
    for name, spec in PATTERNS.items():
        assert spec.name == name and spec.label and spec.description


@pytest.mark.parametrize("name", NAMES)
def test_registry_params_match_the_function_signature(name):
    spec = PATTERNS[name]
    sig = inspect.signature(spec.function)
    assert list(sig.parameters)[:3] == ["size", "rate", "seed"]
    assert sig.parameters["seed"].default == 0
    kw = {k: p for k, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert list(kw) == [p.name for p in spec.params]
    for p in spec.params:
        assert kw[p.name].default == p.default
        assert p.type in (int, float, str) and p.label and p.help
        assert p.validate(p.default) == p.default
        if p.type is str:
            assert p.default in p.choices
        else:
            assert p.min <= p.default <= p.max
    assert spec.defaults() == {p.name: p.default for p in spec.params}


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_extreme_works_or_is_refused_naming_it(name):
    # A UI may offer any value in a spec's range: each must give a valid mask or a
    # ValueError naming that parameter, never another exception.
    for p in PATTERNS[name].params:
        values = p.choices if p.choices else (p.min, p.max)
        for value in values:
            try:
                mask = make_mask(name, 64, 0.25, seed=0, **{p.name: value})
            except ValueError as err:
                assert p.name in str(err)
            else:
                assert abs(mask.mean() - 0.25) <= RATE_TOLERANCE and mask[32, 32]


def test_make_mask_forwards_to_the_pattern_function():
    a = make_mask("variable_density", 64, 0.3, seed=7, density="gaussian", width=0.2)
    b = variable_density_mask(64, 0.3, 7, density="gaussian", width=0.2)
    assert np.array_equal(a, b)
