"""The settings of a sweep (``--set KEY=VALUE``): what each means, and its check.

Every value, the presets' and the command line's alike, goes through :func:`normalise`
when the sweep is planned, so a bad value stops the sweep before any task runs, with a
``ValueError`` naming the setting; and a value has one form whatever it was typed as
(``noise=0`` and the preset's ``0.0`` are the same float), so task keys, which hash the
settings, do not depend on how a number was written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from solver.validation import check_choice, check_fraction, check_int, check_positive

__all__ = ["SETTINGS", "Setting", "keys", "normalise"]


@dataclass(frozen=True)
class Setting:
    """One setting of the sweeps.

    Attributes
    ----------
    description : str
        What it is and which values it takes, for ``--help``.
    check : callable(name, value) -> value
        The value in its one form; raises ``ValueError`` naming ``name``.
    experiments : tuple of str, or None
        The experiments that have it (None: all of them).
    choices : callable() -> sequence of str, or None
        The allowed names, for a setting that is a name from a registry.
    """

    description: str
    check: Callable[[str, Any], Any]
    experiments: tuple[str, ...] | None = None
    choices: Callable[[], Sequence[str]] | None = None


def _integer(low: int, high: int | None = None) -> Callable[[str, Any], int]:
    return lambda name, value: check_int(name, value, low=low, high=high)


def _size(name: str, value: Any) -> int:
    size = check_int(name, value, low=32, high=1024)
    if size & (size - 1):
        raise ValueError(f"{name} must be a power of two in [32, 1024], got {size}")
    return size


def _positive(name: str, value: Any) -> float:
    return check_positive(name, value)


def _non_negative(name: str, value: Any) -> float:
    return check_positive(name, value, allow_zero=True)


def _fraction(name: str, value: Any) -> float:
    return check_fraction(name, value)


def _fraction_below_one(name: str, value: Any) -> float:
    return check_fraction(name, value, low_open=False, high_open=True)


def _choice(options: Callable[[], Sequence[str]]) -> Callable[[str, Any], str]:
    # The options are looked up at check time: the registries import torch.
    return lambda name, value: check_choice(name, value, options())


def _patterns() -> Sequence[str]:
    from solver.sampling import PATTERNS

    return tuple(PATTERNS)


def _transforms() -> Sequence[str]:
    from solver.problem import TRANSFORMS

    return TRANSFORMS


def _methods() -> Sequence[str]:
    from solver.methods import sweep_names

    return sweep_names()


def _wavelet(name: str, value: Any) -> str:
    import pywt

    if not isinstance(value, str) or value not in pywt.wavelist(kind="discrete"):
        raise ValueError(f"{name} must be a PyWavelets discrete wavelet (e.g. 'haar', 'db4'), got {value!r}")
    return value


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 40 or not value.isprintable():
        raise ValueError(f"{name} must be one line of 1 to 40 printable characters, got {value!r}")
    return value


_ATTACKS = ("stability", "robustness")

#: Every setting a sweep may be given, in the order ``--help`` lists them.
SETTINGS: dict[str, Setting] = {
    "method": Setting("reconstruction method", _choice(_methods), choices=_methods),
    "size": Setting("image side N, a power of two in [32, 1024]; the U-Net only at its trained 256", _size),
    "pattern": Setting("sampling pattern", _choice(_patterns), choices=_patterns),
    "rate": Setting("sampling rate in (0, 1]", _fraction),
    "mask_seed": Setting("seed of the sampling mask, integer >= 0", _integer(0)),
    "transform": Setting("measurement (the U-Net: fourier only)", _choice(_transforms), choices=_transforms),
    "wavelet": Setting("sparsifying wavelet, a PyWavelets name (haar, db2, ...)", _wavelet),
    "levels": Setting("wavelet levels, integer >= 0 (0: as many as the size allows)", _integer(0)),
    "lam": Setting("sparsity weight of the sqrt-LASSO, > 0", _positive),
    "weights": Setting("l1 weights: levels (per level, from the truth's sparsity) or uniform",
                       lambda name, value: check_choice(name, value, ("levels", "uniform"))),
    "noise": Setting("relative Gaussian noise on the data, >= 0", _non_negative),
    "noise_seed": Setting("seed of the noise, integer >= 0", _integer(0)),
    "iterations": Setting("depth of Chambolle-Pock and FISTA, integer in [1, 100000]", _integer(1, 100_000)),
    "budget": Setting("worst-case budget ||e|| / ||y||, in (0, 1]", _fraction, _ATTACKS),
    "steps": Setting("gradient steps of the worst-case search, integer in [1, 10000]", _integer(1, 10_000),
                     _ATTACKS),
    "lr": Setting("step length of the search (relative to ||y||), > 0", _positive, _ATTACKS),
    "momentum": Setting("Nesterov momentum of the search, in [0, 1)", _fraction_below_one, _ATTACKS),
    "mu": Setting("weight of the search's penalty mu/2 ||e||^2, >= 0", _non_negative, _ATTACKS),
    "attack_seed": Setting("seed of the search's random start, integer >= 0", _integer(0), _ATTACKS),
    "on_budget": Setting("the search at the budget: project (onto the ball) or stop (the paper's rule)",
                         lambda name, value: check_choice(name, value, ("project", "stop")), _ATTACKS),
    "random_trials": Setting("random perturbations of the worst case's size, integer in [1, 100]",
                             _integer(1, 100), _ATTACKS),
    "contrast": Setting("contrast of the inserted text, in (0, 1]", _fraction, ("detail",)),
    "text": Setting("the inserted text, 1 to 40 printable characters", _text, ("detail",)),
    "extra": Setting("extra sampling rate on top of the mask, in [0, 1) (rate + extra <= 1)",
                     _fraction_below_one, ("sampling_change",)),
    "extra_pattern": Setting("pattern of the extra samples", _choice(_patterns), ("sampling_change",),
                             choices=_patterns),
}


def keys(experiment: str) -> tuple[str, ...]:
    """The settings ``experiment`` takes, in :data:`SETTINGS` order."""
    return tuple(k for k, s in SETTINGS.items() if s.experiments is None or experiment in s.experiments)


def normalise(experiment: str, name: str, value: Any) -> Any:
    """``value`` of setting ``name`` in its one form; a list stays a list (a swept setting).

    Parameters
    ----------
    experiment : str
        The sweep's experiment (which settings it takes).
    name : str
        A key of :data:`SETTINGS`.
    value : scalar, or list or tuple of scalars

    Returns
    -------
    scalar or list
        Integers as ``int``, reals as ``float``, names as ``str``.

    Raises
    ------
    ValueError
        Naming the setting: unknown for this experiment, a bad value, an empty list or a
        value listed twice.
    """
    if name not in keys(experiment):
        raise ValueError(f"unknown setting {name!r} for {experiment}; it takes {', '.join(keys(experiment))}")
    check = SETTINGS[name].check
    if not isinstance(value, (list, tuple)):
        return check(name, value)
    if not value:
        raise ValueError(f"{name} must have at least one value, got an empty list")
    values = [check(name, v) for v in value]
    repeated = sorted({repr(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{name} lists {', '.join(repeated)} more than once")
    return values
