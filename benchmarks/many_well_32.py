"""Temperature transfer of the diffusion model on the 32-dimensional many-well system (issue 14).

Training data are exact i.i.d. samples (``ManyWell32.exact_samples``, with their exact energies)
at 4 temperatures, every other one of the system's default ladder: kT = 0.5, 0.906, 1.64, 2.97,
where the probability q(T) of a pair's minor well rises from 3% to 37%. The diffusion model is
trained with its default settings (only the seed is set) and generates at the 3 temperatures of
the default ladder in between (0.673, 1.22, 2.21) and at 2 outside (20% below the lowest, 0.4,
q = 1.4%, and 20% above the highest, 3.57). At each, against the exact answers:

* per-coordinate 1D marginal JS divergence (nats) to the exact cell probabilities (quadrature
  marginal for the 16 double-well x, normal of variance T for the 16 harmonic y; 80 equal bins
  plus one overflow cell on each side), divided by the noise floor: the same JS of as many exact
  i.i.d. samples, mean over 5 repeats and over the 16 coordinates of the kind. Median and max
  over all 32 coordinates and over x and y separately;
* the total variation distance between the distribution of the number of pairs in the minor
  well and the exact Binomial(16, q(T)), beside its floor;
* the Wasserstein-1 distance between the energy distributions of the samples and of 10^6 exact
  samples, divided by its floor, and the mean energy against the exact one.

The same metrics for the model's samples reweighted to Boltzmann with their exact sampler
log-density (``sample_with_log_prob``, weights exp(-U/T)/q, Kish ESS), on fewer samples (it takes
32 forward-mode passes through the sampler), and for MBAR from the training data. Reweighted
numbers are quoted against the floor of as many exact samples as the Kish ESS (an ideally
weighted sample is as noisy as ESS exact ones) and of as many as were drawn. Also training wall
time and samples per second (one thread). Writes ``benchmarks/results/many_well_32.json``.

Targets (printed beside the measurements): median per-coordinate JS / floor <= 1.5 inside the
ladder, <= 2 outside; TV of the minor-count distribution <= 0.05 inside; reweighted median JS at
the floor of its ESS (<= 1.5 x) where the ESS is above 10%.

Usage: ``python benchmarks/many_well_32.py [--train-steps N] [--width N] [--blocks N]
[--reweight-samples N] [--samplers ode:60,heun:49] [--quick] [--out PATH]`` (``--samplers``: the
plain metrics with other samplers too, as a diagnostic; ``--quick``: small sizes for debugging,
about 2 minutes, writes JSON only with ``--out``). The default run takes about 9 minutes on one
core (training about 4, the 12,500 samples with log-density about 4).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from scipy.stats import norm, wasserstein_distance

from thermogen.analysis import js_divergence
from thermogen.analysis.mbar import MBARReweighter
from thermogen.analysis.reweighting import boltzmann_weights
from thermogen.data import MultiTempDataset
from thermogen.models import DiffusionConfig, DiffusionModel
from thermogen.provenance import run_record, write_json
from thermogen.systems import ManyWell32

RESULTS = Path(__file__).parent / "results"
LADDER = ManyWell32.default_temperatures[0::2]  # 0.5, 0.9057, 1.6407, 2.972
INTERPOLATED = ManyWell32.default_temperatures[1:6:2]  # 0.673, 1.219, 2.2082
EXTRAPOLATED = (round(0.8 * LADDER[0], 4), round(1.2 * LADDER[-1], 4))  # 0.4, 3.5664
N_TRAIN, N_GEN, N_REWEIGHT = 25_000, 20_000, 2_500
"""Training frames per ladder temperature; plain and reweighted samples per test temperature."""
N_REPEATS, N_ENERGY_REFERENCE = 5, 1_000_000
"""Noise-floor repeats; exact samples of the reference energy distribution."""
X_BINS, X_RANGE = 80, (-3.0, 3.0)
"""Double-well coordinates: 80 bins of 0.075 (the wells are 0.1-0.4 wide) plus 2 overflow cells."""
Y_BINS, Y_SIGMAS = 80, 4.0
"""Harmonic coordinates: 80 bins over +/- 4 sqrt(T) plus 2 overflow cells."""
TARGETS = {
    "js_median_ratio_inside": 1.5,
    "js_median_ratio_outside": 2.0,
    "minor_count_tv_inside": 0.05,
    "reweighted_js_median_ratio_at_ess_floor": 1.5,
    "reweighted_min_ess_fraction": 0.10,
}
QUICK = {"n_train": 4_000, "n_gen": 4_000, "n_reweight": 200, "steps": 400, "repeats": 3}


class Reference:
    """Exact answers at one temperature: cell probabilities, minor-count pmf, energies, floors."""

    def __init__(
        self, system: ManyWell32, temperature: float, rng: np.random.Generator, repeats: int
    ) -> None:
        self.system, self.temperature, self.rng, self.repeats = system, temperature, rng, repeats
        grid, density = system.well_density(temperature)
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))])
        cdf /= cdf[-1]
        self.x_edges = np.linspace(*X_RANGE, X_BINS + 1)
        self.y_edges = np.sqrt(temperature) * np.linspace(-Y_SIGMAS, Y_SIGMAS, Y_BINS + 1)
        self.x_cells = np.diff(np.concatenate([[0.0], np.interp(self.x_edges, grid, cdf), [1.0]]))
        self.y_cells = np.diff(
            np.concatenate([[0.0], norm.cdf(self.y_edges / np.sqrt(temperature)), [1.0]])
        )
        self.counts = system.minor_count_distribution(temperature)
        self.minor_probability = system.minor_probability(temperature)
        mean_ux = np.trapezoid(system.pair_energy_x(grid) * density, grid)
        self.mean_energy = float(16 * (mean_ux + 0.5 * temperature))
        chunks = [
            system.energy(system.exact_samples(temperature, N_ENERGY_REFERENCE // 5, rng))
            for _ in range(5)
        ]
        self.energies = np.sort(np.concatenate(chunks))
        self._floors: dict[int, dict[str, float]] = {}

    def metrics(self, x: np.ndarray, weights: np.ndarray | None = None) -> dict[str, Any]:
        """Per-coordinate JS (32,), minor-count TV, energy W1 and mean energy of samples x (N, 32)."""
        w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
        w = w / w.sum()
        js = np.empty(32)
        js[0::2] = [js_divergence(cells(c, self.x_edges, w), self.x_cells) for c in x[:, 0::2].T]
        js[1::2] = [js_divergence(cells(c, self.y_edges, w), self.y_cells) for c in x[:, 1::2].T]
        counts = np.bincount(self.system.minor_counts(x), weights=w, minlength=17)
        energy = self.system.energy(x)
        return {
            "js": js,
            "minor_count_tv": float(0.5 * np.abs(counts - self.counts).sum()),
            "minor_fraction": float(w @ (x[:, 0::2] < 0).mean(axis=1)),
            "energy_w1": float(wasserstein_distance(energy, self.energies, u_weights=w)),
            "mean_energy": float(w @ energy),
        }

    def floor(self, n: float) -> dict[str, float]:
        """The metrics of n exact i.i.d. samples, mean over the repeats (and coordinates)."""
        n = max(round(n), 2)
        if n not in self._floors:
            draws = [
                self.metrics(self.system.exact_samples(self.temperature, n, self.rng))
                for _ in range(self.repeats)
            ]
            self._floors[n] = {
                "n": n,
                "js_x": float(np.mean([d["js"][0::2] for d in draws])),
                "js_y": float(np.mean([d["js"][1::2] for d in draws])),
                "minor_count_tv": float(np.mean([d["minor_count_tv"] for d in draws])),
                "energy_w1": float(np.mean([d["energy_w1"] for d in draws])),
            }
        return self._floors[n]

    def scored(self, x: np.ndarray, weights: np.ndarray | None, floor_n: float) -> dict[str, Any]:
        """Metrics of samples x and their ratios to the floor of ``floor_n`` exact samples."""
        m = self.metrics(x, weights)
        f = self.floor(floor_n)
        ratio = m.pop("js") / np.tile([f["js_x"], f["js_y"]], 16)
        return {
            **m,
            "floor": f,
            "js_ratio": ratio,
            "js_ratio_median": float(np.median(ratio)),
            "js_ratio_max": float(ratio.max()),
            "js_ratio_median_x": float(np.median(ratio[0::2])),
            "js_ratio_max_x": float(ratio[0::2].max()),
            "js_ratio_median_y": float(np.median(ratio[1::2])),
            "js_ratio_max_y": float(ratio[1::2].max()),
            "minor_count_tv_ratio": m["minor_count_tv"] / f["minor_count_tv"],
            "energy_w1_ratio": m["energy_w1"] / f["energy_w1"],
        }


def cells(values: np.ndarray, edges: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted probabilities of the len(edges) + 1 cells: below, the bins, at or above the end."""
    index = np.searchsorted(edges, values, side="right")
    return np.bincount(index, weights=weights, minlength=edges.size + 1)


def training_data(
    system: ManyWell32, n: int, rng: np.random.Generator
) -> tuple[MultiTempDataset, float]:
    start = time.perf_counter()
    x = np.concatenate([system.exact_samples(t, n, rng) for t in LADDER])
    data = MultiTempDataset(
        x,
        np.repeat(LADDER, n),
        energy=system.energy(x),
        feature_names=system.feature_names,
        temperature_unit="reduced",
        energy_unit="reduced",
        source="exact i.i.d. many-well-32",
    )
    return data, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--train-steps", type=int, help="override the default number of training steps"
    )
    parser.add_argument("--width", type=int, help="override the default network width")
    parser.add_argument("--blocks", type=int, help="override the default number of blocks")
    parser.add_argument(
        "--reweight-samples",
        type=int,
        help=f"samples per temperature drawn with their log-density (default {N_REWEIGHT:,})",
    )
    parser.add_argument(
        "--samplers",
        default="",
        help="extra samplers for the plain model metrics (diagnostic), e.g. ode:60,heun:49",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes for debugging (about 2 minutes)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON path (default results/many_well_32.json)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    wall = time.perf_counter()
    n_train, n_gen, n_rw, repeats = N_TRAIN, N_GEN, N_REWEIGHT, N_REPEATS
    config = DiffusionConfig()
    if args.quick:
        n_train, n_gen, n_rw, repeats = (
            QUICK[k] for k in ("n_train", "n_gen", "n_reweight", "repeats")
        )
        config = replace(config, train=replace(config.train, steps=QUICK["steps"]))
    n_rw = args.reweight_samples or n_rw
    if args.train_steps:
        config = replace(config, train=replace(config.train, steps=args.train_steps))
    if args.width:
        config = replace(config, width=args.width)
    if args.blocks:
        config = replace(config, blocks=args.blocks)
    config = replace(config, train=replace(config.train, seed=args.seed))

    extra_samplers = [
        (name, int(k)) for name, k in (item.split(":") for item in args.samplers.split(",") if item)
    ]
    system = ManyWell32()
    rng = np.random.default_rng(args.seed)
    data, data_s = training_data(system, n_train, rng)
    print(
        "ladder "
        + ", ".join(f"T={t} (q={system.minor_probability(t):.3f})" for t in LADDER)
        + f"; {n_train:,} exact samples each",
        flush=True,
    )
    start = time.perf_counter()
    mbar = MBARReweighter(data)
    mbar_s = time.perf_counter() - start
    start = time.perf_counter()
    model = DiffusionModel.fit(data, config, progress=False)
    train_s = time.perf_counter() - start
    print(
        f"trained {config.train.steps} steps in {train_s:.0f} s ({model.fit_summary()})", flush=True
    )

    rows = []
    for t in [*INTERPOLATED, *EXTRAPOLATED]:
        ref = Reference(system, t, rng, repeats)
        start = time.perf_counter()
        gen = model.sample(t, n_gen, seed=args.seed + 1).features
        sample_rate = n_gen / (time.perf_counter() - start)
        start = time.perf_counter()
        gen_rw, log_q = model.sample_with_log_prob(t, n_rw, seed=args.seed + 2)
        log_prob_rate = n_rw / (time.perf_counter() - start)
        bw = boltzmann_weights(log_q, system.energy(gen_rw), t)
        mbar_w = mbar.weights(t)
        mbar_ess = mbar.effective_sample_size(t)
        row = {
            "temperature": t,
            "kind": "interpolated" if t in INTERPOLATED else "extrapolated",
            "minor_probability": ref.minor_probability,
            "exact_mean_energy": ref.mean_energy,
            "model": {**ref.scored(gen, None, n_gen), "samples_per_s": sample_rate},
            "model_same_samples_as_reweighted": ref.scored(gen_rw, None, n_rw),
            "reweighted": {
                **ref.scored(gen_rw, bw.weights, bw.effective_sample_size),
                "n_samples": n_rw,
                "ess": bw.effective_sample_size,
                "ess_fraction": bw.effective_fraction,
                "floor_n_samples": ref.floor(n_rw),
                "js_ratio_median_to_n_samples_floor": float(
                    np.median(
                        ref.metrics(gen_rw, bw.weights)["js"]
                        / np.tile([ref.floor(n_rw)["js_x"], ref.floor(n_rw)["js_y"]], 16)
                    )
                ),
                "samples_per_s": log_prob_rate,
                "n_nonfinite_log_q": int((~np.isfinite(log_q)).sum()),
            },
            "mbar": {
                **ref.scored(data.features, mbar_w, n_gen),
                "ess": mbar_ess,
                "ess_fraction": mbar_ess / data.n_frames,
                "js_ratio_median_at_ess_floor": ref.scored(data.features, mbar_w, mbar_ess)[
                    "js_ratio_median"
                ],
            },
        }
        for name, steps in extra_samplers:
            start = time.perf_counter()
            other = model.sample(t, n_gen, sampler=name, steps=steps, seed=args.seed + 1).features
            rate = n_gen / (time.perf_counter() - start)
            row.setdefault("other_samplers", {})[f"{name}{steps}"] = {
                **ref.scored(other, None, n_gen),
                "samples_per_s": rate,
            }
        row["checks"] = checks(row)
        rows.append(row)
        print(
            f"T={t:<6} q={ref.minor_probability:.3f} JS/floor median {row['model']['js_ratio_median']:.2f}"
            f" (x {row['model']['js_ratio_median_x']:.2f}) TV {row['model']['minor_count_tv']:.3f};"
            f" reweighted ESS {bw.effective_fraction:.1%}; MBAR ESS {mbar_ess:,.0f};"
            f" {sample_rate:,.0f} samples/s, {log_prob_rate:.1f} with log q",
            flush=True,
        )

    total_s = time.perf_counter() - wall
    results = {
        "training_data_s": data_s,
        "mbar_s": mbar_s,
        "train_time_s": train_s,
        "total_wall_s": total_s,
        "final_losses": model.history[-1] if model.history else {},
        "rows": rows,
    }
    settings = {
        "system": system.name,
        "ladder": LADDER,
        "ladder_minor_probability": [system.minor_probability(t) for t in LADDER],
        "interpolated": INTERPOLATED,
        "extrapolated": EXTRAPOLATED,
        "n_train_per_temperature": n_train,
        "n_generated": n_gen,
        "n_reweighted": n_rw,
        "noise_floor_repeats": repeats,
        "n_energy_reference": N_ENERGY_REFERENCE,
        "x_bins": X_BINS,
        "x_range": X_RANGE,
        "y_bins": Y_BINS,
        "y_range_sigmas": Y_SIGMAS,
        "sampler": "ode (DPM-Solver++ 3M), 20 steps (the default), for plain and reweighted",
        "extra_samplers": [f"{name}{steps}" for name, steps in extra_samplers],
        "model_config": config.to_dict(),
        "changed_from_default_config": {
            k: v
            for k, v in {
                "train.seed": args.seed,
                "train.steps": config.train.steps
                if config.train.steps != DiffusionConfig().train.steps
                else None,
                "width": args.width,
                "blocks": args.blocks,
            }.items()
            if v is not None
        },
        "quick": args.quick,
        "targets": TARGETS,
        "reweighted_floor": "the floor of round(Kish ESS) exact samples",
        "mbar_floor": f"the floor of n_generated exact samples (MBAR uses all "
        f"{data.n_frames:,} frames); js_ratio_median_at_ess_floor uses round(ESS)",
        "threads": torch.get_num_threads(),
    }
    print_table(results, settings)
    out = args.out or (None if args.quick else RESULTS / "many_well_32.json")
    if out is None:
        print(f"--quick: no JSON written ({total_s / 60:.1f} min)")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, run_record("benchmarks/many_well_32.py", settings, args.seed, results))
    print(f"wrote {out} ({total_s / 60:.1f} min)")


def checks(row: dict) -> dict[str, bool | None]:
    """Pass/fail of each target at this temperature (None where a target does not apply)."""
    inside = row["kind"] == "interpolated"
    js_target = TARGETS["js_median_ratio_inside" if inside else "js_median_ratio_outside"]
    rw = row["reweighted"]
    reweight_applies = rw["ess_fraction"] > TARGETS["reweighted_min_ess_fraction"]
    return {
        "js_median": row["model"]["js_ratio_median"] <= js_target,
        "minor_count_tv": row["model"]["minor_count_tv"] <= TARGETS["minor_count_tv_inside"]
        if inside
        else None,
        "reweighted_at_floor": rw["js_ratio_median"]
        <= TARGETS["reweighted_js_median_ratio_at_ess_floor"]
        if reweight_applies
        else None,
    }


def print_table(results: dict, settings: dict) -> None:
    """One block per method: JS / floor (median, max; all, x, y), minor-count TV, energy W1."""
    rows = results["rows"]
    targets = settings["targets"]
    print(
        f"\nmany-well-32, ladder {settings['ladder']}, {settings['n_train_per_temperature']:,} exact"
        f" samples each; training {results['train_time_s']:.0f} s"
        f" ({settings['model_config']['train']['steps']} steps)"
    )
    print(
        "JS / floor: per-coordinate 1D marginal JS over the noise floor (median | max over 32,"
        " then x and y); TV: minor-count total variation (floor); W1: energy Wasserstein-1 / floor;"
        " dU: mean energy - exact"
    )
    print(
        f"targets: median JS/floor <= {targets['js_median_ratio_inside']} inside,"
        f" <= {targets['js_median_ratio_outside']} outside; TV <= {targets['minor_count_tv_inside']}"
        f" inside; reweighted median JS / floor(ESS) <= "
        f"{targets['reweighted_js_median_ratio_at_ess_floor']} where ESS > "
        f"{targets['reweighted_min_ess_fraction']:.0%}"
    )
    header = (
        f"{'method':<11} {'T':>6} {'kind':<5} {'q(T)':>5} {'JS med':>6} {'max':>6} {'x med':>6}"
        f" {'x max':>6} {'y med':>6} {'y max':>6} {'TV':>6} {'(floor)':>7} {'W1':>6} {'dU':>7}"
        f" {'ESS':>7} {'pass':>5}"
    )
    for method, label in (
        ("model", "model"),
        ("reweighted", "reweighted"),
        ("mbar", "MBAR"),
    ):
        print("\n" + header)
        for r in rows:
            m = r[method]
            ess = f"{m['ess_fraction']:.1%}" if "ess" in m else ""
            if method == "model":
                flags = [r["checks"]["js_median"], r["checks"]["minor_count_tv"]]
            elif method == "reweighted":
                flags = [r["checks"]["reweighted_at_floor"]]
            else:
                flags = [None]
            done = [f for f in flags if f is not None]
            passed = "-" if not done else ("yes" if all(done) else "NO")
            print(
                f"{label:<11} {r['temperature']:>6} {r['kind'][:5]:<5} {r['minor_probability']:>5.3f}"
                f" {m['js_ratio_median']:>6.2f} {m['js_ratio_max']:>6.2f}"
                f" {m['js_ratio_median_x']:>6.2f} {m['js_ratio_max_x']:>6.2f}"
                f" {m['js_ratio_median_y']:>6.2f} {m['js_ratio_max_y']:>6.2f}"
                f" {m['minor_count_tv']:>6.3f} {m['floor']['minor_count_tv']:>7.3f}"
                f" {m['energy_w1_ratio']:>6.2f} {m['mean_energy'] - r['exact_mean_energy']:>7.3f}"
                f" {ess:>7} {passed:>5}"
            )
    print(
        "\nreweighted rows: floors of round(ESS) exact samples; median JS / floor of all "
        "reweighted samples drawn, and the same samples unweighted (median JS / floor, TV):"
    )
    for r in rows:
        rw, raw = r["reweighted"], r["model_same_samples_as_reweighted"]
        print(
            f"  T={r['temperature']:<6} n={rw['n_samples']:,} ESS={rw['ess']:,.0f}:"
            f" weighted {rw['js_ratio_median_to_n_samples_floor']:.2f},"
            f" unweighted {raw['js_ratio_median']:.2f} (TV {raw['minor_count_tv']:.3f});"
            f" MBAR median JS / floor(ESS {r['mbar']['ess']:,.0f}) "
            f"{r['mbar']['js_ratio_median_at_ess_floor']:.2f}"
        )
    for name in settings["extra_samplers"]:
        print(f"\nmodel with sampler {name} (diagnostic; targets refer to the default ode20):")
        for r in rows:
            m = r["other_samplers"][name]
            print(
                f"  T={r['temperature']:<6} JS/floor median {m['js_ratio_median']:.2f} max"
                f" {m['js_ratio_max']:.2f} (x {m['js_ratio_median_x']:.2f} / {m['js_ratio_max_x']:.2f},"
                f" y {m['js_ratio_median_y']:.2f} / {m['js_ratio_max_y']:.2f}); TV"
                f" {m['minor_count_tv']:.3f}; W1 {m['energy_w1_ratio']:.2f}; dU"
                f" {m['mean_energy'] - r['exact_mean_energy']:.3f}; {m['samples_per_s']:,.0f} samples/s"
            )
    plain = np.mean([r["model"]["samples_per_s"] for r in rows])
    with_log_q = np.mean([r["reweighted"]["samples_per_s"] for r in rows])
    print(
        f"\ntraining {results['train_time_s']:.0f} s; sampling {plain:,.0f} samples/s (ode 20),"
        f" with log-density {with_log_q:.1f} samples/s; MBAR setup {results['mbar_s']:.1f} s;"
        f" total {results['total_wall_s'] / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
