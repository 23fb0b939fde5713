"""Make tests/data/steps_references.npz: outputs of the long solver functions, for bit-for-bit checks.

The long algorithms of ``solver/`` (k-space preparation, the attacks' ascent, the paper's
image attack, the run loop, the stability curves, the primal-dual block, the ellipse
parameters, the network card checks, the mask preparation and the sweep runner) are
restructured into small named steps; the restructuring must not change a single bit of
what they return. This script calls each of them on small fixed, seeded inputs (float64
and complex128 where the function allows, N = 32, one torch thread) and stores every
output array and number. ``tests/test_steps.py`` recomputes the same calls with
:func:`compute` and compares with ``np.array_equal``. Wall times, worker names and
tracebacks (whose line numbers move with the code) are left out. It runs in about 20
seconds.

Run from the repository root, on the code whose behaviour is the reference::

    OMP_NUM_THREADS=1 PYTHONPATH=. python tests/data/make_steps_references.py
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

OUTPUT = Path(__file__).with_name("steps_references.npz")
N = 32


def _array(value) -> np.ndarray:
    """A stored value: tensors and lists as arrays, text as a string array."""
    if torch.is_tensor(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _small_unet_network(A):
    """A nonlinear random U-Net (float64) behind the zero-filled image of ``A``."""
    from solver.networks import LearnedReconstruction, UNet

    gen = torch.Generator().manual_seed(0)
    unet = UNet(base_width=4, depth=2).double()
    with torch.no_grad():
        for p in unet.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return LearnedReconstruction(A, unet)


def _setting():
    """The shared small problem: truth, operator, data, a U-Net, zero-filled and FIRENET."""
    from solver.baselines import ZeroFilled
    from solver.firenet import FIRENET
    from solver.operators import WaveletMeasurement, make_operator
    from solver.phantoms import random_ellipses
    from solver.sampling import make_mask
    from solver.wavelets import Wavelet2D

    x = random_ellipses(N, 800_000)
    A = make_operator("fourier", make_mask("multilevel", N, 0.3, seed=0))
    y = A.forward(torch.as_tensor(x, dtype=torch.complex128))
    W = WaveletMeasurement(A, Wavelet2D("haar", None, N))
    return {"x": x, "A": A, "y": y, "W": W, "unet": _small_unet_network(A), "zf": ZeroFilled(W),
            "fire": FIRENET(W, restarts=2, layers=3)}


def _kspace_cases(out: dict) -> None:
    from solver.kspace import image_to_kspace, prepare_kspace
    from solver.phantoms import random_ellipses, shepp_logan

    rng = np.random.default_rng(5)
    phantom = shepp_logan(48)
    big = np.zeros((48, 40))
    big[4:44, :] = random_ellipses(40, 3)[:, :]
    mask = rng.random((48, 48)) < 0.3
    mask[18:30, 18:30] = True  # the dense centre every practical pattern has
    noisy = image_to_kspace(phantom) * mask + 1e-3 * mask * rng.standard_normal((48, 48))
    cases = {
        "centred_crop": (noisy[:, 4:44], {"size": 32}),
        "corner_uncentred_normalised": (
            np.fft.ifftshift(image_to_kspace(phantom, convention="corner")) * np.fft.ifftshift(mask),
            {"normalise": True}),
        "image_resize_corner": (image_to_kspace(big, convention="corner"), {"size": 32, "resize": "image"}),
        "ambiguous_real": (np.real(image_to_kspace(rng.standard_normal((40, 40)))), {}),
        "line_mask_pad": (image_to_kspace(shepp_logan(32))[:, 6:26],
                          {"mask": (np.arange(20) % 3 == 0), "size": 32, "convention": "centred"}),
        "row_mask_odd": (image_to_kspace(shepp_logan(33)), {"mask": (np.arange(33) % 2 == 0).astype(int)}),
    }
    for name, (k, options) in cases.items():
        data = prepare_kspace(k, notes=("read",), **options)
        prefix = f"kspace/{name}/"
        for field in ("kspace", "mask", "y", "scale", "convention", "layout", "original_shape"):
            out[prefix + field] = _array(getattr(data, field))
        out[prefix + "scores"] = _array([data.scores[key] for key in sorted(data.scores)])
        out[prefix + "notes"] = _array("\n".join(data.notes))


def _paper_attack_cases(out: dict, s: dict) -> None:
    from solver.attacks import paper_image_attack

    steps = []
    cases = {
        "zf_milestones": (s["zf"], {"relative_norm": 0.05, "milestones": (0.01, 0.02), "max_steps": 300,
                                    "callback": lambda k, n, o: steps.append((k, n, o))}),
        "unet_few_steps": (s["unet"], {"relative_norm": 0.05, "max_steps": 4, "seed": 3, "lr": 0.05}),
        "zf_image_reference": (s["zf"], {"reference": "image", "relative_norm": 0.02, "max_steps": 300,
                                         "penalty": 0.0}),
    }
    for name, (net, options) in cases.items():
        res = paper_image_attack(net, s["A"], s["x"], **options)
        prefix = f"paper_attack/{name}/"
        for field in ("perturbation", "start", "max_norm", "reference_norm", "steps", "reached", "norms",
                      "objective", "clean_data", "perturbed_data", "clean_output", "perturbed_output"):
            out[prefix + field] = _array(getattr(res, field))
        out[prefix + "milestone_sizes"] = _array(sorted(res.milestones))
        for mark, r in sorted(res.milestones.items()):
            out[prefix + f"milestone_{mark}"] = _array(r)
    out["paper_attack/zf_milestones/callback"] = _array(steps)


def _ascent_cases(out: dict, s: dict) -> None:
    from solver.attacks import worst_case_image_perturbation, worst_case_perturbation

    y = s["y"]
    seen = []
    warm = 0.01 * y.abs().max() * torch.ones_like(y)
    cases = {
        "unet_project": (worst_case_perturbation, (s["unet"], y), {"steps": 6, "lr": 0.05, "budget": 0.05,
                                                                   "callback": seen.append}),
        "unet_stop": (worst_case_perturbation, (s["unet"], y), {"steps": 8, "lr": 0.3, "momentum": 0.5,
                                                                "on_budget": "stop", "seed": 4}),
        "fire_checkpoint_start": (worst_case_perturbation, (s["fire"], y),
                                  {"steps": 3, "lr": 0.05, "checkpoint": True, "start": warm}),
        "zero_steps": (worst_case_perturbation, (s["zf"], y), {"steps": 0}),
        "image_unet": (worst_case_image_perturbation, (s["unet"], s["A"], s["x"]),
                       {"steps": 5, "lr": 0.05, "mu": 0.0, "budget": 0.03}),
    }
    for name, (search, args, options) in cases.items():
        res = search(*args, **options)
        prefix = f"ascent/{name}/"
        for field in ("perturbation", "clean_data", "perturbed_data", "clean_output", "perturbed_output",
                      "best_step", "budget", "reference_norm"):
            out[prefix + field] = _array(getattr(res, field))
        for field in ("norm", "relative_norm", "output_change", "relative_output_change", "objective"):
            out[prefix + "history_" + field] = _array(getattr(res.history, field))
    out["ascent/unet_project/callback"] = _array(
        [(a.step, a.steps, a.norm, a.relative_norm, a.output_change, a.relative_output_change, a.objective)
         for a in seen])


def _curve_arrays(out: dict, prefix: str, curve) -> None:
    out[prefix + "budgets"] = _array(curve.budgets)
    out[prefix + "data_norm"] = _array(curve.data_norm)
    for field in ("worst", "random", "perturbation_norms", "worst_error", "random_error", "data_perturbation"):
        for name, values in sorted(getattr(curve, field).items()):
            out[prefix + f"{field}/{name}"] = _array(values)
    for field in ("lipschitz", "clean_error"):
        for name, value in sorted(getattr(curve, field).items()):
            out[prefix + f"{field}/{name}"] = _array(value)
    for name, perturbations in sorted(curve.perturbations.items()):
        out[prefix + f"perturbations/{name}"] = _array(torch.stack(perturbations))


def _progress(out: dict, prefix: str, progress: list) -> None:
    out[prefix + "progress_networks"] = _array([p.network for p in progress])
    out[prefix + "progress"] = _array([(p.budget_index, p.budget, p.fraction,
                                        -1.0 if p.attack_step is None else p.attack_step.step,
                                        *(p.point if p.point is not None else (np.nan,) * 3)) for p in progress])


def _stability_cases(out: dict, s: dict) -> None:
    from solver.stability import paper_stability_curve, stability_curve

    progress = []
    curve = stability_curve({"unet": s["unet"], "zf": s["zf"]}, s["y"], [0.05, 0.02], steps=3, lr=0.05,
                            random_trials=2, seed=2, truth=s["x"], callback=progress.append)
    _curve_arrays(out, "stability/", curve)
    _progress(out, "stability/", progress)
    cold = stability_curve({"zf": s["zf"]}, s["y"], [0.01, 0.03], steps=2, warm_start=False)
    _curve_arrays(out, "stability_cold/", cold)
    progress = []
    paper = paper_stability_curve({"zf": s["zf"], "unet": s["unet"]}, s["A"], s["x"], [0.04, 0.02],
                                  max_steps=40, seed=1, callback=progress.append)
    _curve_arrays(out, "paper_stability/", paper)
    _progress(out, "paper_stability/", progress)


def _trace_cases(out: dict) -> None:
    from solver import methods
    from solver.phantoms import shepp_logan
    from solver.problem import make_problem
    from solver.sampling import make_mask
    from solver.trace import run

    problem = make_problem(shepp_logan(N), make_mask("multilevel", N, 0.3, seed=1), noise=0.02, noise_seed=3,
                           dtype=torch.complex128)
    A = problem.measurement("haar")
    fire = methods.build("firenet", A, firenet={"restarts": 3, "layers": 6})
    cases = {
        "firenet": (fire, {"reference": problem.truth, "snapshots": (4, 9, 30), "every": 4}),
        "firenet_imaginary": (fire, {"reference": problem.truth, "keep_imaginary": True}),
        "firenet_stopped": (fire, {"snapshots": (5, 10), "on_progress": lambda t, layer: layer >= 10}),
        "adaptive": (methods.build("firenet", A, firenet={"schedule": "adaptive", "max_layers": 40}),
                     {"reference": problem.truth}),
        "cp": (methods.build("cp", A, iterations=12), {"every": 5}),
        "zero_filled": (methods.build("zero_filled", A), {"reference": problem.truth}),
        "zero_filled_imaginary": (methods.build("zero_filled", A), {"keep_imaginary": True}),
    }
    for name, (net, options) in cases.items():
        trace = run(net, problem.y, **options)
        prefix = f"trace/{name}/"
        for field in ("image", "layer", "error", "objective", "dual", "eps", "restart_layers", "stopped"):
            out[prefix + field] = _array(getattr(trace, field))
        out[prefix + "snapshot_layers"] = _array(sorted(trace.snapshots))
        for layer, image in sorted(trace.snapshots.items()):
            out[prefix + f"snapshot_{layer}"] = image


def _primal_dual_cases(out: dict, s: dict) -> None:
    from solver.primal_dual import primal_dual_block

    W, y = s["W"], s["y"]
    x0 = W.adjoint(y)
    z0 = torch.zeros_like(y)
    thr = torch.full((N, N), 1e-3, dtype=torch.float64)
    tensor_tau = torch.tensor([0.5], dtype=torch.float64).reshape(1, 1)
    for name, options in {
        "ergodic": {},
        "last": {"output": "last"},
        "inplace_ergodic": {"inplace": True},
        "inplace_last": {"inplace": True, "output": "last"},
        "stopped": {"callback": lambda record: record.layer >= 13, "layer_offset": 10},
        "inplace_tensor_steps_stopped": {"inplace": True, "tau": tensor_tau, "sigma": torch.tensor([0.9]),
                                         "callback": lambda record: record.layer >= 3},
    }.items():
        records = []
        callback = options.pop("callback", None)

        def recorder(record, callback=callback):
            records.append((record.layer, record.restart, float(record.coeffs.abs().sum()),
                            float(record.dual.abs().sum()), float(record.iterate.abs().sum())))
            return callback(record) if callback is not None else None

        kwargs = {"tau": 0.7, "sigma": 0.7, **options}
        with torch.no_grad():
            res = primal_dual_block(W, y, x0.clone(), z0.clone(), thr_unit=thr, layers=6, restart=2,
                                    callback=recorder, **kwargs)
        prefix = f"primal_dual/{name}/"
        # For output="last" the block's out is its x: stored once.
        for field in ("out", "z", "stopped") if options.get("output") == "last" else ("out", "x", "z", "stopped"):
            out[prefix + field] = _array(getattr(res, field))
        out[prefix + "a_out"] = _array(np.nan if res.a_out is None else res.a_out)
        out[prefix + "records"] = _array(records)


def _ellipse_cases(out: dict) -> None:
    from solver.phantoms import random_ellipse_parameters

    for name, options in {"default": {"seed": 11}, "steep": {"seed": 4, "gradient": 25.0},
                          "flat": {"seed": 2, "gradient": 0.0, "count": (3, 3)},
                          "narrow": {"seed": 7, "axes": (0.2, 0.9), "margin": 0.0, "bias": (0.0, 0.1),
                                     "gradient": 3.0}}.items():
        ellipses = random_ellipse_parameters(**options)
        for field in ("centre_x", "centre_y", "axis_a", "axis_b", "angle", "grad_x", "grad_y", "bias"):
            out[f"ellipses/{name}/{field}"] = _array(getattr(ellipses, field))


def _network_cases(out: dict) -> None:
    from solver.networks import DEFAULT_WEIGHTS, card_path, check_compatibility, load_network
    from solver.sampling import make_mask

    model, card = load_network()
    digest = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    out["networks/load/state_sha256"] = _array(digest.hexdigest())
    out["networks/load/card_sha256"] = _array(hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest())
    out["networks/load/training"] = _array(model.training)
    messages = []
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "net.safetensors"
        shutil.copyfile(DEFAULT_WEIGHTS, copy)
        bad_card = dict(card, weights_sha256="0" * 64)
        card_path(copy).write_text(json.dumps(bad_card))
        for path, device in ((copy, "cpu"), (Path(folder) / "net.pt", "cpu"), (Path(folder) / "no.safetensors", "cpu"),
                             (copy, "no-such-device"), (3, "cpu")):
            try:
                load_network(path, device)
            except (ValueError, FileNotFoundError) as error:
                messages.append(f"{type(error).__name__}: {error}".replace(folder, "FOLDER"))
    out["networks/load/errors"] = _array(messages)
    sampling = card["sampling"]
    size, rate, pattern = card["image_size"], sampling["rate"], sampling["pattern"]
    trained_mask = make_mask(pattern, size, rate, seed=sampling.get("seed", 0))
    labels = {"multilevel": "Multilevel", "radial": "Radial lines"}
    cases = {
        "match": (card, pattern, rate, size, card["operator"], trained_mask, None),
        "pattern_label": (card, "radial", rate, size, card["operator"], None, labels),
        "rate_up": (card, pattern, 0.4, size, card["operator"], None, None),
        "rate_down_size_odd": (card, pattern, 0.120819, 100, "walsh", None, None),
        "size_ok": (card, pattern, rate, 128, card["operator"], None, None),
        "other_mask": (card, pattern, rate, size, card["operator"], make_mask(pattern, size, rate, seed=99), None),
        "bare_card": ({}, 5, 0.1, 64, "fourier", None, {"x": "y"}),
    }
    for name, (c, p, r, n, kind, mask, names) in cases.items():
        warnings = check_compatibility(c, p, r, n, kind, mask, labels=names)
        out[f"networks/compatibility/{name}"] = _array("\n".join(warnings))


def _mask_cases(out: dict) -> None:
    from solver.mask_files import prepare_mask
    from solver.sampling import make_mask

    mask = make_mask("multilevel", N, 0.25, seed=3)
    dc_free = mask.copy()
    dc_free[N // 2, N // 2] = False
    cases = {
        "centred": (mask, {}),
        "uncentred": (np.fft.ifftshift(mask).astype(np.uint8) * 255, {}),
        "forced_uncentred": (mask, {"centred": "uncentred"}),
        "columns": (np.arange(N) % 4 == 0, {}),
        "rows_2d_line": ((np.arange(N) % 3 == 0)[None, :].astype(int), {"lines": "rows"}),
        "downsampled": (np.kron(mask, np.ones((2, 2), dtype=bool)), {"size": N}),
        "full_ambiguous": (np.ones((N, N)), {}),
        "dc_missing": (dc_free, {"centred": "centred"}),
    }
    for name, (m, options) in cases.items():
        loaded = prepare_mask(m, notes=("given",), **options)
        out[f"mask/{name}/mask"] = loaded.mask
        out[f"mask/{name}/was_centred"] = _array(loaded.was_centred)
        out[f"mask/{name}/notes"] = _array("\n".join(loaded.notes))


def task_values(settings: dict) -> dict:
    """The runner of the sweep cases: values from the settings, an error for ``fail``."""
    if settings.get("fail"):
        raise RuntimeError(f"task {settings['n']} fails on purpose")
    return {"square": settings["n"] ** 2, "seconds": 0.0}


def _runner_cases(out: dict) -> None:
    from distributed import Client

    from solver.reproduce.runner import code_version, run_tasks, task_key, task_path

    tasks = [{"experiment": "steps", "n": n, "fail": n == 2} for n in range(4)]
    with tempfile.TemporaryDirectory() as folder, \
            Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        # An earlier file of another task under the first key, and a failed record of the third.
        version = code_version()  # workers must run it; it changes with the code, so no key is stored
        task_path(folder, task_key(tasks[0], version)).parent.mkdir(parents=True)
        task_path(folder, task_key(tasks[0], version)).write_text(json.dumps(
            {"key": "other", "settings": {}, "status": "ok", "values": {}}))
        reports = [run_tasks(tasks, folder, client=client, progress=False, runner=task_values, version=version),
                   run_tasks(tasks, folder, client=client, progress=False, runner=task_values, version=version,
                             retry_failed=False),
                   run_tasks(tasks, folder, client=client, progress=False, runner=task_values, version=version)]
        files = sorted(str(p.parent.relative_to(folder)) for p in Path(folder).rglob("*.json"))
    for i, report in enumerate(reports):
        prefix = f"runner/{i}/"
        out[prefix + "counts"] = _array([report.computed, report.reused, report.failed, report.refused])
        out[prefix + "notes"] = _array("\n".join(report.notes))
        out[prefix + "records"] = _array(json.dumps(
            [{"key_is_own": r["key"] == task_key(r["settings"], version), "settings": r["settings"],
              "status": r["status"],
              "error": (r["error"] or "").split("\n")[0], "values": {k: v for k, v in r["values"].items() if k != "seconds"},
              "timed": "seconds" in r["values"], "computed": r["computed"],
              "worker_known": bool(r.get("worker"))} for r in report.records], sort_keys=True))
    out["runner/files"] = _array(files)


def compute() -> dict[str, np.ndarray]:
    """Every reference output, by name (``function/case/field``)."""
    torch.set_num_threads(1)
    out: dict[str, np.ndarray] = {}
    s = _setting()
    _kspace_cases(out)
    _paper_attack_cases(out, s)
    _ascent_cases(out, s)
    _stability_cases(out, s)
    _trace_cases(out)
    _primal_dual_cases(out, s)
    _ellipse_cases(out)
    _network_cases(out)
    _mask_cases(out)
    _runner_cases(out)
    return out


if __name__ == "__main__":
    references = compute()
    np.savez_compressed(OUTPUT, **references)
    print(f"{len(references)} arrays, {OUTPUT.stat().st_size / 1e3:.0f} kB -> {OUTPUT}")
