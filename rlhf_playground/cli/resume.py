"""``python -m rlhf_playground resume RUN``: relaunch a failed or stopped run from its last checkpoint.

The job runs in the background in the same run folder (as when the app's
Resume button is pressed); this command follows its log until it ends, and
Ctrl-C stops it (keeping a checkpoint to resume from again).
"""

from __future__ import annotations

import time
from pathlib import Path


def register(subparsers) -> None:
    help_text = "resume a failed or stopped sft or reward run from its last checkpoint, in the same run folder"
    parser = subparsers.add_parser("resume", help=help_text, description=help_text)
    parser.add_argument("run", metavar="RUN", help="the run's id (its folder name under workspace/runs) or its folder")
    parser.set_defaults(func=command)


def command(args) -> int:
    from ..jobs.runner import resume
    from ..jobs.runs import open_run

    run = open_run(args.run)
    offset = run.log_path.stat().st_size
    resume(run)
    print(f"resuming run {run.id} in {run.path} ({run.status().get('reason')})", flush=True)
    return follow(run, offset)


def follow(run, offset: int) -> int:
    """Print the run's log from ``offset`` as it grows until the job ends; 0 if it finished."""
    from ..jobs.runner import stop
    from ..jobs.runs import ACTIVE

    try:
        while True:
            status = run.status()  # read before the log, so the last lines are printed before leaving
            offset = _print_from(run.log_path, offset)
            if status.get("state") not in ACTIVE:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        status = stop(run)
    print(f"{status.get('state')}: {status.get('reason', '')}", flush=True)
    return 0 if status.get("state") == "finished" else 1


def _print_from(path: Path, offset: int) -> int:
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    print(data.decode("utf-8", "replace"), end="", flush=True)
    return offset + len(data)
