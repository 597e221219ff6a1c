"""``thermogen sample``: samples at any temperatures from a run that can sample."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from .common import device_option, given_options, temperatures_option

__all__ = ["add_parser", "handle"]

_MODEL_OPTIONS = ("sampler", "steps", "device")
"""Sampling options on the command line; each model says which it takes."""


def handle(args: argparse.Namespace) -> int:
    """Generate, write the samples with their run record, print a summary."""
    from ..models import RunDir, model_class
    from ..models.protocol import SAMPLE
    from ..pipeline import sample_model

    temperatures = temperatures_option(args.temperatures)
    options = given_options(args, _MODEL_OPTIONS)
    run = RunDir(args.run_dir)
    cls = model_class(run.kind(), run.model_file)
    refused = [f"--{name}" for name in options if name not in cls.sample_options]
    if refused and SAMPLE in cls.capabilities:
        raise UsageError(_refusal(refused, cls))
    result = sample_model(
        args.run_dir,
        temperatures,
        args.n,
        args.out,
        seed=args.seed,
        options=options,
        progress=not args.quiet,
        structures=args.structures,
        molecule=args.molecule,
    )
    print(result.summary())
    return 0


def _refusal(refused: list[str], cls: type) -> str:
    """``--sampler: an option of diffusion runs only (...)``."""
    from ..models import MODEL_CLASSES

    owners = [
        kind for kind, other in MODEL_CLASSES.items() if refused[0][2:] in other.sample_options
    ]
    what = "options" if len(refused) > 1 else "an option"
    note = f" ({cls.sample_note})" if cls.sample_note else ""
    return f"{', '.join(refused)}: {what} of {' and '.join(owners)} runs only{note}"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen sample`` to the subcommands."""
    sample = sub.add_parser(
        "sample",
        help="generate frames (diffusion) or latent samples (latf) at any temperatures",
        description="Generate samples at the given temperatures (units of the training data) "
        "and write them as a dataset (features, temperature, feature_names, periodic) with a run "
        "record (OUT.run.json). diffusion run: frames in the data's features (angles in radians, "
        "wrapped). latf run: latent samples (features cv0, cv1, ...), also stored as cv (K*n, d), "
        "with state_prob (K*n, S) their decoded state probabilities and state (K*n,) the most "
        "probable state. A spib run cannot sample (it has no temperature model).",
    )
    sample.add_argument("run_dir", help="run folder written by 'thermogen train'")
    sample.add_argument("--temperatures", required=True, help="'T1,T2,...' or 'TMIN:TMAX:N'")
    sample.add_argument("--n", type=int, required=True, help="samples per temperature")
    sample.add_argument("--out", required=True, help="output file (.npz)")
    sample.add_argument(
        "--sampler",
        choices=["ode", "heun", "ddim", "ddpm"],
        help="diffusion only: ode (DPM-Solver++(3M), default), heun, ddim or ddpm (ancestral)",
    )
    sample.add_argument(
        "--steps",
        type=int,
        help="diffusion only: network calls per sample "
        "(default 20 ode, 25 heun, 50 ddim, 500 ddpm)",
    )
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument(
        "--device", type=device_option, help="diffusion only: cpu (default), cuda or auto"
    )
    sample.add_argument(
        "--structures",
        help="runs on internal coordinates: write the generated structures to this trajectory "
        "file (.dcd, .xtc, .pdb, ...; nm) with the topology OUT.pdb beside it",
    )
    sample.add_argument(
        "--molecule",
        help="with --structures: a built-in molecule (alanine-dipeptide, ...) or molecule "
        "FILE.yaml whose OpenMM potential energies (kJ/mol) are stored as 'energy' in --out, "
        "with the structures' exact log-density 'log_prob', the Boltzmann 'log_weight' "
        "(-U/kT - log_prob) and the Kish ESS per temperature ('ess', 'ess_temperature')",
    )
    sample.add_argument("--quiet", action="store_true", help="no progress bar")
    sample.set_defaults(func=handle)
