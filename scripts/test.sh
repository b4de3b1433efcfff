#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the build and tests use: SQLite's headers (GRDB links the system SQLite) and git
# (run provenance is read from git).
missing=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing+=(libsqlite3-dev)
command -v git >/dev/null 2>&1 || missing+=(git)
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "missing packages: ${missing[*]} (install them with apt-get as root)" >&2
        exit 1
    fi
fi

# The Kubeflow compiler's output is checked with the real kfp package, from PyPI into a venv.
KFP_VERSION=2.17.3
if ! .venv-kfp/bin/python -c "import kfp, yaml, sys; sys.exit(kfp.__version__ != '$KFP_VERSION')" >/dev/null 2>&1; then
    rm -rf .venv-kfp
    python3 -m venv .venv-kfp
    .venv-kfp/bin/pip install -q --disable-pip-version-check "kfp==$KFP_VERSION" pyyaml
fi

# The Open Inference Protocol is checked with its reference HTTP client (tritonclient).
OIP_VERSION=2.73.0
if ! .venv-oip/bin/python -c "import importlib.metadata as m, numpy, tritonclient.http, sys; sys.exit(m.version('tritonclient') != '$OIP_VERSION')" >/dev/null 2>&1; then
    rm -rf .venv-oip
    python3 -m venv .venv-oip
    .venv-oip/bin/pip install -q --disable-pip-version-check "tritonclient[http]==$OIP_VERSION" numpy
fi

# The MLflow API is checked with the real mlflow client (the skinny package: the client without
# the UI server).
MLFLOW_VERSION=3.17.2
if ! .venv-mlflow/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('mlflow-skinny') != '$MLFLOW_VERSION')" >/dev/null 2>&1; then
    rm -rf .venv-mlflow
    python3 -m venv .venv-mlflow
    .venv-mlflow/bin/pip install -q --disable-pip-version-check "mlflow-skinny==$MLFLOW_VERSION"
fi

swift build --build-tests
swift test --skip-build
