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
import json
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
from judge import Abort, Judge  # noqa: E402

KILL_STATUSES = {
    signal.SIGKILL: ("crashed", "killed by SIGKILL"),
    signal.SIGSEGV: ("crashed", "segmentation fault"),
    signal.SIGBUS: ("crashed", "bus error"),
    signal.SIGABRT: ("crashed", "aborted"),
    signal.SIGXCPU: ("timeout", "CPU time limit exceeded"),
    signal.SIGXFSZ: ("error", "output limit exceeded"),
}
ERROR_STATUSES = {"memory": "memory", "output": "error", "exception": "error", "exit": "error"}


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
            env={**os.environ, **jails.WORKER_ENV},
        )
        self.jail_name = jail.name
        self.oom_kills = oom_kill_count()
        self.reader = wire.FrameReader(self.proc.stdout.fileno())

    def send(self, frame: dict) -> None:
        try:
            wire.write_frame(self.proc.stdin, frame)
        except OSError:
            raise self.death() from None

    def receive(self, timeout: float) -> dict:
        """The next frame; Abort('timeout') when none comes in time, Abort(...) on death."""
        try:
            frame = self.reader.read(timeout)
        except (EOFError, ValueError, UnicodeDecodeError):
            raise self.death() from None
        if frame is None:
            raise Abort("timeout", f"exceeded the time limit of {timeout:.3g}s")
        if not isinstance(frame, dict):
            raise self.death()
        return frame

    def death(self) -> Abort:
        """How the worker died, as an Abort to raise."""
        try:
            code = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            return Abort("crashed", "worker broke the protocol (corrupt frame)")
        if code < 0 or (self.jail_name == "bwrap" and code > 128):
            sig = -code if code < 0 else code - 128
            if sig == signal.SIGKILL and oom_kill_count() > self.oom_kills:
                return Abort("memory", "killed by the out-of-memory killer")
            status, message = KILL_STATUSES.get(sig, ("crashed", f"killed by signal {sig}"))
            return Abort(status, message)
        return Abort("crashed", f"process exited with status {code} during the test")

    def kill(self) -> None:
        jails.kill_tree(self.proc)


class Candidate:
    """One candidate program: a worker started on demand and replaced after it dies."""

    def __init__(self, supervisor: "Supervisor", job: dict, workdir: str | None, deadline: float):
        self.supervisor, self.job, self.workdir, self.deadline = supervisor, job, workdir, deadline
        self.worker: WorkerProcess | None = None
        self.load_error: Abort | None = None
        self.seq = 0
        self.metrics: dict[str, dict | Abort] = {}  # evaluator function -> its metrics or failure

    def metrics_of(self, function: str, test_deadline: float) -> dict:
        """Program mode: each evaluator function runs once per candidate; tests share it."""
        if function not in self.metrics:
            try:
                reply = self.request("evaluate", {"function": function}, test_deadline)
                self.metrics[function] = wire.decode_value(reply["value"])
            except Abort as abort:
                self.metrics[function] = abort
        found = self.metrics[function]
        if isinstance(found, Abort):
            raise found
        return found

    def ensure_loaded(self) -> None:
        """A loaded worker (started under the load timeout), or the Abort of its load."""
        if self.load_error is not None:
            raise self.load_error
        if self.worker is None:
            self._start()

    def request(self, op: str, payload: dict, test_deadline: float) -> dict:
        """Ask the worker to compute; the reply on success, else Abort with the status."""
        self.ensure_loaded()
        assert self.worker is not None
        self.seq += 1
        ok = False
        try:
            self.worker.send({"type": "run", "seq": self.seq, "op": op, **payload})
            while True:
                reply = self.worker.receive(test_deadline - time.monotonic())
                if reply.get("type") == "obs" and reply.get("seq") == self.seq:
                    break
            ok = True
        finally:
            if not ok:  # timeout, death or an interrupted wait: this worker is done
                self.retire()
        if not reply.get("ok"):
            raise Abort(ERROR_STATUSES.get(reply.get("error_kind"), "error"), str(reply.get("message", "")))
        return reply

    def _start(self) -> None:
        worker = WorkerProcess(self.supervisor.jail, self.job, self.supervisor.nproc, self.workdir)
        timeout = min(load_timeout(self.job), max(0.0, self.deadline - time.monotonic()))
        try:
            worker.send({"type": "load", "program": self.job["program"], "mode": self.job["mode"],
                         "entry_point": self.job.get("entry_point"),
                         "evaluator_code": self.job.get("evaluator_code", ""),
                         "support_files": self.job.get("support_files", {})})
            reply = worker.receive(timeout)
        except Abort as abort:
            worker.kill()
            prefix = "program did not finish loading" if abort.status == "timeout" else "program crashed while loading"
            self.load_error = Abort(abort.status, f"{prefix}: {abort.message}")
            raise self.load_error from None
        if reply.get("type") != "loaded":
            worker.kill()
            status = ERROR_STATUSES.get(reply.get("error_kind"), "error")
            self.load_error = Abort(status, wire.clip(str(reply.get("message", "load failed"))))
            raise self.load_error
        self.worker = worker

    def retire(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None
        reap_children(self.supervisor.reap_all)


class Supervisor:
    def __init__(self, jail: jails.NoJail, nproc: int, workdir_base: str | None, reap_all: bool,
                 scrub: tuple[str, ...] = ()):
        self.jail, self.nproc = jail, nproc
        self.workdir_base, self.reap_all = workdir_base, reap_all
        self.scrub = scrub if reap_all else ()  # only safe once every other process is dead

    def run_job(self, job: dict, emit) -> None:
        start = time.monotonic()
        deadline = start + float(job["wall_limit_s"])
        tests = job["tests"]
        stages = sorted({t.get("stage", 1) for t in tests})
        thresholds = job.get("stage_thresholds", [])
        workdir = self._make_workdir()
        candidate = Candidate(self, job, workdir, deadline)
        stages_run: list[int] = []
        try:
            judge = Judge(job)
            for index, stage in enumerate(stages):
                if index > 0:
                    needed = thresholds[index - 1] if index - 1 < len(thresholds) else 0.0
                    if stage_mean < needed:
                        reason = f"stage {stages[index - 1]} mean {stage_mean:.3f} < threshold {needed}"
                        for test in tests:
                            if test.get("stage", 1) in stages[index:]:
                                emit(_outcome(job, test, "skipped", 0.0, 0.0, reason))
                        break
                stages_run.append(stage)
                stage_tests = [t for t in tests if t.get("stage", 1) == stage]
                total = 0.0
                for test in stage_tests:
                    t0 = time.monotonic()
                    status, score, message = self._run_test(candidate, judge, job, test, deadline)
                    total += score
                    if test.get("hidden") and status not in ("passed", "skipped"):
                        message = f"{status} (hidden test)"
                    emit(_outcome(job, test, status, score, (time.monotonic() - t0) * 1000.0, message))
                stage_mean = total / max(1, len(stage_tests))
        finally:
            candidate.retire()
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            scrub_scratch(self.scrub)
        error = candidate.load_error.message if candidate.load_error else ""
        emit({"type": "done", "job_id": job["job_id"], "stages_run": stages_run,
              "wall_ms": (time.monotonic() - start) * 1000.0, "error": error})

    def _run_test(self, candidate: Candidate, judge: Judge, job: dict, test: dict, deadline: float):
        if time.monotonic() < deadline:
            try:  # loading (interpreter start, the program's imports) is not the test's time
                candidate.ensure_loaded()
            except Abort as abort:
                return abort.status, 0.0, abort.message
        now = time.monotonic()
        if now >= deadline:
            return "timeout", 0.0, f"candidate wall limit of {job['wall_limit_s']}s exceeded"
        test_deadline = min(deadline, now + float(test.get("time_limit_s") or job["time_limit_s"]))
        kind = test["kind"]
        try:
            if kind == "call":
                reply = candidate.request("call", {"args": test.get("args", []), "kwargs": test.get("kwargs", {})},
                                          test_deadline)
                return judge.call(test, reply["value"])
            if kind == "stdio":
                reply = candidate.request("script", {"input": test.get("input", "")}, test_deadline)
                return judge.stdio(test, reply["stdout"])
            if kind == "scorer":
                if job["mode"] == "function":
                    reply = candidate.request("call", {"args": [test.get("instance")]}, test_deadline)
                    return judge.score(test, wire.decode_value(reply["value"]))
                instance = wire.decode_value(test.get("instance"))
                text = instance if isinstance(instance, str) else json.dumps(instance)
                reply = candidate.request("script", {"input": text}, test_deadline)
                return judge.score(test, reply["stdout"])
            if kind == "evaluator":
                return judge.evaluator(test, candidate.metrics_of(test.get("function", "evaluate"), test_deadline))
            if kind == "assert":
                def proxy(*args, **kwargs):
                    try:
                        payload = {"args": wire.encode_value(list(args)), "kwargs": wire.encode_value(kwargs)}
                    except TypeError as exc:
                        raise Abort("error", f"test passes an unsupported argument: {exc}") from None
                    return wire.decode_value(candidate.request("call", payload, test_deadline)["value"])

                return judge.assertion(test, proxy, test_deadline - time.monotonic())
            return "error", 0.0, f"unknown test kind {kind!r}"
        except Abort as abort:
            return abort.status, 0.0, abort.message

    def _make_workdir(self) -> str | None:
        if self.jail.isolates_filesystem:
            return None
        path = tempfile.mkdtemp(prefix="cand-", dir=self.workdir_base)
        if self.jail.uid is not None and os.geteuid() == 0:
            os.chown(path, self.jail.uid, self.jail.uid)
        return path


def _outcome(job: dict, test: dict, status: str, score: float, runtime_ms: float, message: str) -> dict:
    return {"type": "outcome", "job_id": job["job_id"],
            "outcome": {"test_id": test["id"], "status": status, "score": score,
                        "runtime_ms": runtime_ms, "message": wire.clip(message),
                        "stage": test.get("stage", 1)}}


def oom_kill_count() -> int:
    """OOM kills so far in our memory cgroup (v2 or v1); 0 where it cannot be read."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def load_timeout(job: dict) -> float:
    return float(job.get("load_timeout_s", max(5.0, 2 * float(job["time_limit_s"]))))


def reap_children(kill_all: bool, timeout: float = 3.0) -> None:
    """Wait for every descendant to be gone (we are a subreaper, so orphans come to us).

    As PID 1 of a container (`kill_all`), first kill every other process: grandchildren that
    escaped the worker's process group die here.
    """
    if kill_all:
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    end = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > end:
                return
            time.sleep(0.002)


def scrub_scratch(dirs: tuple[str, ...]) -> None:
    """Empty the scratch dirs and SysV shared memory successive candidates share (container
    mode), so no candidate leaves files, a full tmpfs or pinned memory to the next one."""
    def force(func, path, _exc):  # a candidate may have chmod-ed its files or dirs to 000
        try:
            os.chmod(os.path.dirname(path), 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                shutil.rmtree(path, ignore_errors=True)
            else:
                func(path)
        except OSError:
            pass

    for base in dirs:
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            path = os.path.join(base, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, onerror=force)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass
    if dirs:
        try:
            with open("/proc/sysvipc/shm") as f:
                ids = [int(line.split()[1]) for line in f.readlines()[1:]]
            libc = ctypes.CDLL(None, use_errno=True)
            for shmid in ids:
                libc.shmctl(shmid, 0, None)  # IPC_RMID = 0
        except (OSError, ValueError, IndexError, AttributeError):
            pass


def _harden() -> None:
    """Not dumpable (same-uid processes cannot ptrace us or read our memory); a subreaper
    (orphaned candidate processes become our children, so we can reap and count them)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER = 36
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def serve(opts: argparse.Namespace) -> int:
    _harden()
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by accident goes to stderr, never into the channel
    jail_name = jails.best_jail() if opts.jail == "auto" else opts.jail
    jail = jails.JAILS[jail_name](opts.python or jails.default_python(), opts.uid, opts.site)
    reap_all = opts.reap_all and os.getpid() == 1
    supervisor = Supervisor(jail, opts.nproc, opts.workdir, reap_all, tuple(opts.scrub))
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
    sup.add_argument("--site", default=None, help="package site directory the workers import from")
    sup.add_argument("--scrub", action="append", default=[],
                     help="with --reap-all: empty this scratch dir after every candidate (repeatable)")
    opts = parser.parse_args(argv)
    return serve(opts)


if __name__ == "__main__":
    sys.exit(main())
