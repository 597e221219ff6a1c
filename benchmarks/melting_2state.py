"""Melting curve of the two-state folding system from simulations at two temperatures only.

Data: plain Langevin trajectories (no swaps), started from exact equilibrium samples, at one
temperature below and one above the exact Tm (1.0033, reduced units), both within 15% of it.
LaTF (default settings except the data-specific lag) is trained on them and predicts the folded
population p_fold(T) over Tm +/- 40%; a van 't Hoff fit of the curve gives Tm and dH. The same is
done with MBAR from the same frames (labelled by the exact basins, MBAR's best case) and, for
comparison, with the paper's form of LaTF (``--couplings van-t-hoff,base-only``). Reported:
Tm and dH against the exact values (van 't Hoff fit of the exact grid curve), the largest
absolute population error over the range, the 95% interval coverage, MBAR's effective sample
size at the ends of the range, and the training wall time (one thread).

Usage: ``python benchmarks/melting_2state.py [--chains 4000] [--couplings van-t-hoff]``
Writes ``benchmarks/results/melting_2state.json``.
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

from thermogen.analysis.mbar import MBARReweighter
from thermogen.analysis.melting import fit_van_t_hoff
from thermogen.data import MultiTempDataset
from thermogen.models.latf import LaTFConfig, LaTFModel
from thermogen.models.spib import SPIBConfig
from thermogen.provenance import run_record, write_json
from thermogen.simulate import REMDConfig, run_remd
from thermogen.systems import TwoStateFolding

RESULTS = Path(__file__).parent / "results"
TRAINING = (0.9, 1.12)
"""Training temperatures: 10% below and 12% above the exact Tm."""
RANGE = (0.6, 1.4)
"""The prediction range, Tm -40% to Tm +40%."""


def simulate(system: TwoStateFolding, chains: int, steps: int, seed: int) -> MultiTempDataset:
    """``chains`` independent Langevin trajectories at each training temperature, stride 20."""
    config = REMDConfig(
        TRAINING,
        n_chains=chains,
        n_steps=steps,
        equilibration_steps=0,
        stride=20,
        swap_interval=steps + 1,
        seed=seed,
    )
    return run_remd(system, config, progress=True).dataset


def folded_states(model: LaTFModel, data: MultiTempDataset, system: TwoStateFolding) -> dict:
    """Learned states mostly made of folded-basin frames, and the frame agreement with the basins."""
    _, state = model.transform(data.features)
    folded = system.basin_of(data.features) == 0
    fraction = np.bincount(state, weights=folded, minlength=model.n_states) / np.maximum(
        np.bincount(state, minlength=model.n_states), 1
    )
    is_folded = fraction > 0.5
    return {"mask": is_folded, "agreement": float(np.mean(is_folded[state] == folded))}


def summarize(
    name: str,
    temperatures: np.ndarray,
    population: np.ndarray,
    sigma: np.ndarray,
    exact: np.ndarray,
    exact_fit,
    low: np.ndarray | None = None,
    high: np.ndarray | None = None,
) -> dict:
    """Errors of one predicted folded-population curve against the exact one."""
    fit = fit_van_t_hoff(
        temperatures,
        np.clip(population, 0, 1),
        sigma=np.maximum(sigma, 1e-3),
        temperature_unit="reduced",
        n_boot=300,
        seed=0,
    )
    error = np.abs(population - exact)
    result = {
        "method": name,
        "tm": fit.tm,
        "tm_interval": fit.tm_interval,
        "tm_relative_error": abs(fit.tm - exact_fit.tm) / exact_fit.tm,
        "dh": fit.dh,
        "dh_interval": fit.dh_interval,
        "dh_relative_error": abs(fit.dh - exact_fit.dh) / exact_fit.dh,
        "max_abs_population_error": float(error.max()),
        "worst_temperature": float(temperatures[error.argmax()]),
        "population": population.tolist(),
    }
    if low is not None:
        result["interval_coverage"] = float(np.mean((low <= exact) & (exact <= high)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chains", type=int, default=4000, help="trajectories per temperature")
    parser.add_argument("--steps", type=int, default=2400, help="Langevin steps per trajectory")
    parser.add_argument("--couplings", default="van-t-hoff", help="comma-separated LaTF couplings")
    parser.add_argument("--num", type=int, default=25, help="temperatures in the range")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    system = TwoStateFolding()
    temperatures = np.geomspace(*RANGE, args.num)
    exact = system.exact_melting_curve(temperatures)
    exact_fit = fit_van_t_hoff(temperatures, exact, temperature_unit="reduced", n_boot=2, seed=0)
    started = time.perf_counter()
    data = simulate(system, args.chains, args.steps, args.seed)
    simulation_s = time.perf_counter() - started

    mbar = MBARReweighter(data, decorrelate=True)
    basin = system.basin_of(data.features)
    estimate = mbar.populations(basin, 2, temperatures)
    rows = [
        summarize(
            "MBAR (exact basins)",
            temperatures,
            estimate.value[:, 0],
            estimate.std_error[:, 0],
            exact,
            exact_fit,
            estimate.value[:, 0] - 1.96 * estimate.std_error[:, 0],
            estimate.value[:, 0] + 1.96 * estimate.std_error[:, 0],
        )
    ]
    rows[0]["effective_sample_size_at_ends"] = [
        float(estimate.effective_sample_size[0]),
        float(estimate.effective_sample_size[-1]),
    ]

    for coupling in args.couplings.split(","):
        # lag 30 frames = 600 steps = 1.2 time units: longer than relaxation inside a well
        config = LaTFConfig(
            spib=replace(SPIBConfig(), lag=30, validation_fraction=0.3),
            temperature_coupling=coupling,
        )
        config = replace(
            config,
            spib=replace(config.spib, train=replace(config.spib.train, seed=args.seed)),
            joint=replace(config.joint, seed=args.seed),
        )
        started = time.perf_counter()
        model = LaTFModel.fit(data, config, progress=True)
        training_s = time.perf_counter() - started
        states = folded_states(model, data, system)
        if coupling == "van-t-hoff":
            curve = model.population_curve(temperatures, n_bootstrap=200, seed=args.seed)
            folded = curve.population[:, states["mask"]].sum(1)
            low, high = (b[:, states["mask"]].sum(1) for b in (curve.low, curve.high))
            sigma = (high - low) / (2 * 1.96)
        else:
            folded = model.populations(temperatures, n=20_000, seed=args.seed)
            folded = folded[:, states["mask"]].sum(1)
            low = high = None
            sigma = np.sqrt(folded * (1 - folded) / 20_000)
        row = summarize(
            f"LaTF {coupling}", temperatures, folded, sigma, exact, exact_fit, low, high
        )
        row.update(
            training_s=training_s,
            n_states=model.n_states,
            basin_agreement=states["agreement"],
        )
        rows.append(row)

    results = {
        "simulation_s": simulation_s,
        "temperatures": temperatures.tolist(),
        "exact": {"tm": exact_fit.tm, "dh": exact_fit.dh, "population": exact.tolist()},
        "methods": rows,
    }
    settings = {
        "chains": args.chains,
        "steps": args.steps,
        "couplings": args.couplings,
        "training_temperatures": TRAINING,
        "range": RANGE,
        "num": args.num,
        "n_frames": data.n_frames,
    }
    payload = run_record("benchmarks/melting_2state.py", settings, args.seed, results)
    path = write_json(RESULTS / "melting_2state.json", payload)
    print_table(results)
    print(f"wrote {path}")


def print_table(results: dict) -> None:
    """Tm, dH and population errors of each method against the exact curve."""
    exact = results["exact"]
    print(
        f"two-state folding, trained at T = {TRAINING}, predicted over {RANGE} "
        f"(exact Tm {exact['tm']:.4f}, dH {exact['dh']:.3f}, reduced units)"
    )
    header = f"{'method':<22}{'Tm':>8}{'err':>7}{'dH':>8}{'err':>7}{'max|dp|':>9}{'at T':>7}"
    print(header + f"{'cover':>7}{'train s':>9}")
    for r in results["methods"]:
        cover = r.get("interval_coverage")
        print(
            f"{r['method']:<22}{r['tm']:>8.4f}{r['tm_relative_error']:>7.1%}{r['dh']:>8.3f}"
            f"{r['dh_relative_error']:>7.1%}{r['max_abs_population_error']:>9.3f}"
            f"{r['worst_temperature']:>7.2f}"
            f"{'' if cover is None else f'{cover:.0%}':>7}"
            f"{r.get('training_s', float('nan')):>9.0f}"
        )


if __name__ == "__main__":
    main()
