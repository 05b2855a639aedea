"""Where a PPO step's time goes: each phase's wall clock, then torch.profiler's top operators.

The demo's settings (bundled SmolLM2, bundled prompts, VADER reward, batch 8, mini-batch 4, two epochs,
24 new tokens). One step warms up; the next ``--steps`` are timed phase by phase (sampling, the policy's
and the reference's forward passes, scoring, the update), and the last of them runs under torch.profiler.
Usage:
    python benchmarks/ppo_profile.py [--steps 3] [--top 15] [--threads 2] [--batch-size 8] [--epochs 2]
        [--max-new-tokens 24] [--dtype auto]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ppo_demo import demo_trainer  # noqa: E402


def timed(trainer, totals: dict) -> None:
    """Wrap the trainer's phases so that each call adds its wall clock to ``totals``."""

    @contextmanager
    def clock(name):
        began = time.perf_counter()
        yield
        totals[name] += time.perf_counter() - began

    for name in ("generate", "guarded_scores", "update"):
        original = getattr(trainer, name)

        def wrapper(*args, _original=original, _name=name, **kwargs):
            with clock(_name):
                return _original(*args, **kwargs)

        setattr(trainer, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8, help="prompts a step (the whole demo's: 16)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=24, help="the whole demo's: 32")
    parser.add_argument("--dtype", default="auto", help="compute_dtype: auto (float32 on a CPU) or bfloat16")
    args = parser.parse_args()

    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = demo_trainer(
            Path(tmp),
            args.steps + 1,
            batch_size=args.batch_size,
            ppo_epochs=args.epochs,
            max_new_tokens=args.max_new_tokens,
            compute_dtype=args.dtype,
        )
        trainer.step()  # warm-up
        totals: dict[str, float] = defaultdict(float)
        timed(trainer, totals)
        began = time.perf_counter()
        for _ in range(args.steps - 1):
            trainer.step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            stats = trainer.step()
        total = time.perf_counter() - began
    rest = total - sum(totals.values())  # the rest of the step: the rollout's reference pass, its log-probs, entropy
    print(
        f"threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}, {args.steps} steps, "
        f"{total / args.steps:.2f} s a step (the last under the profiler)"
    )
    print(f"answers {stats['response_length_mean']:.1f} tokens on average")
    for name, seconds in [*totals.items(), ("the rollout's reference pass and the rest", rest)]:
        print(f"  {name:48s} {seconds / args.steps:6.2f} s a step ({seconds / total:5.1%})")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.top))


if __name__ == "__main__":
    main()
