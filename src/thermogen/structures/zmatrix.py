"""Internal coordinates of a whole molecule: a Z-matrix built from its topology.

:func:`build_internal_coordinates` walks the bond graph (MDTraj topology) depth first from a
heavy atom at one end, backbone atoms first, so that every atom is placed by a bond length, a
bond angle and a torsion from earlier atoms and the protein backbone's phi and psi are
themselves coordinates (named ``phi:ALA2``, ``psi:ALA2`` as ``thermogen featurize`` names them).
The first child of an atom gets a true torsion (through its grandparent's parent); later
children are placed relative to their first placed sibling, a stiff improper-like torsion, so
branches (hydrogens, side chains, carbonyl O) do not inherit the backbone's motion.

Bonds held by constraints (bonds to hydrogen under ``HBonds``) keep a fixed length and are not
features. Torsions are periodic features; bond lengths (nm) and angles (radians) are not. Ring
bonds that close a cycle are not coordinates: a generated ring closes only as well as the model
learned it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from .geometry import (
    cartesian_from_internal,
    internal_from_cartesian,
    log_volume_element,
    placement_levels,
)

if TYPE_CHECKING:
    import mdtraj

__all__ = ["CONSTRAINT_RULES", "InternalCoordinates", "build_internal_coordinates"]

CONSTRAINT_RULES = ("none", "HBonds", "AllBonds")
"""Which bond lengths are held fixed (OpenMM's names; ``HAngles`` is not a Z-matrix rule)."""
_FORMAT = 1


@dataclass(frozen=True, eq=False)
class InternalCoordinates:
    """A molecule's Z-matrix: the map between its structures and its internal coordinates.

    Attributes
    ----------
    order
        (n_atoms,) atom indices in placement order.
    refs
        (n_atoms, 3) the (j, k, l) references of each slot: bond to j, angle (atom, j, k),
        torsion (atom, j, k, l); -1 where a slot has none (slots 0-2).
    fixed_bond
        (n_atoms,) constrained bond length of each slot in nm, NaN where the length is free.
    topology
        The molecule's ``mdtraj.Topology``.
    molecule
        The built-in molecule (or settings file) the data were simulated with, or None.
    """

    order: np.ndarray
    refs: np.ndarray
    fixed_bond: np.ndarray
    topology: mdtraj.Topology = field(repr=False)
    molecule: str | None = None

    # ------------------------------------------------------------ features
    @property
    def n_atoms(self) -> int:
        return int(self.order.size)

    @cached_property
    def _free_bond_slots(self) -> np.ndarray:
        slots = np.arange(1, self.n_atoms)
        return slots[np.isnan(self.fixed_bond[slots])]

    @property
    def n_features(self) -> int:
        """D = free bonds + (n - 2) angles + (n - 3) torsions."""
        return self._free_bond_slots.size + 2 * self.n_atoms - 5

    @cached_property
    def feature_names(self) -> tuple[str, ...]:
        """D names: ``bond:RES-ATOM``, ``angle:RES-ATOM``, ``torsion:RES-ATOM`` (the atom each
        places), with ``phi:RES``/``psi:RES`` for the backbone torsions."""
        labels = _atom_labels(self.topology)
        backbone = _backbone_torsion_names(self.topology)
        torsions = []
        for slot in range(3, self.n_atoms):
            quad = (int(self.order[slot]), *(int(a) for a in self.refs[slot]))
            name = backbone.get(quad) or backbone.get(quad[::-1])
            torsions.append(name or f"torsion:{labels[quad[0]]}")
        return (
            *(f"bond:{labels[self.order[s]]}" for s in self._free_bond_slots),
            *(f"angle:{labels[self.order[s]]}" for s in range(2, self.n_atoms)),
            *torsions,
        )

    @property
    def periodic(self) -> np.ndarray:
        """(D,) True for the torsions."""
        return np.arange(self.n_features) >= self.n_features - (self.n_atoms - 3)

    @cached_property
    def _levels(self) -> list[np.ndarray]:
        return placement_levels(self.order, self.refs)

    def features(self, xyz: np.ndarray) -> np.ndarray:
        """Internal coordinates (M, D) of structures xyz (M, n_atoms, 3) in nm."""
        import torch

        frames = torch.tensor(np.asarray(xyz, dtype=float).reshape(-1, self.n_atoms, 3))
        bond, theta, phi = internal_from_cartesian(frames, self.order, self.refs)
        return self.features_from_slots(bond, theta, phi).numpy()

    def features_from_slots(self, bond: Any, theta: Any, phi: Any) -> Any:
        """Feature columns (B, D) from per-slot tensors (B, n_atoms) of bonds, angles, torsions."""
        import torch

        return torch.cat([bond[:, self._free_bond_slots], theta[:, 2:], phi[:, 3:]], dim=1)

    def slots_from_features(self, features: Any) -> tuple[Any, Any, Any]:
        """Per-slot bonds, angles and torsions (B, n_atoms) of feature rows (B, D) (torch)."""
        import torch

        n, n_bonds = self.n_atoms, self._free_bond_slots.size
        batch = features.shape[0]
        fixed = torch.as_tensor(np.nan_to_num(self.fixed_bond), dtype=features.dtype)
        bond = fixed.expand(batch, n).clone()
        bond[:, self._free_bond_slots] = features[:, :n_bonds]
        zeros = features.new_zeros((batch, 3))
        theta = torch.cat([zeros[:, :2], features[:, n_bonds : n_bonds + n - 2]], dim=1)
        phi = torch.cat([zeros, features[:, n_bonds + n - 2 :]], dim=1)
        return bond, theta, phi

    def positions_torch(self, features: Any) -> Any:
        """Structures (B, n_atoms, 3) in nm of feature rows (B, D), differentiable (torch)."""
        bond, theta, phi = self.slots_from_features(features)
        return cartesian_from_internal(bond, theta, phi, self.order, self.refs, self._levels)

    def positions(self, features: np.ndarray) -> np.ndarray:
        """Structures (M, n_atoms, 3) in nm of internal coordinates (M, D), in the Z-matrix's
        frame (slot 0 at the origin)."""
        import torch

        with torch.no_grad():
            rows = torch.tensor(np.asarray(features, dtype=float))
            return self.positions_torch(rows).numpy()

    def log_volume(self, features: np.ndarray) -> np.ndarray:
        """log of the Cartesian volume element (M,) at internal coordinates (M, D): the
        log-Jacobian that turns a density of features into one of structures (see
        :func:`~thermogen.structures.geometry.log_volume_element`)."""
        import torch

        rows = torch.tensor(np.asarray(features, dtype=float))
        bond, theta, _ = self.slots_from_features(rows)
        return log_volume_element(bond, theta).numpy()

    # ------------------------------------------------------------ persistence
    def to_json(self) -> str:
        """The Z-matrix and topology as JSON (stored in datasets and run folders)."""
        atoms, bonds = self.topology.to_dataframe()
        columns = ["name", "element", "resSeq", "resName", "chainID"]
        return json.dumps(
            {
                "format": _FORMAT,
                "molecule": self.molecule,
                "order": self.order.tolist(),
                "refs": self.refs.tolist(),
                "fixed_bond": [None if np.isnan(v) else float(v) for v in self.fixed_bond],
                "atoms": atoms[columns].astype(object).values.tolist(),
                "bonds": bonds[:, :2].astype(int).tolist(),
            }
        )

    @classmethod
    def from_json(cls, text: str, source: str = "<memory>") -> InternalCoordinates:
        """Read :meth:`to_json`'s output; a damaged record is one :class:`InputError` naming
        ``source`` and the field ``internal_coordinates``."""
        try:
            record = json.loads(text)
            topology = _topology(record["atoms"], record["bonds"])
            order = np.asarray(record["order"], dtype=int)
            refs = np.asarray(record["refs"], dtype=int).reshape(order.size, 3)
            fixed = np.array([np.nan if v is None else v for v in record["fixed_bond"]], float)
            molecule = record.get("molecule")
        except (ValueError, KeyError, TypeError, IndexError) as err:
            raise InputError(
                source, "internal_coordinates", f"is not a Z-matrix record ({err})"
            ) from None
        _check_zmatrix(order, refs, fixed, topology.n_atoms, source)
        return cls(order, refs, fixed, topology, molecule)


def build_internal_coordinates(
    topology: mdtraj.Topology,
    xyz: np.ndarray,
    constraints: str = "HBonds",
    constrained_lengths: Mapping[tuple[int, int], float] | None = None,
    molecule: str | None = None,
    source: str = "<memory>",
) -> InternalCoordinates:
    """The Z-matrix of a molecule, with the lengths of its constrained bonds.

    Parameters
    ----------
    topology
        One connected molecule (hydrogens included), at least 3 atoms.
    xyz
        (M, n_atoms, 3) structures in nm; a constrained bond's length is their mean unless
        ``constrained_lengths`` gives it.
    constraints
        ``"HBonds"`` (bonds to hydrogen fixed, the default), ``"AllBonds"`` or ``"none"``.
    constrained_lengths
        Exact lengths in nm by atom pair (e.g. an OpenMM System's constraints); pairs in it are
        fixed whatever ``constraints`` says.
    """
    if constraints not in CONSTRAINT_RULES:
        raise InputError(
            source,
            "constraints",
            f"is {constraints!r}; internal coordinates take {', '.join(CONSTRAINT_RULES)}",
        )
    order, parent = _depth_first(topology, source)
    refs = _references(order, parent)
    lengths = {tuple(sorted(pair)): value for pair, value in (constrained_lengths or {}).items()}
    frames = np.asarray(xyz, dtype=float).reshape(-1, topology.n_atoms, 3)
    fixed = np.full(order.size, np.nan)
    for slot in range(1, order.size):
        atom, bonded = int(order[slot]), int(refs[slot, 0])
        pair = (min(atom, bonded), max(atom, bonded))
        if pair in lengths:
            fixed[slot] = lengths[pair]
        elif _rule_holds(constraints, topology, pair):
            fixed[slot] = np.linalg.norm(frames[:, atom] - frames[:, bonded], axis=1).mean()
    return InternalCoordinates(order, refs, fixed, topology, molecule)


# ---------------------------------------------------------------------- the tree


def _depth_first(topology: mdtraj.Topology, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Atoms in depth-first placement order and each atom's parent (-1 for the root)."""
    n = topology.n_atoms
    if n < 3:
        raise InputError(source, "topology", f"has {n} atoms; internal coordinates need 3")
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for bond in topology.bonds:
        a, b = bond.atom1.index, bond.atom2.index
        neighbours[a].append(b)
        neighbours[b].append(a)
    backbone = _backbone_atoms(topology)
    hydrogen = [atom.element is not None and atom.element.symbol == "H" for atom in topology.atoms]

    def priority(atom: int) -> tuple[bool, bool, int]:
        return (atom not in backbone, hydrogen[atom], atom)

    heavy_with_heavy = [
        a for a in range(n) if not hydrogen[a] and any(not hydrogen[b] for b in neighbours[a])
    ]
    root = min(heavy_with_heavy, key=priority) if heavy_with_heavy else 0
    parent = np.full(n, -1)
    placed = np.zeros(n, dtype=bool)
    order: list[int] = []
    stack = [(root, -1)]
    while stack:
        atom, up = stack.pop()
        if placed[atom]:
            continue
        placed[atom], parent[atom] = True, up
        order.append(atom)
        children = sorted((b for b in neighbours[atom] if not placed[b]), key=priority)
        stack.extend((child, atom) for child in reversed(children))
    if len(order) < n:
        lost = int(np.flatnonzero(~placed)[0])
        raise InputError(
            source,
            "topology",
            f"is not one connected molecule (atom {lost} {topology.atom(lost)} has no bond path "
            f"to atom {root} {topology.atom(root)}); internal coordinates need a bonded molecule",
        )
    return np.asarray(order), parent


def _references(order: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """(n, 3) the (j, k, l) references of every slot (module docstring); -1 where none."""
    slot_of = np.empty(order.size, dtype=int)
    slot_of[order] = np.arange(order.size)
    refs = np.full((order.size, 3), -1)
    placed_children: dict[int, list[int]] = {}
    for slot, atom in enumerate(order[1:], start=1):
        j = int(parent[atom])
        k = int(parent[j]) if parent[j] != -1 else int(order[1])
        siblings = [c for c in placed_children.get(j, []) if c != k]
        if slot == 1:
            refs[slot, 0] = j
        elif slot == 2:
            refs[slot, :2] = j, int(order[0] if j == order[1] else order[1])
        else:
            refs[slot] = (
                j,
                k,
                siblings[0] if siblings else _outer(k, j, order, parent, slot_of, slot),
            )
        placed_children.setdefault(j, []).append(int(atom))
    return refs


def _outer(
    k: int, j: int, order: np.ndarray, parent: np.ndarray, slot_of: np.ndarray, slot: int
) -> int:
    """The torsion's far atom: k's parent, else the earliest atom placed before ``slot`` that is
    neither j nor k (near the root)."""
    if parent[k] != -1 and parent[k] != j:
        return int(parent[k])
    return int(next(a for a in order[:slot] if a not in (j, k)))


def _rule_holds(constraints: str, topology: mdtraj.Topology, pair: tuple[int, int]) -> bool:
    if constraints == "AllBonds":
        return True
    if constraints == "none":
        return False
    elements = (topology.atom(a).element for a in pair)
    return any(e is not None and e.symbol == "H" for e in elements)


# ---------------------------------------------------------------------- names and checks


def _backbone_quads(topology: mdtraj.Topology) -> dict[str, np.ndarray]:
    import mdtraj

    dummy = mdtraj.Trajectory(np.zeros((1, topology.n_atoms, 3), np.float32), topology)
    return {"phi": mdtraj.compute_phi(dummy)[0], "psi": mdtraj.compute_psi(dummy)[0]}


def _backbone_atoms(topology: mdtraj.Topology) -> set[int]:
    return {int(a) for quads in _backbone_quads(topology).values() for a in quads.ravel()}


def _backbone_torsion_names(topology: mdtraj.Topology) -> dict[tuple[int, ...], str]:
    """``phi:RES``/``psi:RES`` by atom quadruple, named as ``thermogen featurize`` names them."""
    from ..data.feature_blocks import _residue_labels

    labels = _residue_labels(topology)
    return {
        tuple(int(a) for a in quad): f"{kind}:{labels[topology.atom(int(quad[1])).residue.index]}"
        for kind, quads in _backbone_quads(topology).items()
        for quad in quads
    }


def _atom_labels(topology: mdtraj.Topology) -> list[str]:
    from ..data.feature_blocks import _atom_label, _residue_labels

    residues = _residue_labels(topology)
    return [_atom_label(topology, a, residues) for a in range(topology.n_atoms)]


def _topology(atoms: list[list[Any]], bonds: list[list[int]]) -> mdtraj.Topology:
    import mdtraj
    import pandas as pd

    table = pd.DataFrame(atoms, columns=["name", "element", "resSeq", "resName", "chainID"])
    table.insert(0, "serial", np.arange(1, len(atoms) + 1))
    table["segmentID"] = ""
    return mdtraj.Topology.from_dataframe(table, np.asarray(bonds, dtype=int).reshape(-1, 2))


def _check_zmatrix(
    order: np.ndarray, refs: np.ndarray, fixed: np.ndarray, n_atoms: int, source: str
) -> None:
    """Refuse a record whose slots do not place every atom once from earlier atoms."""
    problem = None
    if order.size != n_atoms or fixed.size != n_atoms or sorted(order) != list(range(n_atoms)):
        problem = f"does not place each of the topology's {n_atoms} atoms exactly once"
    else:
        slot_of = np.empty(n_atoms, dtype=int)
        slot_of[order] = np.arange(n_atoms)
        for slot in range(1, n_atoms):
            used = refs[slot, : min(slot, 3)]
            if (used < 0).any() or (used >= n_atoms).any() or (slot_of[used] >= slot).any():
                problem = f"slot {slot} refers to an atom placed later or to no atom"
                break
    if problem:
        raise InputError(source, "internal_coordinates", problem)
