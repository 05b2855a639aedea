"""PPO as a job: our compact PPO (:mod:`rlhf_playground.ppo`) writing a run folder the UI watches.

Per step it appends one row of metrics (reward mean/min/max, KL to the
reference, entropy, losses, clip fraction, answer length) and keeps the latest
prompts, answers and rewards in ``artifacts/samples.json``. Before the first
and after the last step it scores greedy answers to held-out prompts, so
``artifacts/eval.json`` says whether the reward really went up.
"""

from __future__ import annotations

import time
from typing import Any

from ..jobs.runs import Run
from ..ppo.config import PPOStageConfig
from ..tracking import Tracker
from .common import write_evaluation

STAGE = "ppo"


def run(config: PPOStageConfig, run: Run) -> dict[str, Any]:
    from ..jobs.execute import interruptible
    from ..models import describe
    from ..ppo.trainer import build_trainer

    trainer, held_out = build_trainer(config)
    main = trainer.processes.main  # under accelerate launch only the first process evaluates, saves and tracks
    print(f"{len(trainer.prompts)} training prompts, {len(held_out)} held out; reward: {config.reward}", flush=True)
    held_out = held_out if main and config.evaluate else []  # the prompts to answer before and after
    run.update_status(model_info=describe(trainer.model), step=0, total_steps=config.steps)
    if trainer.processes.world > 1:
        print(f"process {trainer.processes.rank + 1} of {trainer.processes.world}", flush=True)
    before = trainer.evaluate(held_out) if held_out else None
    if before is not None:
        print(f"mean reward of greedy answers to held-out prompts before training: {before:.4f}", flush=True)
    began = time.monotonic()
    tracker = Tracker(config.report_to if main else "none", run, run.config())

    def on_step(stats: dict) -> None:
        step = stats["step"]
        for warning in stats["warnings"]:
            print(f"warning (step {step}): {warning}", flush=True)
        row = {k: v for k, v in stats.items() if k not in ("samples", "warnings")}
        run.append_metrics({**row, "time": time.time()})
        tracker.log(row, step)
        run.write_artifact_json("samples.json", stats["samples"])
        eta = (time.monotonic() - began) / step * (config.steps - step)
        run.update_status(step=step, total_steps=config.steps, eta_s=round(eta, 1))
        print(
            f"step {step}/{config.steps} reward={stats['reward_mean']:.4f} kl={stats['kl']:.4f} "
            f"entropy={stats['entropy']:.3f} len={stats['response_length_mean']:.1f}",
            flush=True,
        )

    try:
        with interruptible(run):
            trainer.train(on_step=on_step, should_stop=run.stop_requested)
    finally:
        tracker.close()
    if not main:
        return {}
    with run.artifact_dir("adapter") as tmp:
        trainer.save(tmp)
    outcome: dict[str, Any] = {"adapter": str(run.adapter)}
    if held_out and not run.stop_requested():
        after = trainer.evaluate(held_out)
        outcome["eval"] = str(write_evaluation(run, held_out, before, after, config.reward))
        print(f"held-out mean reward: {before:.4f} before, {after:.4f} after", flush=True)
    return outcome
