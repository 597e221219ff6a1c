"""``thermogen melt``: state populations with intervals and the melting curve of one state."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "handle"]


def handle(args: argparse.Namespace) -> int:
    """Compute the curve, write its table, figure and record; print Tm and dH."""
    from ..pipeline import melt_model

    result = melt_model(
        args.run_dir,
        args.tmin,
        args.tmax,
        args.out,
        num=args.num,
        state=args.state,
        bootstrap=args.bootstrap,
        seed=args.seed,
    )
    if result.fit is None:
        raise result.no_fit()
    print(result.summary())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen melt`` to the subcommands."""
    melt = sub.add_parser(
        "melt",
        help="state populations over a temperature range and the melting curve, from a latf run",
        description="Compute the populations of every state at NUM temperatures spaced "
        "geometrically from TMIN to TMAX (units of the training data), with 95% intervals, and "
        "fit the van 't Hoff melting curve of one state. DIR receives populations.csv (columns "
        "temperature, state_0, state_0_lo, state_0_hi, state_1, ...), melting.png and "
        "melt.run.json; Tm and dH (kJ/mol for data in Kelvin, reduced energy otherwise) are "
        "printed with their intervals.",
    )
    melt.add_argument("run_dir", help="run folder written by 'thermogen train --model latf'")
    melt.add_argument("--tmin", type=float, required=True, help="lowest temperature")
    melt.add_argument("--tmax", type=float, required=True, help="highest temperature")
    melt.add_argument("--num", type=int, default=25, help="number of temperatures (default 25)")
    melt.add_argument(
        "--state",
        type=int,
        help="state whose melting curve is fitted (default: the most populated at TMIN)",
    )
    melt.add_argument(
        "--bootstrap",
        type=int,
        default=200,
        help="bootstrap resamplings of the training trajectories for the intervals (default 200)",
    )
    melt.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    melt.add_argument("--out", required=True, metavar="DIR", help="output folder")
    melt.set_defaults(func=handle)
