"""What several stages share: LoRA and trainer settings, loading the base, saving the adapter,
and the held-out evaluation that PPO, GRPO, RLOO and DPO all write to ``artifacts/eval.json``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..jobs.runs import Run
from ..tracking import trainer_tracking


# ------------------------------------------------------------------ settings
def lora_targets(setting: str) -> str | list[str]:
    """'auto' → every linear layer except the output head (peft's 'all-linear'; covers GPT-2's Conv1D too)."""
    if setting.strip().lower() in ("auto", "all-linear"):
        return "all-linear"
    return [name.strip() for name in setting.split(",") if name.strip()]


def lora_config(config, task_type: str = "CAUSAL_LM"):
    """peft's LoraConfig from a stage config's lora_r, lora_alpha, lora_dropout (and target_modules)."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=lora_targets(getattr(config, "target_modules", "auto")),
        task_type=task_type,
    )


def trainer_precision(compute_dtype: str) -> dict[str, bool]:
    """TrainingArguments' mixed-precision flags; TRL turns bf16 on by default, which is slow on most CPUs."""
    import torch

    from ..models import torch_dtype

    dtype = torch_dtype(compute_dtype)
    return {"bf16": dtype == torch.bfloat16, "fp16": dtype == torch.float16}


def trainer_args(config, run: Run, batch_size: int | None = None) -> dict[str, Any]:
    """The TrainingArguments GRPO, RLOO and DPO share: steps, seed, logging each step, no checkpoints, CPU-friendly.

    ``batch_size``: examples per optimizer update when it isn't ``config.batch_size``."""
    from ..models import compute_device

    return dict(
        output_dir=str(run.path / "trainer"),
        max_steps=config.steps,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=batch_size or config.batch_size,
        seed=config.seed,
        logging_steps=1,
        save_strategy="no",
        **trainer_tracking(config.report_to, run),
        disable_tqdm=True,
        use_cpu=compute_device() == "cpu",
        activation_checkpointing=False,
        **trainer_precision("auto"),
    )  # TRL turns checkpointing on: slow


def schedule_args(config, run: Run, model) -> dict[str, Any]:
    """The TrainingArguments SFT and the reward model share: epochs or steps, accumulation, length, logging,
    checkpoints in the run folder (see :mod:`..jobs.callbacks`), the device and precision of ``model``."""
    from ..jobs.callbacks import checkpoint_args

    return dict(
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        num_train_epochs=config.num_epochs,
        max_steps=config.max_steps,
        max_length=config.max_length,
        seed=config.seed,
        logging_steps=config.logging_steps,
        **trainer_tracking(config.report_to, run),
        **checkpoint_args(run, config.save_steps),
        disable_tqdm=True,
        use_cpu=str(model.device) == "cpu",
        **trainer_precision(config.compute_dtype),
    )


def prepare_4bit(model, gradient_checkpointing: bool = False):
    """A 4-bit model made ready for training a LoRA on it (peft's kbit preparation); others as they are."""
    if not getattr(model, "is_loaded_in_4bit", False):
        return model
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)


def quiet_progress_bars() -> None:
    """Progress bars redraw with carriage returns, which turn log.txt into noise; metrics show progress."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def make_trainer(trainer_cls, run: Run, target_modules: str = "auto", **kwargs):
    """``trainer_cls(**kwargs)`` reporting to ``run``, without transformers' PrinterCallback (RunCallback
    prints one line per log instead); target_modules that match no layer are a UserError."""
    from transformers import PrinterCallback

    from ..jobs.callbacks import RunCallback

    try:
        trainer = trainer_cls(**kwargs, callbacks=[RunCallback(run)])
    except ValueError as exc:
        if "Target module" in str(exc) or "target_modules" in str(exc):
            raise UserError(
                f"target_modules '{target_modules}' doesn't match this model's layers (use 'auto')."
            ) from None
        raise
    trainer.remove_callback(PrinterCallback)
    return trainer


# ------------------------------------------------------------------ models in, adapters out
def load_base(model_ref: str, adapter: str, load_in_4bit: bool, double_quant: bool = True):
    """``(model, tokenizer)`` ready for a fresh LoRA adapter: the SFT adapter merged in, 4-bit prepared."""
    from ..models import load_causal_lm
    from ..models.policy import prepare_base

    model, tokenizer = load_causal_lm(
        model_ref, load_in_4bit=load_in_4bit, double_quant=double_quant, adapter=adapter or None
    )
    return prepare_4bit(prepare_base(model)), tokenizer


def save_adapter(run: Run, model, tokenizer) -> Path:
    """The trained adapter and the tokenizer into ``artifacts/adapter``."""
    with run.artifact_dir("adapter") as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    print(f"adapter saved to {run.adapter}", flush=True)
    return run.adapter


def as_chat(prompt, tokenizer):
    """A plain-text prompt as one user message when the model has a chat template, as PPO feeds it."""
    if isinstance(prompt, str) and getattr(tokenizer, "chat_template", None):
        return [{"role": "user", "content": prompt}]
    return prompt


# ------------------------------------------------------------------ held-out evaluation
def evaluate_before(model, tokenizer, scorer, held_out: list, max_new_tokens: int) -> float | None:
    from ..rewards.scorers import held_out_reward

    if not held_out:
        return None
    before = held_out_reward(model, tokenizer, scorer, held_out, max_new_tokens)
    print(
        f"mean reward of greedy answers to {len(held_out)} held-out prompts before training: {before:.4f}", flush=True
    )
    return before


def write_evaluation(run: Run, held_out: list, before: float, after: float, reward: str) -> Path:
    """eval.json, the same keys for every RL method: what :mod:`rlhf_playground.evaluation.methods` compares
    (``final_kl`` per answer, as PPO's, though TRL logs it per token)."""
    from ..evaluation.methods import kls_per_answer

    kl = kls_per_answer(run.status().get("stage", ""), run.metrics())
    return run.write_eval(
        {
            "held_out_prompts": len(held_out),
            "reward_before": before,
            "reward_after": after,
            "final_kl": kl[-1] if kl else None,
            "reward": reward,
        }
    )


def train_and_evaluate(
    run: Run, config, trainer, tokenizer, scorer, held_out: list, before: float | None, reward: str
) -> dict[str, Any]:
    """Train (stoppable), save the adapter with a note of what it sits on (``config.model`` and
    ``config.adapter``), and write eval.json with the keys PPO writes."""
    from ..jobs.execute import interruptible
    from ..models import describe
    from ..models.policy import write_policy_info
    from ..rewards.scorers import held_out_reward

    run.update_status(model_info=describe(trainer.model))
    with interruptible(run):
        trainer.train()
    shutil.rmtree(run.path / "trainer", ignore_errors=True)  # nothing of use: checkpoints are off
    adapter = save_adapter(run, trainer.model, tokenizer)
    write_policy_info(adapter, config.model, config.adapter)
    outcome: dict[str, Any] = {"adapter": str(adapter)}
    if held_out and before is not None and not run.stop_requested():
        after = held_out_reward(trainer.model, tokenizer, scorer, held_out, config.max_new_tokens)
        outcome["eval"] = str(write_evaluation(run, held_out, before, after, reward))
        print(f"held-out mean reward ({reward}): {before:.4f} before, {after:.4f} after", flush=True)
    return outcome
