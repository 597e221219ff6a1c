"""The training log: validation loss of the EMA weights, log rows, ``train_log.csv``."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from ..errors import ThermogenError
from ..fileio import atomic_write
from .config import LossFn, TrainConfig
from .distributed import DistributedContext, _all_reduce_sum
from .state import _VALIDATION_STREAM, _derive_seed, _Progress, _seed_global_rng

__all__ = ["LOG_COLUMNS"]

LOG_COLUMNS = ("step", "train_loss", "validation_loss", "learning_rate", "elapsed_s")
"""Columns of ``train_log.csv`` and keys of each :attr:`TrainResult.history` row. ``train_loss``
is the mean over the steps since the previous row and over all ranks; ``elapsed_s`` is training
wall time in seconds, summed over resumed runs."""


@torch.no_grad()
def _validation_loss(
    ema: nn.Module,
    loss_fn: LossFn,
    rows: torch.Tensor,
    config: TrainConfig,
    ctx: DistributedContext,
) -> float:
    """Mean loss of the EMA module over all validation rows.

    Chunk ``i`` of ``batch_size`` rows is evaluated by rank ``i % world_size`` with a generator,
    and torch's global RNG, seeded from (seed, i); the sums are reduced over ranks. The global RNG
    state is restored afterwards, so validation never changes the training path.
    """
    totals = torch.zeros(2, dtype=torch.float64, device=rows.device)
    n_chunks = math.ceil(rows.shape[0] / config.batch_size)
    devices = [rows.device.index] if rows.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        for chunk in range(ctx.rank, n_chunks, ctx.world_size):
            part = rows[chunk * config.batch_size : (chunk + 1) * config.batch_size]
            seed = _derive_seed(config.seed, _VALIDATION_STREAM, chunk)
            generator = torch.Generator(device=rows.device).manual_seed(seed)
            _seed_global_rng(seed, rows.device)
            totals[0] += loss_fn(ema, part, generator).double() * part.shape[0]
            totals[1] += part.shape[0]
    totals = _all_reduce_sum(totals, ctx)
    return (totals[0] / totals[1]).item()


def _log_row(
    state: _Progress,
    lr: float,
    elapsed_s: float,
    ema: nn.Module,
    loss_fn: LossFn,
    validation_rows: torch.Tensor | None,
    config: TrainConfig,
    ctx: DistributedContext,
) -> dict[str, float]:
    """Close a log interval: mean train loss over it and all ranks, EMA validation loss."""
    count = torch.tensor(float(state.loss_count), dtype=torch.float64, device=ctx.device)
    totals = _all_reduce_sum(torch.stack([state.loss_sum, count]), ctx)
    validation = (
        math.nan
        if validation_rows is None
        else _validation_loss(ema, loss_fn, validation_rows, config, ctx)
    )
    row = {
        "step": state.step,
        "train_loss": (totals[0] / totals[1]).item(),
        "validation_loss": validation,
        "learning_rate": lr,
        "elapsed_s": elapsed_s,
    }
    state.history.append(row)
    state.loss_sum.zero_()
    state.loss_count = 0
    return row


def _check_finite(row: dict[str, float]) -> None:
    """Stop a run whose training loss has become NaN or infinite."""
    if not math.isfinite(row["train_loss"]):
        raise ThermogenError(
            f"training diverged: train loss {row['train_loss']} at step {row['step']}; "
            "lower learning_rate or grad_clip"
        )


def _show(bar: tqdm, train_loss: float, validation_loss: float, lr: float) -> None:
    """Put the running train loss, last validation loss and learning rate on the progress bar."""
    bar.set_postfix(
        loss=f"{train_loss:.4g}", val=f"{validation_loss:.4g}", lr=f"{lr:.2e}", refresh=False
    )


def _write_log(path: Path, rows: list[dict[str, float]]) -> None:
    """Write the whole training log (header and ``rows``) atomically."""
    with atomic_write(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _append_log(path: Path, row: dict[str, float]) -> None:
    """Add one row to the training log (a torn last row of a killed run is dropped on resume)."""
    with open(path, "a", newline="") as handle:
        csv.DictWriter(handle, fieldnames=LOG_COLUMNS).writerow(row)
