"""Population curves: the populations of S states at K temperatures, each with an interval.

A :class:`PopulationCurve` checks its arrays on construction, reads and writes them as CSV
(columns :func:`curve_columns`) and fits the van 't Hoff melting curve of one state.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import norm

from thermogen.analysis.melting import VantHoffFit, fit_van_t_hoff
from thermogen.errors import InputError, UsageError
from thermogen.fileio import atomic_write
from thermogen.units import TEMPERATURE_UNITS

__all__ = ["PopulationCurve", "curve_columns", "state_index"]

SIGMA_FLOOR = 1e-3
"""Smallest standard error given to a population in :meth:`PopulationCurve.van_t_hoff`, so a
point whose interval has zero width (every sample agrees) keeps a finite weight."""
_SUM_TOLERANCE = 1e-6
"""Largest allowed deviation from 1 of the populations' sum at one temperature."""
_BOUNDS = (("population", ""), ("low", "_lo"), ("high", "_hi"))
"""The (K, S) arrays of a :class:`PopulationCurve` and the suffix of their CSV columns."""


class _CurveFieldError(ValueError):
    """A :class:`PopulationCurve` value that breaks its rule; ``column`` is its CSV column."""

    def __init__(self, column: str | None, problem: str) -> None:
        self.column, self.problem = column, problem
        super().__init__(problem)


def state_index(state: int, n_states: int) -> int:
    """``state`` as an int, or :class:`~thermogen.errors.UsageError` unless it is in 0..S-1."""
    if isinstance(state, bool | np.bool_) or not isinstance(state, int | np.integer):
        raise UsageError(f"a state is a whole number 0 to {n_states - 1}, got {state!r}")
    if not 0 <= state < n_states:
        raise UsageError(
            f"state {state} does not exist: there are {n_states} states, "
            f"numbered 0 to {n_states - 1}"
        )
    return int(state)


def curve_columns(n_states: int) -> list[str]:
    """CSV header of a curve with S states: temperature, state_0, state_0_lo, state_0_hi, ..."""
    return ["temperature"] + [
        f"state_{s}{suffix}" for s in range(n_states) for _, suffix in _BOUNDS
    ]


def _checked_curve_arrays(
    temperature: np.ndarray, population: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Read-only float copies: temperature (K,) increasing, the others (K, S) probabilities."""
    t = np.array(temperature, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise _CurveFieldError(
            "temperature", f"temperature must be a non-empty 1-D array, got shape {t.shape}"
        )
    if not (np.all(np.isfinite(t)) and np.all(t > 0)):
        raise _CurveFieldError("temperature", "temperatures must be finite and positive")
    if np.any(np.diff(t) <= 0):
        raise _CurveFieldError("temperature", "temperatures must be strictly increasing")
    arrays = [np.array(a, dtype=float) for a in (population, low, high)]
    shape = arrays[0].shape
    if len(shape) != 2 or shape[0] != t.size or shape[1] == 0:
        raise _CurveFieldError(
            None,
            f"population must have shape (K, S) with K = {t.size} temperatures and S >= 1 "
            f"states, got {shape}",
        )
    for (name, suffix), a in zip(_BOUNDS, arrays, strict=True):
        if a.shape != shape:
            raise _CurveFieldError(
                None, f"{name} must have the shape of population {shape}, got {a.shape}"
            )
        bad = np.argwhere(~(np.isfinite(a) & (a >= 0) & (a <= 1)))
        if bad.size:
            k, s = bad[0]
            raise _CurveFieldError(
                f"state_{s}{suffix}",
                f"{name} of state {s} at T = {t[k]:g} is {a[k, s]:g}, not a probability in [0, 1]",
            )
    population, low, high = arrays
    sums = population.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1) > _SUM_TOLERANCE)
    if off.size:
        k = off[0]
        raise _CurveFieldError(None, f"the populations at T = {t[k]:g} sum to {sums[k]:.9g}, not 1")
    empty = np.argwhere(low > high)
    if empty.size:
        k, s = empty[0]
        raise _CurveFieldError(
            f"state_{s}_lo",
            f"the interval of state {s} at T = {t[k]:g} is empty: low {low[k, s]:g} > high {high[k, s]:g}",
        )
    for a in (t, *arrays):
        a.setflags(write=False)
    return (t, *arrays)


@dataclass(frozen=True, eq=False)
class PopulationCurve:
    """Populations of S states at K temperatures, each with an interval.

    Attributes
    ----------
    temperature
        (K,) strictly increasing positive temperatures, in ``temperature_unit``.
    population
        (K, S) state populations; each row sums to 1.
    low, high
        (K, S) lower and upper ends of the ``confidence`` interval of each population.
    confidence
        Coverage of the intervals, in (0, 1).
    temperature_unit
        ``"K"`` (Kelvin; enthalpies of :meth:`van_t_hoff` in kJ/mol) or ``"reduced"``
        (k_B = 1; enthalpies in reduced energy units).

    Raises
    ------
    ValueError
        If a shape or value breaks the rules above.
    """

    temperature: np.ndarray
    population: np.ndarray
    low: np.ndarray
    high: np.ndarray
    confidence: float = 0.95
    temperature_unit: str = "K"

    def __post_init__(self) -> None:
        checked = _checked_curve_arrays(self.temperature, self.population, self.low, self.high)
        for name, value in zip(("temperature", "population", "low", "high"), checked, strict=True):
            object.__setattr__(self, name, value)
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must lie in (0, 1), got {self.confidence!r}")
        if self.temperature_unit not in TEMPERATURE_UNITS:
            raise ValueError(
                f"temperature_unit must be one of {TEMPERATURE_UNITS}, got {self.temperature_unit!r}"
            )

    @property
    def n_states(self) -> int:
        """Number of states S."""
        return self.population.shape[1]

    def default_folded_state(self) -> int:
        """The state most populated at the lowest temperature (the folded state of a melt)."""
        return int(np.argmax(self.population[0]))

    def check_state(self, state: int) -> int:
        """``state`` as an int, or :class:`~thermogen.errors.UsageError` if it is not 0..S-1."""
        return state_index(state, self.n_states)

    def van_t_hoff(self, state: int, seed: int = 0, *, n_boot: int = 1000) -> VantHoffFit:
        """Van 't Hoff fit of the population of ``state`` over temperature.

        Each population is weighted by the standard error its interval implies for a normal
        distribution, (high - low) / (2 z) with z the two-sided ``confidence`` quantile, floored
        at :data:`SIGMA_FLOOR`; the same errors drive the fit's parametric bootstrap.

        Parameters
        ----------
        state
            Which state's population to fit, 0..S-1 (the folded state gives dH > 0).
        seed
            Seed of the bootstrap.
        n_boot
            Bootstrap replicates of the fit.

        Returns
        -------
        VantHoffFit
            Tm (``temperature_unit``) and dH (kJ/mol for Kelvin, reduced energy otherwise),
            with intervals at the curve's ``confidence``.

        Raises
        ------
        UsageError
            If ``state`` is not one of the curve's states.
        ValueError
            If the population never crosses 0.5, there are fewer than 3 temperatures or the fit
            does not converge.
        """
        state = self.check_state(state)
        z = norm.ppf(0.5 + self.confidence / 2)
        sigma = np.maximum((self.high[:, state] - self.low[:, state]) / (2 * z), SIGMA_FLOOR)
        return fit_van_t_hoff(
            self.temperature,
            self.population[:, state],
            sigma=sigma,
            temperature_unit=self.temperature_unit,
            n_boot=n_boot,
            confidence=self.confidence,
            seed=seed,
        )

    def write_csv(self, path: str | Path) -> Path:
        """Write the curve atomically as CSV with columns :func:`curve_columns` (S states).

        Numbers are written in their shortest exact form, so :meth:`read_csv` restores them
        bit for bit. The unit and the confidence are not stored in the file.
        """
        path = Path(path)
        bounds = np.stack([self.population, self.low, self.high], axis=2)  # (K, S, 3)
        table = np.column_stack([self.temperature, bounds.reshape(self.temperature.size, -1)])
        with atomic_write(path) as tmp, tmp.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(curve_columns(self.n_states))
            writer.writerows([repr(float(v)) for v in row] for row in table)
        return path

    @classmethod
    def read_csv(
        cls, path: str | Path, *, confidence: float = 0.95, temperature_unit: str = "K"
    ) -> PopulationCurve:
        """The curve in a CSV file written by :meth:`write_csv`.

        Parameters
        ----------
        path
            The CSV file: a header ``temperature, state_0, state_0_lo, state_0_hi, ...`` and one
            row per temperature.
        confidence, temperature_unit
            Of the intervals and the temperatures (the file does not store them).

        Raises
        ------
        InputError
            One line naming the file and the column at fault, for a missing or unreadable file,
            a wrong header, a cell that is not a number, or values that break the rules of
            :class:`PopulationCurve`.
        """
        path = Path(path)
        lines = _csv_lines(path)
        header = [cell.strip() for cell in lines[0][1]]
        _check_curve_header(path, header)
        if len(lines) < 2:
            raise InputError(path, None, "has a header but no rows")
        table = np.array([_csv_numbers(path, header, line, row) for line, row in lines[1:]])
        n_states = (len(header) - 1) // 3
        bounds = table[:, 1:].reshape(-1, n_states, 3)
        try:
            return cls(
                table[:, 0],
                bounds[..., 0],
                bounds[..., 1],
                bounds[..., 2],
                confidence=confidence,
                temperature_unit=temperature_unit,
            )
        except _CurveFieldError as err:
            raise InputError(path, err.column, err.problem) from None


def _csv_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of the non-blank lines of a CSV file; at least the header."""
    if not path.is_file():
        raise InputError(path, None, "does not exist" if not path.exists() else "is not a file")
    try:
        with path.open(newline="") as handle:
            reader = csv.reader(handle)
            lines = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(path, None, f"cannot be read as CSV ({err})") from None
    if not lines:
        raise InputError(path, None, "is empty: expected a header " + ", ".join(curve_columns(1)))
    return lines


def _check_curve_header(path: Path, header: list[str]) -> None:
    """Raise InputError naming the first column that is missing or misnamed."""
    expected = curve_columns(max(1, -(-(len(header) - 1) // 3)))
    layout = ", ".join(curve_columns(2)) + ", ..."
    for index, name in enumerate(expected):
        if index >= len(header):
            raise InputError(path, name, f"column is missing (the columns are {layout})")
        if header[index] != name:
            raise InputError(
                path,
                name,
                f"expected as column {index + 1}, found {header[index]!r} (the columns are {layout})",
            )


def _csv_numbers(path: Path, header: list[str], line: int, row: list[str]) -> list[float]:
    """The cells of one data row as floats (InputError naming the line and column)."""
    if len(row) != len(header):
        raise InputError(
            path, None, f"line {line} has {len(row)} values, the header has {len(header)} columns"
        )
    numbers = []
    for name, cell in zip(header, row, strict=True):
        try:
            numbers.append(float(cell))
        except ValueError:
            raise InputError(path, name, f"line {line}: {cell!r} is not a number") from None
    return numbers
