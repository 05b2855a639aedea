"""The stages, and what the rest of the program needs to know about each without importing it.

A stage module (a config dataclass and ``run(config, run)``; its command's help line is here) is
imported only when a command or a job needs it, so that listing commands, queueing a job
and building forms stay fast. Everything that asks "which stages queue, resume, show in
the methods table, save an adapter Compare can load?" reads :data:`STAGES`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str  # the CLI command, the run's stage and its module in rlhf_playground.stages
    config: str  # the name of its config class in that module
    queued: bool = True  # takes its turn in the one-job-at-a-time line (the demo only starts other jobs)
    resumable: bool = False  # its trainer keeps checkpoints in the run folder, so a failed run can resume
    method: bool = False  # writes eval.json with the held-out reward before/after: a row of the methods table
    tuned: bool = False  # saves a policy adapter that Compare and Try models can load
    help: str = ""  # one line for the CLI's list of commands

    @property
    def module(self) -> str:
        return f"rlhf_playground.stages.{self.name}"


STAGES = {
    stage.name: stage
    for stage in (
        Stage(
            "sft",
            "SFTStageConfig",
            resumable=True,
            tuned=True,
            help="supervised fine-tuning with LoRA / QLoRA on a saved dataset or a .jsonl file",
        ),
        Stage(
            "reward",
            "RewardStageConfig",
            resumable=True,
            help="train a reward model (one-output head + LoRA) on chosen/rejected pairs",
        ),
        Stage(
            "ppo",
            "PPOStageConfig",
            method=True,
            tuned=True,
            help="PPO against a reward (lexicon, text classifier or reward model) with a LoRA policy",
        ),
        Stage(
            "dpo",
            "DPOStageConfig",
            method=True,
            tuned=True,
            help="DPO (TRL) on chosen/rejected pairs with a LoRA policy; the reference is the adapter off",
        ),
        Stage(
            "grpo",
            "GRPOStageConfig",
            method=True,
            tuned=True,
            help="GRPO (TRL): group-relative advantages, no value model, LoRA policy, any reward",
        ),
        Stage(
            "rloo",
            "RLOOStageConfig",
            method=True,
            tuned=True,
            help="RLOO (TRL): leave-one-out REINFORCE baseline, no value model, LoRA policy, any reward",
        ),
        Stage(
            "compare",
            "CompareConfig",
            help="answer prompts with the base and tuned models, score and compare the answers",
        ),
        Stage(
            "demo",
            "DemoConfig",
            queued=False,
            help="the whole workshop demo: datasets, SFT, reward model, PPO and a comparison, one after another",
        ),
    )
}

UNQUEUED = tuple(name for name, stage in STAGES.items() if not stage.queued)
RESUMABLE = tuple(name for name, stage in STAGES.items() if stage.resumable)
METHODS = tuple(name for name, stage in STAGES.items() if stage.method)
TUNED = tuple(name for name, stage in STAGES.items() if stage.tuned)


def stage_modules() -> list[str]:
    """The stage modules, in the order the CLI lists their commands."""
    return [stage.module for stage in STAGES.values()]


def config_class(name: str) -> type:
    """The config dataclass of stage ``name`` (imports the module it lives in)."""
    stage = STAGES[name]
    return getattr(importlib.import_module(stage.module), stage.config)


def run_function(name: str):
    """``run(config, run)`` of stage ``name`` (imports the module it lives in)."""
    return importlib.import_module(STAGES[name].module).run
