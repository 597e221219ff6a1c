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

import copy
import csv
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from . import __version__
from .errors import InputError, ThermogenError, UsageError
from .fileio import atomic_write
from .threads import torch_threads

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

CHECKPOINT_FORMAT_VERSION = 1
"""Version of the checkpoint layout; a checkpoint with another version is refused on resume."""
LOG_COLUMNS = ("step", "train_loss", "validation_loss", "learning_rate", "elapsed_s")
"""Columns of ``train_log.csv`` and keys of each :attr:`TrainResult.history` row. ``train_loss``
is the mean over the steps since the previous row and over all ranks; ``elapsed_s`` is training
wall time in seconds, summed over resumed runs."""
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

_TRAIN_STREAM, _VALIDATION_STREAM, _TORCH_STREAM = 0, 1, 2
_BAR_REFRESH_STEPS = 50
_CONFIG_RULES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "steps": ("≥ 1", lambda v: v >= 1),
    "batch_size": ("≥ 1", lambda v: v >= 1),
    "learning_rate": ("> 0", lambda v: v > 0),
    "weight_decay": ("≥ 0", lambda v: v >= 0),
    "warmup_steps": ("≥ 0", lambda v: v >= 0),
    "min_lr_factor": ("in [0, 1]", lambda v: 0 <= v <= 1),
    "grad_clip": ("≥ 0 (0 disables clipping)", lambda v: v >= 0),
    "ema_decay": ("in [0, 1)", lambda v: 0 <= v < 1),
    "validation_interval": ("≥ 1", lambda v: v >= 1),
    "checkpoint_interval": ("≥ 1", lambda v: v >= 1),
    "time_budget_s": ("None or > 0", lambda v: v is None or v > 0),
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
        for name, (requirement, valid) in _CONFIG_RULES.items():
            value = getattr(self, name)
            if not valid(value):
                raise UsageError(f"TrainConfig.{name} must be {requirement}, got {value!r}")


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    ema_module
        The module with the EMA weights, in eval mode: use it for sampling and evaluation.
    module
        The module with the raw (last optimizer step) weights, never the DDP wrapper.
    history
        Log rows (dicts with :data:`LOG_COLUMNS`), those of resumed-from runs included;
        ``validation_loss`` is NaN without validation data.
    steps_done
        Optimizer steps completed in the whole run; less than ``config.steps`` after a time-budget
        stop.
    wall_time_s
        Wall time of this call, in seconds.
    device
        Where training ran.
    is_main_process
        True on rank 0 (and in a single-process run): the process that writes files.
    """

    ema_module: nn.Module
    module: nn.Module
    history: list[dict[str, float]]
    steps_done: int
    wall_time_s: float
    device: torch.device
    is_main_process: bool


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


def checkpoint_path(run_dir: str | Path) -> Path:
    """Where :func:`train` keeps the checkpoint of ``run_dir``: ``run_dir/checkpoints/last.pt``."""
    return Path(run_dir) / "checkpoints" / "last.pt"


def train(
    module: nn.Module,
    loss_fn: LossFn,
    train_data: torch.Tensor,
    validation_data: torch.Tensor | None,
    config: TrainConfig,
    run_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train ``module`` by minimising ``loss_fn`` on random batches of ``train_data``.

    Under ``torchrun`` every process runs this with the same arguments: the module is wrapped in
    DistributedDataParallel, each rank draws its own batches (seeded from seed and rank), and only
    rank 0 writes files and shows progress.

    Parameters
    ----------
    module
        The model; moved to the training device and trained in place (its weights are the raw ones
        at the end). Its initial weights are the caller's (rank 0's under DDP).
    loss_fn
        ``loss_fn(module, rows, generator)`` -> mean loss of the rows; see :data:`LossFn`.
    train_data
        Training rows (N, F), floating point.
    validation_data
        Validation rows (M, F), or None. Their loss under the EMA weights is evaluated every
        ``validation_interval`` steps in chunks of ``batch_size`` rows, each chunk with its own
        fixed generator, so values are comparable across evaluations and world sizes.
    config
        The settings.
    run_dir
        Folder for ``train_log.csv`` and ``checkpoints/last.pt`` (created if missing); None writes
        nothing. A new (not resumed) run replaces the log and checkpoint found there.
    resume
        Continue from ``run_dir``'s checkpoint: the run then ends with exactly the weights an
        uninterrupted run would have. ``config`` must agree on :data:`RESUME_FIXED_FIELDS`, and the
        world size and device type must be those of the interrupted run.
    progress
        Show a progress bar (rank 0 only) with the step, running train loss, validation loss and
        learning rate.

    Returns
    -------
    TrainResult

    Raises
    ------
    UsageError
        Bad data shapes, ``resume`` without a checkpoint, or a loss that is not a scalar.
    InputError
        The checkpoint cannot be read or does not fit this run (naming the file and the field).
    ThermogenError
        The training loss became NaN or infinite.
    """
    _check_rows(train_data, "train_data")
    if validation_data is not None:
        _check_rows(validation_data, "validation_data")
    run_dir = None if run_dir is None else Path(run_dir)
    if resume and (run_dir is None or not checkpoint_path(run_dir).is_file()):
        where = (
            "no run_dir was given"
            if run_dir is None
            else f"{checkpoint_path(run_dir)} does not exist"
        )
        raise UsageError(f"resume=True but there is no checkpoint to resume from: {where}")
    with distributed_context(config.device) as ctx, _own_rng_and_threads(config, ctx.device):
        return _train(
            module, loss_fn, train_data, validation_data, config, run_dir, resume, progress, ctx
        )


def _train(
    module: nn.Module,
    loss_fn: LossFn,
    train_data: torch.Tensor,
    validation_data: torch.Tensor | None,
    config: TrainConfig,
    run_dir: Path | None,
    resume: bool,
    progress: bool,
    ctx: DistributedContext,
) -> TrainResult:
    """The body of :func:`train`, inside the distributed context."""
    started = time.perf_counter()
    module = module.to(ctx.device).train()
    rows = train_data.to(ctx.device)
    validation_rows = None if validation_data is None else validation_data.to(ctx.device)
    optimizer = torch.optim.AdamW(
        module.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    generator = torch.Generator(device=ctx.device)
    ema = copy.deepcopy(module).requires_grad_(False)
    if resume:
        state = _restore(checkpoint_path(run_dir), config, ctx, module, ema, optimizer, generator)
    else:
        state = _start(config, ctx, generator)
    model = _wrap(module, ctx)
    if not resume:
        ema.load_state_dict(module.state_dict())  # after DDP's broadcast: the same on every rank
    ema.eval()
    log_path = None if run_dir is None else run_dir / "train_log.csv"
    if log_path is not None and ctx.is_main:
        checkpoint_path(run_dir).parent.mkdir(parents=True, exist_ok=True)
        if not resume:  # a new run: log and checkpoint must never come from different runs
            checkpoint_path(run_dir).unlink(missing_ok=True)
        _write_log(log_path, state.history)

    bar = tqdm(
        total=config.steps,
        initial=state.step,
        desc="train",
        unit="step",
        disable=not (progress and ctx.is_main),
        mininterval=0.5,
    )
    with bar:
        while state.step < config.steps:
            step = state.step + 1
            lr = learning_rate_at(step, config)
            loss = _optimizer_step(model, loss_fn, rows, generator, optimizer, lr, config)
            _update_ema(ema, module, min(config.ema_decay, (1 + step) / (10 + step)))
            state.step, state.loss_count = step, state.loss_count + 1
            state.loss_sum += loss
            stop = config.time_budget_s is not None and _out_of_time(
                started, config.time_budget_s, ctx
            )
            final = stop or step == config.steps
            elapsed = state.elapsed_before_s + time.perf_counter() - started
            if final or step % config.validation_interval == 0:
                row = _log_row(state, lr, elapsed, ema, loss_fn, validation_rows, config, ctx)
                if log_path is not None and ctx.is_main:
                    _append_log(log_path, row)
                _check_finite(row)
                _show(bar, row["train_loss"], row["validation_loss"], lr)
            elif step % _BAR_REFRESH_STEPS == 0 and not bar.disable:
                validation = state.history[-1]["validation_loss"] if state.history else math.nan
                _show(bar, (state.loss_sum / state.loss_count).item(), validation, lr)
            if run_dir is not None and (final or step % config.checkpoint_interval == 0):
                _save_checkpoint(
                    checkpoint_path(run_dir),
                    config,
                    ctx,
                    state,
                    module,
                    ema,
                    optimizer,
                    generator,
                    elapsed,
                )
            bar.update()
            if stop:
                break
    return TrainResult(
        ema_module=ema,
        module=module,
        history=state.history,
        steps_done=state.step,
        wall_time_s=time.perf_counter() - started,
        device=ctx.device,
        is_main_process=ctx.is_main,
    )


def _check_rows(rows: torch.Tensor, name: str) -> None:
    """Refuse data that are not a non-empty floating-point table (N, F)."""
    if not isinstance(rows, torch.Tensor) or rows.ndim != 2 or rows.shape[0] == 0:
        shape = tuple(rows.shape) if isinstance(rows, torch.Tensor) else type(rows).__name__
        raise UsageError(f"{name} must be a tensor of rows (N, F) with N ≥ 1, got {shape}")
    if not rows.is_floating_point():
        raise UsageError(f"{name} must be floating point, got {rows.dtype}")


@contextmanager
def _own_rng_and_threads(config: TrainConfig, device: torch.device) -> Iterator[None]:
    """Train on a fork of torch's global RNG (the caller's stream is left as it was; a
    checkpoint keeps the loop's own RNG state) with ``config.threads`` threads on CPU."""
    devices = [device.index] if device.type == "cuda" else []
    threads = config.threads if device.type == "cpu" else torch.get_num_threads()
    with torch.random.fork_rng(devices=devices), torch_threads(threads):
        yield


def _derive_seed(*keys: int) -> int:
    """A 64-bit seed from several integers (seed, stream, rank or chunk), well mixed."""
    return int(np.random.SeedSequence(keys).generate_state(1, dtype=np.uint64)[0])


def _start(config: TrainConfig, ctx: DistributedContext, generator: torch.Generator) -> _Progress:
    """Seed the batch generator and torch's global RNG from (seed, rank) for a new run."""
    generator.manual_seed(_derive_seed(config.seed, _TRAIN_STREAM, ctx.rank))
    torch.manual_seed(_derive_seed(config.seed, _TORCH_STREAM, ctx.rank))
    zero = torch.zeros((), dtype=torch.float64, device=ctx.device)
    return _Progress(step=0, loss_sum=zero, loss_count=0, history=[], elapsed_before_s=0.0)


def _wrap(module: nn.Module, ctx: DistributedContext) -> nn.Module:
    """The module itself, or under a process group its DDP wrapper (which syncs rank 0's weights)."""
    if ctx.world_size == 1:
        return module
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def _optimizer_step(
    model: nn.Module,
    loss_fn: LossFn,
    rows: torch.Tensor,
    generator: torch.Generator,
    optimizer: torch.optim.Optimizer,
    lr: float,
    config: TrainConfig,
) -> torch.Tensor:
    """Draw a batch, back-propagate its loss, clip, step; return the loss (detached scalar)."""
    index = torch.randint(
        rows.shape[0], (config.batch_size,), generator=generator, device=rows.device
    )
    loss = loss_fn(model, rows[index], generator)
    if loss.ndim != 0:
        raise UsageError(f"loss_fn must return a scalar tensor, got shape {tuple(loss.shape)}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if config.grad_clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def _update_ema(ema: nn.Module, module: nn.Module, decay: float) -> None:
    """Move the EMA parameters a fraction ``1 - decay`` towards the module's; copy the buffers."""
    for average, current in zip(ema.parameters(), module.parameters(), strict=True):
        average.lerp_(current, 1.0 - decay)
    for average, current in zip(ema.buffers(), module.buffers(), strict=True):
        average.copy_(current)


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


def _seed_global_rng(seed: int, device: torch.device) -> None:
    """Seed torch's global RNG on the CPU and, for a CUDA ``device``, on that GPU."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        torch.cuda.manual_seed(seed)


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


def _gather(value: Any, ctx: DistributedContext) -> list[Any]:
    """``value`` from every rank, in rank order (a collective: every rank must call it)."""
    if ctx.world_size == 1:
        return [value]
    gathered: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(gathered, value)
    return gathered


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


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global RNG inside the block and restore it after: reproducible initial weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
