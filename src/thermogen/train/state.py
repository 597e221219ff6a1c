"""The loop's progress and random-number streams: seeding a new run, saving a rank's state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .config import TrainConfig
from .distributed import DistributedContext

__all__ = ["seeded"]

_TRAIN_STREAM, _VALIDATION_STREAM, _TORCH_STREAM = 0, 1, 2


@dataclass
class _Progress:
    """The loop's state besides the module, EMA, optimizer and generator.

    ``loss_sum`` (a float64 scalar on the device) and ``loss_count`` accumulate this rank's train
    losses since the last log row; ``elapsed_before_s`` is the training wall time of the runs this
    one resumed from.
    """

    step: int
    loss_sum: torch.Tensor
    loss_count: int
    history: list[dict[str, float]]
    elapsed_before_s: float


def _derive_seed(*keys: int) -> int:
    """A 64-bit seed from several integers (seed, stream, rank or chunk), well mixed."""
    return int(np.random.SeedSequence(keys).generate_state(1, dtype=np.uint64)[0])


def _start(config: TrainConfig, ctx: DistributedContext, generator: torch.Generator) -> _Progress:
    """Seed the batch generator and torch's global RNG from (seed, rank) for a new run."""
    generator.manual_seed(_derive_seed(config.seed, _TRAIN_STREAM, ctx.rank))
    torch.manual_seed(_derive_seed(config.seed, _TORCH_STREAM, ctx.rank))
    zero = torch.zeros((), dtype=torch.float64, device=ctx.device)
    return _Progress(step=0, loss_sum=zero, loss_count=0, history=[], elapsed_before_s=0.0)


def _seed_global_rng(seed: int, device: torch.device) -> None:
    """Seed torch's global RNG on the CPU and, for a CUDA ``device``, on that GPU."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        torch.cuda.manual_seed(seed)


def _rank_state(
    state: _Progress, generator: torch.Generator, device: torch.device
) -> dict[str, Any]:
    """This rank's random-number states and partial train-loss sum, as tensors and numbers."""
    rank_state = {
        "generator": generator.get_state(),
        "torch": torch.get_rng_state(),
        "loss_sum": state.loss_sum.cpu(),
        "loss_count": state.loss_count,
    }
    if device.type == "cuda":
        rank_state["cuda"] = torch.cuda.get_rng_state(device)
    return rank_state


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global RNG inside the block and restore it after: reproducible initial weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
