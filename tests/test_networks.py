"""Tests of the learned network: shipped weights, accuracy claim, training, loading."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from solver import datasets, metrics
from solver.networks import (
    DEFAULT_WEIGHTS,
    PAPER_RECIPE_WEIGHTS,
    LearnedReconstruction,
    UNet,
    UNetThenFIRENET,
    card_path,
    check_compatibility,
    data_consistency,
    file_sha256,
    load_network,
    mask_sha256,
    save_network,
)
from solver.operators import make_operator
from solver.sampling import make_mask

HELD_OUT_IMAGES = 32



@pytest.fixture(scope="module")
def shipped():
    """The shipped U-Net, its card and the operator it was trained for."""
    model, card = load_network(DEFAULT_WEIGHTS)
    sampling = card["sampling"]
    mask = make_mask(sampling["pattern"], card["image_size"], sampling["rate"], seed=sampling["seed"])
    operator = make_operator(card["operator"], mask)
    return model, card, mask, operator


def test_shipped_network_loads_and_its_card_matches_the_file(shipped):
    model, card, mask, _ = shipped
    assert card["weights_sha256"] == file_sha256(DEFAULT_WEIGHTS)
    assert card["architecture"] == model.architecture
    assert card["architecture"]["depth"] == 4
    assert card["sampling"]["pattern"] == "multilevel"
    assert card["sampling"]["rate"] == 0.25
    assert card["image_size"] == 256
    assert card["operator"] == "fourier"
    # The mask the app rebuilds from the card is the one the network was trained with.
    assert card["sampling"]["mask_sha256"] == mask_sha256(mask)
    assert DEFAULT_WEIGHTS.stat().st_size < 10 * 2**20
    assert not model.training


@pytest.fixture(scope="module")
def paper_recipe():
    """The U-Net trained by the paper's plain recipe, its card and its operator (N = 64)."""
    model, card = load_network(PAPER_RECIPE_WEIGHTS)
    sampling = card["sampling"]
    mask = make_mask(sampling["pattern"], card["image_size"], sampling["rate"], seed=sampling["seed"])
    assert card["sampling"]["mask_sha256"] == mask_sha256(mask)
    return model, card, make_operator(card["operator"], mask)


@pytest.mark.slow
def test_paper_recipe_network_is_the_papers_plain_unet(paper_recipe):
    model, card, _ = paper_recipe
    assert card["weights_sha256"] == file_sha256(PAPER_RECIPE_WEIGHTS)
    assert card["architecture"] == model.architecture
    # The authors' ellipses/networks.py: init_features 32, four poolings, input A* y, no
    # residual connection, no data-consistency layer.
    assert (model.base_width, model.depth, model.in_channels) == (32, 4, 2)
    assert not model.residual and not model.data_consistency
    assert card["image_size"] == 64 and not model.training


@pytest.mark.slow
def test_paper_recipe_card_states_the_accuracy_it_has(paper_recipe):
    """The card's validation PSNR, recomputed on the same 32 validation images."""
    model, card, operator = paper_recipe
    truth = torch.from_numpy(datasets.images("validation", 0, card["validation"]["images"], 64))
    y = operator.forward(truth.to(torch.complex64))
    with torch.no_grad():
        out = LearnedReconstruction(operator, model)(y).double().numpy()
    assert _mean_psnr(out, truth.numpy()) == pytest.approx(card["validation"]["psnr_db"], abs=0.01)
    zero = operator.adjoint(y).real.double().numpy()
    assert _mean_psnr(zero, truth.numpy()) == pytest.approx(card["validation"]["zero_filled_psnr_db"], abs=0.01)


@pytest.mark.slow
def test_paper_recipe_card_states_the_worst_case_k_it_has(paper_recipe):
    """Worst case on test image 800000 at 5 % of ||y|| (20 steps, lr 0.005, seed 0, as
    benchmarks/plain_unet_stability.py): K = 2.81 measured there; the card's mean over
    three images is 2.60, FIRENET 5 x 5's 1.12."""
    from solver.attacks import worst_case_perturbation

    model, card, operator = paper_recipe
    x = datasets.example_image(800_000, 64)
    y = operator.forward(torch.as_tensor(x, dtype=torch.complex128))
    res = worst_case_perturbation(LearnedReconstruction(operator, model), y, budget=0.05, steps=20, lr=0.005, seed=0)
    assert res.relative_output_change / res.relative_norm == pytest.approx(2.81, abs=0.02)
    measured = card["measured"]
    assert measured["this_network"]["K_worst_0.05"] > 2 * measured["firenet_paper_5x5"]["K_worst_0.05"]
    assert measured["this_network"]["kernel_bound"] < 0


@pytest.mark.slow
def test_learned_reconstruction_is_deterministic_at_256(shipped):
    model, _, _, operator = shipped
    net = LearnedReconstruction(operator, model)
    x = torch.from_numpy(datasets.example_image(datasets.split_seed("test", 0), 256))
    y = operator.forward(x.to(torch.complex64))
    with torch.no_grad():
        first = net(y)
        second = net(y)
    assert first.shape == (256, 256) and first.dtype == torch.float32
    assert torch.equal(first, second)


@pytest.mark.slow
def test_learned_reconstruction_is_differentiable_in_y(shipped):
    model, _, _, operator = shipped
    net = LearnedReconstruction(operator, model)
    x = torch.from_numpy(datasets.example_image(datasets.split_seed("test", 1), 256))
    y = operator.forward(x.to(torch.complex128)).requires_grad_(True)
    out = net(y)
    assert out.dtype == torch.float64  # the real dtype matching complex128 input
    out.square().sum().backward()
    assert y.grad is not None and torch.isfinite(y.grad).all()
    assert y.grad.abs().max() > 0
    # Parameters are frozen: attacks differentiate with respect to y only.
    assert all(p.grad is None for p in model.parameters())


def _held_out(operator, count):
    """Test-split images (seeds 800_000 ..) and their noiseless measurements, complex64."""
    truth = torch.from_numpy(datasets.images("test", 0, count, 256))
    y = operator.forward(truth.to(torch.complex64))
    return truth.numpy(), y


def _mean_psnr(images, truth):
    return float(np.mean([metrics.psnr(a, b) for a, b in zip(images, truth)]))


@pytest.fixture(scope="module")
def held_out(shipped):
    """Truth, measurements and the U-Net's mean PSNR on the held-out images (computed once)."""
    model, _, _, operator = shipped
    truth, y = _held_out(operator, HELD_OUT_IMAGES)
    with torch.no_grad():
        unet = LearnedReconstruction(operator, model)(y).double().numpy()
    return truth, y, _mean_psnr(unet, truth)


@pytest.mark.slow
def test_unet_beats_zero_filled_on_held_out_ellipses(shipped, held_out):
    """In distribution the trained network is far better than the zero-filled image."""
    operator = shipped[3]
    truth, y, psnr_unet = held_out
    zero_filled = operator.adjoint(y).real.double().numpy()
    psnr_zero = _mean_psnr(zero_filled, truth)
    print(f"mean PSNR on {HELD_OUT_IMAGES} held-out images: U-Net {psnr_unet:.2f} dB, "
          f"zero-filled {psnr_zero:.2f} dB")
    assert psnr_unet >= psnr_zero + 5.0


# Measured with the shipped weights: U-Net 48.42 dB, FIRENET (RECOMMENDED) 46.48 dB,
# zero-filled 33.54 dB mean PSNR on the 32 held-out images.
@pytest.mark.slow
def test_unet_beats_firenet_on_held_out_ellipses(shipped, held_out):
    """The claim the explorer starts from: in distribution, the trained network wins."""
    from solver.firenet import FIRENET, RECOMMENDED
    from solver.operators import WaveletMeasurement
    from solver.wavelets import Wavelet2D

    operator = shipped[3]
    truth, y, psnr_unet = held_out
    with torch.no_grad():
        firenet = FIRENET(WaveletMeasurement(operator, Wavelet2D("haar", size=256)), **RECOMMENDED)
        fire = firenet(y).double().numpy()
    psnr_fire = _mean_psnr(fire, truth)
    print(f"mean PSNR on {HELD_OUT_IMAGES} held-out images: U-Net {psnr_unet:.2f} dB, "
          f"FIRENET {psnr_fire:.2f} dB")
    assert psnr_unet >= psnr_fire + 1.5


@pytest.mark.slow
def test_training_command_runs_end_to_end_and_the_loss_decreases(tmp_path):
    from solver.train import train

    out = tmp_path / "weights" / "tiny.safetensors"
    argv = [
        "--pattern", "multilevel", "--rate", "0.25", "--size", "32", "--device", "cpu",
        "--steps", "30", "--batch-size", "4", "--crop", "0", "--base-width", "4",
        "--lr", "3e-3", "--no-residual", "--val-images", "4", "--val-progress-images", "2",
        "--out", str(out), "--run-dir", str(tmp_path / "run"), "--no-progress",
    ]  # fmt: skip
    result = train(argv)
    losses = result["losses"]
    assert result["steps"] == 30 and len(losses) == 30
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    model, card = load_network(out)
    assert card["training"]["steps"] == 30
    assert card["training"]["images_seen"] == 120
    assert card["image_size"] == 32
    assert card["architecture"]["base_width"] == 4
    assert np.isfinite(card["validation"]["psnr_db"])
    assert (tmp_path / "run" / "checkpoint.pt").is_file()

    # Resuming continues from the checkpoint's step with the same data stream.
    resumed = train(argv[:argv.index("--steps") + 1] + ["35"] + argv[argv.index("--steps") + 2:]
                    + ["--resume"])
    assert resumed["steps"] == 35 and resumed["losses"][:30] == losses

    # Fine-tuning from shipped weights records both stages in the card; the weight-free
    # data-consistency layer can be added at this stage.
    tuned_out = tmp_path / "weights" / "tuned.safetensors"
    tuned_argv = argv[:argv.index("--steps") + 1] + ["3"] + argv[argv.index("--steps") + 2:]
    tuned_argv[tuned_argv.index("--out") + 1] = str(tuned_out)
    tuned_argv[tuned_argv.index("--run-dir") + 1] = str(tmp_path / "tuned_run")
    train(tuned_argv + ["--init-weights", str(out), "--data-consistency"])
    tuned_model, tuned_card = load_network(tuned_out)
    assert tuned_model.data_consistency and tuned_card["architecture"]["data_consistency"]
    assert "data-consistency layer" in tuned_card["output"]
    source = json.loads(card_path(out).read_text())
    assert tuned_card["training"]["initialised_from"]["weights_sha256"] == source["weights_sha256"]
    assert tuned_card["training"]["total_steps"] == 35 + 3


def _tiny(tmp_path):
    model = UNet(base_width=4, depth=2)
    mask = make_mask("multilevel", 32, 0.25, seed=0)
    card = {
        "sampling": {"pattern": "multilevel", "rate": 0.25, "seed": 0, "mask_sha256": mask_sha256(mask)},
        "operator": "fourier",
        "image_size": 32,
    }
    path = tmp_path / "tiny.safetensors"
    save_network(path, model, card)
    return path, model, mask


@pytest.fixture()
def tiny_saved(tmp_path):
    return _tiny(tmp_path)


def test_loader_round_trips_the_weights(tiny_saved):
    path, model, _ = tiny_saved
    loaded, card = load_network(path)
    assert card["architecture"] == model.architecture
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_loader_rejects_a_tampered_file(tiny_saved):
    path, _, _ = tiny_saved
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # flip bits in the last weight
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        load_network(path)


def test_loader_rejects_a_missing_card(tiny_saved):
    path, _, _ = tiny_saved
    card_path(path).unlink()
    with pytest.raises(FileNotFoundError, match="model card"):
        load_network(path)


def test_loader_rejects_a_card_for_another_architecture(tiny_saved):
    path, _, _ = tiny_saved
    card = json.loads(card_path(path).read_text())
    card["architecture"]["base_width"] = 8
    card_path(path).write_text(json.dumps(card))
    with pytest.raises(ValueError, match="architecture"):
        load_network(path)


def test_loader_reads_safetensors_only(tiny_saved, tmp_path):
    path, _, _ = tiny_saved
    pickled = tmp_path / "tiny.pt"
    shutil.copy(path, pickled)
    with pytest.raises(ValueError, match="safetensors"):
        load_network(pickled)


def test_compatibility_is_silent_for_the_training_setting(tiny_saved):
    path, _, mask = tiny_saved
    _, card = load_network(path)
    assert check_compatibility(card, "multilevel", 0.25, 32, "fourier", mask) == []


@pytest.mark.parametrize(
    ("pattern", "rate", "size", "kind", "expected"),
    [
        ("radial", 0.25, 32, "fourier", "radial"),
        ("multilevel", 0.4, 32, "fourier", "40%"),
        ("multilevel", 0.25, 64, "fourier", "64 x 64"),
        ("multilevel", 0.25, 32, "walsh", "walsh"),
    ],
)
def test_compatibility_warns_away_from_the_training_setting(tiny_saved, pattern, rate, size, kind, expected):
    path, _, _ = tiny_saved
    _, card = load_network(path)
    warnings = check_compatibility(card, pattern, rate, size, kind)
    assert len(warnings) == 1 and expected in warnings[0]


def test_compatibility_warns_for_another_mask_of_the_same_pattern(tiny_saved):
    path, _, _ = tiny_saved
    _, card = load_network(path)
    other = make_mask("multilevel", 32, 0.25, seed=1)
    warnings = check_compatibility(card, "multilevel", 0.25, 32, "fourier", other)
    assert len(warnings) == 1 and "mask differs" in warnings[0]


def test_compatibility_warnings_name_patterns_by_label_and_round_rates():
    card = {"sampling": {"pattern": "multilevel", "rate": 0.25}, "image_size": 256,
            "operator": "fourier", "architecture": {"depth": 4}}
    pattern, rate = check_compatibility(card, "user", 0.120819, 256, "fourier",
                                        labels={"multilevel": "Multilevel (DAS)", "user": "an uploaded mask"})
    assert pattern == ("The network was trained for Multilevel (DAS) sampling, not an uploaded mask: it has "
                       "never seen these aliasing artefacts.")
    assert rate == "The network was trained at sampling rate 25%, not 12.1%."


def test_more_samples_warning_mentions_the_instability():
    card = {"sampling": {"pattern": "multilevel", "rate": 0.25}, "image_size": 256,
            "operator": "fourier", "architecture": {"depth": 4}}
    (warning,) = check_compatibility(card, "multilevel", 0.5, 256, "fourier")
    assert "worse" in warning


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"base_width": 0}, "base_width"), ({"depth": 0}, "depth"), ({"norm": "layer"}, "norm"),
     ({"in_channels": 0}, "in_channels")],
)
def test_unet_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        UNet(**kwargs)


def test_unet_rejects_sides_not_divisible_by_two_to_the_depth():
    with pytest.raises(ValueError, match="divisible by 16"):
        UNet(base_width=4)(torch.zeros(1, 2, 40, 40))


def test_untrained_residual_unet_returns_the_zero_filled_image():
    # The zero-initialised output conv makes training start from Re(A* y).
    x = torch.randn(2, 2, 32, 32)
    assert torch.equal(UNet(base_width=4).eval()(x), x[:, :1])


def test_batch_norm_network_in_eval_mode_is_independent_of_the_batch():
    torch.manual_seed(0)
    unet = UNet(base_width=4, residual=False)
    unet.train()
    for _ in range(3):  # move the running statistics away from their initial values
        unet(torch.randn(4, 2, 32, 32))
    unet.eval()
    x = torch.randn(3, 2, 32, 32)
    with torch.no_grad():
        together = unet(x)
        alone = torch.cat([unet(x[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)


def test_unet_then_firenet_starts_firenet_from_the_unet_output():
    from solver.firenet import FIRENET
    from solver.operators import WaveletMeasurement
    from solver.wavelets import Wavelet2D

    mask = make_mask("multilevel", 32, 0.25, seed=0)
    operator = make_operator("fourier", mask)
    learned = LearnedReconstruction(operator, UNet(base_width=4))
    A = WaveletMeasurement(operator, Wavelet2D("haar", size=32))
    firenet = FIRENET(A, restarts=2, layers=3)
    x = torch.from_numpy(datasets.example_image(datasets.split_seed("test", 2), 32))
    y = operator.forward(x.to(torch.complex128))
    combined = UNetThenFIRENET(learned, firenet)
    torch.testing.assert_close(combined(y), firenet(y, x0=learned(y)))
    # An untrained residual U-Net returns Re(A* y): the same start as firenet(y, x0=that).
    torch.testing.assert_close(combined(y), firenet(y, x0=operator.adjoint(y).real))


@pytest.mark.parametrize("size, pattern", [(32, "multilevel"), (64, "radial")])
def test_data_consistency_puts_back_the_measured_coefficients(size, pattern):
    # Oracle in numpy: take the image's centred spectrum, overwrite the sampled entries
    # with the measured ones, transform back, keep the real part.
    rng = np.random.default_rng(5)
    mask = np.asarray(make_mask(pattern, size, 0.25, seed=1), dtype=bool)
    operator = make_operator("fourier", mask)
    truth = rng.random((size, size))
    guess = truth + 0.1 * rng.standard_normal((size, size))
    y = operator.forward(torch.from_numpy(truth).to(torch.complex128))

    out = data_consistency(operator, torch.from_numpy(guess), y).numpy()

    def centred_fft(x):
        return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho"))

    spectrum = centred_fft(guess)
    spectrum[mask] = centred_fft(truth)[mask]
    expected = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(spectrum), norm="ortho")).real
    np.testing.assert_allclose(out, expected, atol=1e-12)
    # A consistent image is a fixed point, and the layer never moves away from the data.
    consistent = data_consistency(operator, torch.from_numpy(truth), y).numpy()
    np.testing.assert_allclose(consistent, truth, atol=1e-12)
    before = np.linalg.norm(operator.forward(torch.from_numpy(guess).to(torch.complex128)) - y)
    after = np.linalg.norm(operator.forward(torch.from_numpy(out).to(torch.complex128)) - y)
    assert after < 0.8 * before


def test_learned_reconstruction_applies_the_layer_the_network_was_trained_with():
    mask = make_mask("multilevel", 32, 0.25, seed=0)
    operator = make_operator("fourier", mask)
    torch.manual_seed(3)
    plain = UNet(base_width=4, depth=2, residual=False).eval()
    with_layer = UNet(base_width=4, depth=2, residual=False, data_consistency=True).eval()
    with_layer.load_state_dict(plain.state_dict())
    x = torch.from_numpy(datasets.example_image(datasets.split_seed("test", 3), 32))
    y = operator.forward(x.to(torch.complex64))
    with torch.no_grad():
        raw = LearnedReconstruction(operator, plain)(y)
        finished = LearnedReconstruction(operator, with_layer)(y)
    torch.testing.assert_close(finished, data_consistency(operator, raw, y))
    assert (finished - raw).abs().max() > 1e-3
    assert with_layer.architecture["data_consistency"] is True


def test_training_with_the_data_consistency_layer_needs_full_images(tmp_path):
    from solver.train import train

    with pytest.raises(ValueError, match="data_consistency needs full images"):
        train(["--size", "32", "--crop", "16", "--data-consistency", "--steps", "1",
               "--run-dir", str(tmp_path / "run"), "--out", str(tmp_path / "x.safetensors")])


# ---------------------------------------------------------------------------------------
# Tampered weights and cards: every one is refused with a ValueError that says why.
# Each case is made here from a tiny saved network; a case that changes the weights file
# also writes the new file's sha256 into the card, so the hash check cannot be what
# catches it.
# ---------------------------------------------------------------------------------------


def _card(path):
    return json.loads(card_path(path).read_text())


def _write_card(path, card):
    card_path(path).write_text(json.dumps(card))


def _edit_card(edit):
    def tamper(path):
        card = _card(path)
        edit(card)
        _write_card(path, card)

    return tamper


def _card_text(text):
    def tamper(path):
        card_path(path).write_bytes(text if isinstance(text, bytes) else text.encode())

    return tamper


def _rehashed(path, data):
    """Write ``data`` as the weights file and make the card's sha256 match it."""
    path.write_bytes(data)
    card = _card(path)
    card["weights_sha256"] = file_sha256(path)
    _write_card(path, card)


def _safetensors_parts(path):
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def _safetensors_bytes(header, body):
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def _edit_header(edit):
    def tamper(path):
        header, body = _safetensors_parts(path)
        edit(header)
        _rehashed(path, _safetensors_bytes(header, body))

    return tamper


def _edit_tensors(edit):
    """Change tensor values (same names, dtypes and shapes) and re-sign the file."""

    def tamper(path):
        from safetensors.torch import load_file, save_file

        state = load_file(str(path))
        edit(state)
        save_file(state, str(path))
        _rehashed(path, path.read_bytes())

    return tamper


def _corrupt_bytes(path):
    data = bytearray(path.read_bytes())
    data[8:40] = b"\xff" * 32  # the start of the JSON header
    _rehashed(path, bytes(data))


def _truncated_rehashed(path):
    data = path.read_bytes()
    _rehashed(path, data[: len(data) // 2])


def _huge_header_length(path):
    data = path.read_bytes()
    _rehashed(path, (2**62).to_bytes(8, "little") + data[8:])


def _remove_tensor(path):
    from safetensors.torch import load_file, save_file

    state = load_file(str(path))
    del state["head.bias"]
    save_file(state, str(path))
    _rehashed(path, path.read_bytes())


def _set(*keys, value):
    def edit(card):
        target = card
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _delete(*keys):
    def edit(card):
        target = card
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return edit


def _nan_weights(state):
    for value in state.values():
        if value.is_floating_point():
            value.fill_(float("nan"))


def _one_inf(state):
    state["down.0.0.weight"][0, 0, 0, 0] = float("inf")


def _large_weights(state):
    # Finite, but the first layers' products overflow float32 on any input.
    for key in ("down.0.0.weight", "down.0.3.weight", "down.1.0.weight"):
        state[key].fill_(1e30)


def _negative_variance(state):
    state["down.0.1.running_var"].fill_(-1.0)


# (case id, tamper(path), message the ValueError must contain). The first 13 are the cases
# that stopped the page before the loader checked its input.
TAMPERED = [
    ("corrupt-safetensors-rehashed", _corrupt_bytes, "not valid safetensors"),
    ("truncated-safetensors-rehashed", _truncated_rehashed, "not valid safetensors"),
    ("card-is-a-list", _card_text("[1, 2]"), "must be a JSON object, got a list"),
    ("card-is-an-empty-list", _card_text("[]"), "must be a JSON object, got a list"),
    ("card-is-null", _card_text("null"), "must be a JSON object, got null"),
    ("sampling-null", _edit_card(_set("sampling", value=None)), "sampling must be an object, got null"),
    ("sampling-a-list", _edit_card(_set("sampling", value=[0.25])), "sampling must be an object"),
    ("rate-abc", _edit_card(_set("sampling", "rate", value="abc")), "sampling.rate must be a number"),
    ("rate-null", _edit_card(_set("sampling", "rate", value=None)), "sampling.rate must be a number"),
    ("all-nan-weights-rehashed", _edit_tensors(_nan_weights), "NaN"),
    ("base-width-100000", _edit_card(_set("architecture", "base_width", value=100000)),
     r"architecture.base_width must be in \[1, 256\]"),
    ("base-width-256-depth-6", _edit_card(lambda c: c["architecture"].update(base_width=256, depth=6)),
     "parameters, more than the"),
    ("in-channels-100000", _edit_card(_set("architecture", "in_channels", value=100000)),
     r"architecture.in_channels must be in \[1, 8\]"),
    # More tampering.
    ("truncated-file", lambda path: path.write_bytes(path.read_bytes()[:-100]), "sha256 mismatch"),
    ("huge-header-length-rehashed", _huge_header_length, "header length"),
    ("tensor-shape-declared-huge", _edit_header(lambda h: h["head.weight"].update(shape=[100000, 100000])),
     "head.weight should be"),
    ("tensor-dtype-changed", _edit_header(lambda h: h["head.weight"].update(dtype="I64")), "head.weight should be"),
    ("tensor-offsets-out-of-file", _edit_header(lambda h: h["head.bias"].update(data_offsets=[0, 10**9])),
     "bytes 0..1000000000"),
    ("tensor-missing", _remove_tensor, r"missing tensors \['head.bias'\]"),
    ("extra-tensor-in-header", _edit_header(lambda h: h.update(extra=dict(h["head.bias"]))),
     r"unexpected tensors \[\"'extra'\"\]"),
    ("one-inf-weight", _edit_tensors(_one_inf), "1 infinite"),
    ("large-finite-weights", _edit_tensors(_large_weights), "non-finite output on a probe"),
    ("negative-variance", _edit_tensors(_negative_variance), "negative"),
    ("card-wrong-base-width", _edit_card(_set("architecture", "base_width", value=8)), "architecture"),
    ("depth-100", _edit_card(_set("architecture", "depth", value=100)), r"depth must be in \[1, 6\]"),
    ("depth-negative", _edit_card(_set("architecture", "depth", value=-1)), r"depth must be in \[1, 6\]"),
    ("depth-a-string", _edit_card(_set("architecture", "depth", value="4")), "depth must be an integer"),
    ("depth-a-float", _edit_card(_set("architecture", "depth", value=2.0)), "depth must be an integer"),
    ("residual-a-number", _edit_card(_set("architecture", "residual", value=1)), "residual must be true or false"),
    ("norm-unknown", _edit_card(_set("architecture", "norm", value="layer")), "norm must be one of"),
    ("architecture-unknown-field", _edit_card(_set("architecture", "kernel", value=7)), "unknown fields"),
    ("architecture-missing-field", _edit_card(_delete("architecture", "norm")), r"lacks the fields \['norm'\]"),
    ("architecture-class", _edit_card(_set("architecture", "class", value="ResNet")), "class must be 'UNet'"),
    ("architecture-null", _edit_card(_set("architecture", value=None)), "architecture must be an object"),
    ("sampling-missing", _edit_card(_delete("sampling")), "sampling is missing"),
    ("hash-missing", _edit_card(_delete("weights_sha256")), "weights_sha256 is missing"),
    ("hash-not-hex", _edit_card(_set("weights_sha256", value="z" * 64)), "64 lowercase hex digits"),
    ("hash-a-number", _edit_card(_set("weights_sha256", value=12)), "weights_sha256 must be a string"),
    ("rate-nan-in-json", _card_text('{"sampling": {"rate": NaN}}'), "NaN is not a number JSON allows"),
    ("rate-overflowing-float", _card_text('{"sampling": {"rate": 1e999}}'), "not a finite number"),
    ("rate-zero", _edit_card(_set("sampling", "rate", value=0)), r"rate must be in \(0, 1\]"),
    ("rate-above-one", _edit_card(_set("sampling", "rate", value=1.5)), r"rate must be in \(0, 1\]"),
    ("rate-a-boolean", _edit_card(_set("sampling", "rate", value=True)), "rate must be a number"),
    ("seed-negative", _edit_card(_set("sampling", "seed", value=-1)), "sampling.seed must be in"),
    ("pattern-empty", _edit_card(_set("sampling", "pattern", value="")), "pattern must be 1 to"),
    ("pattern-100-kB", _edit_card(_set("sampling", "pattern", value="x" * 100_000)), "got 100,000"),
    ("mask-hash-short", _edit_card(_set("sampling", "mask_sha256", value="ab")), "mask_sha256 must be 64"),
    ("image-size-huge", _edit_card(_set("image_size", value=10**6)), r"image_size must be in \[8, 4096\]"),
    ("operator-unknown", _edit_card(_set("operator", value="radon")), "operator must be one of"),
    ("card-not-utf8", _card_text(b'{"name": "\xff\xfe"}'), "not UTF-8"),
    ("card-not-json", _card_text("{'single': quotes}"), "not valid JSON"),
    ("card-deeply-nested", _card_text("[" * 100_000), "not valid JSON"),
    ("card-over-one-mib", _card_text(b" " * (2**20 + 1) + b"{}"), "more than the 1,048,576"),
]


@pytest.mark.parametrize(("tamper", "match"), [case[1:] for case in TAMPERED],
                         ids=[case[0] for case in TAMPERED])
def test_tampered_weights_or_card_are_refused_with_a_reason(tiny_saved, tamper, match):
    path, _, _ = tiny_saved
    tamper(path)
    with pytest.raises(ValueError, match=match):
        load_network(path)


SIZE_CASES = [case for case in TAMPERED if case[0] in
              ("base-width-100000", "in-channels-100000", "depth-100", "image-size-huge")]


@pytest.mark.parametrize(("tamper", "match"), [case[1:] for case in SIZE_CASES],
                         ids=[case[0] for case in SIZE_CASES])
def test_oversized_architectures_are_refused_before_any_network_is_built(
    tiny_saved, tamper, match, monkeypatch
):
    path, _, _ = tiny_saved
    tamper(path)

    def not_built(*args, **kwargs):
        raise AssertionError(f"a UNet was built from an unchecked card: {kwargs}")

    monkeypatch.setattr(UNet, "__init__", not_built)
    with pytest.raises(ValueError, match=match):
        load_network(path)


def test_the_largest_refused_architecture_allocates_nothing(tiny_saved):
    # base_width 256 at depth 6 would be 8.0e9 parameters (30 GiB in float32): the
    # parameter count comes from a network on the meta device, which holds no memory.
    import resource

    path, _, _ = tiny_saved
    _edit_card(lambda c: c["architecture"].update(base_width=256, depth=6))(path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match="7,962,640,923 parameters"):
        load_network(path)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100 * 1024


def test_default_weights_do_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    assert DEFAULT_WEIGHTS.is_absolute()
    monkeypatch.chdir(tmp_path)
    model, card = load_network()
    assert card["weights_sha256"] == file_sha256(DEFAULT_WEIGHTS)
    # The default is looked up when called, so a replacement of the constant is used.
    import solver.networks

    path, _, _ = _tiny(tmp_path)
    monkeypatch.setattr(solver.networks, "DEFAULT_WEIGHTS", path)
    assert load_network()[0].base_width == 4


def test_loader_rejects_an_unknown_device(tiny_saved):
    path, _, _ = tiny_saved
    with pytest.raises(ValueError, match="device"):
        load_network(path, device="warp-drive")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_loader_turns_an_unavailable_device_into_a_value_error(tiny_saved):
    path, _, _ = tiny_saved
    with pytest.raises(ValueError, match="cannot hold the network"):
        load_network(path, device="cuda")


def test_learned_reconstruction_to_moves_the_operator_with_the_network():
    mask = make_mask("multilevel", 32, 0.25, seed=0)

    def learned():
        return LearnedReconstruction(make_operator("fourier", mask), UNet(base_width=4, depth=2))

    net = learned()
    assert net.to(torch.device("meta")) is net
    assert net.unet.head.weight.device.type == "meta"
    buffers = list(net.operator.buffers())
    assert buffers and all(buffer.device.type == "meta" for buffer in buffers)
    # A dtype-only call changes the parameters' dtype and leaves the device alone.
    net = learned().to(torch.float64)
    assert net.unet.head.weight.dtype == torch.float64
    assert all(buffer.device.type == "cpu" for buffer in net.operator.buffers())
