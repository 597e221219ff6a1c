"""``thermogen train --model spib|latf``, ``transform``, ``sample`` and ``melt`` end to end.

The CLI is driven in-process (``main(argv)``) on a small two-state data set simulated at two
temperatures, with tiny models trained once per module. User mistakes must give exit status 2
and one stderr line (an unexpected exception would fail the test with its traceback).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from thermogen.analysis.populations import PopulationCurve
from thermogen.cli import main
from thermogen.data import load_dataset, save_dataset
from thermogen.models import LaTFModel, SPIBModel, load_model
from thermogen.models.persistence import write_model_file
from thermogen.simulate import REMDConfig, run_remd
from thermogen.systems import TwoStateFolding

from .cli_helpers import fails, run

TEMPERATURES = (0.9, 1.12)  # below and above Tm ~ 1.0 (reduced units)
ROUND = {"steps": 150, "batch_size": 256, "validation_interval": 150, "checkpoint_interval": 150}
TINY = {
    # lag 10 frames = 0.5 time units; validation part (30% of 100 frames) longer than the lag
    "spib": {
        "lag": 10,
        "validation_fraction": 0.3,
        "max_rounds": 4,
        "hidden": [32, 32],
        "train": ROUND,
    },
    "transforms": 2,
    "flow_hidden": [16, 16],
    "joint": {**ROUND, "steps": 300, "validation_interval": 300, "checkpoint_interval": 300},
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """data.npz (200 Langevin trajectories of 100 frames at each temperature), latf.yaml and
    spib.yaml (tiny settings)."""
    folder = tmp_path_factory.mktemp("latf_cli")
    config = REMDConfig(
        TEMPERATURES,
        n_chains=200,
        n_steps=1000,
        equilibration_steps=0,
        stride=10,
        swap_interval=100_000,
        seed=0,
    )
    dataset = run_remd(TwoStateFolding(), config, progress=False).dataset
    save_dataset(dataset, folder / "data.npz")
    (folder / "latf.yaml").write_text(yaml.safe_dump(TINY))
    (folder / "spib.yaml").write_text(yaml.safe_dump(TINY["spib"]))
    return folder


@pytest.fixture(scope="module")
def trained(folder) -> dict[str, tuple[Path, str]]:
    """Run folders of a latf and a spib model, and what ``train`` printed for each."""
    runs = {}
    for kind in ("latf", "spib"):
        path = folder / f"{kind}.yaml"
        argv = ["train", folder / "data.npz", "--model", kind, "--out", folder / kind]
        status, out, err = run([*argv, "--config", path, "--seed", "3", "--quiet"])
        assert status == 0, err
        runs[kind] = (folder / kind, out)
    return runs


@pytest.mark.parametrize("kind", ["latf", "spib"])
def test_train_writes_the_model_and_a_run_record_and_prints_the_states(trained, kind):
    run_dir, out = trained[kind]
    model = load_model(run_dir)
    assert isinstance(model, {"latf": LaTFModel, "spib": SPIBModel}[kind])
    assert f"{model.n_states} metastable states found" in out
    record = json.loads((run_dir / "config.json").read_text())
    settings = record["settings"]
    assert record["command"] == "train" and settings["model"] == kind and record["seed"] == 3
    assert record["results"]["n_states"] == model.n_states and record["results"]["history"]
    if kind == "latf":
        assert settings["spib"]["train"]["seed"] == 3 and settings["joint"]["seed"] == 3
        assert settings["spib"]["hidden"] == [32, 32] and settings["joint"]["steps"] == 300
    else:
        assert settings["train"]["seed"] == 3 and settings["lag"] == 10
    assert "thermogen_version" in record and record["results"]["temperatures"] == [0.9, 1.12]


@pytest.mark.parametrize("kind", ["latf", "spib"])
def test_transform_writes_the_models_cv_and_states_per_frame(folder, trained, kind):
    run_dir, _ = trained[kind]
    status, out, err = run(["transform", run_dir, folder / "data.npz", "--out", folder / kind])
    assert status == 0, err
    data = load_dataset(folder / "data.npz")
    with np.load(folder / f"{kind}.npz") as written:
        cv, state, temperature = written["cv"], written["state"], written["temperature"]
    assert cv.shape == (data.n_frames, 2) and cv.dtype == np.float64
    assert state.shape == (data.n_frames,) and np.issubdtype(state.dtype, np.integer)
    np.testing.assert_array_equal(temperature, data.temperature)
    expected_cv, expected_state = load_model(run_dir).transform(data.features)
    np.testing.assert_array_equal(state, expected_state)
    np.testing.assert_array_equal(cv, expected_cv)
    assert (folder / f"{kind}.run.json").is_file() and f"to {folder / kind}.npz" in out


def test_sample_writes_latent_samples_with_state_probabilities(folder, trained):
    run_dir, _ = trained["latf"]
    out_file = folder / "generated.npz"
    argv = ["sample", run_dir, "--temperatures", "0.8,1.3", "--n", "500", "--seed", "2"]
    status, out, err = run([*argv, "--out", out_file])
    assert status == 0, err
    n_states = load_model(run_dir).n_states
    with np.load(out_file) as written:
        cv, state, prob, temperature = (
            written[k] for k in ("cv", "state", "state_prob", "temperature")
        )
    assert cv.shape == (1000, 2) and prob.shape == (1000, n_states) and state.shape == (1000,)
    assert np.isfinite(cv).all()
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(state, prob.argmax(axis=1))
    np.testing.assert_array_equal(temperature, np.repeat([0.8, 1.3], 500))
    model_cv, model_prob = load_model(run_dir).sample_latent([0.8, 1.3], 500, seed=2)
    np.testing.assert_array_equal(cv, model_cv.reshape(1000, 2))
    np.testing.assert_array_equal(prob, model_prob.reshape(1000, n_states))
    assert (folder / "generated.run.json").is_file() and "T (reduced units)" in out


@pytest.fixture(scope="module")
def melted(folder, trained) -> tuple[Path, str]:
    out_dir = folder / "melt"
    argv = ["melt", trained["latf"][0], "--tmin", "0.5", "--tmax", "2.0", "--num", "9"]
    status, out, err = run([*argv, "--bootstrap", "30", "--out", out_dir])
    assert status == 0, err
    return out_dir, out


def test_melt_writes_the_population_table_figure_and_record(melted, trained):
    out_dir, out = melted
    n_states = load_model(trained["latf"][0]).n_states
    lines = (out_dir / "populations.csv").read_text().splitlines()
    columns = ["temperature"] + [
        f"state_{s}{suffix}" for s in range(n_states) for suffix in ("", "_lo", "_hi")
    ]
    assert lines[0].split(",") == columns
    table = np.loadtxt(out_dir / "populations.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(table[:, 0], np.geomspace(0.5, 2.0, 9), rtol=1e-12)
    np.testing.assert_allclose(table[:, 1::3].sum(axis=1), 1.0, atol=1e-9)
    assert np.all(table[:, 2::3] <= table[:, 3::3])  # lo <= hi
    curve = PopulationCurve.read_csv(out_dir / "populations.csv", temperature_unit="reduced")
    assert curve.n_states == n_states
    assert (out_dir / "melting.png").read_bytes()[:4] == b"\x89PNG"
    results = json.loads((out_dir / "melt.run.json").read_text())["results"]
    assert results["state"] == curve.default_folded_state()
    assert results["tm_interval"][0] <= results["tm"] <= results["tm_interval"][1]
    assert 0.5 < results["tm"] < 2.0 and results["dh"] > 0
    assert f"Tm = {results['tm']:.4g} reduced units" in out
    assert f"dH = {results['dh']:.4g} reduced energy units" in out and "95% intervals" in out


def test_melt_without_a_transition_in_range_says_so_and_keeps_the_table(
    folder, trained, monkeypatch
):
    """A folded state that stays above 0.5 over the whole range (a stand-in curve)."""

    def flat(self, temperatures, n_bootstrap, confidence, seed):
        population = np.tile([0.8, 0.2], (len(temperatures), 1))
        return PopulationCurve(
            np.asarray(temperatures),
            population,
            population - 0.1,
            population + 0.1,
            confidence,
            "reduced",
        )

    monkeypatch.setattr(LaTFModel, "population_curve", flat)
    out_dir = folder / "flat"
    line = fails(
        ["melt", trained["latf"][0], "--tmin", "0.5", "--tmax", "0.6", "--out", out_dir],
        "no melting transition of state 0 between T = 0.5 and 0.6 reduced units",
        "never crosses 0.5",
    )
    assert str(out_dir / "populations.csv") in line
    assert PopulationCurve.read_csv(out_dir / "populations.csv").n_states == 2
    assert json.loads((out_dir / "melt.run.json").read_text())["results"]["fit_error"]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--state", "7"], "state 7 does not exist"),
        (["--state", "-1"], "state -1 does not exist"),
        (["--tmin", "2", "--tmax", "1"], "need 0 < --tmin < --tmax"),
        (["--tmin", "0", "--tmax", "1"], "need 0 < --tmin < --tmax"),
        (["--tmin", "-1", "--tmax", "1"], "need 0 < --tmin < --tmax"),
        (["--num", "2"], "--num must be at least 3"),
        (["--bootstrap", "1"], "--bootstrap must be at least 2"),
    ],
)
def test_melt_refuses_bad_requests_in_one_line(folder, trained, options, fragment):
    out_dir = folder / "refused"
    fails(
        ["melt", trained["latf"][0], "--tmin", "0.5", "--tmax", "2", *options, "--out", out_dir],
        fragment,
    )
    assert not (out_dir / "melting.png").exists()


@pytest.fixture(scope="module")
def diffusion_run(folder) -> Path:
    """A run folder whose model file is of kind diffusion (no training needed to test refusals)."""
    write_model_file(folder / "diffusion", "diffusion", {}, torch.nn.Linear(1, 1))
    return folder / "diffusion"


def test_runs_of_the_wrong_kind_are_refused(folder, trained, diffusion_run):
    data = folder / "data.npz"
    fails(
        ["transform", diffusion_run, data, "--out", folder / "x.npz"],
        f"{diffusion_run / 'model.pt'}: field 'kind': is a diffusion model",
        "--model spib or --model latf",
    )
    fails(
        [
            "sample",
            trained["spib"][0],
            "--temperatures",
            "1",
            "--n",
            "5",
            "--out",
            folder / "x.npz",
        ],
        "is a spib model: SPIB alone has no temperature model",
        "--model latf",
    )
    for run_dir in (trained["spib"][0], diffusion_run):
        fails(
            ["melt", run_dir, "--tmin", "0.5", "--tmax", "2", "--out", folder / "m"], "--model latf"
        )
    fails(["transform", folder / "nowhere", data, "--out", folder / "x.npz"], "is not a run folder")
    assert not (folder / "x.npz").exists() and not (folder / "m").exists()


def test_sample_refuses_diffusion_options_for_a_latf_run(folder, trained):
    argv = ["sample", trained["latf"][0], "--temperatures", "1", "--n", "5"]
    fails(
        [*argv, "--sampler", "ddpm", "--out", folder / "x.npz"],
        "--sampler: an option of diffusion runs only",
    )
    fails([*argv, "--n", "0", "--out", folder / "x.npz"], "field 'n'")


def _variant(folder: Path, name: str, **changes: object) -> Path:
    data = load_dataset(folder / "data.npz")
    path = folder / f"{name}.npz"
    save_dataset(replace(data, source=str(path), **changes), path)
    return path


def test_transform_refuses_data_with_other_features(folder, trained):
    data = load_dataset(folder / "data.npz")
    wider = _variant(
        folder,
        "wider",
        features=np.column_stack([data.features, data.features[:, 0]]),
        feature_names=("x", "y", "z"),
        periodic=None,
    )
    renamed = _variant(folder, "renamed", feature_names=("x", "q"))
    run_dir = trained["spib"][0]
    fails(
        ["transform", run_dir, wider, "--out", folder / "x.npz"],
        f"{wider}: field 'features': has 3 columns but the model was trained on 2 (x, y)",
    )
    fails(
        ["transform", run_dir, renamed, "--out", folder / "x.npz"],
        f"{renamed}: field 'features': column 1 is 'q' where the model has 'y'",
    )


@pytest.mark.parametrize("kind", ["spib", "latf"])
def test_train_refuses_data_without_trajectories(folder, kind):
    path = _variant(folder, f"frames_only_{kind}", replica=None, time=None)
    fails(
        [
            "train",
            path,
            "--model",
            kind,
            "--out",
            folder / "never",
            "--config",
            folder / f"{kind}.yaml",
        ],
        f"{path}: field 'replica'",
        "give every frame a 'replica' (trajectory id) and 'time' (frame index)",
    )


def train_latf_args(folder: Path, config: Path) -> list:
    """``thermogen train`` arguments for latf on the module's data with a YAML config."""
    return [
        "train",
        folder / "data.npz",
        "--model",
        "latf",
        "--out",
        folder / "never",
        "--config",
        config,
    ]


def test_train_refuses_a_lag_longer_than_every_trajectory(folder):
    config = folder / "long_lag.yaml"
    config.write_text(yaml.safe_dump({**TINY, "spib": {**TINY["spib"], "lag": 500}}))
    fails(
        train_latf_args(folder, config),
        "field 'time'",
        "the lag (500 frames) is longer than every trajectory",
    )


def test_train_latf_refuses_one_temperature(folder):
    data = load_dataset(folder / "data.npz")
    one = data.subset(data.temperature == TEMPERATURES[0])
    path = folder / "one_temperature.npz"
    save_dataset(one, path)
    fails(
        [
            "train",
            path,
            "--model",
            "latf",
            "--out",
            folder / "never",
            "--config",
            folder / "latf.yaml",
        ],
        f"{path}: field 'temperature'",
        "2 or more temperatures",
    )


def test_train_resume_without_a_checkpoint_is_refused_for_every_kind(folder):
    """spib and latf resume as diffusion does (issue 12): with nothing to resume, one line."""
    for kind in ("spib", "latf"):
        fails(
            [
                *train_latf_args(folder, folder / f"{kind}.yaml")[:3],
                kind,
                "--out",
                folder / "n",
                "--config",
                folder / f"{kind}.yaml",
                "--resume",
            ],
            "resume=True but there is no checkpoint to resume from",
        )


def test_train_device_option_is_honoured_for_latf(folder, tmp_path):
    """``--device`` reaches every training stage of a latf model (issue 12)."""
    argv = ["train", folder / "data.npz", "--model", "latf", "--out", tmp_path / "run"]
    status, _, err = run([*argv, "--config", folder / "latf.yaml", "--device", "cpu", "--quiet"])
    assert status == 0, err
    settings = json.loads((tmp_path / "run" / "config.json").read_text())["settings"]
    assert settings["spib"]["train"]["device"] == "cpu" and settings["joint"]["device"] == "cpu"


@pytest.mark.parametrize("kind", ["latf", "spib"])
def test_killed_training_resumes_to_the_same_weights(folder, tmp_path, kind):
    """SIGKILL during training, then --resume: the model equals an uninterrupted run's."""
    import signal
    import subprocess
    import sys
    import time

    argv = [
        "train",
        str(folder / "data.npz"),
        "--model",
        kind,
        "--config",
        str(folder / f"{kind}.yaml"),
        "--seed",
        "1",
        "--quiet",
    ]
    run([*argv, "--out", tmp_path / "whole"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "thermogen", *argv, "--out", str(tmp_path / "killed")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stages = tmp_path / "killed" / "stages"
    deadline = time.time() + 120
    while not any(stages.glob("*/checkpoints/last.pt")) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "model.pt").exists()
    status, _, err = run([*argv, "--out", tmp_path / "killed", "--resume"])
    assert status == 0, err
    whole = torch.load(tmp_path / "whole" / "model.pt", weights_only=True)["state_dict"]
    resumed = torch.load(tmp_path / "killed" / "model.pt", weights_only=True)["state_dict"]
    assert whole.keys() == resumed.keys()
    for name in whole:
        torch.testing.assert_close(resumed[name], whole[name], rtol=0, atol=0)


def test_train_reports_a_typo_in_a_nested_key_with_file_and_dotted_key(folder):
    config = folder / "typo.yaml"
    config.write_text(yaml.safe_dump({"spib": {"lagg": 3}}))
    fails(
        train_latf_args(folder, config),
        f"{config}: field 'spib.lagg': unknown setting; did you mean 'spib.lag'?",
    )
    assert not (folder / "never").exists()


@pytest.mark.parametrize("command", ["train", "transform", "sample", "melt"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as finished:
        main([command, "--help"])
    assert finished.value.code == 0
    assert f"usage: thermogen {command}" in capsys.readouterr().out


def test_transform_refuses_to_write_over_its_input_data(folder, trained):
    """Issue 13, case 1: the output resolving to the data file is refused, the data kept."""
    data = folder / "data.npz"
    before = data.read_bytes()
    fails(["transform", trained["spib"][0], data, "--out", data], f"would overwrite {data}")
    fails(["transform", trained["spib"][0], data, "--out", folder / "data"], "would overwrite")
    assert data.read_bytes() == before
