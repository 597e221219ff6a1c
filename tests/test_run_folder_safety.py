"""Issue 13, run-folder integrity: one writer at a time, no retraining over a run by accident,
``--overwrite`` swaps the new run in only when it has finished, and temporary files of killed or
terminated writers do not stay."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from thermogen.data import MultiTempDataset, save_dataset

from .cli_helpers import fails, run

TINY = {"width": 16, "blocks": 1, "time_features": 8}


def config(path: Path, steps: int, checkpoint_interval: int = 50) -> Path:
    """A tiny diffusion settings file training ``steps`` steps."""
    train = {"steps": steps, "batch_size": 64, "validation_interval": 50}
    train["checkpoint_interval"] = checkpoint_interval
    path.write_text(yaml.safe_dump({**TINY, "train": train}))
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Exact frames of a 2D harmonic well at two temperatures (reduced units)."""
    rng = np.random.default_rng(0)
    temps = np.repeat([1.0, 2.0], 500)
    x = rng.normal(0.0, np.sqrt(temps)[:, None], size=(temps.size, 2))
    dataset = MultiTempDataset(x, temps, temperature_unit="reduced", energy_unit="reduced")
    return save_dataset(dataset, tmp_path_factory.mktemp("safety") / "data.npz")


def train_argv(data: Path, out: Path, settings: Path) -> list:
    return ["train", data, "--out", out, "--config", settings, "--quiet"]


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def background(argv: list, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "thermogen", *map(str, argv)],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while not path.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert path.exists(), path


def test_an_existing_run_is_refused_without_resume_or_overwrite(data, tmp_path):
    settings = config(tmp_path / "c.yaml", 20)
    assert run(train_argv(data, tmp_path / "run", settings))[0] == 0
    before = snapshot(tmp_path / "run")
    fails(
        train_argv(data, tmp_path / "run", settings), "holds a training run already", "--overwrite"
    )
    both = [*train_argv(data, tmp_path / "run", settings), "--resume", "--overwrite"]
    fails(both, "choose one")
    assert snapshot(tmp_path / "run") == before
    (tmp_path / "file").write_text("not a folder")
    fails(train_argv(data, tmp_path / "file", settings), "is a file, not a run folder")


def test_a_second_writer_is_refused_at_once_and_a_killed_holders_lock_is_taken_over(data, tmp_path):
    slow = config(tmp_path / "slow.yaml", 100_000, checkpoint_interval=20)
    first = background(train_argv(data, tmp_path / "run", slow), tmp_path)
    try:
        wait_for(tmp_path / "run" / "checkpoints" / "last.pt")
        started = time.perf_counter()
        line = fails(
            [*train_argv(data, tmp_path / "run", slow), "--resume"],
            f"another thermogen process (pid {first.pid}, since",
        )
        assert time.perf_counter() - started < 5.0, line
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    fast = config(tmp_path / "slow.yaml", 100_000, checkpoint_interval=20)
    resumed = background([*train_argv(data, tmp_path / "run", fast), "--resume"], tmp_path)
    time.sleep(3)  # it holds the lock and trains: the killed holder's lock was free to take
    assert resumed.poll() is None, resumed.stderr.read()
    resumed.send_signal(signal.SIGTERM)
    assert resumed.wait(60) == 143 and "terminated" in resumed.stderr.read()
    assert not list((tmp_path / "run").rglob(".*.tmp"))  # SIGTERM: nothing half-written stays


def test_overwrite_keeps_the_old_run_until_the_new_one_has_finished(data, tmp_path):
    old = config(tmp_path / "old.yaml", 20)
    assert run(train_argv(data, tmp_path / "run", old))[0] == 0
    before = snapshot(tmp_path / "run")
    new = config(tmp_path / "new.yaml", 100_000, checkpoint_interval=20)
    killed = background([*train_argv(data, tmp_path / "run", new), "--overwrite"], tmp_path)
    wait_for(tmp_path / ".run.new" / "checkpoints" / "last.pt")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert snapshot(tmp_path / "run") == before  # the killed replacement changed nothing
    done = config(tmp_path / "done.yaml", 30)
    assert run([*train_argv(data, tmp_path / "run", done), "--overwrite"])[0] == 0
    record = yaml.safe_load((tmp_path / "run" / "config.json").read_text())
    assert record["settings"]["train"]["steps"] == 30 and not (tmp_path / ".run.new").exists()


def test_temporary_files_of_a_killed_writer_are_swept_at_the_next_start(data, tmp_path):
    settings = config(tmp_path / "c.yaml", 40, checkpoint_interval=20)
    assert run(train_argv(data, tmp_path / "run", settings))[0] == 0
    leftovers = [
        tmp_path / "run" / ".model.pt.k2j4.tmp",
        tmp_path / "run" / "checkpoints" / ".last.pt.x9q1.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"\0" * 1000)
    assert run([*train_argv(data, tmp_path / "run", settings), "--resume"])[0] == 0
    assert not any(path.exists() for path in leftovers)
