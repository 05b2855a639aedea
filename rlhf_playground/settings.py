"""Settings that several stage configs share (the policy model, LoRA, the reward, sampling),
each with its rules written once.

A piece is a function that returns a dataclass ``field`` (so every config keeps its own
field order, which is the order of its form and its CLI flags), and the rules are
functions a config's ``check_values`` adds to its own. Where several stages share a
whole set of settings, a small dataclass holds it and their configs subclass it
(:class:`OnlineRLSettings`: PPO, GRPO and RLOO). Checks that need the disk or the
network (:func:`check_reward_source`) belong in ``validate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import UserError, require
from .tracking import TRACKERS, check_report_to  # noqa: F401 - check_report_to: the configs' rule

REWARD_KINDS = ("lexicon", "vader", "judge", "classifier", "reward")
REWARD_HELP = (
    "'lexicon' (VADER sentiment), 'judge' (the project's own sentiment classifier), "
    "'classifier:<model>[:<label>]' or 'reward:<reward model run or folder>'"
)


def setting(default: Any, help: str) -> Any:
    """A config field with its help text (the form's tooltip and the CLI's --help)."""
    return field(default=default, metadata={"help": help})


# ------------------------------------------------------------------ experiment tracking
def report_to() -> Any:
    return field(
        default="none",
        metadata={
            "help": "send the training metrics to none, tensorboard (logs in the run folder), trackio or wandb",
            "choices": TRACKERS,
        },
    )


# ------------------------------------------------------------------ the model and the data
def base_model(what: str = "base model") -> Any:
    return setting("default", f"{what}: 'default' (bundled SmolLM2-135M-Instruct), a local folder or a Hub name")


def policy_model() -> Any:
    return base_model("policy base model")


def sft_adapter() -> Any:
    return setting(
        "", "an SFT run's adapter folder to start from (merged into the base, which then is the reference); empty: none"
    )


def prompt_dataset() -> Any:
    return setting("", "a saved dataset's name or a .jsonl file with a 'prompt' column")


def preference_dataset() -> Any:
    return setting("", "a preference dataset saved in the workspace (its name) or a .jsonl file with chosen/rejected")


def load_in_4bit(default: bool = False, help: str = "load the base weights in 4-bit NF4 (QLoRA-style)") -> Any:
    return setting(default, help)


# ------------------------------------------------------------------ LoRA
def lora_r() -> Any:
    return setting(16, "LoRA rank: size of the low-rank update")


def lora_alpha() -> Any:
    return setting(32, "LoRA scaling; the update is scaled by alpha / r")


def lora_dropout(default: float) -> Any:
    return setting(default, "dropout on the LoRA branch, in [0, 1)")


def target_modules(help: str = "layers that get LoRA ('auto': every linear one)") -> Any:
    return setting("auto", help)


def double_quant(help: str = "with 4-bit: also quantize the quantization constants") -> Any:
    return setting(True, help)


def lora_rules(config) -> list[tuple[bool, str]]:
    """lora_r, lora_alpha, lora_dropout and (where the config has it) target_modules."""
    return [
        (config.lora_r > 0, f"lora_r must be at least 1 (got {config.lora_r})."),
        (config.lora_alpha > 0, f"lora_alpha must be at least 1 (got {config.lora_alpha})."),
        (0 <= config.lora_dropout < 1, f"lora_dropout must be in [0, 1) (got {config.lora_dropout})."),
        (bool(getattr(config, "target_modules", "auto").strip()), "target_modules can't be empty; use 'auto'."),
    ]


# ------------------------------------------------------------------ a TRL trainer's schedule (SFT, reward model)
def compute_dtype() -> Any:
    return setting(
        "auto", "dtype for computation: auto (float32 on CPU, bfloat16/float16 on GPU), float32, bfloat16, float16"
    )


def compute_dtype_rule(value: str, name: str = "compute_dtype") -> tuple[bool, str]:
    from .models import DTYPES

    return value in DTYPES, f"{name} must be one of {', '.join(DTYPES)} (got {value!r})."


def save_steps() -> Any:
    return setting(
        50, "keep a checkpoint every N steps (and on Stop), so a failed or stopped run can be resumed; 0: none"
    )


def schedule_rules(config) -> list[tuple[bool, str]]:
    """learning_rate, num_epochs/max_steps, batch_size, grad_accum, max_length, logging_steps, save_steps and
    compute_dtype of a config that trains with a TRL trainer for epochs or steps."""
    return [
        (config.learning_rate > 0, f"learning_rate must be above 0 (got {config.learning_rate})."),
        (config.learning_rate < 1, f"learning_rate {config.learning_rate} is far too high; try 2e-4."),
        (config.num_epochs > 0 or config.max_steps > 0, "Train for some epochs (num_epochs > 0) or set max_steps."),
        (config.batch_size > 0, f"batch_size must be at least 1 (got {config.batch_size})."),
        (config.grad_accum > 0, f"grad_accum must be at least 1 (got {config.grad_accum})."),
        (config.max_length >= 8, f"max_length must be at least 8 tokens (got {config.max_length})."),
        (config.logging_steps > 0, f"logging_steps must be at least 1 (got {config.logging_steps})."),
        (config.save_steps >= 0, f"save_steps can't be negative (got {config.save_steps}); 0 saves none."),
        compute_dtype_rule(config.compute_dtype),
    ]


# ------------------------------------------------------------------ sampling answers
def max_new_tokens(default: int = 32) -> Any:
    return setting(default, "longest answer, in tokens")


def temperature() -> Any:
    return setting(1.0, "sampling temperature (> 0)")


def top_k() -> Any:
    return setting(0, "sample among the k likeliest tokens; 0 = all")


def top_p() -> Any:
    return setting(1.0, "nucleus sampling mass in (0, 1]; 1 = all")


def mini_batch_rule(mini_batch_size: int, batch_size: int) -> tuple[bool, str]:
    """PPO's and GRPO/RLOO's rule: a batch of answers splits into whole mini-batches."""
    return (
        0 < mini_batch_size <= batch_size and batch_size % max(mini_batch_size, 1) == 0,
        f"mini_batch_size ({mini_batch_size}) must divide batch_size ({batch_size}).",
    )


def sampling_rules(config) -> list[tuple[bool, str]]:
    """max_new_tokens, temperature, top_k and top_p of a config that samples its answers."""
    return [
        (config.max_new_tokens > 0, f"max_new_tokens must be at least 1 (got {config.max_new_tokens})."),
        (config.temperature > 0, f"temperature must be above 0 (got {config.temperature})."),
        (config.top_k >= 0, f"top_k can't be negative (got {config.top_k})."),
        (0 < config.top_p <= 1, f"top_p must be in (0, 1] (got {config.top_p})."),
    ]


# ------------------------------------------------------------------ rewards
def reward(help: str = REWARD_HELP) -> Any:
    return setting("lexicon", help)


def reward_kind(spec: str) -> str:
    return spec.partition(":")[0].strip().lower()


def check_reward(spec: str) -> None:
    """UserError for a reward spec of no known kind (it needs neither the disk nor a model)."""
    require([(reward_kind(spec) in REWARD_KINDS, f"Unknown reward '{spec}'. Choose a reward: {REWARD_HELP}.")])


def check_reward_source(spec: str) -> None:
    """UserError, before any training, when a classifier or reward model named in ``spec`` isn't there."""
    from .rewards.scorers import check_classifier, find_model_folder

    kind = reward_kind(spec)
    if kind == "judge":
        from .models import check_default_model

        check_default_model()  # the judge reads the bundled base model (or the Hub's copy)
    elif kind == "reward":
        find_model_folder(spec.partition(":")[2].strip())
    elif kind == "classifier":
        check_classifier(spec)


# ------------------------------------------------------------------ online RL (PPO, GRPO, RLOO)
@dataclass
class OnlineRLSettings:
    """What PPO, GRPO and RLOO all have: the policy they start from (base, SFT adapter), the prompts and the
    reward they train on, the LoRA they train, and how they sample answers. Their configs subclass it, so
    these flags come first."""

    model: str = policy_model()
    adapter: str = sft_adapter()
    dataset: str = prompt_dataset()
    reward: str = reward()
    lora_r: int = lora_r()
    lora_alpha: int = lora_alpha()
    lora_dropout: float = lora_dropout(0.0)
    load_in_4bit: bool = load_in_4bit()
    max_new_tokens: int = max_new_tokens()
    temperature: float = temperature()
    top_k: int = top_k()
    top_p: float = top_p()

    def online_rules(self) -> list[tuple[bool, str]]:
        return [*lora_rules(self), *sampling_rules(self)]

    def check_adapter(self) -> None:
        """Refuse, before the job starts, an adapter that names nothing usable: a run that isn't one of this
        workspace's (a typo, another session's run) or a folder or Hub name that isn't there."""
        text = self.adapter.strip()
        if not text:
            return
        from .models import resolve
        from .workspace import RUN_ID, saved_adapter

        if RUN_ID.match(text) and saved_adapter(text) is None:
            raise UserError(
                f"adapter '{text}' is none of your finished SFT runs: pick one in the menu, or leave it empty "
                "for the base model."
            )
        resolve(text)
