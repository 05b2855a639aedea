"""The whole workshop demo in one go: data → SFT → reward model → PPO → compare, with small settings.

The demo is a job of its own that starts the four stage jobs one after another
(each with its own run folder, watched in its own tab) and waits for each. It
holds no place in the job line itself, so its stages queue like any others.
The settings are sized so the bundled SmolLM2-135M goes from nothing to a
side-by-side comparison on a 2-core laptop CPU in a few minutes: the reward
model is the bundled MiniLM encoder with a fresh head (a tenth of SmolLM2's cost
a step).

One story from preference to judge: SFT and the reward model both learn from the
bundled ``preference-sentiment`` pairs (SFT from their chosen answers), answers
graded warm > mild > flat > gloomy, so the reward keeps rising past "not
negative". PPO's prompts are the bundled ``prompts``: the same kind of everyday
subjects, none of them in the pairs, and the comparison answers the 16 PPO held
out. It scores with two scorers that share nothing with the reward model: VADER
(a word list) and the judge (:mod:`rlhf_playground.rewards.judge`: a probe on the frozen
base model's embeddings, fitted to the bundled reviews).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .. import settings
from ..errors import UserError, require
from ..jobs.runs import Run

STAGE = "demo"
PROMPTS, SENTIMENT_PAIRS = "demo-prompts", "demo-sentiment-pairs"
STEPS = ("sft", "reward", "ppo", "compare")
SCORERS = "judge,lexicon"  # the comparison's: the judge (SmolLM2 probe on reviews) and VADER, neither the reward
LIVE_METRICS = {"sft": ["loss"], "reward": ["loss"], "ppo": ["reward_mean", "kl"]}  # each step's main plot
# Seconds per unit of each step with the MiniLM reward model and bfloat16, measured on the 2-core development
# machine (README: SFT 20 s for 12 steps, reward model 16 s for 30, PPO 207 s for 14 steps of 16 prompts,
# compare 25 s for 3 models x 16 prompts). The ETA scales them by how fast this machine has run the demo so far.
SECONDS_PER_UNIT = {"sft": 20 / 12, "reward": 16 / 30, "ppo": 207 / 14, "compare": 25 / 16}
PPO_MINI_BATCH = 4  # answers per PPO update
ETA_EVERY_S = 5.0  # how often the demo writes its ETA into its status while it waits for a step


@dataclass
class DemoConfig:
    model: str = settings.setting("default", "the base model: 'default' is the bundled SmolLM2")
    reward: str = settings.setting(
        "reward-model",
        "what PPO maximises: 'reward-model' (the one trained in the demo) or 'lexicon' (VADER sentiment)",
    )
    reward_model: str = settings.setting(
        "minilm",
        "the reward model's backbone: 'minilm' (the bundled MiniLM encoder, 22 M parameters: seconds a step on a "
        "CPU) or 'policy' (the base model itself, ten times slower)",
    )
    pairs: str = settings.setting(
        "",
        "the preference pairs the reward model learns from: empty for the bundled graded sentiment pairs, or a "
        "dataset of your own choices from the Label tab (e.g. my-labels)",
    )
    sft_steps: int = settings.setting(12, "supervised fine-tuning steps")
    sft_learning_rate: float = settings.setting(5e-5, "supervised fine-tuning's peak learning rate")
    reward_steps: int = settings.setting(30, "reward model training steps")
    ppo_steps: int = settings.setting(14, "PPO steps (ppo_batch_size prompts each)")
    ppo_batch_size: int = settings.setting(
        16, "prompts PPO answers a step, 4 to an update: more prompts a step learn what carries over to new prompts"
    )
    ppo_learning_rate: float = settings.setting(2e-4, "PPO's learning rate (LoRA and the value head)")
    ppo_epochs: int = settings.setting(2, "PPO's passes over each batch of answers")
    compute_dtype: str = settings.setting(
        "bfloat16",
        "SFT's and PPO's compute dtype: bfloat16 makes their steps 1.3-1.8x faster on a 2-core CPU (a matmul 2.6x); "
        "'auto' is float32 on a CPU",
    )
    target_kl: float = settings.setting(
        1.5, "the KL to the reference PPO steers towards (adaptive KL: the penalty rises when the KL passes it)"
    )
    seed: int = settings.setting(42, "random seed of every step (prompt order, sampling, LoRA init)")
    compare_prompts: int = settings.setting(16, "held-out prompts in the final comparison")
    max_new_tokens: int = settings.setting(32, "length of answers in PPO and the comparison")
    load_in_4bit: bool = settings.setting(False, "QLoRA (4-bit base weights): worth it on a GPU")

    def validate(self) -> None:
        if self.reward not in ("reward-model", "lexicon"):
            raise UserError(f"reward must be 'reward-model' or 'lexicon' (got '{self.reward}').")
        if self.reward_model not in ("minilm", "policy"):
            raise UserError(f"reward_model must be 'minilm' or 'policy' (got '{self.reward_model}').")
        if self.pairs.strip():
            from ..data import dataset_path

            dataset_path(self.pairs.strip())  # a dataset that isn't there: say so before the demo starts
        for name in ("sft_steps", "reward_steps", "ppo_steps", "ppo_epochs", "compare_prompts", "max_new_tokens"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1 (got {getattr(self, name)}).")
        require(
            [
                (
                    self.ppo_batch_size >= PPO_MINI_BATCH and self.ppo_batch_size % PPO_MINI_BATCH == 0,
                    f"ppo_batch_size must be a multiple of {PPO_MINI_BATCH} (got {self.ppo_batch_size}).",
                ),
                settings.compute_dtype_rule(self.compute_dtype),
            ]
        )
        if not (0 < self.ppo_learning_rate < 1 and 0 < self.sft_learning_rate < 1) or self.target_kl <= 0:
            raise UserError("sft_learning_rate and ppo_learning_rate must be between 0 and 1, and target_kl above 0.")


def stage_configs(config: DemoConfig) -> dict[str, Any]:
    """The SFT and reward model settings of the demo (PPO and compare need the runs' ids, see :func:`run`)."""
    from ..models.minilm import encoder_dir
    from ..registry import config_class

    minilm = config.reward_model == "minilm"
    return {
        "sft": config_class("sft")(
            model=config.model,
            dataset=SENTIMENT_PAIRS,  # the chosen (warm) answers: SFT starts the story the reward model goes on
            max_steps=config.sft_steps,
            learning_rate=config.sft_learning_rate,
            batch_size=4,
            max_length=256,
            load_in_4bit=config.load_in_4bit,
            eval_prompts=0,  # no before/after samples: the comparison answers held-out prompts with every model
            compute_dtype=config.compute_dtype,
            seed=config.seed,
        ),
        "reward": config_class("reward")(
            model=str(encoder_dir()) if minilm else config.model,
            dataset=config.pairs.strip() or SENTIMENT_PAIRS,
            max_steps=config.reward_steps,
            batch_size=8,
            max_length=256,
            learning_rate=1e-3 if minilm else 2e-4,  # a small encoder with a fresh head learns fast
            load_in_4bit=config.load_in_4bit and not minilm,
            eval_steps=10,
            seed=config.seed,
        ),
    }


def at(run: Run) -> tuple[str | None, Run | None]:
    """The stage the demo ``run`` is at (the last it started) and that stage's run; ``(None, None)`` before."""
    from ..jobs import open_run

    children = run.status().get("children") or {}
    if not children:
        return None, None
    stage = list(children)[-1]
    return stage, open_run(children[stage])


def units(config: DemoConfig) -> dict[str, float]:
    """How much work each step is, in the units of :data:`SECONDS_PER_UNIT`."""
    return {
        "sft": config.sft_steps,
        "reward": config.reward_steps * (10 if config.reward_model == "policy" else 1),  # ten times MiniLM's cost
        # a default step (16 prompts, 2 epochs) is 45% rollout (grows with the prompts) and 55% update (with both)
        "ppo": config.ppo_steps * config.ppo_batch_size / 16 * (0.45 + 0.55 * config.ppo_epochs / 2),
        "compare": config.compare_prompts,
    }


def eta_s(run: Run, now: float | None = None) -> float | None:
    """Seconds until the whole demo ``run`` ends; None once it has ended.

    Steps still to come take their :data:`SECONDS_PER_UNIT` estimate times this machine's pace: how long the
    steps so far took against their estimate (the running step counts by the share of its steps done), 1 before
    any step has made progress. The running step uses its own ETA when it has one.
    """
    from ..jobs import open_run
    from ..jobs.runs import TERMINAL

    now = time.time() if now is None else now
    status = run.status()
    if status["state"] in TERMINAL:
        return None
    config = DemoConfig(**{k: v for k, v in run.config().items() if k in DemoConfig.__dataclass_fields__})
    estimate = {stage: SECONDS_PER_UNIT[stage] * n for stage, n in units(config).items()}
    spent = expected = 0.0
    left = []  # (seconds known, or None) and estimate seconds, per step not yet finished
    for stage in STEPS:
        child = open_run(status["children"][stage]).status() if stage in (status.get("children") or {}) else {}
        started, state = child.get("started"), child.get("state")
        if state == "finished" and started and child.get("ended"):
            spent += child["ended"] - started
            expected += estimate[stage]
            continue
        done = (child.get("step") or 0) / (child.get("total_steps") or 1) if state == "running" and started else 0.0
        if done > 0:
            spent += now - started
            expected += estimate[stage] * done
        known = child.get("eta_s") if state == "running" else None
        left.append((known, estimate[stage] * (1 - done)))
    pace = spent / expected if expected else 1.0
    return sum(known if known is not None else rest * pace for known, rest in left)


def save_demo_datasets() -> None:
    """The bundled prompt and preference samples as workspace datasets (kept if already there)."""
    from ..data import save_sample

    for name, sample in ((PROMPTS, "prompts"), (SENTIMENT_PAIRS, "preference-sentiment")):
        if save_sample(sample, name):
            print(f"saved the bundled sample '{sample}' as dataset {name}", flush=True)


def _wait(child: Run, parent: Run) -> dict:
    """Wait for ``child`` to end (stopping it if the demo is stopped), keeping the whole demo's ETA in the demo's
    status every ``ETA_EVERY_S``; UserError unless it finished."""
    from ..jobs import runner
    from ..jobs.runs import TERMINAL

    told = 0.0
    while (status := child.status())["state"] not in TERMINAL:
        if parent.stop_requested():
            runner.stop(child)
            raise UserError(f"stopped while run {child.id} was {status['state']}")
        if time.monotonic() - told >= ETA_EVERY_S:
            left = eta_s(parent)
            parent.update_status(eta_s=round(left, 1) if left is not None else None)
            told = time.monotonic()
        time.sleep(1.0)
    if status["state"] != "finished":
        raise UserError(f"the {status.get('stage')} run {child.id} {status['state']}: {status.get('reason', '')}")
    return status


def run(config: DemoConfig, run: Run) -> dict[str, Any]:
    from ..data.prompts import load_prompts, prompt_text, split_prompts
    from ..evaluation.compare import CompareConfig, headline, load_result
    from ..jobs import runner
    from ..ppo.config import PPOStageConfig

    started: dict[str, str] = {}

    def step(name: str, stage_config, number: int) -> Run:
        child = runner.start(name, stage_config, child=True)
        started[name] = child.id
        run.update_status(step=number - 1, total_steps=len(STEPS), children=started)
        print(f"[{number}/{len(STEPS)}] {name} run {child.id} started: watch it here or in its tab", flush=True)
        try:
            _wait(child, run)
        except UserError as exc:
            raise UserError(f"step {number}/{len(STEPS)} ({name}) ended the demo: {exc}") from None
        print(f"[{number}/{len(STEPS)}] {name} run {child.id} finished", flush=True)
        return child

    save_demo_datasets()
    configs = stage_configs(config)
    sft = step("sft", configs["sft"], 1)
    reward = step("reward", configs["reward"], 2)
    reward_spec = f"reward:{reward.id}" if config.reward == "reward-model" else "lexicon"
    ppo_config = PPOStageConfig(
        model=config.model,
        adapter=str(sft.adapter),
        dataset=PROMPTS,
        reward=reward_spec,
        steps=config.ppo_steps,
        batch_size=config.ppo_batch_size,
        mini_batch_size=PPO_MINI_BATCH,
        max_new_tokens=config.max_new_tokens,
        learning_rate=config.ppo_learning_rate,
        ppo_epochs=config.ppo_epochs,
        reward_scaling="whiten",
        adaptive_kl=True,  # the penalty follows the KL towards target_kl: free to move early, held back later
        init_kl_coef=0.1,
        target_kl=config.target_kl,
        kl_horizon=200,
        seed=config.seed,
        eval_prompts=config.compare_prompts,
        evaluate=False,  # the comparison answers the held-out prompts with every model
        load_in_4bit=config.load_in_4bit,
        compute_dtype=config.compute_dtype,
    )
    ppo = step("ppo", ppo_config, 3)
    # The comparison answers the prompts PPO held out: never trained on.
    _, held_out = split_prompts(load_prompts(PROMPTS), ppo_config.eval_prompts, ppo_config.seed)
    prompts = "\n".join(" ".join(prompt_text(p).split()) for p in held_out)
    compare = step(
        "compare",
        CompareConfig(
            base=config.model,
            tuned=f"SFT={sft.id},PPO={ppo.id}",
            prompts_text=prompts,
            max_new_tokens=config.max_new_tokens,
            batch_size=16,  # the default's 16 prompts in one batch: a token costs little more for 16 rows than 8
            scorer=SCORERS,  # second opinions: nothing in the demo trains against them
            reward=reward_spec,  # what PPO was trained to raise
            relevance=True,  # warmer, but still about the prompt?
        ),
        4,
    )
    run.update_status(step=4, total_steps=4, eta_s=None)
    print(headline(load_result(compare.artifacts / "results.json")), flush=True)
    return {"children": started, "comparison": str(compare.artifacts / "results.json")}
