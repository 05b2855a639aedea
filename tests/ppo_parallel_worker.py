"""One PPO update on a fixed batch, alone or as one of the processes of ``accelerate launch``; saves the
weights it ends with (``tests/test_ppo_parallel.py``). Usage: ``ppo_parallel_worker.py MODEL OUT_DIR``."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from rlhf_playground.models import load_causal_lm
from rlhf_playground.ppo.config import PPOStageConfig
from rlhf_playground.ppo.parallel import Processes
from rlhf_playground.ppo.trainer import PPOTrainer
from rlhf_playground.rewards.scorers import make_scorer

PROMPTS = ["I loved the film", "The food was", "My day was", "This book is", "The weather", "Our trip was"]
PROMPTS += ["The concert", "That game"]


def main(model_dir: str, out: Path) -> None:
    config = PPOStageConfig(
        model=model_dir,
        dataset="unused",
        batch_size=8,
        mini_batch_size=8,  # one mini-batch a pass: its order can't differ between one process and two
        ppo_epochs=2,
        lora_dropout=0.0,  # no random masks, which would differ between the processes
        max_new_tokens=6,
        reward_scaling="whiten",
        adaptive_kl=True,
        learning_rate=1e-2,
    )
    model, tokenizer = load_causal_lm(model_dir)
    processes = Processes()
    trainer = PPOTrainer(config, model, tokenizer, make_scorer("lexicon"), PROMPTS, processes)
    start = weights(trainer)
    for _ in range(2):  # the second rollout comes from the updated policy: it has a KL to the reference
        # the same whole batch in every process (greedy, one padding), of which each takes its share
        whole = trainer.rollout(PROMPTS, greedy=True)
        scores = torch.tensor(trainer.scorer.score(whole.prompts, whole.responses), dtype=torch.float32)
        scores = scores + torch.arange(len(scores)) * 0.1  # distinct scores, so whitening matters
        mine = torch.arange(len(scores)) % processes.world == processes.rank
        logs, critic, kl, n_answers = trainer.update(whole.select(mine), scores[mine])
        trainer.kl_ctl.update(kl, n_answers)
    out.mkdir(parents=True, exist_ok=True)
    found = {"start": start, "weights": weights(trainer), "kl": kl, "kl_coef": trainer.kl_ctl.value, "n": n_answers}
    found["critic"] = critic  # explained variance, mean value and return: of the whole batch in every process
    torch.save(found, out / f"rank{processes.rank}.pt")


def weights(trainer: PPOTrainer) -> dict:
    found = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    return found | {f"value_head.{n}": p.detach().clone() for n, p in trainer.value_head.named_parameters()}


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
