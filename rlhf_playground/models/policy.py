"""An RL policy's weights: the base a fresh LoRA adapter goes on, and the way a saved one loads again.

PPO, GRPO, RLOO and DPO all train a LoRA adapter on the base with the SFT adapter (if
any) merged in, which is then also the reference. A saved policy notes that base in
``policy.json`` beside the adapter, because the adapter's own config names only one.
peft is imported inside the functions, so reading :data:`POLICY_INFO` costs nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from .loading import load_causal_lm
from .names import resolve

POLICY_INFO = "policy.json"  # beside a saved RL adapter: the base it sits on


def prepare_base(model):
    """The weights a fresh LoRA adapter goes on: an SFT adapter folded in, so that it becomes the reference.

    Also keeps 4-bit layers trainable: on CPUs with AVX512-BF16, bitsandbytes repacks 4-bit weights
    for inference the first time they run in eval mode (rollouts); that layout has no backward.
    """
    from peft import PeftModel

    if isinstance(model, PeftModel):
        model = model.merge_and_unload()
    for module in model.modules():
        if hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False
    return model


def write_policy_info(folder: Path, base_model: str, sft_adapter: str) -> None:
    """Note beside an RL adapter what it was trained on: the base, with an SFT adapter merged in or not.

    The adapter's own config can only name one base; trained on base + merged SFT, it must be
    loaded the same way (see :func:`load_policy`), which this note makes possible.
    """
    # a run id names its adapter only in its own workspace: note the folder
    info = {
        "base_model": base_model,
        "sft_adapter": resolve(sft_adapter).path if sft_adapter else None,
        "note": "this adapter applies to the base with the SFT adapter merged in",
    }
    (Path(folder) / POLICY_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")


def trained_on_sft(folder: str | Path) -> bool:
    """True for an RL adapter that sits on the base with an SFT adapter merged in (it can't share weights)."""
    info = Path(folder) / POLICY_INFO
    return info.is_file() and bool(json.loads(info.read_text(encoding="utf-8")).get("sft_adapter"))


def load_policy(folder: str | Path):
    """A saved RL policy (PPO, GRPO, RLOO, DPO) as ``(model, tokenizer)``: base, SFT adapter merged in,
    the RL adapter on top."""
    from peft import PeftModel

    info = json.loads((Path(folder) / POLICY_INFO).read_text(encoding="utf-8"))
    model, tokenizer = load_causal_lm(info["base_model"], adapter=info.get("sft_adapter"))
    if isinstance(model, PeftModel):
        model = model.merge_and_unload()
    return PeftModel.from_pretrained(model, str(folder)), tokenizer
