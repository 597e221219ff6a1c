"""The simulate and demo commands, end to end, on small runs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from thermogen.data import load_dataset
from thermogen.demo import format_table


def thermogen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "thermogen", *args], capture_output=True, text=True
    )


def test_simulate_writes_a_valid_dataset_and_run_record(tmp_path):
    out = tmp_path / "dw.npz"
    proc = thermogen(
        "simulate",
        "double-well",
        "--temperatures",
        "0.5:2:3",
        "--chains",
        "4",
        "--steps",
        "400",
        "--equilibration",
        "0",
        "--stride",
        "100",
        "--quiet",
        "--out",
        str(out),
        "--seed",
        "3",
    )
    assert proc.returncode == 0, proc.stderr
    assert "swap acceptance" in proc.stdout
    ds = load_dataset(out)
    assert ds.n_frames == 4 * 3 * 4
    np.testing.assert_allclose(ds.temperatures, [0.5, 1.0, 2.0])
    assert ds.temperature_unit == "reduced" and ds.has_energy and ds.has_trajectories
    record = json.loads(out.with_suffix(".run.json").read_text())
    assert record["seed"] == 3
    assert record["settings"]["system"] == "double-well"
    assert record["settings"]["timestep"] == 0.005  # defaults are resolved, not left empty
    assert len(record["results"]["swap_acceptance"]) == 2
    info = thermogen("info", str(out))
    assert info.returncode == 0 and "double" not in info.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["simulate", "muller", "--out", "x.npz"], "unknown system 'muller'"),
        (
            ["simulate", "double-well", "--temperatures", "1,abc", "--out", "x.npz"],
            "cannot read temperatures",
        ),
        (["simulate", "double-well", "--temperatures=-1,2", "--out", "x.npz"], "must be positive"),
        (
            ["simulate", "double-well", "--chains", "two", "--out", "x.npz"],
            "invalid int value: 'two'",
        ),
        (["simulate", "double-well"], "the following arguments are required: --out"),
        (["simulate", "double-well", "--steps", "0", "--out", "x.npz"], "n_steps must be >= 1"),
    ],
)
def test_simulate_rejects_bad_options_in_one_line(tmp_path, args, fragment):
    proc = subprocess.run(
        [sys.executable, "-m", "thermogen", *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.npz").exists()


def test_default_demo_matches_exact_populations(default_demo):
    result = default_demo
    inside = [r for r in result.rows if 1.0 < r.temperature < 4.0]
    assert all(abs(r.z_score) < 4 for r in inside), format_table(result.rows)
    assert max(abs(r.diffusion - r.exact) for r in inside) < 0.02, format_table(result.rows)
    for temperature in {r.temperature for r in result.rows}:  # populations are distributions
        assert sum(
            r.diffusion for r in result.rows if r.temperature == temperature
        ) == pytest.approx(1.0)
    assert result.figure.stat().st_size > 10_000
    assert result.table.read_text().count("\n") == 1 + len(result.rows)
    assert (result.run_dir / "model.pt").exists() and (result.out_dir / "run.json").exists()
    assert result.report.stat().st_size > 50_000 and "data:image/png;base64," in (
        result.report.read_text()
    )


def test_default_demo_melting_curve_from_two_temperatures_follows_the_exact_one(default_demo):
    melt = default_demo.melting
    # 4000 trajectories per temperature: the data's populations are within ~0.008 (one standard
    # error) of exact; with 600, seed 2 drew data 0.043 off at T = 1.12, and LaTF followed them
    assert melt.max_error < 0.05
    assert melt.fit.tm == pytest.approx(melt.exact_tm, rel=0.02)
    assert melt.fit.tm_interval[0] < melt.fit.tm < melt.fit.tm_interval[1]
    assert melt.figure.stat().st_size > 10_000 and (melt.run_dir / "model.pt").exists()
    assert melt.latent_figure.stat().st_size > 10_000
    assert "melting (LaTF)" in melt.report.read_text() and melt.data.is_file()
