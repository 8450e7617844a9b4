"""Does this interpreter hold exactly the versions a lock file pins?  (stdlib only)

Usage: python scripts/lockcheck.py LOCKFILE [--project DIST]
Exit 0 when every `name==version` of LOCKFILE is installed at that version (and DIST is
installed, e.g. the project's editable install); else print the first difference, exit 1.
The install scripts use it to skip reinstalling a virtualenv that already matches its lock.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import sys

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as f:
        return {m[1]: m[2] for line in f if (m := PIN.match(line))}


def installed(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    lock, project = argv[0], None
    if argv[1:2] == ["--project"] and len(argv) == 3:
        project = argv[2]
    for name, want in sorted(pins(lock).items()):
        have = installed(name)
        if have != want:
            print(f"{lock}: {name}=={want} locked, {have or 'nothing'} installed", file=sys.stderr)
            return 1
    if project and installed(project) is None:
        print(f"{project} itself is not installed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
