"""Jobs on a Ray cluster (``RLHF_JOB_BACKEND=ray``, ``RLHF_RAY_ADDRESS``): Ray places them, we decide the order.

Each stage job is a detached Ray actor, named after its run, that runs the same job command the local
backend runs (``python -m rlhf_playground <stage> --config … --run-dir …``) on whichever node Ray
gives it, with the resources it declares (``RLHF_RAY_CPUS``, ``RLHF_RAY_GPUS``, and the memory the
run was sized at). Everything else stays as it is: the run folder is the record (so it must be on
storage every node shares: ``RLHF_WORKSPACE``), the job takes its turn in the queue kept there, and
Stop asks through the run folder first. What Ray adds is the answer to "is it still alive?" when the
job runs on another machine, and the hard end when a job won't stop. Ray is imported only when chosen.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from ..errors import UserError
from ..hosting import setting
from .processes import end_process_tree

BACKEND_ENV, ADDRESS_ENV = "RLHF_JOB_BACKEND", "RLHF_RAY_ADDRESS"
IN_RAY_JOB_ENV = "RLHF_IN_RAY_JOB"  # set in the job itself: it needn't ask Ray whether it is alive
NAMESPACE = "rlhf-playground"
ASK_TIMEOUT_S = 10.0  # how long an alive? question may take before the answer counts as "still there"
_answers: dict[str, tuple[float, bool]] = {}  # run id -> (when asked, alive): a page polls often


def backend() -> str:
    """``local`` (the default: processes on this machine) or ``ray``; UserError for anything else."""
    chosen = os.environ.get(BACKEND_ENV, "local").strip() or "local"
    if chosen not in ("local", "ray"):
        raise UserError(f"{BACKEND_ENV} must be 'local' or 'ray' (got '{chosen}').")
    return chosen


def _ray():
    try:
        import ray
    except ImportError:
        raise UserError(f"{BACKEND_ENV}=ray needs Ray: `pip install .[ray]` (or `pip install ray`).") from None
    if not ray.is_initialized():
        address = os.environ.get(ADDRESS_ENV) or "auto"
        try:
            ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, configure_logging=False)
        except ConnectionError as exc:
            raise UserError(f"Can't reach the Ray cluster at '{address}' ({exc}): check {ADDRESS_ENV}.") from None
    return ray


class JobProcess:
    """The body of a job's actor: starts the job command, answers whether it runs, ends it on request."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def run(self, args: list[str], env: dict[str, str], log_path: str) -> int:
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        code = self.proc.wait()
        import ray

        ray.actor.exit_actor()  # a detached actor outlives its job otherwise
        return code

    def alive(self) -> bool:
        return self.proc is None or self.proc.poll() is None

    def pid(self) -> int:
        return os.getpid()

    def end(self) -> None:
        if self.proc is not None:
            end_process_tree(self.proc.pid)


def resources(run) -> dict[str, Any]:
    """What the job's actor asks Ray for: CPUs and GPUs as the host set them, the memory it was sized at."""
    from .slots import threads_per_job

    memory_mb = run.status().get("memory_mb") or 0
    found = {"num_cpus": setting("RLHF_RAY_CPUS", threads_per_job()), "num_gpus": setting("RLHF_RAY_GPUS", 0)}
    return found | ({"memory": int(memory_mb * 2**20)} if memory_mb else {})


def submit(run, args: list[str], env: dict[str, str]) -> None:
    """Start ``run``'s job (``args``: the command after the interpreter) as a detached actor."""
    ray = _ray()
    actor_class = ray.remote(max_restarts=0, max_concurrency=4)(JobProcess)  # run blocks; alive/end answer
    asked = resources(run)
    actor = actor_class.options(name=run.id, lifetime="detached", **asked).remote()
    actor.run.remote(args, {**env, IN_RAY_JOB_ENV: "1"}, str(run.log_path))
    run.update_status(backend="ray", ray_resources=asked)


def _actor(run):
    ray = _ray()
    try:
        return ray.get_actor(run.id)
    except ValueError:  # no such actor: it ended, or its node went away with it
        return None


def alive(run) -> bool:
    """Whether ``run``'s actor still runs its job; a slow answer counts as yes (asked again soon)."""
    if os.environ.get(IN_RAY_JOB_ENV):
        return True
    hit = _answers.get(run.id)
    if hit and time.monotonic() - hit[0] < 2.0:
        return hit[1]
    ray = _ray()
    actor = _actor(run)
    try:
        answer = actor is not None and bool(ray.get(actor.alive.remote(), timeout=ASK_TIMEOUT_S))
    except ray.exceptions.GetTimeoutError:
        answer = True
    except ray.exceptions.RayError:  # the actor died: its worker, or its node
        answer = False
    _answers[run.id] = (time.monotonic(), answer)
    return answer


def end(run) -> None:
    """End ``run``'s job and its actor now."""
    ray = _ray()
    actor = _actor(run)
    if actor is None:
        return
    try:
        ray.get(actor.end.remote(), timeout=ASK_TIMEOUT_S)
    except ray.exceptions.RayError:
        pass
    ray.kill(actor)
    _answers.pop(run.id, None)
