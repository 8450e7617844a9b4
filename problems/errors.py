"""One error type for every malformed problem input, rendered as one line naming where.

Users bring problems in several formats; whatever is wrong, the message must say which file,
which line (when the format has lines) and which field, so it can be fixed without a debugger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

_TAGS = {"call", "stdio", "assert", "scorer", "evaluator"}


class ProblemFormatError(ValueError):
    """A problem file that cannot be loaded; `str()` is `file:line: field: reason`."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ):
        self.reason = " ".join(str(reason).split())
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        field = f" field {self.field}:" if self.field else ""
        return f"{where}:{field} {self.reason}"


def format_loc(loc: tuple[Any, ...], prefix: str = "") -> str:
    """Pydantic location -> `tests[3].output` (discriminator tags dropped)."""
    out = prefix
    prev_int = True  # a tag may also lead the location (a test validated on its own)
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            prev_int = True
            continue
        if prev_int and part in _TAGS:
            prev_int = False
            continue
        out += f".{part}" if out else str(part)
        prev_int = False
    return out


def from_validation(
    err: ValidationError, *, file: str | Path | None, line: int | None = None, prefix: str = ""
) -> ProblemFormatError:
    """The first validation error of `err` as a ProblemFormatError."""
    first = err.errors()[0]
    field = format_loc(tuple(first.get("loc", ())), prefix) or None
    msg = first.get("msg", str(err))
    return ProblemFormatError(msg, file=file, line=line, field=field)
