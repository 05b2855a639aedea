"""How big a model's weights are, and the hosted cap on them (``RLHF_MAX_MODEL_MB``)."""

from __future__ import annotations

from pathlib import Path

from .. import hosting
from ..errors import UserError
from ..workspace import saved_adapter
from .bundled import DEFAULT_MODEL
from .names import resolve

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")
MODEL_FIELDS = ("model", "base")  # the config fields that name a model a job loads


def weights_mb(ref: str) -> float | None:
    """Megabytes of weight files ``ref`` loads (an adapter: its base's too); None when that can't be
    known cheaply: the bundled default (small, and measuring it could mean converting it) or an
    unreachable Hub."""
    if (ref or "").strip() in ("", DEFAULT_MODEL):
        return None
    model = resolve(ref)
    if model.kind == "hub":
        try:
            from huggingface_hub import HfApi

            info = HfApi().model_info(model.path, files_metadata=True, timeout=5)
        except Exception:  # noqa: BLE001 - offline or refused: the job itself will say so
            return None
        return sum(s.size or 0 for s in info.siblings or [] if s.rfilename.endswith(WEIGHT_SUFFIXES)) / 2**20
    own = sum(p.stat().st_size for p in Path(model.path).rglob("*") if p.name.endswith(WEIGHT_SUFFIXES))
    base = weights_mb(model.adapter_of) if model.adapter_of else 0
    return own / 2**20 + (base or 0)


def check_model_size(ref: str) -> float | None:
    """In hosted mode, refuse a model whose weights are bigger than ``RLHF_MAX_MODEL_MB`` (when known).

    Returns its size in MB when known (locally too, from the disk only: nothing is asked of the Hub)."""
    if not hosting.is_hosted():
        text = (ref or "").strip()
        on_disk = text not in ("", DEFAULT_MODEL) and (
            Path(text).expanduser().is_dir() or saved_adapter(text) is not None
        )
        try:
            return weights_mb(text) if on_disk else None
        except UserError:  # the config's own check says what is wrong with it
            return None
    size = weights_mb(ref)
    if size is not None:
        env, default = hosting.MAX_MODEL_MB
        cap = hosting.setting(env, default)
        if size > cap:
            raise UserError(
                f"The model '{ref}' has {size:,.0f} MB of weights, more than this shared app allows "
                f"({cap:,.0f} MB): pick a smaller model (the host sets this with {env})."
            )
    return size


def check_model_sizes(config) -> float:
    """In hosted mode, :func:`check_model_size` for each model a stage config names; returns their weights' MB
    (the bundled model's for one whose size isn't known)."""
    from ..jobs.slots import BUNDLED_WEIGHTS_MB

    total = 0.0
    for name in MODEL_FIELDS:
        if isinstance(getattr(config, name, None), str):
            size = check_model_size(getattr(config, name))
            total += BUNDLED_WEIGHTS_MB if size is None else size
    return total
