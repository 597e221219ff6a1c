"""Internal coordinates of a whole molecule: round trips, backbone torsions, the exact
log-Jacobian against a numerical determinant, constraints, and the stored record."""

from __future__ import annotations

import math

import mdtraj as md
import numpy as np
import pytest
import torch

from thermogen.errors import InputError
from thermogen.models.representation import FeatureScaler
from thermogen.structures import InternalCoordinates, build_internal_coordinates
from thermogen.systems.molecules import DATA_DIR


@pytest.fixture(scope="module")
def alanine() -> md.Trajectory:
    """Alanine dipeptide with 20 frames of random distortion (0.01 nm per coordinate)."""
    reference = md.load(str(DATA_DIR / "alanine_dipeptide.pdb"))
    rng = np.random.default_rng(7)
    xyz = reference.xyz + rng.normal(0.0, 0.01, (20, *reference.xyz.shape[1:]))
    return md.Trajectory(xyz.astype(np.float32), reference.topology)


def _kabsch_rmsd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RMSD (M,) in float64 after optimal superposition of frames a onto b (M, n, 3)."""
    out = []
    for x, y in zip(a, b, strict=True):
        x, y = x - x.mean(axis=0), y - y.mean(axis=0)
        u, _, vt = np.linalg.svd(x.T @ y)
        sign = np.sign(np.linalg.det(u @ vt))
        rotation = u @ np.diag([1.0, 1.0, sign]) @ vt
        out.append(np.sqrt(((x @ rotation - y) ** 2).sum(axis=1).mean()))
    return np.asarray(out)


def test_round_trip_recovers_every_structure_to_1e_5_nm(alanine):
    ic = build_internal_coordinates(alanine.topology, alanine.xyz, constraints="none")
    assert ic.n_features == 3 * alanine.n_atoms - 6
    rebuilt = ic.positions(ic.features(alanine.xyz))
    assert _kabsch_rmsd(rebuilt, alanine.xyz.astype(float)).max() < 1e-5


def test_backbone_torsions_are_coordinates_named_and_valued_as_mdtraj(alanine):
    ic = build_internal_coordinates(alanine.topology, alanine.xyz)
    features = ic.features(alanine.xyz)
    names = list(ic.feature_names)
    assert ic.periodic[names.index("phi:ALA2")] and ic.periodic[names.index("psi:ALA2")]
    assert not ic.periodic[names.index("bond:ALA2-CA")]
    assert not ic.periodic[names.index("angle:ALA2-CA")]
    np.testing.assert_allclose(
        features[:, names.index("phi:ALA2")], md.compute_phi(alanine)[1][:, 0], atol=1e-5
    )
    np.testing.assert_allclose(
        features[:, names.index("psi:ALA2")], md.compute_psi(alanine)[1][:, 0], atol=1e-5
    )
    rebuilt = md.Trajectory(ic.positions(features), alanine.topology)
    np.testing.assert_allclose(
        md.compute_phi(rebuilt)[1][:, 0], features[:, names.index("phi:ALA2")], atol=1e-5
    )


def test_log_volume_is_the_numerical_jacobian_determinant(alanine):
    """d^3n x = d^3t sin(beta) d(alpha, beta, gamma) exp(log_volume) dq, with the rigid-body
    motion written as a translation and ZYZ Euler angles: the determinant of the whole
    (3n x 3n) map must equal the formula at every configuration."""
    ic = build_internal_coordinates(alanine.topology, alanine.xyz, constraints="none")
    features = ic.features(alanine.xyz[:3])
    euler = torch.tensor([0.3, 1.1, -0.7], dtype=torch.float64)

    def cartesian(v: torch.Tensor) -> torch.Tensor:
        q, shift, angles = v[:-6], v[-6:-3], v[-3:]
        return (ic.positions_torch(q[None])[0] @ _zyz(*angles).T + shift).reshape(-1)

    for row, log_volume in zip(features, ic.log_volume(features), strict=True):
        v = torch.cat([torch.as_tensor(row), torch.zeros(3, dtype=torch.float64), euler])
        jacobian = torch.autograd.functional.jacobian(cartesian, v)
        numerical = torch.linalg.slogdet(jacobian).logabsdet.item() - math.log(math.sin(1.1))
        assert numerical == pytest.approx(log_volume, abs=1e-8)


def _zyz(alpha: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """The rotation Rz(alpha) Ry(beta) Rz(gamma) (3, 3)."""

    def rz(a: torch.Tensor) -> torch.Tensor:
        c, s, one, zero = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
        return torch.stack([c, -s, zero, s, c, zero, zero, zero, one]).reshape(3, 3)

    def ry(b: torch.Tensor) -> torch.Tensor:
        c, s, one, zero = torch.cos(b), torch.sin(b), torch.ones_like(b), torch.zeros_like(b)
        return torch.stack([c, zero, s, zero, one, zero, -s, zero, c]).reshape(3, 3)

    return rz(alpha) @ ry(beta) @ rz(gamma)


def test_constrained_bonds_to_hydrogen_keep_their_length_and_are_not_features(alanine):
    ic = build_internal_coordinates(alanine.topology, alanine.xyz)  # HBonds
    n_hydrogens = sum(atom.element.symbol == "H" for atom in alanine.topology.atoms)
    assert ic.n_features == 3 * alanine.n_atoms - 6 - n_hydrogens
    assert not any(name.startswith("bond:") and "-H" in name for name in ic.feature_names)
    rebuilt = md.Trajectory(ic.positions(ic.features(alanine.xyz)), alanine.topology)
    for bond in alanine.topology.bonds:
        if "H" in (bond.atom1.element.symbol, bond.atom2.element.symbol):
            pair = [[bond.atom1.index, bond.atom2.index]]
            lengths = md.compute_distances(rebuilt, pair)[:, 0]
            mean = md.compute_distances(alanine, pair)[:, 0].mean()
            np.testing.assert_allclose(lengths, mean, atol=1e-6)


def test_given_constraint_lengths_win_over_the_data(alanine):
    ic = build_internal_coordinates(
        alanine.topology, alanine.xyz, constraints="none", constrained_lengths={(1, 0): 0.1}
    )
    rebuilt = md.Trajectory(ic.positions(ic.features(alanine.xyz)), alanine.topology)
    np.testing.assert_allclose(md.compute_distances(rebuilt, [[0, 1]])[:, 0], 0.1, atol=1e-6)


def test_the_record_round_trips_through_json(alanine):
    ic = build_internal_coordinates(alanine.topology, alanine.xyz, molecule="alanine-dipeptide")
    again = InternalCoordinates.from_json(ic.to_json(), "data.npz")
    features = ic.features(alanine.xyz)
    assert again.feature_names == ic.feature_names and again.molecule == "alanine-dipeptide"
    np.testing.assert_array_equal(again.positions(features), ic.positions(features))
    assert [a.name for a in again.topology.atoms] == [a.name for a in alanine.topology.atoms]


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda text: text[:40], "is not a Z-matrix record"),
        (lambda text: text.replace('"order": [4,', '"order": [5,'), "exactly once"),
    ],
)
def test_a_damaged_record_is_one_line_naming_the_field(alanine, edit, fragment):
    text = build_internal_coordinates(alanine.topology, alanine.xyz).to_json()
    with pytest.raises(InputError, match=fragment) as caught:
        InternalCoordinates.from_json(edit(text), "data.npz")
    assert "data.npz" in str(caught.value) and "internal_coordinates" in str(caught.value)


def test_two_molecules_or_an_unknown_rule_are_refused(alanine):
    two = alanine.topology.join(alanine.topology)
    with pytest.raises(InputError, match="not one connected molecule"):
        build_internal_coordinates(two, np.concatenate([alanine.xyz, alanine.xyz], axis=1))
    with pytest.raises(InputError, match="HAngles"):
        build_internal_coordinates(alanine.topology, alanine.xyz, constraints="HAngles")


def test_unrolled_angles_keep_a_mode_on_the_seam_whole_and_have_a_density():
    """A torsion peaked at +-pi (the seam of [-pi, pi]) is cut at its emptiest angle instead:
    one model coordinate, its spread the mode's own, decoded back to the same angles."""
    rng = np.random.default_rng(2)
    angle = np.angle(np.exp(1j * rng.vonmises(np.pi, 4.0, 5000)))
    features = np.column_stack([angle, rng.normal(0.1, 0.02, 5000)])
    periodic = np.array([True, False])
    scaler = FeatureScaler.fit(features, periodic, unroll=True)
    assert scaler.model_dim == 2 and abs(scaler.cut[0]) < 0.5 and np.isnan(scaler.cut[1])
    assert scaler.std[0] == pytest.approx(
        np.sqrt(-2 * np.log(np.abs(np.exp(1j * angle).mean()))), rel=0.1
    )
    z = scaler.encode(features)
    assert (z >= scaler.low).all() and (z <= scaler.high).all()
    np.testing.assert_allclose(scaler.decode(z), features, atol=1e-12)
    assert scaler.log_jacobian == pytest.approx(-np.log(scaler.std).sum())
    again = FeatureScaler.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(again.encode(features), z)
