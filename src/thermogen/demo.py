"""The built-in demonstration: REMD on Mueller-Brown, then MBAR and the diffusion model at
temperatures that were not simulated, both against the exact answer; and a LaTF melting curve
from two temperatures (:mod:`thermogen.demo_melting`).

The demo simulates replica exchange on the Mueller-Brown potential (reduced units, k_B = 1) at
four temperatures, estimates the basin populations at five other temperatures with MBAR and with
a diffusion model trained on the REMD frames, and compares both with the exact populations from
the grid reference. It writes the data, the model's run folder, a table (CSV), a figure (PNG) and
a run record (JSON) to one folder, and the melting curve's model and figure beside them.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import bootstrap_populations, histogram, js_divergence
from .analysis.mbar import MBARReweighter, ReweightedEstimate
from .data import MultiTempDataset, Trajectories, save_dataset
from .demo_melting import MeltingDemo, run_melting_demo
from .fileio import atomic_write
from .models import DiffusionConfig
from .pipeline import SampleResult, sample_model, train_model
from .provenance import run_record, write_json
from .report import write_report
from .report.figures import plot_free_energy, plot_populations_vs_temperature, save_figure
from .simulate import REMDConfig, REMDResult, run_remd
from .systems import MuellerBrown

__all__ = ["DemoResult", "DemoRow", "format_table", "run_demo"]

HELD_OUT_TEMPERATURES = (0.8, 1.26, 2.0, 3.17, 5.0)
"""Targets of the demo: three between the simulated temperatures, one below and one above."""
N_GENERATED = 20_000
"""Frames the diffusion model generates per held-out temperature."""
N_REFERENCE = 10_000
"""Exact i.i.d. frames per held-out temperature in the report's reference (``reference_exact.npz``)."""
FES_TEMPERATURE = 0.8
"""Held-out temperature of the free-energy maps: below the simulated ladder (extrapolation)."""
_FES_RANGES = [(-1.8, 1.3), (-0.6, 2.3)]


@dataclass(frozen=True)
class DemoRow:
    """One line of the demo table: a basin's population at one held-out temperature."""

    temperature: float
    basin: str
    exact: float
    mbar: float
    mbar_std_error: float
    effective_sample_size: float
    diffusion: float

    @property
    def z_score(self) -> float:
        """(MBAR - exact) / MBAR standard error."""
        return (self.mbar - self.exact) / self.mbar_std_error


@dataclass(frozen=True)
class DemoResult:
    """Rows of the comparison table and the files written."""

    rows: tuple[DemoRow, ...]
    out_dir: Path
    figure: Path
    table: Path
    data: Path
    run_dir: Path
    melting: MeltingDemo | None
    report: Path


def run_demo(
    out_dir: str | Path = "thermogen_demo",
    seed: int = 0,
    n_chains: int = 128,
    n_steps: int = 40_000,
    train_steps: int = 2_500,
    melting: bool = True,
    progress: bool = True,
) -> DemoResult:
    """Run the demo; writes ``data.npz``, ``diffusion/``, ``samples.npz`` (generated frames at
    the held-out, then the simulated temperatures: the table and report use these),
    ``populations.csv``, ``populations.png``, ``run.json``, ``report.html`` (against exact frames,
    ``reference_exact.npz``) and, with ``melting``, ``latf/``, ``melting.png``, ``latent_fes.png``.

    Parameters
    ----------
    out_dir
        Folder for the outputs (created if needed).
    seed
        Seed of the simulation and the model; the same seed gives the same numbers.
    n_chains, n_steps
        Size of the REMD run (independent chains, Langevin steps after equilibration).
    train_steps
        Optimiser steps of the diffusion model (the default model uses 6,000; the demo trades a
        little accuracy for time).
    melting
        Also train LaTF on a two-state system at two temperatures and draw its melting curve.
    progress
        Show progress bars.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    system = MuellerBrown()
    simulation, data_path = _simulate(system, out, n_chains, n_steps, seed, progress)
    dataset = simulation.dataset
    n_basins = len(system.basin_names)

    mbar = MBARReweighter(dataset, decorrelate=True)
    estimate = mbar.populations(system.basin_of(dataset.features), n_basins, HELD_OUT_TEMPERATURES)

    model_config = DiffusionConfig()
    model_config = replace(model_config, train=replace(model_config.train, steps=train_steps))
    trained = train_model(
        dataset,
        "diffusion",
        out / "diffusion",
        model_config,
        seed=seed,
        overwrite=True,
        progress=progress,
    )
    written, generated_pops = _generate(trained.model, system, dataset, out, seed, progress)
    rows = _rows(system, estimate, generated_pops)
    table_path = _write_table(rows, out / "populations.csv")
    figure_path = _draw(
        system,
        mbar,
        estimate,
        _direct_populations(system, simulation),
        _with_binomial_errors(generated_pops),
        written.samples.features[written.samples.temperature == FES_TEMPERATURE],
        out / "populations.png",
    )
    melt = run_melting_demo(out, seed=seed, progress=progress) if melting else None
    report = _report(system, out, data_path, written.samples, seed)
    settings = {
        "system": system.name,
        "held_out_temperatures": HELD_OUT_TEMPERATURES,
        "remd": asdict(simulation.config),
        "diffusion": trained.model.config.to_dict(),
        "generated_per_temperature": N_GENERATED,
    }
    results = {
        "rows": [asdict(r) | {"z_score": r.z_score} for r in rows],
        "swap_acceptance": simulation.acceptance,
        "mbar_frames": mbar.n_frames,
        "melting": None if melt is None else _melting_summary(melt),
    }
    write_json(out / "run.json", run_record("demo", settings, seed, results))
    return DemoResult(
        rows, out, figure_path, table_path, data_path, out / "diffusion", melt, report
    )


def _with_binomial_errors(populations: np.ndarray) -> tuple[np.ndarray, ...]:
    """The diffusion model's curve for the figure: held-out temperatures (K,), populations
    (K, B) of its ``N_GENERATED`` samples and their binomial standard errors (K, B)."""
    error = np.sqrt(populations * (1 - populations) / N_GENERATED)
    return np.array(HELD_OUT_TEMPERATURES), populations, error


def _report(
    system: MuellerBrown, out: Path, data_path: Path, samples: MultiTempDataset, seed: int
) -> Path:
    """``report.html`` of the diffusion run: the written samples against MBAR and exact frames
    (``reference_exact.npz``) at the held-out temperatures."""
    reference = _exact_reference(system, HELD_OUT_TEMPERATURES, N_REFERENCE, seed)
    return write_report(
        out / "diffusion",
        data_path,
        HELD_OUT_TEMPERATURES,
        out / "report.html",
        samples=samples,
        seed=seed,
        reference=save_dataset(reference, out / "reference_exact.npz"),
        reference_kind="exact",
    )


def _simulate(
    system: MuellerBrown, out: Path, n_chains: int, n_steps: int, seed: int, progress: bool
) -> tuple[REMDResult, Path]:
    """REMD on the system's own ladder (2,000 equilibration steps, a frame every 50), saved to
    ``data.npz``."""
    config = REMDConfig(
        system.default_temperatures,
        n_chains=n_chains,
        n_steps=n_steps,
        equilibration_steps=2_000,
        stride=50,
        seed=seed,
    )
    simulation = run_remd(system, config, progress=progress)
    data_path, _ = simulation.save(out / "data.npz", system.name)
    return simulation, data_path


def _generate(
    model: Any,
    system: MuellerBrown,
    dataset: MultiTempDataset,
    out: Path,
    seed: int,
    progress: bool,
) -> tuple[SampleResult, np.ndarray]:
    """Samples at the held-out temperatures, then at the simulated ones, written to
    ``samples.npz`` (the report shows these very samples); and the basin populations (K, B) of
    the held-out ones. Held-out first: their samples are what they would be alone."""
    temperatures = [*HELD_OUT_TEMPERATURES, *dataset.temperatures]
    written = sample_model(
        model, temperatures, N_GENERATED, out / "samples.npz", seed=seed, progress=progress
    )
    samples, n_basins = written.samples, len(system.basin_names)
    populations = np.stack(
        [
            np.bincount(
                system.basin_of(samples.features[samples.temperature == t]), minlength=n_basins
            )
            / N_GENERATED
            for t in HELD_OUT_TEMPERATURES
        ]
    )
    return written, populations


def _rows(
    system: MuellerBrown, estimate: ReweightedEstimate, generated: np.ndarray
) -> tuple[DemoRow, ...]:
    """The table: exact, MBAR and diffusion populations of every basin at every held-out T."""
    exact = system.exact_populations(HELD_OUT_TEMPERATURES)
    return tuple(
        DemoRow(
            float(t),
            name,
            float(exact[i, s]),
            float(estimate.value[i, s]),
            float(estimate.std_error[i, s]),
            float(estimate.effective_sample_size[i]),
            float(generated[i, s]),
        )
        for i, t in enumerate(HELD_OUT_TEMPERATURES)
        for s, name in enumerate(system.basin_names)
    )


def _exact_reference(
    system: MuellerBrown, temperatures: tuple[float, ...], n: int, seed: int
) -> MultiTempDataset:
    """``n`` i.i.d. frames per temperature from the exact Boltzmann density on the grid."""
    rng = np.random.default_rng(seed + 7)
    x = np.concatenate([system.sample(t, n, rng) for t in temperatures])
    return MultiTempDataset(
        x,
        np.repeat(np.asarray(temperatures, dtype=float), n),
        energy=system.potential(x),
        feature_names=system.feature_names,
        periodic=system.periodic,
        temperature_unit=system.temperature_unit,
        energy_unit=system.energy_unit,
        source=f"exact Boltzmann density of {system.name} (grid)",
    )


def _melting_summary(melt: MeltingDemo) -> dict[str, float]:
    return {
        "latf_tm": melt.fit.tm,
        "latf_tm_interval": melt.fit.tm_interval,
        "latf_dh": melt.fit.dh,
        "exact_tm": melt.exact_tm,
        "max_abs_population_error": melt.max_error,
    }


def format_table(rows: tuple[DemoRow, ...]) -> str:
    """The demo table as aligned text."""
    lines = [
        f"{'T':>6} {'basin':>5} {'exact':>8} {'MBAR':>8} {'+/-':>7} {'ESS':>6} {'diffusion':>10}"
    ]
    for r in rows:
        lines.append(
            f"{r.temperature:6.3g} {r.basin:>5} {r.exact:8.4f} {r.mbar:8.4f} {r.mbar_std_error:7.4f}"
            f" {r.effective_sample_size:6.0f} {r.diffusion:10.4f}"
        )
    return "\n".join(lines)


def _write_table(rows: tuple[DemoRow, ...], path: Path) -> Path:
    with atomic_write(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "temperature",
                "basin",
                "exact",
                "mbar",
                "mbar_std_error",
                "mbar_z_score",
                "mbar_effective_sample_size",
                "diffusion",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r.temperature,
                    r.basin,
                    r.exact,
                    r.mbar,
                    r.mbar_std_error,
                    r.z_score,
                    r.effective_sample_size,
                    r.diffusion,
                ]
            )
    return path


def _direct_populations(
    system: MuellerBrown, simulation: REMDResult
) -> tuple[np.ndarray, np.ndarray]:
    """Populations (K, S) and errors at the simulated temperatures, chains as bootstrap blocks."""
    ds = simulation.dataset
    labels = system.basin_of(ds.features)
    n_temps = len(simulation.config.temperatures)
    chain = ds.replica // n_temps
    frames_per_chain = simulation.config.n_steps // simulation.config.stride
    values, errors = [], []
    for t in ds.temperatures:
        at_t = np.flatnonzero(ds.temperature == t)
        at_t = at_t[Trajectories.from_arrays(chain[at_t], ds.time[at_t]).order]
        est = bootstrap_populations(
            labels[at_t],
            len(system.basin_names),
            groups=chain[at_t],
            block_length=frames_per_chain,
            n_boot=500,
            seed=0,
        )
        values.append(est.value)
        errors.append(est.std_error)
    return np.array(values), np.array(errors)


def _draw(
    system: MuellerBrown,
    mbar: MBARReweighter,
    estimate: ReweightedEstimate,
    direct: tuple[np.ndarray, np.ndarray],
    diffusion: tuple[np.ndarray, np.ndarray, np.ndarray],
    generated: np.ndarray,
    path: Path,
) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(20, 4.4), constrained_layout=True)
    grid_t = np.geomspace(0.7, 5.5, 60)
    ladder = np.array(system.default_temperatures)
    plot_populations_vs_temperature(
        axes[0],
        system.basin_names,
        {
            "exact": (grid_t, system.exact_populations(grid_t), None),
            "simulation": (ladder, *direct),
            "mbar": (estimate.temperature, estimate.value, estimate.std_error),
            "diffusion": diffusion,
        },
        "temperature k_B T (reduced units)",
        simulated_temperatures=ladder,
    )
    axes[0].set_title("Mueller-Brown basin populations", fontsize=10)

    t = FES_TEMPERATURE
    bins = 50
    edges = [np.linspace(*r, bins + 1) for r in _FES_RANGES]
    exact = histogram(system.sample(t, 400_000, rng=0), bins, _FES_RANGES)
    full = MBARReweighter(
        mbar.full_dataset
    )  # every frame: a smoother map than the decorrelated subset
    reweighted = histogram(full.dataset.features, bins, _FES_RANGES, weights=full.weights(t))
    model = histogram(generated, bins, _FES_RANGES)
    floor = js_divergence(
        histogram(system.sample(t, len(generated), rng=1), bins, _FES_RANGES), exact
    )
    ladder_text = ", ".join(f"{v:g}" for v in ladder)
    panels = [
        (exact, f"exact, k_B T = {t:g} (not simulated)"),
        (
            reweighted,
            f"MBAR from k_B T = {ladder_text}\nJS to exact {js_divergence(reweighted, exact):.4f}",
        ),
        (
            model,
            f"diffusion model, {len(generated):,} samples\nJS to exact {js_divergence(model, exact):.4f}"
            f" (noise floor {floor:.4f})",
        ),
    ]
    for ax, (probability, title) in zip(axes[1:], panels, strict=True):
        plot_free_energy(ax, *edges, probability, t, title)
    return save_figure(fig, path)
