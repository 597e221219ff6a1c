"""Temperature REMD of alanine dipeptide with openmmtools: dataset, statistics, resume, CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import mdtraj
import numpy as np
import pytest

from thermogen.data import load_dataset
from thermogen.errors import InputError, UsageError
from thermogen.simulate import OpenMMREMDConfig, choose_platform, run_openmm_remd
from thermogen.simulate.remd_store import read_store
from thermogen.simulate.round_trips import count_round_trips
from thermogen.systems import get_molecule

os.environ.setdefault("OPENMM_CPU_THREADS", "1")  # the CPU platform, when timed, on one thread
LADDER = (300.0, 378.0, 476.2, 600.0)


@pytest.fixture(scope="module")
def molecule():
    return get_molecule("alanine-dipeptide")


@pytest.fixture(scope="module")
def run(molecule, tmp_path_factory):
    """100 ps per replica at four temperatures (about 4 s on the Reference platform)."""
    store = tmp_path_factory.mktemp("remd") / "adp.nc"
    config = OpenMMREMDConfig(LADDER, ns=0.1, exchange_ps=1.0, platform="Reference", seed=3)
    return run_openmm_remd(molecule, config, store, progress=False)


def test_dataset_has_per_replica_trajectories_in_kelvin_and_kj_per_mol(run):
    ds = run.dataset
    assert (
        ds.n_frames == 4 * 100
        and ds.feature_names == ("phi:ALA2", "psi:ALA2")
        and ds.periodic.all()
    )
    assert ds.temperature_unit == "K" and ds.energy_unit == "kJ/mol"
    np.testing.assert_allclose(ds.temperatures, LADDER)
    for replica in range(4):  # each replica is one continuous trajectory, iterations 1..100
        np.testing.assert_array_equal(ds.time[ds.replica == replica], np.arange(1, 101))
    # at each iteration the four replicas hold the four temperatures, one each
    per_iteration = ds.temperature.reshape(4, 100).T
    np.testing.assert_allclose(np.sort(per_iteration, axis=1), np.tile(LADDER, (100, 1)))
    assert run.positions.shape == (400, 22, 3)


def test_features_and_energies_equal_mdtraj_and_openmm_on_stored_positions(run, molecule):
    stored = read_store(run.store)
    assert stored.last_iteration == 100
    positions = stored.positions[1:].transpose(1, 0, 2, 3).reshape(-1, 22, 3)  # by replica
    np.testing.assert_array_equal(positions, run.positions)
    traj = mdtraj.Trajectory(positions, molecule.mdtraj_topology())
    np.testing.assert_allclose(run.dataset.features[:, 0], mdtraj.compute_phi(traj)[1][:, 0])
    np.testing.assert_allclose(run.dataset.features[:, 1], mdtraj.compute_psi(traj)[1][:, 0])
    some = np.arange(0, 400, 37)
    direct = molecule.potential_energy(positions[some])
    np.testing.assert_allclose(run.dataset.energy[some], direct, atol=2e-3)  # float32 positions


def test_swap_statistics_and_physics(run):
    assert run.acceptance.shape == (3,) and np.all((run.acceptance >= 0) & (run.acceptance <= 1))
    assert run.acceptance.min() > 0.1  # 300-600 K in four steps overlaps well for 22 atoms
    assert run.round_trips >= 0 and run.ns_per_day > 0 and run.platform.name == "Reference"
    ds = run.dataset
    means = [ds.energy[ds.temperature == t].mean() for t in LADDER]
    assert np.all(np.diff(means) > 0), means  # <U> grows with T
    phi_300 = ds.features[ds.temperature == 300.0, 0]
    assert (phi_300 < 0).mean() > 0.85  # C7eq / beta / alphaR; phi > 0 is rare at 300 K
    text = run.summary()
    assert "ns/day" in text and "swap acceptance" in text and "round trips" in text


def test_saved_dataset_loads_back_with_units_and_run_record(run, tmp_path):
    data_path, record_path = run.save(tmp_path / "adp.npz", dcd=True)
    ds = load_dataset(data_path)
    np.testing.assert_array_equal(ds.features, run.dataset.features)
    np.testing.assert_array_equal(ds.energy, run.dataset.energy)
    assert ds.temperature_unit == "K" and ds.energy_unit == "kJ/mol" and ds.has_trajectories
    record = json.loads(record_path.read_text())
    assert record["seed"] == 3 and record["settings"]["steps_per_iteration"] == 500
    assert record["settings"]["molecule"]["forcefield"] == ["amber99sbildn.xml"]
    assert record["results"]["platform"] == "Reference" and record["results"]["ns_per_day"] > 0
    assert len(record["results"]["swap_acceptance"]) == 3
    assert "openmm" in record["packages"]
    dcd = tmp_path / "adp.T300.0K.dcd"
    traj = mdtraj.load_dcd(str(dcd), top=str(tmp_path / "adp.pdb"))
    at_300 = run.dataset.temperature == 300.0
    assert traj.n_frames == at_300.sum() == 100
    np.testing.assert_allclose(
        mdtraj.compute_phi(traj)[1][:, 0],
        run.dataset.features[at_300][np.argsort(run.dataset.time[at_300]), 0],
        atol=1e-4,  # DCD stores Angstrom in single precision
    )


def test_fresh_run_with_the_same_seed_repeats_on_reference(molecule, tmp_path):
    config = OpenMMREMDConfig(LADDER[:2], ns=0.0005, exchange_ps=0.1, platform="Reference")
    a = run_openmm_remd(molecule, config, tmp_path / "a.nc", progress=False)
    b = run_openmm_remd(molecule, config, tmp_path / "b.nc", progress=False)
    np.testing.assert_array_equal(a.dataset.energy, b.dataset.energy)


def test_resume_continues_from_the_store_and_keeps_earlier_frames(molecule, tmp_path):
    store = tmp_path / "resume.nc"
    short = OpenMMREMDConfig(LADDER, ns=0.0006, exchange_ps=0.1, platform="Reference")
    first = run_openmm_remd(molecule, short, store, progress=False)
    assert first.iterations == 6 and first.resumed_from == 0
    longer = OpenMMREMDConfig(LADDER, ns=0.001, exchange_ps=0.1, platform="Reference")
    second = run_openmm_remd(molecule, longer, store, progress=False)
    assert second.resumed_from == 6 and second.iterations == 10
    earlier = second.dataset.time <= 6
    np.testing.assert_array_equal(second.dataset.features[earlier], first.dataset.features)
    np.testing.assert_array_equal(second.dataset.energy[earlier], first.dataset.energy)
    again = run_openmm_remd(molecule, longer, store, progress=False)  # complete: only read
    assert again.resumed_from == 10 and np.isnan(again.ns_per_day)
    other = OpenMMREMDConfig((300.0, 400.0), ns=0.001, exchange_ps=0.1, platform="Reference")
    with pytest.raises(InputError, match="temperatures") as caught:
        run_openmm_remd(molecule, other, store, progress=False)
    assert caught.value.field == "temperatures" and "--overwrite" in str(caught.value)
    fresh = run_openmm_remd(molecule, other, store, progress=False, overwrite=True)
    assert fresh.resumed_from == 0 and fresh.iterations == 10


def test_a_damaged_store_is_refused_in_one_line(molecule, tmp_path):
    (tmp_path / "bad.nc").write_text("not netcdf")
    config = OpenMMREMDConfig(LADDER, ns=0.001, exchange_ps=0.1, platform="Reference")
    with pytest.raises(InputError, match=r"not a NetCDF file.*start over with --overwrite"):
        run_openmm_remd(molecule, config, tmp_path / "bad.nc", progress=False)


def test_config_and_platform_checks():
    with pytest.raises(ValueError, match="ns must be a positive"):
        OpenMMREMDConfig(LADDER, ns=0)
    with pytest.raises(ValueError, match="2 or more temperatures"):
        OpenMMREMDConfig((300.0,))
    with pytest.raises(ValueError, match="whole number"):
        OpenMMREMDConfig(LADDER, exchange_ps=0.003).steps_per_iteration(0.002)
    assert OpenMMREMDConfig(LADDER, ns=5, exchange_ps=1).n_iterations == 5000
    assert count_round_trips(np.array([[0, 2], [2, 0], [0, 2], [2, 0]]), 3) == 2
    with pytest.raises(UsageError, match="unknown platform 'Metal'; available here: auto, "):
        choose_platform(None, None, "Metal")


def thermogen(*args, cwd, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "thermogen", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, "OPENMM_CPU_THREADS": "1"},
        **kwargs,
    )


def test_cli_simulates_shows_progress_and_speed(tmp_path):
    proc = thermogen(
        "simulate",
        "alanine-dipeptide",
        "--temperatures",
        "300:600:3",
        "--ns",
        "0.004",
        "--exchange-ps",
        "0.2",
        "--out",
        "adp.npz",
        cwd=tmp_path,
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "REMD alanine-dipeptide" in err and "20/20" in err  # tqdm progress bar
    assert "ns/day" in out and "swap acceptance" in out and "wrote 60 frames" in out
    assert load_dataset(tmp_path / "adp.npz").n_frames == 60
    for name in ("adp.nc", "adp_checkpoint.nc", "adp.pdb", "adp.run.json"):
        assert (tmp_path / name).exists()


def test_cli_run_killed_by_signals_resumes(tmp_path):
    args = ["simulate", "alanine-dipeptide", "--temperatures", "300:600:3", "--exchange-ps"]
    args += ["0.02", "--out", "adp.npz", "--platform", "Reference"]
    stopped = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = thermogen(*args, "--ns", "1", cwd=tmp_path)
        seen = ""
        while "ns_day" not in seen:  # the progress bar shows the speed once iterations run
            char = proc.stderr.read(1)
            assert char, seen + proc.stderr.read()
            seen += char
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, seen + err
        last = err.strip().splitlines()[-1]
        found = re.fullmatch(
            rf"thermogen simulate: stopped by {sig.name} at iteration (\d+) of 50000; .*", last
        )
        assert found and "run the same command again to continue" in last, err
        stopped.append(int(found.group(1)))
    assert stopped[1] > stopped[0]  # the second run continued the first
    ns = f"{(stopped[1] + 5) * 0.02 / 1000:.5f}"
    proc = thermogen(*args, "--quiet", "--ns", ns, cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"resumed from iteration {stopped[1]}" in out
    ds = load_dataset(tmp_path / "adp.npz")
    assert ds.time.max() == stopped[1] + 5 and ds.n_frames == 3 * (stopped[1] + 5)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--ns", "0"], "ns must be a positive number"),
        (["--ns", "-2"], "ns must be a positive number"),
        (["--platform", "Metal"], "unknown platform 'Metal'"),
        (["--steps", "10"], "--steps is an option for the analytic systems only"),
        (["--exchange-ps", "0.003"], "not a whole number of 0.002 ps steps"),
    ],
)
def test_cli_refuses_bad_molecule_options_in_one_line(tmp_path, args, fragment):
    proc = thermogen("simulate", "alanine-dipeptide", *args, "--out", "x.npz", cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in err
    assert not (tmp_path / "x.npz").exists()


def test_cli_names_the_settings_file_and_structure(tmp_path):
    (tmp_path / "mine.yaml").write_text("structure: missing.pdb\n")
    proc = thermogen("simulate", "mine.yaml", "--out", "x.npz", cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == (
        "thermogen simulate: error: mine.yaml: field 'structure': file missing.pdb does not exist"
    )
    proc = thermogen("simulate", "double-well", "--ns", "1", "--out", "x.npz", cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--ns is an option for molecules only" in err
