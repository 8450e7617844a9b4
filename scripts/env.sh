#!/usr/bin/env bash
# Shared set-up for the README's two commands: the project virtualenv and PostgreSQL binaries.
# Idempotent; sourced by scripts/test.sh and scripts/discover.sh.
VPO_ROOT="${VPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
VPO_VENV="${VPO_VENV:-$VPO_ROOT/.venv}"

# ensure_venv : .venv with the project (editable) and its test extras; CPU torch from the pin.
ensure_venv() {
  local stamp="$VPO_VENV/.vpo-installed" want
  want="$(sha256sum "$VPO_ROOT/pyproject.toml" | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  if [ ! -x "$VPO_VENV/bin/python" ]; then
    echo "[env] creating $VPO_VENV" >&2
    python3 -m venv "$VPO_VENV"
  fi
  "$VPO_VENV/bin/pip" install -q --upgrade pip >/dev/null
  echo "[env] installing vpo-evolve and its dependencies" >&2
  "$VPO_VENV/bin/pip" install -q -e "$VPO_ROOT[test]"
  echo "$want" >"$stamp"
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
