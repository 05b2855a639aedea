"""What GRPO and RLOO share: online RL without a value model, with TRL's own trainers.

Not a stage itself: :mod:`.grpo` and :mod:`.rloo` are, each a config that subclasses
:class:`OnlineStageConfig` (naming its TRL trainer and its own settings) and this
module's :func:`run`. They train on the PPO tab's data and rewards.

Both sample ``num_generations`` answers to each prompt and use the group itself as
the baseline, so there is no value head to train (PPO's critic).

The reward is the same scorer PPO uses (``lexicon``, ``classifier:...``, ``reward:...``),
wrapped as a TRL reward function. Like PPO, the run writes ``artifacts/eval.json``: the
mean reward of greedy answers to held-out prompts before and after, so the method
comparison (:mod:`rlhf_playground.evaluation.methods`) reads every method the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from .. import settings
from ..data.prompts import prompt_text, read_prompts, split_prompts
from ..errors import UserError, require
from ..jobs.runs import Run
from ..models import check_4bit
from . import common


@dataclass
class OnlineStageConfig(settings.OnlineRLSettings):
    steps: int = settings.setting(
        80, "optimizer updates; each batch of answers serves batch_size / mini_batch_size x num_iterations of them"
    )
    batch_size: int = settings.setting(
        8, "answers sampled at a time: batch_size / num_generations prompts, num_generations answers each"
    )
    mini_batch_size: int = settings.setting(4, "answers per optimizer update; must divide batch_size")
    num_generations: int = settings.setting(
        4, "answers sampled per prompt (the group that is its own baseline); at least 2, must divide batch_size"
    )
    learning_rate: float = settings.setting(
        3e-4, "AdamW learning rate for the LoRA weights (1e-4 barely moves the policy in 80 updates, 1e-3 garbles it)"
    )
    beta: float = settings.setting(0.05, "KL coefficient to the reference (adapter off); 0 skips it")
    num_iterations: int = settings.setting(2, "optimisation passes over each batch of answers")
    epsilon: float = settings.setting(0.2, "policy ratio clip epsilon")
    eval_prompts: int = settings.setting(
        16, "prompts held out to measure mean reward before/after (the same split as PPO with the same seed)"
    )
    seed: int = settings.setting(42, "random seed (LoRA init, prompt order, sampling, held-out split)")
    report_to: str = settings.report_to()

    method = "online"  # GRPO or RLOO, in messages

    def trl_classes(self) -> tuple[type, type]:
        """``(trainer class, its config class)`` from TRL."""
        raise NotImplementedError

    def method_args(self) -> dict[str, Any]:
        """The settings only this method's TRL config has."""
        return {}

    def check_values(self) -> None:
        """The checks that need neither the data nor a model."""
        settings.check_report_to(self.report_to)
        n, batch = self.num_generations, self.batch_size
        rules = [
            (self.steps > 0, f"steps must be at least 1 (got {self.steps})."),
            (
                n >= 2,
                f"num_generations must be at least 2 (got {n}): {self.method} compares each answer with the "
                "other answers to the same prompt.",
            ),
            (
                batch > 0 and batch % max(n, 1) == 0,
                f"batch_size ({batch}) must be a multiple of num_generations ({n}): each step answers "
                f"batch_size / num_generations prompts, num_generations times each. Try batch_size {max(n, 1) * 2}.",
            ),
            (0 < self.learning_rate < 1, f"learning_rate must be in (0, 1) (got {self.learning_rate})."),
            (self.beta >= 0, f"beta can't be negative (got {self.beta})."),
            settings.mini_batch_rule(self.mini_batch_size, self.batch_size),
            (self.num_iterations > 0, f"num_iterations must be at least 1 (got {self.num_iterations})."),
            (self.epsilon > 0, f"epsilon must be above 0 (got {self.epsilon})."),
            *self.online_rules(),
            (self.eval_prompts >= 0, f"eval_prompts can't be negative (got {self.eval_prompts})."),
            (bool(self.dataset.strip()), "Choose a dataset: a saved dataset's name or a .jsonl file with prompts."),
        ]
        require(rules)
        settings.check_reward(self.reward)

    def validate(self) -> None:
        """Raise UserError for settings that can't work: prompts, reward source, 4-bit."""
        self.check_values()
        train, _ = self.prompts()
        per_step = self.batch_size // self.num_generations
        if len(train) < per_step:
            raise UserError(
                f"'{self.dataset}' leaves {len(train)} training prompt(s), fewer than the {per_step} "
                "each step answers: lower batch_size, lower eval_prompts or add prompts."
            )
        self.check_adapter()
        settings.check_reward_source(self.reward)
        check_4bit(self.load_in_4bit)

    def updates_per_batch(self) -> int:
        """Optimizer updates each sampled batch serves: as many as PPO's ``batch/mini_batch × ppo_epochs``."""
        return self.batch_size // self.mini_batch_size * self.num_iterations

    def prompts(self) -> tuple[list, list]:
        """``(training prompts, held-out prompts)``, split exactly as PPO splits them."""
        return split_prompts(read_prompts(self.dataset, self.method), self.eval_prompts, self.seed)


# ------------------------------------------------------------------ rewards
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

    def reward(prompts, completions, **kwargs) -> list[float]:
        shown = [prompt_text(p) for p in prompts]
        answers = [completion_text(c).strip() for c in completions]
        scores = [float(s) for s in scorer.score(shown, answers)]
        if on_scored:
            on_scored(
                [
                    {"prompt": p, "response": a, "reward": s if math.isfinite(s) else None}
                    for p, a, s in zip(shown, answers, scores)
                ]
            )
        return [s if math.isfinite(s) else None for s in scores]  # TRL leaves None (NaN) out of the mean

    reward.__name__ = scorer.name.partition(":")[0]
    return reward


# ------------------------------------------------------------------ the jobs
def build_trainer(config: OnlineStageConfig, model, tokenizer, scorer, train: list, run: Run):
    """TRL's GRPOTrainer or RLOOTrainer for ``config``, with a fresh LoRA adapter and our reward function."""
    from datasets import Dataset

    shared = dict(
        **common.trainer_args(config, run, batch_size=config.mini_batch_size),
        steps_per_generation=config.batch_size // config.mini_batch_size,  # one batch_size of answers at a time
        num_generations=config.num_generations,
        max_completion_length=config.max_new_tokens,
        temperature=config.temperature,
        top_k=config.top_k,
        top_p=config.top_p,
        beta=config.beta,
        num_iterations=config.num_iterations,
        epsilon=config.epsilon,
        **config.method_args(),
    )
    TrainerCls, ArgsCls = config.trl_classes()
    samples = lambda rows: run.write_artifact_json("samples.json", rows)  # noqa: E731
    dataset = Dataset.from_list([{"prompt": common.as_chat(p, tokenizer)} for p in train])
    return common.make_trainer(
        TrainerCls,
        run,
        model=model,
        reward_funcs=reward_function(scorer, samples),
        args=ArgsCls(**shared),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=common.lora_config(config),
    )


def run(config: OnlineStageConfig, run: Run) -> dict[str, Any]:
    """Evaluate the base on held-out prompts, train with GRPO or RLOO, save the adapter, evaluate again."""
    from transformers import set_seed

    from ..rewards.scorers import make_scorer

    common.quiet_progress_bars()
    set_seed(config.seed)
    train, held_out = config.prompts()
    print(
        f"{config.method}: {len(train)} training prompts, {len(held_out)} held out; reward: {config.reward}; "
        f"{config.batch_size // config.num_generations} prompts x {config.num_generations} answers per batch, "
        f"{config.updates_per_batch()} updates per batch",
        flush=True,
    )
    scorer = make_scorer(config.reward)
    model, tokenizer = common.load_base(config.model, config.adapter, config.load_in_4bit)
    before = common.evaluate_before(model, tokenizer, scorer, held_out, config.max_new_tokens)
    trainer = build_trainer(config, model, tokenizer, scorer, train, run)
    return common.train_and_evaluate(run, config, trainer, tokenizer, scorer, held_out, before, config.reward)
