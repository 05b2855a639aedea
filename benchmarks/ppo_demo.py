"""PPO demo: SmolLM2-135M-Instruct learns to answer more positively (VADER reward) on the bundled prompts.

Reports the mean VADER score of greedy answers to held-out prompts (never trained on) before and
after, the final KL to the reference, and the wall clock. Usage:
    python benchmarks/ppo_demo.py [--steps 40] [--held-out 32] [--batch-size 8] [--max-new-tokens 24]
        [--learning-rate 3e-4] [--kl-coef 0.05]

The wall clock covers loading, both evaluations and training; "training" is the PPO steps alone.
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

    lines = (ROOT / "rlhf_playground" / "samples" / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
    prompts = [extract_prompt(json.loads(line)["prompt"])[0] for line in lines]
    path = folder / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts if p), encoding="utf-8")
    return str(path)


def demo_trainer(folder: Path, steps: int, **overrides):
    """A PPO trainer with the demo's PPO settings (bundled SmolLM2 and prompts, VADER, batch 8, mini-batch 4,
    lr 1e-4, 24 new tokens, whitened scores, nothing held out) and ``overrides``, its prompts written to
    ``folder``: what the speed and critic benchmarks measure."""
    from rlhf_playground.ppo.config import PPOStageConfig
    from rlhf_playground.ppo.trainer import build_trainer

    settings = dict(
        model="default",
        dataset=prompt_file(folder),
        reward="lexicon",
        steps=steps,
        batch_size=8,
        mini_batch_size=4,
        learning_rate=1e-4,
        max_new_tokens=24,
        reward_scaling="whiten",
        eval_prompts=0,
    )
    return build_trainer(PPOStageConfig(**{**settings, **overrides}))[0]


def greedy_eval(trainer, prompts: list) -> tuple[float, list[tuple[str, float]]]:
    """Mean score of greedy answers to ``prompts`` and each ``(answer, score)``: one decoding, as trainer.evaluate."""
    from rlhf_playground.data.prompts import prompt_text

    answers = trainer.answer(prompts)
    scores = trainer.scorer.score([prompt_text(p) for p in prompts], answers)
    return sum(scores) / len(scores), list(zip(answers, scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--held-out", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--kl-coef", type=float, default=0.05)
    parser.add_argument("--show", type=int, default=4, help="before/after answers to print")
    args = parser.parse_args()

    import torch

    from rlhf_playground.ppo.config import PPOStageConfig
    from rlhf_playground.ppo.trainer import build_trainer

    torch.set_num_threads(2)
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        config = PPOStageConfig(
            model="default",
            dataset=prompt_file(Path(tmp)),
            reward="lexicon",
            steps=args.steps,
            batch_size=args.batch_size,
            mini_batch_size=args.batch_size // 2,
            learning_rate=args.learning_rate,
            max_new_tokens=args.max_new_tokens,
            reward_scaling="whiten",
            init_kl_coef=args.kl_coef,
            eval_prompts=args.held_out,
            seed=0,
        )
        trainer, held_out = build_trainer(config)
        loaded = time.monotonic()
        before, before_answers = greedy_eval(trainer, held_out)
        print(
            f"held-out mean reward before: {before:+.3f} ({time.monotonic() - loaded:.0f} s); "
            f"load average {os.getloadavg()}",
            flush=True,
        )
        train_began = time.monotonic()
        history = trainer.train(
            on_step=lambda s: print(
                f"step {s['step']:3d} reward {s['reward_mean']:+.3f} kl {s['kl']:.3f} "
                f"len {s['response_length_mean']:.1f} ({s['step_time_s']:.1f} s)",
                flush=True,
            )
        )
        train_minutes = (time.monotonic() - train_began) / 60
        after, after_answers = greedy_eval(trainer, held_out)
    minutes = (time.monotonic() - began) / 60
    shown = [(p, o, n) for p, o, n in zip(held_out, before_answers, after_answers)][: args.show]
    for prompt, (old, old_score), (new, new_score) in shown:
        print(f"\nPROMPT {prompt}\n  before ({old_score:+.2f}): {old}\n  after  ({new_score:+.2f}): {new}")
    print(f"\nload average now: {os.getloadavg()}")
    positive = lambda rows: sum(score >= 0.05 for _, score in rows)  # noqa: E731  VADER's "positive" label
    print(
        f"held-out answers VADER-positive: {positive(before_answers)}/{len(held_out)} before, "
        f"{positive(after_answers)}/{len(held_out)} after"
    )
    print(
        "| steps | batch | max new tokens | lr | held-out prompts | mean VADER before | after | final KL "
        "| training | wall clock (all) | load avg 1/5/15 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"| {len(history)} | {args.batch_size} | {args.max_new_tokens} | {args.learning_rate:g} | {len(held_out)} "
        f"| {before:+.3f} | {after:+.3f} | {history[-1]['kl']:.2f} | {train_minutes:.1f} min | {minutes:.1f} min "
        f"| {load} |"
    )


if __name__ == "__main__":
    main()
