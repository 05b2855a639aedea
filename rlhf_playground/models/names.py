"""Turning what a person typed into a model reference: the bundled default, a local folder, a LoRA adapter
(a saved run's, or a class's), or a Hugging Face id."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .. import hosting
from ..errors import UserError
from ..labels.classes import PREFIX, class_adapter
from ..sharing import hub
from ..workspace import cache_dir, saved_adapter
from .bundled import DEFAULT_HUB_ID, DEFAULT_LABEL, DEFAULT_MODEL, DEFAULT_NAME, bundle_usable, default_model_dir


@dataclass
class ModelRef:
    kind: str  # "default" | "local" | "hub"
    path: str  # a local folder (absolute) or a hub id
    label: str  # for people, e.g. "SmolLM2-135M-Instruct (bundled, offline)"
    adapter_of: str | None = None  # for a LoRA adapter folder: its base model, as resolve() takes it


def resolve(ref: str | None) -> ModelRef:
    """Turn what a person typed into a :class:`ModelRef`; UserError when it names nothing usable."""
    text = (ref or "").strip()
    if text in ("", DEFAULT_MODEL):
        if not bundle_usable() and hub.hub_reachable():
            # e.g. on a Space, which installs requirements.txt only: the same model, from the Hub
            return ModelRef("hub", DEFAULT_HUB_ID, f"{DEFAULT_NAME} (Hugging Face Hub)")
        return ModelRef("default", str(default_model_dir()), DEFAULT_LABEL)
    path = Path(text).expanduser()
    if path.is_dir():
        hosting.check_local_path(path)
        return _local(path.resolve())
    if path.exists():
        raise UserError(f"'{text}' is a file; a model is a folder with config.json (or a LoRA adapter folder).")
    if (run_adapter := saved_adapter(text)) is not None:
        return _local(run_adapter)
    if text.startswith(PREFIX) and (class_run := class_adapter(text)) is not None:  # a class's run, read-only
        return _local(class_run)
    if hub.looks_like_repo_id(text):
        hub.check_repo(text, "model")
        return ModelRef("hub", text, f"{text} (Hugging Face Hub)")
    raise UserError(
        f"No folder at '{text}'. Give a model folder (with config.json), a Hugging Face id "
        f"such as 'owner/name', or '{DEFAULT_MODEL}' for the bundled model."
    )


def _local(path: Path) -> ModelRef:
    if (path / "adapter_config.json").is_file():
        base = _adapter_base(path)
        return ModelRef("local", str(path), f"{path.name} (LoRA adapter on {_short(base)})", adapter_of=base)
    if (path / "config.json").is_file():
        return ModelRef("local", str(path), f"{path.name} (local folder)")
    raise UserError(
        f"The folder '{path}' has no config.json, so it isn't a saved model. "
        "Pick the folder that holds config.json and the weights."
    )


def _adapter_base(path: Path) -> str:
    try:
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
    except (OSError, ValueError, AttributeError):
        base = None
    if not base:
        raise UserError(
            f"The adapter in '{path}' doesn't say which model it was trained on "
            "(base_model_name_or_path in adapter_config.json)."
        )
    # An adapter trained on the bundled model records the cache folder it was loaded from, which is
    # elsewhere on another machine or with another RLHF_CACHE_DIR.
    p = Path(base)
    if p.is_absolute() and p.name == DEFAULT_NAME and (not p.is_dir() or p.parent == cache_dir()):
        return DEFAULT_MODEL
    return base


def _short(base: str) -> str:
    if base == DEFAULT_MODEL:
        return DEFAULT_NAME
    return base if hub.looks_like_repo_id(base) else Path(base).name


def as_ref(ref: str | ModelRef | None) -> ModelRef:
    return ref if isinstance(ref, ModelRef) else resolve(ref)
