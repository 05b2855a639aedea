"""Where models load and train: a CUDA GPU, Apple silicon's GPU, or the CPU."""

from __future__ import annotations

import os


def gpu_present() -> bool:
    """A cheap guess (no torch import) whether an NVIDIA GPU is here: decides UI defaults such as 4-bit."""
    return os.path.exists("/proc/driver/nvidia/version") or bool(os.environ.get("SPACES_ZERO_GPU"))


def compute_device(load_in_4bit: bool = False) -> str:
    """Where models load and train: a CUDA GPU, else Apple silicon's GPU (``mps``), else the CPU.

    4-bit (bitsandbytes) runs on CUDA or the CPU only, so on a Mac a 4-bit model stays on the CPU.
    """
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if not load_in_4bit and torch.backends.mps.is_available():
        return "mps"
    return "cpu"
