"""The settings of the training loop and its learning-rate schedule."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..config import check_fields

__all__ = ["RESUME_FIXED_FIELDS", "LossFn", "TrainConfig", "learning_rate_at"]

RESUME_FIXED_FIELDS = (
    "steps",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "warmup_steps",
    "min_lr_factor",
    "grad_clip",
    "ema_decay",
    "seed",
)
"""Settings that shape the optimisation path; resuming with other values is refused."""


LossFn = Callable[[nn.Module, torch.Tensor, torch.Generator], torch.Tensor]
"""``loss_fn(module, rows, generator) -> loss``: the mean loss (a scalar tensor) of a batch of rows
(B, F), using ``generator`` for any randomness. During training ``module`` may be a
DistributedDataParallel wrapper: call it (``module(...)``), since only ``forward`` is synchronised
across processes. During validation it is the EMA module, called under ``torch.no_grad``."""


_CONFIG_RULES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "steps": ("≥ 1", lambda v: v >= 1),
    "batch_size": ("≥ 1", lambda v: v >= 1),
    "learning_rate": ("finite and > 0", lambda v: 0 < v < math.inf),
    "weight_decay": ("finite and ≥ 0", lambda v: 0 <= v < math.inf),
    "warmup_steps": ("≥ 0", lambda v: v >= 0),
    "min_lr_factor": ("in [0, 1]", lambda v: 0 <= v <= 1),
    "grad_clip": ("finite and ≥ 0 (0 disables clipping)", lambda v: 0 <= v < math.inf),
    "ema_decay": ("in [0, 1)", lambda v: 0 <= v < 1),
    "validation_interval": ("≥ 1", lambda v: v >= 1),
    "checkpoint_interval": ("≥ 1", lambda v: v >= 1),
    "time_budget_s": ("None or finite and > 0", lambda v: v is None or 0 < v < math.inf),
    "device": ("auto, cpu, cuda or cuda:N", lambda v: re.fullmatch(r"auto|cpu|cuda(:\d+)?", v)),
    "threads": ("≥ 1", lambda v: v >= 1),
    "seed": ("≥ 0", lambda v: v >= 0),
}


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`train`.

    Attributes
    ----------
    steps
        Optimizer steps in the whole run (resumes included).
    batch_size
        Rows per step and process; the global batch is ``batch_size * world_size``.
    learning_rate, weight_decay
        Peak learning rate and decoupled weight decay of AdamW.
    warmup_steps, min_lr_factor
        Linear warm-up length, then cosine decay to ``min_lr_factor * learning_rate``.
    grad_clip
        Largest global gradient norm; 0 disables clipping.
    ema_decay
        Decay of the exponential moving average of the weights.
    validation_interval
        Steps between log rows (train loss averaged over the interval, EMA validation loss).
    checkpoint_interval
        Steps between checkpoints (one is also written at the end).
    time_budget_s
        Wall time, in seconds, after which this call stops cleanly with a final log row and
        checkpoint; None trains all ``steps``.
    device
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    threads
        ``torch.set_num_threads`` while training on CPU.
    seed
        Seed of the batch draws and of the loss function's noise.
    """

    steps: int = 10_000
    batch_size: int = 1024
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 200
    min_lr_factor: float = 0.05
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    validation_interval: int = 500
    checkpoint_interval: int = 1000
    time_budget_s: float | None = None
    device: str = "auto"
    threads: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        check_fields(self, _CONFIG_RULES)


def learning_rate_at(step: int, config: TrainConfig) -> float:
    """Learning rate of optimizer step ``step`` (1-based): linear warm-up, then cosine decay.

    Rises linearly to ``learning_rate`` at step ``warmup_steps``, then falls along a half cosine
    to ``min_lr_factor * learning_rate`` at step ``steps``.
    """
    if step <= config.warmup_steps:
        return config.learning_rate * step / config.warmup_steps
    progress = (step - config.warmup_steps) / (config.steps - config.warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    return config.learning_rate * (config.min_lr_factor + (1.0 - config.min_lr_factor) * cosine)
