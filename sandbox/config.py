"""Sandbox settings: the one place their defaults live."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sandbox.requirements import SCIENTIFIC_STACK, RequirementError, parse_pins


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProcessOptions(_Strict):
    jail: Literal["auto", "bwrap", "unshare", "none"] = Field(
        default="auto",
        description="auto = bwrap, else unshare; none = rlimits only (needs unsafe_rlimits_only)",
    )
    unsafe_rlimits_only: bool = Field(
        default=False,
        description="UNSAFE: allow candidates to run with rlimits only (no file-system or network"
        " isolation) when no jail is usable, or with jail: none",
    )
    python: str | None = Field(default=None, description="interpreter for workers; default: system python3")
    uid_base: int = Field(default=60000, ge=1000, description="slot i runs candidates as uid_base + i")
    nproc: int = Field(default=64, ge=0, description="RLIMIT_NPROC for candidates (0 = unset)")


class DockerTLS(_Strict):
    """Mutual TLS to a remote engine (`dockerd --tlsverify`): the engine's certificate must chain
    to `ca_cert`; this client presents `client_cert`/`client_key`."""

    ca_cert: str = Field(description="PEM file: the CA the engine's certificate is checked against")
    client_cert: str = Field(description="PEM file: this client's certificate")
    client_key: str = Field(description="PEM file: this client's key")


class DockerOptions(_Strict):
    host: str | None = Field(
        default=None,
        description="Docker engine for the sandboxes: unix:///PATH, tcp://HOST:2376 (with tls) or"
        " ssh://USER@HOST; null = the environment's DOCKER_HOST / DOCKER_TLS_VERIFY /"
        " DOCKER_CERT_PATH, else the local socket",
    )
    tls: DockerTLS | None = Field(default=None, description="mutual TLS for a tcp:// host")
    image: str = Field(
        default="vpo-evolve-sandbox:auto",
        description="':auto' = a tag per runner revision and package set (several checkouts share one engine)",
    )
    memory_mb: int = Field(default=1024, ge=64, description="container memory = swap limit")
    cpus: float = Field(default=1.0, gt=0)
    pids_limit: int = Field(default=64, ge=8)
    tmpfs_mb: int = Field(default=64, ge=8)
    user: str = "65534:65534"

    @model_validator(mode="after")
    def _tls_needs_tcp(self) -> "DockerOptions":
        if self.tls is not None and not (self.host or "").startswith("tcp://"):
            raise ValueError("tls: needs a tcp://HOST:PORT host")
        return self


class SandboxConfig(_Strict):
    backend: Literal["auto", "process", "docker"] = Field(
        default="auto", description="auto = docker when its engine and image are ready, else process"
    )
    slots: int = Field(default=2, ge=1, description="candidates evaluated concurrently")
    max_candidates_per_slot: int = Field(default=200, ge=1, description="then the slot is replaced")
    output_limit_kb: int = Field(default=1024, ge=1, description="cap on a candidate's output")
    grace_s: float = Field(default=10.0, gt=0, description="host-side slack past the wall limit")
    start_timeout_s: float = Field(default=60.0, gt=0)
    requirements: list[str] = Field(
        default_factory=lambda: list(SCIENTIFIC_STACK),
        description="PyPI packages (name==version) candidates can import; both backends carry them",
    )
    process: ProcessOptions = Field(default_factory=ProcessOptions)
    docker: DockerOptions = Field(default_factory=DockerOptions)

    @field_validator("requirements")
    @classmethod
    def _pinned(cls, value: list[str]) -> list[str]:
        try:
            parse_pins(value)
        except RequirementError as exc:
            raise ValueError(str(exc)) from None
        return value
