#!/usr/bin/env bash
# The README's main job: a time-bounded discovery run on a bundled problem, with a live display
# and a summary at the end.  On a fresh machine it installs everything first (virtualenv, apt
# packages, Docker engine, sandbox image, model weights); that output goes to a log file (named
# on screen and in the summary), not to the screen.  Running it again on the same RUN_DIR
# resumes the run.
#
# Usage: scripts/discover.sh [--preset cpu-small|gpu] [--minutes N] [PROBLEM [RUN_DIR]]
#                            [other `evolve run` options, e.g. --iterations N]
#   --preset   configs/PRESET.yaml (default cpu-small: this 2-core CPU, Qwen2.5-Coder-0.5B in
#              process, online VPO; gpu: a vLLM server with a 7B model, see the README)
#   --minutes  the time bound of the search (default: the preset's loop.minutes, 20)
#   PROBLEM    default builtin/count_primes;  RUN_DIR default runs/<problem with / as ->
# Env:   VPO_CONFIG (a config file instead of a preset), VPO_SETUP_LOG (default runs/setup.log)
set -euo pipefail
VPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CALLER_PWD="$PWD"
cd "$VPO_ROOT"

PRESET=cpu-small
POSITIONAL=()
RUN_ARGS=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --preset) PRESET="${2:?--preset needs a name (cpu-small or gpu)}"; shift 2 ;;
    --preset=*) PRESET="${1#*=}"; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --*=*) RUN_ARGS+=("$1"); shift ;;
    --*) RUN_ARGS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) POSITIONAL+=("$1"); shift ;;
  esac
done
[ "${#POSITIONAL[@]}" -le 2 ] || { echo "[discover] error: expected at most PROBLEM and RUN_DIR, got: ${POSITIONAL[*]}" >&2; exit 2; }
PROBLEM="${POSITIONAL[0]:-builtin/count_primes}"
RUN_DIR="${POSITIONAL[1]:-runs/$(echo "${PROBLEM%/}" | tr '/' '\n' | tail -n 2 | paste -sd-)}"
# paths the caller typed are relative to where they typed them (this script works in VPO_ROOT)
if [ "$CALLER_PWD" != "$VPO_ROOT" ]; then
  [ -n "${POSITIONAL[1]:-}" ] && [ "${RUN_DIR#/}" = "$RUN_DIR" ] && RUN_DIR="$CALLER_PWD/$RUN_DIR"
  [ -z "${POSITIONAL[1]:-}" ] && RUN_DIR="$VPO_ROOT/$RUN_DIR"
  [ "${PROBLEM#/}" = "$PROBLEM" ] && [ -e "$CALLER_PWD/$PROBLEM" ] && PROBLEM="$CALLER_PWD/$PROBLEM"
fi
CONFIG="${VPO_CONFIG:-configs/$PRESET.yaml}"
[ -f "$CONFIG" ] || { echo "[discover] error: no preset '$PRESET' ($CONFIG is missing; presets: $(cd configs && ls *.yaml | sed 's/\.yaml$//' | tr '\n' ' '))" >&2; exit 2; }

export VPO_SETUP_LOG="${VPO_SETUP_LOG:-$VPO_ROOT/runs/setup.log}"
mkdir -p "$(dirname "$VPO_SETUP_LOG")"
echo "== $(date -u +%FT%TZ) scripts/discover.sh $PRESET $PROBLEM $RUN_DIR" >>"$VPO_SETUP_LOG"

# step WHAT CMD... : run a set-up step with its output in the log; one line on screen.
step() {
  local what="$1" t0=$SECONDS
  shift
  printf '[discover] %s ... ' "$what" >&2
  if "$@" >>"$VPO_SETUP_LOG" 2>&1; then
    echo "ok ($((SECONDS - t0)) s)" >&2
  else
    echo "failed; the end of $VPO_SETUP_LOG:" >&2
    tail -n 15 "$VPO_SETUP_LOG" >&2
    return 1
  fi
}

source scripts/bootstrap.sh
source scripts/env.sh
echo "[discover] set-up output goes to $VPO_SETUP_LOG" >&2
step "apt packages (docker.io, bubblewrap, debootstrap)" ensure_apt_packages docker.io bubblewrap debootstrap
step "virtualenv .venv (locked packages)" ensure_venv
PY="$VPO_ROOT/.venv/bin/python"
EVOLVE=("$PY" -m evolve.cli)
# Docker is the preferred sandbox; if the engine cannot start here, the run uses the
# bubblewrap `process` backend (sandbox.backend: auto) and says so.
if ! { step "Docker engine" ensure_dockerd && step "sandbox image" ensure_sandbox_image; }; then
  echo "[discover] Docker unavailable: the run uses the process (bubblewrap) sandbox" >&2
  step "the jail's package site (numpy, scipy)" "${EVOLVE[@]}" sandbox build-site
fi

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
step "the mutator of $CONFIG" "${EVOLVE[@]}" model ready --config "$CONFIG"
if [ -f "$RUN_DIR/run.json" ]; then
  if [ "${#RUN_ARGS[@]}" -gt 0 ]; then
    echo "[discover] $RUN_DIR exists: continuing it with ${RUN_ARGS[*]}" >&2
    exec "${EVOLVE[@]}" run "$RUN_DIR" "${RUN_ARGS[@]}"
  fi
  echo "[discover] $RUN_DIR exists: resuming it (its own config and budget)" >&2
  exec "${EVOLVE[@]}" resume "$RUN_DIR"
fi
"${EVOLVE[@]}" seed "$PROBLEM" --run "$RUN_DIR" --config "$CONFIG"
exec "${EVOLVE[@]}" run "$RUN_DIR" ${RUN_ARGS[@]+"${RUN_ARGS[@]}"}
