"""RLOO (TRL's ``RLOOTrainer``): advantage = reward − mean of the *other* answers' rewards to the prompt.

A REINFORCE estimate with a leave-one-out baseline (no value model); ``beta`` puts the KL
to the reference into the reward. What it shares with GRPO lives in :mod:`.online`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import settings
from .online import OnlineStageConfig, run

STAGE = "rloo"


@dataclass
class RLOOStageConfig(OnlineStageConfig):
    normalize_advantages: bool = settings.setting(
        False, "whiten the leave-one-out advantages over each batch (mean 0, std 1)"
    )

    method = "RLOO"

    def trl_classes(self) -> tuple[type, type]:
        from trl import RLOOConfig, RLOOTrainer

        return RLOOTrainer, RLOOConfig

    def method_args(self) -> dict[str, Any]:
        return {"normalize_advantages": self.normalize_advantages}


def register(subparsers) -> None:
    from ..jobs.execute import register_stage

    register_stage(
        subparsers,
        STAGE,
        RLOOStageConfig,
        run,
        help="RLOO (TRL): leave-one-out REINFORCE baseline, no value model, LoRA policy, any reward",
    )
