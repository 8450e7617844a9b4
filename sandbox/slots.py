"""A slot is one running supervisor (see runner.py) that evaluates candidates one at a time.

The pool talks to every backend through this interface; backends differ only in how the
supervisor is started and reached: a host subprocess (`process`) or a container (`docker`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from abc import ABC, abstractmethod

from sandbox import jails, wire
from sandbox.config import SandboxConfig
from sandbox.isolation import IsolationUnavailable, resolve_jail
from sandbox.requirements import find_site

SANDBOX_DIR = os.path.dirname(os.path.abspath(__file__))
RUNNER_PATH = os.path.join(SANDBOX_DIR, "runner.py")
# The stdlib-only files that make up the in-sandbox runner: copy all of them into the image
# (same directory), and hash all of them to detect a stale image.
RUNNER_FILES = ("runner.py", "worker.py", "wire.py", "judge.py", "jails.py")


class SlotDied(Exception):
    """The supervisor is gone (killed, crashed, or its stream broke)."""


class Slot(ABC):
    backend: str = ""

    def __init__(self) -> None:
        self.served = 0
        self.reader: wire.FrameReader | None = None

    @classmethod
    @abstractmethod
    def from_config(cls, config: SandboxConfig, index: int) -> "Slot": ...

    @staticmethod
    @abstractmethod
    def available(config: SandboxConfig) -> tuple[bool, str]:
        """(usable here?, why not)."""

    @staticmethod
    @abstractmethod
    def provides(config: SandboxConfig) -> dict[str, str]:
        """{package: version} that candidates can import (the built package site)."""

    @staticmethod
    @abstractmethod
    def isolation(config: SandboxConfig) -> str:
        """What confines candidates in this backend's slots (the jail, or the container)."""

    @abstractmethod
    def _launch(self) -> None:
        """Start the supervisor and set self.reader."""

    @abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abstractmethod
    def kill(self) -> None: ...

    @property
    @abstractmethod
    def alive(self) -> bool: ...

    def start(self, timeout: float) -> None:
        self._launch()
        frame = self.recv(timeout)
        if frame is None or frame.get("type") != "ready":
            self.kill()
            raise SlotDied(f"{self.backend} supervisor did not become ready within {timeout:g}s: {frame}")
        if frame.get("protocol") != wire.PROTOCOL_VERSION:
            self.kill()
            raise SlotDied(f"supervisor speaks protocol {frame.get('protocol')}, expected {wire.PROTOCOL_VERSION}"
                           " (rebuild the sandbox image: evolve sandbox build-image)")

    def send(self, frame: dict) -> None:
        try:
            self._write(wire.encode_frame(frame))
        except OSError as exc:
            raise SlotDied(f"cannot write to the supervisor: {exc}") from None

    def recv(self, timeout: float) -> dict | None:
        assert self.reader is not None, "slot not started"
        try:
            return self.reader.read(timeout)
        except (EOFError, ValueError, UnicodeDecodeError, OSError) as exc:
            raise SlotDied(f"{self.backend} supervisor stream ended: {exc}") from None


class ProcessSlot(Slot):
    """Supervisor as a host subprocess; it jails each worker (bwrap / unshare / rlimits)."""

    backend = "process"

    def __init__(self, python: str | None, jail: str, uid: int | None, nproc: int, site: str | None = None):
        super().__init__()
        self.python, self.jail, self.uid, self.nproc, self.site = python, jail, uid, nproc, site
        self.proc: subprocess.Popen | None = None

    @classmethod
    def from_config(cls, config: SandboxConfig, index: int) -> "ProcessSlot":
        opts = config.process
        uid = opts.uid_base + index if os.geteuid() == 0 else None
        site, _ = find_site(config.requirements, opts.python or jails.default_python())
        return cls(opts.python, resolve_jail(opts), uid, opts.nproc, str(site) if site else None)

    @staticmethod
    def provides(config: SandboxConfig) -> dict[str, str]:
        return find_site(config.requirements, config.process.python or jails.default_python())[1]

    @staticmethod
    def available(config: SandboxConfig) -> tuple[bool, str]:
        try:
            resolve_jail(config.process)
        except IsolationUnavailable as exc:
            return False, str(exc)
        return True, ""

    @staticmethod
    def isolation(config: SandboxConfig) -> str:
        return resolve_jail(config.process)

    def _launch(self) -> None:
        cmd = [sys.executable, "-I", RUNNER_PATH, "supervise", "--jail", self.jail,
               "--nproc", str(self.nproc)]
        if self.uid is not None:
            cmd += ["--uid", str(self.uid)]
        if self.python:
            cmd += ["--python", self.python]
        if self.site:
            cmd += ["--site", self.site]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True, close_fds=True)
        self.reader = wire.FrameReader(self.proc.stdout.fileno())

    def _write(self, data: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None:
            jails.kill_tree(self.proc, timeout=10)
