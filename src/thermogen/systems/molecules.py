"""Molecular systems for OpenMM: built-in alanine dipeptide and users' own small molecules.

A :class:`MoleculeConfig` names a structure file, OpenMM force-field files, an optional
implicit-solvent file, constraints and the Langevin settings; :func:`build_molecule` turns it
into a :class:`MolecularSystem` (topology, positions and ``openmm.System``) without touching
the network: the force fields are the XML files bundled with OpenMM and the built-in structure
ships with thermogen.

Built-in systems (:data:`MOLECULES`):

``alanine-dipeptide``
    ACE-ALA-NME (22 atoms) in vacuum, AMBER99SB-ILDN, no cutoff, bonds to hydrogen constrained.
``alanine-dipeptide-implicit``
    The same in OBC implicit solvent (``amber99_obc.xml``, OpenMM's fast ``GBSAOBCForce``).

Units: positions in nm, energies in kJ/mol, temperatures in K, times in ps.

OpenMM and MDTraj are imported inside the functions that need them, so importing
:mod:`thermogen.systems` stays fast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, UsageError

if TYPE_CHECKING:
    import mdtraj
    import openmm
    import openmm.app

    from ..data.featurize import Featurizer

__all__ = [
    "CONSTRAINTS",
    "MOLECULES",
    "MolecularSystem",
    "MoleculeConfig",
    "build_molecule",
    "get_molecule",
    "load_molecule_config",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
"""Structures that ship with thermogen."""
CONSTRAINTS = ("none", "HBonds", "AllBonds", "HAngles")
"""Accepted values of :attr:`MoleculeConfig.constraints` (OpenMM's names)."""


@dataclass(frozen=True)
class MoleculeConfig:
    """How to build a molecule for OpenMM (no periodic box: vacuum or implicit solvent).

    Attributes
    ----------
    structure
        PDB or PDBx/mmCIF file with one model. A relative path in a YAML file is relative to
        that file's folder.
    name
        Name written to datasets and run records.
    forcefield
        OpenMM force-field XML files: bundled names such as ``"amber99sbildn.xml"`` or
        ``"amber14/protein.ff14SB.xml"``, or paths to your own (e.g. small-molecule templates).
    implicit_solvent
        An implicit-solvent XML to add (``"amber99_obc.xml"`` gives the fast ``GBSAOBCForce``;
        ``"implicit/obc2.xml"`` goes with amber14), or None for vacuum.
    constraints
        ``"HBonds"`` (default; allows a 2 fs step), ``"none"``, ``"AllBonds"`` or ``"HAngles"``.
    add_hydrogens
        Add missing hydrogens with OpenMM's Modeller (for heavy-atom structures).
    timestep_ps
        Langevin time step in ps (default 0.002 = 2 fs).
    collision_rate_per_ps
        Langevin friction in 1/ps (default 1).

    Examples
    --------
    >>> MOLECULES["alanine-dipeptide-implicit"].implicit_solvent
    'amber99_obc.xml'
    """

    structure: str
    name: str = "molecule"
    forcefield: tuple[str, ...] = ("amber99sbildn.xml",)
    implicit_solvent: str | None = None
    constraints: str = "HBonds"
    add_hydrogens: bool = False
    timestep_ps: float = 0.002
    collision_rate_per_ps: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "structure", str(self.structure))
        object.__setattr__(self, "forcefield", tuple(self.forcefield))
        if not self.forcefield:
            raise UsageError("forcefield must name at least one force-field XML file")
        if self.constraints not in CONSTRAINTS:
            raise UsageError(
                f"constraints must be one of {', '.join(CONSTRAINTS)}, got {self.constraints!r}"
            )
        if not self.timestep_ps > 0:
            raise UsageError(f"timestep_ps must be > 0, got {self.timestep_ps}")
        if not self.collision_rate_per_ps > 0:
            raise UsageError(f"collision_rate_per_ps must be > 0, got {self.collision_rate_per_ps}")

    @property
    def forcefield_files(self) -> tuple[str, ...]:
        """Every XML file handed to ``openmm.app.ForceField`` (solvent model last)."""
        return self.forcefield + ((self.implicit_solvent,) if self.implicit_solvent else ())


MOLECULES: dict[str, MoleculeConfig] = {
    "alanine-dipeptide": MoleculeConfig(
        structure=str(DATA_DIR / "alanine_dipeptide.pdb"), name="alanine-dipeptide"
    ),
    "alanine-dipeptide-implicit": MoleculeConfig(
        structure=str(DATA_DIR / "alanine_dipeptide.pdb"),
        name="alanine-dipeptide-implicit",
        implicit_solvent="amber99_obc.xml",
    ),
}
"""Built-in molecules by name (vacuum is the default alanine dipeptide)."""


@dataclass(frozen=True, eq=False)
class MolecularSystem:
    """A molecule ready for OpenMM.

    Attributes
    ----------
    name
        Name of the system (e.g. ``"alanine-dipeptide"``).
    config
        The settings it was built from.
    topology
        ``openmm.app.Topology`` of the molecule (hydrogens included).
    positions
        (n_atoms, 3) starting coordinates in nm.
    system
        The ``openmm.System``: no cutoff, no periodic box, constraints as configured.
    """

    name: str
    config: MoleculeConfig
    topology: openmm.app.Topology
    positions: np.ndarray
    system: openmm.System

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return self.positions.shape[0]

    @property
    def timestep_ps(self) -> float:
        """Langevin time step in ps."""
        return self.config.timestep_ps

    @property
    def collision_rate_per_ps(self) -> float:
        """Langevin friction in 1/ps."""
        return self.config.collision_rate_per_ps

    def mdtraj_topology(self) -> mdtraj.Topology:
        """The topology as an ``mdtraj.Topology`` (for featurization and trajectory files)."""
        import mdtraj

        return mdtraj.Topology.from_openmm(self.topology)

    def potential_energy(
        self, positions: np.ndarray, platform: str = "Reference", progress: bool = False
    ) -> np.ndarray:
        """Potential energies in kJ/mol of configurations.

        Parameters
        ----------
        positions
            (n_atoms, 3) or (M, n_atoms, 3) coordinates in nm.
        platform
            OpenMM platform that evaluates them (Reference is exact and fast for small systems).
        progress
            Show a progress bar over configurations.

        Returns
        -------
        numpy.ndarray
            (M,) energies in kJ/mol (M = 1 for a single configuration).
        """
        import openmm
        import openmm.unit as unit
        from tqdm import tqdm

        frames = np.asarray(positions, dtype=float).reshape(-1, self.n_atoms, 3)
        context = openmm.Context(
            self.system,
            openmm.VerletIntegrator(0.001),
            openmm.Platform.getPlatformByName(platform),
        )
        energies = np.empty(len(frames))
        frames_shown = tqdm(frames, desc="energies", unit="structure", disable=not progress)
        for i, frame in enumerate(frames_shown):
            context.setPositions(frame)
            state = context.getState(getEnergy=True)
            energies[i] = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
        return energies

    def constraint_lengths(self) -> dict[tuple[int, int], float]:
        """Lengths in nm of the System's distance constraints, by atom pair (i < j)."""
        from openmm import unit

        lengths = {}
        for index in range(self.system.getNumConstraints()):
            i, j, length = self.system.getConstraintParameters(index)
            lengths[(min(i, j), max(i, j))] = float(length.value_in_unit(unit.nanometer))
        return lengths

    def featurizer(self, spec: str | None = None) -> Featurizer:
        """The :class:`~thermogen.data.featurize.Featurizer` of ``spec`` on this molecule.

        Parameters
        ----------
        spec
            A feature specification (``thermogen featurize --features``); None for the default:
            backbone dihedrals ``phi,psi``, or ``rg`` for a molecule with no protein backbone.
            ``internal`` features hold the System's constrained bonds at their exact lengths.
        """
        import mdtraj

        from ..data.featurize import Featurizer

        topology = self.mdtraj_topology()
        if spec is None:
            frame = mdtraj.Trajectory(np.zeros((1, topology.n_atoms, 3)), topology)
            spec = "phi,psi" if mdtraj.compute_phi(frame)[0].size > 0 else "rg"
        return Featurizer(
            spec, topology, source=self.name, constrained_lengths=self.constraint_lengths()
        )

    def features(
        self, positions: np.ndarray, spec: str | None = None
    ) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
        """The features of frames of this molecule (see :meth:`featurizer`).

        Parameters
        ----------
        positions
            (M, n_atoms, 3) coordinates in nm.
        spec
            Feature specification; None for backbone dihedrals (``phi:ALA2, psi:ALA2`` for
            alanine dipeptide, in radians) or ``rg`` (nm) without a backbone.

        Returns
        -------
        features
            (M, D) features (angles in radians, lengths in nm).
        names
            D feature names as ``thermogen featurize`` gives them.
        periodic
            (D,) bool, True for the angles.
        """
        featurizer = self.featurizer(spec)
        return featurizer.transform_positions(positions), featurizer.names, featurizer.periodic


def get_molecule(name: str) -> MolecularSystem:
    """Build a built-in molecule by name (see :data:`MOLECULES`).

    Raises
    ------
    UsageError
        If ``name`` is not a built-in molecule; the message lists the known names.
    """
    if name not in MOLECULES:
        raise UsageError(f"unknown molecule {name!r}; choose one of {', '.join(MOLECULES)}")
    return build_molecule(MOLECULES[name])


def load_molecule_config(path: str | Path) -> MoleculeConfig:
    """Read a :class:`MoleculeConfig` from a YAML file; relative paths are relative to the file.

    Example file::

        name: my-peptide
        structure: peptide.pdb
        forcefield: [amber14/protein.ff14SB.xml]
        implicit_solvent: implicit/obc2.xml
        add_hydrogens: true

    Raises
    ------
    InputError
        Naming the file and the key, for a missing file, an unknown key or a bad value.
    """
    from ..config import dataclass_from_mapping, load_yaml_mapping

    path = Path(path)
    data = load_yaml_mapping(path)
    if "structure" not in data:
        raise InputError(path, "structure", "is missing (the PDB file of the molecule)")
    data.setdefault("name", path.stem)
    config = dataclass_from_mapping(MoleculeConfig, data, path)
    resolved = {
        "structure": _relative_to(path, config.structure),
        "forcefield": tuple(_relative_to(path, f, only_if_exists=True) for f in config.forcefield),
    }
    if config.implicit_solvent:
        resolved["implicit_solvent"] = _relative_to(
            path, config.implicit_solvent, only_if_exists=True
        )
    return dataclasses.replace(config, **resolved)


def _relative_to(config_file: Path, name: str, only_if_exists: bool = False) -> str:
    """``name`` resolved against the config file's folder (force fields: only if found there)."""
    candidate = Path(name).expanduser()
    if candidate.is_absolute():
        return str(candidate)
    local = config_file.parent / candidate
    if only_if_exists and not local.is_file():
        return name  # a force field bundled with OpenMM
    return str(local)


def build_molecule(config: MoleculeConfig, source: str | Path | None = None) -> MolecularSystem:
    """Parameterize the molecule described by ``config`` with OpenMM (offline).

    Parameters
    ----------
    config
        Structure, force field, solvent model and constraints.
    source
        The settings file, named in error messages (default: the structure file).

    Returns
    -------
    MolecularSystem
        Topology, starting positions (nm) and the ``openmm.System`` (no cutoff, no box).

    Raises
    ------
    InputError
        Naming the file and field: a structure file that is missing or unreadable, a force
        field that OpenMM cannot find, or residues the force field cannot parameterize.
    """
    import openmm.app as app
    import openmm.unit as unit

    structure = Path(config.structure)
    source = structure if source is None else source
    topology, positions = _read_structure(structure, source)
    forcefield = _forcefield(config, source)
    if config.add_hydrogens:
        modeller = app.Modeller(topology, positions)
        try:
            modeller.addHydrogens(forcefield)
        except (ValueError, KeyError) as err:
            raise InputError(
                structure, "add_hydrogens", f"OpenMM cannot add hydrogens: {_first_line(err)}"
            ) from None
        topology, positions = modeller.topology, modeller.positions
    constraints = {
        "none": None,
        "HBonds": app.HBonds,
        "AllBonds": app.AllBonds,
        "HAngles": app.HAngles,
    }
    try:
        system = forcefield.createSystem(
            topology,
            nonbondedMethod=app.NoCutoff,
            constraints=constraints[config.constraints],
        )
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(
            structure,
            "forcefield",
            f"{', '.join(config.forcefield_files)} cannot parameterize this structure: "
            f"{_first_line(err)}",
        ) from None
    xyz = np.array(positions.value_in_unit(unit.nanometer), dtype=float)
    return MolecularSystem(config.name, config, topology, xyz, system)


def _read_structure(path: Path, source: str | Path) -> tuple[Any, Any]:
    """Topology and positions from a PDB or PDBx/mmCIF file."""
    import openmm.app as app

    if not path.is_file():
        raise InputError(source, "structure", f"file {path} does not exist")
    reader = app.PDBxFile if path.suffix.lower() in (".cif", ".pdbx") else app.PDBFile
    try:
        structure = reader(str(path))
    except Exception as err:  # OpenMM's readers raise many types on malformed files
        raise InputError(
            path, "structure", f"cannot be read as {reader.__name__[:-4]}: {_first_line(err)}"
        ) from None
    if structure.topology.getNumAtoms() == 0:
        raise InputError(path, "structure", "contains no atoms")
    return structure.topology, structure.positions


def _forcefield(config: MoleculeConfig, source: str | Path) -> openmm.app.ForceField:
    """``openmm.app.ForceField`` from the configured files, each checked on its own."""
    import openmm.app as app

    for name, field in [(f, "forcefield") for f in config.forcefield] + (
        [(config.implicit_solvent, "implicit_solvent")] if config.implicit_solvent else []
    ):
        try:
            app.ForceField(name)
        except Exception as err:  # missing file, or XML OpenMM cannot read
            problem = (
                f"{name!r} is neither a file nor one of OpenMM's bundled force fields"
                if "could not locate" in str(err).lower() or isinstance(err, FileNotFoundError)
                else f"{name!r} cannot be read: {_first_line(err)}"
            )
            raise InputError(source, field, problem) from None
    try:
        return app.ForceField(*config.forcefield_files)
    except Exception as err:  # e.g. two files defining the same residue template
        raise InputError(
            source, "forcefield", f"the files do not combine: {_first_line(err)}"
        ) from None


def _first_line(err: BaseException) -> str:
    """An exception's message as one short line (OpenMM's template errors are long)."""
    text = " ".join(str(err).split()) or type(err).__name__
    text = text.split(" For more information", 1)[0]
    text = text.replace(
        "You may be able to add them with Modeller.addHydrogens().",
        "Set add_hydrogens: true in the settings to add them.",
    )
    return text if len(text) <= 300 else text[:297] + "..."
