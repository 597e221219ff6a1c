"""Features of molecular frames with MDTraj: dihedrals, distances, contacts, Rg and RMSD.

Plain functions over one :class:`mdtraj.Trajectory` (``dihedrals(traj, "phi")``), and a
:class:`Featurizer` that resolves a feature specification against a topology once and then turns
any number of trajectory chunks into rows of one (N, D) feature matrix. Specifications are
parsed by :mod:`thermogen.data.feature_spec` and resolved against the topology by
:mod:`thermogen.data.feature_blocks`.

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
``internal[:RULE]``
    Every internal coordinate of the molecule along an automatic Z-matrix
    (:mod:`thermogen.structures.zmatrix`): free bond lengths (nm), bond angles and torsions
    (radians, periodic), backbone torsions named ``phi:RES``/``psi:RES``. ``RULE`` says which
    bonds are constrained and left out: ``HBonds`` (default), ``none`` or ``AllBonds``. The
    dataset keeps the Z-matrix, so ``thermogen sample --structures`` can rebuild structures.
    Not combined with other features.

Examples: ``"phi,psi"``, ``"phi,psi,chi1:resname LEU"``, ``"distances:name CA"``, ``"rg"``,
``"rmsd:backbone"``, ``"contacts:name CA:0.8"``. Residues are labelled ``NAMEresSeq`` (as in
the PDB file); where two residues share a label the chain id is appended (``ALA2/B``).

Distances, contacts and angles use the minimum image when frames carry a unit cell (MDTraj's
default); Rg and RMSD assume molecules that are whole (not split across the periodic box).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import mdtraj as md
import numpy as np

from ..errors import UsageError
from ..structures.zmatrix import InternalCoordinates, build_internal_coordinates
from .feature_blocks import resolve_features
from .feature_spec import ANGLE_KINDS, DEFAULT_CUTOFF, FEATURE_KINDS, FeatureSpec, parse_features

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
    constrained_lengths
        For ``internal`` features: exact lengths in nm of constrained bonds by atom pair (an
        OpenMM System's constraints); these bonds are fixed at them and left out of the features
        whatever RULE says. Other constrained bonds take their mean length over the frames.

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
        constrained_lengths: Mapping[tuple[int, int], float] | None = None,
    ) -> None:
        self.specs = parse_features(specs) if isinstance(specs, str) else tuple(specs)
        if not self.specs:
            raise UsageError("--features: no features requested")
        self.topology = topology
        self.source = str(source)
        self._internal = _internal_coordinates(
            self.specs, topology, self.source, constrained_lengths
        )
        if self._internal is not None:
            self._given = _given_slots(self._internal, constrained_lengths)
            self._blocks: list = []
            self._length_sum, self._frames_seen = np.zeros(topology.n_atoms), 0
            self.names, self.periodic = self._internal.feature_names, self._internal.periodic
            return
        blocks = resolve_features(self.specs, topology, reference, self.source, reference_source)
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
        if self._internal is not None:
            return self._internal_features(traj)
        columns = [np.asarray(block.compute(traj), dtype=float) for block in self._blocks]
        return np.concatenate([c.reshape(traj.n_frames, -1) for c in columns], axis=1)

    def transform_positions(self, positions: np.ndarray) -> np.ndarray:
        """(M, D) features of (M, n_atoms, 3) positions in nm (see :meth:`transform`)."""
        return self.transform(md.Trajectory(np.asarray(positions, dtype=float), self.topology))

    @property
    def internal_coordinates(self) -> InternalCoordinates | None:
        """For ``internal`` features: the Z-matrix, its constrained bonds at the lengths given
        or else at their mean length over every frame transformed so far (constrained, so the
        same in every frame up to the file's precision); None for other features."""
        if self._internal is None:
            return None
        lengths = self._length_sum / max(self._frames_seen, 1)
        fixed = self._internal.fixed_bond
        fixed = np.where(self._given, fixed, np.where(np.isnan(fixed), np.nan, lengths))
        return replace(self._internal, fixed_bond=fixed)

    def _internal_features(self, traj: md.Trajectory) -> np.ndarray:
        ic = self._internal
        pairs = np.column_stack([ic.order[1:], ic.refs[1:, 0]])
        lengths = md.compute_distances(traj, pairs, periodic=False).astype(float)
        self._length_sum[1:] += lengths.sum(axis=0)
        self._frames_seen += traj.n_frames
        return ic.features(traj.xyz)


def _internal_coordinates(
    specs: Sequence[FeatureSpec],
    topology: md.Topology,
    source: str,
    constrained_lengths: Mapping[tuple[int, int], float] | None,
) -> InternalCoordinates | None:
    """The Z-matrix of an ``internal`` spec (lengths measured later), or None without one."""
    kinds = [spec.kind for spec in specs]
    if "internal" not in kinds:
        return None
    if len(kinds) > 1:
        raise UsageError(
            "--features: 'internal' gives every coordinate of the molecule and takes no other "
            "features beside it"
        )
    rule = specs[0].selection or "HBonds"
    xyz = np.zeros((1, topology.n_atoms, 3))
    return build_internal_coordinates(
        topology, xyz, constraints=rule, constrained_lengths=constrained_lengths, source=source
    )


def _given_slots(
    internal: InternalCoordinates, constrained_lengths: Mapping[tuple[int, int], float] | None
) -> np.ndarray:
    """(n_atoms,) bool: the slots whose bond length ``constrained_lengths`` gives."""
    pairs = {tuple(sorted(pair)) for pair in (constrained_lengths or {})}
    bonds = zip(internal.order.tolist(), internal.refs[:, 0].tolist(), strict=True)
    return np.array([slot > 0 and tuple(sorted(b)) in pairs for slot, b in enumerate(bonds)])


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
