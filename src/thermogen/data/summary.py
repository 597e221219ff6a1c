"""A readable, multi-line summary of a :class:`MultiTempDataset` (``thermogen info``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..units import boltzmann_constant
from .dataset import MultiTempDataset

__all__ = ["describe"]


def describe(ds: MultiTempDataset) -> str:
    """Summarise a dataset: size, units, frames per temperature, features, trajectories, energy.

    Parameters
    ----------
    ds
        N frames of D features.

    Returns
    -------
    str
        Several lines of plain text, no trailing newline.
    """
    sections = [
        _overview(ds),
        _temperature_table(ds),
        _feature_table(ds),
        [_trajectory_line(ds), _energy_line(ds)],
    ]
    return "\n\n".join("\n".join(lines) for lines in sections)


def _overview(ds: MultiTempDataset) -> list[str]:
    """Source, size and units."""
    return [
        f"source:   {ds.source}",
        f"frames:   {ds.n_frames}",
        f"features: {ds.n_features}",
        f"units:    {_units(ds)}",
    ]


def _units(ds: MultiTempDataset) -> str:
    """Temperature and energy units with the k_B convention that links them."""
    if ds.temperature_unit == "reduced":
        return "reduced (k_B = 1: temperatures are energies)"
    k_b = boltzmann_constant(ds.temperature_unit)
    return f"temperature K, energy {ds.energy_unit} (k_B = {k_b:.10g} kJ/(mol K))"


def _temperature_table(ds: MultiTempDataset) -> list[str]:
    """Frames per temperature, with energy mean/min/max when energies exist."""
    header = [f"temperature [{ds.temperature_unit}]", "frames"]
    if ds.energy is not None:
        header += ["energy mean", "energy min", "energy max"]
    rows = [_temperature_row(ds, t) for t in ds.temperatures]
    return [f"{len(rows)} temperatures:", *_table(header, rows)]


def _temperature_row(ds: MultiTempDataset, temperature: float) -> list[str]:
    """Cells of one temperature's row: the temperature, frame count and energy statistics."""
    here = ds.temperature == temperature
    row = [f"{temperature:g}", str(int(here.sum()))]
    if ds.energy is not None:
        energy = ds.energy[here]
        row += [_num(energy.mean()), _num(energy.min()), _num(energy.max())]
    return row


def _feature_table(ds: MultiTempDataset) -> list[str]:
    """Name, periodicity and range of every feature (angles in radians)."""
    rows = [
        [name, "yes (rad)" if periodic else "no", _num(column.min()), _num(column.max())]
        for name, periodic, column in zip(ds.feature_names, ds.periodic, ds.features.T, strict=True)
    ]
    header = ["name", "periodic", "min", "max"]
    return [f"{ds.n_features} features:", *_table(header, rows, left=2)]


def _trajectory_line(ds: MultiTempDataset) -> str:
    """Number of trajectories (distinct ``replica`` ids) and their lengths in frames."""
    if ds.replica is None:
        return "trajectories: none (no 'replica' field; frames are not grouped in time)"
    lengths = np.unique(ds.replica, return_counts=True)[1]
    line = (
        f"trajectories: {lengths.size} (frames each: min {lengths.min()}, "
        f"median {np.median(lengths):g}, max {lengths.max()})"
    )
    return line if ds.time is not None else f"{line}; no 'time' field, so no time order"


def _energy_line(ds: MultiTempDataset) -> str:
    """Overall potential-energy range, in the dataset's energy unit."""
    if ds.energy is None:
        return "energy: none"
    return f"energy: {_num(ds.energy.min())} to {_num(ds.energy.max())} {ds.energy_unit}"


def _num(value: float) -> str:
    """A number in at most 6 significant digits."""
    return f"{value:.6g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Lines of an indented text table; the first ``left`` columns left-aligned, others right."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  " + "  ".join(padded).rstrip()

    return [line(header), *(line(row) for row in rows)]
