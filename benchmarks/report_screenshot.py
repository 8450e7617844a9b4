"""Screenshot of a run's report as a reader sees it (headless Chromium, full page).

    python benchmarks/report_screenshot.py RUN_DIR OUT.png [--width 1400]

Renders `evolve report RUN_DIR` to OUT.html next to OUT.png, loads it offline in Chromium
(evolve/report/browser.py), refuses to write a screenshot of a page with console errors or
outside requests, and saves the full page.  Used for the README's screenshot.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evolve.report.browser import Chromium  # noqa: E402
from evolve.report.build import write_report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("out", type=Path, help="PNG file to write")
    ap.add_argument("--width", type=int, default=1400, help="viewport width in CSS pixels")
    args = ap.parse_args()
    html = write_report(args.run_dir, args.out.with_suffix(".html"))
    with Chromium() as browser:
        page = browser.load(html, width=args.width)
    outside = [u for u in page.requests if u != html.resolve().as_uri()]
    if page.errors or outside:
        raise SystemExit(f"{html}: not screenshotted: errors {page.errors}, outside requests {outside}")
    args.out.write_bytes(page.screenshot)
    print(f"{args.out}: {len(page.screenshot) / 1e3:,.0f} kB ({html})")


if __name__ == "__main__":
    main()
