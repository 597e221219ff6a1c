"""Whole molecules through the command line: simulate, featurize internal coordinates, train,
then sample 3D structures with their OpenMM energies; and the requests refused up front."""

from __future__ import annotations

from pathlib import Path

import mdtraj as md
import numpy as np
import openmm
import openmm.app as app
import openmm.unit as unit
import pytest

from tests.cli_helpers import fails, run
from thermogen.data import load_dataset
from thermogen.systems.molecules import DATA_DIR

PDB = DATA_DIR / "alanine_dipeptide.pdb"
ENERGY_ATOL = 0.05
"""kJ/mol: a simulated frame rebuilt from its internal coordinates has the store's energy (its
float32 positions and 1e-5 constraint tolerance shift it by less)."""


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A diffusion run on alanine dipeptide's internal coordinates (a short 3-replica REMD)."""
    folder = tmp_path_factory.mktemp("structures")
    simulate = ["simulate", "alanine-dipeptide", "--temperatures", "300,400,500", "--ns", "0.05"]
    simulate += ["--exchange-ps", "0.5", "--platform", "Reference", "--features", "internal"]
    simulate += ["--quiet"]
    assert run([*simulate, "--out", folder / "adp.npz"])[0] == 0
    featurize = ["featurize", "--top", folder / "adp.pdb", "--store", folder / "adp.nc"]
    for features, name in (("internal", "ic.npz"), ("phi,psi", "angles.npz")):
        assert run([*featurize, "--features", features, "--out", folder / name, "--quiet"])[0] == 0
    (folder / "tiny.yaml").write_text("width: 64\ntrain:\n  steps: 150\n")
    train = ["train", folder / "ic.npz", "--config", folder / "tiny.yaml", "--quiet"]
    assert run([*train, "--out", folder / "run"])[0] == 0
    return folder


def _openmm_energy(positions: np.ndarray) -> np.ndarray:
    """Potential energies (kJ/mol) straight from OpenMM, without thermogen."""
    pdb = app.PDBFile(str(PDB))
    system = app.ForceField("amber99sbildn.xml").createSystem(
        pdb.topology, nonbondedMethod=app.NoCutoff, constraints=app.HBonds
    )
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    energies = []
    for frame in positions:
        context.setPositions(frame)
        state = context.getState(getEnergy=True)
        energies.append(state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))
    return np.asarray(energies)


def test_internal_coordinates_travel_from_featurize_to_the_run(trained):
    data = load_dataset(trained / "ic.npz")
    assert data.internal_coordinates is not None and data.n_features == 3 * 22 - 6 - 12
    assert {"phi:ALA2", "psi:ALA2"} <= set(data.feature_names)


def test_simulate_writes_internal_coordinates_with_the_exact_constraint_lengths(trained):
    simulated, featurized = (load_dataset(trained / name) for name in ("adp.npz", "ic.npz"))
    assert simulated.feature_names == featurized.feature_names
    np.testing.assert_allclose(simulated.features, featurized.features, atol=1e-4)
    pdb = app.PDBFile(str(PDB))
    system = app.ForceField("amber99sbildn.xml").createSystem(
        pdb.topology, nonbondedMethod=app.NoCutoff, constraints=app.HBonds
    )
    exact = {}
    for index in range(system.getNumConstraints()):
        i, j, length = system.getConstraintParameters(index)
        exact[(min(i, j), max(i, j))] = length.value_in_unit(unit.nanometer)
    ic = simulated.internal_coordinates
    fixed = np.flatnonzero(~np.isnan(ic.fixed_bond))
    pairs = [tuple(sorted((int(ic.order[s]), int(ic.refs[s, 0])))) for s in fixed]
    assert len(pairs) == len(exact) == 12
    np.testing.assert_array_equal(ic.fixed_bond[fixed], [exact[pair] for pair in pairs])
    rebuilt = ic.positions(simulated.features[:20])
    np.testing.assert_allclose(_openmm_energy(rebuilt), simulated.energy[:20], atol=ENERGY_ATOL)


def test_sampled_structures_reload_with_their_torsions_and_energies(trained):
    gen, dcd = trained / "gen.npz", trained / "gen.dcd"
    sample = ["sample", trained / "run", "--temperatures", "300,450", "--n", "40", "--quiet"]
    status, out, err = run(
        [*sample, "--out", gen, "--structures", dcd, "--molecule", "alanine-dipeptide"]
    )
    assert status == 0, err
    assert "structures:" in out and "mean potential energy" in out
    samples = load_dataset(gen)
    frames = md.load(str(dcd), top=str(trained / "gen.pdb"))
    assert frames.n_frames == samples.n_frames == 80
    names = list(samples.feature_names)
    for kind, compute in (("phi", md.compute_phi), ("psi", md.compute_psi)):
        column = samples.features[:, names.index(f"{kind}:ALA2")]
        difference = np.angle(np.exp(1j * (compute(frames)[1][:, 0] - column)))
        assert np.abs(difference).max() < 1e-4
    exact = samples.internal_coordinates.positions(samples.features)
    np.testing.assert_allclose(samples.energy, _openmm_energy(exact), atol=1e-3)
    np.testing.assert_allclose(samples.energy, _openmm_energy(frames.xyz), atol=0.5)
    _check_weights(gen, samples, out)


def _check_weights(gen: Path, samples, out: str) -> None:
    """log_weight = -U/kT - log_prob exactly, log_prob = the features' density minus the log
    volume element, and the stored Kish ESS is that of the weights at each temperature."""
    from thermogen.analysis.reweighting import boltzmann_weights
    from thermogen.units import thermal_energy

    with np.load(gen) as stored:
        log_prob, log_weight = stored["log_prob"], stored["log_weight"]
        ess, ess_temperature = stored["ess"], stored["ess_temperature"]
    kt = thermal_energy(samples.temperature, "K")
    finite = np.isfinite(log_weight)
    assert finite.mean() > 0.9
    np.testing.assert_allclose(log_weight[finite], (-samples.energy / kt - log_prob)[finite])
    np.testing.assert_array_equal(ess_temperature, [300.0, 450.0])
    for t, fraction in zip(ess_temperature, ess, strict=True):
        at = samples.temperature == t
        expected = boltzmann_weights(log_prob[at], samples.energy[at], thermal_energy(t, "K"))
        assert fraction == pytest.approx(expected.effective_fraction) and 0 < fraction <= 1
    assert "Kish effective sample size" in out


def test_structures_of_a_run_without_internal_coordinates_are_refused(trained, tmp_path):
    data = load_dataset(trained / "angles.npz")  # phi, psi only
    assert data.internal_coordinates is None
    train = ["train", trained / "angles.npz", "--config", trained / "tiny.yaml", "--quiet"]
    assert run([*train, "--out", tmp_path / "angles"])[0] == 0
    sample = ["sample", tmp_path / "angles", "--temperatures", "300", "--n", "5"]
    fails(
        [*sample, "--out", tmp_path / "g.npz", "--structures", tmp_path / "g.dcd"],
        "--structures",
        "internal coordinates",
    )
    assert not (tmp_path / "g.npz").exists() and not (tmp_path / "g.dcd").exists()


def test_a_molecule_with_other_atoms_is_refused_before_sampling(trained, tmp_path):
    lines = PDB.read_text().splitlines(keepends=True)
    atoms = [i for i, line in enumerate(lines) if line.startswith(("ATOM", "HETATM"))]
    first, second = atoms[0], atoms[1]  # ACE CH3 and H1: same residue, other order
    lines[first], lines[second] = lines[second], lines[first]
    (tmp_path / "swapped.pdb").write_text("".join(lines))
    (tmp_path / "mol.yaml").write_text("structure: swapped.pdb\n")
    sample = ["sample", trained / "run", "--temperatures", "300", "--n", "5"]
    sample += ["--out", tmp_path / "g.npz", "--structures", tmp_path / "g.dcd"]
    fails([*sample, "--molecule", tmp_path / "mol.yaml"], "mol.yaml", "structure", "atom 0")
    assert not list(tmp_path.glob("g*"))


@pytest.mark.parametrize(
    ("target", "fragments"),
    [("no/such/dir/g.dcd", ("no/such/dir",)), ("g.mp4", ("--structures", "extension"))],
)
def test_unwritable_or_unknown_structure_files_are_refused(trained, tmp_path, target, fragments):
    sample = ["sample", trained / "run", "--temperatures", "300", "--n", "5"]
    fails([*sample, "--out", tmp_path / "g.npz", "--structures", tmp_path / target], *fragments)
    assert not (tmp_path / "g.npz").exists()


def test_molecule_without_structures_is_refused(trained, tmp_path):
    sample = ["sample", trained / "run", "--temperatures", "300", "--n", "5"]
    fails(
        [*sample, "--out", tmp_path / "g.npz", "--molecule", "alanine-dipeptide"],
        "--molecule",
        "--structures",
    )
