#!/usr/bin/env bash
# Shared set-up for the README's two commands: the project virtualenv and PostgreSQL binaries.
# Idempotent; sourced by scripts/test.sh and scripts/discover.sh.
VPO_ROOT="${VPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
VPO_VENV="${VPO_VENV:-$VPO_ROOT/.venv}"

# ensure_venv : .venv holding exactly the packages requirements.lock pins (every one with its
# sha256; torch is the CPU wheel 2.13.0+cpu), plus the project itself, editable.  A venv that
# already matches the lock is left alone.  Refresh the lock with `bash scripts/lock.sh`.
ensure_venv() {
  local lock="$VPO_ROOT/requirements.lock" py="$VPO_VENV/bin/python"
  local check=("$VPO_ROOT/scripts/lockcheck.py" "$lock" --project vpo-evolve --root "$VPO_ROOT")
  if [ -x "$py" ] && "$py" "${check[@]}" 2>/dev/null; then return 0; fi
  if [ ! -x "$py" ]; then
    echo "[env] creating $VPO_VENV" >&2
    python3 -m venv "$VPO_VENV"
  fi
  echo "[env] installing the locked dependencies ($lock)" >&2
  "$py" -m pip install -q --require-hashes -r "$lock"
  "$py" -m pip install -q --no-deps --no-build-isolation -e "$VPO_ROOT"
  "$py" "${check[@]}"
  date -u +%FT%TZ >"$VPO_VENV/.vpo-installed"
}

# ensure_postgres_binaries : initdb/pg_ctl for the PostgreSQL tests (they start their own server).
ensure_postgres_binaries() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then return 0; fi
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$dir" ]; then
    ensure_apt_packages postgresql
    dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  fi
  export PATH="$dir:$PATH"
}
