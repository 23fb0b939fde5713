#!/usr/bin/env bash
# Create (or repair, or update) the project's virtual environment in .venv.
#
#   scripts/setup.sh               runtime packages (the app): requirements.txt
#   scripts/setup.sh --test        runtime + test packages, and Chromium for the browser tests
#   scripts/setup.sh --cpu         torch's CPU-only build from the PyTorch CPU wheel index
#   scripts/setup.sh --cuda        torch as PyPI ships it: on Linux the CUDA build
#   scripts/setup.sh --dry-run     say which torch build and which steps, change nothing
#
# Without --cpu or --cuda the build is chosen by itself: CUDA where an NVIDIA GPU is found
# (nvidia-smi lists one, or /proc/driver/nvidia/gpus has one), CPU otherwise; a .venv that
# already has a build keeps it. If the CPU index cannot be reached, torch comes from pip's
# configured source instead (PyPI unless pip is configured otherwise). Download sizes: README.
#
# Environment: PYTHON (default python3), the interpreter the venv is built from, 3.11 or
# newer; TORCH_CPU_INDEX (default https://download.pytorch.org/whl/cpu), the index --cpu
# uses; NVIDIA_PROC_DIR (default /proc/driver/nvidia), where the driver lists its GPUs.
#
# A .venv left by a failed or older setup is rebuilt from scratch: one whose Python does not
# run or has another version than $PYTHON, whose pip is missing, whose record of a completed
# install (.venv/.setup-done) is missing or was made from other requirements or another torch
# build, or which lacks one of the key packages. The record is written only after the install
# and an import of the key packages succeeded, so an interrupted or failed run is redone.
set -euo pipefail
cd "$(dirname "$0")/.."

test_set=0
asked_build=
dry_run=0
for arg in "$@"; do
    case "$arg" in
        --test) test_set=1 ;;
        --cpu) asked_build=cpu ;;
        --cuda) asked_build=cuda ;;
        --dry-run) dry_run=1 ;;
        -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "scripts/setup.sh: unknown option $arg (use --test, --cpu, --cuda, --dry-run, --help)" >&2; exit 2 ;;
    esac
done

min_python=3.11
python=${PYTHON:-python3}
torch_cpu_index=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
nvidia_proc_dir=${NVIDIA_PROC_DIR:-/proc/driver/nvidia}
venv=.venv
record=$venv/.setup-done

say() { echo "scripts/setup.sh: $*" >&2; }
fail() {
    say "$*"
    exit 1
}

# ---- 1. The interpreter: present, new enough, able to make a venv with pip -------------
command -v "$python" >/dev/null 2>&1 || fail "no Python interpreter '$python' found; install Python >= $min_python and/or set PYTHON=/path/to/python3.11"
python_version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])') \
    || fail "'$python' does not run"
"$python" -c "import sys; sys.exit(sys.version_info[:2] < (3, 11))" \
    || fail "Python >= $min_python is needed (the pinned numpy, scipy, scikit-image and streamlit require it), but $python is $python_version. Install a newer Python and rerun with PYTHON=/path/to/python3.11 (or newer)."
"$python" -c "import venv, ensurepip" 2>/dev/null \
    || fail "$python $python_version cannot create virtual environments with pip (on Debian/Ubuntu: apt-get install python3-venv)"

# ---- 2. Which torch build ----------------------------------------------------------------
# Prints the name of an NVIDIA GPU the machine has, or nothing.
nvidia_gpu() {
    local listed
    if command -v nvidia-smi >/dev/null 2>&1 && listed=$(nvidia-smi -L 2>/dev/null) \
        && grep -m 1 '^GPU ' <<<"$listed"; then
        return 0
    fi
    if [ -d "$nvidia_proc_dir/gpus" ] && [ -n "$(ls -A "$nvidia_proc_dir/gpus" 2>/dev/null)" ]; then
        echo "a GPU in $nvidia_proc_dir/gpus"
    fi
}
recorded_build() { [ -f "$record" ] && sed -n 's/^torch-build //p' "$record" | head -n 1; }

if [ "$(uname -s)" != Linux ]; then
    # PyPI's torch for macOS (and Windows) is the CPU build already; no index to choose.
    [ -z "$asked_build" ] || say "--$asked_build ignored: on $(uname -s) PyPI's torch is the only build"
    build=pypi
    build_reason="on $(uname -s) PyPI's torch wheel is CPU-only"
elif [ -n "$asked_build" ]; then
    build=$asked_build
    build_reason="asked for with --$asked_build"
elif [ -n "$(recorded_build)" ]; then
    build=$(recorded_build)
    build_reason="kept from the existing $venv; --cpu or --cuda changes it"
elif gpu=$(nvidia_gpu) && [ -n "$gpu" ]; then
    build=cuda
    build_reason="NVIDIA GPU found: $gpu"
else
    build=cpu
    build_reason="no NVIDIA GPU found: nvidia-smi -L lists none and $nvidia_proc_dir/gpus has none"
fi
say "torch build: $build ($build_reason)"

# ---- 3. What a completed setup records: one line per requirement file, and the build -----
requirements=requirements.txt
[ "$test_set" -eq 1 ] && requirements=requirements-test.txt
runtime_modules="torch numpy scipy pywt numba skimage PIL safetensors tqdm streamlit plotly h5py pandas dask"
test_modules="pytest xdist cvxpy playwright"
torch_pin=$(grep -E '^torch==' requirements.txt | head -n 1 | cut -d= -f3)

# A file's line: its name and the hash of its requirements (comments and blank lines left
# out, so editing a comment does not rebuild the environment).
requirement_line() {
    echo "$1 $("$python" -c 'import hashlib, sys
lines = [line.split("#")[0].strip() for line in open(sys.argv[1])]
print(hashlib.sha256("\n".join(line for line in lines if line).encode()).hexdigest())' "$1")"
}
runtime_line=$(requirement_line requirements.txt)
test_line=$(requirement_line requirements-test.txt)
build_line="torch-build $build"
recorded() { [ -f "$record" ] && grep -qxF "$1" "$record"; }

# Whether the PyPI CPU index answers (a few seconds at most; pip itself would retry for minutes).
cpu_index_reachable() {
    "$python" - "$torch_cpu_index/torch/" <<'PY' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
    response.read(1)
PY
}

# ---- 4. Is the existing .venv usable? If not, say why and rebuild it ---------------------
stale_reason() {
    [ -x "$venv/bin/python" ] || { echo "it has no runnable bin/python"; return 0; }
    local have
    have=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
        || { echo "its Python does not run"; return 0; }
    "$venv/bin/python" -c "import sys; sys.exit(sys.version_info[:2] < (3, 11))" \
        || { echo "it has Python $have, older than $min_python"; return 0; }
    if [ -n "${PYTHON:-}" ] && [ "$have" != "${python_version%.*}" ]; then
        echo "it has Python $have, not $python_version (PYTHON=$PYTHON)"; return 0
    fi
    "$venv/bin/python" -m pip --version >/dev/null 2>&1 || { echo "its pip is missing"; return 0; }
    [ -f "$record" ] || { echo "no completed install is recorded (an interrupted or failed setup)"; return 0; }
    recorded "$runtime_line" || { echo "requirements.txt changed since it was installed"; return 0; }
    local had
    had=$(recorded_build)
    # Another build: a fresh venv, so the old build's libraries do not stay behind.
    [ -z "$had" ] || [ "$had" = "$build" ] || { echo "it has torch's $had build, $build was asked for"; return 0; }
    local modules=$runtime_modules
    if grep -q '^requirements-test.txt ' "$record"; then
        recorded "$test_line" || { echo "requirements-test.txt changed since it was installed"; return 0; }
        modules="$modules $test_modules"
    fi
    local missing
    # shellcheck disable=SC2086
    missing=$("$venv/bin/python" -c 'import importlib.util, sys; print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))' $modules)
    [ -z "$missing" ] || { echo "installed packages are missing: $missing"; return 0; }
    return 1
}

needs_install() {
    recorded "$runtime_line" && recorded "$build_line" || return 0
    [ "$test_set" -eq 1 ] && ! recorded "$test_line" && return 0
    return 1
}

if [ "$dry_run" -eq 1 ]; then
    if [ -e "$venv" ] && reason=$(stale_reason); then
        say "would rebuild $venv: $reason"
    elif [ -e "$venv" ] && ! needs_install; then
        say "nothing to do: $venv is complete"
        exit 0
    fi
    if [ "$build" = cpu ]; then
        if cpu_index_reachable; then
            say "would install torch==$torch_pin+cpu from $torch_cpu_index"
        else
            say "would install torch==$torch_pin from pip's configured source: $torch_cpu_index cannot be reached"
        fi
    fi
    say "would install $requirements"
    exit 0
fi

if [ -e "$venv" ] && reason=$(stale_reason); then
    say "rebuilding $venv: $reason"
    rm -rf "$venv"
fi
if [ ! -e "$venv" ]; then
    say "creating $venv with $python ($python_version)"
    "$python" -m venv "$venv"
fi

# ---- 5. Install what is not yet recorded ---------------------------------------------------
if needs_install; then
    keep_test_line=0
    [ "$test_set" -eq 1 ] || ! recorded "$test_line" || keep_test_line=1
    rm -f "$record"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    if [ "$build" = cpu ]; then
        # torch==X in the requirements is satisfied by X+cpu, so the install below keeps it.
        if cpu_index_reachable; then
            say "installing torch $torch_pin, CPU build, from $torch_cpu_index (a few hundred MB)"
            "$venv/bin/python" -m pip install --index-url "$torch_cpu_index" "torch==$torch_pin+cpu" \
                || say "the CPU build did not install from $torch_cpu_index (see above): torch==$torch_pin comes from pip's configured source instead"
        else
            say "$torch_cpu_index cannot be reached: torch==$torch_pin comes from pip's configured source instead (from PyPI that is the CUDA build on Linux)"
        fi
    fi
    if "$venv/bin/python" -m pip show torch >/dev/null 2>&1; then
        say "installing $requirements (a few hundred MB)"
    else
        say "installing $requirements with torch (from PyPI on Linux: the CUDA build with NVIDIA's libraries, about 3 GB)"
    fi
    "$venv/bin/python" -m pip install -r "$requirements"
    modules=$runtime_modules
    [ "$test_set" -eq 1 ] && modules="$modules $test_modules"
    say "checking that $modules import"
    # shellcheck disable=SC2086
    "$venv/bin/python" -c 'import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]' $modules \
        || fail "the packages installed but do not all import (see above); the next run rebuilds $venv"
    { echo "$runtime_line"; echo "$build_line"; } > "$record"
    if [ "$test_set" -eq 1 ] || [ "$keep_test_line" -eq 1 ]; then
        echo "$test_line" >> "$record"
    fi
fi

# ---- 6. Chromium for the browser tests and figure export ---------------------------------
if [ "$test_set" -eq 1 ] && ! command -v chromium >/dev/null 2>&1; then
    # The browser tests drive Debian's Chromium through Playwright (Playwright's own browser
    # download is not used). Without recommended packages: those bring an mDNS daemon,
    # printing and desktop services that a headless test never uses.
    say "installing Debian's chromium package with apt-get, which prints its download size"
    apt_install="apt-get install -y --no-install-recommends chromium"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $apt_install
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive $apt_install
    else
        say "chromium is missing and cannot be installed without root: the browser tests will fail"
    fi
fi
