"""Python packages inside the sandbox: one pinned "site" directory both backends use.

Candidates of the field's discovery problems import numpy and scipy.  The sandbox's packages
are a directory of wheels installed with pip's `--target` for the sandbox interpreter's
Python version and platform (PyPI wheels only, pinned `name==version`): the `process` jail
binds it read-only at /opt/vpo-site and the Docker image copies the same directory there, so
both backends run the very same numpy.  Workers put it on sys.path (they run with `-I -S`).

A problem declares what it imports beyond the standard library (`Problem.requirements`); a
sandbox that does not carry a declared package refuses the problem with one line saying how
to add it (pin it in the run config's `sandbox.requirements`, then `evolve sandbox build-image
--config FILE` or `evolve sandbox build-site --config FILE`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from sandbox.jails import JAIL_SITE_DIR  # noqa: F401  (re-exported: where the site appears)

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")
SPEC = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:==([A-Za-z0-9.+!_-]+))?$")
SCIENTIFIC_STACK = ("numpy==2.4.6", "scipy==1.17.1")
MANIFEST = "vpo-site.json"
SITE_RECIPE = 2  # bump when the install recipe changes: invalidates built sites
GLIBC_MINORS = range(17, 37)  # manylinux_2_17 .. manylinux_2_36 (Debian 12 ships glibc 2.36)


class RequirementError(RuntimeError, ValueError):
    """A problem needs a package the sandbox lacks, or a site could not be built (one line)."""


def canonical(name: str) -> str:
    """PEP 503 name normalisation: `SciPy`, `scipy_` and `scipy` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(specs: Iterable[str]) -> dict[str, str]:
    """{canonical name: version} of `name==version` specs; anything else is an error."""
    out: dict[str, str] = {}
    for spec in specs:
        match = PIN.match(spec.strip())
        if not match:
            raise RequirementError(f"sandbox requirement {spec!r} must be pinned as name==version")
        out[canonical(match.group(1))] = match.group(2)
    return out


def missing(required: Iterable[str], provided: dict[str, str]) -> list[str]:
    """The problem's requirements (`name` or `name==version`) that `provided` does not meet."""
    out = []
    for spec in required:
        match = SPEC.match(spec.strip())
        if not match:
            out.append(spec)
            continue
        have = provided.get(canonical(match.group(1)))
        if have is None or (match.group(2) and match.group(2) != have):
            out.append(spec)
    return out


def refusal(problem_id: str, backend: str, lacking: list[str], provided: dict[str, str]) -> str:
    has = ", ".join(f"{k}=={v}" for k, v in sorted(provided.items())) or "no packages"
    build = "build-image" if backend == "docker" else "build-site"
    return (f"problem {problem_id} requires {', '.join(lacking)}, which the {backend} sandbox does not "
            f"provide (it has {has}): pin it in the run config's sandbox.requirements and run "
            f"`evolve sandbox {build} --config RUN_CONFIG`")


# --------------------------------------------------------------------------- the site


@functools.lru_cache(maxsize=8)
def python_tag(python: str) -> str:
    """`3.11` for an interpreter (what the wheels must be built for)."""
    try:
        out = subprocess.run([python, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RequirementError(f"cannot run the sandbox interpreter {python}: {exc}") from None
    if out.returncode != 0 or not re.fullmatch(r"\d+\.\d+", out.stdout.strip()):
        raise RequirementError(f"cannot read the Python version of {python}: {out.stderr.strip()[-200:]}")
    return out.stdout.strip()


def site_key(pins: dict[str, str], version: str, machine: str | None = None) -> str:
    spec = json.dumps([SITE_RECIPE, sorted(pins.items()), version, machine or platform.machine()])
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def site_base() -> Path:
    """Where sites live on the host.  Jailed workers run as unprivileged uids, so the path must
    be traversable by everyone: root's home is not, so root keeps them under /var/cache."""
    env = os.environ.get("VPO_SANDBOX_SITE_BASE")
    if env:
        return Path(env).expanduser()
    if os.geteuid() == 0:
        return Path("/var/cache/vpo-evolve")
    from sandbox.image import cache_root

    return cache_root() / "sandbox"


def site_path(pins: dict[str, str], version: str) -> Path:
    return site_base() / f"site-py{version}-{site_key(pins, version)}"


def read_manifest(site: Path) -> dict[str, str] | None:
    """{name: version} a built site carries, or None when it is absent or incomplete."""
    try:
        data = json.loads((site / MANIFEST).read_text())
        return {str(k): str(v) for k, v in data["packages"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _platforms(machine: str) -> list[str]:
    return [f"manylinux_2_{m}_{machine}" for m in GLIBC_MINORS] + [f"manylinux2014_{machine}"]


def build_site(specs: Iterable[str], version: str, log: Callable[[str], None] = print,
               force: bool = False, compile_with: str | None = None) -> Path:
    """The site for `specs` and Python `version`, installed from PyPI wheels when absent.

    `compile_with` (an interpreter of that version) writes the bytecode now: workers run with
    -B as unprivileged uids and could never cache it, so without it every candidate would
    compile numpy from source again (about 150 ms more per import)."""
    pins = parse_pins(specs)
    target = site_path(pins, version)
    if not force and read_manifest(target) == pins:
        return target
    machine = platform.machine()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o755)
    work = Path(tempfile.mkdtemp(prefix=".site-", dir=target.parent))
    try:
        log(f"pip install --target {target.name}: {', '.join(f'{k}=={v}' for k, v in pins.items())} "
            f"(Python {version}, {machine} wheels)")
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-compile", "--target", str(work / "site"), "--only-binary=:all:",
               "--python-version", version, "--implementation", "cp", "--abi", f"cp{version.replace('.', '')}"]
        for tag in _platforms(machine):
            cmd += ["--platform", tag]
        done = subprocess.run(cmd + [f"{k}=={v}" for k, v in pins.items()], capture_output=True, text=True)
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-2:])
            raise RequirementError(f"pip could not install the sandbox packages: {tail[-400:]}")
        site = work / "site"
        shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: never run in a sandbox
        if compile_with:
            done = subprocess.run([compile_with, "-I", "-m", "compileall", "-q", "-j", "0", str(site)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise RequirementError(f"compileall of the sandbox packages failed: {done.stdout.strip()[-300:]}")
        (site / MANIFEST).write_text(json.dumps({"packages": pins, "python": version, "machine": machine}))
        for root, dirs, files in os.walk(site):  # readable by every slot uid
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
            for name in files:
                path = os.path.join(root, name)
                os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)
        os.chmod(site, 0o755)
        if target.exists():
            shutil.rmtree(target)
        site.replace(target)  # atomic: a half-built site is never found
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def find_site(specs: Iterable[str], python: str) -> tuple[Path | None, dict[str, str]]:
    """(the built site for `specs` and the interpreter `python`, what it provides); (None, {})
    when it has not been built."""
    pins = parse_pins(specs)
    if not pins:
        return None, {}
    site = site_path(pins, python_tag(python))
    provided = read_manifest(site)
    return (site, provided) if provided == pins else (None, {})
