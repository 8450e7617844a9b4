"""Minimal JSON-over-HTTP client for OpenAI-compatible servers (stdlib only, thread-safe)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class HTTPError(RuntimeError):
    def __init__(self, status: int, message: str, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}: {message}")
        self.status = status
        self.message = message


def request_json(
    url: str, payload: dict[str, Any] | None = None, *, timeout: float, headers: dict[str, str] | None = None
) -> Any:
    """POST `payload` (GET when None) and decode the JSON answer; HTTPError on a non-2xx status."""
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        text = e.read().decode("utf-8", "replace")
        try:
            text = json.loads(text).get("error", {}).get("message", text)
        except (ValueError, AttributeError):
            pass
        raise HTTPError(e.code, str(text)[:500], url) from None
    except (urllib.error.URLError, OSError) as e:
        raise HTTPError(0, f"unreachable: {e}", url) from None
    try:
        return json.loads(body)
    except ValueError:
        return body  # some endpoints (load_lora_adapter) answer plain text
