"""Opening a sandbox of a given backend in tests: docker is required in CI, optional elsewhere."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from sandbox.api import Sandbox
from sandbox.backends import slot_class
from sandbox.config import ProcessOptions, SandboxConfig

BACKENDS = ["process", "docker"]
# Slot uids of sandboxes opened here: apart from other suites' (default 60000+) so that the
# stray-process checks see only our own candidates.
TEST_UID_BASE = 61000
SANDBOX_UIDS = range(TEST_UID_BASE, TEST_UID_BASE + 100)


def open_sandbox(backend: str, **options) -> Sandbox:
    options.setdefault("process", ProcessOptions(uid_base=TEST_UID_BASE))
    config = SandboxConfig(backend=backend, **{"slots": 1, **options})
    try:
        ok, why = slot_class(backend).available(config)
    except ImportError as exc:
        ok, why = False, f"backend not importable: {exc}"
    if not ok:
        if os.environ.get("VPO_REQUIRE_DOCKER") == "1" or backend != "docker":
            pytest.fail(f"{backend} sandbox unavailable: {why}")
        pytest.skip(f"{backend} sandbox unavailable: {why}")
    return Sandbox(config)


def sandbox_processes(wait_s: float = 5.0) -> list[str]:
    """Processes left on the host by sandboxed candidates, after giving killed ones `wait_s`."""
    deadline = time.monotonic() + wait_s
    while True:
        found = _scan()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _scan() -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, StopIteration, ValueError):
            continue
        in_container = uid == 65534 and "worker.py --memory-mb" in cmd  # docker workers
        if uid in SANDBOX_UIDS or in_container:
            found.append(f"{pid} uid={uid} {cmd[:120]}")
    return found


def sandbox_containers(owner: str | None = None) -> list[str]:
    """Sandbox containers of one owner, by default this test process (other engineers' and CI's
    runs may use the same engine at the same time: theirs are not ours to judge)."""
    from sandbox.docker_slot import LABEL, LABEL_OWNER, current_owner

    flt = ["--filter", f"label={LABEL}=1", "--filter", f"label={LABEL_OWNER}={owner or current_owner()}"]
    return subprocess.run(["docker", "ps", "-aq", *flt], capture_output=True, text=True).stdout.split()
