#!/usr/bin/env bash
# Rebuilds assets/models/stress-lr.onnx, its metrics, the model card's numbers and the
# test vectors from the Stress-Predict data set:
#   assets/models/train/rebuild.sh PATH/TO/stress_predict_e4
# Makes a virtual environment with the pinned requirements (in $VENV, default
# /tmp/isochord-train-venv) and builds the isochord binary whose feature code it uses.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 PATH/TO/stress_predict_e4" >&2; exit 2; }
venv="${VENV:-/tmp/isochord-train-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
exec "$venv/bin/python" "$here/train.py" "$@"
