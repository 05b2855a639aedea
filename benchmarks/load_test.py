"""A workshop on one machine: N attendees join the hosted app at once and each trains, on the tiny model.

Every attendee is a gradio_client with its own session cookie. Each loads and saves two bundled samples,
starts a short SFT, then a short PPO from its adapter, then a comparison, and between those polls its run
as an open tab does (every ``POLL_S``). At the end it tries to use a neighbour's run (which must be refused),
and the harness checks every session folder holds exactly its own attendee's runs.

Reported: how many joined and finished, each cheap endpoint's p50/p95 latency while jobs run (the goal is a
p95 under 1 s), the wall clock, the server's peak memory (the app process, and with its jobs), and the
cross-session reads (must be 0). Loopback only; bounded by ``--minutes`` (whatever is unfinished then is
stopped and counted).

Usage: python benchmarks/load_test.py [--clients 30] [--minutes 40] [--slots N] [--stages sft,ppo,compare]
       [--json out.json]
(``tests/test_load.py`` runs it with 8 attendees and asserts the outcomes.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from serve import running_app  # noqa: E402

POLL_S = 2.0  # the page's poll of a shown run (ui.monitor.POLL_S)
CHEAP = ("load_data", "prepare_data", "save_data", "sft_poll", "ppo_poll", "compare_poll", "sft_start", "ppo_start")
DONE = ("finished", "failed", "stopped")


def lighten_the_clients() -> None:
    """gradio_client opens a new httpx client for each request, and each builds a TLS context (certificates
    read and parsed) even for plain http on loopback: a third of the harness's CPU, on the cores the server
    needs. One context serves them all (the server is not touched)."""
    import functools

    import httpx._transports.default as transports

    transports.create_ssl_context = functools.cache(transports.create_ssl_context)


def cookie(index: int) -> dict:
    return {"Cookie": f"rlhf_session=attendee{index:04d}" + "x" * 36}


@dataclass
class Attendee:
    index: int
    deadline: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)  # stage -> run id
    states: dict[str, str] = field(default_factory=dict)  # stage -> final state
    problems: list[str] = field(default_factory=list)
    cross_reads: int = 0
    probes: int = 0  # times it tried a neighbour's run
    client: object = None

    def call(self, api_name: str, *args):
        """One API call, timed under its endpoint's name."""
        began = time.perf_counter()
        try:
            return self.client.predict(*args, api_name=f"/{api_name}")
        finally:
            self.latencies.setdefault(api_name, []).append(time.perf_counter() - began)


def form(config_cls, groups, **values) -> list:
    """A tab form's values in its widgets' order: the config's defaults, then ``values``."""
    merged = {**vars(config_cls()), **values}
    return [merged[name] for _, names in groups for name in names]


def start(attendee: Attendee, stage: str, args: list) -> str | None:
    message = attendee.call(f"{stage}_start", *args)
    found = re.search(r"Run \*\*([\w-]+)\*\*", str(message))
    if not found:
        attendee.problems.append(f"{stage} did not start: {message}")
        return None
    attendee.runs[stage] = found.group(1)
    return found.group(1)


def watch(attendee: Attendee, stage: str) -> str:
    """Poll the stage's shown run until it ends (or the deadline): its final state."""
    shown = ""
    while time.monotonic() < attendee.deadline:
        progress = attendee.call(f"{stage}_poll")[0]
        shown = progress if progress else shown  # an unchanged part isn't sent again
        state = next((s for s in DONE if s in str(shown)), None)
        if state:
            attendee.states[stage] = state
            return state
        time.sleep(POLL_S)
    attendee.states[stage] = "unfinished"
    attendee.call(f"{stage}_stop")
    return "unfinished"


def train(attendee: Attendee, stage: str, args: list) -> bool:
    """Start a job from the stage's tab and watch it as the open tab does: whether it finished."""
    return start(attendee, stage, args) is not None and watch(attendee, stage) == "finished"


def attend(attendee: Attendee, url: str, model: str, steps: int, stages: tuple, neighbours: dict, joined) -> None:
    from gradio_client import Client

    from rlhf_playground.evaluation.compare import CompareConfig
    from rlhf_playground.ppo.config import PPOStageConfig
    from rlhf_playground.stages.sft import SFTStageConfig
    from rlhf_playground.ui import compare_tab, finetune_tab, ppo_tab

    me = attendee.index
    try:
        joined.wait()
        began = time.perf_counter()
        attendee.client = Client(url, verbose=False, headers=cookie(me), download_files=False)
        attendee.latencies["join"] = [time.perf_counter() - began]
        for sample, name in (("preference-chat", f"pairs-{me}"), ("prompts", f"prompts-{me}")):
            attendee.call("load_data", "Bundled sample", sample, None, "", "", "train", 50)
            attendee.call("prepare_data", "(auto)", "", "")
            status = attendee.call("save_data", name)[0]
            if f"Saved **{name}**" not in status:
                attendee.problems.append(f"saving {name}: {status}")
        sft = {"model": model, "dataset": f"pairs-{me}", "max_steps": steps, **TINY_SFT}
        ppo = {"model": model, "dataset": f"prompts-{me}", "steps": steps, **TINY_PPO}
        if train(attendee, "sft", form(SFTStageConfig, finetune_tab.GROUPS, **sft)):
            neighbours[me] = ppo["adapter"] = attendee.runs["sft"]
            if "ppo" in stages and train(attendee, "ppo", form(PPOStageConfig, ppo_tab.GROUPS, **ppo)):
                if "compare" in stages:
                    tuned = [attendee.runs["ppo"]]
                    train(
                        attendee,
                        "compare",
                        form(CompareConfig, compare_tab.GROUPS, base=model, tuned=tuned, **TINY_COMPARE),
                    )
        others = [run_id for other, run_id in list(neighbours.items()) if other != me]
        if others:  # a neighbour's adapter: refused, and nothing starts
            message = attendee.call("ppo_start", *form(PPOStageConfig, ppo_tab.GROUPS, **{**ppo, "adapter": others[0]}))
            attendee.probes += 1
            if "Run **" in str(message):
                attendee.cross_reads += 1
                attendee.call("ppo_stop")
    except Exception as exc:  # a client that can't connect or whose call fails: counted, the others go on
        attendee.problems.append(f"{type(exc).__name__}: {exc}"[:300])


TINY_SFT = {"batch_size": 2, "max_length": 256, "eval_prompts": 1, "max_new_tokens": 4, "load_in_4bit": False}
TINY_PPO = {"batch_size": 4, "mini_batch_size": 2, "max_new_tokens": 4, "eval_prompts": 2, "reward": "lexicon"}
TINY_COMPARE = {"prompts_text": "Hello\nHow are you?", "max_new_tokens": 4, "n_prompts": 2}


class MemoryWatch(threading.Thread):
    """Samples the app's RSS, and with its job processes, until stopped."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.app_mb, self.total_mb, self.done = port, 0.0, 0.0, threading.Event()

    def run(self) -> None:
        from page_cpu import server_process

        server = server_process(self.port)
        while not self.done.wait(0.5):
            try:
                app = server.memory_info().rss
                jobs = 0
                for child in server.children(recursive=True):
                    try:
                        jobs += child.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                return
            self.app_mb, self.total_mb = max(self.app_mb, app / 2**20), max(self.total_mb, (app + jobs) / 2**20)


def isolation_faults(workspace: Path, attendees: list[Attendee]) -> int:
    """Session folders holding a run that isn't their attendee's: each is a cross-session write or read."""
    from rlhf_playground.workspace import session_key

    faults = 0
    for attendee in attendees:
        folder = workspace / "sessions" / session_key(cookie(attendee.index)["Cookie"].split("=", 1)[1]) / "runs"
        held = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        faults += len(held - set(attendee.runs.values()))
    return faults


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


STAGES = ("sft", "ppo", "compare")


def run_workshop(clients: int, minutes: float, steps: int = 2, slots: int | None = None, stages=STAGES) -> dict:
    from rlhf_playground.models.tiny import make_tiny_model

    lighten_the_clients()
    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="load-test-"))
    try:
        model = make_tiny_model(root / "cache" / "tiny")  # the model cache: a folder hosted users may name
        workspace = root / "workspace"
        workspace.mkdir()
        env = {"RLHF_HOSTED": "1", "RLHF_CACHE_DIR": str(root / "cache")}
        if slots:
            env["RLHF_JOB_SLOTS"] = str(slots)
        with running_app(workspace, **env) as url:
            memory = MemoryWatch(int(url.rsplit(":", 1)[1].strip("/")))
            memory.start()
            began = time.monotonic()
            attendees = [Attendee(i, began + minutes * 60) for i in range(clients)]
            neighbours: dict[int, str] = {}
            joined = threading.Barrier(clients)
            with ThreadPoolExecutor(clients) as pool:
                for attendee in attendees:
                    pool.submit(attend, attendee, url, str(model), steps, stages, neighbours, joined)
            wall = time.monotonic() - began
            memory.done.set()
            faults = isolation_faults(workspace, attendees)
        result = report(attendees, wall, memory, faults, len(stages))
        result["load_before"] = [round(x, 2) for x in load_before]
        if result["problems"]:  # the server's side of them
            log = max(root.glob("app-*.log"), key=lambda p: p.stat().st_mtime)
            result["app_log_tail"] = log.read_text(errors="replace")[-4000:].splitlines()
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(attendees: list[Attendee], wall: float, memory: MemoryWatch, faults: int, stages: int) -> dict:
    latencies: dict[str, list[float]] = {}
    for attendee in attendees:
        for name, values in attendee.latencies.items():
            latencies.setdefault(name, []).extend(values)
    cheap = [v for name in CHEAP for v in latencies.get(name, [])]
    jobs = [state for attendee in attendees for state in attendee.states.values()]
    return {
        "clients": len(attendees),
        "joined": sum(1 for a in attendees if "join" in a.latencies and a.client is not None),
        "jobs_finished": jobs.count("finished"),
        "jobs_started": sum(len(a.runs) for a in attendees),
        "jobs_expected": stages * len(attendees),
        "attendees_done": sum(1 for a in attendees if list(a.states.values()).count("finished") == stages),
        "wall_s": round(wall, 1),
        "cheap_p50_s": round(percentile(cheap, 0.5), 3),
        "cheap_p95_s": round(percentile(cheap, 0.95), 3),
        "cheap_calls": len(cheap),
        "endpoints": {
            name: {"calls": len(v), "p50_s": round(percentile(v, 0.5), 3), "p95_s": round(percentile(v, 0.95), 3)}
            for name, v in sorted(latencies.items())
        },
        "join_p95_s": round(percentile(latencies.get("join", []), 0.95), 3),
        "peak_app_mb": round(memory.app_mb),
        "peak_app_and_jobs_mb": round(memory.total_mb),
        "cross_session_probes": sum(a.probes for a in attendees),
        "cross_session_reads": faults + sum(a.cross_reads for a in attendees),
        "problems": [f"attendee {a.index}: {p}" for a in attendees for p in a.problems][:20],
        "load_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def show(result: dict, path: Path | None) -> None:
    """Print ``result`` as JSON, and write it to ``path`` too when given."""
    text = json.dumps(result, indent=2)
    print(text)
    if path:
        path.write_text(text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=40.0, help="the longest the workshop may take")
    parser.add_argument("--steps", type=int, default=2, help="SFT and PPO steps per attendee")
    parser.add_argument("--slots", type=int, default=None, help="RLHF_JOB_SLOTS for the app (default: hardware)")
    parser.add_argument("--stages", default=",".join(STAGES), help="what each attendee runs: sft[,ppo[,compare]]")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 0 < args.minutes <= 120:
        sys.exit("error: --clients must be 1..200 and --minutes 0..120.")
    stages = tuple(args.stages.split(","))
    if stages != STAGES[: len(stages)]:
        sys.exit(f"error: --stages must be one of {', '.join(','.join(STAGES[:n]) for n in (1, 2, 3))}.")
    show(run_workshop(args.clients, args.minutes, args.steps, args.slots, stages), args.json)


if __name__ == "__main__":
    main()
