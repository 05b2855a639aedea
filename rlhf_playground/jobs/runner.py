"""Starting and stopping jobs from the app: each one a detached ``python -m rlhf_playground`` process.

A job runs in its own process group with its output going to the run's
log.txt, so the app stays responsive, a crash in training can't take the app
down, and a job outlives an app restart. Jobs queue among themselves (see
:mod:`.queue`), so :func:`start` never waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..workspace import workspace_dir
from .execute import INTERRUPT_SIGNAL
from .queue import running_run_id
from .runs import ACTIVE, Run, create_run, process_alive, process_start_ticks

PACKAGE_PARENT = Path(__file__).resolve().parents[2]
CLEAN_STOP_S = 0.5  # how long a job may take to stop between steps before it is interrupted mid-step
STOP_TIMEOUT_S = 4.0  # then the process group gets SIGTERM, and SIGKILL half a second later


def job_command(stage: str, run: Run) -> list[str]:
    return [sys.executable, "-m", "rlhf_playground", stage,
            "--config", str(run.config_path), "--run-dir", str(run.path)]


def start(stage: str, config) -> Run:
    """Validate ``config`` (raising UserError now, not in the log), make a run folder and launch the job."""
    config.validate()
    run = create_run(stage, config)
    holder = running_run_id()
    if holder:
        run.update_status(reason=f"queued: waiting for run {holder}")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RLHF_WORKSPACE": str(workspace_dir()),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))}
    with open(run.log_path, "ab") as log:
        try:
            proc = subprocess.Popen(job_command(stage, run), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        except OSError as exc:
            run.finish("failed", f"could not start the job: {exc}")
            return run
    run.update_status(pid=proc.pid, pid_start=process_start_ticks(proc.pid), pgid=proc.pid)
    # Reap the child when it ends, so it doesn't linger as a zombie that looks alive.
    threading.Thread(target=proc.wait, name=f"reap-{run.id}", daemon=True).start()
    return run


def _signal_job(status: dict, sig: int, group: bool) -> None:
    try:
        if group and status.get("pgid"):
            os.killpg(status["pgid"], sig)
        else:
            os.kill(status["pid"], sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(run: Run) -> dict:
    """Ask the job to stop and make sure it has ended within about 5 seconds; return the final status.

    First the stop file: the training callback ends the job after the current
    step and the adapter is saved. If the step is long, the job is interrupted
    mid-step (and still saves). A job that hasn't ended after
    ``STOP_TIMEOUT_S`` is killed with its whole process group.
    """
    status = run.status()
    if status.get("state") not in ACTIVE:
        return status
    run.request_stop()
    pid, ticks = status.get("pid"), status.get("pid_start")
    begun = time.monotonic()
    interrupted = False
    while pid and process_alive(pid, ticks):
        waited = time.monotonic() - begun
        if waited > STOP_TIMEOUT_S:
            _signal_job(status, signal.SIGTERM, group=True)
            time.sleep(0.5)
            _signal_job(status, signal.SIGKILL, group=True)
            return run.finish("stopped", f"the job didn't stop within {STOP_TIMEOUT_S:.0f} s and was killed; "
                                         "nothing from the unfinished part was saved")
        if waited > CLEAN_STOP_S and not interrupted and run.status().get("state") == "running":
            # Only a running job has its handler for this signal installed; by default it kills.
            _signal_job(status, INTERRUPT_SIGNAL, group=False)
            interrupted = True
        time.sleep(0.05)
    return run.finish("stopped", "stopped before it started" if not pid else "stopped")
