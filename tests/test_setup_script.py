"""scripts/setup.sh's choice of torch build, through its --dry-run (nothing is installed).

Each test runs the script from a copy of the repository's setup files in a temporary
directory (so the checkout's own .venv plays no part), with a fake ``nvidia-smi`` first on
the PATH, a fake driver directory, and a CPU index that is a local HTTP server (reachable)
or a closed local port (unreachable): no network is used.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GPU_LISTING = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5a1c0e52-0000-0000-0000-000000000000)"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/whl/cpu"  # nothing listens there once the socket closes


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def cpu_index(tmp_path_factory):
    """The URL of a local HTTP server whose index has a ``torch/`` page."""
    root = tmp_path_factory.mktemp("cpu-index")
    (root / "torch").mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def checkout(tmp_path, cpu_index):
    """A directory with scripts/setup.sh and the requirement files, and no .venv."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    for name in ("requirements.txt", "requirements-test.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "cpu-index-url").write_text(cpu_index)
    return tmp_path


def fake_nvidia_smi(directory: Path, listing: str | None) -> None:
    """An ``nvidia-smi`` that lists ``listing``, or fails as it does without a driver."""
    directory.mkdir(exist_ok=True)
    script = directory / "nvidia-smi"
    if listing is None:
        script.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate"
                          " with the NVIDIA driver.' >&2\nexit 9\n")
    else:
        script.write_text(f"#!/bin/sh\n[ \"$1\" = -L ] && echo '{listing}'\n")
    script.chmod(0o755)


def setup_dry_run(checkout: Path, *flags: str, gpu: str | None = None, driver_gpus: int = 0,
                  cpu_index: str | None = None) -> list[str]:
    """Run ``setup.sh --dry-run FLAGS``; return its lines without the ``scripts/setup.sh: ``."""
    fake_nvidia_smi(checkout / "fake-bin", gpu)
    driver = checkout / "fake-driver"
    (driver / "gpus").mkdir(parents=True, exist_ok=True)
    for index in range(driver_gpus):
        (driver / "gpus" / f"0000:0{index}:00.0").mkdir()
    if cpu_index is None:
        cpu_index = (checkout / "cpu-index-url").read_text()
    env = {**os.environ, "PATH": f"{checkout / 'fake-bin'}{os.pathsep}{os.environ['PATH']}",
           "PYTHON": sys.executable, "NVIDIA_PROC_DIR": str(driver), "TORCH_CPU_INDEX": cpu_index}
    venv_before = sorted((checkout / ".venv").rglob("*"))
    result = subprocess.run(["bash", str(checkout / "scripts" / "setup.sh"), "--dry-run", *flags],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted((checkout / ".venv").rglob("*")) == venv_before  # a dry run changes nothing
    return [line.removeprefix("scripts/setup.sh: ") for line in result.stderr.splitlines()]


def test_no_gpu_chooses_the_cpu_build_from_the_cpu_index(checkout):
    lines = setup_dry_run(checkout, gpu=None)
    assert lines[0].startswith("torch build: cpu (no NVIDIA GPU found")
    index = (checkout / "cpu-index-url").read_text()
    assert lines[1:] == ["would install torch==2.13.0+cpu from " + index,
                         "would install requirements.txt"]


@pytest.mark.slow
def test_a_gpu_listed_by_nvidia_smi_chooses_the_cuda_build(checkout):
    lines = setup_dry_run(checkout, "--test", gpu=GPU_LISTING)
    assert lines == [f"torch build: cuda (NVIDIA GPU found: {GPU_LISTING})",
                     "would install requirements-test.txt"]


@pytest.mark.slow
def test_a_gpu_in_the_driver_directory_counts_without_nvidia_smi_listing_it(checkout):
    lines = setup_dry_run(checkout, gpu=None, driver_gpus=1)
    assert lines[0].startswith("torch build: cuda (NVIDIA GPU found: a GPU in ")


@pytest.mark.slow
def test_flags_override_the_detection_either_way(checkout):
    forced_cpu = setup_dry_run(checkout, "--cpu", gpu=GPU_LISTING)
    assert forced_cpu[0] == "torch build: cpu (asked for with --cpu)"
    assert forced_cpu[1].startswith("would install torch==2.13.0+cpu from ")
    forced_cuda = setup_dry_run(checkout, "--cuda", gpu=None)
    assert forced_cuda == ["torch build: cuda (asked for with --cuda)", "would install requirements.txt"]


@pytest.mark.slow
def test_an_unreachable_cpu_index_falls_back_to_the_configured_source(checkout):
    lines = setup_dry_run(checkout, gpu=None, cpu_index=closed_port_url())
    assert lines[0].startswith("torch build: cpu")
    assert lines[1].startswith("would install torch==2.13.0 from pip's configured source: ")
    assert lines[1].endswith(" cannot be reached")


@pytest.mark.slow
def test_an_existing_venv_keeps_its_build_unless_a_flag_changes_it(checkout):
    (checkout / ".venv").mkdir()
    (checkout / ".venv" / ".setup-done").write_text("torch-build cuda\n")
    kept = setup_dry_run(checkout, gpu=None)
    assert kept[0] == "torch build: cuda (kept from the existing .venv; --cpu or --cuda changes it)"
    changed = setup_dry_run(checkout, "--cpu", gpu=None)
    assert changed[0] == "torch build: cpu (asked for with --cpu)"
    assert changed[1].startswith("would rebuild .venv: ")


def test_an_unknown_option_is_refused(checkout):
    result = subprocess.run(["bash", str(checkout / "scripts" / "setup.sh"), "--gpu"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown option --gpu" in result.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(("flag", "setup_options"), [("", ""), ("CPU=1", " --cpu"), ("CPU=0", " --cuda")])
def test_make_passes_the_cpu_flag_to_setup_and_says_how_to_stop_the_app(flag, setup_options):
    # Run as a top-level make even when the tests themselves run under `make test`.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(["make", "--no-print-directory", "-n", "app", *([flag] if flag else [])], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    assert commands[0].rstrip() == "scripts/setup.sh" + setup_options
    assert any("Ctrl+C stops it" in command for command in commands)
    test = subprocess.run(["make", "--no-print-directory", "-n", "test", *([flag] if flag else [])], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)
    assert test.stdout.splitlines()[0].rstrip() == "scripts/setup.sh --test" + setup_options
