"""Reward modelling: learn which of two answers people prefer (TRL ``RewardTrainer``).

The model is any causal LM or encoder with a one-output classification head,
trained with a LoRA adapter (optionally on 4-bit weights) on chosen/rejected
pairs with the Bradley–Terry loss ``-log σ(r(chosen) - r(rejected))``. Pairs
are tokenized here, exactly the way :class:`scorers.RewardModelScorer` will
later read answers, so the scores PPO and the Compare tab see match training.
Unusable pairs are dropped and counted, never silently.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .. import settings
from ..data.pairs import describe_dropped, read_pairs
from ..errors import UserError, require
from ..jobs.runs import Run
from ..models import check_4bit
from . import common
from .common import lora_config, make_trainer, quiet_progress_bars, save_adapter

STAGE = "reward"


@dataclass
class RewardStageConfig:
    model: str = settings.base_model("backbone")
    dataset: str = settings.preference_dataset()
    eval_fraction: float = settings.setting(0.1, "share of pairs held out for evaluation")
    lora_r: int = settings.lora_r()
    lora_alpha: int = settings.lora_alpha()
    lora_dropout: float = settings.lora_dropout(0.05)
    target_modules: str = settings.target_modules()
    load_in_4bit: bool = settings.load_in_4bit(help="load the backbone in 4-bit NF4 (bitsandbytes)")
    double_quant: bool = settings.double_quant()
    compute_dtype: str = settings.compute_dtype()
    learning_rate: float = settings.setting(2e-4, "peak learning rate (linear decay)")
    num_epochs: float = settings.setting(1.0, "passes over the training pairs")
    max_steps: int = settings.setting(-1, "stop after this many steps; overrides epochs when > 0")
    batch_size: int = settings.setting(8, "pairs per step")
    grad_accum: int = settings.setting(1, "forward passes per optimizer step")
    max_length: int = settings.setting(256, "tokens of prompt + answer; longer pairs are dropped")
    eval_steps: int = settings.setting(10, "evaluate (accuracy, margin) every N steps")
    logging_steps: int = settings.setting(1, "log the loss every N steps")
    seed: int = settings.setting(42, "random seed (split, LoRA init, shuffling)")
    report_to: str = settings.report_to()
    save_steps: int = settings.save_steps()

    def check_values(self) -> None:
        settings.check_report_to(self.report_to)
        rules = [
            *settings.schedule_rules(self),
            *settings.lora_rules(self),
            (0 < self.eval_fraction < 1, f"eval_fraction must be between 0 and 1 (got {self.eval_fraction})."),
            (self.eval_steps > 0, f"eval_steps must be at least 1 (got {self.eval_steps})."),
            (bool(self.dataset.strip()), "Choose a preference dataset: a saved dataset's name or a .jsonl file."),
        ]
        require(rules)

    def validate(self) -> None:
        """Raise UserError for settings that can't work, too few usable pairs (after max_length) included."""
        self.check_values()
        from ..models import shared_tokenizer

        check_4bit(self.load_in_4bit)
        with shared_tokenizer(self.model) as tokenizer:
            prepare_pairs(self, tokenizer)


# ------------------------------------------------------------------ data
def encode(tokenizer, prompt, answer: str) -> list[int]:
    """Token ids of prompt + answer: the chat template when the tokenizer has one, else text + EOS."""
    if getattr(tokenizer, "chat_template", None):
        messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
        text = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": answer}], tokenize=False)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    prompt_text = " ".join(m.get("content", "") for m in prompt) if isinstance(prompt, list) else prompt
    return tokenizer(prompt_text + answer + (tokenizer.eos_token or ""))["input_ids"]


def tokenize_pairs(tokenizer, pairs, max_length: int, dropped: Counter) -> list[dict]:
    rows = []
    for prompt, chosen, rejected in pairs:
        chosen_ids, rejected_ids = encode(tokenizer, prompt, chosen), encode(tokenizer, prompt, rejected)
        if max(len(chosen_ids), len(rejected_ids)) > max_length:
            dropped[f"longer than max_length {max_length}"] += 1
        else:
            rows.append({"chosen_ids": chosen_ids, "rejected_ids": rejected_ids})
    return rows


def prepare_pairs(config: RewardStageConfig, tokenizer) -> tuple[list[dict], list[dict], Counter]:
    """(training pairs, held-out pairs, dropped rows by reason): read, tokenized, filtered, split (seeded)."""
    pairs, dropped = read_pairs(config.dataset)
    rows = tokenize_pairs(tokenizer, pairs, config.max_length, dropped)
    n_eval = max(1, round(len(rows) * config.eval_fraction))
    if len(rows) - n_eval < 1:
        raise UserError(
            f"'{config.dataset}' has {len(rows)} usable pair(s) ({describe_dropped(dropped)}); a "
            "reward model needs at least 2 (one to train on, one to evaluate): raise max_length "
            "or add pairs."
        )
    random.Random(config.seed).shuffle(rows)
    return rows[n_eval:], rows[:n_eval], dropped


# ------------------------------------------------------------------ training
def build_trainer(config: RewardStageConfig, model, tokenizer, train, evaluation, run: Run):
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    model = common.prepare_4bit(model)
    args = RewardConfig(
        **common.schedule_args(config, run, model),
        per_device_eval_batch_size=config.batch_size,
        eval_strategy="steps",
        eval_steps=config.eval_steps,
    )
    trainer = make_trainer(
        RewardTrainer,
        run,
        config.target_modules,
        model=model,
        args=args,
        train_dataset=Dataset.from_list(train),
        eval_dataset=Dataset.from_list(evaluation),
        processing_class=tokenizer,
        peft_config=lora_config(config, task_type="SEQ_CLS"),
    )
    if getattr(model, "is_loaded_in_4bit", False):
        # TRL casts a 4-bit model's trainable weights to bfloat16; LoRA layers cast their input to match,
        # but the plain score head doesn't, so it must compute in the dtype the hidden states come in.
        from ..models import torch_dtype

        for param in trainer.model.parameters():
            if param.requires_grad:
                param.data = param.data.to(torch_dtype(config.compute_dtype))
    return trainer


def margins(model, tokenizer, rows: list[dict], batch_size: int) -> list[float]:
    """r(chosen) - r(rejected) for each tokenized pair."""
    import torch

    def scores(sequences):
        out = []
        for start in range(0, len(sequences), batch_size):
            chunk = sequences[start : start + batch_size]
            batch = tokenizer.pad({"input_ids": chunk}, return_tensors="pt").to(model.device)
            out += model(**batch).logits.float()[:, 0].tolist()
        return out

    model.eval()
    with torch.no_grad():
        chosen = scores([r["chosen_ids"] for r in rows])
        rejected = scores([r["rejected_ids"] for r in rows])
    return [c - r for c, r in zip(chosen, rejected)]


def run(config: RewardStageConfig, run: Run) -> dict[str, Any]:
    """Train (from the last checkpoint when resumed), then write artifacts/eval.json (accuracy, mean
    margin, all margins) and the adapter."""
    from transformers import set_seed
    from trl.trainer.reward_trainer import suppress_seqcls_warning

    from ..jobs.callbacks import train_resumably
    from ..models import describe, load_sequence_classifier

    quiet_progress_bars()
    set_seed(config.seed)  # the score head starts random: the same seed gives the same head
    with suppress_seqcls_warning():  # a freshly initialised score head is the point, not a problem
        model, tokenizer = load_sequence_classifier(
            config.model,
            num_labels=1,
            load_in_4bit=config.load_in_4bit,
            compute_dtype=config.compute_dtype,
            double_quant=config.double_quant,
        )
    train, evaluation, dropped = prepare_pairs(config, tokenizer)
    print(
        f"{describe_dropped(dropped)}; {len(train)} pairs for training, {len(evaluation)} held out for evaluation",
        flush=True,
    )
    run.update_status(dropped=dict(dropped))
    trainer = build_trainer(config, model, tokenizer, train, evaluation, run)
    run.update_status(model_info=describe(trainer.model))
    train_resumably(trainer, run)
    outcome: dict[str, Any] = {"adapter": str(save_adapter(run, trainer.model, tokenizer))}
    if not run.stop_requested():
        found = margins(trainer.model, tokenizer, evaluation, config.batch_size)
        accuracy = sum(m > 0 for m in found) / len(found)
        report = {
            "accuracy": accuracy,
            "mean_margin": sum(found) / len(found),
            "margins": found,
            "n_eval": len(found),
            "n_train": len(train),
            "dropped": dict(dropped),
        }
        outcome["eval"] = str(run.write_eval(report))
        print(
            f"eval accuracy {accuracy:.3f}, mean margin {report['mean_margin']:.3f} on {len(found)} pairs", flush=True
        )
    return outcome


def prefer(scorer, prompt: str, response_a: str, response_b: str) -> dict[str, Any]:
    """Which answer a reward model prefers, and how surely: P(a over b) = σ(r(a) − r(b)) (Bradley–Terry)."""
    import math

    score_a, score_b = scorer.score([prompt, prompt], [response_a, response_b])
    margin = score_a - score_b
    return {
        "score_a": score_a,
        "score_b": score_b,
        "margin": margin,
        "preferred": "A" if margin > 0 else "B" if margin < 0 else "neither",
        "probability_a": 1 / (1 + math.exp(-max(-60.0, min(60.0, margin)))),
    }
