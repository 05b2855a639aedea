"""From labels to a model: a reward model sized to how many labels there are, then PPO against it.

The reward model is the bundled MiniLM encoder with a fresh head (as in the demo): a few seconds
a step on a CPU, so thirty labels train in well under a minute. A fifth of the labels is held
out, and its accuracy on them is reported with their count, however small.
"""

from __future__ import annotations

import math

from ..errors import UserError
from ..jobs import list_runs, open_run
from .store import LabelSet

MIN_PAIRS = 4  # one held out, three to learn from
TARGET_STEPS = 40  # about this many optimizer steps, whatever the count
HELD_OUT = 0.2
PROMPTS_DATASET = "demo-prompts"  # the bundled prompts, saved as the demo saves them


def reward_config(labels: LabelSet):
    """The reward stage's config for these labels; UserError with too few pairs."""
    from ..models.minilm import encoder_dir
    from ..registry import config_class

    pairs = len(labels.rows())
    if pairs < MIN_PAIRS:
        raise UserError(
            f"'{labels.name}' has {pairs} labelled pair(s) (A or B): label at least {MIN_PAIRS} before "
            "training a reward model on them."
        )
    held_out = max(1, round(pairs * HELD_OUT))
    batch = min(8, pairs - held_out)
    batches = math.ceil((pairs - held_out) / batch)
    return config_class("reward")(
        model=str(encoder_dir()),
        dataset=labels.name,
        eval_fraction=held_out / pairs,
        batch_size=batch,
        num_epochs=float(max(1, min(20, round(TARGET_STEPS / batches)))),
        learning_rate=1e-3,  # a small encoder with a fresh head learns fast
        max_length=256,
        eval_steps=max(1, TARGET_STEPS // 4),
    )


def latest_reward_run(dataset: str) -> dict | None:
    """The newest reward run trained on ``dataset``."""
    return next((r for r in list_runs("reward") if r.get("dataset") == dataset), None)


def held_out_line(run_id: str) -> str:
    report = open_run(run_id).read_eval()
    if not report:
        return f"Reward run {run_id} left no evaluation."
    return (
        f"Reward model {run_id} orders {report['accuracy']:.0%} of your {report['n_eval']} held-out labels "
        f"as you did (trained on {report['n_train']}; chance is 50%, and {report['n_eval']} labels are few)."
    )


def policy_of(model: str) -> dict:
    """PPO's ``model`` and ``adapter`` for the model whose answers were labelled: an SFT run's adapter on its
    base; any other run's base (PPO trains its own adapter); a model reference as it is."""
    from ..workspace import saved_adapter

    adapter = saved_adapter(model)
    if adapter is None:
        return {"model": model or "default", "adapter": ""}
    run = open_run(model)
    base = run.config().get("model") or "default"
    return {"model": base, "adapter": str(adapter) if run.status().get("stage") == "sft" else ""}


def ppo_config(dataset: str, prompts: str, max_new_tokens: int, model: str = "default"):
    """PPO against the newest finished reward model on ``dataset``, on the prompts that were labelled, from the
    model whose answers were labelled (see :func:`policy_of`)."""
    from ..data import save_sample
    from ..registry import config_class

    run = latest_reward_run(dataset)
    if run is None:
        raise UserError(f"No reward model has been trained on '{dataset}' yet: train one on your labels first.")
    if run.get("state") != "finished":
        raise UserError(
            f"The reward run {run['id']} on your labels is {run.get('state')}: PPO can start once it has finished."
        )
    if prompts.startswith("sample:"):
        sample = prompts.partition(":")[2]
        prompts = PROMPTS_DATASET if sample == "prompts" else f"sample-{sample}"
        save_sample(sample, prompts)
    return run["id"], config_class("ppo")(
        **policy_of(model),
        dataset=prompts,
        reward=f"reward:{run['id']}",
        steps=20,
        batch_size=8,
        mini_batch_size=4,
        learning_rate=1e-4,
        reward_scaling="whiten",
        max_new_tokens=max_new_tokens,
    )
