"""The training loop itself: :func:`train`."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from ..errors import UsageError
from ..threads import torch_threads
from .checkpoint import _restore, _save_checkpoint, checkpoint_path
from .config import LossFn, TrainConfig, learning_rate_at
from .distributed import DistributedContext, _out_of_time, _wrap, distributed_context
from .logbook import _append_log, _check_finite, _log_row, _show, _write_log
from .state import _Progress, _start

__all__ = ["TrainResult", "train"]

_BAR_REFRESH_STEPS = 50


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


@dataclass
class _Run:
    """Everything one training call works on: the module (raw and, under DDP, wrapped), its EMA,
    the optimizer, the batch generator, the data rows, the progress and the log file."""

    module: nn.Module
    model: nn.Module
    ema: nn.Module
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    rows: torch.Tensor
    validation_rows: torch.Tensor | None
    state: _Progress
    log_path: Path | None


def _prepare(
    module: nn.Module,
    train_data: torch.Tensor,
    validation_data: torch.Tensor | None,
    config: TrainConfig,
    run_dir: Path | None,
    resume: bool,
    ctx: DistributedContext,
) -> _Run:
    """Move everything to the device, start or restore the state, and set up the log file."""
    module = module.to(ctx.device).train()
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
    validation_rows = None if validation_data is None else validation_data.to(ctx.device)
    rows = train_data.to(ctx.device)
    return _Run(module, model, ema, optimizer, generator, rows, validation_rows, state, log_path)


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
    run = _prepare(module, train_data, validation_data, config, run_dir, resume, ctx)
    bar = tqdm(
        total=config.steps,
        initial=run.state.step,
        desc="train",
        unit="step",
        disable=not (progress and ctx.is_main),
        mininterval=0.5,
    )
    with bar:
        while run.state.step < config.steps:
            stop = _step(run, loss_fn, config, run_dir, ctx, started, bar)
            bar.update()
            if stop:
                break
    return TrainResult(
        ema_module=run.ema,
        module=run.module,
        history=run.state.history,
        steps_done=run.state.step,
        wall_time_s=time.perf_counter() - started,
        device=ctx.device,
        is_main_process=ctx.is_main,
    )


def _step(
    run: _Run,
    loss_fn: LossFn,
    config: TrainConfig,
    run_dir: Path | None,
    ctx: DistributedContext,
    started: float,
    bar: tqdm,
) -> bool:
    """One optimizer step, then the log row and checkpoint when due; True when out of time."""
    state = run.state
    step = state.step + 1
    lr = learning_rate_at(step, config)
    loss = _optimizer_step(run.model, loss_fn, run.rows, run.generator, run.optimizer, lr, config)
    _update_ema(run.ema, run.module, min(config.ema_decay, (1 + step) / (10 + step)))
    state.step, state.loss_count = step, state.loss_count + 1
    state.loss_sum += loss
    stop = config.time_budget_s is not None and _out_of_time(started, config.time_budget_s, ctx)
    final = stop or step == config.steps
    elapsed = state.elapsed_before_s + time.perf_counter() - started
    if final or step % config.validation_interval == 0:
        row = _log_row(state, lr, elapsed, run.ema, loss_fn, run.validation_rows, config, ctx)
        if run.log_path is not None and ctx.is_main:
            _append_log(run.log_path, row)
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
            run.module,
            run.ema,
            run.optimizer,
            run.generator,
            elapsed,
        )
    return stop


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
