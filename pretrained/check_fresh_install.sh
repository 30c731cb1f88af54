#!/usr/bin/env bash
# Acceptance check of issue 6, by hand (needs the package registry; about 3 minutes):
# a fresh venv, a non-editable install of the wheel (dependencies from the registry), then
# every entry loaded with sockets refused, from a folder outside the checkout.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf /tmp/fv /tmp/fvw /tmp/fvrun && mkdir -p /tmp/fvrun
python3 -m venv /tmp/fv
/tmp/fv/bin/pip install -q --upgrade pip "setuptools<82" wheel
cd "$ROOT" && /tmp/fv/bin/pip wheel -q --no-deps -w /tmp/fvw .
/tmp/fv/bin/pip install -q "$(ls /tmp/fvw/zoo-*.whl)[text]"
cd /tmp/fvrun
cat > sitecustomize.py <<'PY'
import socket
def _refuse(*a, **k):
    raise OSError("network disabled")
socket.socket.connect = _refuse
socket.create_connection = _refuse
PY
PYTHONPATH=/tmp/fvrun TF_CPP_MIN_LOG_LEVEL=3 /tmp/fv/bin/python - <<'PY'
import numpy as np, zoo, socket
from zoo import pretrained
print("zoo from", zoo.__file__)
try:
    socket.create_connection(("pypi.org", 443)); print("network reachable!")
except OSError as e:
    print("network:", e)
for key in zoo.list_pretrained():
    name, tag = key.split(".", 1)
    card = pretrained.card(key)
    model = zoo.get(name, weights=tag)
    err = float(np.abs(pretrained.predict_examples(model, card) - np.array(card["examples"]["outputs"])).max())
    print(f"{key:42s} loaded from {card['directory']}; max |output - card| = {err:.1e}")
PY
