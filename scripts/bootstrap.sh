#!/usr/bin/env bash
# Bring a fresh machine (Debian 12, root, only PyPI + Debian apt reachable) to the state the
# test suite and the docker sandbox need.  Every function is idempotent: on a ready machine the
# whole script takes well under a second.
#
# Usage:  scripts/bootstrap.sh [STEP ...]        (default: docker)
#         source scripts/bootstrap.sh            (defines the functions only)
# Steps:  apt        ensure_apt_packages docker.io bubblewrap debootstrap
#         dockerd    ensure_dockerd      (start the engine in the background if none answers)
#         image      ensure_sandbox_image (build/refresh the sandbox image; no registry used)
#         docker     all three above
# Env:    VPO_PYTHON (default $VPO_VENV/bin/python, VPO_VENV default <repo>/.venv; else python3),
#         VPO_DOCKERD_WAIT (seconds, default 60), VPO_DOCKERD_LOG (default /var/log/dockerd.log),
#         VPO_SANDBOX_IMAGE (default: the tag in sandbox/config.py, `:auto` = per runner revision).
VPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VPO_APT_UPDATED="${VPO_APT_UPDATED:-0}"

_log() { echo "[bootstrap] $*" >&2; }
_die() { echo "[bootstrap] error: $*" >&2; return 1; }  # callers: `|| { _die ...; return 1; }`

_sudo() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    _die "need root (or sudo) for: $*"; fi
}

# ensure_apt_packages PKG... : install the missing ones; `apt-get update` at most once per run.
ensure_apt_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  command -v apt-get >/dev/null || { _die "apt-get not found; install by hand: ${missing[*]}"; return 1; }
  if [ "$VPO_APT_UPDATED" != 1 ]; then
    _log "apt-get update"
    _sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq || { _die "apt-get update failed"; return 1; }
    VPO_APT_UPDATED=1
  fi
  _log "apt-get install ${missing[*]}"
  _sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || { _die "apt-get install ${missing[*]} failed"; return 1; }
}

_docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

# dockerd's own pid file (no procps needed: pgrep is not on every minimal image)
_dockerd_running() {
  local pid
  pid="$(cat /var/run/docker.pid 2>/dev/null)" && [ -n "$pid" ] && [ -d "/proc/$pid" ] \
    && grep -q dockerd "/proc/$pid/comm" 2>/dev/null
}

# ensure_dockerd : a running engine, either the one already up or one started here.
ensure_dockerd() {
  command -v docker >/dev/null || { _die "docker client not found (ensure_apt_packages docker.io)"; return 1; }
  _docker_answers && return 0
  command -v dockerd >/dev/null || { _die "no Docker engine answers and dockerd is not installed"; return 1; }
  local log="${VPO_DOCKERD_LOG:-/var/log/dockerd.log}" wait_s="${VPO_DOCKERD_WAIT:-60}" i
  if ! _dockerd_running; then
    _sudo rm -f /var/run/docker.sock /var/run/docker.pid   # stale, from a crashed engine
    _log "starting dockerd in the background (log: $log)"
    # iptables is not needed: sandbox containers run with network_mode=none.
    _sudo sh -c "nohup dockerd --iptables=false >>'$log' 2>&1 </dev/null &"
  fi
  for ((i = 0; i < wait_s * 2; i++)); do
    _docker_answers && { _log "docker engine ready"; return 0; }
    sleep 0.5
  done
  tail -n 20 "$log" >&2 2>/dev/null || true
  _die "Docker engine did not answer within ${wait_s}s (see $log)"
  return 1
}

_python() {
  if [ -n "${VPO_PYTHON:-}" ]; then echo "$VPO_PYTHON"
  elif [ -x "${VPO_VENV:-$VPO_ROOT/.venv}/bin/python" ]; then echo "${VPO_VENV:-$VPO_ROOT/.venv}/bin/python"
  else echo python3; fi
}

# ensure_sandbox_image : build the image unless one with the current runner's hash exists.
ensure_sandbox_image() {
  local args=(build-image)
  [ -n "${VPO_SANDBOX_IMAGE:-}" ] && args+=(--tag "$VPO_SANDBOX_IMAGE")
  (cd "$VPO_ROOT" && PYTHONPATH="$VPO_ROOT${PYTHONPATH:+:$PYTHONPATH}" "$(_python)" -c 'import sys; from sandbox.cli import sandbox_group; sys.exit(sandbox_group(prog_name="evolve sandbox"))' "${args[@]}")
}

bootstrap_docker() {
  ensure_apt_packages docker.io bubblewrap debootstrap
  ensure_dockerd
  ensure_sandbox_image
}

_bootstrap_main() {
  local step
  [ "$#" = 0 ] && set -- docker
  for step in "$@"; do
    case "$step" in
      apt) ensure_apt_packages docker.io bubblewrap debootstrap ;;
      dockerd) ensure_dockerd ;;
      image) ensure_sandbox_image ;;
      docker) bootstrap_docker ;;
      *) _die "unknown step '$step' (apt | dockerd | image | docker)"; return 2 ;;
    esac
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  _bootstrap_main "$@"
fi
