"""Does this interpreter hold exactly the versions a lock file pins?  (stdlib only)

Usage: python scripts/lockcheck.py LOCKFILE [--project DIST [--root DIR]]
Exit 0 when every `name==version` of LOCKFILE is installed at that version (and DIST is
installed, editable from DIR when given: a virtualenv shared by several checkouts must not run
another checkout's code); else print the first difference, exit 1.
The install scripts use it to skip reinstalling a virtualenv that already matches its lock.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
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
    lock, project, root = argv[0], None, None
    if argv[1:2] == ["--project"] and len(argv) in (3, 5):
        project = argv[2]
        if argv[3:4] == ["--root"] and len(argv) == 5:
            root = argv[4]
    for name, want in sorted(pins(lock).items()):
        have = installed(name)
        if have != want:
            print(f"{lock}: {name}=={want} locked, {have or 'nothing'} installed", file=sys.stderr)
            return 1
    if project and installed(project) is None:
        print(f"{project} itself is not installed", file=sys.stderr)
        return 1
    if project and root and editable_root(project) != os.path.realpath(root):
        print(f"{project} is installed from {editable_root(project)}, not {root}", file=sys.stderr)
        return 1
    return 0


def editable_root(dist: str) -> str | None:
    """The directory an editable install points at (PEP 610 direct_url.json), resolved."""
    raw = md.distribution(dist).read_text("direct_url.json")
    if not raw:
        return None
    url = json.loads(raw).get("url", "")
    return os.path.realpath(url[len("file://"):]) if url.startswith("file://") else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
