"""The alanine-dipeptide demo's figure: Ramachandran free-energy maps of the reference, MBAR and
the diffusion model at each temperature shown, one colour scale, JS and ESS in the titles."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .analysis.ramachandran import (
    ALPHA_R_PSI_DEGREES,
    BINS,
    TRAINING_LADDER,
    RamachandranReference,
)
from .units import KB_KJ_PER_MOL_K

if TYPE_CHECKING:
    from .demo_molecule_table import MoleculeDemoRow

__all__ = ["METHODS", "METHOD_NAMES", "TRAINED_TEMPERATURE", "draw_maps"]

METHODS = ("reference", "mbar", "diffusion")
"""Rows of the table and of the figure."""
METHOD_NAMES = {"reference": "reference", "mbar": "MBAR", "diffusion": "diffusion"}

FES_VMAX = 25.0
"""Top of the free-energy colour scale (kJ/mol); higher or empty bins are left white."""
TRAINED_TEMPERATURE = TRAINING_LADDER[0]
"""The simulated temperature shown beside the held-out ones (K): there the REMD data are the
reference."""


def draw_maps(
    maps: dict[tuple[str, float], np.ndarray],
    shown: tuple[float, ...],
    targets: tuple[float, ...],
    rows: list[MoleculeDemoRow],
    trained_js: dict[str, float],
    trained_frames: int,
    ess: dict[float, float],
    reference: RamachandranReference,
    n_generated: int,
    path: Path,
) -> Path:
    """Ramachandran free-energy maps: rows = methods, columns = temperatures."""
    import matplotlib.pyplot as plt

    from .report.figures import save_figure

    js = {(r.method, r.temperature): r.js_to_reference for r in rows}
    fig, axes = plt.subplots(
        len(METHODS),
        len(shown),
        figsize=(3.7 * len(shown) + 1.2, 3.6 * len(METHODS) + 0.8),
        constrained_layout=True,
        squeeze=False,
    )
    image = None
    for col, t in enumerate(shown):
        trained = t not in targets
        for row, method in enumerate(METHODS):
            ax = axes[row, col]
            score = trained_js.get(method) if trained else js[method, t]
            if method == "reference":
                title = (
                    f"REMD training data, {t:.0f} K (trained)\n{trained_frames:,} frames"
                    if trained
                    else f"reference, {t:.0f} K (held out)\n{reference.n_runs} runs x "
                    f"{reference.ns_per_replica:g} ns, 10-temperature REMD"
                )
            elif method == "mbar":
                title = f"MBAR, {t:.0f} K\nJS {score:.4f}, ESS {ess[t]:,.0f}"
            else:
                title = f"diffusion model, {t:.0f} K\nJS {score:.4f}, {n_generated:,} samples"
            image = _free_energy_map(ax, maps[method, t], t, title)
            ax.set_xlabel(r"$\phi$ (degrees)" if row == len(METHODS) - 1 else "")
            ax.set_ylabel(r"$\psi$ (degrees)" if col == 0 else "")
    ladder = ", ".join(f"{t:.0f}" for t in TRAINING_LADDER)
    fig.suptitle(
        f"Alanine dipeptide (vacuum): MBAR and the diffusion model from REMD at {ladder} K; "
        f"held out: {', '.join(f'{t:.0f}' for t in targets)} K\n"
        f"JS: Jensen-Shannon divergence (nats) of the {BINS} x {BINS} phi/psi histogram to the "
        f"reference (at {TRAINED_TEMPERATURE:.0f} K: to the REMD data); ESS: MBAR's effective "
        "sample size; dashed: state boundaries",
        fontsize=10,
    )
    fig.colorbar(image, ax=axes, label="free energy $-k_B T \\ln p$ (kJ/mol)", shrink=0.6)
    return save_figure(fig, path)


def _free_energy_map(ax: Any, probability: np.ndarray, temperature: float, title: str) -> Any:
    """F = -k_B T ln p in kJ/mol, zero at the minimum, on phi/psi axes in degrees."""
    from .report.figures import draw_free_energy

    edges = np.linspace(-180.0, 180.0, BINS + 1)
    kt = KB_KJ_PER_MOL_K * temperature
    image = draw_free_energy(ax, edges, edges, probability, kt, FES_VMAX)
    style = {"color": "0.45", "lw": 0.8, "ls": "--"}
    ax.axvline(0.0, **style)
    for psi in ALPHA_R_PSI_DEGREES:
        ax.plot([-180.0, 0.0], [psi, psi], **style)
    ticks = [-180, -90, 0, 90, 180]
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    return image
