"""Running one stage as a job: run folder, queue, stop requests, and failures that read well.

Every training stage is a config dataclass plus ``run(config, run) -> dict``.
:func:`register_stage` makes that a CLI command; :func:`run_stage` wraps the
call so that however it ends, ``status.json`` says how in one sentence, with
the full traceback only in ``log.txt``. Torch and transformers are imported
by the stage itself, after the job has its turn in the queue, so waiting jobs
stay small.
"""

from __future__ import annotations

import _thread
import contextlib
import errno
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import UserError, redact
from ..hosting import MAX_JOB_MINUTES, host_number
from ..ppo.parallel import launched_rank
from ..registry import UNQUEUED
from ..workspace import workspace_dir
from .processes import job_niceness, lower_priority
from .queue import wait_for_turn
from .runs import Run, create_run, open_run, process_start_time, write_json_atomic

CLEAN_STOP_S = 0.5  # how long a job may take to stop between steps before it is interrupted mid-step
_interruptible = False  # main thread only: inside an :func:`interruptible` block
_interrupt_pending = False  # :func:`interrupt_step` asked, and the main thread hasn't seen it yet


class StopNow(BaseException):
    """Raised in the main thread to end an :func:`interruptible` block mid-step.

    A BaseException so that library code catching ``Exception`` lets it through.
    """


def _on_sigint(signum, frame) -> None:
    global _interrupt_pending
    if not _interrupt_pending:
        raise KeyboardInterrupt  # Ctrl-C at a terminal
    _interrupt_pending = False
    if _interruptible:
        raise StopNow()


def install_interrupt_handler() -> None:
    """Route SIGINT through :func:`_on_sigint`, so that :func:`interrupt_step` is harmless outside a block."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)


def interrupt_step() -> None:
    """From any thread: end the main thread's :func:`interruptible` block (harmless outside one).

    ``_thread.interrupt_main`` delivers the interrupt inside this process on every system (no
    POSIX-only signal), at the main thread's next Python instruction.
    """
    global _interrupt_pending
    _interrupt_pending = True
    _thread.interrupt_main(signal.SIGINT)


@contextlib.contextmanager
def interruptible(run: Run) -> Iterator[None]:
    """Let a stop request end the block mid-step instead of at the next step boundary.

    The training callback stops cleanly between steps; a step on a real model
    can take longer than the few seconds a Stop may take, so the job's stop
    watcher follows up with :func:`interrupt_step` after ``CLEAN_STOP_S``, which
    ends this block (and only this block). Ctrl-C in a foreground run is a stop
    request too. Afterwards the weights are those of the last optimizer step,
    and ``run.stop_requested()`` is true.
    """
    global _interruptible
    install_interrupt_handler()
    _interruptible = True
    try:
        yield
    except (StopNow, KeyboardInterrupt):
        run.request_stop()
    finally:
        _interruptible = False


@contextlib.contextmanager
def _stop_watcher(run: Run) -> Iterator[None]:
    """While the block runs, a stop request (the app's Stop, the host's time limit) that the training
    hasn't acted on within ``CLEAN_STOP_S`` interrupts the step it is in."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.1):
            if run.stop_requested():
                # with several processes (accelerate launch) they all stop together, at the next step's start
                if not done.wait(CLEAN_STOP_S) and launched_rank()[1] == 1:
                    interrupt_step()
                return

    watcher = threading.Thread(target=watch, name="stop-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()


def describe_failure(exc: BaseException) -> str:
    """One line for status.json: out of memory and a full disk get named as such."""
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    first = chain[0]
    summary = (str(first).strip().splitlines() or [""])[0][:300]
    summary = f"{type(first).__name__}: {summary}" if summary else type(first).__name__
    for e in chain:
        text = str(e).lower()
        if (
            isinstance(e, MemoryError)
            or type(e).__name__ == "OutOfMemoryError"
            or "out of memory" in text
            or "can't allocate memory" in text
        ):
            return redact(f"out of memory: {summary}. Try a smaller batch size or max length, or 4-bit loading.")
        if (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "no space left on device" in text:
            return redact(f"disk full: {summary}. Free space under {workspace_dir()} and start again.")
    return redact(summary)


class _Tee:
    """A text stream that writes to the terminal (or the detached job's log.txt) and, in the foreground,
    to the run's log too: Hugging Face tokens redacted in both."""

    def __init__(self, stream, log=None):
        self.stream, self.log = stream, log

    def write(self, text: str) -> int:
        text = redact(text)
        if self.log is not None:
            self.log.write(text)
            self.log.flush()
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


@contextlib.contextmanager
def _output_through_tee(run: Run | None) -> Iterator[None]:
    """Redact tokens from stdout and stderr; with ``run`` (the foreground), copy them to its log.txt too."""
    with open(run.log_path, "a", encoding="utf-8") if run else contextlib.nullcontext() as log:
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(sys.stdout, log), _Tee(sys.stderr, log)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


def quiet_known_warnings() -> None:
    """Keep two harmless library warnings out of the log a person reads."""
    import warnings

    from ..models import quiet_bitsandbytes

    quiet_bitsandbytes()
    # peft/TRL still call a transformers method renamed in 5.x.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)


def run_stage(stage: str, config, run_fn: Callable[[Any, Run], dict | None], run_dir: str | Path | None = None) -> int:
    """Run ``run_fn(config, run)`` as a job and return the exit code.

    With ``run_dir`` (the runner's detached child) the folder exists and output
    already goes to its log; the app checked the config before starting it, and
    it is checked again only once the job has its turn, so a waiting job imports
    nothing heavy. Without it (a person at a terminal) the config is checked
    first, so a refused command leaves nothing on disk; then a new run folder is
    made, announced, and output goes to both the terminal and log.txt.
    """
    quiet_known_warnings()
    if launched_rank()[0] > 0:
        return _run_as_helper(stage, config, run_fn)
    if run_dir is not None:
        with _output_through_tee(None):  # stdout and stderr already go to log.txt
            return _run_job(stage, config, run_fn, open_run(run_dir), checked=False)
    config.validate()  # a UserError here is the CLI's `error:` line, with no run folder made
    run = create_run(stage, config)
    with _output_through_tee(run):
        print(f"run folder: {run.path}", flush=True)
        return _run_job(stage, config, run_fn, run, checked=True)


def _run_as_helper(stage: str, config, run_fn) -> int:
    """Another process than the first of an ``accelerate launch``: it trains its share of each batch while
    the first one keeps the run folder, its queue turn and its status; this one's notes go to a scratch folder."""
    from ..config import to_dict

    with tempfile.TemporaryDirectory(prefix=f"rlhf-{stage}-rank{launched_rank()[0]}-") as scratch:
        run = Run(Path(scratch))
        write_json_atomic(run.config_path, to_dict(config))
        run.log_path.touch()
        run.update_status(state="running", stage=stage, step=0)
        run_fn(config, run)
    return 0


class _TimeLimit:
    """The host's longest job (``RLHF_MAX_JOB_MINUTES``): then the job is asked to stop (and interrupted mid-step
    as with Stop); what it trained so far is saved."""

    def __init__(self, run: Run, minutes: float | None):
        self.run, self.reached, self.minutes = run, False, minutes
        self._timer: threading.Timer | None = None

    def __enter__(self) -> "_TimeLimit":
        if self.minutes:
            self._timer = threading.Timer(self.minutes * 60, self._stop)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _stop(self) -> None:
        self.reached = True
        print(f"the longest a job may run here is {self.minutes:g} min: stopping", flush=True)
        self.run.request_stop()

    def reason(self, step: int) -> str:
        return f"stopped at step {step}: the longest a job may run here is {self.minutes:g} min"


def _run_job(stage: str, config, run_fn, run: Run, checked: bool) -> int:
    install_interrupt_handler()
    run.update_status(pid=os.getpid(), pid_start=process_start_time(os.getpid()))
    limit = _TimeLimit(run, None if stage in UNQUEUED else host_number(*MAX_JOB_MINUTES))  # the demo only waits
    try:
        turn = contextlib.nullcontext() if stage in UNQUEUED else wait_for_turn(run)
        if turn is None:
            run.finish("stopped", "stopped while queued")
            return 0
        with turn, limit, _stop_watcher(run):
            if stage not in UNQUEUED:  # the app lowered a job it started from the first instruction (niceness 0 here)
                lower_priority(os.getpid(), job_niceness())
            if not checked:
                config.validate()
            run.update_status(state="running", reason="", started=time.time())
            print(f"{stage} run {run.id} started", flush=True)
            outcome = run_fn(config, run) or {}
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        run.finish("failed", str(exc))
        return 2
    except (StopNow, KeyboardInterrupt):
        run.finish("stopped", "stopped before anything was saved")
        return 130
    except BaseException as exc:  # noqa: BLE001 - every way out must leave a status
        traceback.print_exc()
        run.drop_incomplete_checkpoints()
        reason = describe_failure(exc)
        print(f"failed: {reason}", file=sys.stderr, flush=True)
        run.finish("failed", reason)
        return 1
    step = run.status().get("step", 0)
    if limit.reached:
        status = run.finish("stopped", limit.reason(step), **outcome)
    elif run.stop_requested():
        status = run.finish("stopped", f"stopped at step {step}", **outcome)
    else:
        status = run.finish("finished", f"finished after {step} steps", **outcome)
    _write_card(stage, run)
    print(f"{status['state']}: {status['reason']} — artifacts in {run.artifacts}", flush=True)
    return 0


def _write_card(stage: str, run: Run) -> None:
    """The model card beside a saved adapter, so the run folder describes itself; never fails the job."""
    from ..sharing.share import saved_model, write_model_card

    if saved_model(run, stage):
        try:
            write_model_card(run)
        except Exception as exc:  # noqa: BLE001 - the run is saved; only its description is missing
            print(f"no model card written: {describe_failure(exc)}", flush=True)


def register_stage(subparsers, name: str, config_cls, run_fn, help: str) -> None:
    """Add ``python -m rlhf_playground <name>``: every config field as a flag, ``--config``, ``--run-dir``."""
    from ..config import add_config_arguments, config_from_args

    parser = subparsers.add_parser(name, help=help, description=help)
    add_config_arguments(parser, config_cls)
    parser.add_argument(
        "--run-dir",
        metavar="DIR",
        help="use this existing run folder (how the app starts jobs); without it a new "
        "run folder is made and the job runs in the foreground",
    )

    def command(args) -> int:
        try:
            config = config_from_args(config_cls, args)
        except UserError as exc:
            if args.run_dir:
                open_run(args.run_dir).finish("failed", str(exc))
            raise
        return run_stage(name, config, run_fn, args.run_dir)

    parser.set_defaults(func=command)
