"""Does PPO's critic learn within a demo's 12 steps? The value head's explained variance, step by step.

Runs the demo's PPO settings (bundled SmolLM2, bundled prompts, VADER reward, batch 8, mini-batch 4, two
epochs, lr 1e-4, scores whitened) once per setting named, and prints each step's explained variance, mean
value and mean return, then a table row per setting. Usage:
    python benchmarks/ppo_critic.py [--steps 12] [--vf-coef 0.1] [--value-lr 1e-4 1e-3 ...]

``--value-lr`` values are the value head's own learning rate; "same" is the policy's (PPO's
``value_learning_rate`` 0). Results go to stdout; benchmarks/README.md keeps the table of what was tried.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ppo_demo import demo_trainer  # noqa: E402


def run(args, value_lr: float, folder: Path) -> dict:
    trainer = demo_trainer(
        folder,
        args.steps,
        max_new_tokens=args.max_new_tokens,
        vf_coef=args.vf_coef,
        value_learning_rate=value_lr,
        seed=args.seed,
    )
    began = time.monotonic()
    history = trainer.train(
        on_step=lambda s: print(
            f"  step {s['step']:2d} EV {s['explained_variance']:+.3f} value {s['value_mean']:+.3f} "
            f"return {s['return_mean']:+.3f} reward {s['reward_mean']:+.3f} kl {s['kl']:.3f} "
            f"({s['step_time_s']:.1f} s)",
            flush=True,
        )
    )
    last = history[-4:]
    return {
        "value_lr": value_lr or "same",
        "ev_last4": sum(s["explained_variance"] for s in last) / len(last),
        "ev_max": max(s["explained_variance"] for s in history),
        "value_last": history[-1]["value_mean"],
        "return_last": history[-1]["return_mean"],
        "minutes": (time.monotonic() - began) / 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--vf-coef", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--value-lr", nargs="+", default=["same"])
    args = parser.parse_args()

    import torch

    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for value_lr in args.value_lr:
            lr = 0.0 if value_lr == "same" else float(value_lr)
            print(f"value head learning rate {value_lr}, vf_coef {args.vf_coef}", flush=True)
            rows.append(run(args, lr, Path(tmp)))
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        "| steps | vf_coef | value lr | EV, mean of last 4 steps | EV, best step | value / return at the end "
        "| PPO time | load |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {args.steps} | {args.vf_coef:g} | {r['value_lr']} | {r['ev_last4']:+.3f} | {r['ev_max']:+.3f} "
            f"| {r['value_last']:+.3f} / {r['return_last']:+.3f} | {r['minutes']:.1f} min | {load} |"
        )


if __name__ == "__main__":
    main()
