"""Sandbox settings: the one place their defaults live."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


class DockerOptions(_Strict):
    image: str = Field(
        default="vpo-evolve-sandbox:auto",
        description="':auto' = a tag per runner revision and package set (several checkouts share one engine)",
    )
    memory_mb: int = Field(default=1024, ge=64, description="container memory = swap limit")
    cpus: float = Field(default=1.0, gt=0)
    pids_limit: int = Field(default=64, ge=8)
    tmpfs_mb: int = Field(default=64, ge=8)
    user: str = "65534:65534"


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
