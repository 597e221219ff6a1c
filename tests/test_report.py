"""The HTML report of a diffusion run: self-contained, complete, honest about what to trust."""

from __future__ import annotations

import base64
import csv
import io
import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from thermogen.cli import main
from thermogen.data import MultiTempDataset, save_dataset
from thermogen.errors import InputError
from thermogen.models import DiffusionConfig, DiffusionModel
from thermogen.report import write_report
from thermogen.report.html import _late_validation_drop
from thermogen.train import TrainConfig

TINY = DiffusionConfig(
    width=32,
    blocks=1,
    time_features=8,
    train=TrainConfig(
        steps=200,
        batch_size=128,
        learning_rate=3e-3,
        warmup_steps=20,
        validation_interval=50,
        checkpoint_interval=100,
        ema_decay=0.9,
    ),
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def harmonic_dataset(n_per_temperature: int = 1500, seed: int = 0) -> MultiTempDataset:
    """U = |x|^2 / 2 in 2D at T = 1 and 2 (reduced units): x ~ N(0, T I)."""
    rng = np.random.default_rng(seed)
    temps = np.repeat([1.0, 2.0], n_per_temperature)
    x = rng.normal(0.0, np.sqrt(temps)[:, None], size=(temps.size, 2))
    return MultiTempDataset(
        x,
        temps,
        energy=0.5 * (x**2).sum(1),
        feature_names=("x", "y"),
        temperature_unit="reduced",
        energy_unit="reduced",
        source="harmonic",
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny trained run, its data file and a report with one near and one far target."""
    root = tmp_path_factory.mktemp("report")
    data = harmonic_dataset()
    data_path = save_dataset(data, root / "data.npz")
    DiffusionModel.fit(data, TINY, run_dir=root / "run", progress=False)
    out = write_report(
        root / "run",
        data_path,
        temperatures=[1.5, 8.0],
        out=root / "out" / "report.html",
        n_samples=300,
    )
    return {"root": root, "run": root / "run", "data": Path(data_path), "html": out}


def test_report_is_one_html_file_with_embedded_png_images(run: dict[str, Path]) -> None:
    text = run["html"].read_text()
    assert text.startswith("<!DOCTYPE html>")
    sources = re.findall(r'<img src="([^"]*)"', text)
    assert len(sources) >= 6
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        raw = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert raw.startswith(PNG_SIGNATURE)
        image = matplotlib.image.imread(io.BytesIO(raw), format="png")
        assert image.ndim == 3 and min(image.shape[:2]) > 100
    # nothing fetched from elsewhere: no links, scripts or stylesheets outside the file
    assert not re.search(r'(src|href)="(?!data:)', text)
    assert "<script" not in text


def test_report_has_every_section(run: dict[str, Path]) -> None:
    headings = re.findall(r"<h2>([^<]*)</h2>", run["html"].read_text())
    for expected in (
        "Warnings",
        "Data overview",
        "Training",
        "Generated vs data at trained temperatures",
        "Generated vs MBAR at new temperatures",
        "Thermodynamics",
    ):
        assert expected in headings


def test_far_target_temperature_is_warned_about_and_near_one_is_not(
    run: dict[str, Path],
) -> None:
    warnings = re.search(r'<div class="warnings">(.*?)</div>', run["html"].read_text())
    assert warnings is not None
    text = warnings.group(1)
    assert "Target temperature 8" in text and "above the highest trained temperature" in text
    assert "Target temperature 1.5" not in text
    # MBAR from T = 1 and 2 to T = 8 rests on a few dozen frames: said in plain words
    assert "MBAR at T = 8" in text and "not reliable" in text
    assert "MBAR at T = 1.5" not in text


def test_figures_and_tables_are_saved_beside_the_html(run: dict[str, Path]) -> None:
    files = run["html"].parent / "report_files"
    names = {p.name for p in files.iterdir()}
    for expected in (
        "energy_histograms.png",
        "loss_curves.png",
        "fes_trained_T0.png",
        "marginals_trained.png",
        "fes_new_T1.png",
        "heat_capacity.png",
        "frames_per_temperature.csv",
        "metrics_trained.csv",
        "metrics_new_temperatures.csv",
        "heat_capacity.csv",
    ):
        assert expected in names
    for png in files.glob("*.png"):
        assert png.read_bytes().startswith(PNG_SIGNATURE)
    with open(files / "metrics_trained.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["temperature (reduced)"]) for r in rows] == [1.0, 2.0]
    for r in rows:
        assert 0.0 <= float(r["JS generated vs data (nats)"]) <= np.log(2)
        assert float(r["noise floor mean (nats)"]) > 0.0
    with open(files / "metrics_new_temperatures.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all(float(r["MBAR effective sample size (frames)"]) > 1 for r in rows)


def test_cli_writes_report(run: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = run["root"] / "cli" / "r.html"
    argv = ["report", str(run["run"]), "--data", str(run["data"]), "--out", str(out)]
    status = main([*argv, "--samples", "100"])
    assert status == 0
    assert out.is_file() and (out.parent / "r_files" / "loss_curves.png").is_file()
    assert str(out) in capsys.readouterr().out


def test_cli_missing_run_folder_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["report", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "nowhere" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_cli_data_with_other_features_is_one_line_error(
    run: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = harmonic_dataset(50)
    other = MultiTempDataset(
        other.features,
        other.temperature,
        energy=other.energy,
        feature_names=("a", "b"),
        temperature_unit="reduced",
        energy_unit="reduced",
    )
    path = save_dataset(other, tmp_path / "other.npz")
    status = main(
        ["report", str(run["run"]), "--data", str(path), "--out", str(tmp_path / "r.html")]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "features" in err and "other.npz" in err


def test_cli_bad_temperatures_is_one_line_error(
    run: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["report", str(run["run"]), "--temperatures", "1,abc", "--out", str(tmp_path / "r.html")]
    )
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1


@pytest.mark.parametrize(
    ("losses", "expected"),
    [
        ([1.0, 0.8, 0.6, 0.5, 0.5], 0.0),  # flat over the last 20%: converged
        ([1.0, 0.9, 0.8, 0.7, 0.6], (0.7 - 0.6) / 0.7),  # still falling
    ],
)
def test_late_validation_drop(losses: list[float], expected: float) -> None:
    history = [{"step": 100.0 * (i + 1), "validation_loss": v} for i, v in enumerate(losses)]
    assert _late_validation_drop(history) == pytest.approx(expected)


@pytest.mark.slow
def test_report_of_a_million_frames_takes_under_30_seconds(tmp_path: Path) -> None:
    """Issue 6: the report subsamples, so 1e6 training frames cost seconds, not minutes."""
    import time

    rng = np.random.default_rng(1)
    temps = np.repeat([1.0, 1.5, 2.2, 3.0], 250_000)
    x = rng.normal(0.0, np.sqrt(temps)[:, None], size=(temps.size, 3))
    big = MultiTempDataset(
        x, temps, energy=0.5 * (x**2).sum(1), temperature_unit="reduced", energy_unit="reduced"
    )
    path = save_dataset(big, tmp_path / "big.npz")
    config = DiffusionConfig(train=TrainConfig(steps=20, batch_size=256, validation_interval=10))
    DiffusionModel.fit(big, config, run_dir=tmp_path / "run", progress=False)
    started = time.perf_counter()
    out = write_report(tmp_path / "run", path, [0.8, 4.0], out=tmp_path / "report.html")
    assert time.perf_counter() - started < 30.0
    assert "random subsample" in out.read_text()


def test_spib_report_shows_learned_cvs_and_populations(tmp_path: Path) -> None:
    from thermogen.models import SPIBConfig, SPIBModel
    from thermogen.simulate import REMDConfig, run_remd
    from thermogen.systems import TwoStateFolding

    config = REMDConfig(
        (0.9, 1.12),
        n_chains=40,
        n_steps=1000,
        equilibration_steps=0,
        stride=10,
        swap_interval=100_000,
        seed=0,
    )
    data = run_remd(TwoStateFolding(), config, progress=False).dataset
    spib = SPIBConfig(
        lag=10,
        validation_fraction=0.3,
        max_rounds=2,
        hidden=(16, 16),
        train=TrainConfig(steps=100, batch_size=256, validation_interval=100),
    )
    SPIBModel.fit(data, spib, progress=False).save(tmp_path / "spib")
    with pytest.raises(InputError, match="give --data"):
        write_report(tmp_path / "spib", out=tmp_path / "no_data.html")
    out = write_report(tmp_path / "spib", data, out=tmp_path / "spib.html")
    text = out.read_text()
    assert "<h2>Learned collective variables and states</h2>" in text
    assert "<h2>Thermodynamics</h2>" in text
    assert (tmp_path / "spib_files" / "populations.png").is_file()
    with open(tmp_path / "spib_files" / "populations_data.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 3  # header and the two temperatures
    for row in rows[1:]:
        assert sum(float(v) for v in row[1:]) == pytest.approx(1.0)
