"""``thermogen featurize`` on trajectory files: features equal MDTraj's own, tables, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mdtraj as md
import numpy as np
import pytest

from thermogen.cli import main
from thermogen.data import load_dataset
from thermogen.data.featurize import (
    FeatureSpec,
    Featurizer,
    contact_map,
    dihedrals,
    pairwise_distances,
    parse_features,
    radius_of_gyration,
    rmsd_to_reference,
)
from thermogen.errors import InputError, UsageError

N_FRAMES = 20


@pytest.fixture(scope="module")
def adp(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Alanine dipeptide in vacuum: 20 frames, 25 Langevin steps apart, as DCD, XTC and PDB."""
    import openmm
    import openmm.unit as unit
    from openmmtools import testsystems

    folder = tmp_path_factory.mktemp("adp")
    system = testsystems.AlanineDipeptideVacuum()
    integrator = openmm.LangevinMiddleIntegrator(
        300 * unit.kelvin, 1 / unit.picosecond, 2 * unit.femtosecond
    )
    integrator.setRandomNumberSeed(7)
    context = openmm.Context(
        system.system, integrator, openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(system.positions)
    context.setVelocitiesToTemperature(300 * unit.kelvin, 7)
    frames = []
    for _ in range(N_FRAMES):
        integrator.step(25)
        state = context.getState(getPositions=True)
        frames.append(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
    traj = md.Trajectory(np.array(frames), md.Topology.from_openmm(system.topology))
    paths = {
        "top": folder / "ala2.pdb",
        "dcd": folder / "ala2.dcd",
        "xtc": folder / "ala2.xtc",
        "pdb": folder / "ala2_traj.pdb",
        "small": folder / "small.pdb",
    }
    traj[0].save_pdb(str(paths["top"]))
    traj.save_dcd(str(paths["dcd"]))
    traj.save_xtc(str(paths["xtc"]))
    traj.save_pdb(str(paths["pdb"]))
    traj[0].atom_slice(range(10)).save_pdb(str(paths["small"]))
    return paths


@pytest.fixture(scope="module")
def traj(adp: dict[str, Path]) -> md.Trajectory:
    return md.load(str(adp["dcd"]), top=str(adp["top"]))


def featurize(*args: str | Path) -> int:
    return main(["featurize", *map(str, args), "--quiet"])


# ---------------------------------------------------------------------- features


def test_dihedrals_from_a_dcd_equal_mdtraj(
    adp: dict[str, Path], traj: md.Trajectory, tmp_path: Path
) -> None:
    out = tmp_path / "d.npz"
    assert featurize("--top", adp["top"], "--traj", f"{adp['dcd']}@300", "--out", out) == 0
    data = load_dataset(out)
    assert data.feature_names == ("phi:ALA2", "psi:ALA2")
    assert data.periodic.tolist() == [True, True]
    expected = np.concatenate([md.compute_phi(traj)[1], md.compute_psi(traj)[1]], axis=1)
    np.testing.assert_allclose(data.features, expected, rtol=0, atol=1e-6)
    assert data.temperature.tolist() == [300.0] * N_FRAMES
    assert data.replica.tolist() == [0] * N_FRAMES and data.time.tolist() == list(range(N_FRAMES))
    assert data.energy is None


def test_plain_functions_match_direct_mdtraj_calls(traj: md.Trajectory) -> None:
    reference = traj[3]
    heavy = traj.topology.select("not element H")
    carbons = traj.topology.select("element C")
    pairs = np.array([(a, b) for i, a in enumerate(carbons) for b in carbons[i + 1 :]])

    phi, names = dihedrals(traj, "phi")
    np.testing.assert_allclose(phi, md.compute_phi(traj)[1], atol=1e-6)
    assert names == ["phi:ALA2"]

    # Rg about the centre of mass; mdtraj.compute_rg weights by mass but centres on the geometric
    # centre, so it agrees only where the masses are equal (the carbons)
    masses = np.array([a.element.mass for a in traj.topology.atoms])
    centre = np.einsum("a,nai->ni", masses / masses.sum(), traj.xyz.astype(float))
    squared = np.sum((traj.xyz - centre[:, None]) ** 2, axis=2)
    np.testing.assert_allclose(radius_of_gyration(traj), np.sqrt(squared @ masses / masses.sum()))
    np.testing.assert_allclose(
        radius_of_gyration(traj, "element C"),
        md.compute_rg(traj.atom_slice(carbons), masses=masses[carbons]),
        atol=1e-6,
    )
    backbone = traj.topology.select("backbone")

    distances, names = pairwise_distances(traj, "element C")
    np.testing.assert_allclose(distances, md.compute_distances(traj, pairs), atol=1e-6)
    assert names[0] == "distance:ACE1-CH3:ACE1-C" and len(names) == len(pairs)

    contacts, names = contact_map(traj, "element C", cutoff=0.3)
    np.testing.assert_array_equal(contacts, md.compute_distances(traj, pairs) < 0.3)
    assert names[0] == "contact:ACE1-CH3:ACE1-C" and set(np.unique(contacts)) == {0.0, 1.0}

    np.testing.assert_allclose(
        rmsd_to_reference(traj, reference),
        md.rmsd(traj, reference, 0, atom_indices=heavy),
        atol=1e-6,
    )
    rmsd = rmsd_to_reference(traj, reference, "backbone")
    np.testing.assert_allclose(rmsd, md.rmsd(traj, reference, 0, atom_indices=backbone), atol=1e-6)
    assert rmsd[3] == pytest.approx(0.0, abs=2e-4)  # float32 arithmetic in mdtraj.rmsd


def test_featurizer_names_and_periodic_flags(traj: md.Trajectory) -> None:
    featurizer = Featurizer(
        "phi,psi,rg,rmsd:backbone,contacts:resname ALA and name CA CB C:0.5",
        traj.topology,
        reference=traj[0],
    )
    assert featurizer.names[:4] == ("phi:ALA2", "psi:ALA2", "rg", "rmsd:backbone")
    assert featurizer.names[4:] == (
        "contact:ALA2-CA:ALA2-CB",
        "contact:ALA2-CA:ALA2-C",
        "contact:ALA2-CB:ALA2-C",
    )
    assert featurizer.periodic.tolist() == [True, True] + [False] * 5
    values = featurizer.transform(traj)
    assert values.shape == (N_FRAMES, 7) and values.dtype == np.float64
    assert np.all(np.abs(values[:, :2]) <= np.pi)


def test_feature_spec_parsing() -> None:
    assert parse_features("phi, psi") == (FeatureSpec("phi"), FeatureSpec("psi"))
    assert parse_features("distances:name CA and resid 0 to 4,rg") == (
        FeatureSpec("distances", "name CA and resid 0 to 4"),
        FeatureSpec("rg"),
    )
    assert parse_features("contacts:name CA:0.8,contact:backbone,RMSD:backbone") == (
        FeatureSpec("contacts", "name CA", 0.8),
        FeatureSpec("contacts", "backbone"),
        FeatureSpec("rmsd", "backbone"),
    )
    assert [str(s) for s in parse_features("contacts:name CA:0.8,phi:resname ALA")] == [
        "contacts:name CA:0.8",
        "phi:resname ALA",
    ]
    for bad, fragment in [
        ("", "empty item"),
        ("phi,,psi", "empty item"),
        ("phy", "unknown feature 'phy'"),
        ("rg:", "empty selection"),
        ("contacts:name CA:-1", "positive distance"),
        ("contacts:name CA:far", "not a number"),
    ]:
        with pytest.raises(UsageError, match=fragment):
            parse_features(bad)


def test_bad_selections_name_the_topology(traj: md.Trajectory) -> None:
    top = traj.topology
    for spec, fragment in [
        ("chi1", "no residue of this topology has them"),
        ("omega", "no residue of this topology has them"),
        ("phi:resid 9", "matches no atoms"),
        ("phi:resname NME", "none of the residues selected by 'resname NME' has a phi angle"),
        ("distances:name XX", "matches no atoms"),
        ("distances", "matches one atom (ALA2-CA)"),
        ("rg:name CA and", "not a valid MDTraj atom selection"),
        ("rmsd", "needs a reference structure"),
    ]:
        with pytest.raises(InputError, match=r"^ala2\.pdb: field ") as err:
            Featurizer(spec, top, source="ala2.pdb")
        assert fragment in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(UsageError, match="asked for twice"):
        Featurizer("phi,phi:resname ALA", top)


# ---------------------------------------------------------------------- readers


def test_files_with_temperature_tables_energies_and_stride(
    adp: dict[str, Path], traj: md.Trajectory, tmp_path: Path
) -> None:
    temperatures = np.where(np.arange(N_FRAMES) < 12, 300.0, 350.0)
    np.savetxt(tmp_path / "rep1_T.txt", temperatures, header="temperature (K)")
    energy_a = np.linspace(-40.0, -30.0, N_FRAMES)
    energy_b = np.linspace(-10.0, -9.0, N_FRAMES)
    np.save(tmp_path / "a_U.npy", energy_a)
    (tmp_path / "b_U.csv").write_text("energy\n" + "\n".join(f"{e:.17g}" for e in energy_b) + "\n")
    out = tmp_path / "d.npz"
    code = featurize(
        "--top", adp["top"],
        "--traj", f"{adp['dcd']}@300",
        "--traj", f"{adp['xtc']}@{tmp_path / 'rep1_T.txt'}",
        "--energy", tmp_path / "a_U.npy",
        "--energy", tmp_path / "b_U.csv",
        "--energy-unit", "kcal/mol",
        "--stride", "2",
        "--features", "psi,rg",
        "--out", out,
    )  # fmt: skip
    assert code == 0
    data = load_dataset(out)
    half = N_FRAMES // 2
    assert data.replica.tolist() == [0] * half + [1] * half
    assert data.time.tolist() == list(range(half)) * 2
    np.testing.assert_array_equal(data.temperature, np.r_[np.full(half, 300.0), temperatures[::2]])
    np.testing.assert_allclose(data.energy, 4.184 * np.r_[energy_a[::2], energy_b[::2]])
    psi = md.compute_psi(traj)[1][::2, 0]
    np.testing.assert_allclose(data.features[:half, 0], psi, atol=1e-6)
    xtc = md.load(str(adp["xtc"]), top=str(adp["top"]), stride=2)  # 1e-3 nm precision
    np.testing.assert_allclose(data.features[half:, 0], md.compute_psi(xtc)[1][:, 0], atol=1e-6)
    record = json.loads(out.with_suffix(".run.json").read_text())
    assert record["command"] == "featurize"
    settings = record["settings"]
    assert settings["features"] == "psi,rg" and settings["feature_names"] == ["psi:ALA2", "rg"]
    assert settings["trajectories"][1] == {
        "replica": 1,
        "path": str(adp["xtc"]),
        "temperature": None,
        "temperature_table": str(tmp_path / "rep1_T.txt"),
        "energy": str(tmp_path / "b_U.csv"),
    }
    assert record["results"]["frames_per_temperature"] == {"300.0": 16, "350.0": 4}


def test_multi_model_pdb_is_read_as_a_trajectory(
    adp: dict[str, Path], traj: md.Trajectory, tmp_path: Path
) -> None:
    out = tmp_path / "d.npz"
    assert featurize("--top", adp["top"], "--traj", f"{adp['pdb']}@310", "--out", out) == 0
    data = load_dataset(out)
    np.testing.assert_allclose(data.features[:, 0], md.compute_phi(traj)[1][:, 0], atol=1e-3)


# ---------------------------------------------------------------------- bad input


def _bad_inputs(adp: dict[str, Path], tmp_path: Path) -> dict[str, tuple[list[str], str, str]]:
    """Arguments, the file the error must start with, and a fragment of the message."""
    np.savetxt(tmp_path / "short_T.txt", np.full(N_FRAMES - 3, 300.0))
    amber = tmp_path / "amber.nc"
    md.load(str(adp["dcd"]), top=str(adp["top"])).save_netcdf(str(amber))
    top, dcd = str(adp["top"]), str(adp["dcd"])
    return {
        "topology atom count": (
            ["--top", str(adp["small"]), "--traj", f"{dcd}@300"],
            dcd,
            "has 22 atoms per frame but the topology",
        ),
        "pdb topology atom count": (
            ["--top", str(adp["small"]), "--traj", f"{adp['pdb']}@300"],
            str(adp["pdb"]),
            "the topology does not match the trajectory",
        ),
        "temperature table length": (
            ["--top", top, "--traj", f"{dcd}@{tmp_path / 'short_T.txt'}"],
            str(tmp_path / "short_T.txt"),
            f"has {N_FRAMES - 3} values but the trajectory has {N_FRAMES} frames",
        ),
        "not an openmmtools store": (
            ["--top", top, "--store", str(amber)],
            str(amber),
            "is not an openmmtools MultiStateReporter store",
        ),
        "chi1 without chi1 atoms": (
            ["--top", top, "--traj", f"{dcd}@300", "--features", "phi,chi1"],
            top,
            "field 'chi1': chi1 angles need the atoms",
        ),
        "residue that does not exist": (
            ["--top", top, "--traj", f"{dcd}@300", "--features", "psi:resid 12"],
            top,
            "'resid 12' matches no atoms",
        ),
        "empty selection": (
            ["--top", top, "--traj", f"{dcd}@300", "--features", "distances:name CZ"],
            top,
            "the selection 'name CZ' matches no atoms",
        ),
        "missing trajectory": (
            ["--top", top, "--traj", f"{tmp_path / 'none.dcd'}@300"],
            str(tmp_path / "none.dcd"),
            "does not exist",
        ),
    }


CASES = [
    "topology atom count",
    "pdb topology atom count",
    "temperature table length",
    "not an openmmtools store",
    "chi1 without chi1 atoms",
    "residue that does not exist",
    "empty selection",
    "missing trajectory",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_naming_the_file(
    adp: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    args, source, fragment = _bad_inputs(adp, tmp_path)[case]
    assert featurize(*args, "--out", tmp_path / "x.npz") == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"thermogen featurize: error: {source}: ")
    assert fragment in lines[0]
    assert not (tmp_path / "x.npz").exists()


def test_bad_topology_through_the_command_line_has_no_traceback(
    adp: dict[str, Path], tmp_path: Path
) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "thermogen", "featurize",
            "--top", str(adp["small"]),
            "--traj", f"{adp['dcd']}@300",
            "--out", str(tmp_path / "x.npz"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""  # the DCD plugin's chatter is silenced too
    assert result.stderr == (
        f"thermogen featurize: error: {adp['dcd']}: has 22 atoms per frame but the topology "
        f"{adp['small']} has 10: the topology does not match the trajectory\n"
    )


def test_options_of_the_other_input_kind_are_refused(
    adp: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top, dcd = adp["top"], f"{adp['dcd']}@300"
    assert featurize("--top", top, "--traj", dcd, "--by", "state", "--out", tmp_path / "x") == 2
    assert "--by goes with --store" in capsys.readouterr().err
    assert featurize("--top", top, "--traj", dcd, "--energy", "e.txt", "--energy", "f.txt",
                     "--out", tmp_path / "x") == 2  # fmt: skip
    assert "one --energy per --traj" in capsys.readouterr().err
    assert featurize("--top", top, "--traj", str(adp["dcd"]), "--out", tmp_path / "x") == 2
    assert "FILE@T" in capsys.readouterr().err
