"""``thermogen report``: a self-contained HTML report of a trained run."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from .common import device_option, temperatures_option

__all__ = ["add_parser", "handle"]


def handle(args: argparse.Namespace) -> int:
    """Write the report; print where it and its files went."""
    from ..pipeline import report_run

    temperatures = temperatures_option(args.temperatures)
    if args.samples < 10:
        raise UsageError(f"--samples must be at least 10, got {args.samples}")
    result = report_run(
        args.run_dir,
        args.out,
        data=args.data,
        temperatures=temperatures,
        reference=args.reference,
        n_samples=args.samples,
        seed=args.seed,
        device=args.device,
    )
    print(result.summary())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen report`` to the subcommands."""
    report = sub.add_parser(
        "report",
        help="a self-contained HTML report of a diffusion run (figures, metrics, warnings)",
        description="Write one HTML file that opens offline (figures embedded): data overview, "
        "training curves and settings, generated vs data distributions at the trained "
        "temperatures with JS divergences and their noise floor, generated vs MBAR (and "
        "--reference) free-energy maps at --temperatures, the heat capacity from MBAR, the "
        "melting curve of LaTF runs, and plain-word warnings. The data overview gives the energy "
        "overlap of neighbouring temperatures, and swap acceptance and replica round trips when "
        "known. Figures (PNG) and tables (CSV) are also written to OUT_files/ beside the HTML.",
    )
    report.add_argument(
        "run_dir", help="run folder written by 'thermogen train' (diffusion, spib or latf)"
    )
    report.add_argument(
        "--data", help="training data (.npz or .csv; default: the file named in config.json)"
    )
    report.add_argument(
        "--temperatures",
        metavar="T1,T2,...",
        help="new temperatures to compare with MBAR (units of the training data; default: "
        "the reference's temperatures when --reference is given)",
    )
    report.add_argument(
        "--reference",
        metavar="REF",
        help="held-out frames (.npz or .csv, the training data's format) at target temperatures: "
        "shown beside the generated and MBAR maps, with JS divergences against it",
    )
    report.add_argument("--out", default="report.html", help="HTML file (default report.html)")
    report.add_argument(
        "--samples", type=int, default=2000, help="generated frames per temperature (default 2000)"
    )
    report.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    report.add_argument(
        "--device", type=device_option, default="cpu", help="cpu (default), cuda or auto"
    )
    report.set_defaults(func=handle)
