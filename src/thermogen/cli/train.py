"""``thermogen train``: fit a model of any registered kind into a run folder."""

from __future__ import annotations

import argparse

from .common import add_csv_options, csv_options, device_option

__all__ = ["add_parser", "handle"]


def handle(args: argparse.Namespace) -> int:
    """Read the settings and the data, train, print how training ended."""
    from ..config import dataclass_from_mapping, load_yaml_mapping

    settings = None if args.config is None else load_yaml_mapping(args.config)  # before torch
    from ..data import load_dataset
    from ..models import model_class
    from ..pipeline import train_model

    cls = model_class(args.model, "train", "--model")
    config = (
        None
        if settings is None
        else dataclass_from_mapping(cls.config_class, settings, args.config)
    )
    dataset = load_dataset(args.data, **csv_options(args))
    result = train_model(
        dataset,
        args.model,
        args.out,
        config,
        seed=args.seed,
        device=args.device,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    print(result.summary())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen train`` to the subcommands."""
    train = sub.add_parser(
        "train",
        help="train a generative model (diffusion, spib or latf) on a multi-temperature dataset",
        description="Train a model. diffusion: a temperature-transferable generator of "
        "configurations; spib: learned collective variables and metastable states from "
        "trajectories (needs 'replica' and 'time'); latf: SPIB with a temperature-steerable flow "
        "prior (trajectories at two or more temperatures). RUN_DIR receives the resolved config "
        "and run record (config.json: settings, seed, versions, data, results such as the states "
        "found), the data's standardization (standardization.json), the training log of every "
        "stage (train_log.csv), checkpoints and the model (model.pt).",
    )
    train.add_argument(
        "data", help="dataset (.npz or .csv) with frames at two or more temperatures"
    )
    train.add_argument(
        "--model",
        default="diffusion",
        metavar="KIND",
        help="model kind: diffusion (default), spib, latf, or another registered kind",
    )
    train.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder")
    train.add_argument(
        "--config", help="YAML file with model settings (keys as in the model's config)"
    )
    train.add_argument(
        "--seed",
        type=int,
        help="random seed of every training stage (overrides the config; latf: spib and joint)",
    )
    train.add_argument(
        "--device",
        type=device_option,
        help="auto, cpu or cuda for every training stage (overrides the config; default auto)",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed training from RUN_DIR's checkpoints",
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run already in RUN_DIR (kept until the new one has finished)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    add_csv_options(train)
    train.set_defaults(func=handle)
