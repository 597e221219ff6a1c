"""Reference ensembles of alanine dipeptide (vacuum) at the adp_transfer target temperatures.

Independent replica-exchange runs (one per seed) on a dense ladder, 300-580 K, that contains
every target temperature. For each target and seed it stores the 36 x 36 periodic phi/psi
histogram and the populations of C7eq/beta, alphaR and C7ax/alphaL; across seeds, their means
and standard errors (the reference's error bars). Writes the arrays to the package file
``thermogen/systems/data/adp_reference.npz`` (read by ``adp_transfer.py`` and by
``thermogen demo --system alanine-dipeptide``) and a JSON record (settings, seeds, versions,
speed, swap acceptance) to ``benchmarks/reference/adp_reference.json``.

Usage: ``python benchmarks/make_adp_reference.py [--ns 3] [--seeds 0,1,2]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from thermogen.analysis.ramachandran import (
    REFERENCE_FILE,
    REFERENCE_LADDER,
    STATES,
    TARGETS,
    phi_psi_histogram,
    state_populations,
)
from thermogen.fileio import atomic_write
from thermogen.provenance import run_record, write_json
from thermogen.simulate.openmm_remd import OpenMMREMDConfig, run_openmm_remd
from thermogen.systems.molecules import get_molecule

RECORD = Path(__file__).parent / "reference" / "adp_reference.json"
"""Run record of the reference; the arrays go to the package file that the demo reads too."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", type=float, default=3.0, help="ns per replica and seed")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (independent runs)")
    parser.add_argument("--platform", default="auto")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    molecule = get_molecule("alanine-dipeptide")
    hists, pops, runs = [], [], []
    for seed in seeds:
        config = OpenMMREMDConfig(REFERENCE_LADDER, ns=args.ns, platform=args.platform, seed=seed)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            result = run_openmm_remd(molecule, config, Path(tmp) / "reference.nc")
        data = result.dataset
        print(result.summary())
        at = [data.features[data.temperature == t] for t in TARGETS]
        hists.append([phi_psi_histogram(a) for a in at])
        pops.append([state_populations(a) for a in at])
        runs.append(
            {
                "seed": seed,
                "wall_s": time.perf_counter() - started,
                "ns_per_day": result.ns_per_day,
                "platform": result.platform.describe(),
                "acceptance": result.acceptance.tolist(),
                "round_trips": result.round_trips,
                "frames_per_target": [len(a) for a in at],
            }
        )
    hists, pops = np.array(hists), np.array(pops)  # (seeds, targets, ...)
    with atomic_write(REFERENCE_FILE) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(
            handle,
            temperatures=np.array(TARGETS),
            histograms=hists,
            populations=pops,
            states=np.array(STATES),
            seeds=np.array(seeds),
            ladder=np.array(REFERENCE_LADDER),
            ns_per_replica=np.array(args.ns),
            source=np.array("benchmarks/make_adp_reference.py"),
        )
    error = pops.std(axis=0, ddof=1) / np.sqrt(len(seeds)) if len(seeds) > 1 else pops[0] * np.nan
    write_json(
        RECORD,
        run_record(
            "benchmarks/make_adp_reference.py",
            {"ladder_K": REFERENCE_LADDER, "ns_per_replica": args.ns, "targets_K": TARGETS},
            seeds[0],
            {
                "runs": runs,
                "populations_mean": pops.mean(axis=0).tolist(),
                "populations_std_error": error.tolist(),
            },
        ),
    )
    print(f"{'T (K)':>6} " + " ".join(f"{s:>16}" for s in STATES))
    for i, t in enumerate(TARGETS):
        cells = (f"{m:.4f} +/- {e:.4f}" for m, e in zip(pops.mean(0)[i], error[i], strict=True))
        print(f"{t:6.0f} " + " ".join(f"{c:>16}" for c in cells))
    print(f"wrote {REFERENCE_FILE} and {RECORD}")


if __name__ == "__main__":
    main()
