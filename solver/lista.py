"""LISTA for the paradox instance: the learned method of the paper's Table 1.

The authors' network (``inexact_input/network.py``, TensorFlow) rebuilt in torch: ``L``
layers, each ::

    a   = y - (x / c) A^T          (c = 10 ||A||_2, a fixed scale)
    a   = x + a W_k                (W_k: m x N, trained)
    x   = soft(a, theta_k)         (theta_k >= 0, trained)

from ``x = 0``. Trained as the authors train it (``Demo_train_nn.py``, ``config.yml``,
``Schedule_training.py``): mean squared error, Adam (TensorFlow's defaults, epsilon 1e-7)
with learning rate ``2e-4 x 10^(-K/3)``, batches of 1,000 in a fixed order, 4,000 epochs,
the weights of the epoch with the smallest validation error kept; W initialised normal
(std 0.05) over ``c``, thresholds uniform on [0, 1e-7], redrawn until the first output is
not already a perfect zero map.

Public surface
--------------
LISTA
    The network, ``y (B, m) -> x (B, N)``, float64.
train_lista
    Train one network on :func:`solver.paradox.training_set`.
save_networks, load_networks
    Several networks in one safetensors file with a JSON card (training settings, time,
    sha256 of the weights); loading checks the hash, the names, shapes and finiteness.
DEFAULT_WEIGHTS
    The shipped networks (``python -m solver.reproduce paradox`` retrains them).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from solver.paradox import InexactInstance, inexact_instance, training_set

__all__ = ["LISTA", "train_lista", "save_networks", "load_networks", "network_name", "DEFAULT_WEIGHTS",
           "TRAINING"]

#: The shipped networks: nine (K, n) rows of Table 1, each for several training-set sizes.
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "lista_paradox.safetensors"

#: The authors' training settings (``config.yml`` and ``Schedule_training.py``).
TRAINING = {"layers": 10, "epochs": 4000, "batch_size": 1000, "train_size": 8000, "val_size": 100,
            "base_lr": 2e-4, "adam_eps": 1e-7, "init_std": 0.05, "theta_max": 1e-7, "j": 2,
            "sparsity": 5, "data_seed": 5}

_CARD_FORMAT = 1
_MAX_FILE_BYTES = 2**26
_MAX_CARD_BYTES = 2**20


class LISTA(nn.Module):
    """Learned ISTA for one matrix ``A`` (the authors' architecture).

    Parameters
    ----------
    A : np.ndarray, shape (m, N), float64
        The matrix the network is built for (fixed, not trained).
    layers : int >= 1
    generator : torch.Generator, optional
        Draws the initial weights; without it they start at zero (for loading).
    """

    def __init__(self, A: np.ndarray, layers: int = TRAINING["layers"],
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        A = np.asarray(A, dtype=np.float64)
        if A.ndim != 2 or not np.all(np.isfinite(A)):
            raise ValueError(f"A must be a finite 2-D array, got shape {A.shape}")
        if isinstance(layers, bool) or not isinstance(layers, int) or not 1 <= layers <= 1000:
            raise ValueError(f"layers must be an integer in [1, 1000], got {layers!r}")
        m, N = A.shape
        self.register_buffer("A_t", torch.from_numpy(A.T.copy()))
        self.scale = float(np.linalg.norm(A, 2)) * 10
        self.weights = nn.Parameter(torch.zeros(layers, m, N, dtype=torch.float64))
        self.thresholds = nn.Parameter(torch.zeros(layers, dtype=torch.float64))
        if generator is not None:
            with torch.no_grad():
                self.weights.normal_(0.0, TRAINING["init_std"], generator=generator).div_(self.scale)
                self.thresholds.uniform_(0.0, TRAINING["theta_max"], generator=generator)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """``y (B, m) -> x (B, N)``."""
        x = y.new_zeros(y.shape[0], self.A_t.shape[0])
        for weight, threshold in zip(self.weights, self.thresholds):
            a = x + (y - (x / self.scale) @ self.A_t) @ weight
            x = torch.relu(a - threshold) - torch.relu(-a - threshold)
        return x


def _relative_error(x: torch.Tensor, prediction: torch.Tensor) -> torch.Tensor:
    """The authors' ``l2_loss(x - pred) / l2_loss(x)``: squared norms' ratio."""
    return ((x - prediction) ** 2).sum() / (x**2).sum()


def train_lista(instance: InexactInstance, size: int = TRAINING["train_size"], *,
                epochs: int = TRAINING["epochs"], batch_size: int = TRAINING["batch_size"],
                lr: float | None = None, seed: int = 0,
                callback: Callable[[int, float], None] | None = None) -> tuple[LISTA, dict[str, Any]]:
    """Train LISTA on the authors' training set for ``instance``.

    Parameters
    ----------
    instance : InexactInstance
        The instance the training data come from (the authors': ``j = 2``).
    size : int >= 1
        Training-set size ``L`` (the authors': 8,000).
    epochs, batch_size : int >= 1
    lr : float, optional
        Default ``2e-4 x 10^(-K/3)``, the authors' schedule.
    seed : int >= 0
        Seed of the initial weights (the data use the authors' seed 5).
    callback : callable ``(epoch, validation_error)``, optional

    Returns
    -------
    model : LISTA
        With the weights of the epoch of smallest validation error.
    info : dict
        ``best_epoch``, ``validation_error`` (relative squared error), ``train_error``,
        ``seconds``, ``lr``, ``steps``.
    """
    if not isinstance(instance, InexactInstance):
        raise ValueError(f"instance must be an InexactInstance, got {type(instance).__name__}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "seed" else 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    lr = TRAINING["base_lr"] * 10 ** (-instance.K / 3) if lr is None else float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    start = time.perf_counter()
    ys, xs = (torch.from_numpy(a) for a in training_set(size, instance, sparsity=TRAINING["sparsity"],
                                                          seed=TRAINING["data_seed"]))
    val_ys, val_xs = (torch.from_numpy(a) for a in training_set(TRAINING["val_size"], instance,
                                                                  sparsity=TRAINING["sparsity"],
                                                                  seed=TRAINING["data_seed"]))
    generator = torch.Generator().manual_seed(seed)
    while True:  # the authors redraw an initialisation whose output is already exactly zero
        model = LISTA(instance.A, generator=generator)
        with torch.no_grad():
            if float(_relative_error(xs, model(ys))) <= 1 - 1e-5:
                break
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, eps=TRAINING["adam_eps"])
    best = (math.inf, -1, None)
    batches = [(ys[i:i + batch_size], xs[i:i + batch_size]) for i in range(0, size, batch_size)]
    for epoch in range(epochs):
        for y_batch, x_batch in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = torch.mean((model(y_batch) - x_batch) ** 2)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                model.thresholds.clamp_(min=0.0)  # the authors' relu constraint
        with torch.no_grad():
            error = float(_relative_error(val_xs, model(val_ys)))
        if error < best[0]:
            best = (error, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
        if callback is not None:
            callback(epoch, error)
    model.load_state_dict(best[2])
    with torch.no_grad():
        train_error = float(_relative_error(xs, model(ys)))
    return model, {"best_epoch": best[1], "validation_error": best[0], "train_error": train_error,
                   "seconds": time.perf_counter() - start, "lr": lr, "steps": epochs * len(batches)}


def network_name(K: int, n: int, size: int) -> str:
    """Key of one network in the weights file."""
    return f"K{K}_n{n}_L{size}"


def _file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_networks(path: str | Path, networks: Mapping[tuple[int, int, int], tuple[LISTA, Mapping]],
                  card: Mapping[str, Any]) -> Path:
    """Write networks ``{(K, n, L): (model, info)}`` to one safetensors file and a JSON card.

    The card records each network's instance, training settings and measurements, and the
    sha256 of the weights file.
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"path must end in .safetensors, got {str(path)!r}")
    tensors, entries = {}, []
    for (K, n, size), (model, info) in sorted(networks.items()):
        name = network_name(K, n, size)
        tensors[f"{name}.weights"] = model.weights.detach().contiguous().clone()
        tensors[f"{name}.thresholds"] = model.thresholds.detach().contiguous().clone()
        entries.append({"name": name, "K": K, "n": n, "train_size": size, **dict(info)})
    save_file(tensors, str(path))
    full = {"card_format": _CARD_FORMAT, **dict(card), "networks": entries,
            "weights_file": path.name, "weights_sha256": _file_sha256(path.read_bytes())}
    path.with_suffix(".json").write_text(json.dumps(full, indent=2) + "\n")
    return path


def load_networks(path: str | Path = DEFAULT_WEIGHTS) -> tuple[dict[tuple[int, int, int], LISTA], dict]:
    """Load the networks written by :func:`save_networks`, checking them first.

    Each network's matrix is rebuilt from the card's instance parameters
    (:func:`solver.paradox.inexact_instance`), not read from the file.

    Returns
    -------
    networks : dict ``{(K, n, L): LISTA}``
    card : dict

    Raises
    ------
    ValueError
        If a file is missing or too large, the sha256 differs from the card's, the card or
        the tensors do not have the expected names, shapes, dtype or finite values.
    """
    from safetensors.torch import load

    path = Path(path)
    card_file = path.with_suffix(".json")
    for file, limit in ((path, _MAX_FILE_BYTES), (card_file, _MAX_CARD_BYTES)):
        if not file.is_file():
            raise ValueError(f"LISTA weights: {file.name} not found in {file.parent}")
        if file.stat().st_size > limit:
            raise ValueError(f"LISTA weights: {file.name} is larger than {limit:,} bytes")
    try:
        card = json.loads(card_file.read_text())
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"LISTA card {card_file.name} is not JSON: {error}") from None
    if not isinstance(card, dict) or card.get("card_format") != _CARD_FORMAT:
        raise ValueError(f"LISTA card {card_file.name} is not a card of format {_CARD_FORMAT}")
    data = path.read_bytes()
    if card.get("weights_sha256") != _file_sha256(data):
        raise ValueError(f"LISTA weights sha256 mismatch for {path.name}: card says "
                         f"{card.get('weights_sha256')!r}, file is {_file_sha256(data)}")
    try:
        state = load(data)
    except Exception as error:  # the reader's error types are not a stable list
        raise ValueError(f"LISTA weights {path.name} are not valid safetensors: {error}") from None
    instance_options = card.get("instance", {})
    layers = card.get("training", {}).get("layers", TRAINING["layers"])
    networks, expected = {}, set()
    for entry in card.get("networks", []):
        K, n, size = int(entry["K"]), int(entry["n"]), int(entry["train_size"])
        instance = inexact_instance(K, n, j=int(instance_options.get("j", TRAINING["j"])),
                                    **{k: instance_options[k] for k in ("delta", "lam", "N1", "N2", "use_dct")
                                       if k in instance_options})
        model = LISTA(instance.A, layers=layers)
        name = network_name(K, n, size)
        weights, thresholds = state.get(f"{name}.weights"), state.get(f"{name}.thresholds")
        expected |= {f"{name}.weights", f"{name}.thresholds"}
        for key, tensor, like in ((f"{name}.weights", weights, model.weights),
                                  (f"{name}.thresholds", thresholds, model.thresholds)):
            if tensor is None or tensor.shape != like.shape or tensor.dtype != torch.float64:
                raise ValueError(f"LISTA weights {path.name}: tensor {key} missing or not float64 of "
                                 f"shape {tuple(like.shape)}")
            if not bool(torch.isfinite(tensor).all()):
                raise ValueError(f"LISTA weights {path.name}: tensor {key} has non-finite values")
        model.load_state_dict({"weights": weights, "thresholds": thresholds, "A_t": model.A_t})
        model.eval()
        networks[(K, n, size)] = model
    if set(state) != expected:
        raise ValueError(f"LISTA weights {path.name} hold tensors the card does not list: "
                         f"{sorted(set(state) - expected)[:5]}")
    return networks, card
