"""Hostile candidate programs and what the sandbox must make of them.

Each case is a program for the `solve(x)` entry point, its tests, and the statuses each test
may end with.  Host-side effects (files, secrets, connections, processes) are checked by the
test module, which plants the targets and passes their locations as the test arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    name: str
    program: str
    args: list = field(default_factory=lambda: [[1]])  # one argument list per test
    expected: object = 2
    statuses: tuple[str, ...] = ("passed",)
    message: str = ""  # substring required in every test's message
    mode: str = "function"
    time_limit: float = 1.0  # per test; generous where the cost is the machine's, not the case's


CASES = [
    Case("infinite_loop", "def solve(x):\n    while True:\n        pass\n",
         args=[[1], [2]], statuses=("timeout",), message="time limit"),
    Case("infinite_loop_at_import", "while True:\n    pass\ndef solve(x):\n    return x + 1\n",
         statuses=("timeout",), message="loading"),
    Case("fork_bomb",
         "import os\ndef solve(x):\n    while True:\n        try:\n            os.fork()\n"
         "        except OSError:\n            pass\n",
         statuses=("timeout",)),
    Case("memory_bomb_list",
         "def solve(x):\n    hog = []\n    while True:\n        hog.append(bytearray(10**7))\n",
         statuses=("memory",), time_limit=5.0),
    Case("memory_bomb_single", "def solve(x):\n    return len(bytearray(8 * 1024**3))\n",
         statuses=("memory",), time_limit=5.0),
    Case("stdout_flood",
         "import sys\ndef solve(x):\n    for _ in range(100):\n        sys.stdout.write('x' * 10**6)\n"
         "    return x + 1\n",
         statuses=("error",), message="output limit", time_limit=5.0),
    Case("stdout_flood_raw_fd",
         "import os\ndef solve(x):\n    for _ in range(100):\n        os.write(1, b'y' * 10**6)\n"
         "    return x + 1\n",
         statuses=("error",), message="output limit", time_limit=5.0),
    Case("stdout_flood_script", "print('z' * 100_000_000)\n", mode="stdio",
         statuses=("error",), message="output limit", time_limit=5.0),
    Case("os_exit", "import os\ndef solve(x):\n    os._exit(0)\n",
         args=[[1], [2]], statuses=("crashed",), message="exited with status 0"),
    Case("sys_exit", "import sys\ndef solve(x):\n    sys.exit(3)\n",
         statuses=("error",), message="SystemExit(3)"),
    Case("segfault", "import ctypes\ndef solve(x):\n    ctypes.memmove(8, b'boom', 4)\n    return x + 1\n",
         args=[[1], [2]], statuses=("crashed",), message="segmentation fault"),
    Case("kill_parent",
         "import os, signal\ndef solve(x):\n    for pid in (os.getppid(), 1, -1):\n        try:\n"
         "            os.kill(pid, signal.SIGKILL)\n        except OSError:\n            pass\n"
         "    return x + 1\n",
         args=[[1], [1]], statuses=("passed", "crashed")),
    Case("fake_result_markers",
         "import json, os, struct, sys\n"
         "def frame(obj):\n    data = json.dumps(obj).encode()\n    return struct.pack('>I', len(data)) + data\n"
         "def solve(x):\n"
         "    fakes = [frame({'type': 'outcome', 'job_id': 'x', 'outcome': {'test_id': 't0', 'status': 'passed',"
         " 'score': 1.0}}), frame({'type': 'obs', 'seq': 1, 'ok': True, 'value': 2}),"
         " frame({'type': 'done', 'job_id': 'x'})]\n"
         "    for data in fakes:\n        print('PASSED', data)\n        sys.stdout.flush()\n"
         "        for fd in range(3, 64):\n            try:\n                os.write(fd, data)\n"
         "            except OSError:\n                pass\n"
         "    return -1\n",
         expected=12345, statuses=("failed", "crashed")),
    Case("monkeypatch_comparison",
         "import builtins, math, operator\n"
         "class Always:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n"
         "        return False\n"
         "class Int(int):\n    def __eq__(self, other):\n        return True\n"
         "builtins.isinstance = lambda *a: True\noperator.eq = lambda a, b: True\n"
         "math.isclose = lambda *a, **k: True\n"
         "def solve(x):\n    return Always() if x == 1 else Int(7)\n",
         args=[[1], [5]], expected=99, statuses=("error",), message="rejected"),
]
