"""Thermodynamics: learned CVs and state populations (SPIB/LaTF), the LaTF melting curve with
Tm and dH, and the heat capacity from MBAR."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..analysis.histograms import histogram_ranges
from ..analysis.melting import VantHoffFit
from ..analysis.populations import PopulationCurve
from ..data.dataset import MultiTempDataset
from ..models.protocol import POPULATION_CURVE, POPULATIONS
from .fes import fes_row
from .figures import METHOD_STYLE, plot_melting_curve, temperature_axis_label, unit_text
from .page import Page
from .thresholds import ESS_WARNING

__all__ = [
    "MELTING_RANGE",
    "cv_section",
    "heat_capacity_parts",
    "mbar_disagreement",
    "melting_parts",
    "reference_heat_capacity",
]

MELTING_RANGE = (0.8, 1.25)
"""The melting curve spans these factors times the lowest and highest trained temperatures."""
_MELTING_POINTS = 25


def _data_fractions(labels: np.ndarray, ds: MultiTempDataset, n_states: int) -> np.ndarray:
    """(K, S) fraction of the data's frames in each state at each trained temperature."""
    counts = np.stack(
        [np.bincount(labels[ds.temperature == t], minlength=n_states) for t in ds.temperatures]
    ).astype(float)
    return counts / counts.sum(1, keepdims=True)


def cv_section(page: Page, model: Any, ds: MultiTempDataset, mbar: Any) -> None:
    """SPIB/LaTF: free energy of the data on the learned CVs and state populations vs T."""
    import matplotlib.pyplot as plt

    from .figures import plot_populations_vs_temperature

    cv, labels = model.transform(ds.features)
    n_states = int(model.n_states)
    unit = ds.temperature_unit
    temps = ds.temperatures
    parts = [
        f"<p>The data mapped onto the {cv.shape[1]} learned collective variable(s) of the "
        f"{model.kind} model, which finds {n_states} metastable states.</p>"
    ]
    page.key("states found", str(n_states))
    if cv.shape[1] >= 2:
        shown = temps[:4]
        parts.append(
            fes_row(
                page,
                [(f"data, T = {t:.4g}", cv[ds.temperature == t], None) for t in shown],
                histogram_ranges(cv[:, :2]),
                np.zeros(2, dtype=bool),
                [f"CV {i + 1} (dimensionless)" for i in range(2)],
                [float(ds.thermal_energy(float(t))) for t in shown],
                ds.energy_unit,
                "fes_cv",
                "Free energy of the data on the first two learned CVs"
                + (" (first four temperatures)." if temps.size > 4 else "."),
                methods=["simulation"] * shown.size,
            )
        )
    fractions = _data_fractions(labels, ds, n_states)
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {
        "simulation": (temps, fractions, None)
    }
    grid = np.geomspace(temps.min(), temps.max(), 25)
    if model.can(POPULATIONS):
        curves[model.kind] = (grid, model.populations(grid), None)
    if mbar is not None:
        _, mbar_labels = model.transform(mbar.dataset.features)
        est = mbar.populations(mbar_labels, n_states, grid[::3])
        curves["mbar"] = (grid[::3], est.value, est.std_error)
    fig, ax = plt.subplots(figsize=(5.5, 3.6), constrained_layout=True)
    plot_populations_vs_temperature(
        ax,
        [str(s) for s in range(n_states)],
        curves,
        temperature_axis_label(unit),
        simulated_temperatures=temps,
        as_lines=(model.kind,),
    )
    parts.append(
        page.figure(
            fig,
            "populations",
            "State populations versus temperature: fractions of data frames per state at each "
            "trained temperature"
            + (f", the {model.kind} model's populations" if model.can(POPULATIONS) else "")
            + (", and MBAR's reweighting with one-sigma errors" if mbar is not None else "")
            + ".",
        )
    )
    header = [f"temperature ({unit})"] + [f"state {s} (data fraction)" for s in range(n_states)]
    rows = [[t, *row] for t, row in zip(temps, fractions, strict=True)]
    parts.append(page.table("populations_data", header, rows))
    page.section("Learned collective variables and states", *parts)


def _melting_curve(model: Any, grid: np.ndarray, seed: int) -> tuple[PopulationCurve, str]:
    """LaTF populations with bootstrap intervals (or without, for other temperature couplings)."""
    if model.can(POPULATION_CURVE):
        return model.population_curve(grid, seed=seed), ""
    pops = model.populations(grid)
    curve = PopulationCurve(grid, pops, pops, pops, temperature_unit=model.temperature_unit)
    return curve, (
        " This model's temperature coupling gives no population intervals, so the band is "
        "empty and no van 't Hoff fit is made."
    )


def _fit(curve: PopulationCurve, state: int, seed: int) -> tuple[VantHoffFit | None, str]:
    """Van 't Hoff fit of ``state`` (``None`` and the reason when it cannot be made)."""
    try:
        return curve.van_t_hoff(state, seed=seed), ""
    except ValueError as err:
        return None, f" No van 't Hoff fit: {err}."


def melting_parts(page: Page, model: Any, ds: MultiTempDataset, mbar: Any, seed: int) -> list[str]:
    """LaTF melting curve of the folded state with its interval, Tm and dH, and MBAR beside it.

    The curve spans :data:`MELTING_RANGE` around the trained temperatures (LaTF extrapolates in
    temperature through its prior); MBAR points are drawn where their effective sample size is
    at least :data:`~thermogen.report.thresholds.ESS_WARNING` frames.
    """
    import matplotlib.pyplot as plt

    unit = ds.temperature_unit
    temps = ds.temperatures
    grid = np.geomspace(
        MELTING_RANGE[0] * temps.min(), MELTING_RANGE[1] * temps.max(), _MELTING_POINTS
    )
    curve, interval_note = _melting_curve(model, grid, seed)
    folded = curve.default_folded_state()
    fit, fit_note = _fit(curve, folded, seed) if not interval_note else (None, "")
    fig, ax = plt.subplots(figsize=(6.0, 4.0), constrained_layout=True)
    plot_melting_curve(curve, folded, fit, ax=ax)
    _, labels = model.transform(ds.features)
    _plot_data_fractions(ax, temps, _data_fractions(labels, ds, curve.n_states)[:, folded])
    header = [f"temperature ({unit})"] + [
        f"state {s} {col}" for s in range(curve.n_states) for col in ("LaTF", "low", "high")
    ]
    rows_values = np.stack([curve.population, curve.low, curve.high], axis=2).reshape(grid.size, -1)
    if mbar is not None:
        columns, values = _mbar_melting(page, ax, model, mbar, curve, folded, temps)
        header += columns
        rows_values = np.column_stack([rows_values, values])
    for t in temps:
        ax.axvline(t, color="0.75", lw=0.8, ls=":", zorder=0)
    ax.legend(frameon=False, loc="best")
    figure = page.figure(
        fig,
        "melting_curve",
        f"Melting curve: LaTF population of the folded state (state {folded}, the most "
        f"populated at the lowest temperature) with its {curve.confidence:.0%} interval band, "
        "the van 't Hoff fit and Tm, the data's direct fractions at the trained temperatures "
        "(dotted lines)"
        + (" and MBAR populations of the same learned states" if mbar else "")
        + ".",
    )
    page.offer_headline(figure, 3)
    parts = [
        "<p>LaTF state populations from its temperature-steerable prior over "
        f"{grid[0]:.4g}-{grid[-1]:.4g} {unit_text(unit)}, with bootstrap intervals over the training "
        f"trajectories.{interval_note}{fit_note}</p>",
        figure,
        page.table(
            "melting_curve", header, [[t, *r] for t, r in zip(grid, rows_values, strict=True)]
        ),
    ]
    if fit is not None:
        parts.append(_fit_table(page, fit, folded, unit))
    return parts


def _plot_data_fractions(ax: Any, temps: np.ndarray, folded_fraction: np.ndarray) -> None:
    """The data's direct fraction of frames in the folded state at each trained temperature."""
    sim = METHOD_STYLE["simulation"]
    ax.plot(
        temps,
        folded_fraction,
        ls="none",
        marker=str(sim["marker"]),
        color=str(sim["color"]),
        ms=6,
        label="data (direct)",
    )


def _mbar_melting(
    page: Page,
    ax: Any,
    model: Any,
    mbar: Any,
    curve: PopulationCurve,
    folded: int,
    temps: np.ndarray,
) -> tuple[list[str], np.ndarray]:
    """MBAR populations of the model's learned states on the curve's grid, drawn where their
    ESS suffices, with a warning where they disagree inside the trained range; the table's
    extra columns and values."""
    grid, n_states = curve.temperature, curve.n_states
    _, mbar_labels = model.transform(mbar.dataset.features)
    est = mbar.populations(mbar_labels, n_states, grid)
    ok = est.effective_sample_size >= ESS_WARNING
    style = METHOD_STYLE["mbar"]
    ax.errorbar(
        grid[ok],
        est.value[ok, folded],
        yerr=1.96 * est.std_error[ok, folded],
        ls="none",
        marker=str(style["marker"]),
        color=str(style["color"]),
        ms=4,
        capsize=2,
        label="MBAR (95%, ESS ≥ 100)",
    )
    inside = ok & (grid >= temps.min()) & (grid <= temps.max())
    off = mbar_disagreement(curve, est.value, est.std_error, folded, inside)
    if off.any():
        page.warnings.append(
            f"LaTF's population of state {folded} disagrees with MBAR on the same learned "
            f"states at {int(off.sum())} of {int(inside.sum())} temperatures inside the "
            f"trained range (by up to {np.abs(curve.population - est.value)[off, folded].max():.2f}"
            "): the melting curve, Tm and dH of the model are not reliable there."
        )
    columns = [f"state {s} MBAR" for s in range(n_states)]
    columns += [f"state {s} MBAR std error" for s in range(n_states)]
    columns.append("MBAR effective sample size (frames)")
    return columns, np.column_stack([est.value, est.std_error, est.effective_sample_size])


def mbar_disagreement(
    curve: PopulationCurve,
    mbar_value: np.ndarray,
    mbar_error: np.ndarray,
    state: int,
    usable: np.ndarray,
    tolerance: float = 0.05,
) -> np.ndarray:
    """(K,) where MBAR's population of ``state`` lies outside the model's interval by more than
    ``tolerance`` (absolute) and three MBAR standard errors, among the ``usable`` temperatures."""
    value, error = mbar_value[:, state], mbar_error[:, state]
    gap = np.maximum(curve.low[:, state] - value, value - curve.high[:, state])
    return usable & (gap > np.maximum(tolerance, 3.0 * error))


def _fit_table(page: Page, fit: VantHoffFit, state: int, unit: str) -> str:
    """Tm and dH of the van 't Hoff fit with intervals and units; also in the summary box."""
    energy = "kJ/mol" if unit == "K" else "reduced energy units"
    conf = f"{fit.confidence:.0%}"
    rows = [
        ["melting temperature Tm", fit.tm, *fit.tm_interval, fit.tm_std_error, unit_text(unit)],
        ["unfolding enthalpy dH", fit.dh, *fit.dh_interval, fit.dh_std_error, energy],
    ]
    page.key(
        "melting (LaTF)",
        f"Tm = {fit.tm:.4g} [{fit.tm_interval[0]:.4g}, {fit.tm_interval[1]:.4g}] {unit_text(unit)}, "
        f"dH = {fit.dh:.3g} [{fit.dh_interval[0]:.3g}, {fit.dh_interval[1]:.3g}] {energy}",
    )
    header = ["quantity", "value", f"{conf} low", f"{conf} high", "std error", "unit"]
    return (
        f"<p>Van 't Hoff fit of state {state}'s population: p(T) = 1 / (1 + "
        "exp[-dH/R (1/T - 1/Tm)]).</p>" + page.table("melting_fit", header, rows)
    )


def _reference_heat_capacity(
    page: Page, ax: Any, reference: MultiTempDataset, reference_kind: str
) -> str:
    """The reference frames' own C_v with standard errors: drawn on ``ax``, and its table."""
    ref_cv, ref_err = reference_heat_capacity(reference)
    ref_style = METHOD_STYLE[reference_kind]
    label = str(ref_style["label"])
    ax.errorbar(
        reference.temperatures,
        ref_cv,
        yerr=ref_err,
        ls="none",
        marker="s",
        mfc="white",
        ms=6,
        capsize=2,
        color=str(ref_style["color"]),
        label=f"{label} frames",
    )
    return page.table(
        "heat_capacity_reference",
        [
            f"temperature ({reference.temperature_unit})",
            f"C_v of the {label} frames (k_B)",
            "standard error (k_B)",
        ],
        [list(r) for r in zip(reference.temperatures, ref_cv, ref_err, strict=True)],
    )


def reference_heat_capacity(reference: MultiTempDataset) -> tuple[np.ndarray, np.ndarray]:
    """C_v = Var(U) / (k_B T)^2 (units of k_B) of reference frames at each of their temperatures,
    with its standard error sqrt((m4 - s^4) / n) / (k_B T)^2 for independent frames."""
    values, errors = [], []
    for t in reference.temperatures:
        u = reference.energy[reference.temperature == t]
        kt2 = float(reference.thermal_energy(float(t))) ** 2
        centred = u - u.mean()
        var = float(np.mean(centred**2))
        values.append(var / kt2)
        errors.append(float(np.sqrt(max(np.mean(centred**4) - var**2, 0.0) / u.size)) / kt2)
    return np.array(values), np.array(errors)


def heat_capacity_parts(
    page: Page,
    mbar: Any,
    dataset: MultiTempDataset,
    targets: np.ndarray,
    reference: MultiTempDataset | None = None,
    reference_kind: str = "reference",
) -> list[str]:
    """C_v(T) from MBAR over the trained range and the targets, with the ESS alongside, and the
    reference's own C_v at its temperatures when it carries energies."""
    import matplotlib.pyplot as plt

    temps = dataset.temperatures
    low = min(temps.min(), targets.min()) if targets.size else temps.min()
    high = max(temps.max(), targets.max()) if targets.size else temps.max()
    grid = np.unique(np.concatenate([np.geomspace(low, high, 40), temps, targets]))
    cv = mbar.heat_capacity(grid)
    ess = np.array([mbar.effective_sample_size(t) for t in grid])
    fig, ax = plt.subplots(figsize=(5.5, 3.4), constrained_layout=True)
    style = METHOD_STYLE["mbar"]
    ok = ess >= ESS_WARNING
    ax.plot(grid, cv, color=style["color"], lw=1.2, label=str(style["label"]))
    ax.plot(grid[ok], cv[ok], color=style["color"], marker=style["marker"], ls="none", ms=3)
    if (~ok).any():
        ax.plot(
            grid[~ok],
            cv[~ok],
            color="0.6",
            marker="x",
            ls="none",
            ms=4,
            label=f"ESS < {ESS_WARNING:.0f} (unreliable)",
        )
    for t in temps:
        ax.axvline(t, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel(temperature_axis_label(dataset.temperature_unit))
    ax.set_ylabel("C$_v$ (units of k$_B$)")
    rows = [[t, c, e] for t, c, e in zip(grid, cv, ess, strict=True)]
    extra = []
    if reference is not None and reference.has_energy:
        extra.append(_reference_heat_capacity(page, ax, reference, reference_kind))
    ax.legend(frameon=False)
    return [
        "<p>Configurational heat capacity C<sub>v</sub> = (&lt;U<sup>2</sup>&gt; - "
        "&lt;U&gt;<sup>2</sup>) / (k<sub>B</sub>T<sup>2</sup>) from MBAR, in units of "
        "k<sub>B</sub>; grey lines mark the trained temperatures.</p>",
        page.figure(fig, "heat_capacity", "Heat capacity from MBAR."),
        page.table(
            "heat_capacity",
            [
                f"temperature ({dataset.temperature_unit})",
                "C_v (k_B)",
                "MBAR effective sample size (frames)",
            ],
            rows,
            folded=f"C_v table ({len(rows)} temperatures)",
        ),
        *extra,
    ]
