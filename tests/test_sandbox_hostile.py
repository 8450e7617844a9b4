"""The hostile-program corpus, asserted on every backend: contained, classified, host intact."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from pathlib import Path

import pytest

from problems.model import Problem
from tests.hostile.corpus import CASES, Case
from tests.sandbox_support import BACKENDS, open_sandbox, sandbox_containers, sandbox_processes

GOOD = "def solve(x):\n    return x + 1\n"
REPO_ROOT = Path(__file__).resolve().parent.parent  # this checkout, wherever it was cloned


@pytest.fixture(scope="module", params=BACKENDS)
def box(request):
    sandbox = open_sandbox(request.param, slots=1)
    yield sandbox
    sandbox.close()
    assert sandbox_processes() == [], "candidate processes survived the sandbox"
    if request.param == "docker":
        left = sandbox_containers()
        assert left == [], f"containers left behind: {left}"


def problem_for(case: Case) -> Problem:
    time_limit = case.time_limit
    if case.mode == "stdio":
        tests = [{"kind": "stdio", "id": f"t{i}", "input": "", "output": "ok"} for i, _ in enumerate(case.args)]
        return Problem(id=f"hostile-{case.name}", mode="stdio", initial_program="print('ok')\n",
                       tests=tests, time_limit_s=time_limit, wall_limit_s=20, memory_mb=256)
    tests = [{"kind": "call", "id": f"t{i}", "args": a, "expected": case.expected} for i, a in enumerate(case.args)]
    return Problem(id=f"hostile-{case.name}", entry_point="solve", initial_program=GOOD,
                   tests=tests, time_limit_s=time_limit, wall_limit_s=20, memory_mb=256)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case_is_contained_and_classified(box, case):
    result = box.evaluate(problem_for(case), case.program)
    for outcome in result.outcomes:
        assert outcome.status in case.statuses, f"{case.name}: {outcome}"
        assert case.message in outcome.message or case.message in result.error, f"{case.name}: {outcome}"
    assert result.wall_ms < 20_000
    # the runner survived: an honest program evaluates correctly right after
    assert box.evaluate(problem_for(Case("good", GOOD)), GOOD).fitness == 1.0
    assert sandbox_processes() == [], "candidate processes survived their evaluation"


def test_assert_tests_cannot_be_fooled_by_objects_equal_to_everything(box):
    program = next(c for c in CASES if c.name == "monkeypatch_comparison").program
    problem = Problem(id="hostile-assert", entry_point="solve", initial_program=GOOD,
                      tests=[{"kind": "assert", "id": "a0", "code": "assert candidate(1) == 99"},
                             {"kind": "assert", "id": "a1", "code": "assert candidate(5) == 99 and True"}])
    result = box.evaluate(problem, program)
    assert [o.status for o in result.outcomes] == ["error", "error"], result.outcomes


def test_writes_outside_the_work_dir_never_reach_the_host(box, tmp_path):
    target_dir = tmp_path / "open-dir"
    target_dir.mkdir()
    target_dir.chmod(0o777)
    token = uuid.uuid4().hex
    targets = [str(target_dir / "pwned"), f"/tmp/pwned-{token}", f"/root/pwned-{token}", str(REPO_ROOT / f"pwned-{token}")]
    program = (
        "def solve(paths):\n    done = []\n    for p in paths:\n        try:\n"
        "            with open(p, 'w') as f:\n                f.write('owned')\n            done.append(p)\n"
        "        except OSError:\n            pass\n    return 'done'\n"
    )
    problem = Problem(id="hostile-write", entry_point="solve", initial_program=GOOD,
                      tests=[{"kind": "call", "id": "t0", "args": [targets], "expected": "done"}])
    result = box.evaluate(problem, program)
    assert result.outcomes[0].status == "passed", result.outcomes  # it ran; its writes went nowhere
    for path in targets:
        assert not Path(path).exists(), f"candidate wrote {path} on the host"


def test_a_secret_planted_on_the_host_cannot_be_read(box, tmp_path):
    secret = f"secret-{uuid.uuid4().hex}"
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(secret)
    secret_file.chmod(0o644)
    tmp_path.chmod(0o755)
    program = "def solve(path):\n    with open(path) as f:\n        return f.read()\n"
    problem = Problem(id="hostile-secret", entry_point="solve", initial_program=GOOD,
                      tests=[{"kind": "call", "id": "t0", "args": [str(secret_file)], "expected": secret}])
    result = box.evaluate(problem, program)
    assert result.outcomes[0].status == "error", result.outcomes
    assert secret not in json.dumps(result.model_dump())


def test_loopback_listener_on_the_host_is_unreachable(box):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted: list = []
    stop = threading.Event()

    def accept_loop():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn.recv(100))
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    program = (
        "import socket\ndef solve(port):\n    s = socket.create_connection(('127.0.0.1', port), timeout=1)\n"
        "    s.sendall(b'exfiltrated')\n    return 'connected'\n"
    )
    problem = Problem(id="hostile-net", entry_point="solve", initial_program=GOOD,
                      tests=[{"kind": "call", "id": "t0", "args": [port], "expected": "connected"}])
    try:
        result = box.evaluate(problem, program)
    finally:
        stop.set()
        thread.join(2)
        listener.close()
    assert result.outcomes[0].status == "error", result.outcomes
    assert accepted == []
