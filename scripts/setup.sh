#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv.
#   scripts/setup.sh          runtime packages (the app)
#   scripts/setup.sh --test   runtime + test packages, and Chromium for the browser test
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi

requirements=requirements.txt
[ "${1:-}" = "--test" ] && requirements=requirements-test.txt
# Skip pip when the installed set already matches (keeps "make app" quick on reruns).
stamp=.venv/.installed-$(basename "$requirements" .txt)
if [ ! -f "$stamp" ] || [ "$requirements" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r "$requirements"
    touch "$stamp"
fi

if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null 2>&1; then
    # The browser test drives Debian's Chromium through Playwright (Playwright's own
    # browser download is not used).
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
    else
        echo "chromium is missing and cannot be installed without root: the browser test will fail" >&2
    fi
fi
