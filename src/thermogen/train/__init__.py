"""One training loop for every model: AdamW, warm-up + cosine learning rate, gradient clipping,
EMA weights, validation, atomic checkpoints with exact resume, and DistributedDataParallel under
``torchrun``.

A model is a plain :class:`torch.nn.Module` plus a loss function (:data:`LossFn`); the loop knows
nothing about diffusion or flows. The data are one float tensor of rows (N, F) into which the model
has packed its features and temperature.

Design
------
Batches
    Every step draws ``batch_size`` rows uniformly *with replacement* with a
    :class:`torch.Generator` seeded from (seed, rank). There is no epoch position to save, so a
    resumed run continues the very same stream; for SGD on many rows it is as good as shuffled
    epochs. The loss function gets the same generator for its own noise.
Learning rate
    Linear warm-up over ``warmup_steps``, then cosine decay to ``min_lr_factor * learning_rate`` at
    the last step: a pure function of the step (:func:`learning_rate_at`), so the step is the whole
    scheduler state. It depends on ``steps``, which therefore cannot change on resume.
EMA
    A copy of the module whose parameters follow ``ema = d * ema + (1 - d) * weights`` after each
    optimizer step, with ``d = min(ema_decay, (1 + step) / (10 + step))`` so short runs are not
    dominated by the initial weights; buffers are copied. Under DDP the weights are synchronised,
    so every rank holds the same EMA. Validation, sampling and evaluation use the EMA.
Checkpoints
    ``run_dir/checkpoints/last.pt``, replaced atomically, holds the format version, thermogen
    version, config (as a dict), world size, device type, step, module / EMA / optimizer state
    dicts, every rank's generator and torch RNG states and partial loss sum, the log rows and the
    elapsed time. These are only tensors, numbers, strings, lists and dicts, so it is read with
    ``torch.load(weights_only=True)``: loading a checkpoint cannot run code.
"""

from __future__ import annotations

from .checkpoint import CHECKPOINT_FORMAT_VERSION, checkpoint_path
from .config import RESUME_FIXED_FIELDS, LossFn, TrainConfig, learning_rate_at
from .distributed import DistributedContext, distributed_context, resolve_device
from .logbook import LOG_COLUMNS
from .loop import TrainResult, train
from .state import seeded

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "LOG_COLUMNS",
    "RESUME_FIXED_FIELDS",
    "DistributedContext",
    "LossFn",
    "TrainConfig",
    "TrainResult",
    "checkpoint_path",
    "distributed_context",
    "learning_rate_at",
    "resolve_device",
    "seeded",
    "train",
]
