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

__all__ = [
    "ImageSettings",
    "MeasurementSettings",
    "PerturbationSettings",
    "FirenetSettings",
    "ViewSettings",
    "Settings",
]


@dataclass(frozen=True)
class ImageSettings:
    """Which ground truth: a test image by name (or an upload) at ``size`` x ``size``.

    ``upload`` is ``(file name, sha256 of the bytes)`` of the valid upload in use;
    ``phase``: the image times a smooth phase (seeded by ``seed``), a complex truth.
    """

    name: str = "shepp_logan"
    size: int = 256
    seed: int = 0
    upload: tuple[str, str] | None = None
    phase: bool = False


@dataclass(frozen=True)
class MeasurementSettings:
    """Transform, sampling pattern (with its own parameters), rate and mask seed."""

    transform: str = "fourier"
    pattern: str = "multilevel"
    rate: float = 0.25
    seed: int = 0
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
    (each budget starts from the previous budget's perturbation).
    """

    noise: float = 0.0
    noise_seed: int = 0
    kind: str = "none"
    budget: float = 0.05
    steps: int = 20
    stability_steps: int = 5


def _recommended(name: str) -> Any:
    from solver.firenet import RECOMMENDED

    return RECOMMENDED[name]


@dataclass(frozen=True)
class FirenetSettings:
    """FIRENET's parameters under the solver's names (``solver.firenet.FIRENET``):
    ``restarts`` x ``layers``, restart factor ``nu``, ``sharpness`` scale, ``lam``, the
    block ``output``, the steps ``tau`` and ``sigma``, the floor ``delta`` and the first
    target ``eps0`` (0: ``||y||``); plus the wavelet and its ``levels`` (0 = maximal) and
    the l1 ``weights``: ``"uniform"``, ``"levels"`` (``solver.wavelets.level_weights``),
    ``"authors"`` (``solver.sparsity_weights.sparsity_level_weights`` with ``threshold``)
    or ``"typed"`` (the list ``sparsities``). Defaults: ``solver.firenet.RECOMMENDED``."""

    restarts: int = field(default_factory=lambda: int(_recommended("restarts")))
    layers: int = field(default_factory=lambda: int(_recommended("layers")))
    nu: float = field(default_factory=lambda: float(_recommended("nu")))
    sharpness: float = field(default_factory=lambda: float(_recommended("sharpness")))
    lam: float = field(default_factory=lambda: float(_recommended("lam")))
    wavelet: str = "haar"
    levels: int = 0
    weights: str = "levels"
    output: str = field(default_factory=lambda: str(_recommended("output")))
    tau: float = 1.0
    sigma: float = 1.0
    delta: float = 1e-9
    eps0: float = 0.0
    threshold: float = 0.1
    sparsities: str = ""

    @property
    def depth(self) -> int:
        """Total number of layers."""
        return self.restarts * self.layers

    def network_options(self) -> dict[str, Any]:
        """Keyword arguments of ``solver.firenet.FIRENET`` (besides A, lam and weights)."""
        return {"restarts": self.restarts, "layers": self.layers, "nu": self.nu,
                "sharpness": self.sharpness, "output": self.output, "tau": self.tau,
                "sigma": self.sigma, "delta": self.delta, "eps0": self.eps0 or None}


@dataclass(frozen=True)
class ViewSettings:
    """How results are shown (never triggers a computation)."""

    show: tuple[str, ...] = ("zero_filled", "firenet", "unet")
    depth: int = 0
    cmap: str = "gray"
    error_max: float = 0.25
    live: bool = True
    compare: bool = True
    present: bool = False


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
