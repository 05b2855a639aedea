"""Data-parallel PPO under ``accelerate launch``: what the processes share, and nothing when there is one.

Each process samples its share of the batch. What the update needs over the whole batch is summed
over all processes: the score scaling's and the advantage whitening's moments, the token count a
loss is averaged over, the KL the controller steers by, and the gradients. So N processes take the
step one process would take on the whole batch (``tests/test_ppo_parallel.py`` checks it). With one
process :meth:`Processes.sum` is the identity and nothing is initialised. torch is imported inside
the methods, so the job runner can ask :func:`launched_rank` without it.
"""

from __future__ import annotations

import os


def launched_rank() -> tuple[int, int]:
    """``(rank, world size)`` as ``accelerate launch`` (torchrun) sets them; ``(0, 1)`` otherwise (a ``RANK``
    some other system left in the environment, without a world of several processes, counts for nothing)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or "LOCAL_RANK" not in os.environ:
        return 0, 1
    return int(os.environ.get("RANK", "0")), world


class Processes:
    """The processes of one PPO job (gloo on CPUs, NCCL on GPUs, as accelerate picks)."""

    def __init__(self) -> None:
        self.rank, self.world = launched_rank()
        self.device = None
        if self.world > 1:
            import torch
            from accelerate import PartialState

            # joins the process group accelerate launch described in the environment: NCCL on GPUs, gloo on
            # CPUs (accelerate would otherwise take a CPU-only machine for a single process); on GPUs each
            # process's "cuda" is its own GPU (create this before loading the model)
            self.device = PartialState(cpu=not torch.cuda.is_available()).device
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, value):
        """``value`` summed over every process (a copy; the identity alone)."""
        if self.world == 1:
            return value
        import torch.distributed as dist

        total = value.detach().to(self.device, copy=True)  # NCCL reduces GPU tensors only
        dist.all_reduce(total)
        return total.to(value.device)

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true in any process (so that all stop at the same step)."""
        if self.world == 1:
            return flag
        import torch

        return bool(self.sum(torch.tensor(float(flag))).item())

    def share(self, items: list) -> list:
        """This process's share of a list every process holds the same copy of."""
        return items[self.rank :: self.world]

    def sum_gradients(self, params: list) -> None:
        """Sum the gradients of ``params`` over the processes (the losses are already divided by the
        whole batch's token count), in one flat all-reduce."""
        if self.world == 1:
            return
        import torch

        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = self.sum(torch.cat([g.flatten() for g in grads]))
        for p, piece in zip(params, flat.split([g.numel() for g in grads])):
            p.grad = piece.view_as(p).to(p.dtype)
