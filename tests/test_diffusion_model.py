"""The diffusion model end to end on small problems with known answers, through the API and the CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from thermogen.data import MultiTempDataset, load_dataset, save_dataset
from thermogen.errors import InputError
from thermogen.models import DiffusionConfig, DiffusionModel
from thermogen.train import TrainConfig

TINY = DiffusionConfig(
    width=48,
    blocks=2,
    time_features=16,
    train=TrainConfig(
        steps=600,
        batch_size=256,
        learning_rate=3e-3,
        warmup_steps=50,
        validation_interval=200,
        checkpoint_interval=200,
        ema_decay=0.99,
    ),
)


def harmonic_dataset(n_per_temperature: int = 3000, seed: int = 0) -> MultiTempDataset:
    """U = |x|^2 / 2 in 2D: at temperature T the exact distribution is N(0, T I)."""
    rng = np.random.default_rng(seed)
    temps = np.repeat([1.0, 2.0, 4.0], n_per_temperature)
    x = rng.normal(0.0, np.sqrt(temps)[:, None], size=(temps.size, 2))
    return MultiTempDataset(
        x,
        temps,
        energy=0.5 * (x**2).sum(1),
        temperature_unit="reduced",
        energy_unit="reduced",
        source="harmonic",
    )


@pytest.fixture(scope="module")
def fitted() -> dict[str, DiffusionModel]:
    data = harmonic_dataset()
    return {
        mode: DiffusionModel.fit(data, replace(TINY, temperature_mode=mode), progress=False)
        for mode in ("conditional", "scaled-prior")
    }


@pytest.mark.parametrize("mode", ["conditional", "scaled-prior"])
def test_generated_variance_follows_temperature_between_training_temperatures(fitted, mode):
    generated = fitted[mode].sample([1.5, 3.0], 4000, seed=1)
    for t in (1.5, 3.0):
        x = generated.features[generated.temperature == t]
        np.testing.assert_allclose(x.mean(0), 0.0, atol=0.12 * np.sqrt(t))
        np.testing.assert_allclose(x.var(0), t, rtol=0.2)


def test_sampling_is_repeatable_and_survives_save_and_load(fitted, tmp_path):
    model = fitted["conditional"]
    model.save(tmp_path)
    loaded = DiffusionModel.load(tmp_path)
    first = model.sample(2.0, 50, sampler="ddim", steps=10, seed=4).features
    np.testing.assert_array_equal(
        first, loaded.sample(2.0, 50, sampler="ddim", steps=10, seed=4).features
    )
    assert not np.array_equal(
        first, model.sample(2.0, 50, sampler="ddim", steps=10, seed=5).features
    )


def test_a_run_on_angle_features_survives_save_and_load(tmp_path):
    """Angles are standardized as (cos, sin) pairs, so the stored scaler is wider than the
    feature list; loading must accept it (a length check once refused every angle run)."""
    rng = np.random.default_rng(3)
    temps = np.repeat([1.0, 2.0], 200)
    data = MultiTempDataset(
        np.column_stack([rng.uniform(-np.pi, np.pi, temps.size), rng.normal(size=temps.size)]),
        temps,
        periodic=np.array([True, False]),
        temperature_unit="reduced",
        energy_unit="reduced",
    )
    model = DiffusionModel.fit(
        data, replace(TINY, train=replace(TINY.train, steps=5)), progress=False
    )
    model.save(tmp_path)
    loaded = DiffusionModel.load(tmp_path)
    np.testing.assert_array_equal(
        model.sample(1.5, 20, seed=1).features, loaded.sample(1.5, 20, seed=1).features
    )


def test_exact_sampler_density_gives_boltzmann_weights_with_high_ess(fitted):
    """Importance weights exp(-U/T)/q of the model's own samples correct its errors: the weighted
    second moment matches the exact <x^2> = T."""
    from thermogen.analysis.reweighting import boltzmann_weights

    model = fitted["scaled-prior"]
    x, log_q = model.sample_with_log_prob(2.5, 4000, seed=2)
    weights = boltzmann_weights(log_q, 0.5 * (x**2).sum(1), 2.5)
    assert weights.effective_fraction > 0.5
    np.testing.assert_allclose(weights.average(x**2), 2.5, rtol=0.08)
    # the ODE log-density of the same points agrees with the sampler's exact density
    ode = model.log_prob(x[:200], 2.5, steps=48)
    assert np.median(np.abs(ode - log_q[:200])) < 0.1


def test_angles_are_generated_across_the_seam():
    rng = np.random.default_rng(0)
    temps = np.repeat([1.0, 2.0], 3000)
    angle = np.angle(np.exp(1j * (np.pi + rng.normal(0, 0.3 * np.sqrt(temps)))))  # centred on +-pi
    data = MultiTempDataset(
        np.column_stack([angle, rng.normal(size=temps.size)]),
        temps,
        feature_names=("phi", "x"),
        periodic=[True, False],
        temperature_unit="reduced",
        energy_unit="reduced",
    )
    model = DiffusionModel.fit(data, TINY, progress=False)
    phi = model.sample(1.5, 3000, seed=0).features[:, 0]
    assert np.all(np.abs(phi) <= np.pi)
    assert np.mean(np.abs(phi) > 2.5) > 0.85  # mass sits at the seam, split between +pi and -pi
    assert 0.3 < np.mean(phi > 0) < 0.7
    with pytest.raises(ValueError, match="angle"):
        model.log_prob(np.zeros((1, 2)), 1.5)


def test_bad_requests_are_input_errors(fitted):
    model = fitted["conditional"]
    for kwargs, field in [
        ({"temperatures": 0.0, "n": 5}, "temperatures"),
        ({"temperatures": 1.0, "n": 0}, "n"),
        ({"temperatures": 1.0, "n": 5, "sampler": "euler"}, "sampler"),
    ]:
        with pytest.raises(InputError, match=f"field '{field}'"):
            model.sample(**kwargs)


def test_single_temperature_data_is_refused():
    data = harmonic_dataset().subset(np.arange(3000))
    with pytest.raises(InputError, match="needs frames at 2 or more temperatures"):
        DiffusionModel.fit(data, TINY, progress=False)


# ---------------------------------------------------------------------------------------- CLI
def thermogen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "thermogen", *args], capture_output=True, text=True, cwd=cwd
    )


def tiny_yaml(path: Path, steps: int = 400) -> Path:
    settings = {
        "width": 48,
        "blocks": 2,
        "time_features": 16,
        "train": {
            "steps": steps,
            "batch_size": 256,
            "validation_interval": 100,
            "checkpoint_interval": 100,
        },
    }
    path.write_text(yaml.safe_dump(settings))
    return path


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    save_dataset(harmonic_dataset(1000), folder / "data.npz")
    proc = thermogen(
        "train",
        "data.npz",
        "--out",
        "run",
        "--config",
        str(tiny_yaml(folder / "tiny.yaml")),
        "--quiet",
        "--seed",
        "3",
        cwd=folder,
    )
    assert proc.returncode == 0, proc.stderr
    return folder


def test_cli_train_writes_the_run_folder_and_sample_writes_a_dataset(trained_run):
    run = trained_run / "run"
    for name in (
        "config.json",
        "standardization.json",
        "train_log.csv",
        "model.pt",
        "checkpoints/last.pt",
    ):
        assert (run / name).is_file(), name
    proc = thermogen(
        "sample",
        "run",
        "--temperatures",
        "1.5,3",
        "--n",
        "300",
        "--out",
        "gen.npz",
        "--quiet",
        cwd=trained_run,
    )
    assert proc.returncode == 0, proc.stderr
    generated = load_dataset(trained_run / "gen.npz")
    assert generated.n_frames == 600 and generated.feature_names == ("x0", "x1")
    np.testing.assert_array_equal(np.unique(generated.temperature), [1.5, 3.0])
    assert generated.temperature_unit == "reduced"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["sample", "nowhere", "--temperatures", "1", "--n", "5", "--out", "x.npz"],
            "nowhere: is not a run folder",
        ),
        (
            ["sample", "run", "--temperatures", "0,1", "--n", "5", "--out", "x.npz"],
            "must be positive",
        ),
        (["sample", "run", "--temperatures=-1", "--n", "5", "--out", "x.npz"], "must be positive"),
        (["sample", "run", "--temperatures", "1", "--n", "0", "--out", "x.npz"], "field 'n'"),
    ],
)
def test_cli_sample_rejects_bad_requests_in_one_line(trained_run, args, fragment):
    proc = thermogen(*args, cwd=trained_run)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in proc.stderr
    assert not (trained_run / "x.npz").exists()


@pytest.mark.parametrize("damage", ["garbage", "version"])
def test_cli_sample_rejects_a_damaged_or_incompatible_model(trained_run, tmp_path, damage):
    run = tmp_path / "run"
    run.mkdir()
    if damage == "garbage":
        (run / "model.pt").write_bytes(b"not a model")
        fragment = "cannot be read as a thermogen model"
    else:
        payload = torch.load(trained_run / "run" / "model.pt", weights_only=True)
        payload["format_version"] = 99
        torch.save(payload, run / "model.pt")
        fragment = "field 'format_version': is 99"
    proc = thermogen(
        "sample", str(run), "--temperatures", "1", "--n", "5", "--out", "x.npz", cwd=tmp_path
    )
    assert proc.returncode == 2
    assert (
        len(proc.stderr.strip().splitlines()) == 1
        and fragment in proc.stderr
        and "Traceback" not in proc.stderr
    )


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"trian": {"steps": 5}}, "field 'trian': unknown setting; did you mean 'train'?"),
        ({"train": {"steps": "many"}}, "field 'train.steps': must be int, got 'many'"),
        ({"temperature_mode": "hot"}, "temperature_mode must be one of"),
    ],
)
def test_cli_train_reports_config_mistakes_with_key_and_file(
    trained_run, tmp_path, settings, fragment
):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(settings))
    proc = thermogen(
        "train",
        str(trained_run / "data.npz"),
        "--out",
        str(tmp_path / "r"),
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(config) in lines[0] and fragment in lines[0], proc.stderr


def test_killed_training_resumes_from_its_last_checkpoint(trained_run, tmp_path):
    config = tiny_yaml(tmp_path / "long.yaml", steps=3000)
    args = [
        "train",
        str(trained_run / "data.npz"),
        "--out",
        "run",
        "--config",
        str(config),
        "--quiet",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "thermogen", *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoint = tmp_path / "run" / "checkpoints" / "last.pt"
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists() and not (tmp_path / "run" / "model.pt").exists()
    saved_step = torch.load(checkpoint, weights_only=True)["step"]
    assert 0 < saved_step < 3000
    resumed = thermogen(*args, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    steps = np.loadtxt(tmp_path / "run" / "train_log.csv", delimiter=",", skiprows=1, usecols=0)
    assert steps[-1] == 3000 and np.unique(steps).size == steps.size
    assert (tmp_path / "run" / "model.pt").exists()


def test_cli_resume_from_a_corrupt_checkpoint_is_a_one_line_error(trained_run, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.pt").write_bytes(b"\x00garbage")
    proc = thermogen(
        "train",
        str(trained_run / "data.npz"),
        "--out",
        str(run),
        "--config",
        str(tiny_yaml(tmp_path / "tiny.yaml")),
        "--resume",
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "last.pt" in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_resume_with_other_data_or_settings_is_refused_and_writes_nothing(trained_run, tmp_path):
    """Issue 13, case 2: --resume checks the data's fingerprint and the settings against the
    run's record before anything is written."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run / "run", run)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    save_dataset(harmonic_dataset(1000, seed=9), tmp_path / "other.npz")
    config = tiny_yaml(tmp_path / "tiny.yaml")
    wider = tmp_path / "wider.yaml"
    wider.write_text(config.read_text().replace("width: 48", "width: 64"))
    cases = [
        (tmp_path / "other.npz", config, "are not the data the run"),
        (
            trained_run / "data.npz",
            wider,
            "field 'settings.width': is '48' in the run but '64' now",
        ),
    ]
    for data, settings, fragment in cases:
        argv = ["train", str(data), "--out", str(run), "--config", str(settings), "--seed", "3"]
        proc = thermogen(*argv, "--resume", "--quiet", cwd=tmp_path)
        assert proc.returncode == 2 and fragment in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    again = thermogen(
        "train",
        str(trained_run / "data.npz"),
        "--out",
        str(run),
        "--config",
        str(config),
        "--seed",
        "3",
        "--resume",
        "--quiet",
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr  # the same data and settings: a finished run
