"""Checkpoints: everything needed to continue a run exactly, written atomically and read with
``torch.load(weights_only=True)``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import __version__
from ..errors import InputError
from ..fileio import atomic_write
from .config import RESUME_FIXED_FIELDS, TrainConfig
from .distributed import DistributedContext, _gather
from .state import _Progress, _rank_state

__all__ = ["CHECKPOINT_FORMAT_VERSION", "checkpoint_path"]

CHECKPOINT_FORMAT_VERSION = 1
"""Version of the checkpoint layout; a checkpoint with another version is refused on resume."""


def checkpoint_path(run_dir: str | Path) -> Path:
    """Where :func:`train` keeps the checkpoint of ``run_dir``: ``run_dir/checkpoints/last.pt``."""
    return Path(run_dir) / "checkpoints" / "last.pt"


def _save_checkpoint(
    path: Path,
    config: TrainConfig,
    ctx: DistributedContext,
    state: _Progress,
    module: nn.Module,
    ema: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    elapsed_s: float,
) -> None:
    """Write everything needed to continue exactly (rank 0 writes, atomically; all ranks call)."""
    ranks = _gather(_rank_state(state, generator, ctx.device), ctx)
    if not ctx.is_main:
        return
    payload = {
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "thermogen_version": __version__,
        "config": asdict(config),
        "world_size": ctx.world_size,
        "device_type": ctx.device.type,
        "step": state.step,
        "module": module.state_dict(),
        "ema": ema.state_dict(),
        "optimizer": optimizer.state_dict(),
        "ranks": ranks,
        "history": state.history,
        "elapsed_s": elapsed_s,
    }
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)


def _read_checkpoint(path: Path, config: TrainConfig, ctx: DistributedContext) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only``) and check it belongs to this run."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for damaged or foreign files
        problem = (
            "cannot be read as a thermogen.train checkpoint: damaged, truncated, or holding objects "
            f"other than tensors and plain data ({type(error).__name__})"
        )
        raise InputError(path, None, problem) from None
    if not isinstance(checkpoint, dict) or "format_version" not in checkpoint:
        raise InputError(path, None, "is not a thermogen training checkpoint")
    if checkpoint["format_version"] != CHECKPOINT_FORMAT_VERSION:
        raise InputError(
            path,
            "format_version",
            f"is {checkpoint['format_version']!r}, this thermogen reads {CHECKPOINT_FORMAT_VERSION}; "
            "train anew or use the thermogen version that wrote it",
        )
    with _blame(path, "config"):
        saved = {"world_size": checkpoint["world_size"], "device_type": checkpoint["device_type"]}
        saved |= {f"config.{name}": checkpoint["config"][name] for name in RESUME_FIXED_FIELDS}
    now = {"world_size": ctx.world_size, "device_type": ctx.device.type}
    now |= {f"config.{name}": getattr(config, name) for name in RESUME_FIXED_FIELDS}
    for field, value in now.items():
        if saved[field] != value:
            raise InputError(
                path,
                field,
                f"is {saved[field]!r} in the checkpoint but {value!r} now; resume with the same settings",
            )
    return checkpoint


def _restore(
    path: Path,
    config: TrainConfig,
    ctx: DistributedContext,
    module: nn.Module,
    ema: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
) -> _Progress:
    """Load the checkpoint into the module, EMA, optimizer and random states; return the progress."""
    checkpoint = _read_checkpoint(path, config, ctx)
    with _blame(path, "module"):
        module.load_state_dict(checkpoint["module"])
    with _blame(path, "ema"):
        ema.load_state_dict(checkpoint["ema"])
    with _blame(path, "optimizer"):
        optimizer.load_state_dict(checkpoint["optimizer"])
    with _blame(path, "ranks"):
        mine = checkpoint["ranks"][ctx.rank]
        generator.set_state(mine["generator"])
        torch.set_rng_state(mine["torch"])
        if ctx.device.type == "cuda":
            torch.cuda.set_rng_state(mine["cuda"], ctx.device)
        loss_sum = mine["loss_sum"].to(device=ctx.device, dtype=torch.float64)
    with _blame(path, "history"):
        return _Progress(
            step=int(checkpoint["step"]),
            loss_sum=loss_sum,
            loss_count=int(mine["loss_count"]),
            history=[dict(row) for row in checkpoint["history"]],
            elapsed_before_s=float(checkpoint["elapsed_s"]),
        )


@contextmanager
def _blame(path: Path, field: str) -> Iterator[None]:
    """Turn an error while using checkpoint field ``field`` into a one-line :class:`InputError`."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise InputError(path, field, f"does not fit this run ({_one_line(error)})") from None


def _one_line(error: BaseException, limit: int = 240) -> str:
    """The error's type and message on one line, cut to about ``limit`` characters."""
    message = " ".join(str(error).split())
    if len(message) > limit:
        message = message[:limit] + " …"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
