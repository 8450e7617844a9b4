"""How the supervisor wraps a worker command: registry of jails (stdlib only).

- `none`: for use inside a container, which is the jail; only rlimits and setsid.
- `bwrap`: bubblewrap namespaces: no network, fresh pid/ipc/uts namespaces, a read-only view
  of just the interpreter, the runner and the package site, private tmpfs work dir, an
  unprivileged uid.
- `unshare`: util-linux unshare + setpriv when bubblewrap is missing: no network, own pid
  namespace, unprivileged uid; the host file system stays visible (read permissions apply).

Every jail puts the sandbox's package site (numpy, scipy: sandbox/requirements.py) on the
worker's sys.path with `--path`, since workers run with `-I -S` (no site-packages of their own).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile

RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
JAIL_RUNNER_DIR = "/opt/vpo"
JAIL_WORKDIR = "/work"
JAIL_SITE_DIR = "/opt/vpo-site"  # the package site inside a bwrap jail and in the Docker image
# Single-threaded numerical libraries: fair CPU shares per candidate, and a library that starts
# one thread per core cannot trip the pids limit on a many-core host.
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


WORKER_FILES = ("worker.py", "wire.py")  # what a worker imports; all of it stdlib-only


@functools.lru_cache(maxsize=1)
def worker_dir() -> str:
    """A directory holding the worker's files that any uid can read.

    Workers run as an unprivileged slot uid; a checkout under a private directory (a 0700
    home or mktemp dir) is invisible to it, so the files are copied out once per supervisor.
    """
    path, readable = RUNNER_DIR, True
    while readable and path != os.path.dirname(path):
        readable = bool(os.stat(path).st_mode & 0o001)
        path = os.path.dirname(path)
    if readable and all(os.stat(os.path.join(RUNNER_DIR, f)).st_mode & 0o004 for f in WORKER_FILES):
        return RUNNER_DIR
    copy = tempfile.mkdtemp(prefix="vpo-worker-")
    for name in WORKER_FILES:
        shutil.copyfile(os.path.join(RUNNER_DIR, name), os.path.join(copy, name))
        os.chmod(os.path.join(copy, name), 0o644)
    os.chmod(copy, 0o755)
    atexit.register(shutil.rmtree, copy, True)
    return copy


def python_prefix(python: str) -> str:
    """The install prefix of an interpreter (what must be visible inside a jail to run it)."""
    real = os.path.realpath(python)
    return os.path.dirname(os.path.dirname(real))


class NoJail:
    name = "none"
    isolates_filesystem = False

    def __init__(self, python: str, uid: int | None, site: str | None = None):
        self.python, self.uid, self.site = python, uid, site

    def site_args(self, inside: str | None = None) -> list[str]:
        """Worker arguments that put the package site on its sys.path."""
        return ["--path", inside or self.site] if self.site else []

    def wrap(self, argv: list[str]) -> list[str]:
        return [self.python, "-I", "-S", "-B", os.path.join(worker_dir(), "worker.py"), *self.site_args(), *argv]

    def needs_setuid(self) -> bool:
        return self.uid is not None and os.geteuid() == 0

    @staticmethod
    def available() -> bool:
        return True


class UnshareJail(NoJail):
    name = "unshare"

    def wrap(self, argv: list[str]) -> list[str]:
        uid = str(self.uid if self.uid is not None else 65534)
        return [
            "unshare", "--net", "--pid", "--fork", "--kill-child", "--ipc", "--uts", "--",
            "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--",
            *super().wrap(argv),
        ]

    def needs_setuid(self) -> bool:
        return False

    @staticmethod
    def available() -> bool:
        return os.geteuid() == 0 and bool(shutil.which("unshare") and shutil.which("setpriv"))


class BwrapJail(NoJail):
    name = "bwrap"
    isolates_filesystem = True

    def __init__(self, python: str, uid: int | None, site: str | None = None):
        super().__init__(python, uid, site)
        # Prefer dropping to the slot's uid *before* bwrap (an unprivileged user namespace),
        # so candidates are that uid on the host too; else bwrap maps it from root.
        self.unprivileged = uid is not None and os.geteuid() == 0 and _unprivileged_bwrap_works()

    def wrap(self, argv: list[str]) -> list[str]:
        cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        if not self.unprivileged:
            uid = str(self.uid if self.uid is not None else 65534)
            cmd += ["--uid", uid, "--gid", uid]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/lib", "/lib64", "/sbin"):
            if os.path.islink(top):
                cmd += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                cmd += ["--ro-bind", top, top]
        prefix = python_prefix(self.python)
        if not prefix.startswith("/usr"):
            cmd += ["--ro-bind", prefix, prefix]
        cmd += ["--ro-bind", worker_dir(), JAIL_RUNNER_DIR]
        if self.site:
            cmd += ["--ro-bind", self.site, JAIL_SITE_DIR]
        cmd += [
            "--dir", JAIL_WORKDIR, "--chdir", JAIL_WORKDIR, "--",
            self.python, "-I", "-S", "-B", f"{JAIL_RUNNER_DIR}/worker.py", *self.site_args(JAIL_SITE_DIR), *argv,
        ]
        return cmd

    def needs_setuid(self) -> bool:
        return self.unprivileged

    @staticmethod
    def available() -> bool:
        return bool(shutil.which("bwrap"))


@functools.lru_cache(maxsize=1)
def _unprivileged_bwrap_works() -> bool:
    probe = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def kill_tree(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGKILL a process started with start_new_session=True, its group, close its pipes, reap it."""
    for action in (lambda: os.killpg(proc.pid, 9), proc.kill):
        try:
            action()
        except (ProcessLookupError, PermissionError):
            pass
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


JAILS: dict[str, type[NoJail]] = {"none": NoJail, "unshare": UnshareJail, "bwrap": BwrapJail}
JAIL_PREFERENCE = ("bwrap", "unshare", "none")


def best_jail() -> str:
    return next(name for name in JAIL_PREFERENCE if JAILS[name].available())


def default_python() -> str:
    """A system interpreter if there is one (visible inside jails), else this one."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.exists(candidate):
            return candidate
    return sys.executable
