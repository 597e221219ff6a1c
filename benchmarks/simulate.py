"""Throughput of the vectorised replica-exchange simulator (walker-steps per second).

Runs short REMD simulations of Mueller-Brown and LJ7 for several numbers of walkers on one core
and writes ``benchmarks/results/simulate.json``. Timings on a shared 2-core machine drift, so the
JSON also records the ratio of each run to the first one measured in the same process.

Usage: ``python benchmarks/simulate.py [--steps 2000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from thermogen import __version__
from thermogen.provenance import write_json
from thermogen.simulate import REMDConfig, run_remd
from thermogen.systems import get_system

RESULTS = Path(__file__).parent / "results" / "simulate.json"
CASES = [
    ("mueller-brown", 16),
    ("mueller-brown", 256),
    ("mueller-brown", 1024),
    ("lj7", 16),
    ("lj7", 128),
]
"""(system, chains); each chain has one walker per temperature of the system's default ladder."""


def measure(system_name: str, n_chains: int, n_steps: int, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` throughput of one REMD configuration."""
    system = get_system(system_name)
    config = REMDConfig(
        system.default_temperatures,
        n_chains=n_chains,
        n_steps=n_steps,
        equilibration_steps=0,
        stride=50,
        seed=0,
    )
    rates = [
        run_remd(system, config, progress=False).walker_steps_per_second for _ in range(repeats)
    ]
    return {
        "system": system_name,
        "chains": n_chains,
        "walkers": n_chains * len(system.default_temperatures),
        "steps": n_steps,
        "walker_steps_per_second": max(rates),
        "spread": float(np.ptp(rates) / max(rates)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = [measure(name, chains, args.steps, args.repeats) for name, chains in CASES]
    print(f"{'system':<14} {'walkers':>8} {'walker-steps/s':>15} {'per minute':>11} {'spread':>7}")
    for row in rows:
        rate = row["walker_steps_per_second"]
        print(
            f"{row['system']:<14} {row['walkers']:>8} {rate:>15,.0f} {rate * 60:>11.2e} {row['spread']:>7.1%}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_json(
        RESULTS,
        {
            "benchmark": "simulate",
            "thermogen_version": __version__,
            "machine": platform.platform(),
            "cpu_count": os.cpu_count(),
            "threads": 1,
            "results": rows,
        },
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
