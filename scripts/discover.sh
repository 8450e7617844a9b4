#!/usr/bin/env bash
# The README's main job: a real discovery run on a bundled problem with the offline
# Qwen2.5-Coder model as mutator, on the best sandbox available.  On a fresh machine it installs
# everything first (virtualenv, apt packages, Docker engine, sandbox image, model weights).
#
# Usage: scripts/discover.sh [PROBLEM] [RUN_DIR] [extra `evolve run` options...]
# Env:   VPO_MODEL (default qwen2.5-coder-0.5b), VPO_CONFIG (default configs/discover.yaml)
set -euo pipefail
VPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$VPO_ROOT"
source scripts/bootstrap.sh
source scripts/env.sh

PROBLEM="${1:-builtin/weighted_intervals}"
RUN_DIR="${2:-runs/$(echo "$PROBLEM" | tr '/' '-')}"
shift $(( $# > 2 ? 2 : $# ))
MODEL="${VPO_MODEL:-qwen2.5-coder-0.5b}"
CONFIG="${VPO_CONFIG:-configs/discover.yaml}"

ensure_apt_packages docker.io bubblewrap debootstrap
ensure_venv
# Docker is the preferred sandbox; if the engine cannot start here, the run uses the
# bubblewrap `process` backend (sandbox.backend: auto) and says so.
if ensure_dockerd && ensure_sandbox_image; then :; else
  echo "[discover] Docker unavailable: falling back to the process (bubblewrap) sandbox" >&2
  "$VPO_ROOT/.venv/bin/evolve" sandbox build-site   # numpy and scipy for the jail
fi

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
EVOLVE="$VPO_ROOT/.venv/bin/evolve"
"$EVOLVE" model prepare "$MODEL"
if [ -f "$RUN_DIR/run.json" ]; then
  echo "[discover] $RUN_DIR exists: resuming it" >&2
  exec "$EVOLVE" resume "$RUN_DIR" "$@"
fi
"$EVOLVE" seed "$PROBLEM" --run "$RUN_DIR" --config "$CONFIG"
exec "$EVOLVE" run "$RUN_DIR" "$@"
