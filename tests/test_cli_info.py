"""``thermogen info`` end to end: a summary for valid files, one clear stderr line for bad ones."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def run_info(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "thermogen", "info", str(path), *options],
        capture_output=True,
        text=True,
        check=False,
    )


def valid_arrays() -> dict[str, np.ndarray]:
    """Six frames at two temperatures: an angle 'phi' (radians) and a distance 'd'."""
    return {
        "features": np.array(
            [[0.1, 1.0], [-2.0, 1.5], [3.0, 2.0], [0.5, 1.2], [-0.5, 1.1], [1.5, 0.9]]
        ),
        "temperature": np.array([300.0, 300.0, 300.0, 350.0, 350.0, 350.0]),
        "energy": np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0]),
        "replica": np.array([0, 0, 0, 1, 1, 1]),
        "time": np.array([0, 1, 2, 0, 1, 2]),
        "feature_names": np.array(["phi", "d"]),
        "periodic": np.array([True, False]),
        "temperature_unit": np.array("K"),
        "energy_unit": np.array("kJ/mol"),
    }


def npz_with(**changes: object) -> Callable[[Path], Path]:
    """Builder of a valid npz with some arrays replaced (or removed, when given None)."""

    def build(tmp_path: Path) -> Path:
        arrays = {**valid_arrays(), **changes}
        path = tmp_path / "data.npz"
        np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
        return path

    return build


def file_with(name: str, content: bytes) -> Callable[[Path], Path]:
    """Builder of a file with the given name and raw content."""

    def build(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return build


def truncated_npz(tmp_path: Path) -> Path:
    path = npz_with()(tmp_path)
    path.write_bytes(path.read_bytes()[:300])
    return path


def with_nan(tmp_path: Path) -> Path:
    features = valid_arrays()["features"]
    features[2, 1] = np.nan
    return npz_with(features=features)(tmp_path)


def in_degrees(tmp_path: Path) -> Path:
    features = valid_arrays()["features"]
    features[:, 0] = [10.0, -120.0, 170.0, 45.0, 90.0, -30.0]
    return npz_with(features=features)(tmp_path)


CSV_OK = b"temperature,energy,phi,d\n300,-1.0,0.1,1.0\n350,2.0,-0.2,1.5\n"

BAD_INPUTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "features 1-D": (npz_with(features=np.zeros(6)), "field 'features'"),
    "temperature length": (npz_with(temperature=np.full(5, 300.0)), "field 'temperature'"),
    "NaN feature": (with_nan, "field 'features'"),
    "inf energy": (npz_with(energy=np.array([0, 1, np.inf, 0, 0, 0.0])), "field 'energy'"),
    "zero temperature": (
        npz_with(temperature=np.array([300, 0, 300, 350, 350, 350.0])),
        "field 'temperature'",
    ),
    "angles in degrees": (in_degrees, "field 'phi'"),
    "unknown temperature_unit": (
        npz_with(temperature_unit=np.array("C")),
        "field 'temperature_unit'",
    ),
    "unknown energy_unit": (npz_with(energy_unit=np.array("eV")), "field 'energy_unit'"),
    "feature_names length": (npz_with(feature_names=np.array(["phi"])), "field 'feature_names'"),
    "missing features": (npz_with(features=None), "field 'features'"),
    "missing temperature": (npz_with(temperature=None), "field 'temperature'"),
    "empty npz": (file_with("data.npz", b""), "is empty (0 bytes)"),
    "empty csv": (file_with("data.csv", b""), "is empty (0 bytes)"),
    "txt file": (file_with("data.txt", CSV_OK), "unsupported extension '.txt'"),
    "text renamed npz": (file_with("data.npz", CSV_OK), "is not a valid .npz file"),
    "truncated npz": (truncated_npz, "is not a valid .npz file"),
    "csv non-numeric": (file_with("data.csv", CSV_OK.replace(b"1.5", b"abc")), "field 'd'"),
    "csv no temperature": (
        file_with("data.csv", CSV_OK.replace(b"temperature", b"T")),
        "field 'temperature'",
    ),
    "nonexistent": (lambda tmp_path: tmp_path / "missing.npz", "does not exist"),
}


@pytest.mark.parametrize(("build", "expected"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_info_reports_bad_input_in_one_line(
    tmp_path: Path, build: Callable[[Path], Path], expected: str
) -> None:
    path = build(tmp_path)
    result = run_info(path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith(f"thermogen info: error: {path}: ")
    assert expected in lines[0]


def test_info_hints_at_degrees(tmp_path: Path) -> None:
    assert "degrees?" in run_info(in_degrees(tmp_path)).stderr


def test_info_summarises_a_valid_npz(tmp_path: Path) -> None:
    path = npz_with()(tmp_path)
    result = run_info(path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    for fragment in [
        f"source:   {path}",
        "frames:   6",
        "features: 2",
        "temperature K, energy kJ/mol (k_B = 0.008314462618 kJ/(mol K))",
        "2 temperatures:",
        "trajectories: 2 (frames each: min 3, median 3, max 3)",
        "energy: -2 to 3 kJ/mol",
    ]:
        assert fragment in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["300"] == ["3", "-1", "-2", "0"]
    assert rows["350"] == ["3", "2", "1", "3"]
    assert rows["phi"] == ["yes", "(rad)", "-2", "3"]
    assert rows["d"] == ["no", "0.9", "2"]


def test_info_summarises_a_valid_csv(tmp_path: Path) -> None:
    result = run_info(file_with("data.csv", CSV_OK)(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "frames:   2" in result.stdout
    assert "trajectories: none" in result.stdout


def test_info_rejects_single_temperature_data_when_several_are_needed(tmp_path: Path) -> None:
    path = tmp_path / "one_t.npz"
    np.savez(path, features=np.zeros((5, 2)), temperature=np.full(5, 300.0))
    assert run_info(path).returncode == 0
    proc = run_info(path, "--min-temperatures", "2")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert (
        str(path) in lines[0] and "field 'temperature'" in lines[0] and "found 1 (300)" in lines[0]
    )


def test_info_reads_csv_units_and_angles_from_options(tmp_path: Path) -> None:
    path = tmp_path / "angles.csv"
    path.write_text("temperature,energy,phi\n300,1.0,3.0\n350,2.0,-3.0\n")
    proc = run_info(path, "--energy-unit", "kcal/mol", "--periodic", "phi")
    assert proc.returncode == 0, proc.stderr
    assert "yes (rad)" in proc.stdout and "8.368" in proc.stdout  # 2 kcal/mol = 8.368 kJ/mol
