"""Registry of sandbox backends: name -> Slot class (imported lazily: docker's SDK is optional)."""

from __future__ import annotations

import importlib

from sandbox.config import SandboxConfig
from sandbox.isolation import SandboxUnavailable
from sandbox.slots import Slot

BACKENDS: dict[str, str] = {
    "docker": "sandbox.docker_slot:DockerSlot",
    "process": "sandbox.slots:ProcessSlot",
}
AUTO_ORDER = ("docker", "process")


def slot_class(name: str) -> type[Slot]:
    if name not in BACKENDS:
        raise ValueError(f"unknown sandbox backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    module, _, attr = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def resolve_backend(config: SandboxConfig) -> str:
    """The configured backend, or for `auto` the best one that is usable here; raises
    SandboxUnavailable (one line: each backend's reason) when none is."""
    if config.backend != "auto":
        ok, why = slot_class(config.backend).available(config)
        if not ok:
            raise SandboxUnavailable(f"sandbox backend {config.backend!r} is not usable: {why}")
        return config.backend
    reasons = []
    for name in AUTO_ORDER:
        try:
            ok, why = slot_class(name).available(config)
        except ImportError as exc:
            ok, why = False, f"cannot import it ({exc})"
        if ok:
            return name
        reasons.append(f"{name}: {why}")
    raise SandboxUnavailable("no sandbox backend is usable on this machine: " + "; ".join(reasons))
