"""A self-contained HTML report of a trained run: data, training, generated vs data, MBAR, a
reference, thermodynamics, warnings.

:func:`write_report` reads a run folder (``model.pt``, ``config.json``, ``train_log.csv``) and,
optionally, the training data and held-out reference frames, and writes one HTML file that opens
offline (PNG figures embedded as base64 data URIs, inline CSS, no external resources). Every
figure is also saved as PNG and every table as CSV in a folder beside the HTML
(``<name>_files/``). The sections live in their own modules: :mod:`.overview`,
:mod:`.training`, :mod:`.comparison`, :mod:`.thermodynamics`; the page in :mod:`.page`.

Units: temperatures are in the data's unit (K or reduced), energies and free energies in the
data's energy unit (kJ/mol or reduced), periodic features in radians, divergences in nats.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import MultiTempDataset
from ..data.io import save_dataset
from ..errors import InputError, UsageError
from ..models.protocol import CONFIGURATIONS, POPULATIONS, TRANSFORM
from .comparison import new_temperature_section
from .exchange import ladder_exchange
from .figures import METHOD_STYLE, PAPER_RC, unit_text
from .inputs import (
    check_temperatures,
    load_reference,
    resolve_data,
    simulation_record,
    subsample,
)
from .overview import data_section
from .page import Page, write_html
from .trained import trained_section
from .training import training_section

__all__ = ["write_report"]

_MAX_FRAMES_PER_TEMPERATURE = 20_000
"""Data frames per temperature kept for figures and histograms (random subsample above it)."""
_MAX_MBAR_FRAMES = 30_000
"""Data frames kept for MBAR in total (random subsample, equal share per temperature)."""
_REFERENCE_KINDS = ("reference", "exact")


def write_report(
    run_dir: str | Path,
    data: str | Path | MultiTempDataset | None = None,
    temperatures: Sequence[float] | None = None,
    out: str | Path = "report.html",
    *,
    samples: str | Path | MultiTempDataset | None = None,
    n_samples: int = 2000,
    seed: int = 0,
    device: str = "cpu",
    reference: str | Path | MultiTempDataset | None = None,
    reference_kind: str = "reference",
) -> Path:
    """Write the HTML report of a trained run (any model kind; sections by capability).

    Parameters
    ----------
    run_dir
        Run folder written by ``thermogen train``.
    data
        The training data (an ``.npz``/``.csv`` file or a dataset). Default: the file named in
        ``config.json`` when it still exists; without data, only the training and generated
        sections are written. A ``<data>.run.json`` beside a data file (written by
        ``thermogen simulate``) supplies swap acceptance and replica round trips.
    temperatures
        New target temperatures, in the data's temperature unit (K or reduced), at which
        generated free-energy surfaces are shown beside MBAR's (MBAR needs energies).
        Default: the reference's temperatures when a reference is given.
    out
        The HTML file to write; figures (PNG), tables (CSV) and the generated samples shown
        (``samples.npz``) go to ``<stem>_files/`` beside it.
    samples
        The generated samples to show (a dataset or a file written by ``thermogen sample``),
        at the trained and target temperatures. Default: ``n_samples`` per temperature drawn
        once, with ``seed`` (and ``device``, for models that take it), for models that generate
        configurations.
    n_samples, seed, device
        How the default samples are drawn; ``seed`` also seeds the data subsampling.
    reference
        Held-out frames (a data file in the training data's format, or a dataset) at some
        target temperatures: shown beside the generated and MBAR maps, with JS divergences of
        both against it and its noise floor.
    reference_kind
        ``"reference"`` (held-out simulation frames) or ``"exact"`` (drawn from the exact
        Boltzmann density): how the reference is labelled in figures and tables.

    Returns
    -------
    Path
        The HTML file.

    Raises
    ------
    InputError
        One line naming the file: a missing or damaged run, data or a reference with other
        features than the model's, or an output that cannot be written.
    """
    import matplotlib.pyplot as plt

    from ..models import RunDir, load_model
    from ..models.registry import generated_by

    started = time.perf_counter()
    run = RunDir(run_dir)
    model = load_model(run_dir)
    context, ref, targets = _inputs(run, model, data, temperatures, reference, reference_kind)
    files_dir = _files_dir(Path(out))
    page = Page(files_dir)
    shown = None
    if model.can(CONFIGURATIONS):
        wanted = np.union1d(context.trained, targets)
        with generated_by(run_dir):
            shown = _samples(model, samples, wanted, n_samples, seed, device)
        save_dataset(shown, files_dir / "samples.npz")
        note = _missing_note(shown, wanted, context.unit)
        page.notes.extend([note] if note else [])
    with plt.rc_context(PAPER_RC):
        _build(page, context, ref, reference_kind, targets, shown, seed)
    dataset = context.dataset
    elapsed = time.perf_counter() - started
    data_line = f" and data <code>{html.escape(dataset.source)}</code>" if dataset else ""
    subtitle = (
        f"Run <code>{html.escape(str(run.path))}</code>{data_line}; written in {elapsed:.1f} s"
    )
    return write_html(Path(out), page, f"thermogen report: {run.path.name}", subtitle)


@dataclass(frozen=True)
class _Context:
    """What every section reads: the run, its model, record and log, the data."""

    run_dir: Path
    model: Any
    record: dict[str, Any]
    history: list[dict[str, Any]]
    dataset: MultiTempDataset | None
    trained: np.ndarray
    unit: str


def _inputs(
    run: Any,
    model: Any,
    data: str | Path | MultiTempDataset | None,
    temperatures: Sequence[float] | None,
    reference: str | Path | MultiTempDataset | None,
    reference_kind: str,
) -> tuple[_Context, MultiTempDataset | None, np.ndarray]:
    """The run's record, log and data, the reference and the target temperatures, checked."""
    record = run.record()
    dataset = resolve_data(data, record, model.feature_names)
    if reference_kind not in _REFERENCE_KINDS:
        raise UsageError(
            f"reference_kind must be one of {_REFERENCE_KINDS}, got {reference_kind!r}"
        )
    ref = load_reference(reference, model.feature_names, model.temperature_unit)
    targets = check_temperatures(temperatures)
    if ref is not None and not targets.size and model.can(CONFIGURATIONS):
        targets = ref.temperatures
    _check_request(model, run.path, dataset, targets)
    trained = _trained_temperatures(dataset, record)
    context = _Context(
        run.path, model, record, run.training_log(), dataset, trained, model.temperature_unit
    )
    return context, ref, targets


def _files_dir(out: Path) -> Path:
    """``<stem>_files/`` beside the HTML, created."""
    files_dir = out.parent / f"{out.stem}_files"
    try:
        files_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(files_dir, None, f"cannot be created ({err.strerror or err})") from None
    return files_dir


def _trained_temperatures(dataset: MultiTempDataset | None, record: dict[str, Any]) -> np.ndarray:
    """The training temperatures: the data's, else the run record's."""
    if dataset is not None:
        return np.asarray(dataset.temperatures, dtype=float)
    return np.asarray(record.get("results", {}).get("temperatures", []), dtype=float)


def _samples(
    model: Any,
    given: str | Path | MultiTempDataset | None,
    wanted: np.ndarray,
    n: int,
    seed: int,
    device: str,
) -> MultiTempDataset:
    """The generated samples to show: ``given`` (checked to be the model's), else drawn once
    at ``wanted``."""
    from ..data import load_dataset

    if given is None:
        options = {"device": device} if "device" in model.sample_options else {}
        return model.sample(wanted, n, seed=seed, **options)
    samples = given if isinstance(given, MultiTempDataset) else load_dataset(given)
    return model.check_compatible(samples)


def _missing_note(samples: MultiTempDataset, wanted: np.ndarray, unit: str) -> str | None:
    """A note naming the temperatures the report would show that the samples do not hold."""
    missing = [t for t in wanted if not np.isclose(samples.temperatures, t, rtol=1e-9).any()]
    if not missing:
        return None
    listed = ", ".join(f"{t:.4g}" for t in missing)
    return (
        f"The generated samples shown ({samples.source}) hold no frames at {listed} "
        f"{unit_text(unit)}, so the generated maps there are left out; sample at those "
        "temperatures too to see them."
    )


def _check_request(
    model: Any, run_dir: Path, dataset: MultiTempDataset | None, targets: np.ndarray
) -> None:
    """Reports of models that learn CVs need data; only generators take target temperatures."""
    if model.can(TRANSFORM) and dataset is None:
        raise InputError(
            run_dir, "data", f"a {model.kind} report shows the data's learned CVs: give --data"
        )
    if targets.size and not model.can(CONFIGURATIONS):
        raise InputError(
            "report",
            "temperatures",
            f"are for models that generate configurations; a {model.kind} report shows "
            "populations over the data's range",
        )


def _build(
    page: Page,
    context: _Context,
    ref: MultiTempDataset | None,
    reference_kind: str,
    targets: np.ndarray,
    generated: MultiTempDataset | None,
    seed: int,
) -> None:
    """Fill ``page``: summary lines, then the sections in reading order."""
    from .thermodynamics import cv_section, heat_capacity_parts, melting_parts

    model, dataset, unit = context.model, context.dataset, context.unit
    rng = np.random.default_rng(seed)
    _summary_keys(page, context, targets, ref, reference_kind)
    mbar = view = None
    if dataset is not None:
        view, mbar = _data_overview(page, dataset, rng)
    else:
        page.notes.append("No data given: data overview, comparisons and MBAR are left out.")
    training_section(page, context.record, context.history, context.run_dir, model.stage_titles)
    at_trained = _at(generated, context.trained)
    if view is not None and at_trained is not None:
        shown = view.subset(np.isin(view.temperature, at_trained.temperatures))
        trained_section(page, at_trained, shown, seed, model.kind)
    if view is not None and model.can(TRANSFORM):
        cv_section(page, model, view, mbar)
    if ref is not None and not model.can(CONFIGURATIONS):
        page.notes.append(
            f"A {model.kind} report uses the reference only for its heat capacity; free-energy "
            "maps are compared with a reference for models that generate configurations."
        )
    at_targets = _at(generated, targets)
    if at_targets is not None:
        energy_unit = dataset.energy_unit if dataset is not None else "reduced units"
        new_temperature_section(
            page,
            at_targets,
            energy_unit,
            mbar,
            ref,
            reference_kind,
            at_targets.temperatures,
            context.trained,
            unit,
            seed,
            model.kind,
        )
    parts: list[str] = []
    if view is not None and model.can(POPULATIONS):
        parts += melting_parts(page, model, view, mbar, seed)
    if mbar is not None:
        parts += heat_capacity_parts(page, mbar, dataset, targets, ref, reference_kind)
    if parts:
        page.section("Thermodynamics", *parts)


def _at(samples: MultiTempDataset | None, temperatures: np.ndarray) -> MultiTempDataset | None:
    """The samples at ``temperatures`` (matched to a relative 1e-9), labelled exactly so;
    None when there are none."""
    if samples is None:
        return None
    chosen = np.zeros(samples.n_frames, dtype=bool)
    labels = samples.temperature.copy()
    for t in temperatures:
        close = np.isclose(samples.temperature, t, rtol=1e-9)
        chosen |= close
        labels[close] = t
    return replace(samples, temperature=labels).subset(chosen) if chosen.any() else None


def _summary_keys(
    page: Page,
    context: _Context,
    targets: np.ndarray,
    ref: MultiTempDataset | None,
    reference_kind: str,
) -> None:
    """The summary box's first lines: run, data, temperatures, reference."""
    dataset, unit = context.dataset, context.unit
    page.key("run", f"{context.run_dir.name} ({context.model.kind} model)")
    if dataset is not None:
        page.key(
            "data",
            f"{dataset.source}: {dataset.n_frames} frames, {dataset.n_features} "
            f"features ({', '.join(dataset.feature_names[:4])}"
            f"{', ...' if dataset.n_features > 4 else ''})",
        )
    page.key("trained temperatures", _temperature_list(context.trained, unit))
    if targets.size:
        page.key("target temperatures", _temperature_list(targets, unit))
    if ref is not None:
        label = str(METHOD_STYLE[reference_kind]["label"])
        page.key(
            label,
            f"{ref.source}: {ref.n_frames} frames at {_temperature_list(ref.temperatures, unit)}",
        )


def _data_overview(
    page: Page, dataset: MultiTempDataset, rng: np.random.Generator
) -> tuple[MultiTempDataset, Any]:
    """The data section; returns the subsample the figures use and MBAR (None without energies)."""
    view = subsample(dataset, _MAX_FRAMES_PER_TEMPERATURE, rng)
    if view.n_frames < dataset.n_frames:
        page.notes.append(
            f"Figures and divergences use a random subsample of at most "
            f"{_MAX_FRAMES_PER_TEMPERATURE} data frames per temperature "
            f"({view.n_frames} of {dataset.n_frames} frames)."
        )
    mbar = _mbar(dataset, rng, page) if dataset.has_energy else None
    overlap = _mbar_overlap(mbar)
    data_section(page, dataset, ladder_exchange(dataset, simulation_record(dataset), overlap))
    return view, mbar


def _temperature_list(temps: np.ndarray, unit: str) -> str:
    """``"0.8, 1.26, 2 reduced"`` (at most 8 values, then an ellipsis)."""
    if not temps.size:
        return "not known"
    shown = ", ".join(f"{t:.4g}" for t in temps[:8]) + (", ..." if temps.size > 8 else "")
    return f"{shown} ({unit_text(unit)})"


def _mbar(dataset: MultiTempDataset, rng: np.random.Generator, page: Page) -> Any:
    """An MBAR reweighter on at most :data:`_MAX_MBAR_FRAMES` frames of the data."""
    from ..analysis.mbar import MBARReweighter

    per_t = max(1, _MAX_MBAR_FRAMES // len(dataset.temperatures))
    sub = subsample(dataset, per_t, rng)
    if sub.n_frames < dataset.n_frames:
        page.notes.append(
            f"MBAR uses a random subsample of {sub.n_frames} of the {dataset.n_frames} data "
            f"frames (at most {per_t} per temperature); effective sample sizes refer to it."
        )
    return MBARReweighter(sub)


def _mbar_overlap(mbar: Any) -> np.ndarray | None:
    """MBAR's (K, K) overlap matrix (pymbar ``compute_overlap``), ``None`` without MBAR."""
    if mbar is None or len(mbar.temperatures) < 2:
        return None
    return mbar.overlap_matrix()
