"""The demo's melting curve: LaTF on a two-state folding system simulated at two temperatures.

Plain Langevin trajectories (reduced units, k_B = 1) of :class:`~thermogen.systems.TwoStateFolding`
at one temperature below and one above its melting point train LaTF; its folded-state population
over Tm +/- 40%, with a van 't Hoff fit, is drawn beside the exact curve from the grid reference
and MBAR from the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .analysis import histogram, js_divergence
from .analysis.mbar import MBARReweighter
from .analysis.melting import VantHoffFit
from .analysis.populations import PopulationCurve
from .data import MultiTempDataset
from .models.latf import LaTFConfig, LaTFModel
from .models.spib import SPIBConfig
from .pipeline import train_model
from .report import write_report
from .report.figures import METHOD_STYLE, plot_free_energy, plot_melting_curve, save_figure
from .simulate import REMDConfig, run_remd
from .systems import TwoStateFolding

__all__ = ["MELTING_TRAINING_TEMPERATURES", "MeltingDemo", "run_melting_demo"]

MELTING_TRAINING_TEMPERATURES = (0.9, 1.12)
"""Simulated temperatures: 10% below and 12% above the exact Tm (1.003)."""
MELTING_RANGE = (0.6, 1.4)
"""Predicted range, Tm -40% to +40%."""
LATENT_SAMPLES, LATENT_BINS = 20_000, 50
"""Samples and bins per axis of the latent free-energy maps."""
DEMO_STEPS = (400, 1500)
"""Optimiser steps of each SPIB relabelling round and of the joint stage."""


@dataclass(frozen=True)
class MeltingDemo:
    """LaTF's melting curve against the exact one.

    Attributes
    ----------
    curve
        LaTF state populations with 95% intervals over :data:`MELTING_RANGE`.
    folded_state
        The learned state that is most populated at the lowest temperature.
    fit
        Van 't Hoff fit of the folded state's curve (Tm, dH in reduced units).
    exact_tm
        Temperature where the exact folded population crosses 0.5.
    max_error
        Largest |LaTF - exact| folded population over the range.
    run_dir, figure
        The saved model (with its run record) and the PNG.
    latent_figure
        Latent free-energy maps: the training frames through the encoder and LaTF's samples at
        the lower training temperature, and LaTF's samples at an unsimulated one.
    data, report
        The training trajectories (``melting_data.npz``) and the HTML report of the LaTF run
        (``report_melting.html``: learned CVs, states, melting curve with Tm and dH, MBAR).
    """

    curve: PopulationCurve
    folded_state: int
    fit: VantHoffFit
    exact_tm: float
    max_error: float
    run_dir: Path
    figure: Path
    latent_figure: Path
    data: Path
    report: Path


def run_melting_demo(
    out_dir: Path, seed: int = 0, n_chains: int = 4000, progress: bool = True
) -> MeltingDemo:
    """Simulate, train LaTF, draw ``out_dir/melting.png`` and write ``out_dir/report_melting.html``;
    the model goes to ``out_dir/latf``, the trajectories to ``out_dir/melting_data.npz``.

    Parameters
    ----------
    out_dir
        Output folder.
    seed
        Seed of the simulation and of the model.
    n_chains
        Trajectories per temperature (2,400 steps each, a frame every 20).
    progress
        Show progress bars.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    system = TwoStateFolding()
    simulation = REMDConfig(
        MELTING_TRAINING_TEMPERATURES,
        n_chains=n_chains,
        n_steps=2400,
        equilibration_steps=0,
        stride=20,
        swap_interval=2401,  # no swaps: plain Langevin at each temperature
        seed=seed,
    )
    trajectories = run_remd(system, simulation, progress=progress)
    data_path, _ = trajectories.save(out_dir / "melting_data.npz", system.name)
    data = trajectories.dataset
    # lag 30 frames (1.2 time units) outlasts relaxation inside a well; shorter training than
    # the defaults (measured: the same curve within 0.01) keeps the demo quick
    spib = replace(SPIBConfig(), lag=30, validation_fraction=0.3)
    config = LaTFConfig(
        spib=replace(spib, train=replace(spib.train, steps=DEMO_STEPS[0], seed=seed)),
        joint=replace(LaTFConfig().joint, steps=DEMO_STEPS[1], seed=seed),
    )
    run_dir = out_dir / "latf"
    model = train_model(data, "latf", run_dir, config, overwrite=True, progress=progress).model

    temperatures = np.geomspace(*MELTING_RANGE, 25)
    curve = model.population_curve(temperatures, seed=seed)
    folded = curve.default_folded_state()
    fit = curve.van_t_hoff(folded, seed=seed)
    fine = np.geomspace(*MELTING_RANGE, 200)
    exact = system.exact_melting_curve(temperatures)

    exact_curve = (fine, system.exact_melting_curve(fine))
    figure = _draw_melting(system, data, curve, folded, fit, exact_curve, out_dir / "melting.png")
    latent_figure = _draw_latent_maps(model, data, out_dir / "latent_fes.png", seed)
    report = write_report(run_dir, data_path, out=out_dir / "report_melting.html", seed=seed)
    return MeltingDemo(
        curve=curve,
        folded_state=folded,
        fit=fit,
        exact_tm=float(np.interp(0.5, exact_curve[1][::-1], fine[::-1])),
        max_error=float(np.abs(curve.population[:, folded] - exact).max()),
        run_dir=run_dir,
        figure=figure,
        latent_figure=latent_figure,
        data=data_path,
        report=report,
    )


def _draw_melting(
    system: TwoStateFolding,
    data: MultiTempDataset,
    curve: PopulationCurve,
    folded: int,
    fit: VantHoffFit,
    exact: tuple[np.ndarray, np.ndarray],
    path: Path,
) -> Path:
    """LaTF's melting curve with its band and fit, the exact curve, and MBAR from the same
    frames every third temperature; the training temperatures dotted."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4.0), constrained_layout=True)
    plot_melting_curve(curve, folded, fit, exact, ax=ax)
    mbar = MBARReweighter(data, decorrelate=True).populations(
        system.basin_of(data.features), len(system.basin_names), curve.temperature[::3]
    )
    style = METHOD_STYLE["mbar"]
    ax.errorbar(
        mbar.temperature,
        mbar.value[:, 0],
        yerr=1.96 * mbar.std_error[:, 0],
        fmt=str(style["marker"]),
        color=str(style["color"]),
        label="MBAR (same frames)",
        ms=4,
        capsize=2,
        ls="none",
    )
    for t in MELTING_TRAINING_TEMPERATURES:
        ax.axvline(t, color="0.6", lw=0.8, ls=":")
    ax.set_title(
        f"Two-state folding: LaTF from k_B T = {MELTING_TRAINING_TEMPERATURES[0]:g} and "
        f"{MELTING_TRAINING_TEMPERATURES[1]:g} (dotted)",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def _draw_latent_maps(model: LaTFModel, data: MultiTempDataset, path: Path, seed: int) -> Path:
    """Latent FES of training frames (one encoder draw each) and of LaTF samples, 3 panels."""
    import matplotlib.pyplot as plt

    trained, unsimulated = MELTING_TRAINING_TEMPERATURES[0], MELTING_RANGE[0] + 0.1
    rng = np.random.default_rng(seed)
    frames = rng.permutation(np.flatnonzero(data.temperature == trained))[: 2 * LATENT_SAMPLES]
    encoded = model.posterior_sample(data.features[frames], seed)
    generated, _ = model.sample_latent([trained, unsimulated], LATENT_SAMPLES, seed)
    low, high = np.quantile(encoded, [0.001, 0.999], axis=0)
    ranges = list(zip(low - 0.15 * (high - low), high + 0.15 * (high - low), strict=True))
    maps = [histogram(z, LATENT_BINS, ranges) for z in (encoded[:LATENT_SAMPLES], *generated)]
    floor = js_divergence(maps[0], histogram(encoded[LATENT_SAMPLES:], LATENT_BINS, ranges))
    edges = [np.linspace(*r, LATENT_BINS + 1) for r in ranges]
    titles = (
        f"training frames at k_B T = {trained:g}\n(through the encoder)",
        f"LaTF at k_B T = {trained:g}\nJS to frames {js_divergence(maps[1], maps[0]):.4f}"
        f" (noise floor {floor:.4f})",
        f"LaTF at k_B T = {unsimulated:g} (not simulated)",
    )
    temps = (trained, trained, unsimulated)
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.8), constrained_layout=True)
    for ax, probability, t, title in zip(axes, maps, temps, titles, strict=True):
        plot_free_energy(ax, *edges, probability, t, title, ("CV 1", "CV 2"), vmax=6.0)
    return save_figure(fig, path)
