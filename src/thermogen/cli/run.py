"""``thermogen run``: the whole pipeline from one YAML file."""

from __future__ import annotations

import argparse
import sys
import textwrap

__all__ = ["add_parser", "handle"]


def handle(args: argparse.Namespace) -> int:
    from ..simulate import RunInterrupted
    from ..workflow import load_workflow_config, run_workflow

    config = load_workflow_config(args.config, args.overrides)
    try:
        result = run_workflow(config, progress=not args.quiet)
    except RunInterrupted as stop:  # a molecular REMD run continues when run again
        print(f"thermogen run: {stop}", file=sys.stderr)
        return 130
    print(result.summary())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen run`` to the subcommands."""
    from ..workflow import SCHEMA_HELP

    run = sub.add_parser(
        "run",
        help="simulate or import, train, sample and report, all from one YAML file",
        description=textwrap.fill(
            "Run the whole pipeline from one YAML file: simulate a system "
            "('system', 'simulate') or read a dataset ('data'), train a model ('model': kind "
            "diffusion, latf or spib and its settings), sample ('sample') and write the HTML report "
            "('report') to the folder 'out', with the resolved config (run.yaml) and a run record "
            "(run.json: seed, versions, timings). Every key and input file is checked before the "
            "first step starts. Examples for the built-in systems are in the repository's "
            "examples/ folder.",
            width=79,
        ),
        epilog=SCHEMA_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("config", help="workflow settings (.yaml)")
    run.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="settings that replace the file's, by dotted key, values read as YAML "
        "(e.g. model.train.steps=200 seed=3 out=runs/try2 'sample.temperatures=[0.8, 2]')",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(func=handle)
