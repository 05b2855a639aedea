"""The whole demo started from the page, as a workshop runs it: wall clock with the demo tab open in Chromium.

Opens a fresh workspace's app in headless Chromium, clicks **Run the whole demo** on the demo tab with its
defaults, waits for the result to show there, and reports the wall clock and the CPU the page cost
(Chromium and the server; the jobs' own processes not counted).

Usage: python benchmarks/demo_page.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from e2e.test_workshop_flow import CHROMIUM, FLAGS  # noqa: E402
from page_cpu import browser_processes, cpu_seconds, server_process  # noqa: E402
from serve import running_app  # noqa: E402


def main() -> int:
    from playwright import sync_api

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        with running_app(workspace) as url, sync_api.sync_playwright() as p:
            server = server_process(int(url.rstrip("/").rsplit(":", 1)[1]))
            before = {proc.pid for proc in psutil.process_iter()}
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.locator("#tab-demo").wait_for(timeout=120_000)
            browsers, seen_browser, seen_server = browser_processes(before), {}, {}
            start_cpu = cpu_seconds(browsers, seen_browser) + cpu_seconds({server.pid: server}, seen_server)
            start = time.monotonic()
            page.locator("#tab-demo").get_by_role("button", name="Run the whole demo").click()
            page.locator("#demo-steps").get_by_text("The result").wait_for(timeout=1_800_000)
            wall = time.monotonic() - start
            browsers.update(browser_processes(before))
            used = cpu_seconds(browsers, seen_browser) + cpu_seconds({server.pid: server}, seen_server) - start_cpu
            browser.close()
    report = {
        "wall_s": round(wall, 1),
        "page_cpu_share_of_a_core": f"{100 * used / wall:.1f}%",
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
