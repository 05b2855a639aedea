"""What opening the page costs the server: a fresh browser (no cache) opens the hosted app, N times in turn.

Per open: the server's CPU seconds from the request for the page until 8 s later (its menus and run lists
filled), the requests the browser made (the page, its files, queued events) and how many of those were
events. The first open also builds what the server keeps (the page, its files), so it is reported apart.

Usage: python benchmarks/page_open.py [--opens 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from e2e.test_workshop_flow import CHROMIUM, FLAGS  # noqa: E402
from load_test import show  # noqa: E402
from page_cpu import server_process  # noqa: E402
from serve import running_app  # noqa: E402

SETTLE_S = 8.0  # after the page's title shows: its opening events have run


def open_once(browser, url: str, server) -> dict:
    context = browser.new_context()
    page = context.new_page()
    kinds: Counter = Counter()
    page.on("request", lambda r: kinds.update(["event" if "/queue/join" in r.url else r.resource_type]))
    began = sum(server.cpu_times()[:2])
    page.goto(url)
    page.wait_for_selector("text=RLHF Playground", timeout=120_000)
    page.wait_for_timeout(SETTLE_S * 1000)
    spent = sum(server.cpu_times()[:2]) - began
    context.close()
    return {"server_cpu_s": round(spent, 3), "requests": sum(kinds.values()), "events": kinds["event"]}


def measure(opens: int) -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="page-open-") as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        with running_app(workspace, RLHF_HOSTED="1") as url, sync_playwright() as p:
            server = server_process(int(url.rsplit(":", 1)[1].strip("/")))
            time.sleep(5)  # the app's warm-up (imports) is not a visitor's cost
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            runs = [open_once(browser, url, server) for _ in range(opens)]
            browser.close()
    later = [r["server_cpu_s"] for r in runs[1:]] or [runs[0]["server_cpu_s"]]
    return {"first": runs[0], "later_median_server_cpu_s": statistics.median(later), "opens": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not 1 <= args.opens <= 50:
        sys.exit("error: --opens must be 1..50.")
    show(measure(args.opens), args.json)


if __name__ == "__main__":
    main()
