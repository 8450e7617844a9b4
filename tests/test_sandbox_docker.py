"""The docker backend: confinement of its containers, identical score vectors to the process
backend, stray-container cleanup, scratch scrubbing, image staleness, apt-mirror discovery.

The hostile-program corpus runs on this backend from test_sandbox_hostile.py.  Under the test
command (VPO_REQUIRE_DOCKER=1) a missing engine or image fails these tests instead of skipping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from problems.model import Problem
from sandbox.config import SandboxConfig
from tests.sandbox_support import open_sandbox, sandbox_containers

docker = pytest.importorskip("docker")

LABEL = "vpo-evolve.sandbox"


@pytest.fixture(scope="module")
def client():
    try:
        engine = docker.from_env(timeout=10)
        engine.ping()
    except docker.errors.DockerException as exc:
        if os.environ.get("VPO_REQUIRE_DOCKER") == "1":
            pytest.fail(f"no Docker engine answers ({exc}); run scripts/bootstrap.sh")
        pytest.skip(f"no Docker engine answers: {exc}")
    from sandbox.image import build_image

    build_image(SandboxConfig().docker.image, log=lambda _line: None, client=engine)  # no-op when current
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def boxes(client):
    docker_box = open_sandbox("docker", slots=2)
    process_box = open_sandbox("process", slots=2)
    yield docker_box, process_box
    docker_box.close()
    process_box.close()
    assert sandbox_containers() == [], "sandbox containers left behind"


# --------------------------------------------------------------------------- confinement


@pytest.mark.docker
def test_container_is_confined_as_configured(client):
    from sandbox.docker_slot import DockerSlot

    config = SandboxConfig(backend="docker")
    slot = DockerSlot.from_config(config, 0)
    slot.start(30)
    try:
        attrs = client.api.inspect_container(slot.container.id)
        host, cfg = attrs["HostConfig"], attrs["Config"]
        opts = config.docker
        assert host["NetworkMode"] == "none" and cfg["NetworkDisabled"] is True
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"] and not host["CapAdd"] and host["Privileged"] is False
        assert any(s.startswith("no-new-privileges") for s in host["SecurityOpt"])
        assert host["Memory"] == host["MemorySwap"] == opts.memory_mb * 1024 * 1024
        assert host["NanoCpus"] == int(opts.cpus * 1e9)
        assert host["PidsLimit"] == opts.pids_limit
        assert set(host["Tmpfs"]) == {"/work", "/tmp"}
        assert all(f"size={opts.tmpfs_mb}m" in v for v in host["Tmpfs"].values())
        assert attrs["Mounts"] == [] and not host["Binds"], "no host path may be mounted"
        assert cfg["User"] == opts.user and not cfg["User"].startswith("0")
        assert cfg["Labels"][LABEL] == "1"
        assert slot.alive
    finally:
        slot.kill()
    assert not slot.alive
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(attrs["Id"])


@pytest.mark.docker
def test_candidate_sees_no_network_no_host_files_and_a_pid1_it_cannot_kill_or_read(boxes):
    docker_box, _ = boxes
    program = textwrap.dedent("""
        import os, socket, signal
        def peek(path):
            try:
                with open(path, 'rb') as f:
                    return f.read(1) and 'read'
            except OSError as exc:
                return type(exc).__name__
        def solve(x):
            ifaces = sorted(name for _, name in socket.if_nameindex())
            try:
                os.kill(1, signal.SIGKILL)
            except OSError as exc:
                pass
            supervisor = [peek(f'/proc/1/{p}') for p in ('environ', 'mem', 'fd/0', 'fd/1')]
            return [ifaces, os.getuid() != 0, os.path.exists('/work/main'), os.getppid(), supervisor]
    """)
    denied = ["PermissionError"] * 4  # the supervisor is not dumpable: its memory and pipes are closed
    problem = Problem(id="probe", entry_point="solve", initial_program=program,
                      tests=[{"kind": "call", "id": "t", "args": [0], "expected": [["lo"], True, False, 1, denied]}])
    result = docker_box.evaluate(problem, program)
    assert result.outcomes[0].status == "passed", result.outcomes[0]
    assert docker_box.evaluate(problem, program).scores == [1.0]  # the supervisor (PID 1) lived on


@pytest.mark.docker
def test_scratch_space_is_scrubbed_between_candidates(client):
    """A candidate that fills /work, /tmp and /dev/shm cannot make the next one fail."""
    before = set(sandbox_containers())
    box = open_sandbox("docker", slots=1)  # one slot: both candidates share one container
    filler = textwrap.dedent("""
        import os
        for d in ('/work', '/tmp', '/dev/shm'):
            try:
                for i in range(10**6):
                    with open(f'{d}/junk{i}', 'wb') as f:
                        f.write(b'x' * 500_000)
            except OSError:
                pass
        print(input())
    """)
    honest = "print(input())\n"
    problem = Problem(id="echo", mode="stdio", initial_program=honest, time_limit_s=10,
                      tests=[{"kind": "stdio", "id": "t", "input": "hello\n", "output": "hello"}])
    try:
        box.evaluate(problem, filler)
        assert box.evaluate(problem, honest).scores == [1.0]
    finally:
        box.close()
    assert set(sandbox_containers()) <= before


# --------------------------------------------------------------------------- same vectors

ORDINARY = [
    # (problem, programs): every test kind, partial credit, exceptions, float tolerance
    (dict(id="add", entry_point="add", tests=[
        {"kind": "call", "id": f"c{i}", "args": [i, i / 3], "expected": i + i / 3} for i in range(6)]),
     ["def add(a, b):\n    return a + b\n",
      "def add(a, b):\n    return a + b if a % 2 else a - b\n",
      "def add(a, b):\n    return round(a + b, 3)\n",
      "def add(a, b):\n    raise ValueError('no')\n",
      "def add(a, b:\n"]),
    (dict(id="sq", entry_point="sq", tests=[
        {"kind": "assert", "id": f"a{i}", "code": f"assert candidate({i}) == {i * i}"} for i in range(4)]
        + [{"kind": "call", "id": "neg", "args": [-3], "expected": 9, "stage": 2}]),
     ["def sq(x):\n    return x * x\n",
      "def sq(x):\n    return x * 2\n",
      "def sq(x):\n    return abs(x) ** 2 if x != 3 else 0\n"]),
    (dict(id="sum", mode="stdio", tests=[
        {"kind": "stdio", "id": f"s{i}", "input": f"{i} {i + 1}\n", "output": f"{2 * i + 1}\n"} for i in range(4)]),
     ["a, b = map(int, input().split())\nprint(a + b)\n",
      "a, b = map(int, input().split())\nprint(a + b if a < 2 else a * b)\n",
      "import sys\nsys.stdout.write(str(sum(map(int, sys.stdin.read().split()))) + '   \\n\\n')\n"]),
    (dict(id="close", entry_point="guess", scorer_code="def score(instance, output):\n"
          "    return max(0.0, 1.0 - abs(output - instance) / 10)\n",
          tests=[{"kind": "scorer", "id": f"k{i}", "instance": i * 2} for i in range(4)]),
     ["def guess(x):\n    return x\n", "def guess(x):\n    return 3\n"]),
]


@pytest.mark.docker
def test_score_vectors_are_identical_on_both_backends(boxes):
    docker_box, process_box = boxes
    compared = 0
    for spec, programs in ORDINARY:
        problem = Problem(initial_program=programs[0], time_limit_s=5, **spec)
        via_docker = docker_box.evaluate_many(problem, programs)
        via_process = process_box.evaluate_many(problem, programs)
        for program, d, p in zip(programs, via_docker, via_process):
            assert d.backend == "docker" and p.backend == "process"
            assert d.scores == p.scores, (problem.id, program, d.outcomes, p.outcomes)
            assert [o.status for o in d.outcomes] == [o.status for o in p.outcomes], (problem.id, program)
            assert [o.message for o in d.outcomes] == [o.message for o in p.outcomes], (problem.id, program)
            compared += 1
    assert compared == sum(len(p) for _, p in ORDINARY)
    assert len({tuple(r.scores) for r in via_docker}) == 2  # the fixtures do tell programs apart


# --------------------------------------------------------------------------- strays


OWNER_SCRIPT = """
import os, sys
from sandbox.config import SandboxConfig
from sandbox.docker_slot import DockerSlot
slot = DockerSlot.from_config(SandboxConfig(backend="docker"), 0)
slot.start(30)
print(slot.container.id, flush=True)
os._exit(0) if sys.argv[1] == "crash" else sys.exit(0)
"""


def _owner_run(how: str) -> str:
    """A separate process that starts a slot, then crashes (no cleanup) or exits normally."""
    done = subprocess.run([sys.executable, "-c", OWNER_SCRIPT, how], capture_output=True, text=True,
                          timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


@pytest.mark.docker
def test_containers_of_crashed_runs_are_removed_and_normal_exits_leave_none(client):
    from sandbox.docker_slot import LABEL_OWNER, cleanup_containers, current_owner

    exited = _owner_run("exit")
    with pytest.raises(docker.errors.NotFound):  # removed by its owner's atexit handler
        client.containers.get(exited)
    crashed = _owner_run("crash")
    assert client.containers.get(crashed).labels[LABEL_OWNER] != current_owner()
    from sandbox.image import resolve_tag

    live = client.containers.create(resolve_tag(SandboxConfig().docker.image), ["sleep", "60"], network_mode="none",
                                    labels={LABEL: "1", LABEL_OWNER: current_owner()})
    try:
        assert cleanup_containers(client, only_strays=True) >= 1
        with pytest.raises(docker.errors.NotFound):
            client.containers.get(crashed)
        assert client.containers.get(live.id)  # a live owner's containers are kept
    finally:
        live.remove(force=True)


# --------------------------------------------------------------------------- image


@pytest.mark.docker
def test_image_carries_the_runner_hash_and_a_changed_runner_makes_it_stale(client, monkeypatch):
    from sandbox import image

    auto = SandboxConfig().docker.image
    tag = image.resolve_tag(auto)
    assert auto.endswith(":auto") and tag.startswith(f"vpo-evolve-sandbox:{image.runner_sha256()[:12]}-")
    assert image.image_state(client, auto) == image.image_state(client, tag) == "ready"
    labels = client.images.get(tag).labels
    assert labels[image.LABEL_RUNNER_SHA] == image.runner_sha256()
    assert json.loads(labels[image.LABEL_REQUIREMENTS]) == {"numpy": "2.4.6", "scipy": "1.17.1"}
    assert image.image_state(client, auto, requirements=["numpy==2.4.6", "sympy==1.0"]) == "missing"
    assert image.image_state(client, tag, requirements=["numpy==2.4.6", "sympy==1.0"]) == "stale"
    monkeypatch.setattr(image, "runner_sha256", lambda: "0" * 64)
    assert image.image_state(client, tag) == "stale"  # a named tag built from other runner code
    assert image.image_state(client, auto) == "missing"  # other runner code gets a tag of its own
    assert image.image_state(client, "vpo-evolve-no-such-image:never") == "missing"


def test_runner_files_are_everything_the_runner_imports_from_its_directory():
    from sandbox.image import runner_files

    files = runner_files()
    assert {"runner.py", "worker.py", "wire.py"} <= set(files)
    assert not {"image.py", "docker_slot.py", "api.py", "config.py"} & set(files)


def test_apt_mirror_is_read_from_both_source_formats(tmp_path):
    from sandbox.image import ImageError, apt_mirror

    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm-updates main\n")
    assert apt_mirror("bookworm", tmp_path) == "http://one.example/debian"  # same archive, other suite
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://two.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://two.example/debian-security\nSuites: bookworm-security\nComponents: main\n")
    (tmp_path / "sources.list.d" / "other.list.disabled").write_text("deb http://no.example/ bookworm main\n")
    assert apt_mirror("bookworm", tmp_path) == "http://two.example/debian"  # exact suite wins
    (tmp_path / "sources.list").unlink()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://x.example/security\nSuites: trixie-security\nComponents: main\n")
    with pytest.raises(ImageError, match="--mirror"):
        apt_mirror("bookworm", tmp_path)


def test_runner_hash_parses_the_runner_only_once(monkeypatch):
    """Slots resolve `:auto` tags from pool threads; CPython 3.11's ast.parse is not safe against
    concurrent parses (a run died of "AST constructor recursion depth mismatch"), so the runner's
    import graph is parsed once and later hashes only read the files."""
    import ast

    from sandbox import image

    first = image.runner_sha256()

    def no_parse(*_args, **_kwargs):
        raise AssertionError("runner files parsed again")

    monkeypatch.setattr(ast, "parse", no_parse)
    assert image.runner_sha256() == first and image.resolve_tag("x:auto").startswith(f"x:{first[:12]}-")
