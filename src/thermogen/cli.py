"""The ``thermogen`` command line: a thin shell over the Python API.

Every subcommand parses its arguments, calls one API function and prints its result. User
mistakes (:class:`~thermogen.errors.ThermogenError`) are printed as one line on stderr with exit
status 2 and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from . import __version__
from .errors import ThermogenError, UsageError

__all__ = ["build_parser", "main"]


def _cmd_info(args: argparse.Namespace) -> int:
    from .data import describe, load_dataset

    dataset = load_dataset(args.file, **_csv_options(args))
    if args.min_temperatures is not None:
        dataset.require_temperatures(args.min_temperatures, "this check")
    print(describe(dataset))
    return 0


def _csv_options(args: argparse.Namespace) -> dict[str, object]:
    """Loader options that only CSV files take (npz files carry their own units)."""
    options = {
        "temperature_unit": args.temperature_unit,
        "energy_unit": args.energy_unit,
        "periodic": args.periodic.split(",") if args.periodic else None,
    }
    return {key: value for key, value in options.items() if value is not None}


def _add_csv_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("CSV input (npz files store these themselves)")
    group.add_argument("--temperature-unit", choices=["K", "reduced"], help="default K")
    group.add_argument(
        "--energy-unit", choices=["kJ/mol", "kcal/mol", "reduced"], help="default kJ/mol"
    )
    group.add_argument(
        "--periodic",
        metavar="NAMES",
        help="comma-separated feature columns that are angles in radians",
    )


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import REMDConfig, parse_temperatures, run_remd
    from .systems import get_system

    try:
        system = get_system(args.system)
        temperatures = (
            system.default_temperatures
            if args.temperatures is None
            else parse_temperatures(args.temperatures)
        )
        config = REMDConfig(
            tuple(temperatures),
            n_chains=args.chains,
            n_steps=args.steps,
            equilibration_steps=args.equilibration,
            stride=args.stride,
            swap_interval=args.swap_interval,
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


def _cmd_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .config import dataclass_from_mapping, load_yaml_mapping
    from .data import load_dataset
    from .models import MODEL_CONFIGS, DiffusionModel

    dataset = load_dataset(args.data, **_csv_options(args))
    config_cls = MODEL_CONFIGS[args.model]
    config = (
        config_cls()
        if args.config is None
        else dataclass_from_mapping(config_cls, load_yaml_mapping(args.config), args.config)
    )
    if args.seed is not None:
        config = replace(config, train=replace(config.train, seed=args.seed))
    if args.device is not None:
        config = replace(config, train=replace(config.train, device=args.device))
    model = DiffusionModel.fit(
        dataset, config, run_dir=args.out, resume=args.resume, progress=not args.quiet
    )
    last = model.history[-1] if model.history else {}
    print(
        f"trained {args.model} on {dataset.n_frames} frames at {len(dataset.temperatures)} temperatures: "
        f"step {int(last.get('step', 0))}, train loss {last.get('train_loss', float('nan')):.4f}, "
        f"validation loss {last.get('validation_loss', float('nan')):.4f}"
    )
    print(f"run folder: {args.out}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from .data import save_dataset
    from .models import load_model
    from .provenance import run_record, write_json
    from .simulate import parse_temperatures

    try:
        temperatures = parse_temperatures(args.temperatures)
    except ValueError as err:
        raise UsageError(str(err)) from None
    model = load_model(args.run_dir)
    generated = model.sample(
        temperatures,
        args.n,
        sampler=args.sampler,
        steps=args.steps,
        seed=args.seed,
        device=args.device,
        progress=not args.quiet,
    )
    path = save_dataset(generated, args.out)
    write_json(
        path.with_suffix(".run.json"),
        run_record(
            "sample",
            {
                "run_dir": str(args.run_dir),
                "temperatures": temperatures,
                "n": args.n,
                "sampler": args.sampler,
                "steps": args.steps,
                "device": args.device,
            },
            args.seed,
            {"n_frames": generated.n_frames},
        ),
    )
    print(f"wrote {generated.n_frames} frames ({args.n} per temperature) to {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import format_table, run_demo

    result = run_demo(args.out, seed=args.seed, progress=not args.quiet)
    print(
        "Mueller-Brown basin populations at temperatures that were not simulated (reduced units):"
    )
    print("exact (grid), MBAR from the REMD frames, and the diffusion model trained on them")
    print(format_table(result.rows))
    print(f"figure:     {result.figure}")
    print(f"table:      {result.table}")
    print(f"model run:  {result.run_dir}")
    return 0


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``thermogen`` command, one subparser per subcommand."""
    parser = _OneLineParser(
        prog="thermogen",
        description="Temperature-transferable generative models for multi-temperature simulation data.",
    )
    parser.add_argument("--version", action="version", version=f"thermogen {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_OneLineParser
    )

    info = sub.add_parser(
        "info",
        help="validate a dataset (.npz or .csv) and print a summary",
        description="Validate a multi-temperature dataset and print a summary. "
        "Exit status 0 only for valid data.",
    )
    info.add_argument("file", help="dataset file (.npz or .csv)")
    info.add_argument(
        "--min-temperatures",
        type=int,
        metavar="K",
        help="also fail unless the data cover at least K temperatures (models need 2 or more)",
    )
    _add_csv_options(info)
    info.set_defaults(func=_cmd_info)

    simulate = sub.add_parser(
        "simulate",
        help="run replica-exchange Langevin dynamics on a built-in system",
        description="Run temperature replica exchange (vectorised Langevin dynamics, reduced units "
        "k_B = 1) on a built-in system and write a dataset (.npz) plus a run record (.run.json).",
    )
    simulate.add_argument("system", help="mueller-brown, double-well, three-hole, two-state or lj7")
    simulate.add_argument(
        "--temperatures",
        help="'T1,T2,...' or a geometric ladder 'TMIN:TMAX:N' "
        "(reduced units; default: the system's ladder)",
    )
    simulate.add_argument("--out", required=True, help="output dataset (.npz)")
    simulate.add_argument(
        "--chains", type=int, default=64, help="independent REMD chains (default 64)"
    )
    simulate.add_argument(
        "--steps", type=int, default=20_000, help="production steps (default 20000)"
    )
    simulate.add_argument(
        "--equilibration", type=int, default=2_000, help="discarded steps (default 2000)"
    )
    simulate.add_argument(
        "--stride", type=int, default=50, help="steps between saved frames (default 50)"
    )
    simulate.add_argument(
        "--swap-interval", type=int, default=50, help="steps between swap attempts (default 50)"
    )
    simulate.add_argument(
        "--timestep", type=float, help="Langevin time step (default: the system's)"
    )
    simulate.add_argument(
        "--friction", type=float, help="Langevin friction (default: the system's)"
    )
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.set_defaults(func=_cmd_simulate)

    train = sub.add_parser(
        "train",
        help="train a generative model on a multi-temperature dataset",
        description="Train a temperature-transferable generative model. RUN_DIR receives the resolved "
        "config (config.json), the data's standardization, checkpoints, the training log "
        "(train_log.csv) and the model (model.pt).",
    )
    train.add_argument(
        "data", help="dataset (.npz or .csv) with frames at two or more temperatures"
    )
    train.add_argument(
        "--model", choices=["diffusion"], default="diffusion", help="model (default diffusion)"
    )
    train.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder")
    train.add_argument(
        "--config", help="YAML file with model settings (keys as in the model's config)"
    )
    train.add_argument("--seed", type=int, help="random seed (overrides the config)")
    train.add_argument("--device", help="auto, cpu or cuda (overrides the config; default auto)")
    train.add_argument(
        "--resume", action="store_true", help="continue from RUN_DIR's last checkpoint"
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_csv_options(train)
    train.set_defaults(func=_cmd_train)

    sample = sub.add_parser(
        "sample",
        help="generate frames at any temperatures from a trained run",
        description="Generate frames at the given temperatures (units of the training data) and write "
        "them as a dataset: features (angles in radians, wrapped), temperature, "
        "feature_names, periodic.",
    )
    sample.add_argument("run_dir", help="run folder written by 'thermogen train'")
    sample.add_argument("--temperatures", required=True, help="'T1,T2,...' or 'TMIN:TMAX:N'")
    sample.add_argument("--n", type=int, required=True, help="frames per temperature")
    sample.add_argument("--out", required=True, help="output dataset (.npz)")
    sample.add_argument(
        "--sampler",
        choices=["ode", "heun", "ddim", "ddpm"],
        default="ode",
        help="ode (DPM-Solver++(3M), default), heun, ddim or ddpm (ancestral)",
    )
    sample.add_argument(
        "--steps",
        type=int,
        help="network calls per sample (default 20 ode, 25 heun, 50 ddim, 500 ddpm)",
    )
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    sample.add_argument("--quiet", action="store_true", help="no progress bar")
    sample.set_defaults(func=_cmd_sample)

    demo = sub.add_parser(
        "demo",
        help="simulate Mueller-Brown REMD and compare MBAR at new temperatures with exact answers",
        description="The built-in demonstration: REMD on the Mueller-Brown potential, MBAR estimates of "
        "basin populations at temperatures that were not simulated, compared with the exact "
        "populations. Prints a table and writes a figure, a CSV table and the data.",
    )
    demo.add_argument(
        "--out", default="thermogen_demo", help="output folder (default ./thermogen_demo)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ThermogenError as err:
        print(f"thermogen {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"thermogen {args.command}: interrupted", file=sys.stderr)
        return 130
