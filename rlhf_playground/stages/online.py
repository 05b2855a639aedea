"""GRPO and RLOO: online RL without a value model, with TRL's own trainers, on the PPO tab's data and rewards.

Both sample ``num_generations`` answers to each prompt and use the group itself as
the baseline, so there is no value head to train (PPO's critic):

* **GRPO** (``GRPOTrainer``): advantage = (reward − group mean) / group std, with a clipped
  policy loss; a KL penalty to the reference when ``beta`` > 0.
* **RLOO** (``RLOOTrainer``): advantage = reward − mean of the *other* answers' rewards
  (leave-one-out), a REINFORCE-style estimate; ``beta`` puts the KL into the reward.

The reward is the same scorer PPO uses (``lexicon``, ``classifier:...``, ``reward:...``),
wrapped as a TRL reward function. Like PPO, the run writes ``artifacts/eval.json``: the
mean reward of greedy answers to held-out prompts before and after, so the method
comparison (:mod:`rlhf_playground.methods`) reads every method the same way.
The helpers under "shared with DPO" (base model, trainer arguments, held-out evaluation) serve DPO too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import UserError, require
from ..jobs.runs import Run

GRPO, RLOO = "grpo", "rloo"
EVAL_PROMPT_TOKENS = 512  # held-out prompts are read whole (TRL's trainers don't cut prompts either)
REWARD_KINDS = ("lexicon", "vader", "classifier", "reward")


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class OnlineStageConfig:
    model: str = field(default="default", metadata=_help("policy base model: 'default', a local folder or a Hub name"))
    adapter: str = field(default="", metadata=_help(
        "an SFT run's adapter folder to start from (merged into the base, which then is the reference); empty: none"))
    dataset: str = field(default="", metadata=_help("a saved dataset's name or a .jsonl file with a 'prompt' column"))
    reward: str = field(default="lexicon", metadata=_help(
        "'lexicon' (VADER sentiment), 'classifier:<model>[:<label>]' or 'reward:<reward model run or folder>'"))
    steps: int = field(default=20, metadata=_help("optimizer steps; each samples batch_size answers"))
    batch_size: int = field(default=8, metadata=_help(
        "answers per step: batch_size / num_generations prompts, num_generations answers each"))
    num_generations: int = field(default=4, metadata=_help(
        "answers sampled per prompt (the group that is its own baseline); at least 2, must divide batch_size"))
    learning_rate: float = field(default=1e-4, metadata=_help("AdamW learning rate for the LoRA weights"))
    beta: float = field(default=0.05, metadata=_help("KL coefficient to the reference (adapter off); 0 skips it"))
    num_iterations: int = field(default=1, metadata=_help("optimisation passes over each batch of answers"))
    epsilon: float = field(default=0.2, metadata=_help("policy ratio clip epsilon"))
    max_new_tokens: int = field(default=32, metadata=_help("longest answer, in tokens"))
    temperature: float = field(default=1.0, metadata=_help("sampling temperature (> 0)"))
    top_k: int = field(default=0, metadata=_help("sample among the k likeliest tokens; 0 = all"))
    top_p: float = field(default=1.0, metadata=_help("nucleus sampling mass in (0, 1]; 1 = all"))
    lora_r: int = field(default=16, metadata=_help("LoRA rank"))
    lora_alpha: int = field(default=32, metadata=_help("LoRA scaling; the update is scaled by alpha / r"))
    lora_dropout: float = field(default=0.0, metadata=_help("dropout on the LoRA branch, in [0, 1)"))
    load_in_4bit: bool = field(default=False, metadata=_help("load the base weights in 4-bit NF4 (QLoRA-style)"))
    eval_prompts: int = field(default=16, metadata=_help(
        "prompts held out to measure mean reward before/after (the same split as PPO with the same seed)"))
    seed: int = field(default=42, metadata=_help("random seed (LoRA init, prompt order, sampling, held-out split)"))

    method = "online"  # GRPO or RLOO, in messages

    def check_values(self) -> None:
        """The checks that need neither the data nor a model."""
        n, batch = self.num_generations, self.batch_size
        rules = [
            (self.steps > 0, f"steps must be at least 1 (got {self.steps})."),
            (n >= 2, f"num_generations must be at least 2 (got {n}): {self.method} compares each answer with the "
                     "other answers to the same prompt."),
            (batch > 0 and batch % max(n, 1) == 0,
             f"batch_size ({batch}) must be a multiple of num_generations ({n}): each step answers "
             f"batch_size / num_generations prompts, num_generations times each. Try batch_size {max(n, 1) * 2}."),
            (0 < self.learning_rate < 1, f"learning_rate must be in (0, 1) (got {self.learning_rate})."),
            (self.beta >= 0, f"beta can't be negative (got {self.beta})."),
            (self.num_iterations > 0, f"num_iterations must be at least 1 (got {self.num_iterations})."),
            (self.epsilon > 0, f"epsilon must be above 0 (got {self.epsilon})."),
            (self.max_new_tokens > 0, f"max_new_tokens must be at least 1 (got {self.max_new_tokens})."),
            (self.temperature > 0, f"temperature must be above 0 (got {self.temperature})."),
            (self.top_k >= 0, f"top_k can't be negative (got {self.top_k})."),
            (0 < self.top_p <= 1, f"top_p must be in (0, 1] (got {self.top_p})."),
            (self.lora_r > 0 and self.lora_alpha > 0, "lora_r and lora_alpha must be at least 1."),
            (0 <= self.lora_dropout < 1, f"lora_dropout must be in [0, 1) (got {self.lora_dropout})."),
            (self.eval_prompts >= 0, f"eval_prompts can't be negative (got {self.eval_prompts})."),
            (bool(self.dataset.strip()), "Choose a dataset: a saved dataset's name or a .jsonl file with prompts."),
        ]
        require(rules)
        check_reward_kind(self.reward)

    def validate(self) -> None:
        """Raise UserError for settings that can't work: prompts, reward source, 4-bit."""
        self.check_values()
        train, _ = self.prompts()
        per_step = self.batch_size // self.num_generations
        if len(train) < per_step:
            raise UserError(f"'{self.dataset}' leaves {len(train)} training prompt(s), fewer than the {per_step} "
                            "each step answers: lower batch_size, lower eval_prompts or add prompts.")
        check_reward_source(self.reward)
        check_4bit(self.load_in_4bit)

    def prompts(self) -> tuple[list, list]:
        """``(training prompts, held-out prompts)``, split exactly as PPO splits them."""
        from ..ppo.trainer import split_prompts

        return split_prompts(read_prompts(self.dataset, self.method), self.eval_prompts, self.seed)


@dataclass
class GRPOStageConfig(OnlineStageConfig):
    scale_rewards: str = field(default="group", metadata=_help(
        "divide advantages by the std of rewards in the 'group', the whole 'batch', or 'none' (Dr. GRPO)"))

    method = "GRPO"

    def check_values(self) -> None:
        super().check_values()
        if self.scale_rewards not in ("group", "batch", "none"):
            raise UserError(f"scale_rewards must be 'group', 'batch' or 'none' (got {self.scale_rewards!r}).")


@dataclass
class RLOOStageConfig(OnlineStageConfig):
    normalize_advantages: bool = field(default=False, metadata=_help(
        "whiten the leave-one-out advantages over each batch (mean 0, std 1)"))

    method = "RLOO"


# ------------------------------------------------------------------ prompts and rewards
def read_prompts(dataset: str, method: str) -> list:
    """The dataset's prompts, or a UserError that says which kind of dataset ``method`` needs."""
    from ..ppo.trainer import load_prompts

    try:
        return load_prompts(dataset)
    except UserError as exc:
        if "no prompts" not in str(exc):
            raise
        raise UserError(f"'{dataset}' has no 'prompt' column, and {method} needs prompts to answer. Pick a "
                        "prompt dataset, or a preference dataset with an explicit prompt (save it from the "
                        "Data tab, which extracts prompts).") from None


def check_reward_kind(spec: str) -> None:
    if spec.partition(":")[0].strip().lower() not in REWARD_KINDS:
        raise UserError(f"Unknown reward '{spec}'. Choose 'lexicon', 'classifier:<model>[:<label>]' or "
                        "'reward:<reward model run or folder>'.")


def check_reward_source(spec: str) -> None:
    """UserError, before any training, when a classifier or reward model named in ``spec`` isn't there."""
    from ..scorers import check_classifier, find_model_folder

    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "reward":
        find_model_folder(rest.strip())
    elif kind == "classifier":
        check_classifier(spec)


def check_4bit(load_in_4bit: bool) -> None:
    from ..models import bnb_status

    ok, reason = bnb_status() if load_in_4bit else (True, "")
    if not ok:
        raise UserError(f"4-bit loading isn't available here: {reason} Turn load_in_4bit off.")


def completion_text(completion) -> str:
    """A TRL completion as text: a plain string, or the content of a conversational one's messages."""
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion)


def reward_function(scorer, on_scored: Callable[[list[dict]], None] | None = None):
    """``scorer`` as a TRL reward function ``f(prompts, completions, **kwargs) -> list[float]``.

    ``on_scored`` gets the batch as ``{prompt, response, reward}`` rows (for the live table).
    The function's ``__name__`` is the reward's kind, which TRL logs as ``rewards/<name>/mean``.
    """
    from ..ppo.trainer import prompt_text

    def reward(prompts, completions, **kwargs) -> list[float]:
        shown = [prompt_text(p) for p in prompts]
        answers = [completion_text(c).strip() for c in completions]
        scores = [float(s) for s in scorer.score(shown, answers)]
        if on_scored:
            on_scored([{"prompt": p, "response": a, "reward": s if math.isfinite(s) else None}
                       for p, a, s in zip(shown, answers, scores)])
        return [s if math.isfinite(s) else None for s in scores]  # TRL leaves None (NaN) out of the mean

    reward.__name__ = scorer.name.partition(":")[0]
    return reward


def as_chat(prompt, tokenizer):
    """A plain-text prompt as one user message when the model has a chat template, as PPO feeds it."""
    if isinstance(prompt, str) and getattr(tokenizer, "chat_template", None):
        return [{"role": "user", "content": prompt}]
    return prompt


# ------------------------------------------------------------------ shared with DPO
def load_base(model_ref: str, adapter: str, load_in_4bit: bool, double_quant: bool = True):
    """``(model, tokenizer)`` ready for a fresh LoRA adapter: the SFT adapter merged in, 4-bit prepared."""
    from peft import prepare_model_for_kbit_training

    from ..models import load_causal_lm
    from ..ppo.trainer import prepare_base

    model, tokenizer = load_causal_lm(model_ref, load_in_4bit=load_in_4bit, double_quant=double_quant,
                                      adapter=adapter or None)
    model = prepare_base(model)
    if getattr(model, "is_loaded_in_4bit", False):
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model, tokenizer


def lora_config(config):
    from peft import LoraConfig

    from .sft import lora_targets

    return LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=lora_targets(getattr(config, "target_modules", "auto")), task_type="CAUSAL_LM")


def trainer_args(config, run: Run) -> dict[str, Any]:
    """The TrainingArguments every method shares: steps, seed, logging each step, no checkpoints, CPU-friendly."""
    import torch

    from .sft import trainer_precision

    return dict(output_dir=str(run.path / "trainer"), max_steps=config.steps, learning_rate=config.learning_rate,
                per_device_train_batch_size=config.batch_size, seed=config.seed, logging_steps=1,
                save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=not torch.cuda.is_available(),
                activation_checkpointing=False, **trainer_precision("auto"))  # TRL turns checkpointing on: slow


def held_out_reward(model, tokenizer, scorer, prompts: list, max_new_tokens: int, batch_size: int) -> float:
    """Mean reward of greedy answers to ``prompts``, generated and scored as PPO's evaluation does."""
    from ..ppo.trainer import greedy_answers, mean_reward

    answers = greedy_answers(model, tokenizer, prompts, max_new_tokens, EVAL_PROMPT_TOKENS, batch_size)
    return mean_reward(scorer, prompts, answers)


def train_and_evaluate(run: Run, config, trainer, tokenizer, scorer, held_out: list, before: float | None,
                       reward: str) -> dict[str, Any]:
    """Train (stoppable), save the adapter with a note of what it sits on (``config.model`` and
    ``config.adapter``), and write eval.json with the keys PPO writes."""
    import shutil

    from ..jobs.execute import interruptible
    from ..models import describe
    from ..ppo.trainer import write_policy_info
    from .sft import save_adapter

    run.update_status(model_info=describe(trainer.model))
    with interruptible(run):
        trainer.train()
    shutil.rmtree(run.path / "trainer", ignore_errors=True)  # nothing of use: checkpoints are off
    adapter = save_adapter(run, trainer.model, tokenizer)
    write_policy_info(adapter, config.model, config.adapter)
    outcome: dict[str, Any] = {"adapter": str(adapter)}
    if held_out and before is not None and not run.stop_requested():
        after = held_out_reward(trainer.model, tokenizer, scorer, held_out, config.max_new_tokens, len(held_out))
        kl = [m["kl"] for m in run.metrics() if isinstance(m.get("kl"), (int, float))]
        evaluation = {"held_out_prompts": len(held_out), "reward_before": before, "reward_after": after,
                      "final_kl": kl[-1] if kl else None, "reward": reward}
        outcome["eval"] = str(run.write_artifact_json("eval.json", evaluation))
        print(f"held-out mean reward ({reward}): {before:.4f} before, {after:.4f} after", flush=True)
    return outcome


def evaluate_before(model, tokenizer, scorer, held_out: list, max_new_tokens: int) -> float | None:
    if not held_out:
        return None
    before = held_out_reward(model, tokenizer, scorer, held_out, max_new_tokens, len(held_out))
    print(f"mean reward of greedy answers to {len(held_out)} held-out prompts before training: {before:.4f}",
          flush=True)
    return before


# ------------------------------------------------------------------ the jobs
def build_trainer(config: OnlineStageConfig, model, tokenizer, scorer, train: list, run: Run):
    """TRL's GRPOTrainer or RLOOTrainer for ``config``, with a fresh LoRA adapter and our reward function."""
    from datasets import Dataset
    from transformers import PrinterCallback

    from ..jobs.callbacks import RunCallback

    shared = dict(**trainer_args(config, run), num_generations=config.num_generations,
                  max_completion_length=config.max_new_tokens, temperature=config.temperature, top_k=config.top_k,
                  top_p=config.top_p, beta=config.beta, num_iterations=config.num_iterations,
                  epsilon=config.epsilon)
    if isinstance(config, GRPOStageConfig):
        from trl import GRPOConfig as ArgsCls, GRPOTrainer as TrainerCls

        shared["scale_rewards"] = config.scale_rewards
    else:
        from trl import RLOOConfig as ArgsCls, RLOOTrainer as TrainerCls

        shared["normalize_advantages"] = config.normalize_advantages
    samples = lambda rows: run.write_artifact_json("samples.json", rows)  # noqa: E731
    dataset = Dataset.from_list([{"prompt": as_chat(p, tokenizer)} for p in train])
    trainer = TrainerCls(model=model, reward_funcs=reward_function(scorer, samples), args=ArgsCls(**shared),
                         train_dataset=dataset, processing_class=tokenizer, peft_config=lora_config(config),
                         callbacks=[RunCallback(run)])
    trainer.remove_callback(PrinterCallback)  # RunCallback prints one line per log instead
    return trainer


def run(config: OnlineStageConfig, run: Run) -> dict[str, Any]:
    """Evaluate the base on held-out prompts, train with GRPO or RLOO, save the adapter, evaluate again."""
    from transformers import set_seed

    from ..scorers import make_scorer
    from .sft import quiet_progress_bars

    quiet_progress_bars()
    set_seed(config.seed)
    train, held_out = config.prompts()
    print(f"{config.method}: {len(train)} training prompts, {len(held_out)} held out; reward: {config.reward}; "
          f"{config.batch_size // config.num_generations} prompts x {config.num_generations} answers per step",
          flush=True)
    scorer = make_scorer(config.reward)
    model, tokenizer = load_base(config.model, config.adapter, config.load_in_4bit)
    before = evaluate_before(model, tokenizer, scorer, held_out, config.max_new_tokens)
    trainer = build_trainer(config, model, tokenizer, scorer, train, run)
    return train_and_evaluate(run, config, trainer, tokenizer, scorer, held_out, before, config.reward)


def register(subparsers) -> None:
    from ..jobs.execute import register_stage

    register_stage(subparsers, GRPO, GRPOStageConfig, run,
                   help="GRPO (TRL): group-relative advantages, no value model, LoRA policy, any reward")
    register_stage(subparsers, RLOO, RLOOStageConfig, run,
                   help="RLOO (TRL): leave-one-out REINFORCE baseline, no value model, LoRA policy, any reward")
