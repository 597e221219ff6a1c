"""Input that is legal but suspicious (issue 13): the command goes on, and one ``warning:`` line
names the file and the field and says what to check; the Python API issues an InputWarning."""

from __future__ import annotations

import warnings
from pathlib import Path

import mdtraj as md
import numpy as np
import pytest

from thermogen.data import load_dataset, save_dataset
from thermogen.errors import InputWarning

from ..cli_helpers import run
from .inputs import harmonic_frames, write_csv


def celsius_like_npz(tmp: Path) -> list:
    celsius = harmonic_frames().temperature * 30 + 10  # 40 and 70, given as K
    frames = harmonic_frames(temperature=celsius, temperature_unit="K", energy_unit="kJ/mol")
    return ["info", save_dataset(frames, tmp / "celsius.npz")]


def reduced_csv_read_as_kelvin(tmp: Path) -> list:
    return ["info", write_csv(harmonic_frames(), tmp / "reduced.csv")]


def time_backwards(tmp: Path) -> list:
    order = np.concatenate([np.arange(200)[::-1], np.arange(200, 400)])
    frames = harmonic_frames(time=harmonic_frames().time[order])
    return ["info", save_dataset(frames, tmp / "backwards.npz")]


def repeated_frames(tmp: Path) -> list:
    features = harmonic_frames().features.copy()
    features[150:200] = features[100:150]  # one replica's piece read twice
    return ["info", save_dataset(harmonic_frames(features=features), tmp / "twice.npz")]


def truncated_dcd(tmp: Path) -> list:
    topology = md.Topology()
    residue = topology.add_residue("ALA", topology.add_chain())
    for i in range(3):
        topology.add_atom(f"C{i}", md.element.carbon, residue)
    xyz = np.random.default_rng(0).random((50, 3, 3)).astype(np.float32)
    trajectory = md.Trajectory(xyz, topology)
    trajectory[0].save_pdb(str(tmp / "top.pdb"))
    trajectory.save_dcd(str(tmp / "full.dcd"))
    whole = (tmp / "full.dcd").read_bytes()
    (tmp / "cut.dcd").write_bytes(whole[: len(whole) * 6 // 10])  # a copy stopped midway
    features = ["--features", "rg"]
    return ["featurize", "--top", tmp / "top.pdb", "--traj", f"{tmp / 'cut.dcd'}@300", *features]


CASES = [
    pytest.param(celsius_like_npz, ("celsius.npz", "'temperature'", "Celsius"), id="celsius"),
    pytest.param(reduced_csv_read_as_kelvin, ("reduced.csv", "'temperature'", "reduced"), id="K"),
    pytest.param(time_backwards, ("backwards.npz", "'time'", "runs backwards"), id="time"),
    pytest.param(repeated_frames, ("twice.npz", "'features'", "50 frames repeat"), id="repeats"),
    pytest.param(truncated_dcd, ("cut.dcd", "header declares 50", "truncated"), id="truncated"),
]


@pytest.mark.parametrize(("build", "fragments"), CASES)
def test_suspicious_input_goes_on_with_one_warning_line(tmp_path, build, fragments):
    argv = build(tmp_path)
    if argv[0] == "featurize":
        argv = [*argv, "--out", tmp_path / "f.npz", "--quiet"]
    status, _, err = run(argv)
    lines = err.strip().splitlines()
    assert status == 0, err
    assert len(lines) == 1 and lines[0].startswith(f"thermogen {argv[0]}: warning: "), err
    missing = [fragment for fragment in fragments if fragment not in lines[0]]
    assert not missing, (missing, lines[0])


def test_clean_data_raise_no_warning(world):
    status, _, err = run(["info", world.data])
    assert status == 0 and err == ""


def test_the_python_api_issues_an_input_warning_and_restores_the_filters(tmp_path):
    path = time_backwards(tmp_path)[1]
    filters = list(warnings.filters)
    with pytest.warns(InputWarning, match="field 'time': runs backwards inside replica 0"):
        dataset = load_dataset(path)
    assert dataset.n_frames == 400 and warnings.filters == filters
