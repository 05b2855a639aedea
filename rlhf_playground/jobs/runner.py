"""Starting and stopping jobs from the app: each one a detached ``python -m rlhf_playground`` process.

A job runs in its own session (process group on Windows) with its output going to the run's
log.txt, so the app stays responsive, a crash in training can't take the app
down, and a job outlives an app restart. Jobs queue among themselves (see
:mod:`.queue`), so :func:`start` never waits. A failed or stopped run of a
stage that saves checkpoints can be relaunched in its folder with :func:`resume`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import SimpleQueue

from ..config import to_dict
from ..errors import UserError
from ..hosting import JOB_NICENESS, MAX_JOBS, check_caps, is_hosted, setting
from ..models import check_model_sizes
from ..registry import RESUMABLE, UNQUEUED
from ..workspace import SHARED_ROOT_ENV, shared_root, workspace_dir
from .processes import end_process_tree, job_niceness, lower_priority
from .queue import outlook
from .ray_backend import backend
from .ray_backend import end as end_on_ray
from .ray_backend import submit as submit_to_ray
from .runs import ACTIVE, Run, active_runs, checkpoint_step, create_run, process_alive, process_start_time
from .slots import job_memory_mb, job_seconds, this_machine, threads_per_job

PACKAGE_PARENT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 4.0  # then the job's process tree is terminated, and killed half a second later
# A job is detached from the app's terminal, so that Ctrl-C on the app (or its end) leaves the job running.
_DETACHED = (
    {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if sys.platform == "win32" else {"start_new_session": True}
)


def job_command(stage: str, run: Run) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rlhf_playground",
        stage,
        "--config",
        str(run.config_path),
        "--run-dir",
        str(run.path),
    ]


def start(stage: str, config, *, child: bool = False) -> Run:
    """Validate ``config`` (raising UserError now, not in the log), make a run folder and launch the job.

    In hosted mode the host's caps apply, and a person may have only a few jobs running or waiting
    at once; ``child``: a job started by another job of theirs (the demo's stages), which counts as one.
    """
    check_caps(config)
    weights = check_model_sizes(config)
    if not child:
        check_job_limit()
    config.validate()
    run = create_run(
        stage,
        config,
        memory_mb=round(job_memory_mb(weights, this_machine().device)),
        expected_s=job_seconds(stage, to_dict(config)),
    )
    return _launch(stage, run)


def check_job_limit() -> None:
    """In hosted mode, refuse a new job while this workspace has ``RLHF_MAX_JOBS_PER_SESSION`` active."""
    if not is_hosted():
        return
    cap = int(setting(*MAX_JOBS))
    active = active_runs()
    if len(active) >= cap:
        raise UserError(
            f"You already have {len(active)} jobs running or waiting, the most one person may have "
            "in this shared app: wait for one to end, or stop one, and start again."
        )


def resume(run: Run) -> Run:
    """Relaunch a failed or stopped run in its own folder, with its config, from its last checkpoint.

    Metrics of steps after the checkpoint are dropped (they are trained again),
    and the stage picks the checkpoint up (see ``callbacks.train_resumably``).
    """
    status = run.status()
    state, stage = status.get("state"), status.get("stage")
    if state not in ("failed", "stopped"):
        raise UserError(f"Run {run.id} is {state}: only a failed or stopped run can be resumed.")
    if stage not in RESUMABLE:
        raise UserError(f"{stage} runs save no checkpoints, so they can't be resumed: start a new run.")
    checkpoint = run.latest_checkpoint()
    if checkpoint is None:
        raise UserError(f"Run {run.id} has no checkpoint saved yet: start a new run.")
    step = checkpoint_step(checkpoint)
    run.drop_metrics_after(step)
    run.clear_stop()
    run.log(f"--- resuming from {checkpoint.name} ---")
    run.update_status(
        state="queued",
        reason=f"queued: resuming from step {step}",
        step=step,
        eta_s=None,
        ended=None,
        pid=None,
        pid_start=None,
        resumed_from_step=step,
    )
    return _launch(stage, run)


def _launch(stage: str, run: Run) -> Run:
    """Have the job process for ``run`` (the stage reads its config.json) started in the background.

    A queued stage's process is started by :func:`_start_in_turn`, a moment after the ones before it;
    the demo's at once (it is watched live and waits for nobody). A queued run's place in line is read once,
    here: it is the run's ``outlook_at_launch`` (what Start says), and its status's reason when jobs go before it.
    """
    if stage not in UNQUEUED:
        run.outlook_at_launch = outlook(run)
        if run.outlook_at_launch.ahead:
            run.update_status(reason=run.outlook_at_launch.reason)
    env = {
        "OMP_NUM_THREADS": str(threads_per_job()),  # jobs side by side share the cores (unless the host said)
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "RLHF_WORKSPACE": str(workspace_dir()),
        SHARED_ROOT_ENV: str(shared_root()),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")])),
    }
    if backend() == "ray":
        submit_to_ray(run, job_command(stage, run)[1:], env)  # the interpreter: the node's own
        return run
    if stage in UNQUEUED:
        _spawn(run, job_command(stage, run), env, niceness=0)
        return run
    niceness = job_niceness()
    if niceness:  # lowered as it starts, so that jobs starting and waiting their turn don't slow the app...
        env[JOB_NICENESS[0]] = "0"  # ...and it needn't lower itself again
    _to_start.put((run, job_command(stage, run), env, niceness))
    global _starter
    with _starter_lock:
        if _starter is None or not _starter.is_alive():
            _starter = threading.Thread(target=_start_in_turn, name="job-starter", daemon=True)
            _starter.start()
    return run


STARTUP_WAIT_S = 5.0  # the longest the starter waits for one job's start-up before it starts the next
_to_start: SimpleQueue = SimpleQueue()  # (run, command, environment, niceness)
_starter: threading.Thread | None = None
_starter_lock = threading.Lock()


def _start_in_turn() -> None:
    """Start queued jobs' processes one after another, each once the one before is past its start-up.

    A job process spends 0.17 s of CPU importing its modules before it waits for its turn. Thirty of them
    started at once, by a room pressing Start together, outweighed the app even at a lower priority (30 at
    niceness 10 against one at 0), and the last Start answered after 3.5 s. They wait in line for a slot
    anyway, so starting their processes a moment apart delays none of them. A run stopped before its
    process started is skipped (:func:`stop` has said so), and so is one whose folder went away meanwhile (its
    session was swept): the runs behind it still start.
    """
    while True:
        run, command, env, niceness = _to_start.get()
        try:
            if run.stop_requested() or run.status().get("state") not in ACTIVE:
                continue
            proc = _spawn(run, command, env, niceness)
        except OSError:  # the run's folder is gone
            continue
        if proc is not None:
            _until_started(run, proc)


def _spawn(run: Run, command: list[str], env: dict, niceness: int) -> subprocess.Popen | None:
    """The job's process, lowered ``niceness`` steps below the app; None (and the run failed) when it can't start."""
    with open(run.log_path, "ab") as log:
        try:
            proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, **_DETACHED
            )
        except OSError as exc:
            run.finish("failed", f"could not start the job: {exc}")
            return None
    # Reap the child when it ends, so it doesn't linger as a zombie that looks alive.
    threading.Thread(target=proc.wait, name=f"reap-{run.id}", daemon=True).start()
    lower_priority(proc.pid, niceness)
    run.update_status(pid=proc.pid, pid_start=process_start_time(proc.pid))
    return proc


def _until_started(run: Run, proc: subprocess.Popen) -> None:
    """Wait until the job writes its status (the first thing it does once its modules are imported) or ends,
    at most ``STARTUP_WAIT_S``."""
    status = run.path / "status.json"
    deadline = time.monotonic() + STARTUP_WAIT_S
    try:
        written = status.stat().st_mtime_ns
        while proc.poll() is None and time.monotonic() < deadline and status.stat().st_mtime_ns == written:
            time.sleep(0.02)
    except OSError:  # the run's folder went away (its session was swept)
        pass


def stop(run: Run) -> dict:
    """Ask the job to stop and make sure it has ended within about 5 seconds; return the final status.

    First the stop file: the training callback ends the job after the current
    step and the adapter is saved. If the step is long, the job is interrupted
    mid-step by its own stop watcher (and still saves). A job that hasn't
    ended after ``STOP_TIMEOUT_S`` is killed with its whole process tree.
    """
    status = run.status()
    if status.get("state") not in ACTIVE:
        return status
    run.request_stop()
    if status.get("backend") == "ray":
        return _stop_on_ray(run)

    pid, started_at = status.get("pid"), status.get("pid_start")
    ended = _stop_within(run, lambda: bool(pid) and process_alive(pid, started_at), lambda: end_process_tree(pid))
    return ended or run.finish("stopped", "stopped before it started" if not pid else "stopped")


def _stop_on_ray(run: Run) -> dict:
    """Stop for a job on Ray: the run folder asks it (its node may be another machine); Ray ends it if it
    hasn't stopped within ``STOP_TIMEOUT_S``."""
    still_active = lambda: run.status().get("state") in ACTIVE  # noqa: E731
    return _stop_within(run, still_active, lambda: end_on_ray(run), "Ray ended it") or run.status()


def _stop_within(run: Run, running, end, ended_by: str = "was killed") -> dict | None:
    """Wait while ``running()``, at most ``STOP_TIMEOUT_S``; then ``end()`` the job and return the status that
    says so. None when the job stopped by itself."""
    begun = time.monotonic()
    while running():
        if time.monotonic() - begun > STOP_TIMEOUT_S:
            trained = run.status().get("state") == "running"  # a job still starting up (or waiting) had nothing to lose
            end()
            if not trained:
                return run.finish("stopped", "stopped before it started")
            return run.finish(
                "stopped",
                f"the job didn't stop within {STOP_TIMEOUT_S:.0f} s and {ended_by}; "
                "nothing from the unfinished part was saved",
            )
        time.sleep(0.05)
    return None
