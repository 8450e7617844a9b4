"""Wire format shared by the host, the supervisor and the worker (stdlib only).

Frames are a 4-byte big-endian length followed by UTF-8 JSON.  Values returned by candidates
travel in a tagged JSON encoding of *exact* builtin types, so nothing a candidate defines
(an object whose __eq__ always answers True, say) survives the trip to the judge.
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time

PROTOCOL_VERSION = 1
PASS_SCORE = 1.0 - 1e-9
"""A test counts as passed at this score (scores are in [0, 1]; float tolerance).  Lives here
because the in-sandbox judge (stdlib only) and the host's results model both read it."""
MAX_FRAME = 256 * 1024 * 1024
MESSAGE_LIMIT = 480


# --------------------------------------------------------------------------- framing


def encode_frame(obj) -> bytes:
    data = json.dumps(obj, separators=(",", ":"), allow_nan=True).encode("utf-8")
    return struct.pack(">I", len(data)) + data


def write_frame(fp, obj) -> None:
    fp.write(encode_frame(obj))
    fp.flush()


def _read_exact(fp, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = fp.read(n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fp):
    """Next frame, or None at end of stream.  Raises ValueError on a corrupt stream."""
    header = _read_exact(fp, 4)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
    body = _read_exact(fp, size)
    if body is None:
        return None
    return json.loads(body.decode("utf-8"))


class FrameReader:
    """Non-blocking frame reader over a raw fd, so waits can have deadlines."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = b""
        self.eof = False

    def _try_frame(self):
        if len(self.buf) < 4:
            return None
        (size,) = struct.unpack(">I", self.buf[:4])
        if size > MAX_FRAME:
            raise ValueError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
        if len(self.buf) < 4 + size:
            return None
        body, self.buf = self.buf[4 : 4 + size], self.buf[4 + size :]
        return json.loads(body.decode("utf-8"))

    def read(self, timeout: float):
        """A frame; None on timeout; raises EOFError when the writer is gone."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            frame = self._try_frame()
            if frame is not None:
                return frame
            if self.eof:
                raise EOFError("stream closed")
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                self.eof = True
            self.buf += chunk


# --------------------------------------------------------------------------- values


def encode_value(value, _depth: int = 0):
    """Tagged JSON for exact builtin types; anything else (including subclasses) is refused.

    Exact type checks are the defence against objects whose __eq__ always answers True.
    """
    if _depth > 200:
        raise TypeError("value nested too deeply")
    t = type(value)
    if value is None or t is bool or t is str or t is int:
        return value
    if t is float:
        if math.isnan(value):
            return {"__float__": "nan"}
        if math.isinf(value):
            return {"__float__": "inf" if value > 0 else "-inf"}
        return value
    if t is list:
        return [encode_value(v, _depth + 1) for v in value]
    if t is tuple:
        return {"__tuple__": [encode_value(v, _depth + 1) for v in value]}
    if t is dict:
        return {"__dict__": [[encode_value(k, _depth + 1), encode_value(v, _depth + 1)] for k, v in value.items()]}
    if t is set:
        return {"__set__": [encode_value(v, _depth + 1) for v in value]}
    if t is frozenset:
        return {"__frozenset__": [encode_value(v, _depth + 1) for v in value]}
    if t is bytes:
        return {"__bytes__": value.hex()}
    if t is complex:
        return {"__complex__": [value.real, value.imag]}
    if getattr(t, "__module__", "") == "numpy" and hasattr(value, "tolist"):
        # numpy arrays and scalars (np.float64 subclasses float): their plain Python value,
        # itself held to the exact-type rule; a hostile `tolist` can only return a value
        return encode_value(value.tolist(), _depth + 1)
    raise TypeError(f"unsupported value type {t.__name__}")


def decode_value(value):
    if type(value) is list:
        return [decode_value(v) for v in value]
    if type(value) is not dict:
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag == "__float__":
            return float(inner)
        if tag == "__tuple__":
            return tuple(decode_value(v) for v in inner)
        if tag == "__dict__":
            return {_hashable(decode_value(k)): decode_value(v) for k, v in inner}
        if tag == "__set__":
            return {_hashable(decode_value(v)) for v in inner}
        if tag == "__frozenset__":
            return frozenset(_hashable(decode_value(v)) for v in inner)
        if tag == "__bytes__":
            return bytes.fromhex(inner)
        if tag == "__complex__":
            return complex(inner[0], inner[1])
    # plain JSON objects written by problem authors: string-keyed dicts
    return {k: decode_value(v) for k, v in value.items()}


def _hashable(value):
    return tuple(_hashable(v) for v in value) if type(value) is list else value


def values_equal(got, expected, rel_tol: float, abs_tol: float) -> bool:
    """Python equality, except floats compare with tolerance and lists equal tuples."""
    if isinstance(expected, float) or isinstance(got, float):
        if type(got) is bool or type(expected) is bool:
            return got == expected and type(got) is type(expected)
        if not isinstance(got, (int, float)) or not isinstance(expected, (int, float)):
            return False
        if math.isnan(expected) or math.isnan(got):
            return math.isnan(expected) and math.isnan(got)
        return math.isclose(got, expected, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(got, (list, tuple))
            and len(got) == len(expected)
            and all(values_equal(g, e, rel_tol, abs_tol) for g, e in zip(got, expected))
        )
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and got.keys() == expected.keys()
            and all(values_equal(got[k], expected[k], rel_tol, abs_tol) for k in expected)
        )
    return got == expected


def normalize_output(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def outputs_equal(got: str, expected: str, rel_tol: float, abs_tol: float) -> bool:
    if normalize_output(got) == normalize_output(expected):
        return True
    if rel_tol == 0 and abs_tol == 0:
        return False
    a, b = got.split(), expected.split()
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x == y:
            continue
        try:
            if not math.isclose(float(x), float(y), rel_tol=rel_tol, abs_tol=abs_tol):
                return False
        except ValueError:
            return False
    return True


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = str(text).replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_repr(value, limit: int = 120) -> str:
    try:
        return clip(repr(value), limit)
    except Exception:  # noqa: BLE001 - repr of decoded builtins should not fail; be safe
        return "<unrepresentable>"
