"""Attention for 16-bit models on a CPU: torch's plain ("math") kernel rather than its CPU flash kernel.

Measured on the 2-core machine with SmolLM2's shapes (9 heads of 64, bfloat16, `benchmarks/README.md`): one
layer's attention forward and backward over 4 answers of 67 tokens takes 6.5 ms with the flash kernel and 2.8 ms
with the math kernel; one decoding step's 300 µs against 136 µs. In float32 the flash kernel is the faster one
(2.8 ms against 4.4 ms), so only bfloat16 and float16 models on the CPU switch.
"""

from __future__ import annotations

import contextlib
import threading

SDPA_MATH = "sdpa_math"
_lock = threading.Lock()
_inside = 0  # threads computing such attention now
_flash_before = True


@contextlib.contextmanager
def _flash_off():
    """torch's flash kernel off while any thread is in here.

    torch keeps one process-wide switch, and its ``sdpa_kernel`` context puts back what it found: two threads
    overlapping could leave flash off for good. So the threads in here are counted: the first one in turns it
    off, the last one out puts it back as it was.
    """
    import torch

    global _inside, _flash_before
    with _lock:
        if _inside == 0:
            _flash_before = torch.backends.cuda.flash_sdp_enabled()
            torch.backends.cuda.enable_flash_sdp(False)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                torch.backends.cuda.enable_flash_sdp(_flash_before)


def _sdpa_math(*args, **kwargs):
    """transformers' sdpa attention with torch's math kernel."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    with _flash_off():
        return sdpa_attention_forward(*args, **kwargs)


def _register() -> None:
    """Make ``SDPA_MATH`` an attention implementation, with sdpa's masks (left padding, causality)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    with _lock:
        AttentionInterface.register(SDPA_MATH, _sdpa_math)
        AttentionMaskInterface.register(SDPA_MATH, sdpa_mask)


def math_attention_on_cpu(model) -> None:
    """Switch ``model`` to the math kernel when it computes sdpa attention in 16 bits on the CPU."""
    import torch

    if model.device.type != "cpu" or model.dtype not in (torch.bfloat16, torch.float16):
        return
    if getattr(model.config, "_attn_implementation", None) != "sdpa":
        return
    _register()
    model.set_attn_implementation(SDPA_MATH)
