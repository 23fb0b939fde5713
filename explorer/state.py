"""Every ``st.session_state`` key the explorer uses, with its default, in one place.

Two kinds of key live in the session state:

* **settings**: one per widget. The key is also the widget's ``key=`` and the name of its
  URL query parameter, so a URL with ``?size=128&rate=0.15`` opens the same page. Each has
  a :class:`Spec` (default and allowed values) in :data:`SPECS`; the per-pattern sampling
  parameters come from the solver's pattern registry and are added by
  :func:`pattern_specs` under keys ``pp_<pattern>_<parameter>``.
* **internal**: the page's memory between reruns (the last valid upload, pending
  requests for long computations, ...), listed in :data:`INTERNAL`. Never in the URL.
* **actions**: buttons and the file uploader (:data:`ACTION_KEYS`), which hold no
  setting.

Nothing here draws anything; ``explorer.controls`` builds the widgets from these specs.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Spec",
    "IMAGES",
    "SIZES",
    "TRANSFORMS",
    "PERTURBATIONS",
    "NETWORK_PERTURBATIONS",
    "METHODS",
    "WEIGHTINGS",
    "COLOURMAPS",
    "SPECS",
    "FIRENET_KEYS",
    "INTERNAL",
    "ACTION_KEYS",
    "pattern_key",
    "pattern_specs",
    "all_specs",
    "init",
    "reset",
    "parse_query",
    "to_query",
]


@dataclass(frozen=True)
class Spec:
    """One setting: its default and what values it may take.

    Attributes
    ----------
    default : bool, int, float, str or tuple of str
        The value on a fresh page.
    options : tuple, optional
        Allowed values (select boxes, multiselects).
    low, high : float, optional
        Inclusive range for numbers.
    log : bool
        Whether a number is better shown on a log scale (budgets, lam).
    """

    default: Any
    options: tuple | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False

    def parse(self, name: str, text: str | list[str]) -> Any:
        """Parse and validate a URL value; ``ValueError`` names the parameter."""
        if isinstance(text, list):
            text = text[-1] if text else ""
        default = self.default
        try:
            if isinstance(default, bool):
                if text.lower() not in ("1", "0", "true", "false"):
                    raise ValueError
                value: Any = text.lower() in ("1", "true")
            elif isinstance(default, int):
                value = int(text)
            elif isinstance(default, float):
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError
            elif isinstance(default, tuple):
                value = tuple(v for v in text.split(",") if v)
            else:
                value = str(text)
        except ValueError:
            raise ValueError(
                f"URL parameter {name} must be a {type(default).__name__}, got {text!r}"
            ) from None
        self.check(name, value)
        return value

    def check(self, name: str, value: Any) -> None:
        """Raise ``ValueError`` naming ``name`` if ``value`` is not allowed."""
        if self.options is not None:
            values = value if isinstance(value, tuple) else (value,)
            bad = [v for v in values if v not in self.options]
            if bad:
                raise ValueError(
                    f"{name} must be one of {', '.join(map(str, self.options))}; got {bad[0]!r}"
                )
        if self.low is not None and value < self.low:
            raise ValueError(f"{name} must be >= {self.low}, got {value}")
        if self.high is not None and value > self.high:
            raise ValueError(f"{name} must be <= {self.high}, got {value}")


# Option labels: value -> what the user reads. The values are what the URL carries.
IMAGES = {
    "shepp_logan": "Shepp-Logan phantom",
    "random_ellipses": "Random ellipses",
    "ellipses_text": "Ellipses with a detail (\"Can u see it?\")",
    "camera": "Camera (photograph)",
    "upload": "Upload (PNG, JPEG or NPY)",
}
SIZES = (128, 256, 512)
TRANSFORMS = {"fourier": "Fourier (MRI)", "walsh": "Walsh-Hadamard"}
PERTURBATIONS = {
    "none": "None",
    "random": "Random (complex Gaussian)",
    "worst_unet": "Worst case against the U-Net",
    "worst_firenet": "Worst case against FIRENET",
    "transfer": "Transferred from the other network",
    "detail": "Inserted detail (a small text)",
    "more_samples": "More samples than trained",
}
#: Perturbations that need a gradient-ascent search (run on demand, with progress).
NETWORK_PERTURBATIONS = ("worst_unet", "worst_firenet", "transfer")
METHODS = {
    "zero_filled": "Zero-filled",
    "firenet": "FIRENET",
    "unet": "U-Net",
    "unet_firenet": "U-Net then FIRENET",
    "cp": "Chambolle-Pock",
    "cp_tuned": "Chambolle-Pock, tuned ratio",
}
WEIGHTINGS = {"uniform": "Uniform (all ones)", "levels": "Per level, from the image's sparsity"}
WAVELETS = ("haar", "db2", "db4", "sym4", "coif1")
COLOURMAPS = ("gray", "viridis", "magma", "cividis", "inferno")

# Settings. FIRENET's defaults are filled from solver.firenet.RECOMMENDED by
# explorer.compute at import (see FIRENET_KEYS); the values here are the fallback.
SPECS: dict[str, Spec] = {
    # Image
    "image": Spec("shepp_logan", options=tuple(IMAGES)),
    "size": Spec(256, options=SIZES),
    "image_seed": Spec(0, low=0, high=2**31 - 1),
    # Measurement
    "transform": Spec("fourier", options=tuple(TRANSFORMS)),
    "pattern": Spec("multilevel"),  # options: the solver's registry (checked in compute)
    "rate": Spec(0.25, low=0.01, high=1.0),
    "mask_seed": Spec(0, low=0, high=2**31 - 1),
    # Noise and perturbation (both relative to ||y||)
    "noise": Spec(0.0, low=0.0, high=1.0),
    "noise_seed": Spec(0, low=0, high=2**31 - 1),
    "perturbation": Spec("none", options=tuple(PERTURBATIONS)),
    "budget": Spec(0.05, low=0.0, high=1.0),
    "attack_steps": Spec(20, low=1, high=500),
    "stability_steps": Spec(5, low=1, high=200),
    # FIRENET
    "n": Spec(15, low=1, high=200),
    "p": Spec(20, low=1, high=500),
    "nu": Spec(math.exp(-1.0), low=0.01, high=0.99),
    "C": Spec(1.0, low=1e-3, high=1e6, log=True),
    "lam": Spec(2.5e-4, low=1e-7, high=1.0, log=True),
    "wavelet": Spec("haar", options=WAVELETS),
    "levels": Spec(0, low=0, high=9),  # 0 = as many as the size allows
    "weights": Spec("levels", options=tuple(WEIGHTINGS)),
    "output": Spec("last", options=("last", "ergodic")),
    # What to show
    "show": Spec(("zero_filled", "firenet", "unet"), options=tuple(METHODS)),
    "depth": Spec(0, low=0, high=100_000),  # layers shown; 0 = all of them
    "cmap": Spec("gray", options=COLOURMAPS),
    "error_max": Spec(0.25, low=0.01, high=1.0),
    "live": Spec(True),
    "compare": Spec(True),
}

#: The FIRENET parameters (set together by the "paper" and "recommended" buttons).
FIRENET_KEYS = ("n", "p", "nu", "C", "lam", "wavelet", "levels", "weights", "output")

#: Internal keys and their defaults (never in the URL).
INTERNAL: dict[str, Any] = {
    "_url_loaded": False,  # the URL has been read into the settings once per session
    "_url_errors": (),  # messages about URL values that were rejected
    "_last_query": None,  # what was last written to the URL (to write only changes)
    "_upload_seen": None,  # file id of the last upload processed
    "user_upload": None,  # (name, bytes) of the last *valid* upload
    "upload_error": None,  # message about the last rejected upload
    "attack_request": False,  # a worst-case search was asked for (button or preset)
    "stability_request": False,  # the stability curves were asked for
    "preset_note": None,  # what the last preset set up (shown once)
    # Settings applied on top of every preset (e.g. {"size": 128} to run the presets
    # small on a slow machine; the tests and benchmarks use it).
    "preset_overrides": None,
    "_keep_notes": False,  # keep the preset note through the rerun after a long task
    "_last_image": ("shepp_logan", 0),  # (name, seed) of the last test image shown
    "_last_good_ms": None,  # the last MeasurementSettings that gave a mask
    "_timings": {},  # section -> seconds of the last run (explorer.timing)
    "_run_start": None,  # perf_counter at the start of the run (explorer.timing)
}

#: Keys of widgets that hold no setting (Streamlit does not let buttons and file
#: uploaders be set through the session state, so they are not initialised): the file
#: uploader, the preset buttons ``preset_<name>``, the FIRENET value buttons, the
#: long-task buttons and the download buttons.
ACTION_KEYS = ("upload_file", "btn_paper", "btn_recommended", "run_attack", "run_stability",
               "dl_png", "dl_npz", "dl_json")


def pattern_key(pattern: str, name: str) -> str:
    """Session-state / URL key of one sampling-pattern parameter."""
    return f"pp_{pattern}_{name}"


def pattern_specs(patterns: Mapping[str, Any]) -> dict[str, Spec]:
    """Specs for every pattern's own parameters, from the solver's registry.

    Parameters
    ----------
    patterns : mapping
        ``name -> PatternSpec``; each spec's ``params`` maps a parameter name to an object
        with ``default`` and optionally ``low``/``high`` (or ``min``/``max``) and
        ``options``/``choices``.
    """
    specs: dict[str, Spec] = {}
    for pattern, spec in patterns.items():
        for name, param in _params_of(spec).items():
            default = _attr(param, "default")
            if isinstance(default, list):
                default = tuple(default)
            options = _attr(param, "options", "choices")
            specs[pattern_key(pattern, name)] = Spec(
                default=default,
                options=tuple(options) if options else None,
                low=_attr(param, "low", "min", "minimum"),
                high=_attr(param, "high", "max", "maximum"),
            )
    return specs


def _params_of(spec: Any) -> Mapping[str, Any]:
    params = _attr(spec, "params", "parameters")
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return params
    return {_attr(p, "name"): p for p in params}


def _attr(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def all_specs(
    patterns: Mapping[str, Any] | None = None, firenet: Mapping[str, Any] | None = None
) -> dict[str, Spec]:
    """:data:`SPECS` plus the pattern parameters (when the registry is given).

    ``firenet`` (e.g. the solver's recommended values, in setting names) replaces the
    FIRENET defaults, so the fresh page runs the measured-best configuration.
    """
    specs = dict(SPECS)
    for key, value in (firenet or {}).items():
        if key in specs:
            specs[key] = Spec(value, specs[key].options, specs[key].low, specs[key].high,
                              specs[key].log)
    if patterns:
        specs["pattern"] = Spec(SPECS["pattern"].default, options=tuple(patterns))
        specs.update(pattern_specs(patterns))
    return specs


def init(state: MutableMapping[str, Any], specs: Mapping[str, Spec]) -> None:
    """Put every missing key in ``state`` with its default (never overwrites)."""
    for key, spec in specs.items():
        if key not in state:
            state[key] = widget_value(spec.default)
    for key, default in INTERNAL.items():
        if key not in state:
            state[key] = copy.copy(default)  # no dict shared between sessions


def reset(state: MutableMapping[str, Any], specs: Mapping[str, Spec]) -> None:
    """Every setting back to its default (the internal memory is kept)."""
    for key, spec in specs.items():
        state[key] = widget_value(spec.default)


def widget_value(value: Any) -> Any:
    """A setting as its widget holds it (multiselects hold lists, not tuples)."""
    return list(value) if isinstance(value, tuple) else value


def parse_query(
    query: Mapping[str, Any], specs: Mapping[str, Spec]
) -> tuple[dict[str, Any], list[str]]:
    """Settings from URL query parameters.

    Returns
    -------
    values : dict
        Valid settings found in the URL.
    errors : list of str
        One message per rejected or unknown parameter (the default is kept for those).
    """
    values: dict[str, Any] = {}
    errors: list[str] = []
    for name, text in query.items():
        spec = specs.get(name)
        if spec is None:
            errors.append(f"Unknown URL parameter {name!r} ignored.")
            continue
        try:
            values[name] = spec.parse(name, text)
        except ValueError as error:
            errors.append(f"{error}; the default {_format(spec.default)} is used.")
    return values, errors


def to_query(state: Mapping[str, Any], specs: Mapping[str, Spec]) -> dict[str, str]:
    """The settings that differ from their defaults, as URL query strings."""
    query: dict[str, str] = {}
    for key, spec in specs.items():
        if key not in state:
            continue
        value = state[key]
        if isinstance(spec.default, tuple):
            value = tuple(value)
        if value != spec.default:
            query[key] = _format(value)
    return query


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return repr(value)
    return str(value)
