"""A room's burst: N hosted sessions press the same button in the same second, one button after another.

Each attendee is a gradio_client with its own session cookie (as in ``load_test.py``). All of them, held
together by a barrier before each phase: join (fetch the page, as a browser's first request does), connect
(gradio_client reads the config and the API's description: the harness's own cost, which in a room each
laptop pays for itself), load a bundled sample, prepare it, save it, press Start SFT (on the bundled model,
or ``--model``; the runs are stopped afterwards). Reported per phase: p50, p95 and the slowest latency, and
the server's CPU seconds in it. The issue's target is a p95 under 1 s. The clients share the server's cores.

Usage: python benchmarks/room_burst.py [--clients 30] [--rounds 1] [--model default|tiny] [--profile out.txt]
       [--profile-phase sft_start]
       [--json out.json]
(``--profile`` runs py-spy on the server for the whole burst, or for one phase, when ``py-spy`` is on PATH.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from load_test import TINY_SFT, Attendee, cookie, form, lighten_the_clients, percentile, show  # noqa: E402
from page_cpu import server_process  # noqa: E402
from serve import running_app  # noqa: E402

PHASES = ("join", "connect", "load_data", "prepare_data", "save_data", "sft_start")


def attend(attendee: Attendee, url: str, model: str, round_: int, gate: threading.Barrier) -> None:
    """One attendee's clicks, each phase started with everyone else's."""
    import httpx
    from gradio_client import Client

    from rlhf_playground.stages.sft import SFTStageConfig
    from rlhf_playground.ui import finetune_tab

    name = f"pairs-{attendee.index}-{round_}"
    sft = {"model": model, "dataset": name, "max_steps": 2, **TINY_SFT}
    steps = {
        "join": lambda: httpx.get(url, headers=cookie(attendee.index), timeout=600).raise_for_status(),
        "connect": lambda: setattr(attendee, "client", Client(url, verbose=False, headers=cookie(attendee.index))),
        "load_data": lambda: attendee.call("load_data", "Bundled sample", "preference-chat", None, "", "", "train", 50),
        "prepare_data": lambda: attendee.call("prepare_data", "(auto)", "", ""),
        "save_data": lambda: attendee.call("save_data", name),
        "sft_start": lambda: attendee.call("sft_start", *form(SFTStageConfig, finetune_tab.GROUPS, **sft)),
    }
    for phase in PHASES:
        gate.wait()
        began = time.perf_counter()
        try:
            steps[phase]()
        except Exception as exc:  # counted; the others go on
            attendee.problems.append(f"{phase}: {type(exc).__name__}: {exc}"[:200])
        if phase in ("join", "connect"):
            attendee.latencies.setdefault(phase, []).append(time.perf_counter() - began)
        gate.wait()  # everyone has finished this phase before the next starts
    try:
        attendee.call("sft_stop")
    except Exception as exc:
        attendee.problems.append(f"stop: {exc}"[:200])


def burst(clients: int, rounds: int, model: str, profile: Path | None, profile_phase: str | None = None) -> dict:
    from rlhf_playground.models.tiny import make_tiny_model

    lighten_the_clients()
    root = Path(tempfile.mkdtemp(prefix="room-burst-"))
    try:
        env = {"RLHF_HOSTED": "1"}
        if model == "tiny":  # in a model cache of its own: a folder hosted users may name
            model, env["RLHF_CACHE_DIR"] = str(make_tiny_model(root / "cache" / "tiny")), str(root / "cache")
        (root / "workspace").mkdir()
        with running_app(root / "workspace", **env) as url:
            server = server_process(int(url.rsplit(":", 1)[1].strip("/")))
            spy = Spy(server.pid, profile, phase=profile_phase) if profile and shutil.which("py-spy") else None
            attendees = [Attendee(i, time.monotonic() + 3600) for i in range(clients)]
            cpu = {}

            def at_gate():
                cpu.setdefault(time.perf_counter(), cpu_marks(server))
                if spy:
                    spy.at_gate(len(cpu) - 1)

            for round_ in range(rounds):
                gate = threading.Barrier(clients, action=at_gate)
                with ThreadPoolExecutor(clients) as pool:
                    for attendee in attendees:
                        pool.submit(attend, attendee, url, str(model), round_, gate)
            if spy:
                spy.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    marks = [cpu[t] for t in sorted(cpu)]  # CPU seconds at each gate: phase i spans marks 2i..2i+1
    result: dict = {"clients": clients, "rounds": rounds, "model": model, "phases": {}}
    for i, phase in enumerate(PHASES):
        values = [v for a in attendees for v in a.latencies.get(phase, [])]
        spans = [(marks[2 * (r * len(PHASES) + i)], marks[2 * (r * len(PHASES) + i) + 1]) for r in range(rounds)]
        result["phases"][phase] = {
            "calls": len(values),
            "p50_s": round(percentile(values, 0.5), 3),
            "p95_s": round(percentile(values, 0.95), 3),
            "max_s": round(max(values, default=float("nan")), 3),
            **{
                f"{who}_cpu_s": round(sum(end[k] - begin[k] for begin, end in spans) / rounds, 2)
                for k, who in enumerate(("server", "jobs", "clients"))
            },
        }
    result["problems"] = [f"attendee {a.index}: {p}" for a in attendees for p in a.problems][:20]
    result["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


class Spy:
    """py-spy on the server (50 Hz, every thread, raw stacks): for the whole burst, or only while ``phase`` runs
    (the first round's)."""

    def __init__(self, pid: int, out: Path, phase: str | None):
        self.pid, self.out, self.proc = pid, out, None
        self.gates = (2 * PHASES.index(phase), 2 * PHASES.index(phase) + 1) if phase else None
        if not phase:
            self.start()

    def start(self) -> None:
        command = ["py-spy", "record", "--pid", str(self.pid), "--format", "raw", "-o", str(self.out), "-r", "50"]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        time.sleep(2)  # attached

    def at_gate(self, index: int) -> None:
        if self.gates and index == self.gates[0]:
            self.start()
        elif self.gates and index == self.gates[1]:
            self.stop()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(2)
            self.proc.wait(timeout=60)


def cpu_marks(server) -> tuple[float, float, float]:
    """CPU seconds so far of the server, of its job processes (those alive now) and of this harness."""
    import psutil

    jobs = 0.0
    for child in server.children(recursive=True):
        try:
            jobs += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return sum(server.cpu_times()[:2]), jobs, sum(psutil.Process().cpu_times()[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1, help="bursts in a row (a save's name is per round)")
    parser.add_argument("--model", default="default", help="the model Start is pressed with: default or tiny")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy's raw output (needs py-spy on PATH)")
    parser.add_argument("--profile-phase", choices=PHASES, default=None, help="profile only this phase")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 1 <= args.rounds <= 10:
        sys.exit("error: --clients must be 1..200 and --rounds 1..10.")
    show(burst(args.clients, args.rounds, args.model, args.profile, args.profile_phase), args.json)


if __name__ == "__main__":
    main()
