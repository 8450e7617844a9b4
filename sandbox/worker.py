#!/usr/bin/env python3
"""The untrusted side of the runner: loads one candidate and answers test inputs (stdlib only).

Started fresh (exec, never fork) by the supervisor for every candidate, so its memory holds no
expected values.  It reads frames on fd 0 and writes observations on fd 1, then immediately
moves both off the standard descriptors: fd 0 becomes the test input file and fd 1/2 a
size-capped log, so whatever the candidate prints is never read as a result.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import io
import os
import resource
import signal
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402  (stdlib-only sibling; same directory in the image and on the host)

LOG_FILE = "candidate.log"
STDIN_FILE = "stdin.txt"
STDOUT_FILE = "stdout.txt"


class OutputLimitExceeded(Exception):
    pass


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
    def __init__(self, load: dict, output_limit: int):
        self.mode = load["mode"]
        self.output_limit = output_limit
        self.clean_builtins = dict(builtins.__dict__)  # snapshot before candidate code runs
        self.encode = wire.encode_value
        self.decode = wire.decode_value
        self.code = compile(load["program"], "<candidate>", "exec")
        self.fn = None
        self.setup_ns: dict = {"__builtins__": self.clean_builtins}
        if load.get("setup_code"):
            exec(compile(load["setup_code"], "<setup>", "exec"), self.setup_ns)
        self._assert_cache: dict[str, tuple] = {}
        if self.mode == "function":
            module = types.ModuleType("solution")
            sys.modules["solution"] = module
            exec(self.code, module.__dict__)
            fn = module.__dict__.get(load["entry_point"])
            if not callable(fn):
                raise LookupError(f"entry point {load['entry_point']!r} is not defined")
            self.fn = fn

    # -- running one test -------------------------------------------------------------

    def run(self, test: dict) -> dict:
        kind = test["kind"]
        if kind == "call":
            args = self.decode(test.get("args", []))
            kwargs = self.decode(test.get("kwargs", {}))
            return {"value": self._encode(self.fn(*args, **kwargs))}
        if kind == "stdio":
            return {"stdout": self._run_script(test.get("input", ""))}
        if kind == "scorer":
            instance = self.decode(test.get("instance"))
            if self.mode == "function":
                return {"value": self._encode(self.fn(instance))}
            import json

            text = instance if isinstance(instance, str) else json.dumps(instance)
            return {"stdout": self._run_script(text)}
        if kind == "assert":
            return self._run_assert(test["code"])
        raise ValueError(f"unknown test kind {kind!r}")

    def _encode(self, value):
        try:
            return self.encode(value)
        except TypeError as exc:
            raise TypeError(f"return value rejected: {exc}") from None

    def _sanitized(self, *args, **kwargs):
        """The candidate as assertion snippets see it: results copied into plain builtins."""
        return self.decode(self._encode(self.fn(*args, **kwargs)))

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

    def _run_assert(self, code: str) -> dict:
        if code not in self._assert_cache:
            tree = ast.parse(code, "<test>")
            split = None
            node = tree.body[0] if len(tree.body) == 1 else None
            if (
                isinstance(node, ast.Assert)
                and isinstance(node.test, ast.Compare)
                and len(node.test.ops) == 1
                and isinstance(node.test.ops[0], ast.Eq)
            ):
                split = (
                    compile(ast.Expression(node.test.left), "<test>", "eval"),
                    compile(ast.Expression(node.test.comparators[0]), "<test>", "eval"),
                )
            self._assert_cache[code] = (compile(tree, "<test>", "exec"), split)
        whole, split = self._assert_cache[code]
        ns = dict(self.setup_ns)
        ns["candidate"] = self._sanitized
        if split is not None:
            got, expected = eval(split[0], ns), eval(split[1], ns)
            if got == expected:
                return {"passed": True}
            return {"passed": False, "message": f"got {wire.short_repr(got)}, expected {wire.short_repr(expected)}"}
        try:
            exec(whole, ns)
        except AssertionError:
            return {"passed": False, "message": "assertion failed: " + wire.clip(code, 200)}
        return {"passed": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="worker")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-s", type=int, required=True)
    parser.add_argument("--output-limit", type=int, required=True)
    parser.add_argument("--nproc", type=int, default=0)
    opts = parser.parse_args(argv)

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
    load = wire.read_frame(cmd_in)
    if load is None or load.get("type") != "load":
        return 2
    try:
        worker = Worker(load, opts.output_limit)
    except BaseException as exc:  # noqa: BLE001 - every load failure is reported, not raised
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
        start = time.perf_counter()
        try:
            reply = {"type": "obs", "id": test["id"], "ok": True, **worker.run(test)}
        except BaseException as exc:  # noqa: BLE001 - candidate failures become observations
            kind, message = describe_exception(exc)
            reply = {"type": "obs", "id": test["id"], "ok": False, "error_kind": kind, "message": message}
        reply["cpu_ms"] = (time.perf_counter() - start) * 1000.0
        try:
            send(obs_out, reply)
        except (TypeError, ValueError) as exc:  # unencodable observation: report, never crash
            send(obs_out, {"type": "obs", "id": test["id"], "ok": False, "error_kind": "exception",
                           "message": wire.clip(f"observation not encodable: {exc}")})


if __name__ == "__main__":
    sys.exit(main())
