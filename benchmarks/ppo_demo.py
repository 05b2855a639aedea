"""PPO demo: SmolLM2-135M-Instruct learns to answer more positively (VADER reward) on the bundled prompts.

Reports the mean VADER score of greedy answers to held-out prompts (never trained on) before and
after, the final KL to the reference, and the wall clock. Usage:
    python benchmarks/ppo_demo.py [--steps 30] [--held-out 32]
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
sys.path.insert(0, str(ROOT))


def prompt_file(folder: Path) -> str:
    from rlhf_playground.data import extract_prompt

    lines = (ROOT / "assets" / "samples" / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
    prompts = [extract_prompt(json.loads(line)["prompt"])[0] for line in lines]
    path = folder / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts if p), encoding="utf-8")
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--held-out", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    args = parser.parse_args()

    import torch

    from rlhf_playground.ppo.trainer import PPOStageConfig, build_trainer

    torch.set_num_threads(2)
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        config = PPOStageConfig(model="default", dataset=prompt_file(Path(tmp)), reward="lexicon",
                                steps=args.steps, batch_size=args.batch_size, mini_batch_size=args.batch_size // 2,
                                learning_rate=args.learning_rate, max_new_tokens=args.max_new_tokens,
                                reward_scaling="whiten", eval_prompts=args.held_out, seed=0)
        trainer, held_out = build_trainer(config)
        before_answers = trainer.answer(held_out[:3])
        before = trainer.evaluate(held_out)
        history = trainer.train(on_step=lambda s: print(
            f"step {s['step']:3d} reward {s['reward_mean']:+.3f} kl {s['kl']:.3f} "
            f"len {s['response_length_mean']:.1f} ({s['step_time_s']:.1f} s)", flush=True))
        after = trainer.evaluate(held_out)
        after_answers = trainer.answer(held_out[:3])
    minutes = (time.monotonic() - began) / 60
    for prompt, old, new in zip(held_out, before_answers, after_answers):
        print(f"\nPROMPT {prompt}\n  before: {old}\n  after:  {new}")
    print(f"\nload average now: {os.getloadavg()}")
    print("| steps | batch | held-out prompts | mean VADER before | after | final KL | wall clock |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {len(history)} | {args.batch_size} | {len(held_out)} | {before:+.3f} | {after:+.3f} | "
          f"{history[-1]['kl']:.2f} | {minutes:.1f} min |")


if __name__ == "__main__":
    main()
