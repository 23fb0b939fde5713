"""The page's settings as one frozen, hashable value.

``explorer.controls`` builds a :class:`Settings` from the widgets; everything downstream
(``explorer.compute``, the figures, the downloads) reads only this object, never the
widgets. It is grouped the way the sidebar is, so each cached computation can take just
the group it depends on (a change of colour scale does not touch the reconstruction's
cache key).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from explorer.specs import SPECS
from solver.recipe import Recipe
from solver.schedules import AdaptiveRule

__all__ = [
    "ImageSettings",
    "MeasurementSettings",
    "PerturbationSettings",
    "FirenetSettings",
    "ViewSettings",
    "Settings",
]


def _default(key: str) -> Any:
    """A field's default: its setting's spec (``explorer.specs``), the one source of truth."""
    return field(default_factory=lambda: SPECS[key].default)



@dataclass(frozen=True)
class ImageSettings:
    """Which ground truth: a test image by name (or an upload) at ``size`` x ``size``.

    ``upload`` is ``(file name, sha256 of the bytes)`` of the valid upload in use;
    ``phase``: the image times a smooth phase (seeded by ``seed``), a complex truth.
    """

    name: str = _default("image")
    size: int = _default("size")
    seed: int = _default("image_seed")
    upload: tuple[str, str] | None = None
    phase: bool = _default("phase")


@dataclass(frozen=True)
class MeasurementSettings:
    """Transform, sampling pattern (with its own parameters), rate and mask seed."""

    transform: str = _default("transform")
    pattern: str = _default("pattern")
    rate: float = _default("rate")
    seed: int = _default("mask_seed")
    params: tuple[tuple[str, object], ...] = ()

    @property
    def param_dict(self) -> dict[str, object]:
        return dict(self.params)


@dataclass(frozen=True)
class PerturbationSettings:
    """Measurement noise (always applied) and one perturbation on top of it.

    ``noise`` and ``budget`` are relative to ``||y||`` (for an inserted detail ``budget``
    is its contrast, for more samples the extra sampling rate); ``kind`` is a key of
    ``explorer.state.PERTURBATIONS``; ``steps`` is the number of gradient steps of a
    worst-case search, ``stability_steps`` that of each search of the stability curves
    (each budget starts from the previous budget's perturbation), ``stability_protocol``
    whether those curves perturb the data or, as the paper does, the image
    (``explorer.specs.STABILITY_PROTOCOLS``).
    """

    noise: float = _default("noise")
    noise_seed: int = _default("noise_seed")
    kind: str = _default("perturbation")
    budget: float = _default("budget")
    steps: int = _default("attack_steps")
    stability_steps: int = _default("stability_steps")
    stability_protocol: str = _default("stability_protocol")


@dataclass(frozen=True)
class FirenetSettings:
    """FIRENET's parameters under the solver's names (``solver.firenet.FIRENET``):
    ``restarts`` x ``layers``, restart factor ``nu``, ``sharpness`` scale, ``lam``, the
    block ``output``, the steps ``tau`` and ``sigma``, the floor ``delta`` and the first
    target ``eps0`` (0: ``||y||``); for the adaptive schedule ``max_layers``,
    ``target_gap`` and ``data_consistent`` (``solver.schedules.AdaptiveRule``); plus the
    wavelet and its ``levels`` (0 = maximal) and the l1 ``weights``: ``"uniform"``,
    ``"levels"`` (``solver.wavelets.level_weights``), ``"authors"``
    (``solver.sparsity_weights.sparsity_level_weights`` with ``threshold``) or ``"typed"``
    (the list ``sparsities``)."""

    schedule: str = _default("schedule")
    max_layers: int = _default("max_layers")
    target_gap: float = _default("target_gap")
    data_consistent: bool = _default("consistent")
    restarts: int = _default("n")
    layers: int = _default("p")
    nu: float = _default("nu")
    sharpness: float = _default("C")
    lam: float = _default("lam")
    wavelet: str = _default("wavelet")
    levels: int = _default("levels")
    weights: str = _default("weights")
    output: str = _default("output")
    tau: float = _default("tau")
    sigma: float = _default("sigma")
    delta: float = _default("delta")
    eps0: float = _default("eps0")
    threshold: float = _default("threshold")
    sparsities: str = _default("sparsities")

    @property
    def adaptive(self) -> bool:
        return self.schedule == "adaptive"

    @property
    def depth(self) -> int:
        """Total number of layers (at most, for the adaptive schedule)."""
        return self.max_layers if self.adaptive else self.restarts * self.layers

    @property
    def stops(self) -> list[int]:
        """The depths whose images are kept (the depth slider's stops): every restart of the
        fixed schedule; about 15 evenly spaced depths of the adaptive one."""
        if not self.adaptive:
            return [self.layers * k for k in range(1, self.restarts + 1)]
        step = max(1, self.max_layers // 15)
        return sorted({*range(step, self.max_layers + 1, step), self.max_layers})

    def network_options(self) -> dict[str, Any]:
        """Keyword arguments of ``solver.firenet.FIRENET`` (besides A, lam and weights)."""
        if self.adaptive:  # steps balanced by the schedule itself: no tau, sigma, nu, C
            options = {"schedule": "adaptive", "max_layers": self.max_layers,
                       "target_gap": self.target_gap or None}
            if self.data_consistent:
                options["rule"] = AdaptiveRule(data_consistent=True)
            return options
        return {"restarts": self.restarts, "layers": self.layers, "nu": self.nu,
                "sharpness": self.sharpness, "output": self.output, "delta": self.delta,
                "eps0": self.eps0 or None, "tau": self.tau, "sigma": self.sigma}

    def recipe(self, method: str) -> Any:
        """The ``solver.recipe.Recipe`` of ``method`` with these settings (the fixed-depth
        baselines run as many layers as FIRENET)."""
        return Recipe(method, lam=self.lam, wavelet=self.wavelet, levels=self.levels, weights=self.weights,
                      threshold=self.threshold, sparsities=self.sparsities, schedule=self.network_options(),
                      iterations=self.depth)


@dataclass(frozen=True)
class ViewSettings:
    """How results are shown (never triggers a computation)."""

    show: tuple[str, ...] = _default("show")
    depth: int = _default("depth")
    cmap: str = _default("cmap")
    error_max: float = _default("error_max")
    live: bool = _default("live")
    compare: bool = _default("compare")
    present: bool = _default("present")


@dataclass(frozen=True)
class Settings:
    """Everything the page depends on."""

    image: ImageSettings = field(default_factory=ImageSettings)
    measurement: MeasurementSettings = field(default_factory=MeasurementSettings)
    perturbation: PerturbationSettings = field(default_factory=PerturbationSettings)
    firenet: FirenetSettings = field(default_factory=FirenetSettings)
    view: ViewSettings = field(default_factory=ViewSettings)

    def to_json(self, **extra: str) -> str:
        """The settings as indented JSON (for the settings download), with ``extra``
        top-level entries (e.g. whether the perturbation was applied)."""
        data: dict[str, Any] = asdict(self)
        data["measurement"]["params"] = dict(self.measurement.params)
        data.update(extra)
        return json.dumps(data, indent=2, default=str)
