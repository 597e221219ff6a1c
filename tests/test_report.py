"""The HTML report of a diffusion run: self-contained, complete, honest about what to trust."""

from __future__ import annotations

import base64
import csv
import io
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pytest

from thermogen.cli import main
from thermogen.data import MultiTempDataset, save_dataset
from thermogen.errors import InputError
from thermogen.models import DiffusionConfig, DiffusionModel
from thermogen.provenance import write_json
from thermogen.report import write_report
from thermogen.report.training import late_validation_drop
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
SIMULATION_RECORD = {
    "command": "simulate",
    "settings": {"temperatures": [1.0, 2.0]},
    "results": {"swap_acceptance": [0.37], "round_trips": 12},
}
"""A ``<data>.run.json`` as ``thermogen simulate`` writes it (the fields the report reads)."""


def harmonic_dataset(
    n_per_temperature: int = 1500, seed: int = 0, temperatures: tuple[float, ...] = (1.0, 2.0)
) -> MultiTempDataset:
    """U = |x|^2 / 2 in 2D (reduced units): exact i.i.d. frames x ~ N(0, T I) at each T."""
    rng = np.random.default_rng(seed)
    temps = np.repeat(temperatures, n_per_temperature)
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
    write_json(root / "data.run.json", SIMULATION_RECORD)
    reference = save_dataset(harmonic_dataset(4000, seed=5, temperatures=(1.5,)), root / "ref.npz")
    DiffusionModel.fit(data, TINY, run_dir=root / "run", progress=False)
    out = write_report(
        root / "run",
        data_path,
        temperatures=[1.5, 8.0],
        out=root / "out" / "report.html",
        n_samples=300,
        reference=reference,
    )
    return {
        "root": root,
        "run": root / "run",
        "data": Path(data_path),
        "reference": Path(reference),
        "html": out,
    }


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
    assert late_validation_drop(history) == pytest.approx(expected)


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


def two_state_trajectories(n_chains: int, n_steps: int, stride: int) -> Any:
    """Plain Langevin trajectories of the two-state system at k_B T = 0.9 and 1.12 (no swaps)."""
    from thermogen.simulate import REMDConfig, run_remd
    from thermogen.systems import TwoStateFolding

    config = REMDConfig(
        (0.9, 1.12),
        n_chains=n_chains,
        n_steps=n_steps,
        equilibration_steps=0,
        stride=stride,
        swap_interval=n_steps + 1,
        seed=0,
    )
    return run_remd(TwoStateFolding(), config, progress=False)


def test_spib_report_shows_learned_cvs_and_populations(tmp_path: Path) -> None:
    from thermogen.models import SPIBConfig, SPIBModel

    data = two_state_trajectories(n_chains=40, n_steps=1000, stride=10).dataset
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


# ---------------------------------------------------------------------------- summary box
def test_summary_box_comes_first_with_temperatures_and_warning_count(
    run: dict[str, Path],
) -> None:
    text = run["html"].read_text()
    box = re.search(r'<div class="summary">(.*?)</div>', text)
    assert box is not None and text.index('class="summary"') < text.index("<h2>")
    cells = dict(re.findall(r"<td>([^<]*)</td><td[^>]*>([^<]*)</td>", box.group(1)))
    assert cells["trained temperatures"] == "1, 2 (reduced units)"
    assert cells["target temperatures"] == "1.5, 8 (reduced units)"
    n_warnings = len(re.findall("<li>", text.split('<div class="warnings">')[1].split("</div>")[0]))
    assert cells["warnings"] == f"{n_warnings} (see below)"
    assert cells["JS / noise floor vs reference"].startswith("at T = 1.5: generated ")


# ---------------------------------------------------------------------------- ladder exchange
def test_overlap_coefficient_is_one_for_identical_and_zero_for_disjoint_samples() -> None:
    from thermogen.report.exchange import overlap_coefficient

    rng = np.random.default_rng(0)
    a = rng.normal(size=20_000)
    assert overlap_coefficient(a, a) == pytest.approx(1.0)
    assert overlap_coefficient(a, rng.normal(size=20_000)) > 0.95
    assert overlap_coefficient(a, a + 100.0) == 0.0
    # N(0,1) vs N(1,1): exact overlap 2 Phi(-1/2) = 0.617
    assert overlap_coefficient(a, rng.normal(1.0, size=20_000), bins=80) == pytest.approx(
        0.617, abs=0.03
    )


def _replica_dataset(sequences: list[list[float]], shuffle: bool = True) -> MultiTempDataset:
    """Frames of replicas whose temperature follows ``sequences`` (one per replica)."""
    temps = np.concatenate([np.asarray(s, dtype=float) for s in sequences])
    replica = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
    time = np.concatenate([np.arange(len(s)) for s in sequences])
    order = np.random.default_rng(0).permutation(temps.size) if shuffle else np.arange(temps.size)
    return MultiTempDataset(
        np.zeros((temps.size, 1))[order],
        temps[order],
        replica=replica[order],
        time=time[order],
        temperature_unit="reduced",
        energy_unit="reduced",
    )


def test_round_trips_are_counted_on_replica_temperature_sequences() -> None:
    from thermogen.report.exchange import round_trips_from_data

    sequences = [
        [1, 2, 3, 2, 1, 3, 1],  # two round trips
        [3, 3, 1, 2, 3, 1],  # starts at the top: one trip (bottom -> top -> bottom)
        [1, 2, 3, 2],  # never returns: none
    ]
    assert round_trips_from_data(_replica_dataset(sequences)) == 3
    # trajectories that stay at one temperature, or no replica ids: not known
    assert round_trips_from_data(_replica_dataset([[1, 1, 1], [3, 3]])) is None
    assert round_trips_from_data(harmonic_dataset(10)) is None


def test_ladder_exchange_takes_swaps_and_round_trips_from_a_matching_record() -> None:
    from thermogen.report.exchange import ladder_exchange

    data = harmonic_dataset(500)
    found = ladder_exchange(data, SIMULATION_RECORD)
    assert found.swap_acceptance is not None and found.swap_acceptance.tolist() == [0.37]
    assert found.round_trips == 12 and "record" in found.round_trips_source
    assert 0.3 < found.energy_overlap[0] < 0.9 and np.isnan(found.mbar_overlap[0])
    other = {**SIMULATION_RECORD, "settings": {"temperatures": [1.0, 3.0]}}
    unknown = ladder_exchange(data, other)  # another ladder: its numbers are not these data's
    assert unknown.swap_acceptance is None and unknown.round_trips is None


def test_data_overview_shows_overlap_swap_acceptance_and_round_trips(
    run: dict[str, Path],
) -> None:
    with open(run["html"].parent / "report_files" / "ladder_overlap.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert float(row["swap acceptance (fraction)"]) == 0.37
    # U of x ~ N(0, T I) in 2D is exponential with mean T: exact overlap (1 - 1/2) + 1/4 = 0.75
    assert float(row["energy histogram overlap (0-1)"]) == pytest.approx(0.75, abs=0.05)
    assert 0.0 < float(row["MBAR overlap O[k,k+1]"]) < 0.5
    assert "round trips (lowest &rarr; highest &rarr; lowest temperature): <b>12</b>" in (
        run["html"].read_text()
    )


# ---------------------------------------------------------------------------- reference
def test_reference_panel_sits_beside_generated_and_mbar_where_the_reference_has_frames(
    run: dict[str, Path],
) -> None:
    files = run["html"].parent / "report_files"
    with_reference = matplotlib.image.imread(files / "fes_new_T0.png")  # T = 1.5
    without = matplotlib.image.imread(files / "fes_new_T1.png")  # T = 8: no reference frames
    assert with_reference.shape[1] > 1.3 * without.shape[1]  # three panels against two
    assert (
        "T = 1.5 reduced units: generated (diffusion) | MBAR | reference;"
        in run["html"].read_text()
    )
    with open(files / "metrics_new_temperatures.csv", newline="") as handle:
        near, far = list(csv.DictReader(handle))
    assert int(near["reference frames"]) == 4000 and int(far["reference frames"]) == 0
    assert 0.0 < float(near["JS generated vs reference (nats)"]) < np.log(2)
    # MBAR from T = 1 and 2 to 1.5 is accurate for a harmonic well: near its noise floor
    floor = float(near["its noise floor at the MBAR ESS, mean (nats)"])
    assert 0.0 < float(near["JS MBAR vs reference (nats)"]) < 3.0 * floor
    assert np.isnan(float(far["JS generated vs reference (nats)"]))


def test_a_resample_of_the_reference_sits_at_the_noise_floor() -> None:
    from thermogen.analysis.histograms import histogram_ranges
    from thermogen.report.comparison import Comparison, _versus_reference

    ref = harmonic_dataset(8000, seed=3, temperatures=(1.5,)).features
    again = harmonic_dataset(2000, seed=4, temperatures=(1.5,)).features
    compare = Comparison(histogram_ranges(ref), np.zeros(2, dtype=bool))
    js, floor, std = _versus_reference(compare, again, None, again.shape[0], ref, seed=0)
    assert floor > 0 and std >= 0
    assert 0.5 * floor < js < 1.6 * floor
    shifted, *_ = _versus_reference(compare, again + 2.0, None, again.shape[0], ref, seed=0)
    assert shifted > 3 * floor


def test_cli_reference_alone_sets_the_target_temperatures(
    run: dict[str, Path], tmp_path: Path
) -> None:
    ref = save_dataset(harmonic_dataset(600, seed=9, temperatures=(1.2, 1.8)), tmp_path / "r.npz")
    out = tmp_path / "r.html"
    argv = ["report", str(run["run"]), "--data", str(run["data"]), "--reference", str(ref)]
    assert main([*argv, "--out", str(out), "--samples", "100"]) == 0
    with open(tmp_path / "r_files" / "metrics_new_temperatures.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["temperature (reduced)"]) for r in rows] == [1.2, 1.8]
    assert all(int(r["reference frames"]) == 600 for r in rows)


@pytest.mark.parametrize("problem", ["features", "missing"])
def test_cli_bad_reference_is_one_line_error_naming_the_file(
    run: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    path = tmp_path / "bad_ref.npz"
    if problem == "features":
        other = harmonic_dataset(50)
        save_dataset(
            MultiTempDataset(
                other.features,
                other.temperature,
                feature_names=("a", "b"),
                temperature_unit="reduced",
                energy_unit="reduced",
            ),
            path,
        )
    argv = ["report", str(run["run"]), "--reference", str(path)]
    status = main([*argv, "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "bad_ref.npz" in err and "Traceback" not in err
    if problem == "features":
        assert "features" in err
    assert not (tmp_path / "r.html").exists()


# ---------------------------------------------------------------------------- LaTF melting
def test_latf_report_shows_melting_curve_with_tm_and_dh(tmp_path: Path) -> None:
    from thermogen.models.latf import LaTFConfig, LaTFModel
    from thermogen.models.spib import SPIBConfig

    simulation = two_state_trajectories(n_chains=300, n_steps=1200, stride=20)
    data_path, _ = simulation.save(tmp_path / "two_state.npz", "two-state")
    data = simulation.dataset
    train = TrainConfig(steps=150, batch_size=512, learning_rate=3e-3, warmup_steps=20)
    latf = LaTFConfig(
        spib=SPIBConfig(lag=15, validation_fraction=0.3, train=train),
        transforms=2,
        flow_hidden=(16, 16),
        joint=replace(train, steps=300),
    )
    LaTFModel.fit(data, latf, run_dir=tmp_path / "latf", progress=False)
    out = write_report(tmp_path / "latf", data_path, out=tmp_path / "latf.html")
    text = out.read_text()
    files = tmp_path / "latf_files"
    assert (files / "melting_curve.png").is_file()
    # training: the joint stage's losses drawn from config.json, SPIB's rounds tabulated
    assert (files / "loss_curves.png").is_file() and "joint SPIB + flow stage" in text
    with open(files / "spib_rounds.csv", newline="") as handle:
        rounds = list(csv.DictReader(handle))
    assert rounds and int(rounds[-1]["n_states"]) == 2
    # independent runs at each temperature: no swap was attempted, and the report says so
    assert "no swaps attempted" in text and "swap acceptance 0%" not in text
    assert "melting (LaTF)" in text and "Tm = " in text
    with open(files / "melting_fit.csv", newline="") as handle:
        tm, dh = list(csv.DictReader(handle))
    assert tm["unit"] == "reduced units" and dh["unit"] == "reduced energy units"
    for row in (tm, dh):
        assert float(row["95% low"]) <= float(row["value"]) <= float(row["95% high"])
    assert 0.6 < float(tm["value"]) < 1.6 and float(dh["value"]) > 0  # folds on cooling
    with open(files / "melting_curve.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 25 and "state 0 MBAR" in rows[0]
    for row in rows:
        assert float(row["state 0 low"]) <= float(row["state 0 LaTF"]) <= float(row["state 0 high"])


def test_heat_capacity_of_the_reference_frames_is_the_exact_one(run: dict[str, Path]) -> None:
    """A 2D harmonic well has C_v = 1 k_B at every temperature; so must MBAR and the reference."""
    files = run["html"].parent / "report_files"
    with open(files / "heat_capacity_reference.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert float(row["temperature (reduced)"]) == 1.5
    value, error = (
        float(row["C_v of the reference frames (k_B)"]),
        float(row["standard error (k_B)"]),
    )
    assert 0.0 < error < 0.1 and abs(value - 1.0) < 4 * error
    with open(files / "heat_capacity.csv", newline="") as handle:
        mbar = {
            float(r["temperature (reduced)"]): float(r["C_v (k_B)"]) for r in csv.DictReader(handle)
        }
    assert mbar[1.5] == pytest.approx(1.0, abs=0.15)


def test_demo_reference_is_exact_boltzmann_frames() -> None:
    from thermogen.demo import _exact_reference
    from thermogen.systems import MuellerBrown

    system = MuellerBrown()
    ref = _exact_reference(system, (0.8, 2.0), 20_000, seed=0)
    assert ref.temperatures.tolist() == [0.8, 2.0] and ref.n_frames == 40_000
    assert ref.source.startswith("exact") and ref.feature_names == ("x", "y")
    for t in ref.temperatures:
        u = ref.energy[ref.temperature == t]
        exact = system.reference(float(t))
        assert abs(u.mean() - exact.mean_energy) < 4 * np.sqrt(exact.energy_variance / u.size)
        populations = np.bincount(system.basin_of(ref.features[ref.temperature == t])) / u.size
        assert np.abs(populations - exact.basin_populations).max() < 0.015


def test_an_exact_reference_is_labelled_exact(run: dict[str, Path], tmp_path: Path) -> None:
    out = write_report(
        run["run"],
        run["data"],
        [1.5],
        out=tmp_path / "exact.html",
        n_samples=100,
        reference=harmonic_dataset(500, seed=6, temperatures=(1.5, 2.5)),
        reference_kind="exact",
    )
    text = out.read_text()
    assert "generated (diffusion) | MBAR | exact;" in text and "JS / noise floor vs exact" in text
    assert "frames at 2.5 reduced units are not shown" in text  # not a target: said, not hidden
    with pytest.raises(ValueError, match="reference_kind"):
        write_report(run["run"], out=tmp_path / "x.html", reference_kind="simulation")


def test_summary_box_gives_the_ladder_in_one_line(run: dict[str, Path]) -> None:
    box = run["html"].read_text().split('<div class="summary">')[1].split("</div>")[0]
    line = re.search(r"<td>ladder</td><td>([^<]*)</td>", box)
    assert line is not None
    assert re.fullmatch(
        r"neighbour energy overlap 0\.\d\d, swap acceptance 37%, replica round trips 12",
        line.group(1),
    )


def test_latf_and_mbar_disagree_only_outside_interval_tolerance_and_errors() -> None:
    from thermogen.analysis.populations import PopulationCurve
    from thermogen.report.thermodynamics import mbar_disagreement

    pop = np.array([[0.8, 0.2], [0.5, 0.5], [0.2, 0.8], [0.1, 0.9]])
    curve = PopulationCurve(np.array([1.0, 2.0, 3.0, 4.0]), pop, pop - 0.05, pop + 0.05)
    mbar = pop.copy()
    mbar[:, 0] = [0.81, 0.65, 0.35, 0.4]  # inside; 0.10 above the band; 0.10 but noisy; far
    error = np.full_like(pop, 0.01)
    error[2] = 0.05
    usable = np.array([True, True, True, False])  # the last has too small an ESS
    assert mbar_disagreement(curve, mbar, error, 0, usable).tolist() == [
        False,
        True,
        False,
        False,
    ]
