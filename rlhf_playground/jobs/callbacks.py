"""The bridge from a transformers/TRL trainer to the run folder.

Imports transformers, so stages import this module inside their ``run``.
"""

from __future__ import annotations

import shutil
import time

from transformers import TrainerCallback

from .runs import Run

SUMMARY_KEYS = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss")


class RunCallback(TrainerCallback):
    """Writes metrics.jsonl and the progress in status.json, and stops training when asked.

    Progress (step, total_steps, eta_s) is written after every optimizer step;
    the stop file is checked after every step and gradient-accumulation
    substep, so a stop takes effect within one step. When checkpoints are on,
    a stop saves one (as of the last optimizer step), so the run can be resumed from there.
    """

    def __init__(self, run: Run):
        self.run = run
        self.began = time.monotonic()
        self.first_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.began = time.monotonic()
        self.first_step = state.global_step
        self.run.update_status(step=state.global_step, total_steps=state.max_steps, eta_s=None)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = dict(logs or {})
        if any(key in logs for key in SUMMARY_KEYS):
            self.run.update_status(train_summary=logs)
            return
        row = {
            "step": state.global_step,
            "epoch": state.epoch,
            **logs,
            "time": time.time(),
            "elapsed_s": round(time.monotonic() - self.began, 3),
        }
        self.run.append_metrics(row)
        shown = " ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items() if k not in ("time",)
        )
        print(shown, flush=True)

    def on_step_end(self, args, state, control, **kwargs):
        done = state.global_step - self.first_step
        left = state.max_steps - state.global_step
        eta = (time.monotonic() - self.began) / done * left if done > 0 else None
        self.run.update_status(
            step=state.global_step, total_steps=state.max_steps, eta_s=round(eta, 1) if eta is not None else None
        )
        self._check_stop(args, control)

    def on_substep_end(self, args, state, control, **kwargs):
        self._check_stop(args, control)

    def _check_stop(self, args, control) -> None:
        if self.run.stop_requested():
            control.should_training_stop = True
            if args.save_strategy != "no":
                control.should_save = True  # saved at the last optimizer step, before training ends


def checkpoint_args(run: Run, save_steps: int) -> dict:
    """Trainer arguments that keep the last checkpoint in ``run.checkpoints`` every ``save_steps`` steps (0: none)."""
    return {
        "output_dir": str(run.checkpoints),
        "save_strategy": "steps" if save_steps > 0 else "no",
        "save_steps": max(save_steps, 1),
        "save_total_limit": 1,
    }


def train_resumably(trainer, run: Run) -> None:
    """``trainer.train()``, stoppable, from the run's last checkpoint when it has one (it is being resumed).

    Checkpoints are deleted once training ends; after a stop or a failure they stay for :func:`runner.resume`.
    """
    from .execute import interruptible

    checkpoint = run.latest_checkpoint()
    if checkpoint:
        print(f"resuming from {checkpoint.name}", flush=True)
    with interruptible(run):
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    if not run.stop_requested():
        shutil.rmtree(run.checkpoints, ignore_errors=True)
    else:
        save_checkpoint_on_stop(trainer, run)


def save_checkpoint_on_stop(trainer, run: Run) -> None:
    """After a stop, make sure a complete checkpoint of the last optimizer step exists (when checkpoints are on).

    A stop between steps saves one in the trainer (see ``RunCallback._check_stop``). But a step that
    takes longer than the runner waits (a real model, or any model on a busy machine) is interrupted
    mid-step, before the trainer got to save, or the interrupt lands in the middle of that save: then
    it is saved here, outside the interruptible block, so that Stop keeps what was trained.
    """
    step = trainer.state.global_step
    if trainer.args.save_strategy == "no" or step <= 0:
        return  # nothing trained since the start (or since the checkpoint this run resumed from)
    latest = run.latest_checkpoint()
    if latest is not None and latest.name == f"checkpoint-{step}":
        return
    trainer._save_checkpoint(trainer.model, trial=None)
    print(f"checkpoint-{step} saved on stop", flush=True)
