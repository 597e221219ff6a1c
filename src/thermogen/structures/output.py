"""Generated internal coordinates as 3D structures: files, the molecule's energies, checks.

:func:`check_structure_request` runs before any sampling (a run without internal coordinates,
an unknown trajectory format or a molecule whose atoms are not the run's is one line);
:func:`write_structures` writes the structures with MDTraj (DCD, XTC, PDB, ... by extension)
through a temporary file renamed into place, with the topology as a PDB beside them; the
request's molecule evaluates their potential energies with OpenMM. Units: nm, kJ/mol.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .zmatrix import InternalCoordinates

if TYPE_CHECKING:
    from ..systems.molecules import MolecularSystem

__all__ = [
    "StructureRequest",
    "check_structure_request",
    "write_structures",
]

_FORMATS = (".dcd", ".xtc", ".trr", ".nc", ".h5", ".pdb", ".gro", ".xyz")
"""Trajectory formats MDTraj writes that ``--structures`` accepts."""


@dataclass(frozen=True)
class StructureRequest:
    """What ``sample --structures`` will write, checked before sampling.

    Attributes
    ----------
    internal
        The run's Z-matrix.
    path
        The trajectory file; ``topology_path`` the PDB beside it (None when ``path`` is a PDB).
    molecule
        The OpenMM system whose energies are evaluated, or None (structures only).
    """

    internal: InternalCoordinates
    path: Path
    topology_path: Path | None
    molecule: MolecularSystem | None

    @property
    def outputs(self) -> list[Path]:
        """Every file this request writes."""
        return [self.path, *([self.topology_path] if self.topology_path else [])]


def check_structure_request(
    internal: InternalCoordinates | None,
    run: str | Path | None,
    path: str | Path,
    molecule: str | None = None,
) -> StructureRequest:
    """Check a ``--structures`` request against the run before anything is sampled.

    Parameters
    ----------
    internal
        The run's Z-matrix, None when it was not trained on internal coordinates.
    run
        The run folder (named in messages).
    path
        Trajectory file to write.
    molecule
        A built-in molecule name or a molecule settings YAML whose energies are wanted; default
        the molecule recorded with the run's data, if any.

    Raises
    ------
    InputError
        One line naming the run, the option or the molecule file and what is wrong.
    """
    if internal is None:
        raise InputError(
            run or "sample",
            "--structures",
            "needs a run trained on internal coordinates (thermogen featurize --features "
            "internal); this run's features cannot be turned into structures",
        )
    path = Path(path)
    if path.suffix.lower() not in _FORMATS:
        raise InputError(
            path,
            "--structures",
            f"has an extension MDTraj does not write; use {', '.join(_FORMATS)}",
        )
    topology_path = None if path.suffix.lower() == ".pdb" else path.with_suffix(".pdb")
    system = _molecule(molecule or internal.molecule, internal)
    return StructureRequest(internal, path, topology_path, system)


def write_structures(request: StructureRequest, positions: np.ndarray) -> list[Path]:
    """Write structures (M, n_atoms, 3) in nm, each file through a temporary file.

    Returns
    -------
    list of Path
        The trajectory file and the topology PDB (its first structure) beside it.
    """
    import mdtraj

    trajectory = mdtraj.Trajectory(positions.astype(np.float32), request.internal.topology)
    targets = [(request.path, trajectory)]
    if request.topology_path is not None:
        targets.append((request.topology_path, trajectory[:1]))
    for target, frames in targets:
        temporary = target.with_name(f".{target.stem}.partial{target.suffix}")
        try:
            frames.save(str(temporary), force_overwrite=True)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    return [target for target, _ in targets]


def _molecule(name: str | None, internal: InternalCoordinates) -> MolecularSystem | None:
    """The OpenMM system named by ``name`` (built-in or YAML), its atoms checked against the
    run's; None without a name."""
    if name is None:
        return None
    from ..systems.molecules import MOLECULES, build_molecule, load_molecule_config

    config = MOLECULES[name] if name in MOLECULES else load_molecule_config(name)
    system = build_molecule(config, name)
    _check_same_atoms(system, internal, name)
    return system


def _check_same_atoms(system: MolecularSystem, internal: InternalCoordinates, name: str) -> None:
    """Refuse a molecule whose atoms (count, names and residues, in order) are not the run's."""
    ours = [(a.residue.name, a.name) for a in system.mdtraj_topology().atoms]
    theirs = [(a.residue.name, a.name) for a in internal.topology.atoms]
    if len(ours) != len(theirs):
        problem = f"has {len(ours)} atoms but the run's molecule has {len(theirs)}"
    elif ours != theirs:
        i = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b)
        problem = (
            f"atom {i} is {'-'.join(ours[i])} where the run's molecule has {'-'.join(theirs[i])}"
        )
    else:
        return
    raise InputError(name, "structure", f"{problem}: it is not the molecule the run was trained on")
