"""Melting curves: state populations with intervals over a temperature range, and the van 't
Hoff fit of one state's curve."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.melting import VantHoffFit
from ..analysis.populations import PopulationCurve, state_index
from ..errors import InputError, UsageError
from ..models import load_run
from ..models.protocol import POPULATION_CURVE
from ..provenance import run_record, write_json
from ..simulate.ladder import geometric_ladder
from ..tables import unit_names

__all__ = ["CONFIDENCE", "MeltResult", "melt_model"]

CONFIDENCE = 0.95
"""Coverage of the intervals that ``thermogen melt`` reports and writes."""


@dataclass(frozen=True)
class MeltResult:
    """A population curve, its van 't Hoff fit and the files written.

    Attributes
    ----------
    curve
        Populations of every state with intervals.
    state, chosen
        The state whose curve was fitted, and how it was chosen (in words).
    fit
        The van 't Hoff fit (None when the curve has no transition in range).
    failure
        Why there is no fit.
    out, table, figure, record
        The output folder, ``populations.csv``, ``melting.png`` and ``melt.run.json``.
    """

    curve: PopulationCurve
    state: int
    chosen: str
    fit: VantHoffFit | None
    failure: str | None
    out: Path
    table: Path
    figure: Path
    record: Path

    def no_fit(self) -> UsageError:
        """The error to report when the curve has no transition in range (``fit`` is None)."""
        unit = unit_names(self.curve.temperature_unit)[0]
        low, high = self.curve.temperature[[0, -1]]
        return UsageError(
            f"no melting transition of state {self.state} between T = {low:g} and "
            f"{high:g} {unit}: {self.failure} (populations written to {self.table})"
        )

    def summary(self) -> str:
        """What ``thermogen melt`` prints (the fit's Tm and dH with intervals)."""
        unit, dh_unit = unit_names(self.curve.temperature_unit)
        fit = self.fit
        if fit is None:
            return str(self.no_fit())
        return "\n".join(
            [
                f"melting curve of state {self.state} ({self.chosen}), {CONFIDENCE:.0%} intervals:",
                f"  Tm = {fit.tm:.4g} {unit}  [{fit.tm_interval[0]:.4g}, {fit.tm_interval[1]:.4g}]",
                f"  dH = {fit.dh:.4g} {dh_unit}  [{fit.dh_interval[0]:.4g}, {fit.dh_interval[1]:.4g}]",
                f"wrote {self.table.name}, {self.figure.name} and melt.run.json to {self.out}",
            ]
        )


def melt_model(
    run_dir: str | Path,
    tmin: float,
    tmax: float,
    out: str | Path,
    *,
    num: int = 25,
    state: int | None = None,
    bootstrap: int = 200,
    seed: int = 0,
) -> MeltResult:
    """Populations of every state at ``num`` temperatures from ``tmin`` to ``tmax`` (geometric,
    in the model's unit) with :data:`CONFIDENCE` intervals, and the van 't Hoff fit of
    ``state`` (default: the most populated at ``tmin``); writes ``populations.csv``,
    ``melting.png`` and ``melt.run.json`` to ``out``."""
    from ..report.figures import plot_melting_curve, save_figure

    _check_request(tmin, tmax, num, bootstrap)
    model = load_run(run_dir, POPULATION_CURVE, "melt")
    if state is not None:
        state_index(state, model.n_states)
    curve = model.population_curve(
        geometric_ladder(tmin, tmax, num), n_bootstrap=bootstrap, confidence=CONFIDENCE, seed=seed
    )
    out = _output_folder(out)
    table = curve.write_csv(out / "populations.csv")
    if state is None:
        chosen_state = curve.default_folded_state()
        unit = unit_names(curve.temperature_unit)[0]
        chosen = f"the most populated at T = {curve.temperature[0]:.4g} {unit}"
    else:
        chosen_state, chosen = state, "chosen with --state"
    try:
        fit, failure = curve.van_t_hoff(chosen_state, seed=seed), None
    except ValueError as err:
        fit, failure = None, str(err)
    figure = save_figure(plot_melting_curve(curve, chosen_state, fit), out / "melting.png")
    settings = {"run_dir": str(run_dir), "temperatures": curve.temperature, "bootstrap": bootstrap}
    results = _results(curve, chosen_state, chosen, fit, failure, [table.name, figure.name])
    record = write_json(
        out / "melt.run.json", run_record("melt", {**settings, "state": state}, seed, results)
    )
    return MeltResult(curve, chosen_state, chosen, fit, failure, out, table, figure, record)


def _check_request(tmin: float, tmax: float, num: int, bootstrap: int) -> None:
    if not (np.isfinite(tmin) and np.isfinite(tmax) and 0 < tmin < tmax):
        raise UsageError(f"need 0 < --tmin < --tmax, got --tmin {tmin:g} --tmax {tmax:g}")
    if num < 3:
        raise UsageError(
            f"--num must be at least 3 (a van 't Hoff fit needs 3 temperatures), got {num}"
        )
    if bootstrap < 2:
        raise UsageError(f"--bootstrap must be at least 2, got {bootstrap}")


def _output_folder(out: str | Path) -> Path:
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(
            out, None, f"cannot be used as the output folder ({err.strerror or err})"
        ) from None
    return out


def _results(
    curve: PopulationCurve,
    state: int,
    chosen: str,
    fit: VantHoffFit | None,
    failure: str | None,
    files: list[str],
) -> dict[str, Any]:
    """The record's results: the state fitted, units, and Tm and dH with their intervals."""
    units = unit_names(curve.temperature_unit)
    results: dict[str, Any] = {
        "state": state,
        "state_choice": chosen,
        "n_states": curve.n_states,
        "temperature_unit": units[0],
        "dh_unit": units[1],
        "confidence": CONFIDENCE,
        "files": files,
        "fit_error": failure,
    }
    if fit is not None:
        results.update(
            tm=fit.tm,
            tm_interval=fit.tm_interval,
            tm_std_error=fit.tm_std_error,
            dh=fit.dh,
            dh_interval=fit.dh_interval,
            dh_std_error=fit.dh_std_error,
        )
    return results
