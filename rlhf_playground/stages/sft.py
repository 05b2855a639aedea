"""Supervised fine-tuning with LoRA or QLoRA: teach the base model to answer like the dataset.

TRL's ``SFTTrainer`` does the training; this module picks the dataset format,
checks the settings against the data before anything heavy starts, and
leaves in the run folder an adapter (with the tokenizer), optionally a merged
model, and ``samples.json``: answers to held-out prompts before and after.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import settings
from ..data.prompts import conversation_prompt, prompt_text, read_rows
from ..errors import UserError, require
from ..jobs.runs import Run
from ..models import check_4bit
from ..models.generation import answer, encode_prompts
from . import common
from .common import lora_config, make_trainer, quiet_progress_bars, save_adapter

STAGE = "sft"
LENGTH_CANDIDATES = 32  # prompts tokenized at Start to find the longest (see longest_prompts)


@dataclass
class SFTStageConfig:
    model: str = settings.base_model()
    dataset: str = settings.setting(
        "",
        "a dataset saved in the workspace (its name) or a .jsonl file with 'text', "
        "'prompt'+'completion', 'messages' or 'prompt'+'chosen' rows",
    )
    lora_r: int = settings.lora_r()
    lora_alpha: int = settings.lora_alpha()
    lora_dropout: float = settings.lora_dropout(0.05)
    target_modules: str = settings.target_modules(
        "layers that get LoRA: 'auto' (every linear layer but the output head) or comma-separated names such as "
        "'q_proj,v_proj'"
    )
    learning_rate: float = settings.setting(2e-4, "peak learning rate (linear decay)")
    num_epochs: float = settings.setting(1.0, "passes over the training data")
    max_steps: int = settings.setting(-1, "stop after this many optimizer steps; overrides epochs when > 0")
    batch_size: int = settings.setting(4, "examples per forward pass")
    grad_accum: int = settings.setting(1, "forward passes per optimizer step")
    max_length: int = settings.setting(256, "tokens per example; longer ones are cut at the end")
    seed: int = settings.setting(42, "random seed (LoRA init, shuffling, held-out split)")
    report_to: str = settings.report_to()
    load_in_4bit: bool = settings.load_in_4bit(
        True, "QLoRA: load the base weights in 4-bit NF4 (bitsandbytes), train LoRA on top"
    )
    double_quant: bool = settings.double_quant(
        "with 4-bit: also quantize the quantization constants (saves ~0.4 bit per weight)"
    )
    compute_dtype: str = settings.compute_dtype()
    gradient_checkpointing: bool = settings.setting(
        False, "recompute activations during the backward pass: less memory, about 25% slower"
    )
    merge: bool = settings.setting(False, "also save the base model with the adapter merged in (full precision)")
    eval_prompts: int = settings.setting(
        4, "prompts held out of training and answered before and after, for samples.json"
    )
    max_new_tokens: int = settings.setting(48, "length of each sample answer")
    logging_steps: int = settings.setting(1, "log loss and learning rate every N steps")
    save_steps: int = settings.save_steps()

    def check_values(self) -> None:
        """The checks that need neither the data nor the model."""
        settings.check_report_to(self.report_to)
        rules = [
            *settings.schedule_rules(self),
            *settings.lora_rules(self),
            (self.eval_prompts >= 0, f"eval_prompts can't be negative (got {self.eval_prompts})."),
            (self.max_new_tokens > 0, f"max_new_tokens must be at least 1 (got {self.max_new_tokens})."),
            (bool(self.dataset.strip()), "Choose a dataset: a saved dataset's name or a .jsonl file."),
        ]
        require(rules)

    def validate(self) -> None:
        """Raise UserError for settings that can't work, the data-dependent ones included."""
        self.check_values()
        from ..models import shared_tokenizer

        examples = load_examples(self.dataset)
        check_4bit(self.load_in_4bit)
        with shared_tokenizer(self.model) as tokenizer:
            ids = sample_ids(tokenizer, longest_prompts(examples.samples))
        longest = max(map(len, ids), default=0)
        if self.max_length < longest + 1:
            raise UserError(
                f"max_length {self.max_length} is too short: the longest prompt in "
                f"'{self.dataset}' is {longest} tokens, so no answer token would fit. "
                f"Use max_length of at least {longest + 1} (better {longest + 64})."
            )


def longest_prompts(samples: list[dict[str, Any]], count: int = LENGTH_CANDIDATES) -> list:
    """The ``count`` prompts longest in characters: the ones to tokenize to find the longest in tokens.

    Start checks the prompts' length in the app's own process, and tokenizing every row of a big dataset
    there was most of the server's time when a room pressed Start at once. Tokens follow characters
    closely, so the longest prompt in tokens is among the longest few dozen in characters."""
    longest = heapq.nlargest(count, (ex for ex in samples if ex["prompt"]), key=lambda ex: len(ex["shown"]))
    return [ex["prompt"] for ex in longest]


def sample_ids(tokenizer, prompts: list) -> list[list[int]]:
    """SFT's prompts as the model sees them: a conversation (a list of turns) through the chat template, a plain
    prompt as the text it was trained on."""
    return encode_prompts(tokenizer, prompts, chat=[isinstance(p, list) for p in prompts])


# ------------------------------------------------------------------ data
@dataclass
class Examples:
    """A dataset in the shape SFTTrainer takes, plus a prompt per row for sample answers."""

    format: str  # text | prompt-completion | messages
    rows: list[dict[str, Any]]
    samples: list[dict[str, Any]]  # {"prompt": str | messages, "shown": str}, one per row


def _example(row: dict[str, Any]) -> tuple[str, dict, dict] | None:
    """``(format, trainer row, sample)`` for one dataset row, or None if it has nothing to learn."""
    if row.get("messages"):
        messages = row["messages"]
        prompt = conversation_prompt(messages)
        return "messages", {"messages": messages}, {"prompt": prompt, "shown": prompt_text(prompt or messages)}
    completion = row.get("completion", row.get("chosen"))
    if row.get("prompt") and completion:
        prompt = row["prompt"]
        shown = prompt_text(prompt) if isinstance(prompt, list) else prompt
        return "prompt-completion", {"prompt": prompt, "completion": completion}, {"prompt": prompt, "shown": shown}
    text = row.get("text") or (row.get("chosen") if isinstance(row.get("chosen"), str) else None)
    if text:
        words = text.split()
        opening = " ".join(words[: min(16, max(3, len(words) // 3))])
        return "text", {"text": text}, {"prompt": opening, "shown": opening}
    if isinstance(row.get("chosen"), list):
        return _example({"messages": row["chosen"]})
    return None


def load_examples(dataset: str) -> Examples:
    """The dataset's rows as SFT examples; UserError when there is nothing SFT can learn from."""
    rows = read_rows(dataset)
    if not rows:
        raise UserError(f"The dataset '{dataset}' is empty.")
    if all(isinstance(r.get("label"), bool) and "completion" in r for r in rows):  # unpaired (KTO) preferences
        rows = [r for r in rows if r["label"]]
        if not rows:
            raise UserError(f"The dataset '{dataset}' has no desirable rows (label true): SFT learns only from those.")
    converted = [ex for ex in map(_example, rows) if ex]
    if not converted:
        raise UserError(
            f"The dataset '{dataset}' has nothing to learn from: SFT needs rows with 'text', "
            f"'prompt' and 'completion', 'messages', or 'prompt' and 'chosen' (its rows have "
            f"{', '.join(sorted(rows[0]))}). Prompt-only datasets are for PPO."
        )
    kinds = {fmt for fmt, _, _ in converted}
    if len(kinds) > 1:
        raise UserError(
            f"The dataset '{dataset}' mixes row formats ({', '.join(sorted(kinds))}); use one format for every row."
        )
    return Examples(kinds.pop(), [r for _, r, _ in converted], [s for _, _, s in converted])


def split_held_out(examples: Examples, count: int, seed: int) -> tuple[list[dict], list[dict]]:
    """Training rows and sample prompts: held out of training when the data can spare them (4x as many rows)."""
    order = list(range(len(examples.rows)))
    random.Random(seed).shuffle(order)
    usable = [i for i in order if examples.samples[i]["prompt"]]
    if count and len(examples.rows) >= 4 * count and len(usable) >= count:
        held = set(usable[:count])
        train = [examples.rows[i] for i in range(len(examples.rows)) if i not in held]
        return train, [{**examples.samples[i], "held_out": True} for i in usable[:count]]
    return examples.rows, [{**examples.samples[i], "held_out": False} for i in usable[:count]]


# ------------------------------------------------------------------ training
def build_trainer(config: SFTStageConfig, model, tokenizer, train_rows: list[dict], run: Run) -> Any:
    """The SFTTrainer for ``config``, with a fresh LoRA adapter on ``model``, reporting to ``run``."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model = common.prepare_4bit(model, config.gradient_checkpointing)
    args = SFTConfig(**common.schedule_args(config, run, model), activation_checkpointing=config.gradient_checkpointing)
    return make_trainer(
        SFTTrainer,
        run,
        config.target_modules,
        model=model,
        args=args,
        train_dataset=Dataset.from_list(train_rows),
        processing_class=tokenizer,
        peft_config=lora_config(config),
    )


def run(config: SFTStageConfig, run: Run) -> dict[str, Any]:
    """Train (from the last checkpoint when resumed), save the adapter, write samples.json and
    optionally the merged model."""
    from ..jobs.callbacks import train_resumably
    from ..models import describe, load_causal_lm

    quiet_progress_bars()
    examples = load_examples(config.dataset)
    train_rows, samples = split_held_out(examples, config.eval_prompts, config.seed)
    print(
        f"dataset '{config.dataset}': {len(examples.rows)} {examples.format} rows, "
        f"{len(train_rows)} for training, {sum(s['held_out'] for s in samples)} held out",
        flush=True,
    )
    model, tokenizer = load_causal_lm(
        config.model,
        load_in_4bit=config.load_in_4bit,
        compute_dtype=config.compute_dtype,
        double_quant=config.double_quant,
    )
    trainer = build_trainer(config, model, tokenizer, train_rows, run)
    info = describe(trainer.model)
    run.update_status(model_info=info)
    print(
        f"model '{config.model}': {info['parameters']:,} parameters, {info['trainable']:,} trainable "
        f"({info['trainable_percent']}%), {info['dtype']}{', 4-bit' if info['load_in_4bit'] else ''}, "
        f"on {info['device']}",
        flush=True,
    )
    train_resumably(trainer, run)
    model = trainer.model
    adapter = save_adapter(run, model, tokenizer)
    outcome: dict[str, Any] = {"adapter": str(adapter)}
    if samples and not run.stop_requested():
        written = write_samples(run, model, tokenizer, samples, config.max_new_tokens)
        if written:
            outcome["samples"] = str(written)
    if config.merge and not run.stop_requested():
        outcome["merged"] = str(save_merged(run, config, model, tokenizer, adapter))
    return outcome


def write_samples(run: Run, model, tokenizer, samples: list[dict], max_new_tokens: int) -> Path | None:
    """samples.json: each prompt's answer from the base model (adapter off) and the tuned one."""
    from ..jobs.execute import interruptible

    ids = sample_ids(tokenizer, [s["prompt"] for s in samples])
    with interruptible(run):
        with model.disable_adapter():
            base = answer(model, tokenizer, ids, max_new_tokens, len(ids))
        tuned = answer(model, tokenizer, ids, max_new_tokens, len(ids))
        rows = [
            {"prompt": s["shown"], "base": b, "tuned": t, "held_out": s["held_out"]}
            for s, b, t in zip(samples, base, tuned)
        ]
        return run.write_artifact_json("samples.json", rows)
    return None


def save_merged(run: Run, config: SFTStageConfig, model, tokenizer, adapter: Path) -> Path:
    """The base model with the adapter folded in; a 4-bit base is reloaded in full precision first."""
    from peft import PeftModel

    from ..models import load_causal_lm

    if getattr(model, "is_loaded_in_4bit", False) or getattr(model.base_model, "is_loaded_in_4bit", False):
        base, _ = load_causal_lm(config.model, load_in_4bit=False, compute_dtype=config.compute_dtype)
        model = PeftModel.from_pretrained(base, str(adapter))
    merged = model.merge_and_unload()
    with run.artifact_dir("merged") as tmp:
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    print(f"merged model saved to {run.artifacts / 'merged'}", flush=True)
    return run.artifacts / "merged"
