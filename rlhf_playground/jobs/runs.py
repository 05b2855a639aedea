"""The run folder: everything one training job writes, readable while it runs.

``workspace/runs/<run_id>/`` holds::

    config.json     the stage's settings (what ``--config`` reads back)
    status.json     state, reason, stage, pid, started, ended, step, total_steps, eta_s, ...
    metrics.jsonl   one JSON object per logging step (step, epoch, loss, learning_rate, ..., time)
    log.txt         everything the job printed, tracebacks included
    STOP            present once someone asked the job to stop
    checkpoints/    the trainer's last checkpoint (checkpoint-<step>/), kept after a failure or a
                    stop so the run can be resumed, deleted when training ends
    artifacts/      adapter/ (with the tokenizer), merged/ (optional), samples.json

JSON files are replaced atomically (temp file + ``os.replace``) so a reader
never sees half a file; read-modify-write of ``status.json`` happens under a
file lock because the UI and the job process both update it. metrics.jsonl
and log.txt only grow; a reader skips a last line still being written.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

from filelock import FileLock

from ..errors import UserError, redact
from ..workspace import adapter_folder, runs_dir, safe_name, write_text_atomic
from .processes import process_alive, process_start_time  # noqa: F401 - process_start_time: for the jobs

ACTIVE = ("queued", "running")
TERMINAL = ("finished", "failed", "stopped")
DIED = "the job process died unexpectedly (killed or out of memory)"
DIED_ON_RAY = "its Ray worker died (killed, out of memory, or its node was lost)"
EVAL_FILE = "eval.json"


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON, Hugging Face tokens redacted (see :func:`..errors.redact`)."""
    write_text_atomic(path, redact(json.dumps(data, indent=2, ensure_ascii=False)))


def read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


class Run:
    """One run folder. Cheap to create; every accessor reads the disk afresh."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.id = self.path.name
        self.outlook_at_launch = None  # a queued run just launched: its place in line then (see runner._launch)

    def __repr__(self) -> str:
        return f"Run({self.id!r})"

    # --------------------------------------------------------------- paths
    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def artifacts(self) -> Path:
        path = self.path / "artifacts"
        path.mkdir(exist_ok=True)
        return path

    @property
    def adapter(self) -> Path:
        """Where the stage saves its LoRA adapter, with the tokenizer (there or not yet)."""
        return adapter_folder(self.path)

    # --------------------------------------------------------------- reading
    def config(self) -> dict[str, Any]:
        return read_json(self.config_path, {})

    def status(self) -> dict[str, Any]:
        """The status, with a job whose process vanished without a word reported as failed."""
        status = read_json(self.path / "status.json", {})
        if status.get("state") not in ACTIVE:
            return status
        if status.get("backend") == "ray":  # its process may be on another machine: Ray knows
            from .ray_backend import alive

            died = DIED_ON_RAY if not alive(self) else None
        else:
            died = DIED if status.get("pid") and not process_alive(status["pid"], status.get("pid_start")) else None
        if died:
            try:
                status = self.finish("failed", died)
            except OSError:  # a full disk: say it here, write it when there is room again
                status = {**status, "state": "failed", "reason": died}
        return status

    def metrics_size(self) -> int:
        """Bytes of metrics.jsonl so far: a cheap way to tell that a row was added."""
        try:
            return (self.path / "metrics.jsonl").stat().st_size
        except FileNotFoundError:
            return 0

    def metrics(self) -> list[dict[str, Any]]:
        rows = []
        try:
            lines = (self.path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return rows
        for line in lines:
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass  # the line being written right now
        return rows

    def latest_checkpoint(self) -> Path | None:
        """The newest complete trainer checkpoint: one a killed save left half-written has no trainer state."""
        done = [
            p
            for p in self.checkpoints.glob("checkpoint-*")
            if p.name.removeprefix("checkpoint-").isdigit() and (p / "trainer_state.json").is_file()
        ]
        return max(done, key=checkpoint_step, default=None)

    def drop_incomplete_checkpoints(self) -> None:
        """Delete checkpoint folders a failed save left half-written (they can't be resumed from)."""
        complete = self.latest_checkpoint()
        for path in self.checkpoints.glob("*checkpoint-*"):
            if path.is_dir() and path != complete and not (path / "trainer_state.json").is_file():
                shutil.rmtree(path, ignore_errors=True)

    def tail_log(self, n: int = 40) -> str:
        """The last ``n`` lines of log.txt (reads at most the last 256 KB)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 256_000))
                data = f.read()
        except FileNotFoundError:
            return ""
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-n:])

    def summary(self) -> dict[str, Any]:
        """One row for a runs table: identity, state and the key metrics."""
        status, config = self.status(), self.config()
        losses = [m["loss"] for m in self.metrics() if "loss" in m]
        return {
            "id": self.id,
            "stage": status.get("stage"),
            "state": status.get("state"),
            "reason": status.get("reason", ""),
            "model": config.get("model"),
            "dataset": config.get("dataset"),
            "step": status.get("step", 0),
            "total_steps": status.get("total_steps"),
            "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None,
            "created": status.get("created"),
            "started": status.get("started"),
            "ended": status.get("ended"),
            "path": str(self.path),
        }

    # --------------------------------------------------------------- writing
    @contextlib.contextmanager
    def _status_lock(self) -> Iterator[None]:
        with FileLock(self.path / ".status.lock"):
            yield

    def update_status(self, **fields: Any) -> dict[str, Any]:
        with self._status_lock():
            status = read_json(self.path / "status.json", {})
            status.update(fields)
            write_json_atomic(self.path / "status.json", status)
        return status

    def finish(self, state: str, reason: str = "", **fields: Any) -> dict[str, Any]:
        """Set a terminal state unless one is already set (the first word on how a job ended wins)."""
        with self._status_lock():
            status = read_json(self.path / "status.json", {})
            if status.get("state") not in TERMINAL:
                status.update(fields, state=state, reason=reason, ended=time.time(), eta_s=None)
                write_json_atomic(self.path / "status.json", status)
        return status

    def append_metrics(self, row: dict[str, Any]) -> None:
        with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(redact(json.dumps(row)) + "\n")

    def drop_metrics_after(self, step: int) -> None:
        """Forget the metrics of steps after ``step``: a resumed run trains them again."""
        kept = "".join(json.dumps(m) + "\n" for m in self.metrics() if m.get("step", 0) <= step)
        tmp = self.path / f".metrics.jsonl.{os.getpid()}.tmp"
        tmp.write_text(kept, encoding="utf-8")
        os.replace(tmp, self.path / "metrics.jsonl")

    def log(self, line: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(redact(line.rstrip("\n")) + "\n")

    # --------------------------------------------------------------- stopping
    def request_stop(self) -> None:
        (self.path / "STOP").touch()

    def stop_requested(self) -> bool:
        return (self.path / "STOP").exists()

    def clear_stop(self) -> None:
        (self.path / "STOP").unlink(missing_ok=True)

    # --------------------------------------------------------------- artifacts
    @contextlib.contextmanager
    def artifact_dir(self, name: str) -> Iterator[Path]:
        """A temp folder that becomes ``artifacts/<name>`` only if the block ends without an error."""
        final = self.artifacts / name
        tmp = self.artifacts / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)

    def write_artifact_json(self, name: str, data: Any) -> Path:
        path = self.artifacts / name
        write_json_atomic(path, data)
        return path

    def read_artifact_json(self, name: str, default: Any = None) -> Any:
        """An artifact written by :meth:`write_artifact_json`; ``default`` until it is there."""
        return read_json(self.path / "artifacts" / name, default)

    def read_eval(self) -> dict[str, Any] | None:
        """``artifacts/eval.json``: the stage's held-out evaluation; None until it is written."""
        return self.read_artifact_json(EVAL_FILE)

    def write_eval(self, evaluation: dict[str, Any]) -> Path:
        return self.write_artifact_json(EVAL_FILE, evaluation)


def checkpoint_step(checkpoint: Path) -> int:
    """The optimizer step a ``checkpoint-<step>`` folder was saved at."""
    return int(checkpoint.name.removeprefix("checkpoint-"))


def create_run(stage: str, config, **status: Any) -> Run:
    """A new run folder holding ``config`` (a stage config dataclass), in state queued (``status``: more fields)."""
    from ..config import to_dict

    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(stage, 'stage')}-{secrets.token_hex(2)}"
    run = Run(runs_dir() / run_id)
    run.path.mkdir(parents=True)
    write_json_atomic(run.config_path, to_dict(config))
    run.log_path.touch()
    run.update_status(
        state="queued",
        reason="queued: waiting to start",
        stage=stage,
        created=time.time(),
        pid=None,
        started=None,
        ended=None,
        step=0,
        total_steps=None,
        eta_s=None,
        **status,
    )
    return run


def open_run(run_id_or_path: str | Path) -> Run:
    """A run by its id (in this workspace) or by its folder path."""
    path = Path(run_id_or_path)
    if not path.is_absolute() and len(path.parts) == 1:
        path = runs_dir() / str(run_id_or_path)
    if not (path / "status.json").exists():
        raise UserError(f"No run at {path}: pick one from the runs list.")
    return Run(path)


def active_runs() -> list[Run]:
    """The runs of this workspace that are queued or running."""
    return [run for run in map(Run, runs_dir().iterdir()) if run.status().get("state") in ACTIVE]


def list_runs(stage: str | None = None, folder: Path | None = None) -> list[dict[str, Any]]:
    """One :meth:`Run.summary` row per run in this workspace (or in the runs ``folder``), newest first,
    optionally of one stage."""
    runs = []
    folder = runs_dir() if folder is None else folder
    for path in folder.iterdir() if folder.is_dir() else []:
        status = read_json(path / "status.json", None)
        if status is None or (stage and status.get("stage") != stage):
            continue
        runs.append((status.get("created") or 0, Run(path)))
    return [run.summary() for _, run in sorted(runs, key=lambda pair: pair[0], reverse=True)]
