"""``thermogen simulate``: replica exchange of an analytic system or a molecule."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import refuse_options, temperatures_option

__all__ = ["add_parser", "handle"]

_ANALYTIC_ONLY = ("chains", "steps", "equilibration", "stride", "swap_interval")
_MOLECULE_ONLY = ("ns", "exchange_ps", "platform", "overwrite", "features", "dcd")
"""``simulate`` options that only one kind of system takes."""


def handle(args: argparse.Namespace) -> int:
    """Resolve the settings, run replica exchange, print its summary and what was written."""
    from ..pipeline.simulation import is_molecule, simulate_system
    from ..simulate import RunInterrupted

    molecule = is_molecule(args.system)
    if molecule:
        refuse_options(args, _ANALYTIC_ONLY, "the analytic systems")
    else:
        refuse_options(args, _MOLECULE_ONLY, "molecules")
    settings = _settings(args, molecule)
    try:
        result = simulate_system(
            args.system, settings, Path(args.out), progress=not args.quiet, dcd=args.dcd
        )
    except RunInterrupted as stop:  # a molecular run continues when run again
        print(f"thermogen simulate: {stop}", file=sys.stderr)
        return 130
    print(result.summary())
    return 0


def _settings(args: argparse.Namespace, molecule: bool) -> Any:
    """The command line as :class:`~thermogen.workflow.SimulateSettings`, ladder resolved."""
    from ..simulate import DEFAULT_LADDER, parse_temperatures
    from ..systems import get_system
    from ..workflow.schema import SimulateSettings

    if args.temperatures is not None:
        temperatures = tuple(temperatures_option(args.temperatures))
    elif molecule:
        temperatures = tuple(parse_temperatures(DEFAULT_LADDER))
    else:
        temperatures = tuple(get_system(args.system).default_temperatures)
    names = (*_ANALYTIC_ONLY, *_MOLECULE_ONLY[:-1], "timestep", "friction")
    return SimulateSettings(
        temperatures=temperatures,
        **{name: getattr(args, name) for name in names},
        seed=args.seed,
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen simulate`` to the subcommands."""
    simulate = sub.add_parser(
        "simulate",
        help="run replica exchange on a built-in system or a molecule (OpenMM)",
        description="Run temperature replica exchange and write a dataset (.npz) plus a run "
        "record (.run.json). Analytic systems (mueller-brown, double-well, three-hole, "
        "two-state, lj7): vectorised Langevin dynamics in reduced units (k_B = 1). Molecules "
        "(alanine-dipeptide, alanine-dipeptide-implicit, or a settings file FILE.yaml naming "
        "structure, forcefield, implicit_solvent, constraints, timestep_ps, "
        "collision_rate_per_ps): OpenMM with openmmtools' parallel tempering, in K, kJ/mol, nm "
        "and ps; features are the backbone dihedrals phi, psi (radians) unless --features names "
        "others (--features internal: every internal coordinate, for whole structures); the "
        "NetCDF store "
        "OUT.nc (+ OUT_checkpoint.nc) keeps the trajectory, and running the same command again "
        "continues a killed or shorter run from it.",
    )
    simulate.add_argument(
        "system",
        help="mueller-brown, double-well, three-hole, two-state, lj7, alanine-dipeptide, "
        "alanine-dipeptide-implicit, or a molecule settings FILE.yaml",
    )
    simulate.add_argument(
        "--temperatures",
        help="'T1,T2,...' or a geometric ladder 'TMIN:TMAX:N' (reduced units for analytic "
        "systems, default: the system's ladder; K for molecules, default 300:600:8)",
    )
    simulate.add_argument("--out", required=True, help="output dataset (.npz)")
    analytic = simulate.add_argument_group("analytic systems")
    analytic.add_argument("--chains", type=int, help="independent REMD chains (default 64)")
    analytic.add_argument("--steps", type=int, help="production steps (default 20000)")
    analytic.add_argument("--equilibration", type=int, help="discarded steps (default 2000)")
    analytic.add_argument("--stride", type=int, help="steps between saved frames (default 50)")
    analytic.add_argument(
        "--swap-interval", type=int, help="steps between swap attempts (default 50)"
    )
    molecules = simulate.add_argument_group("molecules (OpenMM)")
    molecules.add_argument("--ns", type=float, help="ns per replica (default 5)")
    molecules.add_argument(
        "--exchange-ps",
        type=float,
        help="ps of dynamics between swap attempts, one frame per replica (default 1)",
    )
    molecules.add_argument(
        "--platform",
        help="OpenMM platform: auto (default: time each on a few steps, take the fastest), "
        "Reference, CPU, CUDA or OpenCL",
    )
    molecules.add_argument(
        "--overwrite", action="store_true", help="delete an existing store OUT.nc and start over"
    )
    molecules.add_argument(
        "--features",
        help="features of the dataset, as thermogen featurize --features takes them "
        "(default phi,psi; 'internal' gives every internal coordinate with the constrained "
        "bonds at their exact lengths, so that thermogen sample --structures can rebuild "
        "molecules)",
    )
    molecules.add_argument(
        "--dcd", action="store_true", help="also write one DCD per temperature (OUT.T<K>K.dcd)"
    )
    simulate.add_argument(
        "--timestep",
        type=float,
        help="Langevin time step (default: the system's; ps for molecules, default 0.002)",
    )
    simulate.add_argument(
        "--friction",
        type=float,
        help="Langevin friction (default: the system's; 1/ps for molecules, default 1)",
    )
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.set_defaults(func=handle)
