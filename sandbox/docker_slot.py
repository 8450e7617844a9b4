"""The `docker` backend: a slot is one locked-down container whose PID 1 is the supervisor.

The container has no network, a read-only root, size-limited tmpfs for /work and /tmp, a
non-root uid, no capabilities, no-new-privileges, memory == memory+swap, a CPU quota and a pids
limit, and no host mounts.  Candidates run as the supervisor's workers inside it; as PID 1 of
its PID namespace the supervisor ignores SIGKILL sent from inside, and after each candidate it
kills every other process in the container.  Frames travel over Docker's attach socket: stdin
raw, stdout multiplexed in 8-byte-header chunks that `DemuxReader` strips.  Every container is
labelled with its owner process, so containers left by a crashed run are removed on the next
pool start and, for this process's own, at exit.
"""

from __future__ import annotations

import atexit
import time
import os
import select
import socket
import struct
import threading

from sandbox import wire
from sandbox.config import SandboxConfig
from sandbox.engine import engine_address, engine_client, engine_key
from sandbox.image import image_requirements, image_state, resolve_tag
from sandbox.jails import JAIL_SITE_DIR
from sandbox.slots import Slot, SlotDied

LABEL = "vpo-evolve.sandbox"
LABEL_OWNER = "vpo-evolve.owner"  # "<hostname>:<pid>:<process start time>"
RUNNER_CMD = ["python3", "-I", "-S", "/opt/vpo/runner.py", "supervise", "--jail", "none",
              "--workdir", "/work", "--reap-all", "--nproc", "0", "--site", JAIL_SITE_DIR,
              "--scrub", "/work", "--scrub", "/tmp", "--scrub", "/dev/shm"]
HEADER = struct.Struct(">BxxxL")  # Docker stream header: stream type, 3 pad bytes, length
STDOUT = 1
PING_TIMEOUT_S = 5


def _start_time(pid: int) -> str:
    """Kernel start time of `pid` (distinguishes a live owner from a reused pid)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


def current_owner() -> str:
    """This process's owner label (computed per pid, so a forked child is its own owner)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname():
        return True  # another machine's engine client: not ours to judge
    return pid.isdigit() and _start_time(int(pid)) == started and started != ""


class DemuxReader:
    """Frames from a non-tty attach socket: strips Docker's stream headers, keeps stdout only."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.raw = bytearray()
        self.frames = wire.FrameReader(-1)  # used as a parser only: fed through .buf, read(0)
        self.eof = False

    def _ingest(self, chunk: bytes) -> None:
        self.raw += chunk
        while len(self.raw) >= HEADER.size:
            stream, size = HEADER.unpack_from(self.raw)
            if len(self.raw) < HEADER.size + size:
                break
            if stream == STDOUT:
                self.frames.buf += bytes(self.raw[HEADER.size:HEADER.size + size])
            del self.raw[:HEADER.size + size]

    def _pump(self, timeout: float) -> bool:
        """Read what is available within `timeout`; False when nothing came."""
        pending = getattr(self.sock, "pending", None)  # TLS (remote engine): decrypted bytes waiting
        if not (pending and pending()):
            ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
            if not ready:
                return False
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            self.eof = True
        self._ingest(chunk)
        return True

    def read(self, timeout: float):
        """A frame; None on timeout; EOFError when the container's stream ended."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            frame = self.frames.read(0)
            if frame is not None:
                return frame
            if self.eof:
                raise EOFError("container stream closed")
            if not self._pump(deadline - time.monotonic()) and time.monotonic() >= deadline:
                return None

    def closed(self) -> bool:
        """True when the stream has ended (checked without blocking)."""
        while not self.eof and self._pump(0):
            pass
        return self.eof


class _Engine:
    """One docker client per engine and process, stray cleanup once per engine, and removal of
    ours at exit."""

    lock = threading.Lock()
    clients: dict = {}

    @classmethod
    def get(cls, config: SandboxConfig):
        key = engine_key(config.docker)
        with cls.lock:
            if key not in cls.clients:
                client = engine_client(config.docker, 60, max_pool_size=max(10, config.slots + 4))
                client.ping()
                cleanup_containers(client, only_strays=True)
                atexit.register(cleanup_containers, client, mine_only=True)
                cls.clients[key] = client
            return cls.clients[key]


def cleanup_containers(client=None, *, only_strays: bool = False, mine_only: bool = False) -> int:
    """Remove sandbox containers: strays of dead owners, this process's own, or all.  Count."""
    import docker.errors

    if client is None:
        return 0
    removed, me = 0, current_owner()
    try:
        found = client.containers.list(all=True, filters={"label": f"{LABEL}=1"}, ignore_removed=True)
    except (docker.errors.DockerException, OSError):  # requests' ConnectionError is an OSError
        return 0
    for container in found:
        owner = container.labels.get(LABEL_OWNER, "")
        if mine_only and owner != me:
            continue
        if only_strays and (owner == me or _owner_alive(owner)):
            continue
        try:
            container.remove(force=True)
            removed += 1
        except docker.errors.DockerException:
            pass  # already gone (auto-remove) or being removed
    return removed


class DockerSlot(Slot):
    backend = "docker"

    def __init__(self, config: SandboxConfig, index: int):
        super().__init__()
        self.config, self.index = config, index
        self.container = None
        self.sock: socket.socket | None = None
        self._raw = None  # the SDK's socket wrapper: holds the hijacked HTTP response alive

    @classmethod
    def from_config(cls, config: SandboxConfig, index: int) -> "DockerSlot":
        return cls(config, index)

    @staticmethod
    def available(config: SandboxConfig) -> tuple[bool, str]:
        try:
            import docker
            import docker.errors
        except ImportError:
            return False, "the docker SDK is not installed (pip install docker)"
        try:
            client = engine_client(config.docker, PING_TIMEOUT_S)
            client.ping()
            state = image_state(client, config.docker.image, requirements=config.requirements)
            client.close()
        except (docker.errors.DockerException, OSError) as exc:  # requests' errors are OSErrors
            where = engine_address(config.docker)
            return False, (f"no Docker engine answers at {where} ({type(exc).__name__}: {str(exc)[:120]});"
                           " start one (scripts/bootstrap.sh dockerd) or fix sandbox.docker.host / DOCKER_HOST")
        if state != "ready":
            why = "does not exist" if state == "missing" else "was built from other runner code or packages"
            tag = resolve_tag(config.docker.image, config.requirements)
            return False, f"image {tag} {why}: run `evolve sandbox build-image`"
        return True, ""

    @staticmethod
    def provides(config: SandboxConfig) -> dict[str, str]:
        client = engine_client(config.docker, PING_TIMEOUT_S)
        try:
            return image_requirements(client, resolve_tag(config.docker.image, config.requirements))
        finally:
            client.close()

    @staticmethod
    def isolation(config: SandboxConfig) -> str:
        return "container"  # the supervisor inside runs workers with rlimits: the container is the jail

    def container_options(self) -> dict:
        """Keyword arguments for containers.create: the whole confinement, in one place."""
        from docker.types import LogConfig

        opts = self.config.docker
        tmpfs = f"rw,nosuid,nodev,size={opts.tmpfs_mb}m,mode=1777"
        return dict(
            image=resolve_tag(opts.image, self.config.requirements),
            command=RUNNER_CMD,
            user=opts.user,
            stdin_open=True,
            tty=False,
            detach=True,
            network_mode="none",
            network_disabled=True,
            read_only=True,
            tmpfs={"/work": tmpfs, "/tmp": tmpfs},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            mem_limit=f"{opts.memory_mb}m",
            memswap_limit=f"{opts.memory_mb}m",
            nano_cpus=int(opts.cpus * 1e9),
            pids_limit=opts.pids_limit,
            ipc_mode="private",
            hostname="sandbox",
            environment={"PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"},
            labels={LABEL: "1", LABEL_OWNER: current_owner(), "vpo-evolve.slot": str(self.index)},
            log_config=LogConfig(type="none"),
            auto_remove=True,
        )

    def _launch(self) -> None:
        import docker.errors

        client = _Engine.get(self.config)
        try:
            self.container = client.containers.create(**self.container_options())
            # Attach before start so the ready frame cannot be missed.
            self._raw = client.api.attach_socket(self.container.id, params={"stdin": 1, "stdout": 1, "stream": 1})
            self.sock = getattr(self._raw, "_sock", self._raw)  # the real socket under SocketIO
            self.sock.settimeout(None)
            self.container.start()
        except docker.errors.DockerException as exc:
            self.kill()
            raise SlotDied(f"cannot start a sandbox container: {exc}") from None
        self.reader = DemuxReader(self.sock)

    def _write(self, data: bytes) -> None:
        if self.sock is None:
            raise OSError("container not started")
        self.sock.sendall(data)

    @property
    def alive(self) -> bool:
        return self.sock is not None and isinstance(self.reader, DemuxReader) and not self.reader.closed()

    def kill(self) -> None:
        import docker.errors

        sock, self.sock, raw, self._raw = self.sock, None, self._raw, None
        for stream in (sock, raw):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        container, self.container = self.container, None
        if container is not None:
            try:
                container.remove(force=True)
            except docker.errors.DockerException:
                pass  # auto-removed already
