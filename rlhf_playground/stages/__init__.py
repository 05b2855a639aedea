"""Stages, one module each: a config dataclass, ``run(config, run)`` and ``register(subparsers)``.

sft.py, reward.py, ppo.py, dpo.py, grpo.py and rloo.py train; compare.py runs the
comparison and demo.py the whole workshop demo as jobs. Two modules here are no stage:
common.py holds what the training stages share, online.py what GRPO and RLOO share.
:mod:`rlhf_playground.registry` lists the stages; outside this package only the registry,
the CLI and the UI import a stage module, and no stage imports another (the demo builds
the configs of the stages it starts through the registry).

A stage's config is its single source of truth: the app's form, the CLI flags
and the run's config.json all come from it (see :mod:`rlhf_playground.config`).
``run`` does the training inside a job (see :mod:`rlhf_playground.jobs`) and
writes its results under ``run.artifacts``. Heavy libraries are imported inside
``run`` and ``validate`` so that listing commands and building forms stay fast.
"""
