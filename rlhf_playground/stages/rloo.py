"""RLOO (TRL's ``RLOOTrainer``): advantage = reward − mean of the *other* answers' rewards to the prompt.

A REINFORCE estimate with a leave-one-out baseline (no value model); ``beta`` puts the KL
to the reference into the reward. What it shares with GRPO lives in :mod:`.online`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import settings
from .online import OnlineStageConfig
from .online import run as run  # the stage's run: the registry finds it here

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
