"""Built-in and user-configured molecules for OpenMM: energies, features and bad input."""

from __future__ import annotations

import importlib.resources

import mdtraj
import numpy as np
import openmm
import openmm.app as app
import openmm.unit as unit
import pytest

from thermogen.errors import InputError, UsageError
from thermogen.systems import (
    MOLECULES,
    MoleculeConfig,
    build_molecule,
    get_molecule,
    load_molecule_config,
)

PDB = importlib.resources.files("thermogen.systems") / "data" / "alanine_dipeptide.pdb"


def direct_energy(forcefield_files: tuple[str, ...], positions: np.ndarray) -> float:
    """Potential energy in kJ/mol from OpenMM directly, without thermogen."""
    pdb = app.PDBFile(str(PDB))
    system = app.ForceField(*forcefield_files).createSystem(
        pdb.topology, nonbondedMethod=app.NoCutoff, constraints=app.HBonds
    )
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(positions)
    state = context.getState(getEnergy=True)
    return state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)


@pytest.mark.parametrize(
    ("name", "files", "gb"),
    [
        ("alanine-dipeptide", ("amber99sbildn.xml",), False),
        ("alanine-dipeptide-implicit", ("amber99sbildn.xml", "amber99_obc.xml"), True),
    ],
)
def test_builtin_molecule_energy_is_finite_and_matches_openmm(name, files, gb):
    molecule = get_molecule(name)
    assert molecule.n_atoms == 22 and molecule.system.getNumConstraints() == 12  # 12 X-H bonds
    forces = {type(f).__name__ for f in molecule.system.getForces()}
    assert ("GBSAOBCForce" in forces) is gb
    rng = np.random.default_rng(0)
    frames = molecule.positions + 0.002 * rng.standard_normal((3, 22, 3))
    energies = molecule.potential_energy(frames)
    assert energies.shape == (3,) and np.all(np.isfinite(energies))
    expected = [direct_energy(files, frame) for frame in frames]
    np.testing.assert_allclose(energies, expected, rtol=1e-10, atol=1e-8)


def test_dihedral_features_equal_mdtraj():
    molecule = get_molecule("alanine-dipeptide")
    rng = np.random.default_rng(1)
    frames = molecule.positions + 0.02 * rng.standard_normal((5, 22, 3))
    features, names, periodic = molecule.features(frames)
    traj = mdtraj.Trajectory(frames, mdtraj.load(str(PDB)).topology)
    assert names == ("phi:ALA2", "psi:ALA2") and periodic.all()
    np.testing.assert_allclose(features[:, 0], mdtraj.compute_phi(traj)[1][:, 0], atol=1e-6)
    np.testing.assert_allclose(features[:, 1], mdtraj.compute_psi(traj)[1][:, 0], atol=1e-6)
    # the shipped structure is the minimized beta basin (phi -147, psi 159 degrees)
    phi, psi = np.degrees(molecule.features(molecule.positions[None])[0][0])
    assert phi == pytest.approx(-147, abs=2) and psi == pytest.approx(159, abs=2)


def heavy_atom_pdb(path):
    lines = [
        line
        for line in PDB.read_text().splitlines()
        if line.startswith(("ATOM", "HETATM")) and line[76:78].strip() != "H"
    ]
    path.write_text("\n".join([*lines, "END", ""]))
    return path


def test_user_config_from_yaml_adds_hydrogens_and_resolves_paths(tmp_path):
    heavy_atom_pdb(tmp_path / "peptide.pdb")
    settings = tmp_path / "peptide.yaml"
    settings.write_text(
        "structure: peptide.pdb\n"
        "forcefield: [amber14/protein.ff14SB.xml]\n"
        "implicit_solvent: implicit/obc2.xml\n"
        "add_hydrogens: true\n"
        "timestep_ps: 0.001\n"
    )
    config = load_molecule_config(settings)
    assert config.name == "peptide" and config.structure == str(tmp_path / "peptide.pdb")
    assert config.forcefield == ("amber14/protein.ff14SB.xml",)  # bundled: left as named
    molecule = build_molecule(config, settings)
    assert molecule.n_atoms == 22 and molecule.timestep_ps == 0.001
    assert np.isfinite(molecule.potential_energy(molecule.positions)).all()


@pytest.mark.parametrize(
    ("yaml", "source", "field", "fragment"),
    [
        ("structure: nothere.pdb\n", "settings.yaml", "structure", "does not exist"),
        ("structure: heavy.pdb\n", "heavy.pdb", "forcefield", "Set add_hydrogens: true"),
        (
            "structure: heavy.pdb\nforcefield: [nope.xml]\n",
            "settings.yaml",
            "forcefield",
            "neither a file nor one of OpenMM's bundled force fields",
        ),
        ("structure: heavy.pdb\nconstraints: hbonds\n", "settings.yaml", None, "constraints"),
        ("structure: heavy.pdb\nforcefeld: [a.xml]\n", "settings.yaml", "forcefeld", "forcefield"),
        ("forcefield: [amber14-all.xml]\n", "settings.yaml", "structure", "is missing"),
        ("structure: junk.pdb\n", "junk.pdb", "structure", "cannot be read as PDB"),
    ],
)
def test_bad_molecule_settings_name_file_and_field(tmp_path, yaml, source, field, fragment):
    heavy_atom_pdb(tmp_path / "heavy.pdb")
    (tmp_path / "junk.pdb").write_text("not a structure\n")
    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml)
    with pytest.raises(InputError) as caught:
        build_molecule(load_molecule_config(settings), settings)
    err = caught.value
    assert err.source.endswith(source) and err.field == field
    assert fragment in str(err) and "\n" not in str(err)


def test_unknown_molecule_lists_the_known_ones():
    with pytest.raises(UsageError, match="alanine-dipeptide, alanine-dipeptide-implicit"):
        get_molecule("alanine-tripeptide")
    with pytest.raises(ValueError, match="timestep_ps"):
        MoleculeConfig(structure="x.pdb", timestep_ps=0)
    assert set(MOLECULES) == {"alanine-dipeptide", "alanine-dipeptide-implicit"}
