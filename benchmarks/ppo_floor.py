"""How close a PPO step is to this CPU's limit: the step's floating-point work over the matmul throughput.

The floor of a step is the FLOPs it must do (every matmul and attention of its passes, generation included,
counted by ``torch.utils.flop_counter.FlopCounterMode`` on a real step) divided by what a plain
``torch.matmul`` of two 2048 x 2048 float32 matrices reaches on this CPU with the same threads. The demo's
settings (bundled SmolLM2, bundled prompts, VADER reward, batch 8, mini-batch 4, two epochs, 24 new tokens).
Usage:
    python benchmarks/ppo_floor.py [--steps 10] [--threads 2] [--dtype float32]

Prints the median step time of ``--steps`` steps (after one warm-up step), the FLOPs of one step, the
matmul throughput, the floor and the ratio step / floor. With ``--dtype bfloat16`` the step computes in
bfloat16 and the floor is given twice: over float32's throughput (the issue's measure) and over bfloat16's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ppo_demo import demo_trainer  # noqa: E402


def matmul_flops_per_s(size: int = 2048, repeats: int = 10, dtype: str = "float32") -> float:
    """The best of ``repeats`` ``size`` x ``size`` matmuls in ``dtype``, in FLOP/s."""
    import torch

    a, b = (torch.randn(size, size, dtype=getattr(torch, dtype)) for _ in range(2))
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - began)
    return 2 * size**3 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    args = parser.parse_args()

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = demo_trainer(Path(tmp), args.steps + 2, compute_dtype=args.dtype)
        trainer.step()  # warm-up
        counter = FlopCounterMode(display=False)
        with counter:
            counted = trainer.step()
        flops = counter.get_total_flops()
        times = [trainer.step()["step_time_s"] for _ in range(args.steps)]
    median = statistics.median(times)
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"answers of the counted step: {counted['response_length_mean']:.1f} tokens on average; step in {args.dtype}")
    print("| threads | median step | step FLOPs | matmul throughput | floor | step / floor | load |")
    print("|---|---|---|---|---|---|---|")
    for dtype in dict.fromkeys(["float32", args.dtype]):
        throughput = matmul_flops_per_s(dtype=dtype)
        floor = flops / throughput
        print(
            f"| {torch.get_num_threads()} | {median:.2f} s (of {len(times)}) | {flops / 1e9:.0f} GFLOP "
            f"| {throughput / 1e9:.0f} GFLOP/s ({dtype}) | {floor:.2f} s | {median / floor:.2f}x | {load} |"
        )


if __name__ == "__main__":
    main()
