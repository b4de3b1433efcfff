#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the build and tests use: SQLite's headers (GRDB links the system SQLite), git
# (run provenance is read from git), and Chromium with its driver (the browser suite of the UI).
missing=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing+=(libsqlite3-dev)
command -v git >/dev/null 2>&1 || missing+=(git)
dpkg -s chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s chromium-driver >/dev/null 2>&1 || missing+=(chromium-driver)
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "missing packages: ${missing[*]} (install them with apt-get as root)" >&2
        exit 1
    fi
fi

# Python test venvs: pinned, kept in a cache folder outside the clone (keyed by the pins), so CI
# and local runs on the same machine build each one once; `.venv-NAME` in the clone links to it.
# A venv counts only once its install finished (the .complete marker), so a killed install is
# redone, not half-used.
cache="${FLYWHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flywheel}/venvs"
mkdir -p "$cache"
venv() {  # venv NAME PIN...
    local name=$1; shift
    local key dir
    key=$(printf '%s\n' "$@" | sha256sum | cut -c1-16)
    dir="$cache/$name-$key"
    (
        flock 9
        if [ ! -f "$dir/.complete" ]; then
            echo "making the $name venv ($*) in $dir" >&2
            rm -rf "$dir"
            python3 -m venv "$dir"
            "$dir/bin/pip" install -q --disable-pip-version-check "$@"
            touch "$dir/.complete"
        fi
    ) 9>"$cache/.lock-$name"
    if [ -e ".venv-$name" ] && [ ! -L ".venv-$name" ]; then rm -rf ".venv-$name"; fi
    ln -sfn "$dir" ".venv-$name"
}

# The Kubeflow compiler's output is checked with the real kfp package.
venv kfp "kfp==2.17.3" "pyyaml==6.0.3"
# The Open Inference Protocol is checked with its reference HTTP client (tritonclient).
venv oip "tritonclient[http]==2.73.0" "numpy==2.3.5"
# The MLflow API is checked with the real mlflow clients: the skinny package (the client alone) and
# the full one with the flavors it needs (scikit-learn, pandas), whose `mlflow server` the drop-in
# tests compare answers with.
venv mlflow "mlflow-skinny==3.17.2"
venv mlflow-full "mlflow==3.17.2" "scikit-learn==1.8.0" "pandas==2.3.3"
# The web UI is driven in headless Chromium by Selenium (the driver is Debian's chromedriver).
venv ui "selenium==4.48.0"

swift build --build-tests
swift test --skip-build
