"""The stages, and what the rest of the program needs to know about each without importing it.

A stage module (a config dataclass, ``run(config, run)`` and ``register(subparsers)``) is
imported only when a command or a job needs it, so that listing commands, queueing a job
and building forms stay fast. Everything that asks "which stages queue, resume, show in
the methods table, save an adapter Compare can load?" reads :data:`STAGES`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str  # the CLI command and the run's stage
    module: str  # where its config and run live
    queued: bool = True  # takes its turn in the one-job-at-a-time line (the demo only starts other jobs)
    resumable: bool = False  # its trainer keeps checkpoints in the run folder, so a failed run can resume
    method: bool = False  # writes eval.json with the held-out reward before/after: a row of the methods table
    tuned: bool = False  # saves a policy adapter that Compare and Try models can load


STAGES = {stage.name: stage for stage in (
    Stage("sft", "rlhf_playground.stages.sft", resumable=True, tuned=True),
    Stage("reward", "rlhf_playground.stages.reward", resumable=True),
    Stage("ppo", "rlhf_playground.stages.ppo", method=True, tuned=True),
    Stage("dpo", "rlhf_playground.stages.dpo", method=True, tuned=True),
    Stage("grpo", "rlhf_playground.stages.online", method=True, tuned=True),
    Stage("rloo", "rlhf_playground.stages.online", method=True, tuned=True),
    Stage("compare", "rlhf_playground.stages.compare"),
    Stage("demo", "rlhf_playground.stages.demo", queued=False),
)}

UNQUEUED = tuple(name for name, stage in STAGES.items() if not stage.queued)
RESUMABLE = tuple(name for name, stage in STAGES.items() if stage.resumable)
METHODS = tuple(name for name, stage in STAGES.items() if stage.method)
TUNED = tuple(name for name, stage in STAGES.items() if stage.tuned)


def stage_modules() -> list[str]:
    """Each stage module once, in the order the CLI lists their commands."""
    return list(dict.fromkeys(stage.module for stage in STAGES.values()))

