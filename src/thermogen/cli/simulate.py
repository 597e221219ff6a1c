"""``thermogen simulate``: replica exchange of an analytic system or a molecule."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ..errors import UsageError
from .common import refuse_options

__all__ = ["add_parser", "handle"]

_ANALYTIC_ONLY = ("chains", "steps", "equilibration", "stride", "swap_interval")
_MOLECULE_ONLY = ("ns", "exchange_ps", "platform", "overwrite", "dcd")
"""``simulate`` options that only one kind of system takes."""


def handle(args: argparse.Namespace) -> int:
    from ..simulate import REMDConfig, parse_temperatures, run_remd
    from ..systems import MOLECULES, get_system

    if args.system in MOLECULES or Path(args.system).suffix.lower() in (".yaml", ".yml"):
        return _simulate_molecule(args)
    refuse_options(args, _MOLECULE_ONLY, "molecules")
    try:
        system = get_system(args.system)
        temperatures = (
            system.default_temperatures
            if args.temperatures is None
            else parse_temperatures(args.temperatures)
        )
        options = {
            "n_chains": args.chains,
            "n_steps": args.steps,
            "equilibration_steps": args.equilibration,
            "stride": args.stride,
            "swap_interval": args.swap_interval,
        }
        config = REMDConfig(
            tuple(temperatures),
            **{key: value for key, value in options.items() if value is not None},
            timestep=args.timestep,
            friction=args.friction,
            seed=args.seed,
        )
    except (KeyError, ValueError) as err:
        raise UsageError(str(err).strip("'\"")) from None
    result = run_remd(system, config, progress=not args.quiet)
    data_path, record_path = result.save(args.out, system.name)
    print(result.summary())
    print(f"wrote {result.dataset.n_frames} frames to {data_path} (run record: {record_path})")
    return 0


def _simulate_molecule(args: argparse.Namespace) -> int:
    from ..simulate import (
        DEFAULT_LADDER,
        OpenMMREMDConfig,
        RunInterrupted,
        parse_temperatures,
        run_openmm_remd,
    )
    from ..systems import MOLECULES, build_molecule, load_molecule_config

    refuse_options(args, _ANALYTIC_ONLY, "the analytic systems")
    from_file = args.system not in MOLECULES
    molecule = load_molecule_config(args.system) if from_file else MOLECULES[args.system]
    try:
        overrides = {"timestep_ps": args.timestep, "collision_rate_per_ps": args.friction}
        molecule = replace(molecule, **{k: v for k, v in overrides.items() if v is not None})
        options = {"ns": args.ns, "exchange_ps": args.exchange_ps, "platform": args.platform}
        config = OpenMMREMDConfig(
            tuple(parse_temperatures(args.temperatures or DEFAULT_LADDER)),
            **{key: value for key, value in options.items() if value is not None},
            seed=args.seed,
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    system = build_molecule(molecule, source=args.system if from_file else None)
    out = Path(args.out)
    try:
        result = run_openmm_remd(
            system,
            config,
            out.with_suffix(".nc"),
            progress=not args.quiet,
            overwrite=args.overwrite,
        )
    except RunInterrupted as stop:
        print(f"thermogen simulate: {stop}", file=sys.stderr)
        return 130
    data_path, record_path = result.save(out, dcd=args.dcd)
    print(result.summary())
    print(
        f"wrote {result.dataset.n_frames} frames ({result.iterations} per replica) to {data_path} "
        f"(run record: {record_path}; trajectory store: {result.store})"
    )
    return 0


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
        "and ps; features are the backbone dihedrals phi, psi (radians); the NetCDF store "
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
