"""``thermogen demo``: the built-in demonstrations."""

from __future__ import annotations

import argparse

from ..errors import UsageError

__all__ = ["add_parser", "handle"]


def handle(args: argparse.Namespace) -> int:
    if args.system == "alanine-dipeptide":
        return _demo_molecule(args)
    given = [name for name in ("ns", "train_steps") if getattr(args, name) is not None]
    if given:
        raise UsageError(
            f"--{given[0].replace('_', '-')} is an option for --system alanine-dipeptide"
        )
    from ..demo import format_table, run_demo

    result = run_demo(args.out or "thermogen_demo", seed=args.seed, progress=not args.quiet)
    print(
        "Mueller-Brown basin populations at temperatures that were not simulated (reduced units):"
    )
    print("exact (grid), MBAR from the REMD frames, and the diffusion model trained on them")
    print(format_table(result.rows))
    print(f"figure:     {result.figure}")
    print(f"table:      {result.table}")
    print(f"model run:  {result.run_dir}")
    print(f"report:     {result.report}")
    melt = result.melting
    if melt is not None:
        low, high = melt.fit.tm_interval
        print(
            f"LaTF melting curve of a two-state system from 2 temperatures: Tm {melt.fit.tm:.4f} "
            f"[{low:.4f}, {high:.4f}] (exact {melt.exact_tm:.4f}), largest population error "
            f"{melt.max_error:.3f} over T = 0.6-1.4 (reduced units)"
        )
        print(f"figures:    {melt.figure}, {melt.latent_figure}")
        print(f"model run:  {melt.run_dir}")
        print(f"report:     {melt.report}")
    return 0


def _demo_molecule(args: argparse.Namespace) -> int:
    """``thermogen demo --system alanine-dipeptide``: the molecular pipeline end to end."""
    from ..demo_molecule import DEMO_NS, DEMO_TRAIN_STEPS, format_molecule_table, run_molecule_demo

    ns = DEMO_NS if args.ns is None else args.ns
    steps = DEMO_TRAIN_STEPS if args.train_steps is None else args.train_steps
    if not ns > 0:
        raise UsageError(f"--ns must be > 0, got {ns:g}")
    if steps < 1:
        raise UsageError(f"--train-steps must be at least 1, got {steps}")
    result = run_molecule_demo(
        args.out or "thermogen_demo_alanine_dipeptide",
        seed=args.seed,
        ns=ns,
        train_steps=steps,
        progress=not args.quiet,
    )
    print(result.remd_summary)
    print(
        "Alanine dipeptide (vacuum) state populations at temperatures that were not simulated, "
        f"from REMD at {', '.join(f'{t:.0f}' for t in result.ladder)} K ({ns:g} ns per replica):"
    )
    print(
        f"reference ({result.reference.n_runs} independent dense-ladder runs, +/- their standard "
        "error), MBAR (+/- its error, ESS), and the diffusion model "
        f"({steps:,} training steps)"
    )
    print(format_molecule_table(result.rows))
    minutes = {stage: seconds / 60 for stage, seconds in result.timings.items()}
    print(
        f"time: {minutes['total']:.1f} min (REMD {minutes['remd']:.1f}, training "
        f"{minutes['train']:.1f}, generation {minutes['sample']:.1f})"
    )
    print(f"figure:     {result.figure}")
    print(f"table:      {result.table}")
    print(f"data:       {result.data}")
    print(f"model run:  {result.run_dir}")
    print(f"run record: {result.record}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen demo`` to the subcommands."""
    demo = sub.add_parser(
        "demo",
        help="simulate REMD, then compare MBAR and the diffusion model at new temperatures with "
        "exact or reference answers",
        description="The built-in demonstration: REMD on the Mueller-Brown potential, MBAR and the "
        "diffusion model's estimates of basin populations at temperatures that were not "
        "simulated, compared with the exact populations. With --system alanine-dipeptide, the "
        "same for a molecule: OpenMM replica exchange in vacuum, Ramachandran free-energy maps "
        "and state populations against the reference that ships with thermogen. Prints a table "
        "and writes a figure, a CSV table, the data and a run record.",
    )
    demo.add_argument(
        "--system",
        choices=["mueller-brown", "alanine-dipeptide"],
        default="mueller-brown",
        help="mueller-brown (default; about 4 minutes on 2 CPU cores) or alanine-dipeptide: OpenMM replica "
        "exchange at 350, 450, 580 K, the diffusion model and MBAR at 300, 400 and 510 K "
        "against the packaged reference, Ramachandran maps (about 6 minutes)",
    )
    demo.add_argument(
        "--out",
        help="output folder (default ./thermogen_demo, or ./thermogen_demo_alanine_dipeptide)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument(
        "--ns", type=float, help="alanine-dipeptide: ns of REMD per replica (default 5)"
    )
    demo.add_argument(
        "--train-steps",
        type=int,
        help="alanine-dipeptide: optimiser steps of the diffusion model (default 6000)",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=handle)
