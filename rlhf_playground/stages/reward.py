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
from dataclasses import dataclass, field
from typing import Any

from .. import settings
from ..data.formats import is_text_chat
from ..data.prompts import read_rows
from ..errors import UserError, require
from ..jobs.runs import Run
from ..models import DTYPES, check_4bit
from .common import lora_config, make_trainer, quiet_progress_bars, save_adapter, trainer_precision

STAGE = "reward"
TRANSCRIPT_REPLY = "\n\nAssistant:"  # in an hh-rlhf transcript the reply follows the last one


@dataclass
class RewardStageConfig:
    model: str = field(default="default", metadata={
        "help": "backbone: 'default' (bundled SmolLM2-135M-Instruct), a local folder, or a Hub name"})
    dataset: str = field(default="", metadata={
        "help": "a preference dataset saved in the workspace (its name) or a .jsonl file with chosen/rejected"})
    eval_fraction: float = field(default=0.1, metadata={"help": "share of pairs held out for evaluation"})
    lora_r: int = settings.lora_r()
    lora_alpha: int = settings.lora_alpha()
    lora_dropout: float = settings.lora_dropout(0.05)
    target_modules: str = settings.target_modules()
    load_in_4bit: bool = field(default=False, metadata={"help": "load the backbone in 4-bit NF4 (bitsandbytes)"})
    double_quant: bool = settings.double_quant()
    compute_dtype: str = field(default="auto", metadata={"help": "auto, float32, bfloat16 or float16"})
    learning_rate: float = field(default=2e-4, metadata={"help": "peak learning rate (linear decay)"})
    num_epochs: float = field(default=1.0, metadata={"help": "passes over the training pairs"})
    max_steps: int = field(default=-1, metadata={"help": "stop after this many steps; overrides epochs when > 0"})
    batch_size: int = field(default=8, metadata={"help": "pairs per step"})
    grad_accum: int = field(default=1, metadata={"help": "forward passes per optimizer step"})
    max_length: int = field(default=256, metadata={"help": "tokens of prompt + answer; longer pairs are dropped"})
    eval_steps: int = field(default=10, metadata={"help": "evaluate (accuracy, margin) every N steps"})
    logging_steps: int = field(default=1, metadata={"help": "log the loss every N steps"})
    seed: int = field(default=42, metadata={"help": "random seed (split, LoRA init, shuffling)"})
    save_steps: int = field(default=50, metadata={
        "help": "keep a checkpoint every N steps (and on Stop), so a failed or stopped run can be resumed; 0: none"})

    def check_values(self) -> None:
        rules = [
            (0 < self.learning_rate < 1, f"learning_rate must be in (0, 1) (got {self.learning_rate})."),
            *settings.lora_rules(self),
            (0 < self.eval_fraction < 1, f"eval_fraction must be between 0 and 1 (got {self.eval_fraction})."),
            (self.num_epochs > 0 or self.max_steps > 0, "Train for some epochs (num_epochs > 0) or set max_steps."),
            (self.batch_size > 0, f"batch_size must be at least 1 (got {self.batch_size})."),
            (self.grad_accum > 0, f"grad_accum must be at least 1 (got {self.grad_accum})."),
            (self.max_length >= 8, f"max_length must be at least 8 tokens (got {self.max_length})."),
            (self.eval_steps > 0 and self.logging_steps > 0, "eval_steps and logging_steps must be at least 1."),
            (self.save_steps >= 0, f"save_steps can't be negative (got {self.save_steps}); 0 saves none."),
            (self.compute_dtype in DTYPES, f"compute_dtype must be one of {', '.join(DTYPES)}."),
            (bool(self.dataset.strip()), "Choose a preference dataset: a saved dataset's name or a .jsonl file."),
        ]
        require(rules)

    def validate(self) -> None:
        """Raise UserError for settings that can't work, too few usable pairs (after max_length) included."""
        self.check_values()
        from ..models import load_tokenizer

        check_4bit(self.load_in_4bit)
        prepare_pairs(self, load_tokenizer(self.model))


# ------------------------------------------------------------------ data
def _is_text(value) -> bool:
    """Nothing, a string or a list of chat messages with string contents: what the chat template and the
    tokenizer can take. Numbers, objects or other lists in a .jsonl file are dropped as "not text"."""
    return value is None or isinstance(value, str) or value == [] or is_text_chat(value)


def _text(value) -> str:
    if isinstance(value, list):
        return value[-1].get("content", "") if value and isinstance(value[-1], dict) else ""
    return value if isinstance(value, str) else ""


def split_pair(row: dict) -> tuple[Any, str, str]:
    """(prompt, chosen answer, rejected answer) of one row, in any TRL preference format.

    The prompt is a list of messages (conversational) or a string; implicit-prompt rows
    carry it inside chosen/rejected: everything before the final assistant message, or,
    for plain strings, the shared transcript up to the last "Assistant:" (without one,
    nothing: the whole text is the answer).
    """
    chosen, rejected = row.get("chosen"), row.get("rejected")
    if row.get("prompt") is not None:
        return row["prompt"], _text(chosen), _text(rejected)
    if isinstance(chosen, list):
        return chosen[:-1], _text(chosen), _text(rejected)
    if not isinstance(chosen, str) or not isinstance(rejected, str):
        return "", _text(chosen), _text(rejected)
    head = chosen[:chosen.rfind(TRANSCRIPT_REPLY) + len(TRANSCRIPT_REPLY)] if TRANSCRIPT_REPLY in chosen else ""
    if head and rejected.startswith(head):
        return head, chosen[len(head):], rejected[len(head):]
    return "", chosen, rejected


def read_pairs(dataset: str) -> tuple[list[tuple[Any, str, str]], Counter]:
    """Usable (prompt, chosen, rejected) triples and the count of dropped rows by reason."""
    rows = read_rows(dataset)
    if rows and not all(k in rows[0] for k in ("chosen", "rejected")):
        raise UserError(f"'{dataset}' has no chosen/rejected columns (it has {', '.join(rows[0])}): "
                        "a reward model learns from preference pairs. Pick a preference dataset.")
    pairs, dropped = [], Counter()
    for row in rows:
        if not all(_is_text(row.get(key)) for key in ("prompt", "chosen", "rejected")):
            dropped["not text"] += 1
            continue
        prompt, chosen, rejected = split_pair(row)
        if not chosen.strip() or not rejected.strip():
            dropped["empty response"] += 1
        elif chosen.strip() == rejected.strip():
            dropped["chosen equals rejected"] += 1
        else:
            pairs.append((prompt, chosen, rejected))
    return pairs, dropped


def encode(tokenizer, prompt, answer: str) -> list[int]:
    """Token ids of prompt + answer: the chat template when the tokenizer has one, else text + EOS."""
    if getattr(tokenizer, "chat_template", None):
        messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
        text = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": answer}],
                                             tokenize=False)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    prompt_text = " ".join(m.get("content", "") for m in prompt) if isinstance(prompt, list) else prompt
    return tokenizer(prompt_text + answer + (tokenizer.eos_token or ""))["input_ids"]


def describe_dropped(dropped: Counter) -> str:
    """E.g. 'dropped 3 pairs: chosen equals rejected (2), empty response (1)'."""
    total = sum(dropped.values())
    reasons = ", ".join(f"{why} ({n})" for why, n in dropped.most_common())
    return f"dropped {total} pair{'' if total == 1 else 's'}: {reasons}" if total else "dropped no pairs"


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
        raise UserError(f"'{config.dataset}' has {len(rows)} usable pair(s) ({describe_dropped(dropped)}); a "
                        "reward model needs at least 2 (one to train on, one to evaluate): raise max_length "
                        "or add pairs.")
    random.Random(config.seed).shuffle(rows)
    return rows[n_eval:], rows[:n_eval], dropped


# ------------------------------------------------------------------ training
def build_trainer(config: RewardStageConfig, model, tokenizer, train, evaluation, run: Run):
    from datasets import Dataset
    from peft import prepare_model_for_kbit_training
    from trl import RewardConfig, RewardTrainer

    from ..jobs.callbacks import checkpoint_args

    if getattr(model, "is_loaded_in_4bit", False):
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    args = RewardConfig(
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate, num_train_epochs=config.num_epochs, max_steps=config.max_steps,
        max_length=config.max_length, seed=config.seed, logging_steps=config.logging_steps,
        eval_strategy="steps", eval_steps=config.eval_steps, report_to="none",
        **checkpoint_args(run, config.save_steps), disable_tqdm=True, use_cpu=str(model.device) == "cpu",
        **trainer_precision(config.compute_dtype))
    trainer = make_trainer(RewardTrainer, run, config.target_modules, model=model, args=args,
                           train_dataset=Dataset.from_list(train), eval_dataset=Dataset.from_list(evaluation),
                           processing_class=tokenizer, peft_config=lora_config(config, task_type="SEQ_CLS"))
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
            chunk = sequences[start:start + batch_size]
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
        model, tokenizer = load_sequence_classifier(config.model, num_labels=1, load_in_4bit=config.load_in_4bit,
                                                    compute_dtype=config.compute_dtype,
                                                    double_quant=config.double_quant)
    train, evaluation, dropped = prepare_pairs(config, tokenizer)
    print(f"{describe_dropped(dropped)}; {len(train)} pairs for training, {len(evaluation)} held out for "
          "evaluation", flush=True)
    run.update_status(dropped=dict(dropped))
    trainer = build_trainer(config, model, tokenizer, train, evaluation, run)
    run.update_status(model_info=describe(trainer.model))
    train_resumably(trainer, run)
    outcome: dict[str, Any] = {"adapter": str(save_adapter(run, trainer.model, tokenizer))}
    if not run.stop_requested():
        found = margins(trainer.model, tokenizer, evaluation, config.batch_size)
        accuracy = sum(m > 0 for m in found) / len(found)
        report = {"accuracy": accuracy, "mean_margin": sum(found) / len(found), "margins": found,
                  "n_eval": len(found), "n_train": len(train), "dropped": dict(dropped)}
        outcome["eval"] = str(run.write_eval(report))
        print(f"eval accuracy {accuracy:.3f}, mean margin {report['mean_margin']:.3f} on {len(found)} pairs",
              flush=True)
    return outcome


def register(subparsers) -> None:
    from ..jobs.execute import register_stage

    register_stage(subparsers, STAGE, RewardStageConfig, run,
                   help="train a reward model (one-output head + LoRA) on chosen/rejected pairs")


def prefer(scorer, prompt: str, response_a: str, response_b: str) -> dict[str, Any]:
    """Which answer a reward model prefers, and how surely: P(a over b) = σ(r(a) − r(b)) (Bradley–Terry)."""
    import math

    score_a, score_b = scorer.score([prompt, prompt], [response_a, response_b])
    margin = score_a - score_b
    return {"score_a": score_a, "score_b": score_b, "margin": margin,
            "preferred": "A" if margin > 0 else "B" if margin < 0 else "neither",
            "probability_a": 1 / (1 + math.exp(-max(-60.0, min(60.0, margin))))}
