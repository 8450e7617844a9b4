"""Which jail the `process` backend uses on this host, or why it refuses to run candidates.

The `none` jail (rlimits only) isolates neither the file system nor the network: it is what the
docker backend runs inside its own locked-down container, and on a host it is used only when
the config says so with a flag whose name says what it costs (`unsafe_rlimits_only`).  So
`jail: auto` on a host without bubblewrap or unshare is an error naming what to install, never
a silent fallback.
"""

from __future__ import annotations

from sandbox import jails
from sandbox.config import ProcessOptions

UNSAFE_FLAG = "sandbox.process.unsafe_rlimits_only"
INSTALL = ("install bubblewrap (apt-get install bubblewrap), or util-linux's unshare and setpriv "
           "and run as root, or use the docker backend")
ISOLATING = ("bwrap", "unshare")  # the jails that isolate, best first


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run candidates as configured here (one line: why, what to do)."""


class IsolationUnavailable(SandboxUnavailable):
    """No jail that isolates candidates is usable, and rlimits only was not opted into."""


def resolve_jail(opts: ProcessOptions) -> str:
    """The concrete jail for `opts.jail` on this host; raises IsolationUnavailable instead of
    degrading to rlimits only."""
    if opts.jail == "auto":
        for name in ISOLATING:
            if jails.JAILS[name].available():
                return name
        if opts.unsafe_rlimits_only:
            return "none"
        raise IsolationUnavailable(
            "no jail isolates candidates on this host (neither bubblewrap nor unshare+setpriv is "
            f"usable): {INSTALL}; or set {UNSAFE_FLAG}: true to run them with rlimits only (UNSAFE)")
    if opts.jail == "none":
        if opts.unsafe_rlimits_only:
            return "none"
        raise IsolationUnavailable(
            "sandbox.process.jail: none runs candidates with rlimits only (they can read, write and "
            f"connect like any local user): set {UNSAFE_FLAG}: true to allow it, or use jail: auto")
    if not jails.JAILS[opts.jail].available():
        raise IsolationUnavailable(f"sandbox.process.jail: {opts.jail} is not usable on this host: {INSTALL}")
    return opts.jail
