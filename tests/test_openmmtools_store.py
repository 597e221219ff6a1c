"""Reading an openmmtools parallel-tempering store by state and demultiplexed by replica.

The store is made here: alanine dipeptide in vacuum at 300, 350 and 420 K, 10 iterations of 50
Langevin steps. Each replica starts from the same structure shifted by 1.5 nm along x, so the
frames of a replica are recognisable by their centre (vacuum energies do not depend on it).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mdtraj as md
import netCDF4
import numpy as np
import pytest

from thermogen.cli import main
from thermogen.data import load_dataset
from thermogen.data.featurize import Featurizer
from thermogen.data.openmmtools_store import OpenMMToolsStore, featurize_store
from thermogen.errors import InputError

TEMPERATURES = (300.0, 350.0, 420.0)
SHIFT = 1.5  # nm between the replicas' starting structures
N_ITERATIONS = 10


def _make_store(folder: Path, checkpoint_interval: int) -> Path:
    import openmm
    import openmm.unit as unit
    from openmmtools import cache, mcmc, states, testsystems
    from openmmtools.multistate import MultiStateReporter, ParallelTemperingSampler

    np.random.seed(checkpoint_interval)  # noqa: NPY002 - openmmtools swaps with the global generator
    system = testsystems.AlanineDipeptideVacuum()
    start = np.asarray(system.positions.value_in_unit(unit.nanometer))
    sampler_states = [
        states.SamplerState((start + np.array([SHIFT * r, 0.0, 0.0])) * unit.nanometer)
        for r in range(len(TEMPERATURES))
    ]
    move = mcmc.LangevinDynamicsMove(
        timestep=2.0 * unit.femtosecond,
        collision_rate=5.0 / unit.picosecond,
        n_steps=50,
        reassign_velocities=False,
    )
    path = folder / "remd.nc"
    reporter = MultiStateReporter(str(path), checkpoint_interval=checkpoint_interval)
    sampler = ParallelTemperingSampler(mcmc_moves=move, number_of_iterations=N_ITERATIONS)
    sampler.create(
        states.ThermodynamicState(system.system, temperature=TEMPERATURES[0] * unit.kelvin),
        sampler_states,
        reporter,
        temperatures=[t * unit.kelvin for t in TEMPERATURES],
        n_temperatures=len(TEMPERATURES),  # openmmtools 0.27 needs it even with temperatures
    )
    reference = openmm.Platform.getPlatformByName("Reference")  # fastest for 22 atoms
    sampler.energy_context_cache = cache.ContextCache(platform=reference)
    sampler.sampler_context_cache = cache.ContextCache(platform=reference)
    sampler.run()
    reporter.close()
    del sampler
    md.Trajectory(start[None], md.Topology.from_openmm(system.topology)).save_pdb(
        str(folder / "ala2.pdb")
    )
    return path


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with positions at every iteration."""
    return _make_store(tmp_path_factory.mktemp("store1"), checkpoint_interval=1)


@pytest.fixture(scope="module")
def sparse_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with positions every 3 iterations only."""
    return _make_store(tmp_path_factory.mktemp("store3"), checkpoint_interval=3)


@pytest.fixture(scope="module")
def topology(store_path: Path) -> md.Topology:
    return md.load_topology(str(store_path.parent / "ala2.pdb"))


def raw(path: Path) -> dict[str, np.ndarray]:
    """The store's arrays, read straight from the NetCDF files."""
    with netCDF4.Dataset(str(path)) as analysis:
        states = np.asarray(analysis["states"][:])
        energies = np.asarray(analysis["energies"][:])
    with netCDF4.Dataset(str(path.with_name("remd_checkpoint.nc"))) as checkpoint:
        positions = np.asarray(checkpoint["positions"][:])
    return {"states": states, "energies": energies, "positions": positions}


def angles(xyz: np.ndarray, topology: md.Topology) -> np.ndarray:
    """(n, 2) phi, psi of frames (n, atoms, 3), computed directly with MDTraj."""
    traj = md.Trajectory(xyz, topology)
    return np.concatenate([md.compute_phi(traj)[1], md.compute_psi(traj)[1]], axis=1)


def test_store_contents(store_path: Path) -> None:
    expected = raw(store_path)
    with OpenMMToolsStore(store_path) as store:
        np.testing.assert_allclose(store.temperatures, TEMPERATURES)
        np.testing.assert_array_equal(store.states, expected["states"])
        assert store.n_replicas == store.n_states == 3 and store.n_atoms == 22
        assert store.checkpoint_interval == 1 and store.last_iteration == N_ITERATIONS
        assert store.position_iterations.tolist() == list(range(N_ITERATIONS + 1))
        assert store.pressure is None and not store.is_periodic  # vacuum, though boxes are stored
        assert store.frame_iterations().tolist() == list(range(1, N_ITERATIONS + 1))
    # the replicas were swapped, so the demultiplexing below is exercised
    assert any(len(set(expected["states"][:, r])) > 1 for r in range(3))


def test_demultiplexed_replicas_are_continuous_trajectories(
    store_path: Path, topology: md.Topology
) -> None:
    expected = raw(store_path)
    with OpenMMToolsStore(store_path) as store:
        data = featurize_store(store, topology, Featurizer("phi,psi", topology), by="replica")
        trajectories = [store.replica_trajectory(r, topology) for r in range(3)]
    frames = N_ITERATIONS  # iterations 1..10
    assert data.n_frames == 3 * frames
    assert data.feature_names == ("phi:ALA2", "psi:ALA2") and data.periodic.all()
    for r, traj in enumerate(trajectories):
        mine = data.replica == r
        assert data.time[mine].tolist() == list(range(frames))
        # replica r's frames are exactly the store's positions of replica r, in iteration order
        np.testing.assert_array_equal(traj.xyz, expected["positions"][1:, r])
        np.testing.assert_allclose(
            data.features[mine], angles(expected["positions"][1:, r], topology), atol=1e-6
        )
        # ... which move continuously: small steps, and always near the replica's own start
        steps = np.linalg.norm(np.diff(traj.xyz, axis=0), axis=2)
        assert steps.max() < 0.5  # a swap of configurations would jump 1.5 nm
        centre = traj.xyz.mean(axis=1)[:, 0] - expected["positions"][0, 0].mean(axis=0)[0]
        assert np.all(np.abs(centre - SHIFT * r) < 0.3)
        # the temperature of each frame is that of the state the replica was in
        states = expected["states"][1:, r]
        np.testing.assert_allclose(data.temperature[mine], np.array(TEMPERATURES)[states])


def test_frames_grouped_by_state(store_path: Path, topology: md.Topology) -> None:
    expected = raw(store_path)
    with OpenMMToolsStore(store_path) as store:
        data = featurize_store(store, topology, Featurizer("phi,psi", topology), by="state")
    assert data.replica is None and data.time is None
    for k, temperature in enumerate(TEMPERATURES):
        at_k = data.temperature == temperature
        assert at_k.sum() == N_ITERATIONS
        replica = np.argmax(expected["states"][1:] == k, axis=1)  # who was in state k
        xyz = expected["positions"][1:][np.arange(N_ITERATIONS), replica]
        np.testing.assert_allclose(data.features[at_k], angles(xyz, topology), atol=1e-6)
    assert np.all(np.diff(data.temperature) >= 0)  # grouped by temperature


def test_energies_are_kj_per_mol_potential_energies(
    store_path: Path, topology: md.Topology
) -> None:
    import openmm
    import openmm.unit as unit
    from openmmtools import testsystems

    expected = raw(store_path)
    with OpenMMToolsStore(store_path) as store:
        data = featurize_store(store, topology, Featurizer("phi", topology), by="replica")
        reduced = store.reduced_potentials
    system = testsystems.AlanineDipeptideVacuum().system
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    for iteration, replica in [(1, 0), (4, 2), (7, 1), (10, 0)]:
        context.setPositions(expected["positions"][iteration, replica] * unit.nanometer)
        energy = context.getState(getEnergy=True).getPotentialEnergy()
        frame = np.flatnonzero((data.replica == replica) & (data.time == iteration - 1))[0]
        assert data.energy[frame] == pytest.approx(
            energy.value_in_unit(unit.kilojoule_per_mole), abs=5e-3
        )
        # openmmtools' reduced potential is U / (k_B T) in every state
        state = expected["states"][iteration, replica]
        kt = 0.0083144626181532 * TEMPERATURES[state]
        assert data.energy[frame] == pytest.approx(reduced[iteration, replica, state] * kt)


def test_only_checkpoint_iterations_have_positions(sparse_store_path: Path) -> None:
    topology = md.load_topology(str(sparse_store_path.parent / "ala2.pdb"))
    expected = raw(sparse_store_path)
    with OpenMMToolsStore(sparse_store_path) as store:
        assert store.position_iterations.tolist() == [0, 3, 6, 9]
        assert store.frame_iterations().tolist() == [3, 6, 9]
        data = featurize_store(store, topology, Featurizer("phi,psi", topology))
        energies = store.potential_energies
        assert store.replica_trajectory(1, topology).time.tolist() == [3.0, 6.0, 9.0]
        assert (
            featurize_store(
                store, topology, Featurizer("phi", topology), first_iteration=0, stride=2
            ).time.tolist()
            == [0, 1] * 3
        )  # iterations 0 and 6
    assert data.n_frames == 9
    for r in range(3):
        mine = data.replica == r
        assert data.time[mine].tolist() == [0, 1, 2]
        np.testing.assert_allclose(data.energy[mine], energies[[3, 6, 9], r])
        np.testing.assert_allclose(
            data.features[mine], angles(expected["positions"][1:, r], topology), atol=1e-6
        )
        states = expected["states"][[3, 6, 9], r]
        np.testing.assert_allclose(data.temperature[mine], np.array(TEMPERATURES)[states])


def test_featurize_command_reads_a_store(store_path: Path, tmp_path: Path) -> None:
    top = store_path.parent / "ala2.pdb"
    out = tmp_path / "remd.npz"
    args = ["featurize", "--top", str(top), "--store", str(store_path), "--quiet"]
    assert main([*args, "--features", "phi,psi,rmsd:backbone", "--out", str(out)]) == 0
    data = load_dataset(out)
    assert data.n_frames == 3 * N_ITERATIONS and data.has_energy and data.has_trajectories
    record = json.loads(out.with_suffix(".run.json").read_text())["settings"]
    assert record["by"] == "replica" and record["checkpoint_interval"] == 1
    assert record["checkpoint"] == str(store_path.with_name("remd_checkpoint.nc"))
    assert record["iterations"] == [1, N_ITERATIONS, N_ITERATIONS]
    assert record["energy"] == "U (kJ/mol)" and record["reference"] == str(top)
    np.testing.assert_allclose(record["temperatures"], TEMPERATURES)
    assert main([*args, "--by", "state", "--out", str(tmp_path / "s.npz")]) == 0
    assert not load_dataset(tmp_path / "s.npz").has_trajectories


def test_bad_stores_are_one_line_errors(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top = str(store_path.parent / "ala2.pdb")
    text = tmp_path / "notes.nc"
    text.write_text("not a NetCDF file\n")
    lone = tmp_path / "lone.nc"
    shutil.copy(store_path, lone)
    small = tmp_path / "small.pdb"
    md.load(top).atom_slice(range(5)).save_pdb(str(small))
    cases = [
        (["--top", top, "--store", str(text)], text, "is not a NetCDF file"),
        (
            ["--top", top, "--store", str(lone)],
            tmp_path / "lone_checkpoint.nc",
            "does not exist: the positions of store",
        ),
        (
            ["--top", str(small), "--store", str(store_path)],
            store_path.with_name("remd_checkpoint.nc"),
            "has 22 atoms per frame but",
        ),
    ]
    for args, source, fragment in cases:
        assert main(["featurize", *args, "--out", str(tmp_path / "x.npz"), "--quiet"]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"thermogen featurize: error: {source}: ")
        assert fragment in lines[0]


def test_states_that_differ_in_more_than_temperature_are_refused(
    store_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "remd.nc"
    shutil.copy(store_path, copy)
    shutil.copy(store_path.with_name("remd_checkpoint.nc"), tmp_path / "remd_checkpoint.nc")
    with netCDF4.Dataset(str(copy), "a") as nc:
        nc["energies"][:, :, 2] = nc["energies"][:, :, 2] * 1.1  # as if state 2 were alchemical
    with pytest.raises(InputError, match="not temperature replica exchange") as err:
        OpenMMToolsStore(copy)
    assert str(err.value).startswith(f"{copy}: field 'energies': ")
