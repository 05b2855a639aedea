"""4-bit (QLoRA) with bitsandbytes: whether it can run here, said in one sentence, and the dtypes models compute in."""

from __future__ import annotations

import logging

from ..errors import UserError, first_line
from .devices import compute_device
from .library import from_transformers

_BNB_MIN_VERSION = "0.46.1"  # the oldest bitsandbytes transformers 5 loads 4-bit models with
DTYPES = ("auto", "float32", "bfloat16", "float16")


def quiet_bitsandbytes() -> None:
    """bitsandbytes tries to fetch a CPU kernel from the Hub (through the `kernels` package, which transformers
    installs) when imported; offline, or without `kernels`, both log a warning about it. Its own CPU fallback
    works fine, so keep those notices out of what people read."""
    for name in ("bitsandbytes.backends.cpu.ops", "kernels"):
        logging.getLogger(name).setLevel(logging.ERROR)


def check_4bit(load_in_4bit: bool) -> None:
    """UserError when 4-bit loading is asked for and can't run here: the one place that says so."""
    ok, reason = bnb_status() if load_in_4bit else (True, "")
    if not ok:
        raise UserError(f"4-bit loading isn't available here: {reason} Turn 4-bit off.")


def bnb_status() -> tuple[bool, str]:
    """Whether 4-bit (QLoRA) loading can run here; the reason, for people, when it can't."""
    import importlib.metadata
    import importlib.util

    from packaging.version import Version

    try:
        version = importlib.metadata.version("bitsandbytes")
    except importlib.metadata.PackageNotFoundError:
        return False, "bitsandbytes isn't installed (pip install bitsandbytes)."
    if Version(version) < Version(_BNB_MIN_VERSION):
        return False, (
            f"bitsandbytes {version} is too old; 4-bit needs {_BNB_MIN_VERSION} or newer (pip install -U bitsandbytes)."
        )
    if importlib.util.find_spec("accelerate") is None:
        return False, "4-bit loading needs the accelerate package (pip install accelerate)."
    import torch

    device = compute_device(load_in_4bit=True)
    on_mac = " (4-bit runs on CUDA or the CPU, not on Apple silicon's GPU)" if torch.backends.mps.is_available() else ""
    quiet_bitsandbytes()
    try:
        import bitsandbytes
    except Exception as exc:  # a broken native library shows up as any kind of error
        return False, f"bitsandbytes {version} doesn't load here ({first_line(exc)})."
    if device not in getattr(bitsandbytes, "supported_torch_devices", ()):
        return False, f"bitsandbytes {version} can't run 4-bit on this machine's {device.upper()}."
    return True, f"bitsandbytes {version}, 4-bit on {device.upper()}{on_mac}"


def torch_dtype(compute_dtype: str = "auto"):
    """The torch dtype for a name in DTYPES; auto is bfloat16 on a CUDA GPU that has it, else float32."""
    import torch

    if compute_dtype not in DTYPES:
        raise UserError(f"compute_dtype must be one of {', '.join(DTYPES)} (got '{compute_dtype}').")
    if compute_dtype == "auto":
        bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16 else torch.float32
    return getattr(torch, compute_dtype)


def quantization_config(compute_dtype: str = "auto", double_quant: bool = True):
    """NF4 4-bit weights (QLoRA's recipe); matmuls run in ``compute_dtype``."""
    (BitsAndBytesConfig,) = from_transformers("BitsAndBytesConfig")

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=double_quant,
        bnb_4bit_compute_dtype=torch_dtype(compute_dtype),
    )
