"""Training stages, one module each: a config dataclass, ``run(config, run)`` and ``register(subparsers)``.

A stage's config is its single source of truth: the app's form, the CLI flags
and the run's config.json all come from it (see :mod:`rlhf_playground.config`).
``run`` does the training inside a job (see :mod:`rlhf_playground.jobs`) and
writes its results under ``run.artifacts``. Heavy libraries are imported inside
``run`` and ``validate`` so that listing commands and building forms stay fast.
"""
