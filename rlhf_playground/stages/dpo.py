"""DPO: learn from preference pairs directly, with TRL's ``DPOTrainer`` and a LoRA adapter.

No reward model and no sampling: for each pair DPO raises the policy's log-probability
of the chosen answer relative to the rejected one, measured against the reference
(the same weights with the adapter off, which TRL uses when given a ``peft_config``)::

    loss = -log σ(β · [(log π(chosen) − log π_ref(chosen)) − (log π(rejected) − log π_ref(rejected))])

TRL logs the implicit rewards β·(log π − log π_ref) as ``rewards/chosen``,
``rewards/rejected``, their ``rewards/margins`` and ``rewards/accuracies`` (share of
pairs where chosen beats rejected). So that DPO can be compared with PPO, GRPO and
RLOO, the run also scores greedy answers to held-out prompts with ``eval_reward``
before and after training and writes the same ``artifacts/eval.json``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .. import settings
from ..data.pairs import describe_dropped, read_pairs
from ..data.prompts import read_prompts, read_rows, split_prompts
from ..errors import UserError, require
from ..jobs.runs import Run
from ..models import check_4bit
from . import common

STAGE = "dpo"
LOSS_TYPES = ("sigmoid", "ipo", "hinge", "robust")


@dataclass
class DPOStageConfig:
    model: str = settings.policy_model()
    adapter: str = settings.sft_adapter()
    dataset: str = settings.preference_dataset()
    steps: int = settings.setting(20, "optimizer steps (the pairs are cycled through as needed)")
    batch_size: int = settings.setting(4, "pairs per step")
    learning_rate: float = settings.setting(5e-5, "peak learning rate (linear decay)")
    beta: float = settings.setting(0.1, "how far the policy may move from the reference: higher keeps it closer")
    loss_type: str = settings.setting("sigmoid", "'sigmoid' (the DPO paper), 'ipo', 'hinge' or 'robust' (noisy labels)")
    max_length: int = settings.setting(256, "tokens of prompt + answer; longer pairs are cut")
    lora_r: int = settings.lora_r()
    lora_alpha: int = settings.lora_alpha()
    lora_dropout: float = settings.lora_dropout(0.05)
    target_modules: str = settings.target_modules()
    load_in_4bit: bool = settings.load_in_4bit()
    double_quant: bool = settings.double_quant()
    eval_reward: str = settings.reward(
        "reward that scores greedy answers to held-out prompts before/after, to compare with PPO/GRPO/RLOO: "
        + settings.REWARD_HELP
    )
    eval_dataset: str = settings.setting(
        "",
        "a prompt dataset to take the held-out prompts from (the same split PPO uses with the same seed); "
        "empty: prompts of pairs held out of training",
    )
    eval_prompts: int = settings.setting(16, "held-out prompts answered before and after")
    max_new_tokens: int = settings.setting(32, "length of each held-out answer, in tokens")
    seed: int = settings.setting(42, "random seed (LoRA init, shuffling, held-out split)")
    report_to: str = settings.report_to()

    def check_values(self) -> None:
        settings.check_report_to(self.report_to)
        rules = [
            (self.steps > 0, f"steps must be at least 1 (got {self.steps})."),
            (self.batch_size > 0, f"batch_size must be at least 1 (got {self.batch_size})."),
            (0 < self.learning_rate < 1, f"learning_rate must be in (0, 1) (got {self.learning_rate})."),
            (self.beta > 0, f"beta must be above 0 (got {self.beta})."),
            (
                self.loss_type in LOSS_TYPES,
                f"loss_type must be one of {', '.join(LOSS_TYPES)} (got {self.loss_type!r}).",
            ),
            (self.max_length >= 16, f"max_length must be at least 16 tokens (got {self.max_length})."),
            *settings.lora_rules(self),
            (self.eval_prompts >= 0, f"eval_prompts can't be negative (got {self.eval_prompts})."),
            (self.max_new_tokens > 0, f"max_new_tokens must be at least 1 (got {self.max_new_tokens})."),
            (bool(self.dataset.strip()), "Choose a preference dataset: a saved dataset's name or a .jsonl file."),
        ]
        require(rules)
        settings.check_reward(self.eval_reward)

    def validate(self) -> None:
        """Raise UserError for settings that can't work: the pairs, the held-out prompts, the reward, 4-bit."""
        self.check_values()
        train, held_out, _ = self.split()
        if len(train) < 1:
            raise UserError(f"'{self.dataset}' has no pairs left to train on: add pairs or lower eval_prompts.")
        if self.eval_prompts and not held_out:
            raise UserError("There are no prompts to evaluate on: set eval_dataset to a prompt dataset.")
        settings.check_reward_source(self.eval_reward)
        check_4bit(self.load_in_4bit)

    def split(self) -> tuple[list[tuple], list, Counter]:
        """``(training pairs, held-out prompts, dropped rows by reason)``; pairs are (prompt, chosen, rejected)."""
        pairs, dropped = read_preference_pairs(self.dataset)
        if self.eval_dataset.strip():
            _, held_out = split_prompts(
                read_prompts(self.eval_dataset, "DPO's evaluation"), self.eval_prompts, self.seed
            )
            return pairs, held_out, dropped
        train, held_pairs = split_prompts(pairs, self.eval_prompts, self.seed)
        return train, [prompt for prompt, _, _ in held_pairs], dropped


def read_preference_pairs(dataset: str) -> tuple[list[tuple], Counter]:
    """Usable (prompt, chosen, rejected) triples; UserError for a dataset that isn't preference pairs."""
    rows = read_rows(dataset)
    if not rows:
        raise UserError(f"The dataset '{dataset}' is empty.")
    pairs, dropped = read_pairs(dataset, "DPO", rows=rows)
    usable = [pair for pair in pairs if pair[0]]
    if len(usable) < len(pairs):
        dropped["no prompt"] += len(pairs) - len(usable)
    if not usable:
        raise UserError(
            f"'{dataset}' has no usable pairs with a prompt (dropped: {dict(dropped)}). DPO compares "
            "two answers to the same prompt: save the dataset from the Data tab to extract prompts."
        )
    return usable, dropped


def trainer_rows(pairs: list[tuple], tokenizer) -> list[dict]:
    """Pairs in TRL's preference format; conversational when the model has a chat template, as PPO prompts it."""
    rows = []
    for prompt, chosen, rejected in pairs:
        prompt = common.as_chat(prompt, tokenizer)
        if isinstance(prompt, list):
            chosen, rejected = ([{"role": "assistant", "content": text}] for text in (chosen, rejected))
        rows.append({"prompt": prompt, "chosen": chosen, "rejected": rejected})
    return rows


def build_trainer(config: DPOStageConfig, model, tokenizer, pairs: list[tuple], run: Run):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(
        **common.trainer_args(config, run), beta=config.beta, loss_type=[config.loss_type], max_length=config.max_length
    )
    return common.make_trainer(
        DPOTrainer,
        run,
        config.target_modules,
        model=model,
        args=args,
        train_dataset=Dataset.from_list(trainer_rows(pairs, tokenizer)),
        processing_class=tokenizer,
        peft_config=common.lora_config(config),
    )


def run(config: DPOStageConfig, run: Run) -> dict[str, Any]:
    """Evaluate the base on held-out prompts, train with DPO, save the adapter, evaluate again."""
    from transformers import set_seed

    from ..rewards.scorers import make_scorer

    common.quiet_progress_bars()
    set_seed(config.seed)
    train, held_out, dropped = config.split()
    print(
        f"DPO: {describe_dropped(dropped)}; {len(train)} pairs for training, {len(held_out)} held-out prompts "
        f"scored with {config.eval_reward}",
        flush=True,
    )
    run.update_status(dropped=dict(dropped))
    scorer = make_scorer(config.eval_reward)
    model, tokenizer = common.load_base(config.model, config.adapter, config.load_in_4bit, config.double_quant)
    before = common.evaluate_before(model, tokenizer, scorer, held_out, config.max_new_tokens)
    trainer = build_trainer(config, model, tokenizer, train, run)
    return common.train_and_evaluate(run, config, trainer, tokenizer, scorer, held_out, before, config.eval_reward)
