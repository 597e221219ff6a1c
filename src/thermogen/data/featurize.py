"""Features of molecular frames with MDTraj: dihedrals, distances, contacts, Rg and RMSD.

Plain functions over one :class:`mdtraj.Trajectory` (``dihedrals(traj, "phi")``), and a
:class:`Featurizer` that resolves a feature specification against a topology once and then turns
any number of trajectory chunks into rows of one (N, D) feature matrix.

Feature specification
---------------------
A comma-separated list of items ``KIND[:SELECTION[:CUTOFF]]``; SELECTION is written in MDTraj's
atom selection language (``name CA``, ``backbone``, ``resid 0 to 5 and not element H``).

``phi``, ``psi``, ``omega``, ``chi1`` ``[:SELECTION]``
    Dihedral angles in radians in [-pi, pi] (periodic features), one per residue that has the
    four atoms, as MDTraj defines them (``mdtraj.compute_phi`` ...; omega is CA-C-N-CA, so caps
    such as ACE and NME have none). The selection picks residues: an angle is kept when its
    residue (the one holding its second atom) has an atom in the selection. Named ``phi:ALA2``.
``distances[:SELECTION]``
    Distances in nm between every pair of selected atoms (default ``name CA``). Named
    ``distance:ALA2-CA:LYS5-CA``.
``contacts[:SELECTION[:CUTOFF]]``
    Binary contact map: 1.0 where a pair of selected atoms (default ``name CA``) is closer than
    CUTOFF nm (default 0.8), else 0.0. Named ``contact:ALA2-CA:LYS5-CA``.
``rg[:SELECTION]``
    Mass-weighted radius of gyration of the selected atoms (default all) about their centre of
    mass, nm. Named ``rg`` or ``rg:SELECTION``. (``mdtraj.compute_rg`` with masses centres on
    the geometric centre instead; the two agree when the selected masses are equal.)
``rmsd[:SELECTION]``
    RMSD in nm to a reference structure after optimal superposition of the selected atoms
    (default heavy atoms, ``not element H``); the reference must have the same selected atoms.
    Named ``rmsd`` or ``rmsd:SELECTION``.

Examples: ``"phi,psi"``, ``"phi,psi,chi1:resname LEU"``, ``"distances:name CA"``, ``"rg"``,
``"rmsd:backbone"``, ``"contacts:name CA:0.8"``. Residues are labelled ``NAMEresSeq`` (as in
the PDB file); where two residues share a label the chain id is appended (``ALA2/B``).

Distances, contacts and angles use the minimum image when frames carry a unit cell (MDTraj's
default); Rg and RMSD assume molecules that are whole (not split across the periodic box).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mdtraj as md
import numpy as np

from ..errors import InputError, UsageError

__all__ = [
    "ANGLE_KINDS",
    "FEATURE_KINDS",
    "FeatureSpec",
    "Featurizer",
    "contact_map",
    "dihedrals",
    "pairwise_distances",
    "parse_features",
    "radius_of_gyration",
    "rmsd_to_reference",
]

ANGLE_KINDS = ("phi", "psi", "omega", "chi1")
FEATURE_KINDS = (*ANGLE_KINDS, "distances", "contacts", "rg", "rmsd")
DEFAULT_SELECTION = {
    "distances": "name CA",
    "contacts": "name CA",
    "rg": "all",
    "rmsd": "not element H",
}
DEFAULT_CUTOFF = 0.8
"""Contact cutoff in nm."""

_ALIASES = {"distance": "distances", "contact": "contacts"}
_ANGLE_FUNCTIONS = {
    "phi": md.compute_phi,
    "psi": md.compute_psi,
    "omega": md.compute_omega,
    "chi1": md.compute_chi1,
}
_ANGLE_ATOMS = {
    "phi": "C(i-1), N, CA, C",
    "psi": "N, CA, C, N(i+1)",
    "omega": "CA, C, N(i+1), CA(i+1)",
    "chi1": "N, CA, CB and CG/SG/OG/OG1/CG1",
}


@dataclass(frozen=True)
class FeatureSpec:
    """One item of a feature specification.

    Parameters
    ----------
    kind
        One of :data:`FEATURE_KINDS`.
    selection
        MDTraj atom selection, or None for the kind's default (all residues for angles).
    cutoff
        Contact cutoff in nm (``contacts`` only), or None for the default 0.8 nm.
    """

    kind: str
    selection: str | None = None
    cutoff: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise UsageError(
                f"--features: unknown feature {self.kind!r}; use {', '.join(FEATURE_KINDS)}"
            )
        if self.cutoff is not None and self.kind != "contacts":
            raise UsageError(f"--features: {self.kind!r} takes no cutoff (only contacts does)")
        if self.cutoff is not None and not (np.isfinite(self.cutoff) and self.cutoff > 0):
            raise UsageError(
                f"--features: the contact cutoff must be a positive distance in nm, got {self.cutoff:g}"
            )

    def __str__(self) -> str:
        parts = [self.kind]
        if self.selection is not None or self.cutoff is not None:
            parts.append(self.selection or DEFAULT_SELECTION[self.kind])
        if self.cutoff is not None:
            parts.append(f"{self.cutoff:g}")
        return ":".join(parts)


def parse_features(text: str) -> tuple[FeatureSpec, ...]:
    """Parse a feature specification such as ``"phi,psi,rmsd:backbone,contacts:name CA:0.8"``.

    Parameters
    ----------
    text
        Comma-separated items ``KIND[:SELECTION[:CUTOFF]]`` (see the module docstring).

    Returns
    -------
    tuple of FeatureSpec
        One per item, in order.

    Raises
    ------
    UsageError
        For an empty specification, an unknown kind, an empty selection text or a bad cutoff.
    """
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or not all(items):
        raise UsageError(
            f"--features: {text!r} has an empty item; write e.g. 'phi,psi' or 'rmsd:backbone'"
        )
    return tuple(_parse_item(item) for item in items)


def _parse_item(item: str) -> FeatureSpec:
    head, sep, rest = item.partition(":")
    kind = _ALIASES.get(head.strip().lower(), head.strip().lower())
    if not sep:
        return FeatureSpec(kind)
    cutoff = None
    if kind == "contacts":
        selection_text, sep, last = rest.rpartition(":")
        if sep:
            try:
                cutoff = float(last)
            except ValueError:
                raise UsageError(
                    f"--features: {item!r}: the contact cutoff {last.strip()!r} is not a number (nm)"
                ) from None
            rest = selection_text
    selection = rest.strip()
    if not selection:
        raise UsageError(
            f"--features: {item!r} has an empty selection; leave out the ':' for the default"
        )
    return FeatureSpec(kind, selection, cutoff)


@dataclass(frozen=True)
class _Block:
    """Resolved features of one spec: names, periodicity and how to compute them."""

    names: tuple[str, ...]
    periodic: bool
    compute: Callable[[md.Trajectory], np.ndarray]  # (N, len(names))


class Featurizer:
    """A feature specification resolved against one topology.

    Parameters
    ----------
    specs
        Parsed specs, or the specification text (see :func:`parse_features`).
    topology
        Topology of every frame that will be featurized.
    reference
        Structure for ``rmsd`` (frame 0 is used); required when an ``rmsd`` feature is asked for.
    source
        Topology file, named in error messages.
    reference_source
        Reference file, named in error messages.

    Attributes
    ----------
    names : tuple of str
        D feature names.
    periodic : numpy.ndarray
        (D,) bool, True for angles (radians).

    Raises
    ------
    InputError
        If a selection is invalid or empty, or asked-for angles do not exist in the topology.

    Examples
    --------
    >>> featurizer = Featurizer("phi,psi", traj.topology, source="ala2.pdb")  # doctest: +SKIP
    >>> featurizer.names, featurizer.transform(traj).shape  # doctest: +SKIP
    (('phi:ALA2', 'psi:ALA2'), (100, 2))
    """

    def __init__(
        self,
        specs: Sequence[FeatureSpec] | str,
        topology: md.Topology,
        *,
        reference: md.Trajectory | None = None,
        source: str | Path = "<topology>",
        reference_source: str | Path | None = None,
    ) -> None:
        self.specs = parse_features(specs) if isinstance(specs, str) else tuple(specs)
        if not self.specs:
            raise UsageError("--features: no features requested")
        self.topology = topology
        self.source = str(source)
        labels = _residue_labels(topology)
        blocks = [
            _resolve(spec, topology, labels, reference, self.source, reference_source)
            for spec in self.specs
        ]
        names = [name for block in blocks for name in block.names]
        seen: dict[str, str] = {}
        for block, spec in zip(blocks, self.specs, strict=True):
            for name in block.names:
                if name in seen:
                    raise UsageError(
                        f"--features: feature {name!r} is asked for twice ({seen[name]!r} and {str(spec)!r})"
                    )
                seen[name] = str(spec)
        self._blocks = blocks
        self.names = tuple(names)
        self.periodic = np.concatenate(
            [np.full(len(block.names), block.periodic) for block in blocks]
        )

    @property
    def n_atoms(self) -> int:
        """Atoms per frame of the topology."""
        return self.topology.n_atoms

    def transform(self, traj: md.Trajectory) -> np.ndarray:
        """(N, D) float64 features of the N frames of ``traj`` (angles in radians, lengths in nm).

        Raises
        ------
        ValueError
            If ``traj`` has a different number of atoms than the topology.
        """
        if traj.n_atoms != self.n_atoms:
            raise ValueError(
                f"frames have {traj.n_atoms} atoms but the featurizer's topology has {self.n_atoms}"
            )
        columns = [np.asarray(block.compute(traj), dtype=float) for block in self._blocks]
        return np.concatenate([c.reshape(traj.n_frames, -1) for c in columns], axis=1)


# ---------------------------------------------------------------------- plain functions


def dihedrals(
    traj: md.Trajectory, kind: str = "phi", selection: str | None = None
) -> tuple[np.ndarray, list[str]]:
    """Dihedral angles of one kind, one per residue that has them.

    Parameters
    ----------
    traj
        N frames.
    kind
        ``"phi"``, ``"psi"``, ``"omega"`` or ``"chi1"`` (MDTraj's definitions).
    selection
        MDTraj selection picking residues (an angle is kept when its residue has a selected atom);
        None for every residue.

    Returns
    -------
    angles : numpy.ndarray
        (N, M) radians in [-pi, pi].
    names : list of str
        M names such as ``"phi:ALA2"``.
    """
    return _run(FeatureSpec(kind, selection), traj)


def pairwise_distances(
    traj: md.Trajectory, selection: str = "name CA"
) -> tuple[np.ndarray, list[str]]:
    """(N, M) distances in nm between all M pairs of selected atoms, and their names."""
    return _run(FeatureSpec("distances", selection), traj)


def contact_map(
    traj: md.Trajectory, selection: str = "name CA", cutoff: float = DEFAULT_CUTOFF
) -> tuple[np.ndarray, list[str]]:
    """(N, M) 1.0 where a pair of selected atoms is closer than ``cutoff`` nm, else 0.0; names."""
    return _run(FeatureSpec("contacts", selection, cutoff), traj)


def radius_of_gyration(traj: md.Trajectory, selection: str | None = None) -> np.ndarray:
    """(N,) mass-weighted radius of gyration in nm of the selected atoms (default all)."""
    return _run(FeatureSpec("rg", selection), traj)[0][:, 0]


def rmsd_to_reference(
    traj: md.Trajectory, reference: md.Trajectory, selection: str | None = None
) -> np.ndarray:
    """(N,) RMSD in nm to frame 0 of ``reference`` after superposing the selected atoms.

    The default selection is the heavy atoms (``not element H``).
    """
    return _run(FeatureSpec("rmsd", selection), traj, reference)[0][:, 0]


def _run(
    spec: FeatureSpec, traj: md.Trajectory, reference: md.Trajectory | None = None
) -> tuple[np.ndarray, list[str]]:
    featurizer = Featurizer([spec], traj.topology, reference=reference, source="<trajectory>")
    return featurizer.transform(traj), list(featurizer.names)


# ---------------------------------------------------------------------- resolution


def _resolve(
    spec: FeatureSpec,
    topology: md.Topology,
    labels: list[str],
    reference: md.Trajectory | None,
    source: str,
    reference_source: str | Path | None,
) -> _Block:
    if spec.kind in ANGLE_KINDS:
        return _angle_block(spec, topology, labels, source)
    if spec.kind in ("distances", "contacts"):
        return _pair_block(spec, topology, labels, source)
    if spec.kind == "rg":
        return _rg_block(spec, topology, source)
    return _rmsd_block(spec, topology, reference, source, reference_source)


def _select(topology: md.Topology, spec: FeatureSpec, source: str) -> np.ndarray:
    """Atom indices of the spec's selection; invalid or empty selections raise InputError."""
    selection = spec.selection or DEFAULT_SELECTION.get(spec.kind, "all")
    try:
        atoms = topology.select(selection)
    except (ValueError, KeyError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(
            source,
            str(spec),
            f"{selection!r} is not a valid MDTraj atom selection ({first})",
        ) from None
    if atoms.size == 0:
        hint = (
            " (resid counts residues from 0; resSeq is the number in the structure file)"
            if "resid" in selection.split()
            else ""
        )
        raise InputError(source, str(spec), f"the selection {selection!r} matches no atoms{hint}")
    return atoms


def _angle_block(
    spec: FeatureSpec, topology: md.Topology, labels: list[str], source: str
) -> _Block:
    dummy = md.Trajectory(np.zeros((1, topology.n_atoms, 3), dtype=np.float32), topology)
    quartets = _ANGLE_FUNCTIONS[spec.kind](dummy)[0]
    residues = np.array([topology.atom(int(q[1])).residue.index for q in quartets], dtype=int)
    if quartets.shape[0] == 0:
        raise InputError(
            source,
            str(spec),
            f"{spec.kind} angles need the atoms {_ANGLE_ATOMS[spec.kind]} and no residue of this "
            f"topology has them (residues: {_preview(labels)})",
        )
    if spec.selection is not None:
        chosen = {topology.atom(int(i)).residue.index for i in _select(topology, spec, source)}
        keep = np.isin(residues, sorted(chosen))
        if not keep.any():
            have = _preview([labels[r] for r in residues])
            raise InputError(
                source,
                str(spec),
                f"none of the residues selected by {spec.selection!r} has a {spec.kind} angle "
                f"(residues with one: {have})",
            )
        quartets, residues = quartets[keep], residues[keep]
    indices = np.ascontiguousarray(quartets)
    names = tuple(f"{spec.kind}:{labels[r]}" for r in residues)
    return _Block(names, True, lambda traj: md.compute_dihedrals(traj, indices))


def _pair_block(spec: FeatureSpec, topology: md.Topology, labels: list[str], source: str) -> _Block:
    atoms = _select(topology, spec, source)
    if atoms.size < 2:
        raise InputError(
            source,
            str(spec),
            f"the selection {spec.selection or DEFAULT_SELECTION[spec.kind]!r} matches one atom "
            f"({_atom_label(topology, int(atoms[0]), labels)}); pairs need two or more",
        )
    pairs = np.array(list(itertools.combinations(atoms.tolist(), 2)), dtype=int)
    prefix = "distance" if spec.kind == "distances" else "contact"
    names = tuple(
        f"{prefix}:{_atom_label(topology, int(a), labels)}:{_atom_label(topology, int(b), labels)}"
        for a, b in pairs
    )
    if spec.kind == "distances":
        return _Block(names, False, lambda traj: md.compute_distances(traj, pairs))
    cutoff = DEFAULT_CUTOFF if spec.cutoff is None else spec.cutoff
    return _Block(
        names, False, lambda traj: (md.compute_distances(traj, pairs) < cutoff).astype(float)
    )


def _rg_block(spec: FeatureSpec, topology: md.Topology, source: str) -> _Block:
    atoms = _select(topology, spec, source)
    masses = _masses(topology, atoms)
    if not masses.sum() > 0:
        raise InputError(source, str(spec), "the selected atoms have no mass (virtual sites?)")
    weights = masses / masses.sum()

    def compute(traj: md.Trajectory) -> np.ndarray:
        xyz = traj.xyz[:, atoms].astype(float)
        centre = np.einsum("a,nai->ni", weights, xyz)
        squared = np.sum((xyz - centre[:, None, :]) ** 2, axis=2)
        return np.sqrt(squared @ weights)

    return _Block(("rg" if spec.selection is None else f"rg:{spec.selection}",), False, compute)


def _rmsd_block(
    spec: FeatureSpec,
    topology: md.Topology,
    reference: md.Trajectory | None,
    source: str,
    reference_source: str | Path | None,
) -> _Block:
    if reference is None:
        raise InputError(
            source, str(spec), "RMSD needs a reference structure (pass --reference FILE.pdb)"
        )
    ref_source = str(reference_source or source)
    atoms = _select(topology, spec, source)
    ref_atoms = _select(reference.topology, spec, ref_source)
    if ref_atoms.size != atoms.size:
        raise InputError(
            ref_source,
            str(spec),
            f"the selection matches {ref_atoms.size} atoms in the reference but {atoms.size} in "
            f"the topology {source}; they must be the same atoms",
        )
    names = [topology.atom(int(i)).name for i in atoms]
    ref_names = [reference.topology.atom(int(i)).name for i in ref_atoms]
    if names != ref_names:
        k = next(i for i, (a, b) in enumerate(zip(names, ref_names, strict=True)) if a != b)
        raise InputError(
            ref_source,
            str(spec),
            f"selected atom {k} is {ref_names[k]!r} in the reference but {names[k]!r} in the "
            f"topology {source}; they must be the same atoms in the same order",
        )
    target = reference[0]

    def compute(traj: md.Trajectory) -> np.ndarray:
        return md.rmsd(traj, target, 0, atom_indices=atoms, ref_atom_indices=ref_atoms)

    return _Block(("rmsd" if spec.selection is None else f"rmsd:{spec.selection}",), False, compute)


# ---------------------------------------------------------------------- labels


def _residue_labels(topology: md.Topology) -> list[str]:
    """A unique label per residue: ``NAMEresSeq``, with ``/chain`` (then ``#index``) on clashes."""
    residues = list(topology.residues)
    labels = [f"{r.name}{r.resSeq}" for r in residues]
    counts = Counter(labels)
    labels = [
        f"{label}/{_chain_label(r.chain)}" if counts[label] > 1 else label
        for label, r in zip(labels, residues, strict=True)
    ]
    counts = Counter(labels)
    return [
        f"{label}#{r.index}" if counts[label] > 1 else label
        for label, r in zip(labels, residues, strict=True)
    ]


def _chain_label(chain: md.core.topology.Chain) -> str:
    chain_id = getattr(chain, "chain_id", None)
    return str(chain_id) if chain_id not in (None, "") else str(chain.index)


def _atom_label(topology: md.Topology, index: int, labels: list[str]) -> str:
    atom = topology.atom(index)
    return f"{labels[atom.residue.index]}-{atom.name}"


def _masses(topology: md.Topology, atoms: np.ndarray) -> np.ndarray:
    element_masses = [topology.atom(int(i)).element for i in atoms]
    return np.array([0.0 if e is None else float(e.mass) for e in element_masses])


def _preview(items: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "") or "none"
