"""What an open page costs: CPU time of Chromium and the app's server over a minute, as a share of one core.

Three scenarios, each on a fresh workspace:
* ``idle``: the page open on its first tab (the demo), nothing running;
* ``watching``: a long SFT run on the tiny model (a metrics row every fraction of a second, the
  worst case for a live view) started from a terminal, the page open on the Fine-tune tab;
* ``room``: the same run, and ``--pages`` pages (each in its own browser, so that its CPU is its own)
  open on different tabs: the ones that poll a run (the demo, Fine-tune, Reward model, PPO, the
  methods and Compare) and the Data tab; Label and Try models work only when a person asks them to.
The training job's own processes are not counted: only the browsers' and the server's.

Usage: python benchmarks/page_cpu.py [--seconds 60] [--scenario idle|watching|both|room] [--pages 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from e2e.test_workshop_flow import CHROMIUM, FLAGS  # noqa: E402
from serve import running_app  # noqa: E402


def cpu_seconds(processes: dict[int, psutil.Process], seen: dict[int, float]) -> float:
    """User + system seconds of ``processes`` so far (a process that has ended keeps its last reading)."""
    for pid, proc in processes.items():
        try:
            times = proc.cpu_times()
            seen[pid] = times.user + times.system
        except psutil.Error:
            pass
    return sum(seen.values())


def browser_processes(before: set[int]) -> dict[int, psutil.Process]:
    return {
        p.pid: p
        for p in psutil.process_iter(["name"])
        if p.pid not in before and "chrom" in (p.info["name"] or "").lower()
    }


def server_process(port: int) -> psutil.Process:
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
            return psutil.Process(conn.pid)
    raise RuntimeError(f"nothing listens on port {port}")


def start_long_sft(workspace: Path, model: Path, data: Path) -> subprocess.Popen:
    line = "Line {}: the weather is fine and the tea is warm."
    rows = "".join(json.dumps({"text": line.format(i)}) + "\n" for i in range(64))
    data.write_text(rows, encoding="utf-8")
    env = {**os.environ, "RLHF_WORKSPACE": str(workspace)}
    command = [sys.executable, "-m", "rlhf_playground", "sft", "--model", str(model), "--dataset", str(data)]
    command += ["--max-steps", "100000", "--batch-size", "2", "--max-length", "32", "--no-load-in-4bit"]
    command += ["--eval-prompts", "0", "--save-steps", "0"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


ROOM_TABS = ["▶ Whole demo", "1 · Data", "2 · Fine-tune", "3 · Reward model", "4 · PPO", "5 · DPO · GRPO · RLOO"]
ROOM_TABS += ["6 · Compare"]


def measure_room(seconds: float, pages: int) -> dict:
    """``pages`` browsers on the tabs of ``ROOM_TABS`` in turn while a run trains: each one's CPU and the server's."""
    from playwright import sync_api

    from rlhf_playground.models.tiny import make_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        job = start_long_sft(workspace, make_tiny_model(Path(tmp) / "tiny"), Path(tmp) / "texts.jsonl")
        try:
            with running_app(workspace) as url, sync_api.sync_playwright() as p:
                server = server_process(int(url.rstrip("/").rsplit(":", 1)[1]))
                claimed: set[int] = {proc.pid for proc in psutil.process_iter()}
                opened = []
                for index in range(pages):
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    page.goto(url)
                    page.locator("#tab-demo").wait_for(timeout=300_000)
                    name = ROOM_TABS[index % len(ROOM_TABS)]
                    if name != ROOM_TABS[0]:  # the first tab is open already
                        page.get_by_role("tab", name=name).click(timeout=300_000)  # 10 browsers on 2 cores
                    mine = browser_processes(claimed)
                    claimed |= set(mine)
                    opened.append((name, browser, mine))
                time.sleep(30)  # let the pages settle after their first answers (slow with 10 browsers on 2 cores)
                seen_server: dict[int, float] = {}
                seen = [dict() for _ in opened]
                server_start = cpu_seconds({server.pid: server}, seen_server)
                starts, start = [cpu_seconds(procs, s) for (_, _, procs), s in zip(opened, seen)], time.monotonic()
                time.sleep(seconds)
                server_used = cpu_seconds({server.pid: server}, seen_server) - server_start
                used = [cpu_seconds(procs, s) - begun for (_, _, procs), s, begun in zip(opened, seen, starts)]
                wall = time.monotonic() - start
                for _, browser, _ in opened:
                    browser.close()
        finally:
            job.terminate()
            job.wait(timeout=60)
    return {
        "scenario": "room",
        "pages": pages,
        "seconds": round(wall, 1),
        "server": f"{100 * server_used / wall:.1f}%",
        "each_page": [f"{name}: {100 * u / wall:.1f}%" for (name, _, _), u in zip(opened, used)],
        "all_pages": f"{100 * sum(used) / wall:.1f}%",
        "load_average": round(os.getloadavg()[0], 2),
    }


def measure(scenario: str, seconds: float) -> dict:
    from playwright import sync_api

    from rlhf_playground.models.tiny import make_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        job = None
        if scenario == "watching":
            model = make_tiny_model(Path(tmp) / "tiny")
            job = start_long_sft(workspace, model, Path(tmp) / "texts.jsonl")
        try:
            with running_app(workspace) as url, sync_api.sync_playwright() as p:
                server = server_process(int(url.rstrip("/").rsplit(":", 1)[1]))
                before = {proc.pid for proc in psutil.process_iter()}
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.locator("#tab-demo").wait_for(timeout=120_000)
                if scenario == "watching":
                    page.get_by_role("tab", name="2 · Fine-tune").click()
                    page.locator("#tab-sft .run-progress").get_by_text("running").wait_for(timeout=600_000)
                time.sleep(5)  # let the page settle after its first answers
                browsers = browser_processes(before)
                seen_server: dict[int, float] = {}
                seen_browser: dict[int, float] = {}
                server_start = cpu_seconds({server.pid: server}, seen_server)
                browser_start, start = cpu_seconds(browsers, seen_browser), time.monotonic()
                time.sleep(seconds)
                browsers.update(browser_processes(before))
                server_used = cpu_seconds({server.pid: server}, seen_server) - server_start
                browser_used = cpu_seconds(browsers, seen_browser) - browser_start
                wall = time.monotonic() - start
                browser.close()
        finally:
            if job is not None:
                job.terminate()
                job.wait(timeout=60)
    return {
        "scenario": scenario,
        "seconds": round(wall, 1),
        "share_of_a_core": f"{100 * (server_used + browser_used) / wall:.1f}%",
        "server": f"{100 * server_used / wall:.1f}%",
        "browser": f"{100 * browser_used / wall:.1f}%",
        "load_average": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--scenario", choices=("idle", "watching", "both", "room"), default="both")
    parser.add_argument("--pages", type=int, default=10, help="room: how many pages")
    args = parser.parse_args()
    if args.scenario == "room":
        print(json.dumps(measure_room(args.seconds, max(1, min(args.pages, 30)))), flush=True)
        return 0
    for scenario in ("idle", "watching") if args.scenario == "both" else (args.scenario,):
        print(json.dumps(measure(scenario, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
