"""The shared argument checks: accepted values come back typed, others name the parameter."""

import math

import numpy as np
import pytest

from solver.validation import (
    check_choice,
    check_fraction,
    check_int,
    check_positive,
    check_seed,
)


def test_check_int_accepts_integers_and_numpy_integers():
    assert check_int("n", 3, low=1) == 3
    assert check_int("n", np.int64(7), low=1, high=7) == 7
    assert type(check_int("n", np.int32(2))) is int


@pytest.mark.parametrize("value", [True, 2.0, "3", None, 0, 11])
def test_check_int_rejects_with_the_parameter_name(value):
    with pytest.raises(ValueError, match=r"^layers must be an integer in \[1, 10\]"):
        check_int("layers", value, low=1, high=10)


@pytest.mark.parametrize("value", [-1, 1.5, False, "0"])
def test_check_seed(value):
    assert check_seed(0) == 0 and check_seed(2**40) == 2**40
    with pytest.raises(ValueError, match="^mask_seed must be an integer >= 0"):
        check_seed(value, "mask_seed")


@pytest.mark.parametrize("value", [0.0, -1e-9, math.nan, math.inf, "1", True])
def test_check_positive(value):
    assert check_positive("lam", 2.5e-4) == 2.5e-4
    assert check_positive("delta", 0.0, allow_zero=True) == 0.0
    with pytest.raises(ValueError, match="^lam must be"):
        check_positive("lam", value)


def test_check_fraction_ends():
    assert check_fraction("rate", 1.0) == 1.0
    assert check_fraction("nu", 0.5, high_open=True) == 0.5
    with pytest.raises(ValueError, match=r"nu must be in \(0, 1\)"):
        check_fraction("nu", 1.0, high_open=True)
    with pytest.raises(ValueError, match=r"rate must be in \(0, 1\]"):
        check_fraction("rate", 0.0)
    assert check_fraction("level", 0.0, low_open=False) == 0.0


def test_check_choice():
    assert check_choice("output", "last", ("ergodic", "last")) == "last"
    with pytest.raises(ValueError, match="^output must be one of 'ergodic', 'last'; got 'mean'"):
        check_choice("output", "mean", ("ergodic", "last"))
