"""Load a report in headless Chromium and look at it the way a reader would: console errors,
network requests, the plot elements' rendered boxes, and a full-page screenshot.

Speaks the DevTools protocol over `--remote-debugging-pipe` (JSON messages separated by NUL on
file descriptors 3 and 4), so it needs nothing but the browser: no websocket client, no driver.
Used by the browser test and by `benchmarks/report_screenshot.py`; the report itself never
imports it.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio")
"""../shared/docs/environment.md: without the background-networking flags Chromium keeps trying
to reach outside hosts."""
PLOTS_JS = """JSON.stringify([...document.querySelectorAll('[id]')].map(e => {
  const r = e.getBoundingClientRect();
  return {id: e.id, tag: e.tagName.toLowerCase(), w: r.width, h: r.height,
          marks: e.querySelectorAll('.mark').length};
}))"""


class BrowserError(RuntimeError):
    """Chromium is missing, died, or did not answer in time."""


@dataclass
class PageReport:
    """What loading one page produced."""

    errors: list[str] = field(default_factory=list)  # console errors, exceptions, error log entries
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    elements: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> tag, w, h, marks
    screenshot: bytes = b""


def _above(fd: int, low: int) -> int:
    """A duplicate of `fd` numbered at least `low` (the original is closed)."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, low)
    os.close(fd)
    return new


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


class Chromium:
    """One headless browser process driven over the DevTools pipe."""

    def __init__(self, binary: str | None = None, timeout_s: float = 60.0):
        self.binary = binary or find_chromium()
        if not self.binary:
            raise BrowserError("chromium not found (Debian: apt-get install chromium)")
        self.timeout_s, self._id, self._buf = timeout_s, 0, b""
        self._events: list[dict[str, Any]] = []
        self._profile = tempfile.mkdtemp(prefix="vpo-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the browser reads commands on fd 3 and writes replies on fd 4; the pipe ends are moved
        # above both first (close-on-exec), so neither dup2 can overwrite the other's source
        to_child_r, from_child_w = (_above(fd, 10) for fd in (to_child_r, from_child_w))
        self._log = open(Path(self._profile) / "chromium.log", "wb")

        def child_fds() -> None:  # in the child, between fork and exec
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        cmd = [self.binary, *FLAGS, f"--user-data-dir={self._profile}", "--remote-debugging-pipe",
               "about:blank"]
        self.proc = subprocess.Popen(cmd, preexec_fn=child_fds, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        os.close(to_child_r)
        os.close(from_child_w)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self._send("Browser.close")
                self.proc.wait(timeout=10)
        except (BrowserError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            for fd in (self._to_child, self._from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._log.close()
            shutil.rmtree(self._profile, ignore_errors=True)

    def _tail(self) -> str:
        self._log.flush()
        lines = (Path(self._profile) / "chromium.log").read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    # --- protocol ---------------------------------------------------------------------------

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise BrowserError(f"chromium exited (code {self.proc.poll()}): {self._tail()}")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserError(f"chromium exited (code {self.proc.poll()}): {self._tail()}") from None
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self._events.append(reply)

    def _wait_event(self, method: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout_s
        while not any(e.get("method") == method and e.get("sessionId") == session for e in self._events):
            self._events.append(self._read(deadline))

    # --- one page ---------------------------------------------------------------------------

    def load(self, path: Path, width: int = 1400, settle_s: float = 0.5,
             screenshot: bool = True) -> PageReport:
        """Open a local file, wait for its load event, and report what happened."""
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self._send(f"{domain}.enable", session=session)
        self._send("Emulation.setDeviceMetricsOverride",
                   {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
        self._events.clear()
        self._send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session)
        self._wait_event("Page.loadEventFired", session)
        time.sleep(settle_s)  # late console messages
        els = json.loads(self._send("Runtime.evaluate", {"expression": PLOTS_JS, "returnByValue": True},
                                    session)["result"]["value"])
        rep = PageReport(elements={e["id"]: e for e in els})
        if screenshot:
            size = self._send("Page.getLayoutMetrics", session=session)["cssContentSize"]
            shot = self._send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}, session)
            rep.screenshot = base64.b64decode(shot["data"])
        for e in self._events:
            if e.get("sessionId") != session:
                continue
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                rep.errors.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                         for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                rep.errors.append("exception: " + p["exceptionDetails"].get("text", ""))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                rep.errors.append(f"log ({p['entry'].get('source')}): {p['entry'].get('text')}")
            elif m == "Network.requestWillBeSent":
                rep.requests.append(p["request"]["url"])
        self._send("Target.closeTarget", {"targetId": target})
        return rep
