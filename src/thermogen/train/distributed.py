"""Where a training process runs: device, rank and world size under ``torchrun``, and the
collectives the loop needs (which are no-ops in a single process)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..errors import UsageError

__all__ = ["DistributedContext", "distributed_context", "resolve_device"]


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in a (possibly one-process) distributed run.

    Attributes
    ----------
    rank, world_size, local_rank
        As set by ``torchrun`` (0, 1, 0 when not launched by it).
    device
        The device this process trains on.
    """

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that writes files and shows progress."""
        return self.rank == 0


def resolve_device(spec: str = "auto", local_rank: int | None = None) -> torch.device:
    """The torch device named by ``spec``.

    Parameters
    ----------
    spec
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    local_rank
        GPU index for ``"auto"`` and ``"cuda"``; default the ``LOCAL_RANK`` set by ``torchrun``, or 0.
    """
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise UsageError(f"unknown device {spec!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"device {spec!r} asked for, but CUDA is not available; use cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(
                f"device {spec!r} asked for, but this machine has "
                f"{torch.cuda.device_count()} CUDA devices (cuda:0 ...)"
            )
        if device.index is None:
            index = int(os.environ.get("LOCAL_RANK", "0")) if local_rank is None else local_rank
            device = torch.device("cuda", index)
    return device


@contextmanager
def distributed_context(device: str = "auto") -> Iterator[DistributedContext]:
    """Join the ``torchrun`` process group, if launched by it, for the duration of the block.

    With ``WORLD_SIZE`` > 1 in the environment a process group is created (gloo on CPU, NCCL on
    CUDA) and destroyed on exit, unless one already exists, which is then used and left alone.
    Without ``torchrun`` (world size 1) no group is created.

    Parameters
    ----------
    device
        As :attr:`TrainConfig.device`; ``"auto"`` and ``"cuda"`` pick GPU ``LOCAL_RANK``.

    Examples
    --------
    >>> with distributed_context("cpu") as ctx:
    ...     (ctx.rank, ctx.world_size)
    (0, 1)
    """
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank)
    if resolved.type == "cuda":
        torch.cuda.set_device(resolved)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    created = world_size > 1 and not dist.is_initialized()
    if created:
        dist.init_process_group("nccl" if resolved.type == "cuda" else "gloo")
    try:
        if dist.is_initialized():
            yield DistributedContext(dist.get_rank(), dist.get_world_size(), local_rank, resolved)
        else:
            yield DistributedContext(rank=0, world_size=1, local_rank=0, device=resolved)
        if created:  # no rank tears the group down while another is still talking to it
            dist.barrier()
    finally:
        if created:
            dist.destroy_process_group()


def _wrap(module: nn.Module, ctx: DistributedContext) -> nn.Module:
    """The module itself, or under a process group its DDP wrapper (which syncs rank 0's weights)."""
    if ctx.world_size == 1:
        return module
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def _all_reduce_sum(values: torch.Tensor, ctx: DistributedContext) -> torch.Tensor:
    """Sum ``values`` over the ranks, in place (a no-op in a single process)."""
    if ctx.world_size > 1:
        dist.all_reduce(values)
    return values


def _out_of_time(started: float, budget_s: float, ctx: DistributedContext) -> bool:
    """Whether any rank has used up the time budget (all ranks agree, so all stop together)."""
    over = torch.tensor(float(time.perf_counter() - started >= budget_s), device=ctx.device)
    if ctx.world_size > 1:
        dist.all_reduce(over, op=dist.ReduceOp.MAX)
    return bool(over.item())


def _gather(value: Any, ctx: DistributedContext) -> list[Any]:
    """``value`` from every rank, in rank order (a collective: every rank must call it)."""
    if ctx.world_size == 1:
        return [value]
    gathered: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(gathered, value)
    return gathered
