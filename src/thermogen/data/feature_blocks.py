"""Feature specifications resolved against a topology: atoms, names and how to compute them.

:func:`resolve_features` turns each :class:`~thermogen.data.feature_spec.FeatureSpec` into a
:class:`FeatureBlock`, checking its selection once, so that
:class:`~thermogen.data.featurize.Featurizer` only evaluates blocks on frames. Residues are
labelled ``NAMEresSeq``, with ``/chain`` (then ``#index``) appended where labels clash.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mdtraj as md
import numpy as np

from ..errors import InputError
from .feature_spec import ANGLE_KINDS, DEFAULT_CUTOFF, DEFAULT_SELECTION, FeatureSpec

__all__ = ["FeatureBlock", "resolve_features"]

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
class FeatureBlock:
    """Resolved features of one spec: names, periodicity and how to compute them.

    Attributes
    ----------
    names
        M feature names, such as ``phi:ALA2`` or ``distance:ALA2-CA:LYS5-CA``.
    periodic
        True for angles (radians), False for lengths (nm), contacts and the like.
    compute
        Maps N frames to their (N, M) features.
    """

    names: tuple[str, ...]
    periodic: bool
    compute: Callable[[md.Trajectory], np.ndarray]  # (N, len(names))


def resolve_features(
    specs: Sequence[FeatureSpec],
    topology: md.Topology,
    reference: md.Trajectory | None,
    source: str,
    reference_source: str | Path | None,
) -> list[FeatureBlock]:
    """One block per spec, in order.

    Parameters
    ----------
    specs
        The features asked for.
    topology
        Topology of every frame that will be featurized.
    reference
        Structure for ``rmsd`` specs (frame 0 is used), or None.
    source, reference_source
        Topology and reference files, named in error messages.

    Raises
    ------
    InputError
        If a selection is invalid or empty, asked-for angles do not exist in the topology, or
        an ``rmsd`` spec has no reference or one with other selected atoms.
    """
    labels = _residue_labels(topology)
    return [_resolve(spec, topology, labels, reference, source, reference_source) for spec in specs]


def _resolve(
    spec: FeatureSpec,
    topology: md.Topology,
    labels: list[str],
    reference: md.Trajectory | None,
    source: str,
    reference_source: str | Path | None,
) -> FeatureBlock:
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
) -> FeatureBlock:
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
    return FeatureBlock(names, True, lambda traj: md.compute_dihedrals(traj, indices))


def _pair_block(
    spec: FeatureSpec, topology: md.Topology, labels: list[str], source: str
) -> FeatureBlock:
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
        return FeatureBlock(names, False, lambda traj: md.compute_distances(traj, pairs))
    cutoff = DEFAULT_CUTOFF if spec.cutoff is None else spec.cutoff
    return FeatureBlock(
        names, False, lambda traj: (md.compute_distances(traj, pairs) < cutoff).astype(float)
    )


def _rg_block(spec: FeatureSpec, topology: md.Topology, source: str) -> FeatureBlock:
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

    return FeatureBlock(
        ("rg" if spec.selection is None else f"rg:{spec.selection}",), False, compute
    )


def _rmsd_block(
    spec: FeatureSpec,
    topology: md.Topology,
    reference: md.Trajectory | None,
    source: str,
    reference_source: str | Path | None,
) -> FeatureBlock:
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

    return FeatureBlock(
        ("rmsd" if spec.selection is None else f"rmsd:{spec.selection}",), False, compute
    )


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
