"""LISTA for the paradox instance (solver.lista): the authors' layer, training, the shipped
networks with their hash check, and what they measure in Table 1."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from solver import lista as Li
from solver import paradox as P

shipped = pytest.mark.skipif(not Li.DEFAULT_WEIGHTS.is_file(), reason="LISTA weights not shipped")


def test_layer_is_the_authors_formula():
    """x <- soft(x + (y - A x / c) W_k, theta_k), c = 10 ||A||, written out in numpy."""
    instance = P.inexact_instance(3, 10, j=2)
    model = Li.LISTA(instance.A, layers=3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        model.thresholds.copy_(torch.tensor([1e-4, 0.0, 2e-4], dtype=torch.float64))
    ys, _ = P.training_set(4, instance)
    c = 10 * np.linalg.norm(instance.A, 2)
    x = np.zeros((4, 22))
    for W, theta in zip(model.weights.detach().numpy(), model.thresholds.detach().numpy()):
        a = x + (ys - (x / c) @ instance.A.T) @ W
        x = np.sign(a) * np.maximum(np.abs(a) - theta, 0)
    with torch.no_grad():
        np.testing.assert_allclose(model(torch.from_numpy(ys)).numpy(), x, rtol=1e-12, atol=1e-300)


@pytest.mark.slow
def test_training_lowers_the_validation_error():
    instance = P.inexact_instance(1, 10, j=2)
    errors = []
    model, info = Li.train_lista(instance, 100, epochs=30, callback=lambda epoch, error: errors.append(error))
    assert len(errors) == 30 and info["steps"] == 30
    assert info["validation_error"] == min(errors) < 0.5 * errors[0]
    assert bool((model.thresholds >= 0).all())


def test_bad_training_arguments_are_named():
    instance = P.inexact_instance(1, 10, j=2)
    with pytest.raises(ValueError, match="epochs"):
        Li.train_lista(instance, 10, epochs=0)
    with pytest.raises(ValueError, match="size"):
        Li.train_lista(instance, 0)
    with pytest.raises(ValueError, match="instance"):
        Li.train_lista("not an instance", 10)


@shipped
@pytest.mark.slow
def test_shipped_lista_misses_k_digits_in_every_row():
    """The paper's Table 1 for LISTA (L = 8,000): never K digits; measured K - 1 (the
    distance is the jump, 3 x 10^-K: the network returns the minimiser of the problem it was
    trained on)."""
    from solver.reproduce.paradox import lista_map

    networks, card = Li.load_networks()
    assert card["training"]["sizes"][-1] == 8000
    rows = P.table1(lista=lista_map(networks, 8000))
    for row in rows:
        assert row.digits()["lista"] < row.K, (row.K, row.n)
        assert row.lista == pytest.approx(row.minimiser_gap, rel=1e-3), (row.K, row.n)


@shipped
def test_tampered_weights_are_refused(tmp_path):
    path = tmp_path / Li.DEFAULT_WEIGHTS.name
    shutil.copy(Li.DEFAULT_WEIGHTS, path)
    shutil.copy(Li.DEFAULT_WEIGHTS.with_suffix(".json"), path.with_suffix(".json"))
    networks, _ = Li.load_networks(path)
    assert len(networks) == 36
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        Li.load_networks(path)


@shipped
def test_card_that_lists_a_missing_network_is_refused(tmp_path):
    path = tmp_path / Li.DEFAULT_WEIGHTS.name
    shutil.copy(Li.DEFAULT_WEIGHTS, path)
    card = json.loads(Li.DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    card["networks"].append({**card["networks"][0], "train_size": 5})
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match="K1_n10_L5"):
        Li.load_networks(path)


def test_missing_weights_are_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        Li.load_networks(tmp_path / "none.safetensors")


@shipped
@pytest.mark.slow
def test_command_line_prints_table1_from_the_shipped_networks():
    from click.testing import CliRunner

    from solver.reproduce.cli import main

    result = CliRunner().invoke(main, ["paradox", "--shipped"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.split()[:1] in (["1"], ["3"], ["6"])]
    assert [(int(r[0]), int(r[1])) for r in rows] == [(K, n) for K in (1, 3, 6) for n in (10, 20, 30)]
    for r in rows:
        K, firenet_digits, lista_digits = int(r[0]), int(r[5]), int(r[7])
        assert firenet_digits == lista_digits == K - 1
    bad = CliRunner().invoke(main, ["paradox", "--sizes", "ten"])
    assert bad.exit_code != 0 and "--sizes" in bad.output
