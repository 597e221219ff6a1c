"""The built-in demonstration: REMD on Mueller-Brown, MBAR at held-out temperatures, exact answers.

The demo simulates replica exchange on the Mueller-Brown potential (reduced units, k_B = 1) at
four temperatures, estimates the basin populations at temperatures that were not simulated with
MBAR, and compares them with the exact populations from the grid reference. It writes the data,
a table (CSV), a figure (PNG) and a run record (JSON) to one folder.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .analysis import bootstrap_populations, histogram
from .analysis.mbar import MBARReweighter, ReweightedEstimate
from .fileio import atomic_write
from .provenance import run_record, write_json
from .report.figures import plot_free_energy, plot_populations_vs_temperature, save_figure
from .simulate import REMDConfig, REMDResult, run_remd
from .systems import MuellerBrown

__all__ = ["DemoResult", "DemoRow", "format_table", "run_demo"]

HELD_OUT_TEMPERATURES = (0.8, 1.26, 2.0, 3.17, 5.0)
"""Targets of the demo: three between the simulated temperatures, one below and one above."""


@dataclass(frozen=True)
class DemoRow:
    """One line of the demo table: a basin's population at one held-out temperature."""

    temperature: float
    basin: str
    exact: float
    mbar: float
    mbar_std_error: float
    effective_sample_size: float

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


def run_demo(
    out_dir: str | Path = "thermogen_demo",
    seed: int = 0,
    n_chains: int = 128,
    n_steps: int = 40_000,
    progress: bool = True,
) -> DemoResult:
    """Run the demo and write ``data.npz``, ``populations.csv``, ``populations.png`` and ``run.json``.

    Parameters
    ----------
    out_dir
        Folder for the outputs (created if needed).
    seed
        Seed of the simulation; the same seed gives the same numbers.
    n_chains, n_steps
        Size of the REMD run (independent chains, Langevin steps after equilibration).
    progress
        Show progress bars.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    system = MuellerBrown()
    ladder = system.default_temperatures
    config = REMDConfig(
        ladder, n_chains=n_chains, n_steps=n_steps, equilibration_steps=2_000, stride=50, seed=seed
    )
    simulation = run_remd(system, config, progress=progress)
    data_path, _ = simulation.save(out / "data.npz", system.name)
    dataset = simulation.dataset
    labels = system.basin_of(dataset.features)
    n_basins = len(system.basin_names)

    mbar = MBARReweighter(dataset, decorrelate=True)
    estimate = mbar.populations(labels, n_basins, HELD_OUT_TEMPERATURES)
    exact = system.exact_populations(HELD_OUT_TEMPERATURES)
    rows = tuple(
        DemoRow(
            float(t),
            name,
            float(exact[i, s]),
            float(estimate.value[i, s]),
            float(estimate.std_error[i, s]),
            float(estimate.effective_sample_size[i]),
        )
        for i, t in enumerate(HELD_OUT_TEMPERATURES)
        for s, name in enumerate(system.basin_names)
    )
    table_path = _write_table(rows, out / "populations.csv")

    direct = _direct_populations(system, simulation, labels)
    figure_path = _draw(system, mbar, estimate, direct, out / "populations.png")
    write_json(
        out / "run.json",
        run_record(
            "demo",
            {
                "system": system.name,
                "held_out_temperatures": HELD_OUT_TEMPERATURES,
                **asdict(simulation.config),
            },
            seed,
            {
                "rows": [asdict(r) | {"z_score": r.z_score} for r in rows],
                "swap_acceptance": simulation.acceptance,
                "mbar_frames": mbar.n_frames,
            },
        ),
    )
    return DemoResult(rows, out, figure_path, table_path, data_path)


def format_table(rows: tuple[DemoRow, ...]) -> str:
    """The demo table as aligned text."""
    lines = [f"{'T':>6} {'basin':>5} {'exact':>8} {'MBAR':>8} {'+/-':>7} {'z':>6} {'ESS':>7}"]
    for r in rows:
        lines.append(
            f"{r.temperature:6.3g} {r.basin:>5} {r.exact:8.4f} {r.mbar:8.4f} {r.mbar_std_error:7.4f}"
            f" {r.z_score:6.2f} {r.effective_sample_size:7.0f}"
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
                "z_score",
                "mbar_effective_sample_size",
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
                ]
            )
    return path


def _direct_populations(
    system: MuellerBrown, simulation: REMDResult, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Populations (K, S) and errors at the simulated temperatures, chains as bootstrap blocks."""
    ds = simulation.dataset
    n_temps = len(simulation.config.temperatures)
    chain = ds.replica // n_temps
    frames_per_chain = simulation.config.n_steps // simulation.config.stride
    values, errors = [], []
    for t in ds.temperatures:
        at_t = np.flatnonzero(ds.temperature == t)
        at_t = at_t[np.lexsort((ds.time[at_t], chain[at_t]))]
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
    path: Path,
) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    grid_t = np.geomspace(0.7, 5.5, 60)
    ladder = np.array(system.default_temperatures)
    plot_populations_vs_temperature(
        axes[0],
        system.basin_names,
        {
            "exact": (grid_t, system.exact_populations(grid_t), None),
            "simulation": (ladder, direct[0], direct[1]),
            "mbar": (estimate.temperature, estimate.value, estimate.std_error),
        },
        "temperature k_B T (reduced units)",
        simulated_temperatures=ladder,
    )
    axes[0].set_title("Mueller-Brown basin populations", fontsize=10)

    target = 2.0
    ranges = [(-1.8, 1.3), (-0.6, 2.3)]
    bins = 50
    x_edges = np.linspace(*ranges[0], bins + 1)
    y_edges = np.linspace(*ranges[1], bins + 1)
    exact_sample = system.sample(target, 400_000, rng=0)
    full = MBARReweighter(
        mbar.full_dataset
    )  # every frame: a smoother map than the decorrelated subset
    plot_free_energy(
        axes[1],
        x_edges,
        y_edges,
        histogram(exact_sample, bins, ranges),
        target,
        f"exact, k_B T = {target:g} (not simulated)",
    )
    plot_free_energy(
        axes[2],
        x_edges,
        y_edges,
        histogram(full.dataset.features, bins, ranges, weights=full.weights(target)),
        target,
        f"MBAR from k_B T = {', '.join(f'{t:g}' for t in ladder)}",
    )
    return save_figure(fig, path)
