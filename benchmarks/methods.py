"""PPO, GRPO, RLOO and DPO on the bundled SmolLM2 with the VADER (lexicon) reward: reward reached per minute.

Each method runs as the same job a person starts (``python -m rlhf_playground <stage>``) in a
temporary workspace, one after the other, on the same base model and the same held-out prompts
(the bundled prompts, split with one seed): PPO, GRPO and RLOO train on the other prompts with
the lexicon reward, DPO on the bundled ``preference-chat`` pairs (it never sees the reward, which
only scores its held-out answers).
PPO, GRPO and RLOO sample the same answers and make the same updates: --steps batches of
--batch-size answers (PPO one per prompt, GRPO and RLOO --generations per prompt), each batch
serving 2 mini-batches x 2 passes = 4 updates (so GRPO and RLOO run 4 x --steps updates);
DPO trains on 4 pairs per step. Prints the method comparison as a
Markdown table. Usage:
    python benchmarks/methods.py [--steps 10] [--dpo-steps 10] [--held-out 16] [--methods ppo,grpo,rloo,dpo]

Wall clock is each run's own (loading, both evaluations and training), as in the app's comparison.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def flags(**settings) -> list[str]:
    return [f"--{name.replace('_', '-')}={value}" for name, value in settings.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="PPO, GRPO and RLOO steps")
    parser.add_argument("--dpo-steps", type=int, default=10)
    parser.add_argument("--held-out", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8, help="answers per step (PPO, GRPO, RLOO)")
    parser.add_argument("--generations", type=int, default=4, help="GRPO/RLOO answers per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="PPO, GRPO and RLOO")
    parser.add_argument("--dpo-learning-rate", type=float, default=1e-4)
    parser.add_argument("--methods", default="ppo,grpo,rloo,dpo")
    args = parser.parse_args()

    from ppo_demo import prompt_file

    from rlhf_playground.evaluation import methods

    with tempfile.TemporaryDirectory() as tmp:
        prompts = prompt_file(Path(tmp))
        shared = dict(model="default", max_new_tokens=args.max_new_tokens, eval_prompts=args.held_out, seed=0)
        online = dict(
            **shared,
            dataset=prompts,
            reward="lexicon",
            steps=args.steps,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
        )
        same_work = dict(mini_batch_size=args.batch_size // 2)  # x 2 passes (ppo_epochs, num_iterations) = 4 updates
        group_based = {
            **online,
            **same_work,
            "steps": args.steps * 4,
            "num_iterations": 2,
            "num_generations": args.generations,
            "beta": 0.05,
        }
        commands = {
            "ppo": flags(**online, **same_work, ppo_epochs=2, reward_scaling="whiten", init_kl_coef=0.05),
            "grpo": flags(**group_based, scale_rewards="group"),
            "rloo": flags(**group_based),
            "dpo": flags(
                **shared,
                dataset=str(ROOT / "rlhf_playground" / "samples" / "preference_chat.jsonl"),
                eval_dataset=prompts,
                eval_reward="lexicon",
                steps=args.dpo_steps,
                batch_size=4,
                learning_rate=args.dpo_learning_rate,
            ),
        }
        env = {**os.environ, "RLHF_WORKSPACE": str(Path(tmp) / "workspace")}
        for stage in args.methods.split(","):
            print(f"== {stage} (load average {os.getloadavg()[0]:.1f})", flush=True)
            subprocess.run(
                [sys.executable, "-m", "rlhf_playground", stage, *commands[stage]],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        os.environ["RLHF_WORKSPACE"] = env["RLHF_WORKSPACE"]
        found = methods.compare()
    print(f"\nload average at the end {os.getloadavg()}; group: {found['group']}\n")
    print(methods.markdown_table(found["rows"]))


if __name__ == "__main__":
    main()
