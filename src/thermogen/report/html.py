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
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import MultiTempDataset
from ..errors import InputError
from .comparison import new_temperature_section, trained_section
from .exchange import ladder_exchange
from .figures import METHOD_STYLE, PAPER_RC, unit_text
from .inputs import (
    check_temperatures,
    load_reference,
    read_json,
    read_log,
    resolve_data,
    simulation_record,
    subsample,
)
from .overview import data_section
from .page import Page, write_html
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
    n_samples: int = 2000,
    seed: int = 0,
    device: str = "cpu",
    reference: str | Path | MultiTempDataset | None = None,
    reference_kind: str = "reference",
) -> Path:
    """Write the HTML report of a trained run (diffusion, SPIB or LaTF).

    Parameters
    ----------
    run_dir
        Run folder written by ``thermogen train`` (``model.pt``, and ``config.json`` and
        ``train_log.csv`` when present).
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
        The HTML file to write; figures (PNG) and tables (CSV) go to ``<stem>_files/`` beside it.
    n_samples
        Frames generated per temperature (also the size of the data subsamples compared with
        them for the JS divergences).
    seed
        Seed of the generated samples and of the data subsampling.
    device
        Where the model samples: ``"cpu"``, ``"cuda"`` or ``"auto"``.
    reference
        Held-out frames (a data file in the training data's format, or a dataset) at some
        target temperatures: shown beside the generated and MBAR maps, with JS divergences of
        both against it and its noise floor (diffusion runs).
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
        One line naming the file, for a missing or damaged run, a data or reference file whose
        features differ from the model's, or an output that cannot be written.
    """
    import matplotlib.pyplot as plt

    from ..models import load_model, model_kind

    started = time.perf_counter()
    run_dir = Path(run_dir)
    kind = model_kind(run_dir)
    model = load_model(run_dir)
    record = read_json(run_dir / "config.json")
    history = read_log(run_dir / "train_log.csv")
    dataset = resolve_data(data, record, model.feature_names)
    unit = getattr(model, "temperature_unit", dataset.temperature_unit if dataset else "K")
    if reference_kind not in _REFERENCE_KINDS:
        raise ValueError(
            f"reference_kind must be one of {_REFERENCE_KINDS}, got {reference_kind!r}"
        )
    ref = load_reference(reference, model.feature_names, unit)
    targets = check_temperatures(temperatures)
    if ref is not None and not targets.size and kind == "diffusion":
        targets = ref.temperatures
    _check_kind(kind, run_dir, dataset, targets)
    out = Path(out)
    files_dir = out.parent / f"{out.stem}_files"
    try:
        files_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(files_dir, None, f"cannot be created ({err.strerror or err})") from None

    page = Page(files_dir)
    with plt.rc_context(PAPER_RC):
        _build(
            page,
            run_dir,
            kind,
            model,
            record,
            history,
            dataset,
            ref,
            reference_kind,
            targets,
            unit,
            n_samples,
            seed,
            device,
        )
    elapsed = time.perf_counter() - started
    data_line = f" and data <code>{html.escape(dataset.source)}</code>" if dataset else ""
    subtitle = (
        f"Run <code>{html.escape(str(run_dir))}</code>{data_line}; written in {elapsed:.1f} s"
    )
    return write_html(out, page, f"thermogen report: {run_dir.name}", subtitle)


def _check_kind(
    kind: str, run_dir: Path, dataset: MultiTempDataset | None, targets: np.ndarray
) -> None:
    """SPIB/LaTF reports need data and take no target temperatures."""
    if kind == "diffusion":
        return
    if dataset is None:
        raise InputError(
            run_dir, "data", f"a {kind} report shows the data's learned CVs: give --data"
        )
    if targets.size:
        raise InputError(
            "report",
            "temperatures",
            f"are for diffusion runs; a {kind} report shows populations over the data's range",
        )


def _build(
    page: Page,
    run_dir: Path,
    kind: str,
    model: Any,
    record: dict[str, Any],
    history: list[dict[str, float]],
    dataset: MultiTempDataset | None,
    ref: MultiTempDataset | None,
    reference_kind: str,
    targets: np.ndarray,
    unit: str,
    n_samples: int,
    seed: int,
    device: str,
) -> None:
    """Fill ``page``: summary lines, then the sections in reading order."""
    from .thermodynamics import cv_section, heat_capacity_parts, melting_parts

    rng = np.random.default_rng(seed)
    trained = np.asarray(
        dataset.temperatures
        if dataset is not None
        else record.get("results", {}).get("temperatures", []),
        dtype=float,
    )
    page.key("run", f"{run_dir.name} ({kind} model)")
    if dataset is not None:
        page.key(
            "data",
            f"{dataset.source}: {dataset.n_frames} frames, {dataset.n_features} "
            f"features ({', '.join(dataset.feature_names[:4])}"
            f"{', ...' if dataset.n_features > 4 else ''})",
        )
    page.key("trained temperatures", _temperature_list(trained, unit))
    if targets.size:
        page.key("target temperatures", _temperature_list(targets, unit))
    if ref is not None:
        label = str(METHOD_STYLE[reference_kind]["label"])
        page.key(
            label,
            f"{ref.source}: {ref.n_frames} frames at {_temperature_list(ref.temperatures, unit)}",
        )
    mbar = None
    if dataset is not None:
        view = subsample(dataset, _MAX_FRAMES_PER_TEMPERATURE, rng)
        if view.n_frames < dataset.n_frames:
            page.notes.append(
                f"Figures and divergences use a random subsample of at most "
                f"{_MAX_FRAMES_PER_TEMPERATURE} data frames per temperature "
                f"({view.n_frames} of {dataset.n_frames} frames)."
            )
        if dataset.has_energy:
            mbar = _mbar(dataset, rng, page)
        overlap = _mbar_overlap(mbar)
        data_section(page, dataset, ladder_exchange(dataset, simulation_record(dataset), overlap))
    else:
        page.notes.append("No data given: data overview, comparisons and MBAR are left out.")
    training_section(page, record, history, run_dir)
    if dataset is not None:
        if kind == "diffusion":
            trained_section(page, model, view, n_samples, seed, device)
        else:
            cv_section(page, model, kind, view, mbar)
    if ref is not None and kind != "diffusion":
        page.notes.append(
            f"A {kind} report uses the reference only for its heat capacity; free-energy maps "
            "are compared with a reference for diffusion runs."
        )
    if targets.size:
        new_temperature_section(
            page,
            model,
            dataset.energy_unit if dataset is not None else "reduced units",
            mbar,
            ref,
            reference_kind,
            targets,
            trained,
            unit,
            n_samples,
            seed,
            device,
        )
    parts: list[str] = []
    if kind == "latf" and dataset is not None:
        parts += melting_parts(page, model, view, mbar, seed)
    if mbar is not None:
        parts += heat_capacity_parts(page, mbar, dataset, targets, ref, reference_kind)
    if parts:
        page.section("Thermodynamics", *parts)


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
