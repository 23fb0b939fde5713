"""The catalogue of the page's settings: one :class:`~explorer.spec.Spec` per setting.

Every setting of the page is a spec in :data:`SPECS` (with the sampling patterns' own
parameters added by :func:`all_specs`); its key is the widget's ``key=`` and the URL's
query parameter (``explorer.spec`` reads and writes the URL).

Every default of a reconstruction comes from the solver: lam, the wavelet, its levels, the
weights, the sampling pattern and rate from ``solver.recipe``, FIRENET's schedule from
``solver.firenet``, the methods (their labels, the ones shown first) from the registry
``solver.methods``, and the sampling patterns' own parameters from the solver's pattern
registry (:func:`pattern_specs`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from explorer.spec import Spec
from solver import methods, recipe
from solver.firenet import PAPER_DEFAULTS
from solver.sparsity_weights import DEFAULT_THRESHOLD

__all__ = [
    "IMAGES",
    "SIZES",
    "TRANSFORMS",
    "PERTURBATIONS",
    "SEARCHED_PERTURBATIONS",
    "STABILITY_PROTOCOLS",
    "METHOD_LABELS",
    "WEIGHTINGS",
    "WAVELETS",
    "COLOURMAPS",
    "SPECS",
    "RETIRED_KEYS",
    "FIRENET_KEYS",
    "pattern_key",
    "pattern_specs",
    "all_specs",
]

# Option labels: value -> what the user reads. The values are what the URL carries.
IMAGES = {
    "shepp_logan": "Shepp-Logan phantom",
    "random_ellipses": "Random ellipses (the U-Net's kind of image)",
    "ellipses_text": "Ellipses with a detail (\"Can u see it?\")",
    "camera": "Camera (photograph)",
    "mni_t1": "MR brain slice (MNI ICBM152 T1 template)",
    "kspace": "Measured k-space (NPY, NPZ, BART, fastMRI HDF5)",
    "upload": "Upload (PNG, JPEG or NPY)",
}
SIZES = (128, 256, 512)
TRANSFORMS = {"fourier": "Fourier (MRI)", "walsh": "Walsh-Hadamard",
              "walsh_uncentred": "Walsh, published order"}
PERTURBATIONS = {
    "none": "None",
    "random": "Random (complex Gaussian)",
    "worst_unet": "Worst case against the U-Net",
    "worst_firenet": "Worst case against FIRENET",
    "transfer": "Transferred from the other network",
    "detail": "Inserted detail (a small text)",
    "more_samples": "More samples than trained",
}
#: Where the stability curves perturb: the data, or (the paper's protocol) the image.
STABILITY_PROTOCOLS = {
    "measurements": "Data: e with ‖e‖ ≤ η‖y‖ (normalised ascent)",
    "image": "Image, the paper's search: r with ‖r‖ = η‖Ax‖ (up to 300 steps)",
}
#: Perturbations that need a gradient-ascent search (run on demand, with progress).
SEARCHED_PERTURBATIONS = ("worst_unet", "worst_firenet", "transfer")


class _MethodLabels(Mapping):
    """Method key -> label, read from the solver's registry each time (a method added to
    ``solver.methods.METHODS`` is on the page at once)."""

    def __getitem__(self, key: str) -> str:
        return methods.METHODS[key].label

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(methods.METHODS))

    def __len__(self) -> int:
        return len(methods.METHODS)


#: Method key -> label, as the registry says (``solver.methods.METHODS``).
METHOD_LABELS: Mapping[str, str] = _MethodLabels()
WEIGHTINGS = {"uniform": "Uniform (all ones)", "levels": "Per level, from the image's sparsity",
              "authors": "Per level, the published scheme (absolute threshold)",
              "typed": "Per level, from typed sparsities"}
WAVELETS = ("haar", "db2", "db4", "sym4", "coif1")
COLOURMAPS = ("gray", "viridis", "magma", "cividis", "inferno")
SEED_MAX = 2**31 - 1


def _firenet_specs() -> dict[str, Spec]:
    r = PAPER_DEFAULTS  # the fixed schedule's values when it is chosen (the paper's table: 5 x 5)
    return {
        "schedule": Spec("adaptive", "Schedule", widget="radio", options=("adaptive", "fixed"),
                         labels={"adaptive": "adaptive (certified gap)", "fixed": "fixed (paper)"},
                         help="Adaptive: restarts and step balance chosen by FIRENET's own "
                              "certified duality gap, no per-problem table. Fixed: the paper's "
                              "schedule εₖ = ν (δ + εₖ₋₁), n restarts of p layers."),
        "max_layers": Spec(recipe.ITERATIONS, "Layers (adaptive: at most)", low=10, high=20_000, step=10),
        "target_gap": Spec(0.0, "Stop at certified gap (0 = run all layers)", low=0.0, high=0.1,
                           format="%.1e", help="Adaptive schedule only: stop early once the "
                                               "certified relative gap is below this."),
        "consistent": Spec(False, "Data-consistent output", widget="toggle", param="data_consistent",
                           help="Adaptive schedule only: also certify x + A*(y - A x), which fits "
                                "the data exactly, and output it where its objective is lower "
                                "(one more A* per check). On line masks it reaches a small "
                                "certified gap sooner; in mid-run its certificate was up to 6-16x "
                                "the true gap on 2-D random masks and 28-71x on line, spiral "
                                "and radial ones (measured at N = 32; the default output: at "
                                "most 1.4x), because the output outruns the dual."),
        "n": Spec(5, "Restarts n", low=1, high=200, step=1, param="restarts"),
        "p": Spec(int(r["layers"]), "Layers per restart p", low=1, high=500, step=1, param="layers"),
        "nu": Spec(float(r["nu"]), "Restart factor ν", low=0.01, high=0.99, step=0.05,
                   format="%.4f", param="nu",
                   help="εₖ = ν (δ + εₖ₋₁); the paper uses e⁻¹ = 0.3679."),
        "C": Spec(float(r["sharpness"]), "Sharpness scale C", low=1e-3, high=1e6, format="%.3g",
                  param="sharpness", help="Rescaling α = 2‖A‖ / (C ε p); 1 = the paper."),
        "lam": Spec(recipe.LAM, "λ", low=1e-7, high=1.0, step=1e-4, format="%.2e",
                    help="Weight λ of the ℓ¹ term of the sqrt-LASSO, λ‖x‖₁,w + ‖Ax − y‖₂."),
        "wavelet": Spec(recipe.WAVELET, "Wavelet", widget="select", options=WAVELETS),
        "levels": Spec(recipe.LEVELS, "Levels (0 = max)", low=0, high=9, step=1),
        "weights": Spec(recipe.WEIGHTS, "ℓ¹ weights", widget="radio", options=tuple(WEIGHTINGS),
                        labels=WEIGHTINGS,
                        help="Per level: wⱼ = √(s / sⱼ) from the significant wavelet "
                             "coefficients of the ground truth on each level."),
        "output": Spec(str(r["output"]), "Block output", widget="radio", options=("last", "ergodic"),
                       labels={"last": "last iterate", "ergodic": "ergodic average (paper)"},
                       param="output"),
        **_advanced_firenet_specs(),
    }


def _advanced_firenet_specs() -> dict[str, Spec]:
    """FIRENET's less common parameters (the "Advanced FIRENET" group)."""
    r = PAPER_DEFAULTS
    return {
        "tau": Spec(float(r["tau"]), "τ (primal step)", low=1e-3, high=1.0, step=0.05, format="%.3g",
                    help="Primal step of the rescaled problem; τσ‖A‖² ≤ 1 (‖A‖ = 1)."),
        "sigma": Spec(float(r["sigma"]), "σ (dual step)", low=1e-3, high=1000.0, step=0.05, format="%.3g",
                      help="Dual step of the rescaled problem; τσ ≤ 1."),
        "delta": Spec(float(r["delta"]), "δ (accuracy floor)", low=0.0, high=1.0, format="%.2e",
                      help="εₖ = ν (δ + εₖ₋₁)."),
        "eps0": Spec(0.0, "ε₀ (0 = ‖y‖)", low=0.0, high=1e6, format="%.4g",
                     help="The first accuracy target; 0 uses ‖y‖ (= F(0))."),
        "threshold": Spec(float(DEFAULT_THRESHOLD), "Threshold of the published scheme",
                          low=1e-6, high=10.0, step=0.05, format="%.3g",
                          help="A coefficient of the [0, 1]-scaled image counts when its "
                               "modulus exceeds this (0.1 in the published code, 0.5 in "
                               "its text-detail demo)."),
        "sparsities": Spec("", "Sparsities per level (coarsest first)", widget="text",
                           help="E.g. 4, 12, 48, 50, 100, 100: as many numbers as levels "
                                "(approximation merged into the coarsest level) or one "
                                "more (approximation separate)."),
    }


def _base_specs() -> dict[str, Spec]:
    return {
        # Image
        "image": Spec("random_ellipses", "Ground truth", widget="select", options=tuple(IMAGES),
                      labels=IMAGES),
        "size": Spec(256, "Size N (N x N pixels)", widget="segmented", options=SIZES),
        # 800000: the first held-out test image of the U-Net's kind (solver.datasets).
        "image_seed": Spec(800_000, "Image seed", low=0, high=SEED_MAX, step=1),
        "phase": Spec(False, "Complex image (smooth phase)", widget="toggle",
                      help="Multiply the image by a smooth seeded phase, as MR images carry: "
                           "the methods must keep the imaginary part; magnitudes are shown "
                           "and the metrics compare the complex images."),
        "kspace_convention": Spec("auto", "FFT convention of the k-space file", widget="select",
                                  options=("auto", "centred", "corner"),
                                  labels={"auto": "Detect", "centred": "fftshift(fft2(ifftshift(x)))",
                                          "corner": "fftshift(fft2(x))"},
                                  help="For even N the two differ by (-1)^(row + col) on every "
                                       "sample; read in the wrong one, the image is split into "
                                       "the four corners. Detect compares the zero-filled "
                                       "image's border in both."),
        # Measurement
        "transform": Spec(recipe.TRANSFORM, "Transform", widget="segmented", options=tuple(TRANSFORMS),
                          labels=TRANSFORMS),
        "pattern": Spec(recipe.PATTERN, "Sampling pattern", widget="select"),
        # Fractions shown as percentages ("percent": 0.255 reads 25.5%), as the page's text
        # says them; the URL and the settings keep the fraction.
        "rate": Spec(recipe.RATE, "Sampling rate", widget="slider", low=0.02, high=1.0, step=0.005,
                     format="percent"),
        "mask_seed": Spec(0, "Mask seed", low=0, high=SEED_MAX, step=1),
        # Noise and perturbation (both relative to ||y||)
        "noise": Spec(0.0, "Noise level ‖e‖ / ‖y‖", widget="slider", low=0.0, high=0.2,
                      step=0.005, format="percent",
                      help="Complex Gaussian noise added to the data of every method."),
        "noise_seed": Spec(0, "Noise seed", low=0, high=SEED_MAX, step=1),
        "perturbation": Spec("worst_unet", "Perturbation", widget="select", options=tuple(PERTURBATIONS),
                             labels=PERTURBATIONS),
        "budget": Spec(0.05, "Budget ‖r‖ / ‖y‖", widget="slider", low=0.0, high=0.5,
                       step=0.005, format="percent"),
        "attack_steps": Spec(20, "Gradient steps of the search", low=1, high=500, step=5,
                             help="Each step is one forward and one backward pass through the "
                                  "attacked network (through all of FIRENET's layers)."),
        "stability_steps": Spec(3, "Gradient steps per size", low=1, high=200, step=1,
                                help="Each size starts from the last size's perturbation, so a "
                                     "few steps per size suffice (data perturbations; the paper's "
                                     "image search runs until it reaches the largest size)."),
        "stability_protocol": Spec("measurements", "Perturbation of the stability curves", widget="",
                                   options=tuple(STABILITY_PROTOCOLS), labels=STABILITY_PROTOCOLS),
        **_firenet_specs(),
        # What to show
        "show": Spec(methods.SHOWN_FIRST, "Methods", widget="pills", options=tuple(METHOD_LABELS),
                     labels=METHOD_LABELS),
        "depth": Spec(0, "Depth", widget="", low=0, high=100_000, step=1),
        "cmap": Spec("gray", "Colour map", widget="segmented", options=COLOURMAPS),
        "error_max": Spec(0.25, "|error| shown up to", widget="slider",
                          low=0.01, high=1.0, step=0.01),
        "live": Spec(True, "Draw the convergence curve live", widget="toggle"),
        "compare": Spec(False, "Compare with Chambolle-Pock in the convergence plot",
                        widget="toggle",
                        help="Plain Chambolle-Pock and Chambolle-Pock with the adaptive step "
                             "balance, as many layers as FIRENET, computed after the rest of "
                             "the page is shown."),
        "present": Spec(False, "Presentation mode", widget="toggle",
                        help="Larger type, the sidebar folded away, the long panels folded: "
                             "for a projector. In the URL as ?present=1."),
    }


#: Every setting but the sampling patterns' own parameters (see :func:`all_specs`).
SPECS: dict[str, Spec] = _base_specs()

#: URL keys of earlier versions of the page, and why a link that carries one opens without it.
RETIRED_KEYS = {"values": "every picture now zooms (drag a box) and shows its pixel values (hover)."}

#: The FIRENET settings that the "Paper's values" and "Adaptive" buttons set.
FIRENET_KEYS = tuple(_firenet_specs())


def pattern_key(pattern: str, name: str) -> str:
    """Session-state / URL key of one sampling-pattern parameter."""
    return f"pp_{pattern}_{name}"


def pattern_specs(patterns: Mapping[str, Any]) -> dict[str, Spec]:
    """Specs for every pattern's own parameters, from the solver's registry
    (``solver.sampling.PATTERNS``: name -> ``PatternSpec`` whose ``params`` are
    ``ParamSpec``: name, label, default, min, max, step, choices, help)."""
    specs: dict[str, Spec] = {}
    for pattern, spec in patterns.items():
        for param in spec.params:
            choices = tuple(param.choices) if param.choices else None
            specs[pattern_key(pattern, param.name)] = Spec(
                param.default, param.label or param.name.replace("_", " "), help=param.help or None,
                widget="select" if choices else "number", options=choices,
                low=param.min, high=param.max, step=param.step,
                format="%.4g" if isinstance(param.default, float) else None)
    return specs


def all_specs(patterns: Mapping[str, Any] | None = None) -> dict[str, Spec]:
    """:data:`SPECS` with the pattern choice and the patterns' parameters from the
    registry (when given)."""
    specs = dict(SPECS)
    specs["show"] = replace(SPECS["show"], options=tuple(METHOD_LABELS))  # the registry now
    if patterns:
        specs["pattern"] = replace(SPECS["pattern"], options=(*patterns, "user"),
                                   labels={**{k: v.label or k for k, v in patterns.items()},
                                           "user": "Uploaded mask (PNG or NPY)"})
        specs.update(pattern_specs(patterns))
    return specs

