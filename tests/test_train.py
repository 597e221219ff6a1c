"""The shared training loop: it converges to a known optimum, is repeatable, resumes a killed run to
the very same weights, refuses bad checkpoints in one line, agrees under DDP, keeps a time budget."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn

from thermogen.errors import InputError, ThermogenError, UsageError
from thermogen.train import (
    LOG_COLUMNS,
    DistributedContext,
    TrainConfig,
    checkpoint_path,
    distributed_context,
    learning_rate_at,
    train,
)
from thermogen.train.logbook import _validation_loss

ROOT = Path(__file__).resolve().parents[1]
A_TRUE = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.0, 1.5]])
B_TRUE = torch.tensor([0.7, -1.0])
NOISE = 0.1

CONFIG = TrainConfig(
    steps=320,
    batch_size=64,
    learning_rate=0.05,
    warmup_steps=20,
    ema_decay=0.99,
    validation_interval=50,
    checkpoint_interval=100,
    device="cpu",
)
KILL_CONFIG = replace(CONFIG, steps=300, validation_interval=15, checkpoint_interval=40)
DDP_CONFIG = replace(CONFIG, steps=200, batch_size=32, validation_interval=40)


def regression_problem() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rows [x (3), y (2)] with y = A x + b + noise: train rows (1536, 5), validation rows
    (512, 5), and the least-squares optimum on the train rows, [A | b] (2, 4)."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(2048, 3, generator=generator)
    y = x @ A_TRUE.T + B_TRUE + NOISE * torch.randn(2048, 2, generator=generator)
    rows = torch.cat([x, y], dim=1)
    design = torch.cat([x[:1536], torch.ones(1536, 1)], dim=1)
    optimum = torch.linalg.lstsq(design, y[:1536]).solution.T
    return rows[:1536], rows[1536:], optimum


def regression_loss(
    module: nn.Module, rows: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """Mean squared error with random row weights of mean 1 (so the optimum is least squares),
    drawn from the loop's generator and from torch's global RNG: resume must restore both."""
    weights = torch.rand(rows.shape[0], generator=generator) + torch.rand(rows.shape[0])
    return (weights[:, None] * (module(rows[:, :3]) - rows[:, 3:]) ** 2).mean()


def make_module(seed: int = 0) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(3, 2)


def fit(
    config: TrainConfig = CONFIG, run_dir: Path | None = None, resume: bool = False, seed: int = 0
):
    train_rows, validation_rows, _ = regression_problem()
    return train(
        make_module(seed),
        regression_loss,
        train_rows,
        validation_rows,
        config,
        run_dir,
        resume,
        progress=False,
    )


def read_log(run_dir: Path) -> list[dict[str, float]]:
    with open(run_dir / "train_log.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == LOG_COLUMNS
        return [{key: float(value) for key, value in row.items()} for row in reader]


def weights(module: nn.Module) -> torch.Tensor:
    """[weight | bias] (2, 4) of a Linear(3, 2)."""
    return torch.cat([module.weight, module.bias[:, None]], dim=1).detach()


@torch.no_grad()
def mse(module: nn.Module) -> float:
    """Plain mean squared error on the validation rows (no random weights)."""
    _, rows, _ = regression_problem()
    return torch.mean((module(rows[:, :3]) - rows[:, 3:]) ** 2).item()


def assert_same_state(first: nn.Module, second: nn.Module) -> None:
    a, b = first.state_dict(), second.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[key], b[key]) for key in a)


def without_time(rows: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in rows]


def test_fits_a_linear_map_to_the_least_squares_optimum(tmp_path):
    _, _, optimum = regression_problem()
    result = fit(run_dir=tmp_path)

    assert not result.ema_module.training
    assert result.steps_done == CONFIG.steps
    assert torch.allclose(weights(result.ema_module), optimum, atol=0.02)
    first, last = result.history[0], result.history[-1]
    assert first["train_loss"] > 20 * last["train_loss"]
    assert last["validation_loss"] == pytest.approx(NOISE**2, rel=0.25)  # the noise floor
    assert last["learning_rate"] == pytest.approx(CONFIG.min_lr_factor * CONFIG.learning_rate)

    log = read_log(tmp_path)
    assert [row["step"] for row in log] == [50, 100, 150, 200, 250, 300, 320]
    assert log == result.history  # full precision in the CSV
    checkpoint = torch.load(checkpoint_path(tmp_path), weights_only=True)
    assert checkpoint["step"] == CONFIG.steps
    assert torch.equal(checkpoint["ema"]["weight"], result.ema_module.weight)


def test_learning_rate_warms_up_linearly_then_decays_to_the_floor():
    lr = [learning_rate_at(step, CONFIG) for step in range(1, CONFIG.steps + 1)]
    warm = CONFIG.warmup_steps
    assert lr[0] == pytest.approx(CONFIG.learning_rate / warm)
    assert lr[warm - 1] == pytest.approx(CONFIG.learning_rate)
    assert all(a > b for a, b in zip(lr[warm - 1 : -1], lr[warm:], strict=True))
    assert lr[-1] == pytest.approx(CONFIG.min_lr_factor * CONFIG.learning_rate)


def test_same_seed_gives_identical_weights_and_another_seed_does_not():
    first, second = fit(), fit()
    assert_same_state(first.module, second.module)
    assert_same_state(first.ema_module, second.ema_module)
    assert first.history[-1]["validation_loss"] == second.history[-1]["validation_loss"]
    other = fit(replace(CONFIG, seed=1))
    assert not torch.equal(weights(first.module), weights(other.module))


KILLED_RUN = """\
import sys, time
sys.path.insert(0, {root!r})
from tests.test_train import KILL_CONFIG, make_module, regression_loss, regression_problem
from thermogen.train import train

def slow_loss(module, rows, generator):  # same numbers, slow enough to be killed mid-run
    time.sleep(0.005)
    return regression_loss(module, rows, generator)

train_rows, validation_rows, _ = regression_problem()
train(make_module(), slow_loss, train_rows, validation_rows, KILL_CONFIG, {run_dir!r}, progress=False)
"""


def test_killed_run_resumes_to_the_same_weights_and_log(tmp_path):
    run_dir = tmp_path / "killed"
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN.format(root=str(ROOT), run_dir=str(run_dir)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, str(script)], env=env, stderr=subprocess.PIPE)
    try:
        _wait_for_log_past_checkpoint(run_dir, process)
    finally:
        process.kill()  # SIGKILL: no clean-up runs
        process.communicate()
    killed_at = torch.load(checkpoint_path(run_dir), weights_only=True)["step"]
    assert 0 < killed_at < KILL_CONFIG.steps

    resumed = fit(KILL_CONFIG, run_dir, resume=True)
    reference = fit(KILL_CONFIG, tmp_path / "reference")

    assert resumed.steps_done == KILL_CONFIG.steps
    assert_same_state(resumed.module, reference.module)
    assert_same_state(resumed.ema_module, reference.ema_module)
    log = read_log(run_dir)
    steps = [row["step"] for row in log]
    assert steps == sorted(set(steps))  # nothing duplicated by the re-run steps
    assert without_time(log) == without_time(read_log(tmp_path / "reference"))
    assert without_time(resumed.history) == without_time(reference.history)


def _wait_for_log_past_checkpoint(run_dir: Path, process: subprocess.Popen) -> None:
    """Return once a checkpoint exists and the log has a row after it (steps a resume redoes)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1].decode()
        if checkpoint_path(run_dir).exists():
            step = (run_dir / "train_log.csv").read_text().splitlines()[-1].split(",")[0]
            if step.isdigit() and int(step) % KILL_CONFIG.checkpoint_interval != 0:
                return
        time.sleep(0.005)
    raise AssertionError("the run to kill wrote no checkpoint within 60 s")


class _NotData:
    """Something a weights-only load must refuse to unpickle."""


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("finished")
    fit(replace(CONFIG, steps=20), run_dir)
    return run_dir


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a checkpoint\n" * 10)


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1000])


def _code_object(path: Path) -> None:
    torch.save({"format_version": 1, "payload": _NotData()}, path)


def _version(path: Path) -> None:
    checkpoint = torch.load(path, weights_only=True)
    torch.save({**checkpoint, "format_version": 99}, path)


@pytest.mark.parametrize(
    ("damage", "config", "module", "field"),
    [
        (_garbage, CONFIG, nn.Linear(3, 2), None),
        (_truncated, CONFIG, nn.Linear(3, 2), None),
        (_code_object, CONFIG, nn.Linear(3, 2), None),
        (_version, CONFIG, nn.Linear(3, 2), "format_version"),
        (None, replace(CONFIG, steps=21), nn.Linear(3, 2), "config.steps"),
        (None, replace(CONFIG, steps=20, batch_size=8), nn.Linear(3, 2), "config.batch_size"),
        (None, replace(CONFIG, steps=20), nn.Linear(3, 3), "module"),
    ],
    ids=["garbage", "truncated", "code-object", "format-version", "steps", "batch-size", "model"],
)
def test_unusable_checkpoint_is_a_one_line_input_error(
    finished_run, tmp_path, damage, config, module, field
):
    run_dir = tmp_path / "run"
    checkpoint = checkpoint_path(run_dir)
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(checkpoint_path(finished_run).read_bytes())
    if damage is not None:
        damage(checkpoint)
    rows = torch.zeros(4, 5)
    with pytest.raises(InputError) as caught:
        train(module, regression_loss, rows, None, config, run_dir, resume=True, progress=False)
    assert caught.value.source == str(checkpoint)
    assert caught.value.field == field
    assert "\n" not in str(caught.value) and str(checkpoint) in str(caught.value)


def test_resume_without_a_checkpoint_is_a_one_line_error(tmp_path):
    with pytest.raises(ThermogenError) as caught:
        fit(run_dir=tmp_path, resume=True)
    message = str(caught.value)
    assert "\n" not in message and str(checkpoint_path(tmp_path)) in message


def test_time_budget_stops_early_with_a_checkpoint_and_resumes(tmp_path):
    config = replace(CONFIG, steps=1_000_000, time_budget_s=0.3, checkpoint_interval=10**6)
    result = fit(config, tmp_path)
    assert 0 < result.steps_done < config.steps
    assert torch.load(checkpoint_path(tmp_path), weights_only=True)["step"] == result.steps_done
    assert read_log(tmp_path)[-1]["step"] == result.history[-1]["step"] == result.steps_done

    again = fit(config, tmp_path, resume=True)
    assert again.steps_done > result.steps_done
    assert again.history[: len(result.history)] == result.history


def test_bad_settings_and_data_are_refused():
    with pytest.raises(UsageError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(UsageError, match="train_data"):
        train(make_module(), regression_loss, torch.zeros(5), None, CONFIG, progress=False)


def test_loss_that_is_not_a_scalar_or_diverges_is_refused_in_one_line():
    rows, _, _ = regression_problem()

    def per_row(module, batch, generator):
        return ((module(batch[:, :3]) - batch[:, 3:]) ** 2).mean(dim=1)

    def diverging(module, batch, generator):
        return regression_loss(module, batch, generator) * math.inf

    with pytest.raises(UsageError, match="scalar"):
        train(make_module(), per_row, rows, None, CONFIG, progress=False)
    with pytest.raises(ThermogenError, match="diverged") as caught:
        train(make_module(), diverging, rows, None, CONFIG, progress=False)
    assert "\n" not in str(caught.value)


def test_single_process_creates_no_process_group():
    with distributed_context("cpu") as ctx:
        assert (ctx.rank, ctx.world_size, ctx.is_main) == (0, 1, True)
        assert not dist.is_initialized()


DDP_RUN = """\
import os, sys, torch
import torch.distributed as dist
sys.path.insert(0, {root!r})
from tests.test_train import DDP_CONFIG, make_module, regression_loss, regression_problem
from thermogen.train import train

rank = int(os.environ["RANK"])
train_rows, validation_rows, _ = regression_problem()
module = make_module(seed=rank)  # different starts: DDP must broadcast rank 0's weights
result = train(module, regression_loss, train_rows, validation_rows, DDP_CONFIG, {run_dir!r}, progress=False)
torch.save({{"module": result.module.state_dict(), "ema": result.ema_module.state_dict(),
            "history": result.history, "main": result.is_main_process,
            "group_left": dist.is_initialized()}}, {out!r} + f"/rank{{rank}}.pt")
"""


def test_ddp_ranks_agree_and_match_a_single_process_run_with_the_global_batch(tmp_path):
    run_dir = tmp_path / "ddp"
    script = tmp_path / "ddp_run.py"
    script.write_text(DDP_RUN.format(root=str(ROOT), run_dir=str(run_dir), out=str(tmp_path)))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*command, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]

    assert [r["main"] for r in ranks] == [True, False]
    assert not any(r["group_left"] for r in ranks)
    for key in ("module", "ema"):
        assert all(torch.equal(ranks[0][key][p], ranks[1][key][p]) for p in ranks[0][key])
    assert without_time(ranks[0]["history"]) == without_time(ranks[1]["history"])
    checkpoint = torch.load(checkpoint_path(run_dir), weights_only=True)
    states = [rank["generator"] for rank in checkpoint["ranks"]]
    assert checkpoint["world_size"] == 2 and not torch.equal(*states)  # own batches per rank
    assert read_log(run_dir) == ranks[0]["history"]

    ddp_ema = nn.Linear(3, 2)
    ddp_ema.load_state_dict(ranks[0]["ema"])
    _, validation_rows, _ = regression_problem()
    alone = DistributedContext(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))
    one_process = _validation_loss(ddp_ema, regression_loss, validation_rows, DDP_CONFIG, alone)
    assert math.isclose(ranks[0]["history"][-1]["validation_loss"], one_process, rel_tol=1e-9)

    single = fit(replace(DDP_CONFIG, batch_size=2 * DDP_CONFIG.batch_size))
    assert math.isclose(mse(ddp_ema), mse(single.ema_module), rel_tol=0.01)
    train_losses = [run[-1]["train_loss"] for run in (ranks[0]["history"], single.history)]
    assert math.isclose(*train_losses, rel_tol=0.15)
    assert torch.allclose(weights(ddp_ema), weights(single.ema_module), atol=0.02)
