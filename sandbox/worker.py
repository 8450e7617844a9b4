#!/usr/bin/env python3
"""The untrusted side of the runner: loads one candidate and answers requests (stdlib only).

Started fresh (exec, never fork) by the supervisor for every candidate, so its memory holds no
expected values.  It only ever *computes*: a call of the entry point (return value in the
tagged encoding of exact builtin types) or a run of the script (its stdout).  Every verdict,
assertion tests included, is made by the supervisor, so nothing the candidate does in its own
process can forge one.  The request and reply pipes arrive as fd 0 and 1 and are moved off
them at once: fd 0 becomes the test input file and fd 1/2 a size-capped log, so whatever the
candidate prints is never read as a result.
"""

from __future__ import annotations

import argparse
import builtins
import io
import os
import resource
import signal
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402  (stdlib-only sibling; same directory in the image and on the host)

LOG_FILE = "candidate.log"
STDIN_FILE = "stdin.txt"
STDOUT_FILE = "stdout.txt"
PROGRAM_FILE = "program.py"


class OutputLimitExceeded(Exception):
    pass


_BUILTINS = dict(builtins.__dict__)


def restore_builtins() -> None:
    """Undo a candidate's patches to builtins before our own code runs again."""
    current = builtins.__dict__
    for name in [n for n in current if n not in _BUILTINS]:
        del current[name]
    current.update(_BUILTINS)


def set_limits(memory_mb: int, cpu_s: int, output_limit: int, nproc: int) -> None:
    mem = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (output_limit, output_limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    if nproc > 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    try:  # be the first thing the OOM killer takes, never the supervisor
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(error_kind, one-line message) for an exception raised by candidate code."""
    if isinstance(exc, MemoryError):
        return "memory", "MemoryError"
    if isinstance(exc, OutputLimitExceeded) or (isinstance(exc, OSError) and exc.errno == 27):
        return "output", "output limit exceeded"
    if isinstance(exc, SystemExit):
        return "exit", f"SystemExit({exc.code!r}) raised during the test"
    try:
        text = f"{type(exc).__name__}: {exc}"
    except Exception:  # noqa: BLE001 - hostile __str__
        text = type(exc).__name__
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<candidate>":
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is not None:
        text += f" (line {line})"
    return "exception", wire.clip(text)


class Worker:
    """Holds the loaded candidate; answers `call` (function mode) and `script` (stdio mode)."""

    def __init__(self, load: dict, output_limit: int):
        self.mode = load["mode"]
        self.output_limit = output_limit
        self.pid = os.getpid()
        self.encode = wire.encode_value
        self.decode = wire.decode_value
        self.code = compile(load["program"], "<candidate>", "exec")
        self.fn = None
        self.evaluator: dict = {}
        if self.mode == "program":
            self._load_evaluator(load)
        if self.mode == "function":
            module = types.ModuleType("solution")
            sys.modules["solution"] = module
            exec(self.code, module.__dict__)
            fn = module.__dict__.get(load["entry_point"])
            if not callable(fn):
                raise LookupError(f"entry point {load['entry_point']!r} is not defined")
            self.fn = fn

    def run(self, request: dict) -> dict:
        op = request["op"]
        if op == "call":
            if self.fn is None:
                raise TypeError("this problem runs the program as a script; it has no entry point")
            args = self.decode(request.get("args", []))
            kwargs = self.decode(request.get("kwargs", {}))
            result = self.fn(*args, **kwargs)
            try:
                return {"value": self.encode(result)}
            except TypeError as exc:
                raise TypeError(f"return value rejected: {exc}") from None
        if op == "script":
            return {"stdout": self._run_script(request.get("input", ""))}
        if op == "evaluate":
            return {"value": self.encode(self._evaluate(request["function"]))}
        raise ValueError(f"unknown operation {op!r}")

    def _load_evaluator(self, load: dict) -> None:
        """Program mode: the candidate file plus the user's evaluator module beside it."""
        files = dict(load.get("support_files") or {})
        files[PROGRAM_FILE] = load["program"]
        for rel, text in files.items():
            parts = rel.replace("\\", "/").split("/")
            if rel.startswith("/") or ".." in parts:
                raise ValueError(f"support file path {rel!r} escapes the work dir")
            if len(parts) > 1:
                os.makedirs(os.path.join(*parts[:-1]), exist_ok=True)
            with open(rel, "w", encoding="utf-8") as f:
                f.write(text)
        sys.path.insert(0, os.getcwd())
        module = types.ModuleType("evaluator")
        module.__file__ = os.path.abspath("evaluator.py")
        sys.modules["evaluator"] = module
        exec(compile(load.get("evaluator_code", ""), module.__file__, "exec"), module.__dict__)
        self.evaluator = module.__dict__

    def _evaluate(self, function: str) -> dict:
        fn = self.evaluator.get(function)
        if not callable(fn):
            raise LookupError(f"evaluator has no function {function!r}")
        result = fn(os.path.abspath(PROGRAM_FILE))
        metrics = getattr(result, "metrics", result)  # OpenEvolve's EvaluationResult or a dict
        if not isinstance(metrics, dict):
            raise TypeError(f"{function}() returned {type(metrics).__name__}, not a dict of metrics")
        plain = {}
        for key, value in metrics.items():
            if type(value) in (int, float, bool, str):
                plain[str(key)] = value
            else:
                try:  # numpy scalars and the like
                    plain[str(key)] = float(value)
                except (TypeError, ValueError):
                    continue
        return plain

    def _run_script(self, text: str) -> str:
        with open(STDIN_FILE, "w", encoding="utf-8") as f:
            f.write(text)
        saved_in, saved_out = os.dup(0), os.dup(1)
        fin = os.open(STDIN_FILE, os.O_RDONLY)
        fout = os.open(STDOUT_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fin, 0)
        os.dup2(fout, 1)
        os.close(fin)
        os.close(fout)
        old_stdin, old_stdout = sys.stdin, sys.stdout
        sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        try:
            exec(self.code, {"__name__": "__main__", "__builtins__": builtins})
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise
        finally:
            try:
                sys.stdout.flush()
            except OSError:
                pass
            sys.stdin, sys.stdout = old_stdin, old_stdout
            os.dup2(saved_in, 0)
            os.dup2(saved_out, 1)
            os.close(saved_in)
            os.close(saved_out)
        if os.path.getsize(STDOUT_FILE) > self.output_limit:
            raise OutputLimitExceeded()
        with open(STDOUT_FILE, encoding="utf-8", errors="replace") as f:
            return f.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="worker")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-s", type=int, required=True)
    parser.add_argument("--output-limit", type=int, required=True)
    parser.add_argument("--nproc", type=int, default=0)
    parser.add_argument("--path", action="append", default=[], help="package site for candidates (repeatable)")
    opts = parser.parse_args(argv)
    sys.path.extend(opts.path)  # -I -S: the sandbox's own packages (numpy, scipy), nothing else

    cmd_in = os.fdopen(os.dup(0), "rb")
    obs_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes raise EFBIG instead
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    set_limits(opts.memory_mb, opts.cpu_s, opts.output_limit, opts.nproc)

    send = wire.write_frame
    pid = os.getpid()
    load = wire.read_frame(cmd_in)
    if load is None or load.get("type") != "load":
        return 2
    try:
        worker = Worker(load, opts.output_limit)
        restore_builtins()
    except BaseException as exc:  # noqa: BLE001 - every load failure is reported, not raised
        restore_builtins()
        if os.getpid() != pid:
            os._exit(0)
        if isinstance(exc, SyntaxError):
            kind, message = "exception", f"SyntaxError: {exc.msg} (line {exc.lineno})"
        else:
            kind, message = describe_exception(exc)
        send(obs_out, {"type": "load_error", "error_kind": kind, "message": message})
        return 0
    send(obs_out, {"type": "loaded"})
    while True:
        test = wire.read_frame(cmd_in)
        if test is None or test.get("type") != "run":
            return 0
        try:
            reply = {"type": "obs", "seq": test["seq"], "ok": True, **worker.run(test)}
        except BaseException as exc:  # noqa: BLE001 - candidate failures become observations
            restore_builtins()
            kind, message = describe_exception(exc)
            reply = {"type": "obs", "seq": test["seq"], "ok": False, "error_kind": kind, "message": message}
        restore_builtins()
        if os.getpid() != pid:  # a process the candidate forked must never answer
            os._exit(0)
        send(obs_out, reply)


if __name__ == "__main__":
    sys.exit(main())
