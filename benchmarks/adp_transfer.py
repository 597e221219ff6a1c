"""Alanine dipeptide (vacuum) at temperatures nobody simulated: diffusion model vs MBAR vs direct MD.

For each seed: replica exchange on a sparse ladder (350, 450, 580 K; 5 ns per replica), the
diffusion model trained on its phi/psi frames, and at held-out temperatures inside the ladder
(400, 510 K) and 14% below it (300 K):

- the model's 20,000 generated (phi, psi) per temperature,
- MBAR from the training ladder (all frames, with their effective sample size),
- a direct Langevin simulation at the target temperature with the same total MD cost as the
  training data (15 ns),

each compared with the reference of ``make_adp_reference.py`` (independent dense-ladder runs): JS
divergence of the 36 x 36 periodic phi/psi histogram, and the populations of C7eq/beta, alphaR
and C7ax/alphaL (phi > 0), with error bars from the independent seeds. Writes
``benchmarks/results/adp_transfer.json``.

Usage: ``python benchmarks/adp_transfer.py [--seeds 0,1] [--ns 5] [--train-steps 6000]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from direct_md import direct_simulation

from thermogen.analysis import js_divergence
from thermogen.analysis.mbar import MBARReweighter
from thermogen.analysis.ramachandran import (
    BELOW,
    INSIDE,
    STATES,
    TARGETS,
    TRAINING_LADDER,
    RamachandranReference,
    load_adp_reference,
    phi_psi_histogram,
    state_populations,
)
from thermogen.models import DiffusionConfig, DiffusionModel
from thermogen.provenance import run_record, write_json
from thermogen.simulate.openmm_remd import OpenMMREMDConfig, run_openmm_remd
from thermogen.systems.molecules import get_molecule

RESULTS = Path(__file__).parent / "results"
N_GENERATED = 20_000


def compare(
    angles: np.ndarray, reference_hist: np.ndarray, weights: np.ndarray | None = None
) -> dict:
    """JS to the reference histogram and state populations of (N, 2) angles."""
    hist = phi_psi_histogram(angles, weights)
    return {
        "js": js_divergence(hist, reference_hist),
        "populations": state_populations(angles, weights).tolist(),
    }


def run_seed(args: argparse.Namespace, seed: int, reference_hists: np.ndarray) -> dict:
    """Train on one REMD run and compare model, MBAR and direct MD at every target."""
    molecule = get_molecule("alanine-dipeptide")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        remd = run_openmm_remd(
            molecule,
            OpenMMREMDConfig(TRAINING_LADDER, ns=args.ns, seed=seed),
            Path(tmp) / "train.nc",
        )
    data = remd.dataset
    remd_s = time.perf_counter() - started
    config = DiffusionConfig()
    config = replace(config, train=replace(config.train, steps=args.train_steps, seed=seed))
    started = time.perf_counter()
    model = DiffusionModel.fit(data, config, progress=True)
    train_s = time.perf_counter() - started
    generated = model.sample(TARGETS, N_GENERATED, seed=seed, progress=False)
    mbar = MBARReweighter(data)
    total_ns = args.ns * len(TRAINING_LADDER)
    rows = []
    for i, t in enumerate(TARGETS):
        started = time.perf_counter()
        direct = molecule.features(direct_simulation(molecule, t, total_ns, seed)[0])[0]
        direct_s = time.perf_counter() - started
        rows.append(
            {
                "temperature": t,
                "kind": "below" if t in BELOW else "inside",
                "model": compare(
                    generated.features[generated.temperature == t], reference_hists[i]
                ),
                "mbar": compare(data.features, reference_hists[i], mbar.weights(t))
                | {"effective_sample_size": mbar.effective_sample_size(t)},
                "direct": compare(direct, reference_hists[i]) | {"wall_s": direct_s},
            }
        )
    return {
        "seed": seed,
        "remd_s": remd_s,
        "remd_ns_per_day": remd.ns_per_day,
        "swap_acceptance": remd.acceptance.tolist(),
        "training_s": train_s,
        "training_frames": data.n_frames,
        "rows": rows,
    }


def summarize(runs: list[dict], reference: RamachandranReference) -> list[dict]:
    """Per target: mean JS of each method over seeds and populations with seed error bars."""
    out = []
    for i, t in enumerate(TARGETS):
        row: dict = {"temperature": t, "kind": runs[0]["rows"][i]["kind"]}
        for method in ("model", "mbar", "direct"):
            js = np.array([r["rows"][i][method]["js"] for r in runs])
            pops = np.array([r["rows"][i][method]["populations"] for r in runs])
            row[method] = {
                "js_mean": float(js.mean()),
                "js_seeds": js.tolist(),
                "populations_mean": pops.mean(0).tolist(),
                "populations_std_error": (
                    pops.std(0, ddof=1) / np.sqrt(len(runs)) if len(runs) > 1 else pops[0] * np.nan
                ).tolist(),
            }
        row["reference_populations"] = reference.mean_populations[i].tolist()
        row["reference_std_error"] = reference.std_error[i].tolist()
        row["reference_js_between_seeds"] = float(reference.js_between_runs()[i])
        row["model_over_direct_js"] = row["model"]["js_mean"] / row["direct"]["js_mean"]
        out.append(row)
    return out


def previous_runs(args: argparse.Namespace) -> list[dict]:
    """Per-seed results of the last run with the same settings (for ``--add``)."""
    path = RESULTS / "adp_transfer.json"
    if not path.exists():
        return []
    previous = json.loads(path.read_text())
    same = (previous["settings"]["ns_per_replica"], previous["settings"]["train_steps"])
    if same != (args.ns, args.train_steps):
        raise SystemExit(f"{path} was made with other --ns/--train-steps: run without --add")
    return previous["results"]["runs"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1", help="independent training runs")
    parser.add_argument("--ns", type=float, default=5.0, help="training ns per replica")
    parser.add_argument("--train-steps", type=int, default=6000, help="diffusion optimiser steps")
    parser.add_argument(
        "--add", action="store_true", help="keep the seeds already in the results JSON, add these"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    reference = load_adp_reference()
    if not np.allclose(reference.temperatures, TARGETS):
        raise SystemExit("the reference holds other temperatures: rerun make_adp_reference.py")
    runs = previous_runs(args) if args.add else []
    done = {run["seed"] for run in runs}
    seeds = [int(s) for s in args.seeds.split(",") if int(s) not in done]
    runs += [run_seed(args, seed, reference.mean_histograms) for seed in seeds]
    summary = summarize(runs, reference)
    settings = {
        "training_ladder_K": TRAINING_LADDER,
        "targets_K": TARGETS,
        "inside_K": INSIDE,
        "below_K": BELOW,
        "ns_per_replica": args.ns,
        "direct_ns": args.ns * len(TRAINING_LADDER),
        "train_steps": args.train_steps,
        "generated_per_temperature": N_GENERATED,
        "reference_seeds": reference.seeds.tolist(),
        "states": STATES,
    }
    path = write_json(
        RESULTS / "adp_transfer.json",
        run_record(
            "benchmarks/adp_transfer.py",
            settings,
            runs[0]["seed"],
            {"summary": summary, "runs": runs},
        ),
    )
    print_table(summary)
    print(f"wrote {path}")


def print_table(summary: list[dict]) -> None:
    """JS to the reference and populations, each method, each target."""
    print("alanine dipeptide (vacuum), trained on REMD at", TRAINING_LADDER, "K")
    print(f"{'T (K)':>6} {'method':>7} {'JS':>8}  " + "  ".join(f"{s:>20}" for s in STATES))
    for row in summary:
        ref = zip(row["reference_populations"], row["reference_std_error"], strict=True)
        cells = [f"{m:.3f} +/- {e:.3f}" for m, e in ref]
        floor = row["reference_js_between_seeds"]
        print(
            f"{row['temperature']:6.0f} {'ref':>7} {floor:8.4f}  "
            + "  ".join(f"{c:>20}" for c in cells)
        )
        for method in ("model", "mbar", "direct"):
            r = row[method]
            pops = zip(r["populations_mean"], r["populations_std_error"], strict=True)
            cells = [f"{m:.3f} +/- {e:.3f}" for m, e in pops]
            print(
                f"{'':6} {method:>7} {r['js_mean']:8.4f}  " + "  ".join(f"{c:>20}" for c in cells)
            )
        print(f"{'':6} model JS / direct JS = {row['model_over_direct_js']:.2f} ({row['kind']})")


if __name__ == "__main__":
    main()
