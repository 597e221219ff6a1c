"""``thermogen transform``: learned collective variables and states of frames."""

from __future__ import annotations

import argparse

from .common import add_csv_options, csv_options

__all__ = ["add_parser", "handle"]


def handle(args: argparse.Namespace) -> int:
    """Encode every frame of the data with the run's model; write and summarise."""
    from ..data import load_dataset
    from ..pipeline import transform_data

    dataset = load_dataset(args.data, **csv_options(args))
    print(transform_data(args.run_dir, dataset, args.out, csv_options(args)).summary())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen transform`` to the subcommands."""
    transform = sub.add_parser(
        "transform",
        help="collective variables and metastable states of frames, from a spib or latf run",
        description="Encode every frame of DATA with a trained spib or latf model and write an "
        "npz with cv (N, d): the latent means (learned collective variables), state (N,): the "
        "most likely metastable state (numbered as in 'thermogen melt'), and each frame's "
        "temperature. DATA must have the model's features, with the same names, in order.",
    )
    transform.add_argument(
        "run_dir", help="run folder written by 'thermogen train --model spib|latf'"
    )
    transform.add_argument("data", help="dataset (.npz or .csv)")
    transform.add_argument("--out", required=True, help="output file (.npz)")
    add_csv_options(transform)
    transform.set_defaults(func=handle)
