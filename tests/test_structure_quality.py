"""Clash and chirality checks of generated structures, on alanine dipeptide with known answers."""

from __future__ import annotations

import mdtraj as md
import numpy as np

from thermogen.structures.quality import CLASH_NM, chirality_flipped, clash_pairs, has_clash
from thermogen.systems.molecules import DATA_DIR


def _alanine() -> md.Trajectory:
    return md.load(str(DATA_DIR / "alanine_dipeptide.pdb"))


def test_clash_pairs_leave_out_bonded_and_1_3_heavy_atoms():
    top = _alanine().topology
    pairs = {tuple(p) for p in clash_pairs(top).tolist()}
    atom = {(a.residue.name, a.name): a.index for a in top.atoms}
    n, ca, cb = (atom[("ALA", name)] for name in ("N", "CA", "CB"))
    assert (min(n, ca), max(n, ca)) not in pairs  # bonded
    assert (min(n, cb), max(n, cb)) not in pairs  # 1-3 through CA
    assert (min(cb, atom[("ALA", "O")]), max(cb, atom[("ALA", "O")])) in pairs  # 1-4
    heavy = sum(a.element.symbol != "H" for a in top.atoms)
    assert len(pairs) < heavy * (heavy - 1) // 2


def test_the_minimised_structure_has_no_clash_and_a_collapsed_one_has():
    traj = _alanine()
    top = traj.topology
    collapsed = traj.xyz.copy()
    first, second = clash_pairs(top)[0]
    direction = collapsed[0, second] - collapsed[0, first]
    collapsed[0, second] = collapsed[0, first] + 0.9 * CLASH_NM * direction / np.linalg.norm(
        direction
    )
    frames = md.Trajectory(np.concatenate([traj.xyz, collapsed]), top)
    assert has_clash(frames).tolist() == [False, True]


def test_a_mirror_image_flips_the_alpha_carbon_and_a_rotation_does_not():
    traj = _alanine()
    angle = 1.1
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    mirror = traj.xyz * np.array([1.0, 1.0, -1.0])
    frames = md.Trajectory(np.concatenate([traj.xyz, traj.xyz @ rotation.T, mirror]), traj.topology)
    assert chirality_flipped(frames, traj.xyz[0]).tolist() == [False, False, True]
