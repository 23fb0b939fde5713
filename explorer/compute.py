"""The explorer's caching layer: solver calls keyed on their inputs, nothing computed here.

Four kinds of cache, each for what it fits:

* ``st.cache_resource`` for objects built once and shared (the pattern registry,
  measurement operators, the trained network);
* ``st.cache_data`` for plain arrays (test images, masks, validated uploads);
* :class:`explorer.memo.Memo` for the metrics a run asks for again and again (about 18 a
  run: Streamlit's hashing of their two images cost 2.2 ms a call, the memo's 0.6 ms);
* :class:`_Store`, a small thread-safe LRU dictionary for results produced with live
  progress: reconstructions (FIRENET streams its convergence curve while it runs),
  worst-case perturbations and stability curves. Their keys hold the *content* of the data
  (a digest of ``y``, the truth and the mask) and the settings they depend on, so a change
  of view never recomputes anything, going back to earlier settings is instant, and two
  visitors asking for the same work share one result.

The perturbed variants of a problem and the searches behind them are cached in
``explorer.variants``. The numerics live in ``solver``: problems and their variants (``solver.problem``), the
methods (``solver.methods``), running and certifying them (``solver.trace``), attacks and
stability curves (``solver.attacks``, ``solver.stability``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from explorer import figures, persist, saved_traces, sources, work
from explorer.memo import Memo, array_digest
from explorer.outside import read_outside
from explorer.settings import FirenetSettings, ImageSettings, MeasurementSettings
from explorer.sources import DTYPE
import solver.networks
import solver.trace  # called through their modules, where the tests replace them
from solver import metrics as m
from solver.methods import METHODS, from_recipe
from solver.operators import WaveletMeasurement, make_operator
from solver.problem import Problem, make_problem
from solver.recipe import l1_weights, wavelet_transform
from solver.trace import Trace

__all__ = [
    "DTYPE",
    "base_problem",
    "cached_reconstruction",
    "digest",
    "figure",
    "metrics",
    "network",
    "reconstruct",
    "reconstruction_key",
    "store",
    "unet_status",
    "unet_version",
    "weights",
    "weights_check",
    "zero_filled_image",
]


#: Environment variable naming another U-Net weights file (a .safetensors with its card).
WEIGHTS_VARIABLE = "FIRENET_UNET_WEIGHTS"


# --------------------------------------------------------------------------------------
# The trained network
# --------------------------------------------------------------------------------------
def unet_version() -> tuple[str, float | None]:
    """Which weights: ``$FIRENET_UNET_WEIGHTS`` or the shipped file, and its time stamp
    (part of every U-Net result's key: replaced weights are picked up without a restart
    and never mixed with old results)."""
    path = os.environ.get(WEIGHTS_VARIABLE) or str(solver.networks.DEFAULT_WEIGHTS)
    return path, (os.path.getmtime(path) if os.path.exists(path) else None)


@st.cache_resource(show_spinner=False, max_entries=2)
def _load_unet(path: str, stamp: float | None) -> tuple[Any, dict[str, Any] | None, str | None]:
    """The trained U-Net and its card, or ``(None, None, reason)``."""
    loaded, refusal = read_outside("U-Net weights file", path, lambda: solver.networks.load_network(path))
    if refusal is not None:
        return None, None, f"The trained U-Net is not available. {refusal}"
    model, card = loaded
    return model, card, None


def _unet() -> tuple[Any, dict[str, Any] | None, str | None]:
    return _load_unet(*unet_version())


def unet_status() -> tuple[dict[str, Any] | None, str | None]:
    """The U-Net's model card (None if unavailable) and the reason it is unavailable."""
    _, card, reason = _unet()
    return card, reason


# --------------------------------------------------------------------------------------
# The problem and the networks
# --------------------------------------------------------------------------------------
def base_problem(image: ImageSettings, truth: np.ndarray, ms: MeasurementSettings, noise: float,
                 noise_seed: int, *, user_mask: tuple[str, bytes] | None = None) -> Problem:
    """The unperturbed problem (raises ``ValueError`` from the sampling code, or when the
    "user" pattern has no valid mask file for this size).

    ``user_mask`` is the uploaded mask file as ``(file name, bytes)``, read by the "user"
    pattern; the page passes it in (this layer reads no session state).
    """
    if ms.pattern == "user":
        upload = user_mask
        if upload is None:
            raise ValueError("no mask file has been uploaded yet (Measurement: mask file)")
        mask, notes = sources.user_mask(upload[1], upload[0], image.size, ms.transform)
    else:
        mask, notes = sources.sampling_mask(ms.pattern, image.size, ms.rate, ms.seed, ms.params)
    return _problem(truth, mask, ms.transform, noise, noise_seed, notes)


@st.cache_resource(max_entries=16, show_spinner=False)
def _problem(truth: np.ndarray, mask: np.ndarray, transform: str, noise: float, noise_seed: int,
             notes: tuple[str, ...]) -> Problem:
    problem = make_problem(truth, mask, transform=transform, noise=noise, noise_seed=noise_seed,
                           dtype=DTYPE)
    return replace(problem, notes=notes)


#: Each problem's digest, computed once: a page run asks for it about 45 times (every
#: result key), and hashing the data, truth and mask of a 256 x 256 problem each time took
#: a quarter of a cached page's script time. Problems are never changed in place (a
#: variant is a new ``Problem``), so the digest of an object stays its digest; the entry
#: goes with the problem.
_DIGESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_DIGESTS_LOCK = threading.Lock()


def digest(problem: Problem) -> str:
    """The identity of a problem's content (data, truth, mask, transform), for keys."""
    with _DIGESTS_LOCK:
        known = _DIGESTS.get(problem)
    if known is not None:
        return known
    h = hashlib.blake2b(digest_size=16)
    for array in (problem.y.numpy(), problem.truth, problem.mask):
        h.update(np.ascontiguousarray(array).view(np.uint8).ravel())
    h.update(problem.transform.encode())
    value = h.hexdigest()
    with _DIGESTS_LOCK:
        _DIGESTS[problem] = value
    return value


@st.cache_resource(max_entries=16, show_spinner=False)
def _measurement(transform: str, mask: np.ndarray, wavelet: str, levels: int) -> Any:
    return WaveletMeasurement(make_operator(transform, mask), wavelet_transform(wavelet, levels, mask.shape[0]))


@st.cache_data(max_entries=32, show_spinner=False)
def _weights(scheme: str, wavelet: str, levels: int, size: int, reference: np.ndarray | None,
             threshold: float, sparsities: str) -> torch.Tensor | None:
    return l1_weights(scheme, wavelet, levels, size, reference=reference, threshold=threshold,
                      sparsities=sparsities)


@st.cache_data(max_entries=8, show_spinner=False)
def _zero_filled(problem_digest: str, _problem: Problem) -> np.ndarray:
    with torch.no_grad():
        return _problem.operator.adjoint(_problem.y).numpy().astype(np.complex128)


def zero_filled_image(problem: Problem) -> np.ndarray:
    """``A* y`` of ``problem``, complex128 (N, N) (for measured data: the data's image)."""
    return _zero_filled(digest(problem), problem)


def weights_check(text: str, wavelet: str, levels: int, size: int) -> None:
    """Raise ``ValueError`` (quoting the bad entry or the count expected) when the typed
    sparsities ``text`` cannot give weights for these wavelet levels."""
    _weights("typed", wavelet, levels, size, None, 0.0, text)


def weights(problem: Problem, fs: FirenetSettings) -> torch.Tensor | None:
    """FIRENET's l1 weights as ``fs.weights`` says (None: unit weights). The per-level
    schemes read the ground truth, or for measured data (no truth) the zero-filled image's
    magnitude. Raises ``ValueError`` for a typed list that does not fit the levels."""
    if fs.weights in ("uniform", "typed"):  # no reference image read
        return _weights(fs.weights, fs.wavelet, fs.levels, problem.size, None, 0.0,
                        fs.sparsities if fs.weights == "typed" else "")
    # The per-level schemes need a real image: the truth's magnitude, or without a truth
    # the zero-filled image's.
    reference = np.abs(problem.truth if problem.has_truth else zero_filled_image(problem))
    threshold = fs.threshold if fs.weights == "authors" else 0.0
    return _weights(fs.weights, fs.wavelet, fs.levels, problem.size, reference, threshold, "")


def network(method: str, problem: Problem, fs: FirenetSettings) -> torch.nn.Module:
    """``method`` built by the solver's registry for ``problem`` (``ValueError`` when it
    cannot be built, e.g. the U-Net is not available)."""
    model, _, reason = _unet()
    if METHODS[method].learned and model is None:
        raise ValueError(reason)
    return from_recipe(fs.recipe(method), _measurement(problem.transform, problem.mask, fs.wavelet, fs.levels),
                       weights=weights(problem, fs), unet=model)


# --------------------------------------------------------------------------------------
# Results with live progress
# --------------------------------------------------------------------------------------
class _Store:
    """A thread-safe LRU dictionary for results computed with live progress."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def store() -> _Store:
    # ~40 reconstructions at N = 256 with their snapshots is well under 1 GB.
    return _Store(64)


def _setting_key(fs: FirenetSettings, name: str) -> Any:
    """The part of ``fs`` behind the recipe field ``name`` (``solver.methods.Method.depends_on``)."""
    if name == "schedule":
        return fs  # FIRENET's whole schedule: every setting counts
    if name == "iterations":
        return fs.depth, tuple(fs.stops)  # the depth and the layers kept as snapshots
    if name == "weights":
        return fs.weights, fs.threshold, fs.sparsities
    return getattr(fs, name)


def reconstruction_key(method: str, problem: Problem, fs: FirenetSettings) -> tuple:
    """What a reconstruction's result is stored under: the content digest, the settings
    the registry says the method depends on, and for a learned method the weights."""
    entry = METHODS[method]
    relevant = tuple(_setting_key(fs, name) for name in entry.depends_on) or None
    weights = unet_version() if entry.learned else None
    return ("recon", method, digest(problem), relevant, weights)


def cached_reconstruction(method: str, problem: Problem, fs: FirenetSettings) -> Trace | None:
    """The stored reconstruction (from memory, else from the disk cache, then kept in
    memory), or None if it has not been computed yet."""
    key = reconstruction_key(method, problem, fs)
    found = store().get(key)
    if found is None:
        found = saved_traces.load(_disk_key(key), problem.size)
        if found is not None:
            store().put(key, found)
    return found


def _disk_key(key: tuple) -> tuple:
    """A reconstruction's disk key: its memory key and the code version (the solver's
    source, the weights in use, and this package's source, which turns the settings into
    the network run), so changed code never reads an old result."""
    return ("trace", key, persist.code_version(unet_version()), _explorer_digest())


@functools.cache
def _explorer_digest() -> str:
    h = hashlib.blake2b(digest_size=12)
    root = Path(__file__).resolve().parent
    for path in sorted(root.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def reconstruct(method: str, problem: Problem, fs: FirenetSettings,
                on_progress: Callable[[Trace, int], Any] | None = None, *,
                tick: Callable[[float | None, str | None], Any] | None = None) -> Trace:
    """Run ``method`` on ``problem`` (or return the stored result).

    The run takes turns with other visitors' work (``explorer.work.pool``), and the same
    reconstruction asked for by two visitors at once runs once (``explorer.work.once``).

    Parameters
    ----------
    on_progress : callable(partial trace, layer), optional
        Called after every FIRENET restart's worth of layers (the depth slider's stops)
        while it runs.
    tick : callable(fraction or None, note or None), optional
        Called about every 0.25 s while the run computes (with the fraction done),
        waits for a turn or waits for another visitor's identical run (with a note):
        the page updates a progress bar there, which is where Streamlit stops the run
        when its visitor leaves or changes a setting.
    """
    key = reconstruction_key(method, problem, fs)

    reference = problem.truth if problem.has_truth else None
    # Measured data and complex truths keep the imaginary part (images have a phase).
    complex_images = not problem.has_truth or np.iscomplexobj(problem.truth)

    def compute(report: Callable[[float], None]) -> Trace:
        net = network(method, problem, fs)
        depth = max(solver.trace.depth_of(net), 1)
        workers = work.pool()

        def waiting() -> None:
            if tick is not None:
                tick(None, "waiting for a free worker")

        with workers.turn(work.visitor(), waiting) as turn:
            def heartbeat(layer: int) -> None:
                report(layer / depth)
                if tick is not None:
                    tick(layer / depth, None)
                workers.share(turn, waiting)

            result = solver.trace.run(net, problem.y, reference=reference, snapshots=fs.stops,
                                      on_progress=on_progress, heartbeat=heartbeat, keep_imaginary=complex_images)
        if not result.stopped:
            store().put(key, result)
            saved_traces.save(_disk_key(key), result)
        return result

    def follow(fraction: float) -> None:
        if tick is not None:
            tick(fraction, "the same run for another visitor")

    return work.once(key, lambda: cached_reconstruction(method, problem, fs), compute, follow)


# --------------------------------------------------------------------------------------
# Figures and metrics
# --------------------------------------------------------------------------------------
@st.cache_resource(max_entries=48, show_spinner=False)
def figure(builder: str, *args: Any, **kwargs: Any) -> Any:
    """``explorer.figures.<builder>(*args, **kwargs)``, memoised on its inputs.

    Building a plotly figure of eight 256 x 256 heatmaps takes ~0.15 s (property
    validation), four times the cost of sending it; a rerun that changes nothing in a
    figure reuses it. Shared, not copied: callers must not modify the result.
    """
    return getattr(figures, builder)(*args, **kwargs)


#: A page's numbers for a few dozen page states (a page run asks for about 18).
_METRICS = Memo(256)


def metrics(image: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """PSNR (dB), SSIM and relative error of ``image`` against ``truth`` (data range 1),
    kept for the arrays' content.

    For a complex truth PSNR and the relative error compare the complex images (a lost
    phase counts as error) and SSIM, defined for real images, compares the magnitudes.
    """
    def compute() -> dict[str, float]:
        part = "complex" if np.iscomplexobj(truth) else "real"
        return {
            "psnr": float(m.psnr(image, truth, data_range=1.0, part=part)),
            "ssim": float(m.ssim(image, truth, data_range=1.0,
                                 part="magnitude" if part == "complex" else "real")),
            "relative_error": float(m.relative_error(image, truth, part=part)),
        }

    return dict(_METRICS.get_or_make((array_digest(image), array_digest(truth)), compute))
