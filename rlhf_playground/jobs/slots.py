"""How many training jobs this machine runs side by side, how much memory each takes, and how long it lasts.

A slot is a turn on the machine. On a CPU, training uses every core it is given, so slots are
few and each job gets its share of the cores as threads (``threads_per_job``); on a GPU, a job
on a 135M-parameter model takes well under 2 GB, so several run at once while their estimates
fit in the GPU's memory. Both are limited by memory: a job starts only when its estimate fits
beside those of the jobs already running (:mod:`.queue`). The host can set the slot count
(``RLHF_JOB_SLOTS``). Nothing here imports torch: a waiting job asks ``nvidia-smi``.

The estimates are rough on purpose (they decide turns and say "about 4 min", nothing more): the
memory from the weights' size, the duration from seconds per step measured on the 2-core
development machine (README's figures).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

from ..hosting import setting

SLOTS_ENV = "RLHF_JOB_SLOTS"  # the host's override; unset or 0: from the hardware
MAX_SLOTS = 16
CORES_PER_CPU_JOB = 4  # fewer threads than this per job and PyTorch's CPU kernels stop paying off
MEMORY_SHARE = 0.8  # of the RAM (or the GPU's memory) that jobs may take together; the rest is the app's
BUNDLED_WEIGHTS_MB = 517  # the bundled SmolLM2-135M, converted (float32)
# A job's own cost beyond its weights: Python, PyTorch and the libraries (CPU), or the CUDA context (GPU).
RUNTIME_MB = {"cpu": 900, "gpu": 600}
# The weights, their working copies and the activations of a LoRA step (PPO's reference shares the weights). On a
# CPU measured: a PPO job on the bundled model peaked at 2.55 GB RSS. On a GPU a guess (no GPU measured yet): the
# CUDA context, the weights and half as much again; Python and the libraries stay in RAM.
WEIGHT_COPIES = {"cpu": 3, "gpu": 2}

# Seconds per step on the 2-core development machine, bundled SmolLM2, the tabs' settings (README: the demo's
# SFT 77 s for 20 steps, reward model 24 s for 30 with MiniLM, PPO 132 s for 12, compare 25 s for 16 prompts;
# the methods table: DPO 4.1 min, GRPO 3.5 min and RLOO 3.9 min for 30 steps). A job also loads first.
SECONDS_PER_STEP = {"sft": 77 / 20, "reward": 24 / 30, "ppo": 132 / 12, "dpo": 8.2, "grpo": 7.0, "rloo": 7.8}
SECONDS_PER_COMPARED_PROMPT = 25 / 16
START_S = 20.0
UNKNOWN_STEPS = 60  # a job that trains for epochs: its steps aren't known before it loads the data


@dataclass(frozen=True)
class Machine:
    cores: int
    ram_mb: float
    gpu_mb: float = 0.0  # the first GPU's memory; 0: none

    @property
    def device(self) -> str:
        return "gpu" if self.gpu_mb else "cpu"

    @property
    def budget_mb(self) -> float:
        """What jobs may take together: a share of the GPU's memory, or of the RAM."""
        return MEMORY_SHARE * (self.gpu_mb or self.ram_mb)


def _gpu_mb() -> float:
    """The first NVIDIA GPU's memory from ``nvidia-smi`` (a waiting job must not import torch); 0: none."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "" or not shutil.which("nvidia-smi"):
        return 0.0
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        return float(out.split()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return 0.0


@functools.cache
def this_machine() -> Machine:
    import psutil

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return Machine(cores=cores, ram_mb=psutil.virtual_memory().total / 2**20, gpu_mb=_gpu_mb())


def job_memory_mb(weights_mb: float, device: str) -> float:
    """What a job whose models weigh ``weights_mb`` takes at its peak, roughly."""
    return RUNTIME_MB[device] + WEIGHT_COPIES[device] * weights_mb


def slot_count(machine: Machine | None = None) -> int:
    """Jobs at once: the host's ``RLHF_JOB_SLOTS``, else what the cores (CPU) or the memory (GPU) allow for a
    job on the bundled model, and never more than the memory allows."""
    machine = machine or this_machine()
    host = int(setting(SLOTS_ENV, 0) or 0)
    if host:
        return min(host, MAX_SLOTS)
    by_memory = int(machine.budget_mb // job_memory_mb(BUNDLED_WEIGHTS_MB, machine.device))
    by_cores = machine.cores if machine.gpu_mb else machine.cores // CORES_PER_CPU_JOB
    return max(1, min(by_memory, by_cores, MAX_SLOTS))


def threads_per_job(machine: Machine | None = None) -> int:
    """Each job's share of the cores, so that jobs side by side don't fight over them."""
    machine = machine or this_machine()
    return max(1, machine.cores // slot_count(machine))


def job_seconds(stage: str, config: dict) -> float:
    """About how long a job of ``stage`` with ``config`` (its config.json) takes once it has its turn."""
    if stage == "compare":
        models = 1 + len([m for m in str(config.get("tuned") or "").split(",") if m.strip()])
        return START_S + SECONDS_PER_COMPARED_PROMPT * (config.get("n_prompts") or 8) * models / 3
    steps = config.get("steps") or config.get("max_steps") or 0
    per_step = SECONDS_PER_STEP.get(stage, SECONDS_PER_STEP["sft"])
    if stage == "reward" and "minilm" not in str(config.get("model", "")).lower():
        per_step *= 10  # a reward model on the policy's backbone: ten times MiniLM's cost (the demo's figure)
    return START_S + per_step * (steps if steps > 0 else UNKNOWN_STEPS)
