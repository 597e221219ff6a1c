"""Sanity of generated structures: steric clashes and C-alpha chirality.

A model that reproduces every internal coordinate's marginal can still put two atoms on top of
each other (correlations between distant torsions) or flip a chiral centre (the improper-like
torsion that places C-beta). These checks count such structures; they say nothing about
whether the ensemble is right. Units: nm.
"""

from __future__ import annotations

import mdtraj
import numpy as np

__all__ = ["CLASH_NM", "chirality_flipped", "clash_pairs", "has_clash"]

CLASH_NM = 0.2
"""Heavy atoms not bonded to each other nor to a common atom are never closer than this, nm."""


def clash_pairs(topology: mdtraj.Topology) -> np.ndarray:
    """(P, 2) heavy-atom pairs that are neither bonded (1-2) nor bonded to a common atom (1-3)."""
    heavy = [atom.index for atom in topology.atoms if atom.element.symbol != "H"]
    neighbours: dict[int, set[int]] = {atom.index: set() for atom in topology.atoms}
    for bond in topology.bonds:
        neighbours[bond.atom1.index].add(bond.atom2.index)
        neighbours[bond.atom2.index].add(bond.atom1.index)
    pairs = [
        (i, j)
        for k, i in enumerate(heavy)
        for j in heavy[k + 1 :]
        if j not in neighbours[i] and not neighbours[i] & neighbours[j]
    ]
    return np.array(pairs, dtype=int).reshape(-1, 2)


def has_clash(traj: mdtraj.Trajectory, cutoff: float = CLASH_NM) -> np.ndarray:
    """(N,) bool: the frame has a heavy-atom pair of :func:`clash_pairs` closer than ``cutoff`` nm."""
    pairs = clash_pairs(traj.topology)
    if pairs.size == 0:
        return np.zeros(traj.n_frames, dtype=bool)
    return (mdtraj.compute_distances(traj, pairs, periodic=False) < cutoff).any(axis=1)


def _chiral_centres(topology: mdtraj.Topology) -> np.ndarray:
    """(C, 4) atom indices N, CA, C, CB of every residue that has all four."""
    centres = []
    for residue in topology.residues:
        atoms = {atom.name: atom.index for atom in residue.atoms}
        if all(name in atoms for name in ("N", "CA", "C", "CB")):
            centres.append([atoms["N"], atoms["CA"], atoms["C"], atoms["CB"]])
    return np.array(centres, dtype=int).reshape(-1, 4)


def _signed_volumes(xyz: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(N, C) (N - CA) . ((C - CA) x (CB - CA)) of each chiral centre, nm^3."""
    n, ca, c, cb = (xyz[:, centres[:, k]] for k in range(4))
    return np.einsum("fij,fij->fi", n - ca, np.cross(c - ca, cb - ca))


def chirality_flipped(traj: mdtraj.Trajectory, reference: np.ndarray) -> np.ndarray:
    """(N,) bool: some C-alpha has the opposite handedness to the reference structure's.

    Parameters
    ----------
    traj
        N structures.
    reference
        (n_atoms, 3) a structure of the molecule with the right chirality (e.g. its PDB), nm.
    """
    centres = _chiral_centres(traj.topology)
    if centres.size == 0:
        return np.zeros(traj.n_frames, dtype=bool)
    expected = np.sign(_signed_volumes(np.asarray(reference)[None], centres))
    return (np.sign(_signed_volumes(traj.xyz, centres)) != expected).any(axis=1)
