"""Whole alanine-dipeptide structures at temperatures nobody simulated: raw, reweighted, MBAR, MD.

For vacuum and OBC implicit solvent: replica exchange at 350, 450, 580 K (``--ns`` per replica)
written as internal coordinates (``features="internal"``: D = 48, the 12 X-H bonds held at
their constraint lengths), the diffusion model trained with its default settings, and at 300,
400 and 510 K ``--n`` generated structures with OpenMM energies and exact Boltzmann weights
(``sample_model(structures=..., molecule=...)``). Compared at each target with

* a direct Langevin simulation at the target of the same total MD cost as the training data
  (3 x ``--ns``), the equal-cost baseline, and
* MBAR from the training frames,

on: the 36 x 36 phi/psi histogram's JS divergence to the dense-ladder reference of
``make_adp_reference.py`` (vacuum only: there is no OBC reference, so for OBC the JS is to the
direct simulation), raw and reweighted, and as a ratio to the direct simulation's; the state
populations (P(phi > 0) = C7ax/alphaL) beside the reference's with its standard error; the Kish
ESS of the weights; the mean potential energy and the Wasserstein-1 distance of the energy
distribution to the direct simulation's (kJ/mol and kT; the W1 between the two halves of the
direct run is its noise scale); the fraction of structures with a steric clash (non-bonded,
non-1-3 heavy atoms < 0.2 nm) or a flipped C-alpha; training time, process peak memory and
structures per second including reconstruction, energies and log-densities.

Usage: ``python benchmarks/structures_adp.py [--solvents vacuum,obc] [--ns 2] [--n 1000]
[--seed 0] [--quick]`` (``--quick``: 0.1 ns, 100 structures, 300 training steps, a smoke test that
writes no JSON). Writes ``benchmarks/results/structures_adp.json``. The default run takes about
25 minutes on one core (OBC dynamics are 5x slower than vacuum).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import mdtraj as md
import numpy as np
import torch
from direct_md import direct_simulation
from scipy.stats import wasserstein_distance

from thermogen.analysis import js_divergence
from thermogen.analysis.mbar import MBARReweighter
from thermogen.analysis.ramachandran import (
    STATES,
    TARGETS,
    TRAINING_LADDER,
    load_adp_reference,
    phi_psi_histogram,
    state_populations,
)
from thermogen.models import DiffusionConfig, DiffusionModel
from thermogen.pipeline.generation import sample_model
from thermogen.provenance import run_record, write_json
from thermogen.simulate.openmm_remd import OpenMMREMDConfig, run_openmm_remd
from thermogen.structures.quality import chirality_flipped, has_clash
from thermogen.systems.molecules import get_molecule
from thermogen.units import KB_KJ_PER_MOL_K

RESULTS = Path(__file__).parent / "results"
MOLECULES = {"vacuum": "alanine-dipeptide", "obc": "alanine-dipeptide-implicit"}
PHI_POSITIVE = STATES.index("C7ax/alphaL")


def peak_memory_gb() -> float:
    """Peak resident memory of this process so far, GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def angles_of(features: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """(N, 2) phi, psi columns of internal-coordinate features."""
    return features[:, [names.index("phi:ALA2"), names.index("psi:ALA2")]]


def ensemble(
    angles: np.ndarray, energy: np.ndarray, target: dict, weights: np.ndarray | None = None
) -> dict:
    """JS to the target histogram, populations and energy statistics of one (weighted) ensemble.

    ``target`` holds the comparison histogram ``hist`` and the direct run's ``energy`` (kJ/mol)
    and ``kT`` (kJ/mol).
    """
    w1 = wasserstein_distance(energy, target["energy"], u_weights=weights)
    mean = float(np.average(energy, weights=weights))
    return {
        "js": js_divergence(phi_psi_histogram(angles, weights), target["hist"]),
        "populations": state_populations(angles, weights).tolist(),
        "mean_energy": mean,
        "energy_w1": w1,
        "energy_w1_kT": w1 / target["kT"],
    }


def train(data, args: argparse.Namespace) -> tuple[DiffusionModel, float]:
    """The default diffusion model fitted to ``data`` and the wall time, s."""
    config = DiffusionConfig()
    train_settings = replace(config.train, seed=args.seed)
    if args.quick:
        train_settings = replace(train_settings, steps=300)
    started = time.perf_counter()
    model = DiffusionModel.fit(data, replace(config, train=train_settings), progress=True)
    return model, time.perf_counter() - started


def generate(model, name: str, folder: Path, args: argparse.Namespace) -> dict:
    """Structures, energies and weights at every target, with their quality and speed."""
    started = time.perf_counter()
    result = sample_model(
        model,
        TARGETS,
        args.n,
        folder / "gen.npz",
        seed=args.seed,
        structures=folder / "gen.dcd",
        molecule=name,
        progress=True,
    )
    seconds = time.perf_counter() - started
    columns = np.load(folder / "gen.npz")
    traj = md.load(str(folder / "gen.dcd"), top=str(folder / "gen.pdb"))
    reference = get_molecule(name).positions
    return {
        "samples": result.samples,
        "log_weight": columns["log_weight"],
        "ess": dict(zip(columns["ess_temperature"].tolist(), columns["ess"].tolist(), strict=True)),
        "clash": has_clash(traj),
        "flipped": chirality_flipped(traj, reference),
        "seconds": seconds,
    }


def normalised(log_weight: np.ndarray) -> np.ndarray:
    """Self-normalised importance weights from log-weights."""
    w = np.exp(log_weight - log_weight.max())
    return w / w.sum()


def compare_target(t: float, generated: dict, data, mbar, direct: dict, reference) -> dict:
    """Raw, reweighted, MBAR and direct ensembles at one target temperature."""
    kt = KB_KJ_PER_MOL_K * t
    angles = direct["angles"]
    hist = (
        reference.mean_histograms[reference.index(t)]
        if reference is not None
        else phi_psi_histogram(angles)
    )
    target = {"hist": hist, "energy": direct["energy"], "kT": kt}
    samples = generated["samples"]
    rows = samples.temperature == t
    gen_angles, gen_energy = (
        angles_of(samples.features[rows], samples.feature_names),
        samples.energy[rows],
    )
    half = len(direct["energy"]) // 2
    out = {
        "temperature": t,
        "raw": ensemble(gen_angles, gen_energy, target),
        "reweighted": ensemble(
            gen_angles, gen_energy, target, normalised(generated["log_weight"][rows])
        ),
        "mbar": ensemble(
            angles_of(data.features, data.feature_names), data.energy, target, mbar.weights(t)
        ),
        "direct": ensemble(angles, direct["energy"], target),
        "ess_fraction": generated["ess"][t],
        "mbar_ess": float(mbar.effective_sample_size(t)),
        "clash_fraction": float(generated["clash"][rows].mean()),
        "chirality_fraction": float(generated["flipped"][rows].mean()),
        "direct_halves_energy_w1_kT": wasserstein_distance(
            direct["energy"][:half], direct["energy"][half:]
        )
        / kt,
        "direct_wall_s": direct["seconds"],
    }
    if reference is not None:
        index = reference.index(t)
        out["reference_populations"] = reference.mean_populations[index].tolist()
        out["reference_std_error"] = reference.std_error[index].tolist()
    for kind in ("raw", "reweighted", "mbar"):
        out[f"{kind}_over_direct_js"] = (
            out[kind]["js"] / out["direct"]["js"] if reference is not None else None
        )
    return out


def run_direct(name: str, t: float, ns: float, seed: int) -> dict:
    """Angles, energies and wall time of the equal-cost direct simulation at ``t``."""
    molecule = get_molecule(name)
    started = time.perf_counter()
    positions, energy = direct_simulation(molecule, t, ns, seed)
    return {
        "angles": molecule.features(positions)[0],
        "energy": energy,
        "seconds": time.perf_counter() - started,
    }


def run_solvent(solvent: str, args: argparse.Namespace, reference) -> dict:
    """REMD, training, generation and every comparison for one solvent model."""
    name = MOLECULES[solvent]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        config = OpenMMREMDConfig(TRAINING_LADDER, ns=args.ns, seed=args.seed, features="internal")
        remd = run_openmm_remd(get_molecule(name), config, folder / "train.nc")
        remd_s = time.perf_counter() - started
        data = remd.dataset
        model, train_s = train(data, args)
        train_memory = peak_memory_gb()
        generated = generate(model, name, folder, args)
    mbar = MBARReweighter(data)
    direct_ns = args.ns * len(TRAINING_LADDER)
    rows = [
        compare_target(
            t, generated, data, mbar, run_direct(name, t, direct_ns, args.seed), reference
        )
        for t in TARGETS
    ]
    n_generated = generated["samples"].n_frames
    return {
        "solvent": solvent,
        "molecule": name,
        "n_features": data.n_features,
        "training_frames": data.n_frames,
        "remd_s": remd_s,
        "swap_acceptance": remd.acceptance.tolist(),
        "training_s": train_s,
        "peak_memory_after_training_gb": train_memory,
        "peak_memory_after_sampling_gb": peak_memory_gb(),
        "structures_per_s": n_generated / generated["seconds"],
        "direct_ns": direct_ns,
        "rows": rows,
    }


def print_table(runs: list[dict]) -> None:
    """Per solvent and target: JS, P(phi > 0), ESS, energies and structure quality."""
    for run in runs:
        print(
            f"\n{run['solvent']}: D = {run['n_features']}, training {run['training_s']:.0f} s, "
            f"peak {run['peak_memory_after_sampling_gb']:.2f} GB, "
            f"{run['structures_per_s']:.1f} structures/s (with energies and log-densities)"
        )
        js_to = "reference" if run["rows"][0].get("reference_populations") else "direct MD"
        print(
            f"{'T (K)':>6} {'ensemble':>10} {'JS to ' + js_to:>18} {'JS/direct':>9} "
            f"{'P(phi>0)':>9} {'<U> kJ/mol':>10} {'W1(U) kT':>9}"
        )
        for row in run["rows"]:
            for kind in ("raw", "reweighted", "mbar", "direct"):
                r = row[kind]
                ratio = row.get(f"{kind}_over_direct_js")
                print(
                    f"{row['temperature']:6.0f} {kind:>10} {r['js']:18.4f} "
                    f"{'' if ratio is None else f'{ratio:.2f}':>9} "
                    f"{r['populations'][PHI_POSITIVE]:9.4f} {r['mean_energy']:10.2f} "
                    f"{r['energy_w1_kT']:9.3f}"
                )
            ref = row.get("reference_populations")
            if ref:
                print(
                    f"{'':6} {'reference':>10} {'':18} {'':9} {ref[PHI_POSITIVE]:9.4f} "
                    f"(+/- {row['reference_std_error'][PHI_POSITIVE]:.4f})"
                )
            print(
                f"{'':6} ESS {100 * row['ess_fraction']:.1f}% (MBAR {row['mbar_ess']:.0f} frames), "
                f"clash {100 * row['clash_fraction']:.1f}%, flipped C-alpha "
                f"{100 * row['chirality_fraction']:.1f}%, direct-MD halves W1 "
                f"{row['direct_halves_energy_w1_kT']:.3f} kT"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solvents", default="vacuum,obc", help="vacuum and/or obc")
    parser.add_argument("--ns", type=float, default=2.0, help="training ns per replica")
    parser.add_argument("--n", type=int, default=1000, help="structures per target temperature")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke test; writes no JSON")
    args = parser.parse_args()
    if args.quick:
        args.ns, args.n = 0.1, 100
    torch.set_num_threads(1)
    solvents = args.solvents.split(",")
    if unknown := set(solvents) - set(MOLECULES):
        raise SystemExit(f"--solvents: unknown {sorted(unknown)}; choose from {list(MOLECULES)}")
    vacuum_reference = load_adp_reference()
    runs = [run_solvent(s, args, vacuum_reference if s == "vacuum" else None) for s in solvents]
    print_table(runs)
    if args.quick:
        return
    settings = {
        "training_ladder_K": TRAINING_LADDER,
        "targets_K": TARGETS,
        "ns_per_replica": args.ns,
        "structures_per_temperature": args.n,
        "features": "internal",
        "solvents": solvents,
    }
    record = run_record("benchmarks/structures_adp.py", settings, args.seed, {"runs": runs})
    print(f"wrote {write_json(RESULTS / 'structures_adp.json', record)}")


if __name__ == "__main__":
    main()
