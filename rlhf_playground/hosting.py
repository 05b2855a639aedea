"""Hosted mode: the app shared by many people (a Hugging Face Space, or ``python app.py --hosted``).

In hosted mode each browser session gets its own workspace, local paths can't be
typed as sources, remote code is never trusted, uploads are capped, and so are
what one person can ask of the shared machine: jobs at once, steps, lengths and
model size (:func:`check_caps`, :func:`models.check_model_sizes`), each a setting the host can change. The switch
is one environment variable so that jobs started by the app inherit it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

from . import workspace
from .errors import UserError

HOSTED_ENV = "RLHF_HOSTED"

# What one person may ask for in hosted mode: (environment variable, default, config fields it caps).
CAPS = (
    ("RLHF_MAX_STEPS", 200, ("steps", "max_steps", "sft_steps", "reward_steps", "ppo_steps")),
    ("RLHF_MAX_EPOCHS", 3, ("num_epochs", "ppo_epochs")),
    ("RLHF_MAX_NEW_TOKENS", 256, ("max_new_tokens",)),
    ("RLHF_MAX_LENGTH", 1024, ("max_length", "max_prompt_length")),
    ("RLHF_MAX_BATCH", 64, ("batch_size", "mini_batch_size", "n_prompts", "ppo_batch_size")),
)
MAX_MODEL_MB = ("RLHF_MAX_MODEL_MB", 2048)  # weights on disk, per model a job loads
MAX_JOBS = ("RLHF_MAX_JOBS_PER_SESSION", 2)  # running or waiting, per person: one running and one queued
MAX_JOB_MINUTES = ("RLHF_MAX_JOB_MINUTES", 30)  # a job's turn, after which it stops (and saves); locally: if set
JOB_NICENESS = ("RLHF_JOB_NICENESS", 10)  # jobs yield the CPU to the app's pages; locally 0 unless set
MODEL_EVENTS = ("RLHF_MODEL_EVENTS", 1)  # clicks that run a model in the app's process at once; locally 2


def host_number(name: str, default: float, local_default: float | None = None) -> float | None:
    """A setting that hosted mode applies with ``default`` and one person's app only when it is set (0 is a
    value here: no limit, no lower priority)."""
    if name not in os.environ:
        return default if is_hosted() else local_default
    try:
        value = float(os.environ[name])
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= 0 else default


def on_space() -> bool:
    """True on a Hugging Face Space (``SPACE_ID`` is set there)."""
    return bool(os.environ.get("SPACE_ID"))


def is_hosted() -> bool:
    """True on a Hugging Face Space or when ``RLHF_HOSTED=1``."""
    return on_space() or os.environ.get(HOSTED_ENV, "") not in ("", "0", "false", "False")


def setting(name: str, default: float) -> float:
    """A number the host set in the environment (``RLHF_MAX_STEPS=50``), else ``default``."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if math.isfinite(value) and value > 0 else default


def _usable_roots() -> list[Path]:
    """Where a hosted user's typed paths may point: their own workspace, the model cache, the samples, and the
    bundled MiniLM encoder (read-only; the demo's and the Label tab's reward models start from it)."""
    roots = [workspace.workspace_dir(), workspace.cache_dir(), workspace.SAMPLES_DIR]
    return roots + [folder] if (folder := workspace.bundled_minilm_dir()) is not None else roots


def check_local_path(path: str | Path) -> None:
    """In hosted mode, refuse a typed path outside this session's own files (other users', the server's)."""
    if not is_hosted():
        return
    resolved = Path(path).expanduser().resolve()
    if not any(resolved.is_relative_to(root.resolve()) for root in _usable_roots()):
        raise UserError(
            f"This is a shared, hosted app: local paths such as '{path}' can't be used here. "
            "Upload a file in the Data tab, or pick a saved dataset, a run or a Hub name."
        )


def check_cap(name: str, value: float) -> None:
    """In hosted mode, UserError when setting ``name`` (a config field, e.g. ``max_new_tokens``) is
    over the host's cap for it."""
    for env, default, names in CAPS:
        cap = setting(env, default)
        if name in names and is_hosted() and value > cap:
            raise UserError(
                f"{name} {value:g} is more than this shared app allows ({cap:g}): "
                f"use {cap:g} or less (the host sets this with {env})."
            )


def check_caps(config) -> None:
    """In hosted mode, refuse a stage config that asks for more steps or length than the host allows
    (:func:`models.check_model_sizes` checks its models)."""
    if not is_hosted():
        return
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    for name, value in values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            check_cap(name, value)


PRESET_PREFIX = "RLHF_DEMO_"  # RLHF_DEMO_SFT_STEPS=10: the demo form's defaults for a workshop


def presets(cls, prefix: str = PRESET_PREFIX) -> dict:
    """The host's defaults for ``cls``'s form, from ``<prefix><FIELD>`` variables, checked like any setting;
    UserError names the variable that is wrong."""
    from .config import from_dict

    values = {}
    for f in dataclasses.fields(cls):
        name = prefix + f.name.upper()
        if name not in os.environ:
            continue
        text, kind = os.environ[name].strip(), type(f.default)
        try:
            if kind is bool:
                values[f.name] = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}[
                    text.lower()
                ]
            else:
                values[f.name] = kind(text)
        except (KeyError, ValueError):
            words = {int: "a whole number", float: "a number", bool: "yes or no"}.get(kind, "text")
            raise UserError(f"{name}={text!r} should be {words}: fix it in the app's environment.") from None
    try:
        config = from_dict(cls, values)
        config.validate()
        check_caps(config)  # a preset over the host's own cap would be refused at every Start
    except UserError as exc:
        raise UserError(f"The host's {prefix}* settings don't make a valid {cls.__name__}: {exc}") from None
    return values
