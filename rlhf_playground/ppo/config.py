"""PPO's settings: what :class:`~rlhf_playground.ppo.trainer.PPOTrainer` and the PPO stage read.

Kept apart from the trainer (TRL's pattern) so that building a form or a CLI parser
doesn't import torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import settings
from ..data.prompts import load_prompts
from ..errors import UserError, require
from ..models import check_4bit


@dataclass
class PPOStageConfig(settings.OnlineRLSettings):
    steps: int = settings.setting(20, "PPO iterations (rollout + optimisation)")
    batch_size: int = settings.setting(8, "prompts answered per iteration")
    mini_batch_size: int = settings.setting(4, "answers per gradient step; must divide batch_size")
    ppo_epochs: int = settings.setting(2, "passes over each batch of answers")
    learning_rate: float = settings.setting(1e-5, "Adam learning rate for LoRA and the value head")
    value_learning_rate: float = settings.setting(
        0.0, "Adam learning rate for the value head (the critic); 0 uses learning_rate"
    )
    max_grad_norm: float = settings.setting(1.0, "clip the gradient norm to this; 0 turns it off")
    init_kl_coef: float = settings.setting(0.05, "beta: weight of the per-token KL penalty")
    adaptive_kl: bool = settings.setting(False, "steer beta so that the KL approaches target_kl")
    target_kl: float = settings.setting(6.0, "with adaptive_kl: the KL per answer to aim for")
    kl_horizon: int = settings.setting(10000, "with adaptive_kl: how slowly beta moves")
    kl_estimator: str = settings.setting("k1", "'k1' (logp - ref_logp) or 'k3' (always >= 0)")
    gamma: float = settings.setting(1.0, "discount per token")
    lam: float = settings.setting(0.95, "GAE lambda: bias/variance trade-off of advantages")
    clip_range: float = settings.setting(0.2, "policy ratio clip epsilon")
    clip_range_value: float = settings.setting(0.2, "value clip epsilon")
    vf_coef: float = settings.setting(0.1, "weight of the value loss")
    reward_scaling: str = settings.setting(
        "none", "'none', 'whiten' (per batch) or 'running' (scale only); scale small scores up, or the KL penalty wins"
    )
    penalize_non_ending: bool = settings.setting(
        False, "give answers that never end (no EOS within max_new_tokens) the score non_ending_penalty"
    )
    non_ending_penalty: float = settings.setting(
        -1.0, "the score for non-ending answers (with penalize_non_ending) and for empty answers"
    )
    seed: int = settings.setting(42, "random seed (LoRA init, prompt order, sampling)")
    report_to: str = settings.report_to()
    eval_prompts: int = settings.setting(16, "prompts held out to measure mean reward before/after")
    evaluate: bool = settings.setting(
        True, "answer the held-out prompts before and after training (the demo's comparison does it instead)"
    )
    max_prompt_length: int = settings.setting(128, "prompts longer than this keep their last tokens")
    compute_dtype: str = settings.compute_dtype()

    def check_values(self) -> None:
        """The checks that need neither the data nor a model."""
        settings.check_report_to(self.report_to)
        rules = [
            (self.steps > 0, f"steps must be at least 1 (got {self.steps})."),
            (self.batch_size > 0, f"batch_size must be at least 1 (got {self.batch_size})."),
            settings.mini_batch_rule(self.mini_batch_size, self.batch_size),
            (self.ppo_epochs > 0, f"ppo_epochs must be at least 1 (got {self.ppo_epochs})."),
            (self.learning_rate > 0, f"learning_rate must be above 0 (got {self.learning_rate})."),
            (self.learning_rate < 1, f"learning_rate {self.learning_rate} is far too high; try 1e-5."),
            (
                0 <= self.value_learning_rate < 1,
                f"value_learning_rate must be 0 (the policy's) or between 0 and 1 (got {self.value_learning_rate}).",
            ),
            (self.max_grad_norm >= 0, f"max_grad_norm can't be negative (got {self.max_grad_norm})."),
            *self.online_rules(),
            (self.init_kl_coef >= 0, f"init_kl_coef can't be negative (got {self.init_kl_coef})."),
            (self.target_kl > 0 and self.kl_horizon > 0, "target_kl and kl_horizon must be above 0."),
            (self.kl_estimator in ("k1", "k3"), f"kl_estimator must be 'k1' or 'k3' (got {self.kl_estimator!r})."),
            (0 <= self.gamma <= 1 and 0 <= self.lam <= 1, "gamma and lam must be in [0, 1]."),
            (self.clip_range > 0 and self.clip_range_value > 0, "clip_range and clip_range_value must be above 0."),
            (self.vf_coef >= 0, f"vf_coef can't be negative (got {self.vf_coef})."),
            (
                self.reward_scaling in ("none", "whiten", "running"),
                f"reward_scaling must be 'none', 'whiten' or 'running' (got {self.reward_scaling!r}).",
            ),
            (self.eval_prompts >= 0, f"eval_prompts can't be negative (got {self.eval_prompts})."),
            (self.max_prompt_length > 0, f"max_prompt_length must be at least 1 (got {self.max_prompt_length})."),
            settings.compute_dtype_rule(self.compute_dtype),
            (
                self.compute_dtype != "float16",
                "PPO can't compute in float16 (its update has no loss scaling, so small gradients would vanish): "
                "use bfloat16, float32 or auto.",
            ),
        ]
        require(rules)
        settings.check_reward(self.reward)

    def validate(self) -> None:
        """Raise UserError for settings that can't work: the dataset's prompts, the reward's model, 4-bit."""
        self.check_values()
        if not self.dataset.strip():
            raise UserError("Choose a dataset: a saved dataset's name or a .jsonl file with prompts.")
        load_prompts(self.dataset)
        self.check_adapter()
        settings.check_reward_source(self.reward)
        check_4bit(self.load_in_4bit)
