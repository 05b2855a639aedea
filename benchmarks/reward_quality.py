"""Reward model quality: held-out accuracy of a SmolLM2-135M reward model on the bundled preference sample.

Trains the reward stage exactly as the CLI does (run folder, live eval, LoRA +
score head) on ``rlhf_playground/samples/preference_chat.jsonl`` (360 pairs, 10 %
held out, seeded) in a throwaway workspace, then prints the settings, the
wall time from start to eval.json (model loading included), the held-out
accuracy and mean margin, and the load average before and after: the machine
may be shared, and a busy one stretches the time, not the accuracy.

The defaults are the README's settings: 12 steps of 8 pairs at learning rate
3e-4. The pairs are easy to tell apart, so a few steps suffice; a full epoch
(41 steps) takes about 15 minutes on a 2-core CPU.

Usage: python benchmarks/reward_quality.py [--max-steps 12 | --max-steps -1 --epochs 1] [--learning-rate 3e-4]
       [--max-length 192] [--batch-size 8] [--lora-r 16] [--eval-steps 6] [--threads N] [--model default]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "rlhf_playground" / "samples" / "preference_chat.jsonl"
sys.path.insert(0, str(ROOT))  # runs from a checkout, installed or not


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=12, help="stop after N steps; -1: train for --epochs")
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--eval-steps", type=int, default=6)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()

    import torch

    from rlhf_playground.jobs.execute import run_stage
    from rlhf_playground.jobs.runs import list_runs, open_run
    from rlhf_playground.stages import reward

    if args.threads:
        torch.set_num_threads(args.threads)
    config = reward.RewardStageConfig(
        model=args.model,
        dataset=str(SAMPLE),
        num_epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        max_length=args.max_length,
        batch_size=args.batch_size,
        lora_r=args.lora_r,
        lora_alpha=2 * args.lora_r,
        eval_steps=args.eval_steps,
    )
    before = load_average()
    with tempfile.TemporaryDirectory() as workspace:
        os.environ["RLHF_WORKSPACE"] = workspace
        began = time.monotonic()
        if run_stage("reward", config, reward.run) != 0:
            raise SystemExit("the reward run failed")
        wall = time.monotonic() - began
        run = open_run(list_runs("reward")[0]["id"])
        report = json.loads((run.artifacts / "eval.json").read_text())
        steps = run.status().get("step")
    length = f"max_steps {args.max_steps}" if args.max_steps > 0 else f"{args.epochs:g} epoch(s)"
    print(
        f"\nsettings: model {args.model}, {length}, lr {args.learning_rate:g}, "
        f"max_length {args.max_length}, batch {args.batch_size}, LoRA r {args.lora_r} (alpha {2 * args.lora_r}), "
        f"threads {torch.get_num_threads()}, {steps} steps"
    )
    print(f"wall time: {wall:.0f} s ({wall / 60:.1f} min), model loading and evaluation included")
    print(
        f"eval accuracy: {report['accuracy']:.3f} on {report['n_eval']} held-out pairs "
        f"({report['n_train']} trained on, dropped {report['dropped'] or 'none'})"
    )
    print(f"mean margin (chosen - rejected): {report['mean_margin']:.3f}")
    print(f"load average (1, 5, 15 min): before {before}, after {load_average()}")


if __name__ == "__main__":
    main()
