"""LaTF on LJ7-2D trained at two temperatures, against long REMD references at three others.

Data: plain Langevin trajectories (``run_remd`` with no swaps) of the 2D LJ7 cluster at
T = 0.2 and 0.25 (reduced units), started from the hexagon and equilibrated; features are the 7
sorted coordination numbers. At these temperatures the cluster isomerises between its four
isomers (the hexagon and three ~1 epsilon higher ones) within a trajectory: quenched-state
implied timescales are ~3.5-16 time units at T = 0.2 (trials), a trajectory is 200. LaTF is
trained with the default settings of :class:`~thermogen.models.latf.LaTFConfig` (its default
temperature coupling) except the SPIB lag, 4 frames = 1 time unit. In trials with T = 0.3 in the
training pair (lag 1 or 2.5 time units) SPIB merged the three higher isomers into one state: at
0.3 they interconvert within ~1-3 time units.

The reference is the project's own long REMD at T = 0.175, 0.2, 0.225, 0.25, 0.3, made once by
``benchmarks/make_lj7_reference.py`` and stored in ``benchmarks/reference/lj7_reference.npz`` (4 MB, not
in git: the script regenerates it from its fixed seed).
The model is tested at 0.175 (below the training pair), 0.225 (between) and 0.3 (above), and
checked at the two training temperatures. Generated latents have no coordinates, so there is no
(mu2, mu3) for them; the comparison is made in the model's latent space instead:

* latent free-energy surface: the reference frames at T go through ``model.transform``; the 2D
  histogram (``--bins`` per axis over the reference latents' range, plus one cell for anything
  outside) of their latents is compared with that of ``model.sample`` latents at T by the JS
  divergence. The reference frames are thinned by the statistical inefficiency of their learned
  states (per REMD chain at fixed T) and two disjoint random subsets of the same size n give the
  noise floor (``thermogen.analysis.noise_floor``, 5 repeats); the model's JS is the mean over 5
  sets of n generated latents, each against a random reference subset of size n. At the
  training temperatures the training frames themselves (thinned the same way) are scored too.
  The flow prior is trained on encoder draws z ~ q(z | x), not on the means ``transform``
  returns, so generated latents are blurred by the encoder's noise; the same JS against one
  encoder draw per reference frame (column ``q(z|x)``) separates that from a model error;
* learned-state populations: ``model.populations(T)`` and the decoded states of generated
  latents (argmax p(state | z)) against the fraction of reference frames in each state
  (``model.transform``), with the reference's block-bootstrap standard error; also MBAR from the
  two-temperature training frames labelled with the same learned states, with its effective
  sample size; and the 95% interval of ``model.population_curve`` where the coupling has one;
* the mean (mu2, mu3) of each learned state's reference frames (which isomer it is) and how often
  the flat-bottom restraint wall is touched in the training and reference data.

A population row is flagged MISS where the largest absolute error exceeds ``--tolerance``
(0.05), a latent row where the JS exceeds twice the noise floor.

Usage: ``python benchmarks/lj7.py [--chains 256] [--steps 40000] [--seed 0]``
Writes ``benchmarks/results/lj7.json``. Needs the reference; if it is missing, make it with
``python benchmarks/make_lj7_reference.py`` (about 2-5 minutes on one core).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from latf_common import kind_of, latf_config, source_digest  # sibling module
from make_lj7_reference import (  # the sibling script: benchmarks/ is on sys.path
    REFERENCE,
    LJ7WithWallDistance,
    load_reference,
)

from thermogen.analysis import (
    bootstrap_populations,
    histogram,
    histogram_ranges,
    js_divergence,
    noise_floor,
    statistical_inefficiency,
)
from thermogen.analysis.mbar import MBARReweighter
from thermogen.data import MultiTempDataset
from thermogen.models.latf import LaTFModel
from thermogen.models.protocol import POPULATION_CURVE
from thermogen.provenance import run_record, write_json
from thermogen.simulate import REMDConfig, run_remd
from thermogen.systems import LJ7
from thermogen.systems.lj7 import coordination_moments

RESULTS = Path(__file__).parent / "results"
TRAINING = (0.2, 0.25)
TESTS = (0.175, 0.225, 0.3)
STRIDE = 50
"""Steps between training frames (0.25 time units)."""
LAG = 4
"""SPIB lag in frames: 1 time unit."""
N_COMPARED = 10_000
"""Largest sample size n compared in the latent JS (the thinned reference may allow fewer)."""
N_GENERATED = 20_000
"""Generated samples per temperature for the decoded-state populations."""
REPEATS = 5


def simulate(args: argparse.Namespace) -> tuple[MultiTempDataset, np.ndarray, float]:
    """Training trajectories at the two temperatures (7 coordination numbers), the largest
    particle-COM distance of every frame, and the wall time."""
    system = LJ7WithWallDistance()
    config = REMDConfig(
        TRAINING,
        n_chains=args.chains,
        n_steps=args.steps,
        equilibration_steps=args.equilibration,
        stride=STRIDE,
        swap_interval=args.steps + args.equilibration + 1,
        seed=args.seed,
    )
    started = time.perf_counter()
    ds = run_remd(system, config, progress=False).dataset
    wall_s = time.perf_counter() - started
    data = replace(
        ds,
        features=ds.features[:, :7],
        feature_names=LJ7.feature_names,
        periodic=ds.periodic[:7],
        source="LJ7 Langevin at two temperatures",
    )
    return data, ds.features[:, 7], wall_s


def with_overflow(samples: np.ndarray, ranges: list[tuple[float, float]], bins: int) -> np.ndarray:
    """bins x bins probabilities over ``ranges`` plus one last cell for everything outside."""
    low, high = np.array(ranges).T
    inside = np.all((samples >= low) & (samples < high), axis=1)
    out = np.zeros(bins * bins + 1)
    if inside.any():
        out[:-1] = histogram(samples[inside], bins, ranges).ravel() * inside.sum()
    out[-1] = (~inside).sum()
    return out / len(samples)


def thinned(state: np.ndarray, group: np.ndarray, n_states: int) -> tuple[np.ndarray, float]:
    """Indices keeping every ceil(g)-th frame of each group (frames in time order within a
    group), with g the statistical inefficiency of the states; and g."""
    g = statistical_inefficiency(state, n_states, groups=group)
    step = int(np.ceil(g))
    keep = []
    for gid in np.unique(group):
        keep.append(np.flatnonzero(group == gid)[::step])
    return np.sort(np.concatenate(keep)), g


def latent_comparison(
    model: LaTFModel,
    temperature: float,
    pool: np.ndarray,
    n: int,
    ranges: list[tuple[float, float]],
    bins: int,
    seed: int,
    data_pool: np.ndarray | None = None,
) -> dict[str, Any]:
    """JS of generated vs reference latent histograms (n samples each) beside the noise floor
    (two disjoint subsets of ``pool``); ``data_pool`` (training latents) is scored the same way."""

    def metric(a: np.ndarray, b: np.ndarray) -> float:
        return js_divergence(with_overflow(a, ranges, bins), with_overflow(b, ranges, bins))

    def subset(samples: np.ndarray) -> np.ndarray:
        return samples[rng.choice(samples.shape[0], n, replace=False)]

    rng = np.random.default_rng(seed)
    floor = noise_floor(pool, n, metric, n_repeats=REPEATS, seed=rng)
    model_js, outside = [], []
    for r in range(REPEATS):
        generated = model.sample_latent(temperature, n, seed=seed + 100 + r)[0][0]
        model_js.append(metric(generated, subset(pool)))
        outside.append(with_overflow(generated, ranges, bins)[-1])
    result = {
        "n": n,
        "reference_pool": int(pool.shape[0]),
        "noise_floor": floor.mean,
        "noise_floor_std": floor.std,
        "model_js": float(np.mean(model_js)),
        "model_js_std": float(np.std(model_js, ddof=1)),
        "model_ratio": float(np.mean(model_js)) / floor.mean,
        "model_fraction_outside_window": float(np.mean(outside)),
    }
    if data_pool is not None:
        data_js = [metric(subset(data_pool), subset(pool)) for _ in range(REPEATS)]
        result["training_data_js"] = float(np.mean(data_js))
        result["training_data_ratio"] = result["training_data_js"] / floor.mean
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=256, help="trajectories per temperature")
    parser.add_argument("--steps", type=int, default=40_000, help="saved steps per trajectory")
    parser.add_argument("--equilibration", type=int, default=20_000, help="discarded steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bins", type=int, default=40, help="latent histogram bins per axis")
    parser.add_argument("--spib-steps", type=int, help="override the steps of one SPIB round")
    parser.add_argument("--joint-steps", type=int, help="override the joint-stage steps")
    parser.add_argument("--tolerance", type=float, default=0.05, help="flag larger errors")
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--out", type=Path, default=RESULTS / "lj7.json")
    args = parser.parse_args()
    torch.set_num_threads(1)

    ref = load_reference(args.reference)
    ref_temps = [float(t) for t in ref["temperatures"]]
    temps = sorted(TRAINING + TESTS)
    missing = [t for t in temps if not np.isclose(ref_temps, t).any()]
    if missing:
        raise SystemExit(f"{args.reference} has no frames at T = {missing}: regenerate it")

    started_all = time.perf_counter()
    data, reach, simulation_s = simulate(args)
    config = latf_config(LAG, args.seed, args.spib_steps, args.joint_steps)
    started = time.perf_counter()
    model = LaTFModel.fit(data, config, progress=False)
    training_s = time.perf_counter() - started
    n_states = model.n_states

    train_cv, train_state = model.transform(data.features)
    started = time.perf_counter()
    mbar = MBARReweighter(data, decorrelate=True)
    mbar_est = mbar.populations(train_state, n_states, temps)
    mbar_s = time.perf_counter() - started

    latf = model.populations(np.array(temps), N_GENERATED, args.seed)
    _, prob = model.sample_latent(np.array(temps), N_GENERATED, seed=args.seed + 1000)
    decoded = np.stack([np.bincount(s, minlength=n_states) / N_GENERATED for s in prob.argmax(2)])
    low = high = None
    if model.can(POPULATION_CURVE):
        curve = model.population_curve(np.array(temps), n_bootstrap=200, seed=args.seed)
        low, high = curve.low, curve.high

    ref_cv, ref_state = model.transform(ref["features"].astype(float))
    ref_draw = model.posterior_sample(ref["features"].astype(float), args.seed)
    encoder_noise = np.sqrt(np.mean((ref_draw - ref_cv) ** 2, axis=0))
    ranges = histogram_ranges(ref_cv, margin=0.05)  # all reference latents, 5% margins
    moments = coordination_moments(ref["features"].astype(float))
    state_moments = [
        moments[ref_state == s].mean(axis=0) if (ref_state == s).any() else np.full(2, np.nan)
        for s in range(n_states)
    ]

    rows = []
    for k, t in enumerate(temps):
        at_t = np.flatnonzero(np.isclose(ref["temperatures"][ref["temperature_index"]], t))
        at_t = at_t[np.lexsort((ref["time"][at_t], ref["chain"][at_t]))]
        chain = ref["chain"][at_t].astype(np.int64)
        state = ref_state[at_t]
        reference = bootstrap_populations(state, n_states, groups=chain, seed=args.seed)
        keep, g = thinned(state, chain, n_states)
        data_pool = None
        if t in TRAINING:
            at_data = np.flatnonzero(data.temperature == t)
            at_data = at_data[np.lexsort((data.time[at_data], data.replica[at_data]))]
            keep_data, _ = thinned(train_state[at_data], data.replica[at_data], n_states)
            data_pool = train_cv[at_data][keep_data]
        n = min(N_COMPARED, keep.size // 2)
        if data_pool is not None:
            n = min(n, data_pool.shape[0])
        fes = latent_comparison(
            model, t, ref_cv[at_t][keep], n, ranges, args.bins, args.seed + k, data_pool
        )
        fes_posterior = latent_comparison(
            model, t, ref_draw[at_t][keep], n, ranges, args.bins, args.seed + k
        )
        row = {
            "temperature": t,
            "kind": kind_of(t, TRAINING),
            "reference": reference.value,
            "reference_std_error": reference.std_error,
            "reference_statistical_inefficiency": g,
            "reference_restraint_engaged": float(
                np.mean(ref["max_com_distance"][at_t] > ref["restraint_radius"])
            ),
            "latf": latf[k],
            "latf_max_abs_error": float(np.abs(latf[k] - reference.value).max()),
            "decoded": decoded[k],
            "decoded_max_abs_error": float(np.abs(decoded[k] - reference.value).max()),
            "mbar": mbar_est.value[k],
            "mbar_std_error": mbar_est.std_error[k],
            "mbar_max_abs_error": float(np.abs(mbar_est.value[k] - reference.value).max()),
            "mbar_effective_sample_size": float(mbar_est.effective_sample_size[k]),
            "latent_fes": fes,
            "latent_fes_vs_posterior_draws": fes_posterior,
        }
        if t in TRAINING:
            row["training_data"] = np.bincount(
                train_state[data.temperature == t], minlength=n_states
            ) / np.sum(data.temperature == t)
            row["training_restraint_engaged"] = float(
                np.mean(reach[data.temperature == t] > LJ7().restraint_radius)
            )
        if low is not None:
            row["latf_low"], row["latf_high"] = low[k], high[k]
            row["latf_interval_covers_reference"] = bool(
                np.all((low[k] - 1e-9 <= reference.value) & (reference.value <= high[k] + 1e-9))
            )
        rows.append(row)

    spib_rounds = [h for h in model.history if "round" in h]
    results = {
        "wall_s": time.perf_counter() - started_all,
        "simulation_s": simulation_s,
        "training_s": training_s,
        "mbar_s": mbar_s,
        "n_frames": data.n_frames,
        "temperature_coupling": model.config.temperature_coupling,
        "n_states": n_states,
        "states_per_round": [int(h["n_states"]) for h in spib_rounds],
        "state_mean_mu2_mu3": state_moments,
        "latent_ranges": ranges,
        "latent_std_of_means": ref_cv.std(axis=0),
        "encoder_noise_rms": encoder_noise,
        "mbar_frames_after_decorrelation": mbar.n_frames,
        "rows": rows,
    }
    sidecar = args.reference.with_suffix(".json")
    settings = {
        "system": "lj7",
        "training_temperatures": TRAINING,
        "test_temperatures": TESTS,
        "chains": args.chains,
        "steps": args.steps,
        "equilibration_steps": args.equilibration,
        "stride": STRIDE,
        "lag": LAG,
        "bins": args.bins,
        "n_compared_max": N_COMPARED,
        "n_generated": N_GENERATED,
        "tolerance": args.tolerance,
        "reference": str(args.reference),
        "reference_sha256": hashlib.sha256(args.reference.read_bytes()).hexdigest(),
        "reference_sidecar": str(sidecar) if sidecar.exists() else None,
        "latf_config": config.to_dict(),
        "latf_source_sha256": source_digest(),
        "threads": torch.get_num_threads(),
    }
    payload = run_record("benchmarks/lj7.py", settings, args.seed, results)
    path = write_json(args.out, payload)
    print_table(results, args.tolerance)
    print(f"wrote {path}")


def fmt(p: np.ndarray) -> str:
    """Populations joined by ``/``."""
    return "/".join(f"{v:.3f}" for v in p)


def print_table(results: dict[str, Any], tolerance: float) -> None:
    """States found, learned-state populations and latent JS per temperature."""
    n_states = results["n_states"]
    states_ok = "" if n_states == 4 else "  <-- the cluster has 4 isomers"
    print(
        f"\nLJ7-2D trained at T = {TRAINING} ({results['n_frames']} frames, coupling "
        f"{results['temperature_coupling']!r}, training {results['training_s']:.0f} s); "
        f"SPIB states {n_states} (per round {results['states_per_round']}){states_ok}"
    )
    described = ", ".join(
        f"s{s} ({m[0]:.2f}, {m[1]:.2f})" for s, m in enumerate(results["state_mean_mu2_mu3"])
    )
    print(f"mean (mu2, mu3) of each state's reference frames: {described}")
    touched = ", ".join(
        f"T={r['temperature']} {r['training_restraint_engaged']:.2%}"
        for r in results["rows"]
        if "training_restraint_engaged" in r
    )
    print(f"restraint wall touched in the training frames: {touched}")
    print(
        "\nlearned-state populations s0/s1/...; dp = max |error| vs the reference REMD "
        "(its block-bootstrap s.e. in the last column)"
    )
    width = 7 * n_states
    print(
        f"{'T':>6} {'kind':<12} {'reference':<{width}} {'LaTF':<{width}} {'dp':>6} "
        f"{'95% int':>8} {'decoded':<{width}} {'dp':>6} {'MBAR':<{width}} {'dp':>6} "
        f"{'ESS':>6} {'ref s.e.':>8}"
    )
    for r in results["rows"]:
        covers = r.get("latf_interval_covers_reference")
        cover = "-" if covers is None else ("covers" if covers else "misses")
        flag = "  MISS" if r["latf_max_abs_error"] > tolerance else ""
        print(
            f"{r['temperature']:>6} {r['kind']:<12} {fmt(r['reference']):<{width}} "
            f"{fmt(r['latf']):<{width}} {r['latf_max_abs_error']:>6.3f} {cover:>8} "
            f"{fmt(r['decoded']):<{width}} {r['decoded_max_abs_error']:>6.3f} "
            f"{fmt(r['mbar']):<{width}} {r['mbar_max_abs_error']:>6.3f} "
            f"{r['mbar_effective_sample_size']:>6.0f} {max(r['reference_std_error']):>8.3f}{flag}"
        )
    print(
        "\nlatent FES: JS (nats) of generated vs reference latent histograms, n samples each; "
        "floor = two reference subsets.\nmeans: reference latents from model.transform; "
        "q(z|x): one encoder draw per reference frame (what the prior is trained on); "
        "data: the training frames' latents"
    )
    print(
        f"{'T':>6} {'kind':<12} {'n':>6} {'g':>5} {'floor':>8} {'LaTF':>8} {'/floor':>7} "
        f"{'q(z|x) /floor':>14} {'data/floor':>10} {'outside':>8} {'wall touched':>12}"
    )
    for r in results["rows"]:
        fes, draws = r["latent_fes"], r["latent_fes_vs_posterior_draws"]
        flag = "  MISS" if fes["model_ratio"] > 2 else ""
        data = fes.get("training_data_ratio")
        print(
            f"{r['temperature']:>6} {r['kind']:<12} {fes['n']:>6} "
            f"{r['reference_statistical_inefficiency']:>5.1f} {fes['noise_floor']:>8.4f} "
            f"{fes['model_js']:>8.4f} {fes['model_ratio']:>7.2f} {draws['model_ratio']:>14.2f} "
            f"{'-' if data is None else f'{data:.2f}':>10} "
            f"{fes['model_fraction_outside_window']:>8.2%} "
            f"{r['reference_restraint_engaged']:>12.2%}{flag}"
        )
    noise = ", ".join(f"{v:.3f}" for v in results["encoder_noise_rms"])
    spread = ", ".join(f"{v:.3f}" for v in results["latent_std_of_means"])
    print(f"encoder noise rms per latent axis {noise}; spread (std) of the latent means {spread}")
    print(
        f"MISS: population error > {tolerance} or JS vs the means > 2 x floor; "
        f"wall time {results['wall_s']:.0f} s (simulation {results['simulation_s']:.0f} s, "
        f"training {results['training_s']:.0f} s)"
    )


if __name__ == "__main__":
    main()
