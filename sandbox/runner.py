#!/usr/bin/env python3
"""The trusted supervisor: judges one candidate at a time (stdlib only).

Runs inside a container (as PID 1, where candidates cannot signal it) for the `docker`
backend, and as a host subprocess for the `process` backend.  It reads job frames on stdin and
writes outcome frames on stdout, its result channel, which candidates never hold.  For every
candidate it starts a fresh jailed worker interpreter (see worker.py), sends it only test
inputs, judges the observations against expected values that stay here, and classifies every
way a worker can fail: exception, wrong answer, timeout, memory, output flood, exit, signal.
A worker that dies is replaced for the remaining tests, so one crash costs one test.
"""

from __future__ import annotations

import argparse
import ctypes
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jails  # noqa: E402
import wire  # noqa: E402

WORKER_FIELDS = {
    "call": ("args", "kwargs"),
    "stdio": ("input",),
    "assert": ("code",),
    "scorer": ("instance",),
}
KILL_STATUSES = {
    signal.SIGKILL: ("memory", "killed by SIGKILL (most likely the memory limit)"),
    signal.SIGSEGV: ("crashed", "segmentation fault"),
    signal.SIGBUS: ("crashed", "bus error"),
    signal.SIGABRT: ("crashed", "aborted"),
    signal.SIGXCPU: ("timeout", "CPU time limit exceeded"),
    signal.SIGXFSZ: ("error", "output limit exceeded"),
}
ERROR_STATUSES = {"memory": "memory", "output": "error", "exception": "error", "exit": "error"}


class WorkerDied(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class WorkerTimeout(Exception):
    pass


class WorkerProcess:
    """One jailed worker interpreter and its two pipes."""

    def __init__(self, jail: jails.NoJail, job: dict, nproc: int, workdir: str | None):
        wall = float(job["wall_limit_s"])
        argv = [
            "--memory-mb", str(int(job["memory_mb"])),
            "--cpu-s", str(int(math.ceil(wall)) + 1),
            "--output-limit", str(int(job["output_limit"])),
            "--nproc", str(nproc),
        ]
        setuid = jail.uid if jail.needs_setuid() else None

        def preexec() -> None:
            if setuid is not None:
                os.setgroups([])
                os.setgid(setuid)
                os.setuid(setuid)

        self.proc = subprocess.Popen(
            jail.wrap(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            start_new_session=True,
            preexec_fn=preexec if setuid is not None else None,
            close_fds=True,
        )
        self.jail_name = jail.name
        self.reader = wire.FrameReader(self.proc.stdout.fileno())

    def send(self, frame: dict) -> None:
        try:
            wire.write_frame(self.proc.stdin, frame)
        except (BrokenPipeError, OSError):
            raise self._death() from None

    def receive(self, timeout: float) -> dict:
        try:
            frame = self.reader.read(timeout)
        except (EOFError, ValueError, UnicodeDecodeError):
            raise self._death() from None
        if frame is None:
            raise WorkerTimeout()
        if not isinstance(frame, dict):
            raise self._death()
        return frame

    def _death(self) -> WorkerDied:
        try:
            code = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.kill()
            return WorkerDied("crashed", "worker sent a corrupt frame")
        if code < 0 or (self.jail_name == "bwrap" and code > 128):
            sig = -code if code < 0 else code - 128
            status, message = KILL_STATUSES.get(sig, ("crashed", f"killed by signal {sig}"))
            return WorkerDied(status, message)
        return WorkerDied("crashed", f"process exited with status {code} during the test")

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass


class Judge:
    """Compares observations with expected values that never leave the supervisor."""

    def __init__(self, job: dict):
        self.scorer = None
        if job.get("scorer_code"):
            ns: dict = {"__name__": "scorer"}
            exec(compile(job["scorer_code"], "<scorer>", "exec"), ns)
            self.scorer = ns["score"]

    def verdict(self, test: dict, obs: dict) -> tuple[str, float, str]:
        kind, hidden = test["kind"], test.get("hidden", False)
        if kind == "call":
            got = wire.decode_value(obs.get("value"))
            expected = wire.decode_value(test.get("expected"))
            if wire.values_equal(got, expected, test.get("rel_tol", 1e-6), test.get("abs_tol", 1e-6)):
                return "passed", 1.0, ""
            shown = "(hidden test)" if hidden else f"expected {wire.short_repr(expected)}"
            return "failed", 0.0, f"got {wire.short_repr(got)}, {shown}"
        if kind == "stdio":
            got = obs.get("stdout", "")
            if wire.outputs_equal(got, test["output"], test.get("rel_tol", 0.0), test.get("abs_tol", 0.0)):
                return "passed", 1.0, ""
            return "failed", 0.0, self._stdout_diff(got, test["output"], hidden)
        if kind == "assert":
            if obs.get("passed") is True:
                return "passed", 1.0, ""
            return "failed", 0.0, "(hidden test)" if hidden else obs.get("message", "assertion failed")
        if kind == "scorer":
            output = wire.decode_value(obs["value"]) if "value" in obs else obs.get("stdout", "")
            return self._score(test, output)
        return "error", 0.0, f"unknown test kind {kind!r}"

    def _score(self, test: dict, output) -> tuple[str, float, str]:
        if self.scorer is None:
            return "error", 0.0, "problem has scorer tests but no score() function"
        instance = wire.decode_value(test.get("instance"))
        limit = float(test.get("scorer_time_limit_s", 30.0))

        def alarm(_sig, _frame):
            raise TimeoutError(f"scorer exceeded {limit:g}s")

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            value = float(self.scorer(instance, output))
        except Exception as exc:  # noqa: BLE001 - an invalid output scores zero, with the reason
            return "failed", 0.0, wire.clip(f"invalid output: {type(exc).__name__}: {exc}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if math.isnan(value):
            return "failed", 0.0, "scorer returned NaN"
        value = min(1.0, max(0.0, value))
        return ("passed", 1.0, "") if value >= 1.0 - 1e-9 else ("failed", value, f"score {value:.4f}")

    @staticmethod
    def _stdout_diff(got: str, expected: str, hidden: bool) -> str:
        a, b = wire.normalize_output(got), wire.normalize_output(expected)
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else "<missing>"
            y = b[i] if i < len(b) else "<end of output>"
            if x != y:
                if hidden:
                    return f"wrong answer on line {i + 1} (hidden test)"
                return f"line {i + 1}: got {wire.clip(x, 100)!r}, expected {wire.clip(y, 100)!r}"
        return "output differs"


class Supervisor:
    def __init__(self, jail: jails.NoJail, nproc: int, workdir_base: str | None, reap_all: bool):
        self.jail, self.nproc = jail, nproc
        self.workdir_base, self.reap_all = workdir_base, reap_all

    def run_job(self, job: dict, emit) -> None:
        start = time.monotonic()
        deadline = start + float(job["wall_limit_s"])
        tests = job["tests"]
        stages = sorted({t.get("stage", 1) for t in tests})
        thresholds = job.get("stage_thresholds", [])
        workdir = self._make_workdir()
        worker: WorkerProcess | None = None
        load_error: tuple[str, str] | None = None
        stages_run: list[int] = []
        stage_scores: list[tuple[int, float]] = []
        try:
            judge = Judge(job)
            for index, stage in enumerate(stages):
                stage_tests = [t for t in tests if t.get("stage", 1) == stage]
                if index > 0:
                    prev = [o for o in stage_scores if o[0] == stages[index - 1]]
                    mean = sum(s for _, s in prev) / max(1, len(prev))
                    needed = thresholds[index - 1] if index - 1 < len(thresholds) else 0.0
                    if mean < needed:
                        for t in self._remaining(stages[index:], tests):
                            emit(self._outcome(job, t, "skipped", 0.0, 0.0,
                                               f"stage {stages[index - 1]} mean {mean:.3f} < {needed}"))
                        break
                stages_run.append(stage)
                for test in stage_tests:
                    t0 = time.monotonic()
                    if load_error is not None:
                        status, message = load_error
                        emit(self._outcome(job, test, status, 0.0, 0.0, message))
                        stage_scores.append((stage, 0.0))
                        continue
                    remaining = deadline - t0
                    if remaining <= 0:
                        emit(self._outcome(job, test, "timeout", 0.0, 0.0,
                                           f"candidate wall limit of {job['wall_limit_s']}s exceeded"))
                        stage_scores.append((stage, 0.0))
                        continue
                    limit = min(float(test.get("time_limit_s") or job["time_limit_s"]), remaining)
                    status, score, message = "crashed", 0.0, ""
                    try:
                        if worker is None:
                            worker, load_error = self._start_worker(job, deadline, workdir)
                            if load_error is not None:
                                status, message = load_error
                                raise _Recorded()
                            t0 = time.monotonic()
                        worker.send({"type": "run", "id": test["id"], "kind": test["kind"],
                                     **{k: test[k] for k in WORKER_FIELDS[test["kind"]] if k in test}})
                        obs = worker.receive(limit)
                        if obs.get("type") != "obs" or obs.get("id") != test["id"]:
                            raise WorkerDied("crashed", "worker answered out of protocol")
                        if obs.get("ok"):
                            status, score, message = judge.verdict(test, obs)
                        else:
                            status = ERROR_STATUSES.get(obs.get("error_kind"), "error")
                            message = obs.get("message", "")
                    except _Recorded:
                        pass
                    except WorkerTimeout:
                        status, message = "timeout", f"exceeded the time limit of {limit:.3g}s"
                        worker = self._retire(worker)
                    except WorkerDied as died:
                        status, message = died.status, died.message
                        worker = self._retire(worker)
                    runtime = (time.monotonic() - t0) * 1000.0
                    emit(self._outcome(job, test, status, score, runtime, message))
                    stage_scores.append((stage, score))
        finally:
            self._retire(worker)
            self._cleanup(workdir)
        emit({"type": "done", "job_id": job["job_id"], "stages_run": stages_run,
              "wall_ms": (time.monotonic() - start) * 1000.0,
              "error": load_error[1] if load_error else ""})

    def _start_worker(self, job: dict, deadline: float, workdir: str | None):
        worker = WorkerProcess(self.jail, job, self.nproc, workdir)
        worker.send({"type": "load", "program": job["program"], "mode": job["mode"],
                     "entry_point": job.get("entry_point"), "setup_code": job.get("setup_code", "")})
        timeout = min(max(wire_load_timeout(job), 1.0), max(0.0, deadline - time.monotonic()))
        try:
            reply = worker.receive(timeout)
        except WorkerTimeout:
            worker.kill()
            return None, ("timeout", f"program did not finish loading within {timeout:.3g}s")
        except WorkerDied as died:
            worker.kill()
            return None, (died.status, f"program crashed while loading: {died.message}")
        if reply.get("type") == "load_error":
            worker.kill()
            status = ERROR_STATUSES.get(reply.get("error_kind"), "error")
            return None, (status, wire.clip(reply.get("message", "load failed")))
        return worker, None

    def _retire(self, worker: WorkerProcess | None) -> None:
        if worker is not None:
            worker.kill()
        if self.reap_all:
            _reap_everything_else()
        return None

    def _make_workdir(self) -> str | None:
        if self.jail.isolates_filesystem:
            return None
        path = tempfile.mkdtemp(prefix="cand-", dir=self.workdir_base)
        if self.jail.uid is not None and os.geteuid() == 0:
            os.chown(path, self.jail.uid, self.jail.uid)
        return path

    @staticmethod
    def _cleanup(path: str | None) -> None:
        if path:
            shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _remaining(stages: list[int], tests: list[dict]) -> list[dict]:
        return [t for t in tests if t.get("stage", 1) in stages]

    @staticmethod
    def _outcome(job, test, status, score, runtime_ms, message) -> dict:
        return {"type": "outcome", "job_id": job["job_id"],
                "outcome": {"test_id": test["id"], "status": status, "score": score,
                            "runtime_ms": runtime_ms, "message": wire.clip(message),
                            "stage": test.get("stage", 1)}}


class _Recorded(Exception):
    """Internal: the outcome is already decided."""


def wire_load_timeout(job: dict) -> float:
    return float(job.get("load_timeout_s", max(5.0, 2 * float(job["time_limit_s"]))))


def _reap_everything_else() -> None:
    """As PID 1 of a container: kill every other process (escaped grandchildren) and reap."""
    try:
        os.kill(-1, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.005)
            try:
                os.kill(-1, 0)
            except ProcessLookupError:
                return


def _harden() -> None:
    """Not dumpable: same-uid processes cannot ptrace us or read our memory."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def serve(opts: argparse.Namespace) -> int:
    _harden()
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by accident goes to stderr, never into the channel
    jail_name = jails.best_jail() if opts.jail == "auto" else opts.jail
    jail = jails.JAILS[jail_name](opts.python or jails.default_python(), opts.uid)
    reap_all = opts.reap_all and os.getpid() == 1
    supervisor = Supervisor(jail, opts.nproc, opts.workdir, reap_all)
    wire.write_frame(channel, {"type": "ready", "protocol": wire.PROTOCOL_VERSION,
                               "pid": os.getpid(), "jail": jail.name})
    source = sys.stdin.buffer
    while True:
        try:
            job = wire.read_frame(source)
        except ValueError as exc:
            print(f"supervisor: corrupt job frame: {exc}", file=sys.stderr)
            return 2
        if job is None or job.get("type") == "shutdown":
            return 0
        if job.get("type") != "job":
            continue
        supervisor.run_job(job, lambda frame: wire.write_frame(channel, frame))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="runner")
    sub = parser.add_subparsers(dest="command", required=True)
    sup = sub.add_parser("supervise")
    sup.add_argument("--jail", default="auto", choices=["auto", *jails.JAILS])
    sup.add_argument("--python", default=None)
    sup.add_argument("--uid", type=int, default=None)
    sup.add_argument("--nproc", type=int, default=0)
    sup.add_argument("--workdir", default=None)
    sup.add_argument("--reap-all", action="store_true")
    opts = parser.parse_args(argv)
    return serve(opts)


if __name__ == "__main__":
    sys.exit(main())
