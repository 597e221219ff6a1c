"""``thermogen featurize``: features of trajectories or of an openmmtools REMD store."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ..errors import UsageError

__all__ = ["add_parser", "handle"]

_FEATURIZE_EPILOG = """\
features (--features): comma-separated items KIND[:SELECTION[:CUTOFF]], SELECTION in MDTraj's
atom selection language:
  phi, psi, omega, chi1[:SEL]   dihedrals in radians (periodic), one per residue having the
                                atoms; SEL picks residues. Named phi:ALA2
  distances[:SEL]               distances (nm) between all pairs of SEL (default 'name CA')
  contacts[:SEL[:CUTOFF]]       1 where a pair of SEL is closer than CUTOFF nm (default 0.8)
  rg[:SEL]                      mass-weighted radius of gyration (nm) of SEL (default all)
  rmsd[:SEL]                    RMSD (nm) to --reference after superposing SEL (default heavy
                                atoms)

examples:
  thermogen featurize --top ala2.pdb --traj a.dcd@300 --traj b.dcd@350 --features phi,psi --out d.npz
  thermogen featurize --top ala2.pdb --traj rep0.xtc@rep0_T.txt --traj rep1.xtc@rep1_T.txt \\
      --energy rep0_U.txt --energy rep1_U.txt --out d.npz
  thermogen featurize --top ala2.pdb --store remd.nc --by replica --features "phi,psi,rmsd:backbone" --out d.npz
"""


def handle(args: argparse.Namespace) -> int:
    from ..data import save_dataset
    from ..data.featurize import parse_features
    from ..data.trajectories import load_topology
    from ..provenance import run_record, write_json

    specs = parse_features(args.features)
    if args.reference is not None and not any(spec.kind == "rmsd" for spec in specs):
        raise UsageError("--reference is only used by rmsd features")
    topology = load_topology(args.top)
    settings: dict[str, Any] = {"topology": args.top, "stride": args.stride}
    read = _featurize_store if args.store is not None else _featurize_files
    dataset, described = read(args, topology, specs, settings)
    path = save_dataset(dataset, args.out)
    counts = {float(t): int(np.sum(dataset.temperature == t)) for t in dataset.temperatures}
    results = {
        "n_frames": dataset.n_frames,
        "n_features": dataset.n_features,
        "frames_per_temperature": counts,
        "has_energy": dataset.has_energy,
    }
    record = write_json(
        path.with_suffix(".run.json"), run_record("featurize", settings, None, results)
    )
    names = ", ".join(dataset.feature_names[:6]) + (", ..." if dataset.n_features > 6 else "")
    print(
        f"wrote {dataset.n_frames} frames x {dataset.n_features} features ({names}) at "
        f"{len(counts)} temperatures ({min(counts):.5g}-{max(counts):.5g} K){described} to {path}"
    )
    print(f"run record: {record}")
    return 0


def _featurizer(
    args: argparse.Namespace, topology: Any, specs: Any, settings: dict[str, Any]
) -> Any:
    """The features of ``--features`` resolved on the topology (after the inputs were checked)."""
    from ..data.featurize import Featurizer
    from ..data.trajectories import load_structure

    needs_reference = any(spec.kind == "rmsd" for spec in specs)
    reference_path = args.reference or args.top
    featurizer = Featurizer(
        specs,
        topology,
        reference=load_structure(reference_path) if needs_reference else None,
        source=args.top,
        reference_source=reference_path,
    )
    settings.update(
        features=",".join(str(spec) for spec in specs),
        feature_names=list(featurizer.names),
        periodic=featurizer.periodic,
        reference=reference_path if needs_reference else None,
    )
    return featurizer


def _featurize_store(
    args: argparse.Namespace, topology: Any, specs: Any, settings: dict[str, Any]
) -> tuple[Any, str]:
    """Read an openmmtools store (``--store``); returns the dataset and a phrase for the summary."""
    from ..data.openmmtools_store import OpenMMToolsStore, featurize_store

    for option in ("energy", "energy_unit"):
        if getattr(args, option) is not None:
            raise UsageError(f"--{option.replace('_', '-')} goes with --traj; a store has energies")
    by = args.by or "replica"
    first = 1 if args.first_iteration is None else args.first_iteration
    with OpenMMToolsStore(args.store, args.checkpoint) as store:
        store.check_topology(topology, args.top)
        iterations = store.frame_iterations(first, args.stride)
        dataset = featurize_store(
            store,
            topology,
            _featurizer(args, topology, specs, settings),
            by=by,
            first_iteration=first,
            stride=args.stride,
            progress=not args.quiet,
            topology_source=args.top,
        )
        settings.update(
            store=args.store,
            checkpoint=str(store.checkpoint_path),
            by=by,
            first_iteration=first,
            iterations=[int(iterations[0]), int(iterations[-1]), iterations.size],
            checkpoint_interval=store.checkpoint_interval,
            temperatures=store.temperatures,
            n_replicas=store.n_replicas,
            pressure_bar=store.pressure,
            energy="U + pV (kJ/mol)" if store.pressure is not None else "U (kJ/mol)",
        )
    kind = "demultiplexed by replica" if by == "replica" else "grouped by state"
    return dataset, (
        f", {kind} ({store.n_replicas} replicas, iterations {iterations[0]}-{iterations[-1]} "
        f"every {store.checkpoint_interval * args.stride})"
    )


def _featurize_files(
    args: argparse.Namespace, topology: Any, specs: Any, settings: dict[str, Any]
) -> tuple[Any, str]:
    """Read trajectory files (``--traj``); returns the dataset and a phrase for the summary."""
    from ..data.trajectories import (
        check_trajectories,
        featurize_trajectories,
        parse_trajectory_argument,
    )

    for option in ("checkpoint", "by", "first_iteration"):
        if getattr(args, option) is not None:
            raise UsageError(f"--{option.replace('_', '-')} goes with --store")
    energies = args.energy or [None] * len(args.traj)
    if len(energies) != len(args.traj):
        raise UsageError(
            f"give one --energy per --traj, in the same order ({len(energies)} for {len(args.traj)})"
        )
    inputs = [
        parse_trajectory_argument(text, energy)
        for text, energy in zip(args.traj, energies, strict=True)
    ]
    check_trajectories(inputs, topology, args.top)
    dataset = featurize_trajectories(
        inputs,
        topology,
        _featurizer(args, topology, specs, settings),
        stride=args.stride,
        energy_unit=args.energy_unit or "kJ/mol",
        progress=not args.quiet,
        topology_source=args.top,
    )
    settings.update(
        trajectories=[{"replica": i, **item.as_record()} for i, item in enumerate(inputs)],
        energy_unit=args.energy_unit or "kJ/mol",
    )
    files = "file" if len(inputs) == 1 else "files"
    return dataset, f" from {len(inputs)} trajectory {files}"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen featurize`` to the subcommands."""
    featurize = sub.add_parser(
        "featurize",
        help="features of trajectories at several temperatures or of an openmmtools REMD store",
        description="Read molecular frames with MDTraj and write a dataset (.npz) of features\n"
        "with each frame's temperature (K), potential energy (kJ/mol) when known, replica and\n"
        "time, plus a run record (.run.json). Inputs: trajectory files (DCD, XTC, NetCDF, PDB,\n"
        "...), each one continuous trajectory with one temperature (FILE@T) or a table of one\n"
        "temperature per frame (FILE@TABLE: .npy or text, one value per line); or an\n"
        "openmmtools MultiStateReporter store (--store), demultiplexed by replica (continuous\n"
        "trajectories through the temperatures) or grouped by state (--by state).",
        epilog=_FEATURIZE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    featurize.add_argument(
        "--top", required=True, help="topology of every frame (PDB, GRO, PRMTOP, PSF, ...)"
    )
    inputs = featurize.add_mutually_exclusive_group(required=True)
    inputs.add_argument(
        "--traj",
        action="append",
        metavar="FILE@T|FILE@TABLE",
        help="a trajectory and its temperature in K, or a table of one temperature per frame "
        "(repeat for each file; file i gets replica i)",
    )
    inputs.add_argument("--store", metavar="STORE.nc", help="openmmtools store (analysis .nc file)")
    featurize.add_argument(
        "--features", default="phi,psi", help="feature specification (see below; default phi,psi)"
    )
    featurize.add_argument("--out", required=True, help="output dataset (.npz)")
    featurize.add_argument(
        "--reference", help="structure for rmsd features (default: the --top file)"
    )
    featurize.add_argument(
        "--stride", type=int, default=1, help="keep every N-th frame or stored iteration"
    )
    featurize.add_argument("--quiet", action="store_true", help="no progress bar")
    files = featurize.add_argument_group("with --traj")
    files.add_argument(
        "--energy",
        action="append",
        metavar="TABLE",
        help="potential energies, one per frame, for each --traj in the same order",
    )
    files.add_argument(
        "--energy-unit",
        choices=["kJ/mol", "kcal/mol"],
        help="of the --energy tables (default kJ/mol)",
    )
    store = featurize.add_argument_group("with --store")
    store.add_argument(
        "--checkpoint", help="checkpoint file with the positions (default STORE_checkpoint.nc)"
    )
    store.add_argument(
        "--by",
        choices=["replica", "state"],
        help="replica: each replica's continuous trajectory (default); state: frames by temperature",
    )
    store.add_argument(
        "--first-iteration",
        type=int,
        help="first iteration read (default 1; iteration 0 holds the starting structures)",
    )
    featurize.set_defaults(func=handle)
