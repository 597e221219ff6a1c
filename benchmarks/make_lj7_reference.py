"""Long LJ7-2D reference simulations for ``benchmarks/lj7.py`` (run once, stored compactly).

Replica exchange (the project's own ``run_remd``) of the 2D LJ7 cluster on the ladder
T = 0.175, 0.2, 0.225, 0.25, 0.3 (reduced units): the three temperatures ``lj7.py`` tests LaTF at
(0.175 below, 0.225 between and 0.3 above its training pair) and the two training temperatures
(0.2, 0.25), so the model can be checked where it was trained too. Every chain starts from the
hexagon, equilibrates (with swaps) and then saves one frame every ``--stride`` steps: the seven
sorted coordination numbers (the model's input), the potential energy and the largest
particle distance from the centre of mass, which says how often the flat-bottom restraint wall
(radius 2 sigma) is touched.

Stored (compressed, float32 where it is data): ``benchmarks/reference/lj7_reference.npz`` with
``features`` (N, 7), ``temperature_index`` (N,) into ``temperatures`` (5,), ``chain`` (N,) (the
REMD chain: frames with the same chain and temperature are one time series, in ``time`` order),
``time`` (N,), ``energy`` (N,), ``max_com_distance`` (N,), plus a JSON sidecar
``lj7_reference.json`` (settings, seed, versions, swap acceptance, round trips, restraint
engagement, wall time, SHA-256 of the npz).

Usage: ``python benchmarks/make_lj7_reference.py [--chains 128] [--steps 200000] [--seed 0]``
(about 3-5 minutes on one core with the defaults).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from thermogen.provenance import run_record, write_json
from thermogen.simulate import REMDConfig, run_remd
from thermogen.systems import LJ7

REFERENCE = Path(__file__).parent / "reference" / "lj7_reference.npz"
TEMPERATURES = (0.175, 0.2, 0.225, 0.25, 0.3)
"""REMD ladder; all five are stored (neighbour ratios 1.11-1.2, swap acceptance ~0.5-0.7)."""
FORMAT_VERSION = 1
REGENERATE = "python benchmarks/make_lj7_reference.py"


class LJ7WithWallDistance(LJ7):
    """LJ7 whose features are the 7 sorted coordination numbers plus the largest distance of a
    particle from the centre of mass (sigma), so that ``run_remd`` records the restraint's reach.

    The restraint (``restraint_radius``, 2 sigma by default) acts where that distance exceeds the
    radius. Energies and forces are those of :class:`~thermogen.systems.LJ7`.
    """

    feature_names = (*LJ7.feature_names, "max_com_distance")

    def features(self, x: np.ndarray) -> np.ndarray:
        """(M, 8): the sorted coordination numbers and the largest particle-COM distance."""
        x = np.asarray(x, dtype=float).reshape(-1, 7, 2)
        d = x - x.mean(axis=1, keepdims=True)
        reach = np.sqrt((d**2).sum(axis=2)).max(axis=1)
        return np.column_stack([super().features(x), reach])


def load_reference(path: Path = REFERENCE) -> dict[str, np.ndarray]:
    """The stored reference arrays; a clear message says how to make them when the file is missing.

    Raises
    ------
    SystemExit
        If ``path`` does not exist or has another format version.
    """
    if not path.exists():
        raise SystemExit(
            f"{path} is missing: make it first with `{REGENERATE}` (about 3-5 minutes on one core)"
        )
    with np.load(path) as stored:
        data = {key: stored[key] for key in stored.files}
    if int(data.get("format_version", -1)) != FORMAT_VERSION:
        raise SystemExit(f"{path} has an old format: regenerate it with `{REGENERATE}`")
    return data


def simulate(args: argparse.Namespace) -> tuple[dict[str, np.ndarray], dict]:
    """Run the REMD and return the compact arrays and a summary of the run."""
    system = LJ7WithWallDistance()
    config = REMDConfig(
        TEMPERATURES,
        n_chains=args.chains,
        n_steps=args.steps,
        equilibration_steps=args.equilibration,
        stride=args.stride,
        swap_interval=args.swap_interval,
        seed=args.seed,
    )
    started = time.perf_counter()
    run = run_remd(system, config, progress=True)
    wall_s = time.perf_counter() - started
    ds = run.dataset
    ladder = np.asarray(TEMPERATURES)
    t_index = np.searchsorted(ladder, ds.temperature)
    reach = ds.features[:, 7]
    arrays = {
        "format_version": np.array(FORMAT_VERSION),
        "temperatures": ladder,
        "features": ds.features[:, :7].astype(np.float32),
        "temperature_index": t_index.astype(np.uint8),
        "chain": (ds.replica // ladder.size).astype(np.uint16),
        "time": ds.time.astype(np.uint32),
        "energy": ds.energy.astype(np.float32),
        "max_com_distance": reach.astype(np.float32),
        "restraint_radius": np.array(system.restraint_radius),
    }
    engaged = [
        float(np.mean(reach[t_index == k] > system.restraint_radius)) for k in range(ladder.size)
    ]
    summary = {
        "wall_s": wall_s,
        "walker_steps_per_second": run.walker_steps_per_second,
        "swap_acceptance": run.acceptance,
        "round_trips": run.round_trips,
        "frames_per_temperature": int(ds.n_frames // ladder.size),
        "restraint_engaged_fraction": dict(zip(map(str, TEMPERATURES), engaged, strict=True)),
        "mean_energy": {
            str(t): float(ds.energy[t_index == k].mean()) for k, t in enumerate(TEMPERATURES)
        },
    }
    return arrays, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=128, help="independent REMD chains")
    parser.add_argument("--steps", type=int, default=200_000, help="production steps per walker")
    parser.add_argument("--equilibration", type=int, default=20_000, help="discarded steps")
    parser.add_argument("--stride", type=int, default=1000, help="steps between saved frames")
    parser.add_argument("--swap-interval", type=int, default=50, help="steps between swaps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REFERENCE)
    args = parser.parse_args()

    arrays, summary = simulate(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.stem + ".partial.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(args.out)
    summary["npz_bytes"] = args.out.stat().st_size
    summary["npz_sha256"] = hashlib.sha256(args.out.read_bytes()).hexdigest()
    settings = {
        "system": "lj7",
        "restraint_radius": float(arrays["restraint_radius"]),
        "temperatures": TEMPERATURES,
        "chains": args.chains,
        "steps": args.steps,
        "equilibration_steps": args.equilibration,
        "stride": args.stride,
        "swap_interval": args.swap_interval,
        "timestep": LJ7.timestep,
        "friction": LJ7.friction,
        "format_version": FORMAT_VERSION,
    }
    record = run_record("benchmarks/make_lj7_reference.py", settings, args.seed, summary)
    sidecar = write_json(args.out.with_suffix(".json"), record)

    print(
        f"LJ7 reference: {args.chains} REMD chains x {args.steps} steps, wall {summary['wall_s']:.0f} s"
    )
    print(f"{'T':>7} {'frames':>8} {'<U>':>9} {'wall touched':>13}")
    for t in TEMPERATURES:
        print(
            f"{t:>7} {summary['frames_per_temperature']:>8} {summary['mean_energy'][str(t)]:>9.3f}"
            f" {summary['restraint_engaged_fraction'][str(t)]:>13.2%}"
        )
    acceptance = ", ".join(f"{a:.0%}" for a in summary["swap_acceptance"])
    print(f"swap acceptance {acceptance}; round trips {summary['round_trips']}")
    print(f"wrote {args.out} ({summary['npz_bytes'] / 1e6:.1f} MB) and {sidecar}")


if __name__ == "__main__":
    main()
