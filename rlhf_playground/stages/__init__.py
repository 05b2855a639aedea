"""Stages, one module each: a config dataclass, ``run(config, run)`` and ``register(subparsers)``.

sft.py, reward.py, ppo.py, dpo.py and online.py (GRPO and RLOO) train; compare.py runs the
comparison and demo.py the whole workshop demo as jobs; common.py holds what several
stages share. :mod:`rlhf_playground.registry` lists them; outside this package only the
registry (by name, for the CLI) and the UI import a stage module. (DPO reads pairs as the
reward stage does, and the demo builds the configs of the stages it starts.)

A stage's config is its single source of truth: the app's form, the CLI flags
and the run's config.json all come from it (see :mod:`rlhf_playground.config`).
``run`` does the training inside a job (see :mod:`rlhf_playground.jobs`) and
writes its results under ``run.artifacts``. Heavy libraries are imported inside
``run`` and ``validate`` so that listing commands and building forms stay fast.
"""
