"""The ``thermogen`` command line: a thin shell over the Python API.

Every subcommand parses its arguments, calls one API function and prints its result. User
mistakes (:class:`~thermogen.errors.ThermogenError`) are printed as one line on stderr with exit
status 2 and no traceback.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import __version__
from .errors import InputError, ThermogenError, UsageError
from .fileio import write_npz

__all__ = ["build_parser", "main"]

CONFIDENCE = 0.95
"""Coverage of the intervals that ``thermogen melt`` reports and writes."""
_DIFFUSION_ONLY_TRAIN = {
    "resume": "training writes no checkpoints to resume from",
    "device": "it takes no device option",
}
"""``train`` options that only the diffusion model has, and why the others refuse them."""
_DIFFUSION_ONLY_SAMPLE = ("sampler", "steps", "device")
"""``sample`` options that only the diffusion model has (a latf run samples its flow exactly)."""


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


_ANALYTIC_ONLY = ("chains", "steps", "equilibration", "stride", "swap_interval")
_MOLECULE_ONLY = ("ns", "exchange_ps", "platform", "overwrite", "dcd")
"""``simulate`` options that only one kind of system takes."""


def _refuse_options(args: argparse.Namespace, names: tuple[str, ...], kind: str) -> None:
    given = [name for name in names if getattr(args, name) not in (None, False)]
    if given:
        raise UsageError(f"--{given[0].replace('_', '-')} is an option for {kind} only")


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import REMDConfig, parse_temperatures, run_remd
    from .systems import MOLECULES, get_system

    if args.system in MOLECULES or Path(args.system).suffix.lower() in (".yaml", ".yml"):
        return _simulate_molecule(args)
    _refuse_options(args, _MOLECULE_ONLY, "molecules")
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
    from .simulate import (
        DEFAULT_LADDER,
        OpenMMREMDConfig,
        RunInterrupted,
        parse_temperatures,
        run_openmm_remd,
    )
    from .systems import MOLECULES, build_molecule, load_molecule_config

    _refuse_options(args, _ANALYTIC_ONLY, "the analytic systems")
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


def _cmd_train(args: argparse.Namespace) -> int:
    from .config import dataclass_from_mapping, load_yaml_mapping
    from .data import load_dataset
    from .models import MODEL_CONFIGS, fit_run, fit_summary, with_seed

    if args.model != "diffusion":
        for option, reason in _DIFFUSION_ONLY_TRAIN.items():
            if getattr(args, option) not in (None, False):
                raise UsageError(
                    f"--{option} is an option of --model diffusion only: {args.model} {reason}"
                )
    config_cls = MODEL_CONFIGS[args.model]
    config = (
        config_cls()
        if args.config is None
        else dataclass_from_mapping(config_cls, load_yaml_mapping(args.config), args.config)
    )
    if args.seed is not None:
        config = with_seed(config, args.model, args.seed)
    dataset = load_dataset(args.data, **_csv_options(args))
    if args.model == "diffusion" and args.device is not None:
        config = replace(config, train=replace(config.train, device=args.device))
    model = fit_run(
        args.model, dataset, config, args.out, resume=args.resume, progress=not args.quiet
    )
    print(
        f"trained {args.model} on {dataset.n_frames} frames at {len(dataset.temperatures)} "
        f"temperatures: {fit_summary(model)}"
    )
    print(f"run folder: {args.out}")
    return 0


def _load_run(run_dir: str, kinds: tuple[str, ...], purpose: str) -> tuple[str, Any]:
    """The kind and the model of a run folder, refusing other kinds with ``purpose`` as reason."""
    from .models import load_model, model_kind

    kind = model_kind(run_dir)
    if kind not in kinds:
        raise InputError(Path(run_dir) / "model.pt", "kind", f"is a {kind} model: {purpose}")
    return kind, load_model(run_dir)


def _state_table(temperatures: np.ndarray, populations: np.ndarray, unit: str) -> str:
    """Populations (K, S) at K temperatures as an aligned text table."""
    header = f"{'T (' + unit + ')':>18}" + "".join(
        f"{f'state {s}':>10}" for s in range(populations.shape[1])
    )
    rows = [
        f"{t:>18.4g}" + "".join(f"{p:>10.4f}" for p in row)
        for t, row in zip(temperatures, populations, strict=True)
    ]
    return "\n".join([header, *rows])


def _cmd_transform(args: argparse.Namespace) -> int:
    from .data import load_dataset
    from .provenance import run_record, write_json

    _, model = _load_run(
        args.run_dir,
        ("spib", "latf"),
        "transform needs a run trained with --model spib or --model latf",
    )
    dataset = load_dataset(args.data, **_csv_options(args))
    _check_features(dataset.source, dataset.feature_names, model.feature_names)
    cv, state = model.transform(dataset.features)
    path = write_npz(
        args.out,
        {
            "cv": cv.astype(float),
            "state": state.astype(np.int64),
            "temperature": dataset.temperature,
            "temperature_unit": np.array(dataset.temperature_unit),
        },
    )
    populations = np.bincount(state, minlength=model.n_states) / state.size
    write_json(
        path.with_suffix(".run.json"),
        run_record(
            "transform",
            {"run_dir": str(args.run_dir), "data": dataset.source, **_csv_options(args)},
            None,
            {
                "n_frames": dataset.n_frames,
                "latent_dim": cv.shape[1],
                "n_states": model.n_states,
                "state_populations": populations,
            },
        ),
    )
    shares = ", ".join(f"{s}: {p:.3f}" for s, p in enumerate(populations))
    print(f"wrote cv {cv.shape} and state ({state.size},) to {path}")
    print(f"fraction of frames in each state: {shares}")
    return 0


def _check_features(source: str, names: tuple[str, ...], expected: tuple[str, ...]) -> None:
    """Refuse data whose feature columns are not the model's, in the model's order."""
    if tuple(names) == tuple(expected):
        return
    shown = ", ".join(expected[:10]) + (", ..." if len(expected) > 10 else "")
    if len(names) != len(expected):
        problem = f"has {len(names)} columns but the model was trained on {len(expected)} ({shown})"
    else:
        i = next(i for i, (a, b) in enumerate(zip(names, expected, strict=True)) if a != b)
        problem = (
            f"column {i} is {names[i]!r} where the model has {expected[i]!r} "
            f"(the model's features, in order: {shown})"
        )
    raise InputError(source, "features", problem)


def _cmd_sample(args: argparse.Namespace) -> int:
    from .data import save_dataset
    from .provenance import run_record, write_json
    from .simulate import parse_temperatures

    try:
        temperatures = parse_temperatures(args.temperatures)
    except ValueError as err:
        raise UsageError(str(err)) from None
    kind, model = _load_run(
        args.run_dir,
        ("diffusion", "latf"),
        "SPIB alone has no temperature model; train with --model latf to sample at any temperature",
    )
    if kind == "latf":
        return _sample_latf(args, model, temperatures)
    settings = {
        "run_dir": str(args.run_dir),
        "temperatures": temperatures,
        "n": args.n,
        "sampler": args.sampler or "ode",
        "steps": args.steps,
        "device": args.device or "cpu",
    }
    generated = model.sample(
        temperatures,
        args.n,
        sampler=settings["sampler"],
        steps=args.steps,
        seed=args.seed,
        device=settings["device"],
        progress=not args.quiet,
    )
    path = save_dataset(generated, args.out)
    write_json(
        path.with_suffix(".run.json"),
        run_record("sample", settings, args.seed, {"n_frames": generated.n_frames}),
    )
    print(f"wrote {generated.n_frames} frames ({args.n} per temperature) to {path}")
    return 0


def _sample_latf(args: argparse.Namespace, model: Any, temperatures: np.ndarray) -> int:
    """Latent samples, decoded state probabilities and most probable states of a latf run."""
    from .provenance import run_record, write_json

    given = [f"--{name}" for name in _DIFFUSION_ONLY_SAMPLE if getattr(args, name) is not None]
    if given:
        raise UsageError(
            f"{', '.join(given)}: {'options' if len(given) > 1 else 'an option'} of diffusion "
            "runs only (a latf run samples its flow exactly)"
        )
    table = model.sample_table(temperatures, args.n, seed=args.seed)
    path = write_npz(args.out, table)
    state = table["state"].reshape(len(temperatures), args.n)
    populations = np.stack([np.bincount(s, minlength=model.n_states) for s in state]) / args.n
    write_json(
        path.with_suffix(".run.json"),
        run_record(
            "sample",
            {
                "run_dir": str(args.run_dir),
                "model": "latf",
                "temperatures": temperatures,
                "n": args.n,
            },
            args.seed,
            {"n_samples": state.size, "n_states": model.n_states, "populations": populations},
        ),
    )
    print(f"wrote {state.size} latent samples ({args.n} per temperature) to {path}")
    print("fraction of samples whose most probable state is each state:")
    print(_state_table(temperatures, populations, _unit_names(model.temperature_unit)[0]))
    return 0


def _cmd_melt(args: argparse.Namespace) -> int:
    from .analysis.populations import state_index
    from .provenance import run_record, write_json
    from .report.figures import plot_melting_curve, save_figure
    from .simulate import geometric_ladder

    if not (np.isfinite(args.tmin) and np.isfinite(args.tmax) and 0 < args.tmin < args.tmax):
        raise UsageError(f"need 0 < --tmin < --tmax, got --tmin {args.tmin:g} --tmax {args.tmax:g}")
    if args.num < 3:
        raise UsageError(
            f"--num must be at least 3 (a van 't Hoff fit needs 3 temperatures), got {args.num}"
        )
    if args.bootstrap < 2:
        raise UsageError(f"--bootstrap must be at least 2, got {args.bootstrap}")
    _, model = _load_run(
        args.run_dir,
        ("latf",),
        "melt needs a run trained with --model latf (SPIB alone has no temperature model)",
    )
    if args.state is not None:
        state_index(args.state, model.n_states)
    curve = model.population_curve(
        geometric_ladder(args.tmin, args.tmax, args.num),
        n_bootstrap=args.bootstrap,
        confidence=CONFIDENCE,
        seed=args.seed,
    )
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(
            out, None, f"cannot be used as the output folder ({err.strerror or err})"
        ) from None
    table = curve.write_csv(out / "populations.csv")
    units = _unit_names(curve.temperature_unit)
    if args.state is None:
        state = curve.default_folded_state()
        chosen = f"the most populated at T = {curve.temperature[0]:.4g} {units[0]}"
    else:
        state, chosen = args.state, "chosen with --state"
    try:
        fit, failure = curve.van_t_hoff(state, seed=args.seed), None
    except ValueError as err:
        fit, failure = None, str(err)
    figure = save_figure(plot_melting_curve(curve, state, fit), out / "melting.png")
    results: dict[str, Any] = {
        "state": state,
        "state_choice": chosen,
        "n_states": curve.n_states,
        "temperature_unit": units[0],
        "dh_unit": units[1],
        "confidence": CONFIDENCE,
        "files": [table.name, figure.name],
        "fit_error": failure,
    }
    if fit is not None:
        results.update(
            tm=fit.tm,
            tm_interval=fit.tm_interval,
            tm_std_error=fit.tm_std_error,
            dh=fit.dh,
            dh_interval=fit.dh_interval,
            dh_std_error=fit.dh_std_error,
        )
    settings = {
        "run_dir": str(args.run_dir),
        "temperatures": curve.temperature,
        "bootstrap": args.bootstrap,
        "state": args.state,
    }
    write_json(out / "melt.run.json", run_record("melt", settings, args.seed, results))
    if fit is None:
        raise UsageError(
            f"no melting transition of state {state} between T = {args.tmin:g} and {args.tmax:g} "
            f"{units[0]}: {failure} (populations written to {table})"
        )
    print(f"melting curve of state {state} ({chosen}), {CONFIDENCE:.0%} intervals:")
    print(f"  Tm = {fit.tm:.4g} {units[0]}  [{fit.tm_interval[0]:.4g}, {fit.tm_interval[1]:.4g}]")
    print(f"  dH = {fit.dh:.4g} {units[1]}  [{fit.dh_interval[0]:.4g}, {fit.dh_interval[1]:.4g}]")
    print(f"wrote {table.name}, {figure.name} and melt.run.json to {out}")
    return 0


def _unit_names(temperature_unit: str) -> tuple[str, str]:
    """Names of the temperature and enthalpy units for a curve in ``temperature_unit``."""
    if temperature_unit == "K":
        return "K", "kJ/mol"
    return "reduced units", "reduced energy units"


def _cmd_run(args: argparse.Namespace) -> int:
    from .simulate import RunInterrupted
    from .workflow import load_workflow_config, run_workflow

    config = load_workflow_config(args.config, args.overrides)
    try:
        result = run_workflow(config, progress=not args.quiet)
    except RunInterrupted as stop:  # a molecular REMD run continues when run again
        print(f"thermogen run: {stop}", file=sys.stderr)
        return 130
    print(result.summary())
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.system == "alanine-dipeptide":
        return _demo_molecule(args)
    given = [name for name in ("ns", "train_steps") if getattr(args, name) is not None]
    if given:
        raise UsageError(
            f"--{given[0].replace('_', '-')} is an option for --system alanine-dipeptide"
        )
    from .demo import format_table, run_demo

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
    from .demo_molecule import DEMO_NS, DEMO_TRAIN_STEPS, format_molecule_table, run_molecule_demo

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


_FEATURIZE_EPILOG = """\
features (--features): comma-separated items KIND[:SELECTION[:CUTOFF]], SELECTION in MDTraj's
atom selection language:
  phi, psi, omega, chi1[:SEL]   dihedrals in radians (periodic), one per residue having the
                                atoms; SEL picks residues. Named phi:ALA2
  distances[:SEL]               distances (nm) between all pairs of SEL (default 'name CA')
  contacts[:SEL[:CUTOFF]]       1 where a pair of SEL is closer than CUTOFF nm (default 0.8)
  rg[:SEL]                      mass-weighted radius of gyration (nm) of SEL (default all)
  rmsd[:SEL]                    RMSD (nm) to --reference after superposing SEL (default heavy
                                atoms)

examples:
  thermogen featurize --top ala2.pdb --traj a.dcd@300 --traj b.dcd@350 --features phi,psi --out d.npz
  thermogen featurize --top ala2.pdb --traj rep0.xtc@rep0_T.txt --traj rep1.xtc@rep1_T.txt \\
      --energy rep0_U.txt --energy rep1_U.txt --out d.npz
  thermogen featurize --top ala2.pdb --store remd.nc --by replica --features "phi,psi,rmsd:backbone" --out d.npz
"""


def _cmd_report(args: argparse.Namespace) -> int:
    from .report.html import write_report
    from .simulate import parse_temperatures

    try:
        temperatures = None if args.temperatures is None else parse_temperatures(args.temperatures)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.samples < 10:
        raise UsageError(f"--samples must be at least 10, got {args.samples}")
    path = write_report(
        args.run_dir,
        data=args.data,
        temperatures=temperatures,
        out=args.out,
        n_samples=args.samples,
        seed=args.seed,
        device=args.device,
        reference=args.reference,
    )
    print(f"wrote {path} (figures and tables in {path.parent / (path.stem + '_files')})")
    return 0


def _cmd_featurize(args: argparse.Namespace) -> int:
    from .data import save_dataset
    from .data.featurize import parse_features
    from .data.trajectories import load_topology
    from .provenance import run_record, write_json

    specs = parse_features(args.features)
    if args.reference is not None and not any(spec.kind == "rmsd" for spec in specs):
        raise UsageError("--reference is only used by rmsd features")
    topology = load_topology(args.top)
    settings: dict[str, Any] = {"topology": args.top, "stride": args.stride}
    read = _featurize_store if args.store is not None else _featurize_files
    dataset, described = read(args, topology, specs, settings)
    path = save_dataset(dataset, args.out)
    counts = {float(t): int(np.sum(dataset.temperature == t)) for t in dataset.temperatures}
    results = {
        "n_frames": dataset.n_frames,
        "n_features": dataset.n_features,
        "frames_per_temperature": counts,
        "has_energy": dataset.has_energy,
    }
    record = write_json(
        path.with_suffix(".run.json"), run_record("featurize", settings, None, results)
    )
    names = ", ".join(dataset.feature_names[:6]) + (", ..." if dataset.n_features > 6 else "")
    print(
        f"wrote {dataset.n_frames} frames x {dataset.n_features} features ({names}) at "
        f"{len(counts)} temperatures ({min(counts):.5g}-{max(counts):.5g} K){described} to {path}"
    )
    print(f"run record: {record}")
    return 0


def _featurizer(
    args: argparse.Namespace, topology: Any, specs: Any, settings: dict[str, Any]
) -> Any:
    """The features of ``--features`` resolved on the topology (after the inputs were checked)."""
    from .data.featurize import Featurizer
    from .data.trajectories import load_structure

    needs_reference = any(spec.kind == "rmsd" for spec in specs)
    reference_path = args.reference or args.top
    featurizer = Featurizer(
        specs,
        topology,
        reference=load_structure(reference_path) if needs_reference else None,
        source=args.top,
        reference_source=reference_path,
    )
    settings.update(
        features=",".join(str(spec) for spec in specs),
        feature_names=list(featurizer.names),
        periodic=featurizer.periodic,
        reference=reference_path if needs_reference else None,
    )
    return featurizer


def _featurize_store(
    args: argparse.Namespace, topology: Any, specs: Any, settings: dict[str, Any]
) -> tuple[Any, str]:
    """Read an openmmtools store (``--store``); returns the dataset and a phrase for the summary."""
    from .data.openmmtools_store import OpenMMToolsStore, featurize_store

    for option in ("energy", "energy_unit"):
        if getattr(args, option) is not None:
            raise UsageError(f"--{option.replace('_', '-')} goes with --traj; a store has energies")
    by = args.by or "replica"
    first = 1 if args.first_iteration is None else args.first_iteration
    with OpenMMToolsStore(args.store, args.checkpoint) as store:
        store.check_topology(topology, args.top)
        iterations = store.frame_iterations(first, args.stride)
        dataset = featurize_store(
            store,
            topology,
            _featurizer(args, topology, specs, settings),
            by=by,
            first_iteration=first,
            stride=args.stride,
            progress=not args.quiet,
            topology_source=args.top,
        )
        settings.update(
            store=args.store,
            checkpoint=str(store.checkpoint_path),
            by=by,
            first_iteration=first,
            iterations=[int(iterations[0]), int(iterations[-1]), iterations.size],
            checkpoint_interval=store.checkpoint_interval,
            temperatures=store.temperatures,
            n_replicas=store.n_replicas,
            pressure_bar=store.pressure,
            energy="U + pV (kJ/mol)" if store.pressure is not None else "U (kJ/mol)",
        )
    kind = "demultiplexed by replica" if by == "replica" else "grouped by state"
    return dataset, (
        f", {kind} ({store.n_replicas} replicas, iterations {iterations[0]}-{iterations[-1]} "
        f"every {store.checkpoint_interval * args.stride})"
    )


def _featurize_files(
    args: argparse.Namespace, topology: Any, specs: Any, settings: dict[str, Any]
) -> tuple[Any, str]:
    """Read trajectory files (``--traj``); returns the dataset and a phrase for the summary."""
    from .data.trajectories import (
        check_trajectories,
        featurize_trajectories,
        parse_trajectory_argument,
    )

    for option in ("checkpoint", "by", "first_iteration"):
        if getattr(args, option) is not None:
            raise UsageError(f"--{option.replace('_', '-')} goes with --store")
    energies = args.energy or [None] * len(args.traj)
    if len(energies) != len(args.traj):
        raise UsageError(
            f"give one --energy per --traj, in the same order ({len(energies)} for {len(args.traj)})"
        )
    inputs = [
        parse_trajectory_argument(text, energy)
        for text, energy in zip(args.traj, energies, strict=True)
    ]
    check_trajectories(inputs, topology, args.top)
    dataset = featurize_trajectories(
        inputs,
        topology,
        _featurizer(args, topology, specs, settings),
        stride=args.stride,
        energy_unit=args.energy_unit or "kJ/mol",
        progress=not args.quiet,
        topology_source=args.top,
    )
    settings.update(
        trajectories=[{"replica": i, **item.as_record()} for i, item in enumerate(inputs)],
        energy_unit=args.energy_unit or "kJ/mol",
    )
    files = "file" if len(inputs) == 1 else "files"
    return dataset, f" from {len(inputs)} trajectory {files}"


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
    simulate.set_defaults(func=_cmd_simulate)

    train = sub.add_parser(
        "train",
        help="train a generative model (diffusion, spib or latf) on a multi-temperature dataset",
        description="Train a model. diffusion: a temperature-transferable generator of "
        "configurations; RUN_DIR receives the resolved config (config.json), the data's "
        "standardization, checkpoints, the training log (train_log.csv) and the model (model.pt). "
        "spib: learned collective variables and metastable states from trajectories "
        "(needs 'replica' and 'time'); latf: SPIB with a temperature-steerable flow prior "
        "(trajectories at two or more temperatures). For spib and latf RUN_DIR receives "
        "model.pt and config.json (resolved settings, seed, versions, states found, history).",
    )
    train.add_argument(
        "data", help="dataset (.npz or .csv) with frames at two or more temperatures"
    )
    train.add_argument(
        "--model",
        choices=["diffusion", "spib", "latf"],
        default="diffusion",
        help="model (default diffusion)",
    )
    train.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder")
    train.add_argument(
        "--config", help="YAML file with model settings (keys as in the model's config)"
    )
    train.add_argument(
        "--seed",
        type=int,
        help="random seed (overrides the config; for latf both its spib and joint stages)",
    )
    train.add_argument(
        "--device", help="diffusion only: auto, cpu or cuda (overrides the config; default auto)"
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="diffusion only: continue from RUN_DIR's last checkpoint",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_csv_options(train)
    train.set_defaults(func=_cmd_train)

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
    _add_csv_options(transform)
    transform.set_defaults(func=_cmd_transform)

    sample = sub.add_parser(
        "sample",
        help="generate frames (diffusion) or latent samples (latf) at any temperatures",
        description="Generate samples at the given temperatures (units of the training data). "
        "diffusion run: a dataset of frames: features (angles in radians, wrapped), temperature, "
        "feature_names, periodic. latf run: an npz with cv (K*n, d) latent samples, state_prob "
        "(K*n, S) their decoded state probabilities, state (K*n,) the most probable state, and "
        "temperature (K*n,). A spib run cannot sample (it has no temperature model).",
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
    sample.add_argument("--device", help="diffusion only: cpu (default), cuda or auto")
    sample.add_argument("--quiet", action="store_true", help="no progress bar")
    sample.set_defaults(func=_cmd_sample)

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
    melt.set_defaults(func=_cmd_melt)

    featurize = sub.add_parser(
        "featurize",
        help="features of trajectories at several temperatures or of an openmmtools REMD store",
        description="Read molecular frames with MDTraj and write a dataset (.npz) of features\n"
        "with each frame's temperature (K), potential energy (kJ/mol) when known, replica and\n"
        "time, plus a run record (.run.json). Inputs: trajectory files (DCD, XTC, NetCDF, PDB,\n"
        "...), each one continuous trajectory with one temperature (FILE@T) or a table of one\n"
        "temperature per frame (FILE@TABLE: .npy or text, one value per line); or an\n"
        "openmmtools MultiStateReporter store (--store), demultiplexed by replica (continuous\n"
        "trajectories through the temperatures) or grouped by state (--by state).",
        epilog=_FEATURIZE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    featurize.add_argument(
        "--top", required=True, help="topology of every frame (PDB, GRO, PRMTOP, PSF, ...)"
    )
    inputs = featurize.add_mutually_exclusive_group(required=True)
    inputs.add_argument(
        "--traj",
        action="append",
        metavar="FILE@T|FILE@TABLE",
        help="a trajectory and its temperature in K, or a table of one temperature per frame "
        "(repeat for each file; file i gets replica i)",
    )
    inputs.add_argument("--store", metavar="STORE.nc", help="openmmtools store (analysis .nc file)")
    featurize.add_argument(
        "--features", default="phi,psi", help="feature specification (see below; default phi,psi)"
    )
    featurize.add_argument("--out", required=True, help="output dataset (.npz)")
    featurize.add_argument(
        "--reference", help="structure for rmsd features (default: the --top file)"
    )
    featurize.add_argument(
        "--stride", type=int, default=1, help="keep every N-th frame or stored iteration"
    )
    featurize.add_argument("--quiet", action="store_true", help="no progress bar")
    files = featurize.add_argument_group("with --traj")
    files.add_argument(
        "--energy",
        action="append",
        metavar="TABLE",
        help="potential energies, one per frame, for each --traj in the same order",
    )
    files.add_argument(
        "--energy-unit",
        choices=["kJ/mol", "kcal/mol"],
        help="of the --energy tables (default kJ/mol)",
    )
    store = featurize.add_argument_group("with --store")
    store.add_argument(
        "--checkpoint", help="checkpoint file with the positions (default STORE_checkpoint.nc)"
    )
    store.add_argument(
        "--by",
        choices=["replica", "state"],
        help="replica: each replica's continuous trajectory (default); state: frames by temperature",
    )
    store.add_argument(
        "--first-iteration",
        type=int,
        help="first iteration read (default 1; iteration 0 holds the starting structures)",
    )
    featurize.set_defaults(func=_cmd_featurize)

    from .workflow import SCHEMA_HELP

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
    run.set_defaults(func=_cmd_run)

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
        help="mueller-brown (default; about 2 minutes) or alanine-dipeptide: OpenMM replica "
        "exchange at 350, 450, 580 K, the diffusion model and MBAR at 300, 400 and 510 K "
        "against the packaged reference, Ramachandran maps (5-10 minutes)",
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
    demo.set_defaults(func=_cmd_demo)

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
    report.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    report.set_defaults(func=_cmd_report)
    return parser


def _use_file_backend() -> None:
    """Draw with matplotlib's Agg backend: the commands write figures to files, never windows."""
    import matplotlib

    matplotlib.use("Agg")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    _use_file_backend()
    try:
        return func(args)
    except ThermogenError as err:
        print(f"thermogen {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"thermogen {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `thermogen info data.npz | head`: the reader left early
        sys.stderr.close()  # nothing more can be reported; keep Python quiet at exit
        return 0
