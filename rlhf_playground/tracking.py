"""Experiment tracking: every training stage's ``report_to`` (none, tensorboard, trackio, wandb).

TRL's trainers take ``report_to`` as it is (:func:`trainer_tracking` adds where the logs go); our
PPO logs the same per-step metrics through :class:`Tracker`, which speaks to the same three libraries.
TensorBoard logs land in the run folder (``<run>/tensorboard``), so ``tensorboard --logdir
workspace/runs`` shows every run; trackio and wandb log to their own project, ``rlhf-playground``,
one run per run id. A shared (hosted) app allows only ``none`` and ``tensorboard``: the others would
write to the host's own tracking account or a store all sessions share.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any

from .errors import UserError
from .hosting import is_hosted

TRACKERS = ("none", "tensorboard", "trackio", "wandb")
HOSTED_TRACKERS = ("none", "tensorboard")
PROJECT = "rlhf-playground"
TENSORBOARD_DIR = "tensorboard"  # in the run folder


def check_report_to(value: str) -> None:
    """UserError unless ``value`` is a tracker this app (hosted or not) and this machine can report to."""
    if value not in TRACKERS:
        raise UserError(f"report_to must be one of {', '.join(TRACKERS)} (got '{value}').")
    if is_hosted() and value not in HOSTED_TRACKERS:
        raise UserError(
            f"A shared app doesn't report to {value} (that would be the host's account): use tensorboard, "
            "whose logs stay in your run folder, or none."
        )
    if value != "none" and importlib.util.find_spec(value) is None:
        raise UserError(f"{value} isn't installed here: `pip install {value}`, or set report_to to none.")


def trainer_tracking(report_to: str, run) -> dict[str, Any]:
    """TrainingArguments (and environment) that send a TRL trainer's logs to ``report_to`` for ``run``."""
    if report_to == "tensorboard":  # transformers' TensorBoard callback reads its folder from here
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(run.path / TENSORBOARD_DIR)
    if report_to == "wandb":
        os.environ.setdefault("WANDB_PROJECT", PROJECT)
    extra = {"project": PROJECT} if report_to == "trackio" else {}
    return {"report_to": report_to, "run_name": run.id, **extra}


class Tracker:
    """Our PPO's per-step metrics to ``report_to``, as TRL's trainers log theirs (``train/<name>``)."""

    def __init__(self, report_to: str, run, config: dict[str, Any]):
        self.kind, self._backend = report_to, None
        if report_to == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter

            self._backend = SummaryWriter(log_dir=str(run.path / TENSORBOARD_DIR))
        elif report_to in ("trackio", "wandb"):
            self._backend = importlib.import_module(report_to)
            kwargs = {"dir": str(run.path)} if report_to == "wandb" else {}
            self._backend.init(project=PROJECT, name=run.id, config=config, **kwargs)

    def log(self, row: dict[str, Any], step: int) -> None:
        numbers = {f"train/{k}": v for k, v in row.items() if isinstance(v, (int, float)) and k != "step"}
        if self.kind == "tensorboard":
            for name, value in numbers.items():
                self._backend.add_scalar(name, value, step)
        elif self._backend is not None:
            self._backend.log(numbers, step=step)

    def close(self) -> None:
        if self.kind == "tensorboard":
            self._backend.close()
        elif self._backend is not None:
            self._backend.finish()
