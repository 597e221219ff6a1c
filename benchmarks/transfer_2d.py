"""Temperature transfer of the diffusion model on Mueller-Brown, from i.i.d. exact samples.

Training data are exact i.i.d. samples at 4 temperatures (so model error is not mixed with MD
error). At 3 interpolated and 2 extrapolated temperatures the benchmark reports, against the exact
density: JS divergence of a 60x60 histogram (plus one cell for everything outside its window) of
20,000 generated samples against 2,000,000 exact ones, the noise floor (20,000 exact samples,
mean of 5 repeats), MBAR from the training data, the model with each sampler, the
model reweighted to Boltzmann with its ODE log-density, and the basin populations. Also training
wall time and generated samples per second. Writes ``benchmarks/results/transfer_2d.json``.

Usage: ``python benchmarks/transfer_2d.py [--modes conditional,scaled-prior] [--train-steps N]``
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from thermogen import __version__
from thermogen.analysis import histogram, js_divergence
from thermogen.analysis.mbar import MBARReweighter
from thermogen.analysis.reweighting import boltzmann_weights
from thermogen.data import MultiTempDataset
from thermogen.models import DiffusionConfig, DiffusionModel
from thermogen.provenance import write_json
from thermogen.simulate import REMDConfig, run_remd
from thermogen.systems import MuellerBrown

RESULTS = Path(__file__).parent / "results"
LADDER = (1.0, 1.4, 2.0, 2.8)
INTERPOLATED = (1.2, 1.7, 2.4)
EXTRAPOLATED = (0.8, 3.4)
N_TRAIN, N_GEN, BINS = 25_000, 20_000, 60
SAMPLERS = (("ddpm", 500), ("ddim", 50), ("ode", 20), ("ode", 15), ("heun", 49))


RANGES = [(-2.4, 1.5), (-1.0, 2.9)]
"""Histogram window: holds all but ~0.1% of the mass at the hottest test temperature."""


def training_data(
    system: MuellerBrown, source: str, rng: np.random.Generator, seed: int
) -> MultiTempDataset:
    """About N_TRAIN frames per ladder temperature: exact i.i.d. samples or REMD frames."""
    if source == "remd":
        config = REMDConfig(
            LADDER,
            n_chains=64,
            n_steps=N_TRAIN // 64 * 50,
            equilibration_steps=2_000,
            stride=50,
            seed=seed,
        )
        return run_remd(system, config, progress=False).dataset
    x = np.concatenate([system.sample(t, N_TRAIN, rng) for t in LADDER])
    return MultiTempDataset(
        x,
        np.repeat(LADDER, N_TRAIN),
        energy=system.potential(x),
        feature_names=("x", "y"),
        temperature_unit="reduced",
        energy_unit="reduced",
        source="exact i.i.d. Mueller-Brown",
    )


def with_overflow(samples: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """BINS x BINS probabilities over RANGES plus one last cell for everything outside."""
    weights = np.ones(len(samples)) if weights is None else weights
    inside = np.all(
        (samples >= [r[0] for r in RANGES]) & (samples < [r[1] for r in RANGES]), axis=1
    )
    hist = histogram(samples[inside], BINS, RANGES, weights=weights[inside]) * weights[inside].sum()
    return np.append(hist.ravel(), weights[~inside].sum()) / weights.sum()


def js_to_exact(samples: np.ndarray, exact: np.ndarray, weights: np.ndarray | None = None) -> float:
    return js_divergence(with_overflow(samples, weights), exact)


def populations(system: MuellerBrown, samples: np.ndarray, weights=None) -> list[float]:
    counts = np.bincount(
        system.basin_of(samples), weights=weights, minlength=len(system.basin_names)
    )
    return (counts / counts.sum()).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="conditional,scaled-prior")
    parser.add_argument(
        "--train-steps", type=int, help="override the default number of training steps"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samplers", default=",".join(f"{s}:{k}" for s, k in SAMPLERS))
    parser.add_argument(
        "--data",
        choices=["iid", "remd"],
        default="iid",
        help="exact i.i.d. samples (default) or the project's own REMD frames",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON path (default results/transfer_<data>.json)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    system = MuellerBrown()
    rng = np.random.default_rng(args.seed)
    data = training_data(system, args.data, rng, args.seed)
    x = data.features
    mbar = MBARReweighter(data)
    samplers = [
        (name, int(k)) for name, k in (item.split(":") for item in args.samplers.split(","))
    ]
    targets = [*INTERPOLATED, *EXTRAPOLATED]

    reference = {}
    for t in targets:
        exact = with_overflow(system.sample(t, 2_000_000, rng))  # 100 x the compared sample size
        floors = [js_to_exact(system.sample(t, N_GEN, rng), exact) for _ in range(5)]
        w = mbar.weights(t)
        reference[t] = {
            "exact": exact,
            "floor": float(np.mean(floors)),
            "exact_populations": system.reference(t).basin_populations.tolist(),
            "mbar_js": js_to_exact(x, exact, w),
            "mbar_populations": populations(system, x, w),
            "mbar_ess": mbar.effective_sample_size(t),
        }

    results = []
    for mode in args.modes.split(","):
        config = DiffusionConfig(temperature_mode=mode)
        if args.train_steps:
            config = replace(config, train=replace(config.train, steps=args.train_steps))
        config = replace(config, train=replace(config.train, seed=args.seed))
        start = time.perf_counter()
        model = DiffusionModel.fit(data, config, progress=False)
        train_time = time.perf_counter() - start
        print(f"[{mode}] trained {config.train.steps} steps in {train_time:.0f} s", flush=True)
        for t in targets:
            ref = reference[t]
            row = {
                "mode": mode,
                "temperature": t,
                "kind": "interpolated" if t in INTERPOLATED else "extrapolated",
                "train_time_s": train_time,
                "noise_floor": ref["floor"],
                "mbar_js": ref["mbar_js"],
                "mbar_ess": ref["mbar_ess"],
                "exact_populations": ref["exact_populations"],
                "mbar_populations": ref["mbar_populations"],
                "samplers": {},
            }
            for name, steps in samplers:
                start = time.perf_counter()
                gen = model.sample(t, N_GEN, sampler=name, steps=steps, seed=args.seed + 1).features
                rate = N_GEN / (time.perf_counter() - start)
                row["samplers"][f"{name}{steps}"] = {
                    "js": js_to_exact(gen, ref["exact"]),
                    "populations": populations(system, gen),
                    "samples_per_s": rate,
                }
            gen, log_q = model.sample_with_log_prob(t, N_GEN, seed=args.seed + 2)
            weights = boltzmann_weights(log_q, system.potential(gen), t)
            row["reweighted"] = {
                "js": js_to_exact(gen, ref["exact"], weights.weights),
                "populations": populations(system, gen, weights.weights),
                "ess_fraction": weights.effective_fraction,
            }
            results.append(row)
            cells = " ".join(
                f"{k}={v['js'] / ref['floor']:.2f}" for k, v in row["samplers"].items()
            )
            print(
                f"[{mode}] T={t:<4} floor={ref['floor']:.4f} MBAR={ref['mbar_js'] / ref['floor']:.2f} {cells} "
                f"reweighted={row['reweighted']['js'] / ref['floor']:.2f} (ESS {weights.effective_fraction:.0%})",
                flush=True,
            )

    print_table(results, samplers)
    out = args.out or RESULTS / ("transfer_2d.json" if args.data == "iid" else "transfer_remd.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(
        out,
        {
            "benchmark": "transfer_2d" if args.data == "iid" else "transfer_remd",
            "training_data": args.data,
            "thermogen_version": __version__,
            "ladder": LADDER,
            "n_train_per_temperature": N_TRAIN,
            "n_generated": N_GEN,
            "bins": BINS,
            "results": results,
        },
    )
    print(f"wrote {out}")


def print_table(results: list[dict], samplers: list[tuple[str, int]]) -> None:
    """JS / noise floor per mode, temperature and method; population error and speed of ode20."""
    names = [f"{s}{k}" for s, k in samplers]
    print(
        "\nJS divergence / noise floor (1.0 = as good as 20,000 exact samples); "
        "max |population error| and samples/s of the default sampler (ode20)"
    )
    print(
        f"{'mode':<13} {'T':>5} {'kind':<12} {'MBAR':>6} "
        + " ".join(f"{n:>8}" for n in names)
        + f" {'reweight':>8} {'ESS':>5} {'dpop':>6} {'samples/s':>10}"
    )
    for r in results:
        floor = r["noise_floor"]
        default = r["samplers"].get("ode20", r["samplers"][names[0]])
        dpop = max(
            abs(a - b) for a, b in zip(default["populations"], r["exact_populations"], strict=True)
        )
        print(
            f"{r['mode']:<13} {r['temperature']:>5} {r['kind']:<12} {r['mbar_js'] / floor:>6.2f} "
            + " ".join(f"{r['samplers'][n]['js'] / floor:>8.2f}" for n in names)
            + f" {r['reweighted']['js'] / floor:>8.2f} {r['reweighted']['ess_fraction']:>5.0%}"
            f" {dpop:>6.3f} {default['samples_per_s']:>10,.0f}"
        )


if __name__ == "__main__":
    main()
