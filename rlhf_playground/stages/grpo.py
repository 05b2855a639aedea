"""GRPO (TRL's ``GRPOTrainer``): advantage = (reward − group mean) / group std, a clipped policy loss.

Each prompt is answered ``num_generations`` times and the group is its own baseline (no
value model); ``beta`` > 0 adds a KL penalty to the reference. What it shares with RLOO
lives in :mod:`.online`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import settings
from ..errors import UserError
from .online import OnlineStageConfig
from .online import run as run  # the stage's run: the registry finds it here

STAGE = "grpo"


@dataclass
class GRPOStageConfig(OnlineStageConfig):
    scale_rewards: str = settings.setting(
        "group", "divide advantages by the std of rewards in the 'group', the whole 'batch', or 'none' (Dr. GRPO)"
    )

    method = "GRPO"

    def check_values(self) -> None:
        super().check_values()
        if self.scale_rewards not in ("group", "batch", "none"):
            raise UserError(f"scale_rewards must be 'group', 'batch' or 'none' (got {self.scale_rewards!r}).")

    def trl_classes(self) -> tuple[type, type]:
        from trl import GRPOConfig, GRPOTrainer

        return GRPOTrainer, GRPOConfig

    def method_args(self) -> dict[str, Any]:
        return {"scale_rewards": self.scale_rewards}
