"""PPO's settings: what :class:`~rlhf_playground.ppo.trainer.PPOTrainer` and the PPO stage read.

Kept apart from the trainer (TRL's pattern) so that building a form or a CLI parser
doesn't import torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data.prompts import load_prompts
from ..errors import UserError, require


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class PPOStageConfig:
    model: str = field(default="default", metadata=_help("policy base model: 'default', a local folder or a Hub name"))
    adapter: str = field(default="", metadata=_help(
        "an SFT run's adapter folder to start from (merged into the base, which then is the reference); empty: none"))
    dataset: str = field(default="", metadata=_help("a saved dataset's name or a .jsonl file with a 'prompt' column"))
    reward: str = field(default="lexicon", metadata=_help(
        "'lexicon' (VADER sentiment), 'classifier:<model>[:<label>]' or 'reward:<reward model folder>'"))
    steps: int = field(default=20, metadata=_help("PPO iterations (rollout + optimisation)"))
    batch_size: int = field(default=8, metadata=_help("prompts answered per iteration"))
    mini_batch_size: int = field(default=4, metadata=_help("answers per gradient step; must divide batch_size"))
    ppo_epochs: int = field(default=2, metadata=_help("passes over each batch of answers"))
    learning_rate: float = field(default=1e-5, metadata=_help("Adam learning rate for LoRA and the value head"))
    max_grad_norm: float = field(default=1.0, metadata=_help("clip the gradient norm to this; 0 turns it off"))
    lora_r: int = field(default=16, metadata=_help("LoRA rank"))
    lora_alpha: int = field(default=32, metadata=_help("LoRA scaling; the update is scaled by alpha / r"))
    lora_dropout: float = field(default=0.0, metadata=_help("dropout on the LoRA branch, in [0, 1)"))
    load_in_4bit: bool = field(default=False, metadata=_help("load the base weights in 4-bit NF4 (QLoRA-style)"))
    init_kl_coef: float = field(default=0.05, metadata=_help("beta: weight of the per-token KL penalty"))
    adaptive_kl: bool = field(default=False, metadata=_help("steer beta so that the KL approaches target_kl"))
    target_kl: float = field(default=6.0, metadata=_help("with adaptive_kl: the KL per answer to aim for"))
    kl_horizon: int = field(default=10000, metadata=_help("with adaptive_kl: how slowly beta moves"))
    kl_estimator: str = field(default="k1", metadata=_help("'k1' (logp - ref_logp) or 'k3' (always >= 0)"))
    gamma: float = field(default=1.0, metadata=_help("discount per token"))
    lam: float = field(default=0.95, metadata=_help("GAE lambda: bias/variance trade-off of advantages"))
    clip_range: float = field(default=0.2, metadata=_help("policy ratio clip epsilon"))
    clip_range_value: float = field(default=0.2, metadata=_help("value clip epsilon"))
    vf_coef: float = field(default=0.1, metadata=_help("weight of the value loss"))
    reward_scaling: str = field(default="none", metadata=_help(
        "'none', 'whiten' (per batch) or 'running' (scale only); scale small scores up, or the KL penalty wins"))
    penalize_non_ending: bool = field(default=False, metadata=_help(
        "give answers that never end (no EOS within max_new_tokens) the score non_ending_penalty"))
    non_ending_penalty: float = field(default=-1.0, metadata=_help(
        "the score for non-ending answers (with penalize_non_ending) and for empty answers"))
    max_new_tokens: int = field(default=32, metadata=_help("longest answer, in tokens"))
    temperature: float = field(default=1.0, metadata=_help("sampling temperature (> 0)"))
    top_k: int = field(default=0, metadata=_help("sample among the k likeliest tokens; 0 = all"))
    top_p: float = field(default=1.0, metadata=_help("nucleus sampling mass in (0, 1]; 1 = all"))
    seed: int = field(default=42, metadata=_help("random seed (LoRA init, prompt order, sampling)"))
    eval_prompts: int = field(default=16, metadata=_help("prompts held out to measure mean reward before/after"))
    max_prompt_length: int = field(default=128, metadata=_help("prompts longer than this keep their last tokens"))

    def check_values(self) -> None:
        """The checks that need neither the data nor a model."""
        rules = [
            (self.steps > 0, f"steps must be at least 1 (got {self.steps})."),
            (self.batch_size > 0, f"batch_size must be at least 1 (got {self.batch_size})."),
            (0 < self.mini_batch_size <= self.batch_size and self.batch_size % max(self.mini_batch_size, 1) == 0,
             f"mini_batch_size ({self.mini_batch_size}) must divide batch_size ({self.batch_size})."),
            (self.ppo_epochs > 0, f"ppo_epochs must be at least 1 (got {self.ppo_epochs})."),
            (self.learning_rate > 0, f"learning_rate must be above 0 (got {self.learning_rate})."),
            (self.learning_rate < 1, f"learning_rate {self.learning_rate} is far too high; try 1e-5."),
            (self.max_grad_norm >= 0, f"max_grad_norm can't be negative (got {self.max_grad_norm})."),
            (self.lora_r > 0 and self.lora_alpha > 0, "lora_r and lora_alpha must be at least 1."),
            (0 <= self.lora_dropout < 1, f"lora_dropout must be in [0, 1) (got {self.lora_dropout})."),
            (self.init_kl_coef >= 0, f"init_kl_coef can't be negative (got {self.init_kl_coef})."),
            (self.target_kl > 0 and self.kl_horizon > 0, "target_kl and kl_horizon must be above 0."),
            (self.kl_estimator in ("k1", "k3"), f"kl_estimator must be 'k1' or 'k3' (got {self.kl_estimator!r})."),
            (0 <= self.gamma <= 1 and 0 <= self.lam <= 1, "gamma and lam must be in [0, 1]."),
            (self.clip_range > 0 and self.clip_range_value > 0, "clip_range and clip_range_value must be above 0."),
            (self.vf_coef >= 0, f"vf_coef can't be negative (got {self.vf_coef})."),
            (self.reward_scaling in ("none", "whiten", "running"),
             f"reward_scaling must be 'none', 'whiten' or 'running' (got {self.reward_scaling!r})."),
            (self.max_new_tokens > 0, f"max_new_tokens must be at least 1 (got {self.max_new_tokens})."),
            (self.temperature > 0, f"temperature must be above 0 (got {self.temperature})."),
            (self.top_k >= 0, f"top_k can't be negative (got {self.top_k})."),
            (0 < self.top_p <= 1, f"top_p must be in (0, 1] (got {self.top_p})."),
            (self.eval_prompts >= 0, f"eval_prompts can't be negative (got {self.eval_prompts})."),
            (self.max_prompt_length > 0, f"max_prompt_length must be at least 1 (got {self.max_prompt_length})."),
            (self.reward.partition(":")[0].strip().lower() in ("lexicon", "vader", "classifier", "reward"),
             "Choose a reward: 'lexicon', 'classifier:<model>[:<label>]' or 'reward:<reward model folder>'."),
        ]
        require(rules)

    def validate(self) -> None:
        """Raise UserError for settings that can't work: the dataset's prompts, the reward model's folder, 4-bit."""
        from ..models import bnb_status
        from ..scorers import find_model_folder

        self.check_values()
        if not self.dataset.strip():
            raise UserError("Choose a dataset: a saved dataset's name or a .jsonl file with prompts.")
        load_prompts(self.dataset)
        kind, _, rest = self.reward.partition(":")
        if kind.strip().lower() == "reward":
            find_model_folder(rest.strip())
        ok, reason = bnb_status() if self.load_in_4bit else (True, "")
        if not ok:
            raise UserError(f"4-bit loading isn't available here: {reason} Turn load_in_4bit off.")
