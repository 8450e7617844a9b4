"""Building the sandbox image without any container registry.

The base is a Debian root made by `debootstrap --variant=minbase` from the mirror apt already
uses on this machine, stripped of docs and caches, then `docker import`ed; sandbox/Dockerfile
adds the runner and the package site (numpy, scipy: PyPI wheels for the image's Python, the same
directory the process jail mounts; see sandbox/requirements.py) on top.  The rootfs tarball is
cached (~/.cache/vpo-evolve) so a rebuild after a runner change takes seconds.  The image carries
a hash of the runner files and the pinned packages as labels, so an image built from other
runner code or without a package the config asks for is detected as stale and rebuilt.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Literal

from problems.imports import imported_modules
from sandbox.requirements import SCIENTIFIC_STACK, build_site, parse_pins

SANDBOX_DIR = Path(__file__).resolve().parent
RUNNER_ENTRY = ("runner.py", "worker.py")  # /opt/vpo holds these and the siblings they import
LABEL_SANDBOX = "org.vpo-evolve.sandbox"
LABEL_RUNNER_SHA = "org.vpo-evolve.runner-sha256"
LABEL_REQUIREMENTS = "org.vpo-evolve.requirements"  # JSON {package: version} of /opt/vpo-site
DEBOOTSTRAP = "debootstrap"  # the --base value that means "no registry"
SUITE = "bookworm"
SUITE_PYTHON = {"bookworm": "3.11", "trixie": "3.13"}  # the python3 each Debian suite ships
ROOTFS_PACKAGES = ("python3",)  # python3-minimal lacks json/ctypes/resource (libpython3.11-stdlib)
ROOTFS_RECIPE = 1  # bump when the debootstrap/strip recipe changes: invalidates cached tarballs
BASE_REPO = "vpo-evolve-sandbox-base"
STRIP = (
    "usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian",
    "usr/share/bash-completion", "var/cache/apt", "var/lib/apt/lists", "var/log", "var/cache/debconf",
)
APT_DIR = Path("/etc/apt")

AUTO_TAG = "auto"  # `repo:auto`: a tag per runner revision and package set (resolve_tag)
ImageState = Literal["missing", "stale", "ready"]


class ImageError(RuntimeError):
    """A build step failed; the message says which and what to do."""


@dataclass
class BuildReport:
    tag: str
    runner_sha256: str
    built: bool
    base: str
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.built:
            return f"{self.tag} is up to date (runner {self.runner_sha256[:12]})"
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        return f"built {self.tag} from {self.base} (runner {self.runner_sha256[:12]}): {steps}"


def cache_root() -> Path:
    env = os.environ.get("VPO_EVOLVE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vpo-evolve"


@functools.lru_cache(maxsize=1)
def runner_files() -> tuple[str, ...]:
    """runner.py, worker.py and every sibling module they import by bare name, transitively.

    Parsed once per process, on the thread that first checks the image: slots resolve image
    tags from pool threads, and CPython 3.11's ast.parse is not safe against concurrent parses
    ("AST constructor recursion depth mismatch" killed a run)."""
    found: list[str] = []
    todo = list(RUNNER_ENTRY)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.append(name)
        tree = ast.parse((SANDBOX_DIR / name).read_text(encoding="utf-8"), name)
        todo += [f"{m}.py" for m in imported_modules(tree)
                 if "." not in m and (SANDBOX_DIR / f"{m}.py").is_file()]
    return tuple(sorted(found))


def runner_sha256() -> str:
    """Hash of the files the image carries under /opt/vpo (names and contents) and of the
    Dockerfile that puts them there."""
    digest = hashlib.sha256()
    for name in ["Dockerfile", *runner_files()]:
        digest.update(name.encode() + b"\0" + (SANDBOX_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()


def resolve_tag(tag: str, requirements: Iterable[str] | None = None, sha: str | None = None) -> str:
    """`repo:auto` -> `repo:<runner hash>-<packages hash>`; any other tag as it is.

    One image per runner revision and package set: checkouts with different runner code (two
    branches, two worktrees) share one engine without rebuilding each other's image."""
    repo, _, name = tag.rpartition(":")
    if name != AUTO_TAG or not repo:
        return tag
    pins = parse_pins(SCIENTIFIC_STACK if requirements is None else requirements)
    packages = hashlib.sha256(json.dumps(sorted(pins.items())).encode()).hexdigest()[:8]
    return f"{repo}:{(sha or runner_sha256())[:12]}-{packages}"


def _labels(client, tag: str) -> dict | None:
    import docker.errors

    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    return image.attrs.get("Config", {}).get("Labels") or {}


def image_requirements(client, tag: str) -> dict[str, str]:
    """{package: version} the image's site carries ({} for a missing or pre-site image)."""
    try:
        found = json.loads((_labels(client, tag) or {}).get(LABEL_REQUIREMENTS, "{}"))
        return {str(k): str(v) for k, v in found.items()}
    except (ValueError, AttributeError):
        return {}


def image_state(client, tag: str, sha: str | None = None,
                requirements: Iterable[str] | None = None) -> ImageState:
    """`ready` only when the image's runner hash matches the runner code in this checkout and
    it carries every pinned package asked for (default: the scientific stack)."""
    sha = sha or runner_sha256()
    tag = resolve_tag(tag, requirements, sha)
    labels = _labels(client, tag)
    if labels is None:
        return "missing"
    if labels.get(LABEL_RUNNER_SHA) != sha:
        return "stale"
    wanted = parse_pins(SCIENTIFIC_STACK if requirements is None else requirements)
    have = image_requirements(client, tag)
    return "ready" if all(have.get(k) == v for k, v in wanted.items()) else "stale"


# --------------------------------------------------------------------------- apt mirror


def _one_line_sources(path: Path):
    for line in path.read_text(errors="replace").splitlines():
        line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
        if len(line) >= 3 and line[0] == "deb":
            yield line[1], [line[2]], line[3:]


def _deb822_sources(path: Path):
    for para in re.split(r"\n\s*\n", path.read_text(errors="replace")):
        fields: dict[str, str] = {}
        for line in para.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split(), fields.get("components", "").split()


def apt_sources(apt_dir: Path = APT_DIR) -> list[tuple[str, list[str], list[str]]]:
    """(uri, suites, components) of every enabled `deb` entry apt reads, in apt's order."""
    entries = []
    main = apt_dir / "sources.list"
    if main.is_file():
        entries += _one_line_sources(main)
    parts = apt_dir / "sources.list.d"
    for path in sorted(parts.glob("*")) if parts.is_dir() else []:
        if path.suffix == ".list":
            entries += _one_line_sources(path)
        elif path.suffix == ".sources":
            entries += _deb822_sources(path)
    return entries


def apt_mirror(suite: str = SUITE, apt_dir: Path = APT_DIR) -> str:
    """The Debian archive apt is configured with here (never a hard-coded host).

    Prefers an entry that lists `suite` with component main; else any other entry with main
    that is not the security archive, since one Debian archive serves every release.
    """
    entries = [(u, s, c) for u, s, c in apt_sources(apt_dir)
               if "main" in c and u.split(":", 1)[0] in ("http", "https", "file", "ftp")]
    for uri, suites, _ in entries:
        if suite in suites:
            return uri
    for uri, suites, _ in entries:
        if suites and not any(x.endswith("-security") for x in suites) and "security" not in uri:
            return uri
    raise ImageError(
        f"no apt source for '{suite} main' in {apt_dir}/sources.list or {apt_dir}/sources.list.d; "
        "pass --mirror URL (a Debian archive) or --base IMAGE (an image you can pull)"
    )


# --------------------------------------------------------------------------- rootfs + base


def _rootfs_key(suite: str) -> str:
    spec = f"{ROOTFS_RECIPE}|{suite}|{platform.machine()}|{','.join(ROOTFS_PACKAGES)}|{','.join(STRIP)}"
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def rootfs_tarball(mirror: str, suite: str, log: Callable[[str], None]) -> Path:
    """The cached, stripped rootfs tarball; made with debootstrap when absent."""
    cache = cache_root() / "sandbox"
    target = cache / f"rootfs-{suite}-{_rootfs_key(suite)}.tar"
    if target.is_file():
        return target
    if not shutil.which("debootstrap"):
        raise ImageError("debootstrap not found: apt-get install -y debootstrap (scripts/bootstrap.sh apt)")
    if os.geteuid() != 0:
        raise ImageError("debootstrap needs root: run `evolve sandbox build-image` as root")
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=cache))
    root = work / "root"
    try:
        log(f"debootstrap --variant=minbase {suite} from {mirror} (about a minute)")
        cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(ROOTFS_PACKAGES)}",
               suite, str(root), mirror]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            tail = "\n".join(done.stdout.strip().splitlines()[-5:])
            raise ImageError(f"debootstrap failed (exit {done.returncode}):\n{tail}")
        for rel in STRIP:
            path = root / rel
            if path.is_dir():
                for child in path.iterdir():
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        partial = work / "rootfs.tar"
        subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.replace(target)  # atomic: a crash never leaves a truncated cache entry
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def ensure_base_image(client, mirror: str | None, suite: str, log: Callable[[str], None]) -> str:
    """The imported Debian base image's reference, importing the cached tarball if needed."""
    import docker.errors

    ref = f"{BASE_REPO}:{suite}-{_rootfs_key(suite)}"
    try:
        client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    tarball = rootfs_tarball(mirror or apt_mirror(suite), suite, log)
    log(f"docker import {tarball.name} -> {ref}")
    repo, tag = ref.split(":")
    client.api.import_image_from_file(str(tarball), repository=repo, tag=tag)
    client.images.get(ref)  # raises if the import did not produce the image
    return ref


# --------------------------------------------------------------------------- the image


def prepare_context(ctx: Path, site: Path | None = None) -> None:
    """A docker build context for sandbox/Dockerfile: the Dockerfile, runner/ (the runner files)
    and site/ (the package site; hard links where the file system allows)."""
    shutil.copy2(SANDBOX_DIR / "Dockerfile", ctx / "Dockerfile")
    (ctx / "runner").mkdir(exist_ok=True)
    for name in runner_files():
        shutil.copy2(SANDBOX_DIR / name, ctx / "runner" / name)
    if site is None:
        (ctx / "site").mkdir(exist_ok=True)
        return
    try:
        shutil.copytree(site, ctx / "site", copy_function=os.link)
    except OSError:  # another file system: copy
        shutil.rmtree(ctx / "site", ignore_errors=True)
        shutil.copytree(site, ctx / "site")


def image_python(base: str, suite: str) -> str:
    """The Python version of the image's python3: wheels are chosen for it."""
    if base == DEBOOTSTRAP:
        if suite not in SUITE_PYTHON:
            raise ImageError(f"unknown Python version of Debian {suite}; known suites: {', '.join(SUITE_PYTHON)}")
        return SUITE_PYTHON[suite]
    match = re.search(r"python:(\d+\.\d+)", base)
    if not match:
        raise ImageError(f"cannot tell the Python version of base image {base}; use a python:X.Y image")
    return match.group(1)


def docker_client():
    """A connected docker SDK client, or an ImageError saying how to get an engine."""
    import docker
    import docker.errors

    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except docker.errors.DockerException as exc:
        raise ImageError(
            f"no Docker engine answers ({exc.__class__.__name__}); start one: scripts/bootstrap.sh dockerd"
        ) from None
    return client


def build_image(
    tag: str,
    *,
    base: str = DEBOOTSTRAP,
    mirror: str | None = None,
    suite: str = SUITE,
    force: bool = False,
    log: Callable[[str], None] = print,
    client=None,
    requirements: Iterable[str] = SCIENTIFIC_STACK,
) -> BuildReport:
    """Build `tag` unless an image with the current runner hash and packages exists (or `force`)."""
    import docker.errors

    requirements = list(requirements)
    pins = parse_pins(requirements)
    client = client or docker_client()
    sha = runner_sha256()
    tag = resolve_tag(tag, requirements, sha)
    report = BuildReport(tag=tag, runner_sha256=sha, built=False, base=base)
    if not force and image_state(client, tag, sha, requirements) == "ready":
        return report
    start = time.monotonic()
    site = build_site(requirements, image_python(base, suite), log) if pins else None
    report.seconds["packages"] = time.monotonic() - start
    start = time.monotonic()
    base_ref = ensure_base_image(client, mirror, suite, log) if base == DEBOOTSTRAP else base
    report.base = base_ref
    report.seconds["base"] = time.monotonic() - start
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vpo-image-", dir=site.parent if site else None) as ctx:
        prepare_context(Path(ctx), site)
        log(f"docker build {tag} FROM {base_ref}")
        try:
            client.images.build(path=ctx, tag=tag, rm=True, forcerm=True, pull=False,
                                buildargs={"BASE": base_ref, "RUNNER_SHA256": sha,
                                           "REQUIREMENTS": json.dumps(pins, sort_keys=True)})
        except docker.errors.BuildError as exc:
            lines = [str(c.get("stream") or c.get("error") or "").strip() for c in exc.build_log]
            tail = "\n".join(x for x in lines if x)[-1500:]
            raise ImageError(f"docker build of {tag} failed: {exc.msg}\n{tail}") from None
        except docker.errors.APIError as exc:
            raise ImageError(f"docker build of {tag} failed: {exc.explanation or exc}") from None
    report.seconds["build"] = time.monotonic() - start
    report.built = True
    try:  # the image this one replaced is now untagged: drop it (ours only, by label)
        client.images.prune(filters={"dangling": True, "label": f"{LABEL_SANDBOX}=1"})
    except docker.errors.APIError:
        pass
    if image_state(client, tag, sha, requirements) != "ready":
        raise ImageError(f"{tag} was built but does not carry runner hash {sha[:12]} and packages {pins}")
    if runner_sha256() != sha:
        log("warning: the runner files changed during the build; run build-image again")
    return report
