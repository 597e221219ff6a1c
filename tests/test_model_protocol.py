"""The model protocol (issue 12): a new model kind lands through the registry alone; models and
the report leave the caller's global state alone; the report shows the samples it is given."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
import pytest
import torch

from thermogen.data import MultiTempDataset, load_dataset, save_dataset
from thermogen.models import MODEL_CLASSES, MODEL_CONFIGS, DataSpec, Model, RunDir, register
from thermogen.models.persistence import read_model_file, write_model_file
from thermogen.models.protocol import CONFIGURATIONS, SAMPLE
from thermogen.train import TrainConfig

from .cli_helpers import run
from .test_report import harmonic_dataset


@dataclass(frozen=True)
class GaussConfig:
    """Settings of the toy model (its one 'stage' only carries the seed)."""

    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=1))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class GaussModel(Model):
    """A tiny generator: independent Gaussians per feature whose means and variances are linear
    in T between the training temperatures (exact for a harmonic system)."""

    kind: ClassVar[str] = "gauss"
    label: ClassVar[str] = "the Gaussian model"
    capabilities: ClassVar[frozenset[str]] = frozenset({SAMPLE, CONFIGURATIONS})
    config_class: ClassVar[type] = GaussConfig

    config: GaussConfig
    data_spec: DataSpec
    temperatures: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    @classmethod
    def fit(cls, data, config=None, *, weights=None, run_dir=None, resume=False, progress=True):
        config = config or GaussConfig()
        temps = data.temperatures
        rows = [data.features[data.temperature == t] for t in temps]
        model = cls(
            config,
            DataSpec.of(data),
            temps,
            np.stack([r.mean(0) for r in rows]),
            np.stack([r.var(0) for r in rows]),
        )
        if run_dir is not None:
            run = RunDir(run_dir)
            run.begin(cls.kind, config, data, config.train.seed, {"features": "none"})
            run.finish(model, config, data, [])
        return model

    def sample(self, temperatures, n, *, seed=0, progress=False, **options):
        temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
        rng = np.random.default_rng(seed)
        blocks = []
        for t in temps:
            mean = [np.interp(t, self.temperatures, m) for m in self.means.T]
            var = [np.interp(t, self.temperatures, v) for v in self.variances.T]
            blocks.append(rng.normal(mean, np.sqrt(var), size=(n, len(mean))))
        return self.data_spec.dataset(np.concatenate(blocks), np.repeat(temps, n))

    def fit_summary(self):
        return f"Gaussians at {len(self.temperatures)} temperatures"

    def save(self, run_dir):
        meta = {
            "params": json.dumps(
                {
                    "spec": asdict(self.data_spec),
                    "temperatures": self.temperatures.tolist(),
                    "means": self.means.tolist(),
                    "variances": self.variances.tolist(),
                }
            )
        }
        return write_model_file(run_dir, self.kind, meta, torch.nn.Module())

    @classmethod
    def load(cls, run_dir):
        params = json.loads(read_model_file(run_dir, cls.kind)["params"])
        spec = DataSpec(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in params["spec"].items()}
        )
        arrays = (np.asarray(params[k]) for k in ("temperatures", "means", "variances"))
        return cls(GaussConfig(), spec, *arrays)


@pytest.fixture()
def gauss_kind():
    """The toy model registered for one test, then removed."""
    register(GaussModel)
    yield GaussModel
    MODEL_CLASSES.pop("gauss")
    MODEL_CONFIGS.pop("gauss")


def harmonic(temperatures=(1.0, 2.0, 4.0), n=2000, seed=0) -> MultiTempDataset:
    """Exact frames of U = |x|^2 / 2 (reduced units) at each temperature."""
    return harmonic_dataset(n, seed, tuple(temperatures))


def test_a_new_model_kind_trains_samples_and_reports_through_the_registry_alone(
    gauss_kind, tmp_path
):
    data = save_dataset(harmonic(), tmp_path / "data.npz")
    status, out, err = run(
        ["train", data, "--model", "gauss", "--out", tmp_path / "run", "--quiet"]
    )
    assert status == 0, err
    assert "trained gauss on 6000 frames at 3 temperatures: Gaussians at 3" in out
    record = RunDir(tmp_path / "run").record()
    assert record["settings"]["model"] == "gauss" and record["seed"] == 0
    samples = tmp_path / "gen.npz"
    argv = ["sample", tmp_path / "run", "--temperatures", "1.5,3", "--n", "400", "--out", samples]
    status, out, err = run(argv)
    assert status == 0, err
    generated = load_dataset(samples)
    assert generated.n_frames == 800 and generated.feature_names == ("x", "y")
    # the toy model is exact for a harmonic well: variance T at every T
    for t in (1.5, 3.0):
        assert abs(generated.features[generated.temperature == t].var() / t - 1) < 0.15
    refused = run([*argv[:-2], "--sampler", "ddim", "--out", tmp_path / "x.npz"])
    assert refused[0] == 2 and "--sampler: an option of diffusion runs only" in refused[2]
    html = tmp_path / "report.html"
    argv = ["report", tmp_path / "run", "--data", data, "--temperatures", "1.5", "--out", html]
    status, out, err = run([*argv, "--samples", "300"])
    assert status == 0, err
    text = html.read_text()
    assert "gauss model" in text and "generated (gauss)" in text


def test_capabilities_are_checked_up_front_with_the_kind_named(gauss_kind, tmp_path):
    data = save_dataset(harmonic(n=200), tmp_path / "data.npz")
    assert run(["train", data, "--model", "gauss", "--out", tmp_path / "run", "--quiet"])[0] == 0
    status, _, err = run(["transform", tmp_path / "run", data, "--out", tmp_path / "cv.npz"])
    assert status == 2 and "is a gauss model: the Gaussian model has no learned collective" in err
    assert "--model spib or --model latf" in err
    status, _, err = run(["train", data, "--model", "nope", "--out", tmp_path / "r"])
    assert status == 2 and "field '--model': is 'nope'" in err and "gauss" in err


_GLOBAL_STATE = """
import numpy as np, torch
torch.set_num_threads(3)
torch.manual_seed(123)
before = torch.get_rng_state().clone()
from thermogen.data import MultiTempDataset
from thermogen.models import DiffusionConfig, DiffusionModel
from thermogen.train import TrainConfig
assert torch.get_num_threads() == 3, "import changed the thread count"
temps = np.repeat([1.0, 2.0], 300)
x = np.random.default_rng(0).normal(size=(600, 2)) * np.sqrt(temps)[:, None]
data = MultiTempDataset(x, temps, temperature_unit="reduced", energy_unit="reduced")
config = DiffusionConfig(width=16, blocks=1, train=TrainConfig(steps=20, batch_size=64))
model = DiffusionModel.fit(data, config, progress=False)
model.sample(1.5, 10, seed=0)
assert torch.get_num_threads() == 3, "fit or sample changed the thread count"
assert torch.equal(torch.get_rng_state(), before), "fit or sample moved the global RNG"
print("state kept")
"""


def test_importing_fitting_and_sampling_leave_threads_and_the_rng_stream_alone():
    done = subprocess.run(
        [sys.executable, "-c", _GLOBAL_STATE], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "state kept" in done.stdout, done.stderr


def test_the_report_shows_exactly_the_samples_it_is_given(tmp_path, monkeypatch):
    """The generated maps are histograms of the given samples (as in samples.npz), not of
    samples the report draws itself."""
    from thermogen.models import DiffusionConfig, DiffusionModel
    from thermogen.report import comparison, trained, write_report

    data = harmonic()
    config = DiffusionConfig(width=16, blocks=1, train=TrainConfig(steps=30, batch_size=128))
    DiffusionModel.fit(data, config, run_dir=tmp_path / "run", progress=False)
    given = harmonic((1.0, 1.5, 2.0, 4.0), n=500, seed=9)
    path = save_dataset(given, tmp_path / "samples.npz")
    shown: dict[str, np.ndarray] = {}
    original = comparison.fes_row

    def recording(page, panels, *args, **kwargs):
        for title, frames, _ in panels:
            shown[title] = frames
        return original(page, panels, *args, **kwargs)

    for module in (comparison, trained):
        monkeypatch.setattr(module, "fes_row", recording)
    write_report(tmp_path / "run", data, [1.5], out=tmp_path / "r.html", samples=path)
    stored = load_dataset(path)
    for t in (1.0, 1.5, 2.0, 4.0):
        np.testing.assert_array_equal(
            shown[f"generated (diffusion), T = {t:.4g}"],
            stored.features[stored.temperature == t],
        )
    kept = load_dataset(tmp_path / "r_files" / "samples.npz")
    np.testing.assert_array_equal(kept.features, stored.features)


def test_outputs_that_would_replace_an_input_are_refused_before_any_work(gauss_kind, tmp_path):
    """Issue 13, case 1: ``sample --out`` naming the training data, its record or a file of the
    run folder, or a folder that does not exist, is one line and leaves every file as it was."""
    data = save_dataset(harmonic(n=200), tmp_path / "data.npz")
    (tmp_path / "data.run.json").write_text("{}")
    assert run(["train", data, "--model", "gauss", "--out", tmp_path / "run", "--quiet"])[0] == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    argv = ["sample", tmp_path / "run", "--temperatures", "1.5", "--n", "10", "--out"]
    for out, fragment in [
        (data, f"would overwrite {data}"),
        (tmp_path / "data", f"would overwrite {data}"),  # .npz is appended
        (tmp_path / "run" / "model.pt.npz", f"would overwrite {tmp_path / 'run'}"),
        (tmp_path / "nowhere" / "s.npz", "is not a writable folder"),
    ]:
        status, _, err = run([*argv, out])
        assert status == 2 and fragment in err and len(err.strip().splitlines()) == 1, err
    status, _, err = run(["transform", tmp_path / "run", data, "--out", tmp_path / "cv.npz"])
    assert status == 2 and "learned collective" in err
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
