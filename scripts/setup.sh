#!/usr/bin/env bash
# Create (or repair, or update) the project's virtual environment in .venv.
#
#   scripts/setup.sh               runtime packages (the app): requirements.txt
#   scripts/setup.sh --test        runtime + test packages, and Chromium for the browser test
#   scripts/setup.sh --cpu [...]   torch from the PyTorch CPU wheel index instead of PyPI
#
# Environment: PYTHON (default python3) is the interpreter the venv is built from, 3.11 or
# newer; TORCH_CPU_INDEX (default https://download.pytorch.org/whl/cpu) is the index --cpu uses.
#
# A .venv left by a failed or older setup is rebuilt from scratch: one whose Python does not
# run or has another version than $PYTHON, whose pip is missing, whose record of a completed
# install (.venv/.setup-done) is missing or was made from other requirements, or which
# lacks one of the key packages. The record is written only after the install and an import
# of the key packages succeeded, so an interrupted or failed run is redone next time.
set -euo pipefail
cd "$(dirname "$0")/.."

test_set=0
cpu=0
for arg in "$@"; do
    case "$arg" in
        --test) test_set=1 ;;
        --cpu) cpu=1 ;;
        -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "scripts/setup.sh: unknown option $arg (use --test, --cpu, --help)" >&2; exit 2 ;;
    esac
done

if [ "$cpu" -eq 1 ] && [ "$(uname -s)" = Darwin ]; then
    echo "scripts/setup.sh: --cpu ignored: torch's macOS wheels on PyPI are CPU-only already" >&2
    cpu=0
fi

min_python=3.11
python=${PYTHON:-python3}
torch_cpu_index=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
venv=.venv
record=$venv/.setup-done

fail() {
    echo "scripts/setup.sh: $*" >&2
    exit 1
}

# ---- 1. The interpreter: present, new enough, able to make a venv with pip -------------
command -v "$python" >/dev/null 2>&1 || fail "no Python interpreter '$python' found; install Python >= $min_python and/or set PYTHON=/path/to/python3.11"
python_version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])') \
    || fail "'$python' does not run"
"$python" -c "import sys; sys.exit(sys.version_info[:2] < (3, 11))" \
    || fail "Python >= $min_python is needed (numpy 2.4.6, scipy 1.17.1, scikit-image 0.26.0 and streamlit 1.67.0 require it), but $python is $python_version. Install a newer Python and rerun with PYTHON=/path/to/python3.11 (or newer)."
"$python" -c "import venv, ensurepip" 2>/dev/null \
    || fail "$python $python_version cannot create virtual environments with pip (on Debian/Ubuntu: apt-get install python3-venv)"

# ---- 2. What a completed setup records: one line per requirement file installed ----------
requirements=requirements.txt
[ "$test_set" -eq 1 ] && requirements=requirements-test.txt
runtime_modules="torch numpy scipy pywt skimage PIL safetensors tqdm streamlit plotly"
test_modules="pytest cvxpy playwright"

# A file's line: its name and the hash of its requirements (comments and blank lines left
# out, so editing a comment does not rebuild the environment).
requirement_line() {
    echo "$1 $("$python" -c 'import hashlib, sys
lines = [line.split("#")[0].strip() for line in open(sys.argv[1])]
print(hashlib.sha256("\n".join(line for line in lines if line).encode()).hexdigest())' "$1")"
}
runtime_line=$(requirement_line requirements.txt)
test_line=$(requirement_line requirements-test.txt)
recorded() { [ -f "$record" ] && grep -qxF "$1" "$record"; }

# ---- 3. Is the existing .venv usable? If not, say why and rebuild it ---------------------
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

if [ -e "$venv" ] && reason=$(stale_reason); then
    echo "scripts/setup.sh: rebuilding $venv: $reason" >&2
    rm -rf "$venv"
fi
if [ ! -e "$venv" ]; then
    echo "scripts/setup.sh: creating $venv with $python ($python_version)" >&2
    "$python" -m venv "$venv"
fi

# ---- 4. Install what is not yet recorded ---------------------------------------------------
torch_pin=$(grep -E '^torch==' requirements.txt | head -n 1 | cut -d= -f3)
cpu_torch_installed() {
    "$venv/bin/python" -m pip show torch 2>/dev/null | grep -qE '^Version: .*\+cpu$'
}
needs_install=0
recorded "$runtime_line" || needs_install=1
[ "$test_set" -eq 1 ] && ! recorded "$test_line" && needs_install=1
[ "$cpu" -eq 1 ] && ! cpu_torch_installed && needs_install=1

if [ "$needs_install" -eq 1 ]; then
    keep_test_line=0
    [ "$test_set" -eq 1 ] || ! recorded "$test_line" || keep_test_line=1
    rm -f "$record"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    if [ "$cpu" -eq 1 ]; then
        # The CPU-only build; torch==X in the requirements is satisfied by X+cpu, so the
        # install below keeps it.
        echo "scripts/setup.sh: installing torch $torch_pin+cpu from $torch_cpu_index" >&2
        "$venv/bin/python" -m pip install --quiet --index-url "$torch_cpu_index" "torch==$torch_pin+cpu"
    fi
    echo "scripts/setup.sh: installing $requirements into $venv" >&2
    "$venv/bin/python" -m pip install --quiet -r "$requirements"
    modules=$runtime_modules
    [ "$test_set" -eq 1 ] && modules="$modules $test_modules"
    echo "scripts/setup.sh: checking that $modules import" >&2
    # shellcheck disable=SC2086
    "$venv/bin/python" -c 'import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]' $modules \
        || fail "the packages installed but do not all import (see above); the next run rebuilds $venv"
    echo "$runtime_line" > "$record"
    if [ "$test_set" -eq 1 ] || [ "$keep_test_line" -eq 1 ]; then
        echo "$test_line" >> "$record"
    fi
fi

# ---- 5. Chromium for the browser test -----------------------------------------------------
if [ "$test_set" -eq 1 ] && ! command -v chromium >/dev/null 2>&1; then
    # The browser test drives Debian's Chromium through Playwright (Playwright's own browser
    # download is not used). Without recommended packages: those bring an mDNS daemon,
    # printing and desktop services that a headless test never uses.
    apt_install="apt-get install -y -qq --no-install-recommends chromium"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $apt_install
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive $apt_install
    else
        echo "chromium is missing and cannot be installed without root: the browser test will fail" >&2
    fi
fi
