"""The paper's Table 1 from the command line: train the LISTA networks, print the table.

``python -m solver.reproduce paradox`` trains one LISTA per row ``(K, n)`` (and per
training-set size), writes them with their card, and prints FIRENET's, LISTA's and the
hedging point's distance to the minimiser set of the exact problem, with correct digits.
``--shipped`` prints the table from the shipped networks instead (seconds).
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from solver.lista import DEFAULT_WEIGHTS, TRAINING, LISTA, load_networks, save_networks, train_lista
from solver.paradox import DEFAULTS, K_VALUES, N_VALUES, Table1Row, inexact_instance, table1

__all__ = ["train_networks", "lista_map", "format_table"]


def train_networks(sizes: Sequence[int] = (TRAINING["train_size"],), *, epochs: int = TRAINING["epochs"],
                   seed: int = 0, out: str | Path, command: str = "",
                   log: Callable[[str], None] = print) -> dict:
    """Train one LISTA per Table 1 row and training-set size; save them to ``out``.

    Returns
    -------
    dict ``{(K, n, L): LISTA}``
    """
    networks, start = {}, time.perf_counter()
    for K in K_VALUES:
        for n in N_VALUES:
            instance = inexact_instance(K, n, j=TRAINING["j"])
            for size in sizes:
                model, info = train_lista(instance, size, epochs=epochs, seed=seed)
                networks[(K, n, size)] = (model, info)
                log(f"K = {K}, n = {n}, L = {size}: best epoch {info['best_epoch']}, validation error "
                    f"{info['validation_error']:.2e}, {info['seconds']:.0f} s")
    card = {
        "description": "LISTA networks of the paper's Table 1 (Colbrook, Antun & Hansen, PNAS 2022), "
                       "one per (K, n) and training-set size L, trained on the authors' training set "
                       "for the instance with j = 2 (the inexact input A_n).",
        "instance": {**{k: DEFAULTS[k] for k in ("delta", "lam", "N1", "N2", "use_dct")}, "j": TRAINING["j"]},
        "training": {**TRAINING, "epochs": epochs, "init_seed": seed, "sizes": list(sizes),
                     "lr_rule": "2e-4 * 10**(-K/3)", "loss": "mean squared error",
                     "selection": "weights of the epoch with the smallest validation error",
                     "data": "solver.paradox.training_set(L, instance, sparsity=5, seed=5): the authors' "
                             "generate_training_omega, their seed; validation: the same with 100 samples"},
        "seconds": round(time.perf_counter() - start, 1),
        "device": f"cpu ({platform.machine()}), {torch.get_num_threads()} thread(s)",
        "torch_version": torch.__version__,
        "command": command,
    }
    save_networks(out, networks, card)
    return {key: model for key, (model, _) in networks.items()}


def lista_map(networks: dict, size: int) -> Callable[[int, int, np.ndarray], np.ndarray]:
    """``(K, n, y_n) -> x`` for :func:`solver.paradox.table1`, from networks ``{(K, n, L): LISTA}``."""
    def apply(K: int, n: int, y: np.ndarray) -> np.ndarray:
        model: LISTA = networks[(K, n, size)]
        with torch.no_grad():
            return model(torch.from_numpy(np.asarray(y, dtype=np.float64))[None]).numpy()[0]
    return apply


def format_table(rows: Sequence[Table1Row]) -> str:
    """Table 1 as fixed-width text: distances to the minimiser set of (A, y) and correct digits."""
    lines = [f"{'K':>2} {'n':>3} {'||A_n-A||':>10} {'10^-K':>7} {'FIRENET':>10} {'dig':>3} "
             f"{'LISTA':>10} {'dig':>3} {'hedging':>10} {'dig':>3}"]
    for row in rows:
        digits = row.digits()
        lista = "-" if row.lista is None else f"{row.lista:.4e}"
        lines.append(f"{row.K:>2} {row.n:>3} {row.input_gap_A:>10.3e} {10.0**-row.K:>7.0e} "
                     f"{row.firenet:>10.4e} {digits['firenet']:>3} {lista:>10} "
                     f"{'-' if digits['lista'] is None else digits['lista']:>3} "
                     f"{row.hedging:>10.4e} {digits['hedging']:>3}")
    return "\n".join(lines)


def run(*, shipped: bool, sizes: Sequence[int], epochs: int, seed: int, out: str | Path, command: str,
        log: Callable[[str], None] = print) -> list[Table1Row]:
    """Train (or load the shipped networks), then compute and print Table 1."""
    torch.set_num_threads(1)
    if shipped:
        networks, card = load_networks(DEFAULT_WEIGHTS)
        sizes = card["training"]["sizes"]
    else:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        networks = train_networks(sizes, epochs=epochs, seed=seed, out=out, command=command, log=log)
    size = max(sizes)
    rows = table1(lista=lista_map(networks, size))
    log(f"Table 1 (LISTA trained on L = {size}); distances to the minimiser set of (A, y), "
        "digits = largest k with distance <= 10^-k")
    log(format_table(rows))
    return rows
