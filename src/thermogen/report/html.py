"""A self-contained HTML report of a trained run: data, training, generated vs data, MBAR, warnings.

:func:`write_report` reads a run folder (``model.pt``, ``config.json``, ``train_log.csv``) and,
optionally, the training data, and writes one HTML file that opens offline (PNG figures embedded
as base64 data URIs, inline CSS, no external resources). Every figure is also saved as PNG and
every table as CSV in a folder beside the HTML (``<name>_files/``).

Units: temperatures are in the data's unit (K or reduced), energies and free energies in the
data's energy unit (kJ/mol or reduced), periodic features in radians, divergences in nats.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..analysis.divergence import js_between_samples, noise_floor
from ..analysis.histograms import histogram, histogram_ranges
from ..data.dataset import MultiTempDataset
from ..errors import InputError
from ..fileio import atomic_write
from .figures import METHOD_STYLE, plot_free_energy, save_figure, temperature_axis_label

__all__ = [
    "CONVERGENCE_WARNING",
    "ESS_WARNING",
    "EXTRAPOLATION_WARNING",
    "SUPPORT_WARNING",
    "write_report",
]

ESS_WARNING = 100.0
"""MBAR estimates with a Kish effective sample size below this are flagged as untrustworthy."""
EXTRAPOLATION_WARNING = 0.10
"""Target temperatures more than this fraction below the lowest or above the highest trained
temperature are flagged."""
CONVERGENCE_WARNING = 0.03
"""Training is flagged as not converged when the validation loss fell by more than this fraction
over the last 20% of the steps."""
SUPPORT_WARNING = 0.05
"""Generated frames at a trained temperature falling in histogram bins that hold no data frame
are flagged when they are more than this fraction and twice the share that one half of the data
has outside the other half."""
_MAX_FRAMES_PER_TEMPERATURE = 20_000
"""Data frames per temperature kept for figures and histograms (random subsample above it)."""
_MAX_MBAR_FRAMES = 30_000
"""Data frames kept for MBAR in total (random subsample, equal share per temperature)."""
_MAX_MARGINALS = 6
"""At most this many features get 1D marginal panels."""
_BINS_2D = 40
_BINS_1D = 50
_BINS_SUPPORT = 20
_ANGLE_TICKS = (-np.pi, -np.pi / 2, 0.0, np.pi / 2, np.pi)
_ANGLE_LABELS = ("-π", "-π/2", "0", "π/2", "π")


@dataclass
class _Page:
    """What the report collects while it is built: HTML sections, figures, tables, warnings."""

    files_dir: Path
    sections: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def figure(self, fig: Any, name: str, caption: str) -> str:
        """Save ``fig`` as ``name.png`` beside the report; the ``<figure>`` HTML embedding it."""
        path = save_figure(fig, self.files_dir / f"{name}.png")
        self.files.append(path)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)} "
            f'<span class="file">({html.escape(self.files_dir.name)}/{path.name})</span>'
            "</figcaption></figure>"
        )

    def table(self, name: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
        """Write ``name.csv`` beside the report; an HTML table of the same numbers."""
        path = self.files_dir / f"{name}.csv"
        with atomic_write(path) as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([[_csv_cell(c) for c in row] for row in rows])
        self.files.append(path)
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(c))}</td>" for c in row) + "</tr>"
            for row in rows
        )
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f'<p class="file">{html.escape(self.files_dir.name)}/{path.name}</p>'
        )

    def section(self, title: str, *parts: str) -> None:
        """Append a section with an ``<h2>`` heading."""
        self.sections.append(f"<section><h2>{html.escape(title)}</h2>{''.join(parts)}</section>")


def write_report(
    run_dir: str | Path,
    data: str | Path | MultiTempDataset | None = None,
    temperatures: Sequence[float] | None = None,
    out: str | Path = "report.html",
    *,
    n_samples: int = 2000,
    seed: int = 0,
    device: str = "cpu",
) -> Path:
    """Write the HTML report of a trained diffusion run.

    Parameters
    ----------
    run_dir
        Run folder written by ``thermogen train --model diffusion`` (``model.pt``, and
        ``config.json`` and ``train_log.csv`` when present).
    data
        The training data (an ``.npz``/``.csv`` file or a dataset). Default: the file named in
        ``config.json`` when it still exists; without data, only the training and generated
        sections are written.
    temperatures
        New target temperatures, in the data's temperature unit (K or reduced), at which
        generated free-energy surfaces are shown beside MBAR's (MBAR needs energies).
    out
        The HTML file to write; figures (PNG) and tables (CSV) go to ``<stem>_files/`` beside it.
    n_samples
        Frames generated per temperature (also the size of the data subsamples compared with
        them for the JS divergences).
    seed
        Seed of the generated samples and of the data subsampling.
    device
        Where the model samples: ``"cpu"``, ``"cuda"`` or ``"auto"``.

    Returns
    -------
    Path
        The HTML file.

    Raises
    ------
    InputError
        One line naming the file, for a missing or damaged run, a non-diffusion run, a data file
        whose features differ from the model's, or an output that cannot be written.
    """
    from ..models import load_model, model_kind

    started = time.perf_counter()
    run_dir = Path(run_dir)
    kind = model_kind(run_dir)
    model = load_model(run_dir)
    record = _read_json(run_dir / "config.json")
    history = _read_log(run_dir / "train_log.csv")
    dataset = _resolve_data(data, record, model.feature_names)
    targets = _check_temperatures(temperatures)
    if kind != "diffusion":
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
    out = Path(out)
    files_dir = out.parent / f"{out.stem}_files"
    try:
        files_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(files_dir, None, f"cannot be created ({err.strerror or err})") from None

    page = _Page(files_dir)
    rng = np.random.default_rng(seed)
    trained = np.asarray(
        dataset.temperatures
        if dataset is not None
        else record.get("results", {}).get("temperatures", []),
        dtype=float,
    )
    unit = getattr(model, "temperature_unit", dataset.temperature_unit if dataset else "K")
    if dataset is not None:
        _data_section(page, dataset)
    _training_section(page, record, history, run_dir)
    mbar = None
    if dataset is not None:
        view = _subsample(dataset, _MAX_FRAMES_PER_TEMPERATURE, rng)
        if view.n_frames < dataset.n_frames:
            page.notes.append(
                f"Figures and divergences use a random subsample of at most "
                f"{_MAX_FRAMES_PER_TEMPERATURE} data frames per temperature "
                f"({view.n_frames} of {dataset.n_frames} frames)."
            )
        if dataset.has_energy:
            mbar = _mbar(dataset, rng, page)
        if kind == "diffusion":
            _trained_section(page, model, view, n_samples, seed, device)
        else:
            _cv_section(page, model, kind, view, mbar)
    else:
        page.notes.append("No data given: data overview, comparisons and MBAR are left out.")
    if targets.size:
        _new_temperature_section(
            page, model, dataset, mbar, targets, trained, unit, n_samples, seed, device
        )
    if mbar is not None:
        _heat_capacity_section(page, mbar, dataset, targets)
    elapsed = time.perf_counter() - started
    return _write_html(out, page, run_dir, dataset, elapsed)


# ---------------------------------------------------------------------------- inputs
def _read_json(path: Path) -> dict[str, Any]:
    """The run record ``config.json`` (empty when missing)."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(path, None, f"cannot be read as JSON ({type(err).__name__})") from None


def _read_log(path: Path) -> list[dict[str, float]]:
    """Rows of ``train_log.csv`` as floats (empty when missing)."""
    if not path.is_file():
        return []
    try:
        with open(path, newline="") as handle:
            return [
                {k: float(v) if v not in ("", None) else math.nan for k, v in row.items()}
                for row in csv.DictReader(handle)
            ]
    except (OSError, ValueError) as err:
        raise InputError(path, None, f"cannot be read as a training log ({err})") from None


def _resolve_data(
    data: str | Path | MultiTempDataset | None,
    record: dict[str, Any],
    feature_names: tuple[str, ...],
) -> MultiTempDataset | None:
    """The dataset to compare with, checked to have the model's features."""
    from ..data import load_dataset

    if data is None:
        source = record.get("settings", {}).get("data")
        if not source or not Path(source).is_file():
            return None
        data = source
    dataset = data if isinstance(data, MultiTempDataset) else load_dataset(data)
    names = tuple(dataset.feature_names)
    if names != tuple(feature_names):
        raise InputError(
            dataset.source,
            "features",
            f"are ({', '.join(names)}) but the model was trained on ({', '.join(feature_names)})",
        )
    return dataset


def _check_temperatures(temperatures: Sequence[float] | None) -> np.ndarray:
    """Target temperatures as a sorted array, each finite and positive."""
    temps = np.asarray([] if temperatures is None else list(temperatures), dtype=float)
    if temps.size and not (np.all(np.isfinite(temps)) and np.all(temps > 0)):
        raise InputError("report", "temperatures", f"must be finite and > 0, got {temps.tolist()}")
    return np.unique(temps)


def _subsample(dataset: MultiTempDataset, per_temperature: int, rng: np.random.Generator):
    """At most ``per_temperature`` random frames of each temperature (all when fewer)."""
    keep = []
    for t in dataset.temperatures:
        idx = np.flatnonzero(dataset.temperature == t)
        if idx.size > per_temperature:
            idx = np.sort(rng.choice(idx, per_temperature, replace=False))
        keep.append(idx)
    index = np.concatenate(keep)
    return dataset if index.size == dataset.n_frames else dataset.subset(index)


# ---------------------------------------------------------------------------- sections
def _data_section(page: _Page, ds: MultiTempDataset) -> None:
    """Frames per temperature and energy histograms per temperature."""
    import matplotlib.pyplot as plt

    header = [f"temperature ({ds.temperature_unit})", "frames"]
    if ds.has_energy:
        header += [f"mean energy ({ds.energy_unit})", f"energy std ({ds.energy_unit})"]
    rows = []
    for t in ds.temperatures:
        here = ds.temperature == t
        row: list[Any] = [t, int(here.sum())]
        if ds.has_energy:
            row += [ds.energy[here].mean(), ds.energy[here].std()]
        rows.append(row)
    parts = [
        f"<p>{ds.n_frames} frames of {ds.n_features} features "
        f"({html.escape(', '.join(ds.feature_names))}) from <code>{html.escape(ds.source)}</code>."
        "</p>",
        page.table("frames_per_temperature", header, rows),
    ]
    if ds.has_energy:
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        colors = plt.get_cmap("coolwarm")(np.linspace(0, 1, len(ds.temperatures)))
        edges = np.histogram_bin_edges(ds.energy, bins=60)
        for t, color in zip(ds.temperatures, colors, strict=True):
            ax.hist(
                ds.energy[ds.temperature == t],
                bins=edges,
                density=True,
                histtype="step",
                color=color,
                lw=1.3,
                label=f"T = {t:.4g}",
            )
        ax.set_xlabel(f"potential energy ({ds.energy_unit})")
        ax.set_ylabel(f"probability density (1/{ds.energy_unit})")
        ax.legend(frameon=False, fontsize=8)
        parts.append(
            page.figure(
                fig,
                "energy_histograms",
                "Potential-energy distributions at each temperature; neighbouring "
                "temperatures must overlap for MBAR to connect them.",
            )
        )
    else:
        parts.append("<p>The data carry no energies: MBAR and C<sub>v</sub> are left out.</p>")
    page.section("Data overview", *parts)


def _training_section(
    page: _Page, record: dict[str, Any], history: list[dict[str, float]], run_dir: Path
) -> None:
    """Loss curves, convergence check, settings, seed and versions."""
    import matplotlib.pyplot as plt

    parts = []
    if history:
        steps = np.array([row["step"] for row in history])
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        for key, label, style in (
            ("train_loss", "train", "-"),
            ("validation_loss", "validation", "--"),
        ):
            values = np.array([row.get(key, math.nan) for row in history])
            ok = np.isfinite(values)
            if ok.any():
                ax.plot(steps[ok], values[ok], ls=style, marker="o", ms=3, label=label)
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("loss (noise-prediction MSE, dimensionless)")
        ax.set_yscale("log")
        ax.legend(frameon=False, fontsize=8)
        parts.append(page.figure(fig, "loss_curves", "Training and validation loss."))
        elapsed = history[-1].get("elapsed_s", math.nan)
        parts.append(
            f"<p>{int(steps[-1])} steps in {elapsed:.1f} s of training wall time.</p>"
            if np.isfinite(elapsed)
            else ""
        )
        drop = _late_validation_drop(history)
        if drop is not None and drop > CONVERGENCE_WARNING:
            page.warnings.append(
                f"Training has not converged: the validation loss still fell by {drop:.1%} over "
                "the last 20% of the steps. Train longer before trusting the generated samples."
            )
    else:
        parts.append(f"<p>No <code>train_log.csv</code> in {html.escape(str(run_dir))}.</p>")
        rounds = record.get("results", {}).get("history", [])
        if rounds and all(isinstance(r, dict) for r in rounds):
            keys = list(dict.fromkeys(k for r in rounds for k in r))
            parts.append("<p>Training history from <code>config.json</code>:</p>")
            parts.append(
                page.table("training_history", keys, [[r.get(k, "") for k in keys] for r in rounds])
            )
    if record:
        settings = record.get("settings", {})
        device = settings.get("train", {}).get("device", "?")
        rows = [
            ["thermogen version (training)", record.get("thermogen_version", "?")],
            ["thermogen version (report)", __version__],
            ["seed", record.get("seed", "?")],
            ["device", device],
            ["created (UTC)", record.get("created_utc", "?")],
            ["python", record.get("python", "?")],
            ["torch", record.get("packages", {}).get("torch", "?")],
        ]
        parts.append(page.table("run_record", ["field", "value"], rows))
        parts.append(
            "<details><summary>Resolved settings (config.json)</summary><pre>"
            + html.escape(json.dumps(settings, indent=2))
            + "</pre></details>"
        )
    page.section("Training", *parts)


def _late_validation_drop(history: list[dict[str, float]]) -> float | None:
    """Relative fall of the validation loss over the last 20% of steps (None if unmeasurable)."""
    rows = [r for r in history if np.isfinite(r.get("validation_loss", math.nan))]
    if len(rows) < 2:
        return None
    last = rows[-1]["step"]
    window = [r for r in rows if r["step"] >= 0.8 * last]
    if len(window) < 2:
        window = rows[-2:]
    start, end = window[0]["validation_loss"], window[-1]["validation_loss"]
    return (start - end) / abs(start) if start != 0 else None


def _axis_label(name: str, periodic: bool) -> str:
    """Axis label of a feature: its name, with ``(rad)`` for angles."""
    return f"{name} (rad)" if periodic else name


def _free_energy_label(unit: str) -> str:
    return f"free energy ({unit})"


def _fes_row(
    page: _Page,
    panels: list[tuple[str, np.ndarray, np.ndarray | None]],
    ranges: list[tuple[float, float]],
    periodic: np.ndarray,
    names: Sequence[str],
    kt: float | Sequence[float],
    energy_unit: str,
    name: str,
    caption: str,
) -> str:
    """Free-energy maps of the first two features, one panel per (title, samples, weights).

    ``kt`` is k_B T in ``energy_unit``, one for all panels or one per panel.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
    x_edges = _edges(ranges[0], periodic[0], _BINS_2D)
    y_edges = _edges(ranges[1], periodic[1], _BINS_2D)
    kts = np.broadcast_to(np.asarray(kt, dtype=float), (len(panels),))
    for ax, (title, samples, weights), kt_i in zip(axes[0], panels, kts, strict=True):
        prob = histogram(samples[:, :2], _BINS_2D, ranges[:2], periodic[:2], weights=weights)
        plot_free_energy(
            ax,
            x_edges,
            y_edges,
            prob,
            float(kt_i),
            title,
            axis_labels=(
                _axis_label(names[0], bool(periodic[0])),
                _axis_label(names[1], bool(periodic[1])),
            ),
            vmax=8.0 * float(kt_i),
            energy_label=_free_energy_label(energy_unit),
        )
        for set_ticks, set_labels, is_angle in (
            (ax.set_xticks, ax.set_xticklabels, periodic[0]),
            (ax.set_yticks, ax.set_yticklabels, periodic[1]),
        ):
            if is_angle:
                set_ticks(_ANGLE_TICKS)
                set_labels(_ANGLE_LABELS)
    fig.tight_layout()
    return page.figure(fig, name, caption)


def _edges(rng: tuple[float, float], periodic: bool, bins: int) -> np.ndarray:
    low, high = (-np.pi, np.pi) if periodic else rng
    return np.linspace(low, high, bins + 1)


def _trained_section(
    page: _Page,
    model: Any,
    ds: MultiTempDataset,
    n_samples: int,
    seed: int,
    device: str,
) -> None:
    """Generated vs data at every trained temperature: FES, marginals, JS with noise floor."""
    import matplotlib.pyplot as plt

    periodic = np.asarray(ds.periodic, dtype=bool)
    names = tuple(ds.feature_names)
    generated = model.sample(ds.temperatures, n_samples, seed=seed, device=device)
    ranges = histogram_ranges(ds.features, generated.features, periodic=periodic)
    parts = [
        f"<p>{n_samples} frames generated per temperature (probability-flow ODE) against the "
        "training data at the same temperature. Free energies F = -k<sub>B</sub>T ln p are zero "
        "at each map's minimum; white bins are empty or above 8 k<sub>B</sub>T.</p>"
    ]
    rows = []
    n_feat = min(ds.n_features, _MAX_MARGINALS)
    fig1d, axes1d = plt.subplots(
        len(ds.temperatures),
        n_feat,
        figsize=(2.8 * n_feat + 0.6, 2.3 * len(ds.temperatures)),
        squeeze=False,
    )
    gen_style, data_style = METHOD_STYLE["diffusion"], METHOD_STYLE["simulation"]
    for i, t in enumerate(ds.temperatures):
        data_t = ds.features[ds.temperature == t]
        gen_t = generated.features[generated.temperature == t]
        kt = float(ds.thermal_energy(float(t)))
        if ds.n_features >= 2:
            parts.append(
                _fes_row(
                    page,
                    [
                        (f"data, T = {t:.4g}", data_t, None),
                        (f"generated, T = {t:.4g}", gen_t, None),
                    ],
                    ranges,
                    periodic,
                    names,
                    kt,
                    ds.energy_unit,
                    f"fes_trained_T{i}",
                    f"Free energy of {names[0]} and {names[1]} at T = {t:.4g} "
                    f"{ds.temperature_unit}: training data (left) and generated (right).",
                )
            )
        for j in range(n_feat):
            ax = axes1d[i, j]
            edges = _edges(ranges[j], bool(periodic[j]), _BINS_1D)
            for values, style, label in (
                (data_t[:, j], data_style, "data"),
                (gen_t[:, j], gen_style, str(gen_style["label"])),
            ):
                ax.hist(
                    _wrap(values, bool(periodic[j])),
                    bins=edges,
                    density=True,
                    histtype="step",
                    color=style["color"],
                    lw=1.3,
                    label=label,
                )
            ax.set_xlabel(_axis_label(names[j], bool(periodic[j])))
            if periodic[j]:
                ax.set_xticks(_ANGLE_TICKS)
                ax.set_xticklabels(_ANGLE_LABELS)
            if j == 0:
                ax.set_ylabel(f"density, T = {t:.4g}")
        rows.append(_js_row(data_t, gen_t, ranges, periodic, t, seed))
    axes1d[0, 0].legend(frameon=False, fontsize=7)
    fig1d.tight_layout()
    parts.append(
        page.figure(
            fig1d,
            "marginals_trained",
            "1D marginal densities of each feature (rows: trained temperatures; "
            "periodic features in radians).",
        )
    )
    header = [
        f"temperature ({ds.temperature_unit})",
        "frames compared",
        "JS generated vs data (nats)",
        "noise floor mean (nats)",
        "noise floor std (nats)",
        "JS / floor",
        "generated outside data support (%)",
        "data half outside other half (%)",
    ]
    parts.append(
        "<p>Jensen-Shannon divergence of 2D histograms of the first two features "
        f"({_BINS_2D}x{_BINS_2D} bins). The noise floor is the same divergence between two "
        "disjoint halves of the data of the same size: a generated sample is as good as the "
        "data can tell when its JS is close to the floor. The last column is the share of "
        f"generated frames in {_BINS_SUPPORT}x{_BINS_SUPPORT} bins where the data at that "
        "temperature have no frame, beside the same share for one half of the data against "
        "the other (what finite sampling alone gives).</p>"
    )
    parts.append(page.table("metrics_trained", header, rows))
    for row in rows:
        if np.isfinite(row[5]) and row[5] > 5 and row[2] > 0.01:
            page.warnings.append(
                f"At the trained temperature {row[0]:.4g} the generated distribution differs "
                f"from the data (JS {row[2]:.3g} nats, {row[5]:.1f} times the noise floor)."
            )
        if np.isfinite(row[6]) and row[6] > max(100 * SUPPORT_WARNING, 2 * row[7]):
            page.warnings.append(
                f"At the trained temperature {row[0]:.4g}, {row[6]:.1f}% of the generated "
                "frames fall where the training data have no support: the model invents "
                "configurations there."
            )
    page.section("Generated vs data at trained temperatures", *parts)


def _wrap(values: np.ndarray, periodic: bool) -> np.ndarray:
    return np.mod(values + np.pi, 2 * np.pi) - np.pi if periodic else values


def _js_row(
    data_t: np.ndarray,
    gen_t: np.ndarray,
    ranges: list[tuple[float, float]],
    periodic: np.ndarray,
    t: float,
    seed: int,
) -> list[Any]:
    """One metrics row: JS generated vs data and the noise floor from two halves of the data."""
    from functools import partial

    dims = min(2, data_t.shape[1])
    metric = partial(
        js_between_samples, bins=_BINS_2D, ranges=ranges[:dims], periodic=periodic[:dims]
    )
    n = min(gen_t.shape[0], data_t.shape[0] // 2)
    if n < 10:
        return [t, n, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan]
    pick = np.random.default_rng(seed).choice(data_t.shape[0], n, replace=False)
    js = metric(gen_t[:n, :dims], data_t[pick, :dims])
    floor = noise_floor(data_t[:, :dims], n, metric, n_repeats=3, seed=seed)
    ratio = js / floor.mean if floor.mean > 0 else math.nan
    half = np.random.default_rng(seed + 1).permutation(data_t.shape[0])
    half_a, half_b = data_t[half[: half.size // 2]], data_t[half[half.size // 2 :]]
    outside = _outside_support(gen_t[:, :dims], data_t[:, :dims], ranges[:dims], periodic[:dims])
    baseline = _outside_support(half_b[:, :dims], half_a[:, :dims], ranges[:dims], periodic[:dims])
    return [t, n, js, floor.mean, floor.std, ratio, outside, baseline]


def _outside_support(
    samples: np.ndarray,
    reference: np.ndarray,
    ranges: list[tuple[float, float]],
    periodic: np.ndarray,
) -> float:
    """Percentage of ``samples`` in histogram bins where ``reference`` has no frame."""
    ref = histogram(reference, _BINS_SUPPORT, ranges, periodic)
    mine = histogram(samples, _BINS_SUPPORT, ranges, periodic)
    return 100.0 * float(mine[ref == 0].sum())


def _cv_section(page: _Page, model: Any, kind: str, ds: MultiTempDataset, mbar: Any) -> None:
    """SPIB/LaTF: free energy of the data on the learned CVs and state populations vs T."""
    import matplotlib.pyplot as plt

    from .figures import plot_populations_vs_temperature

    cv, labels = model.transform(ds.features)
    n_states = int(model.n_states)
    unit = ds.temperature_unit
    temps = ds.temperatures
    parts = [
        f"<p>The data mapped onto the {cv.shape[1]} learned collective variable(s) of the "
        f"{kind} model, which finds {n_states} metastable states.</p>"
    ]
    names = [f"CV {i + 1}" for i in range(cv.shape[1])]
    if cv.shape[1] >= 2:
        panels = [(f"data, T = {t:.4g}", cv[ds.temperature == t], None) for t in temps[:4]]
        parts.append(
            _fes_row(
                page,
                panels,
                histogram_ranges(cv[:, :2]),
                np.zeros(2, dtype=bool),
                names,
                [float(ds.thermal_energy(float(t))) for t in temps[:4]],
                ds.energy_unit,
                "fes_cv",
                "Free energy of the data on the first two learned CVs"
                + (" (first four temperatures)." if temps.size > 4 else "."),
            )
        )
    fractions = np.stack(
        [np.bincount(labels[ds.temperature == t], minlength=n_states) for t in temps]
    ).astype(float)
    fractions /= fractions.sum(1, keepdims=True)
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {
        "simulation": (temps, fractions, None)
    }
    grid = np.geomspace(temps.min(), temps.max(), 25)
    if kind == "latf":
        curves["latf"] = (grid, model.populations(grid), None)
    if mbar is not None:
        _, mbar_labels = model.transform(mbar.dataset.features)
        est = mbar.populations(mbar_labels, n_states, grid)
        curves["mbar"] = (grid, est.value, est.std_error)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    plot_populations_vs_temperature(
        ax,
        [str(s) for s in range(n_states)],
        curves,
        temperature_axis_label(unit),
        simulated_temperatures=temps,
    )
    parts.append(
        page.figure(
            fig,
            "populations",
            "State populations versus temperature: fractions of data frames per state at each "
            "trained temperature"
            + (", the LaTF model's populations" if kind == "latf" else "")
            + (", and MBAR's reweighting with one-sigma errors" if mbar is not None else "")
            + ".",
        )
    )
    header = [f"temperature ({unit})"] + [f"state {s} (data fraction)" for s in range(n_states)]
    rows = [[t, *row] for t, row in zip(temps, fractions, strict=True)]
    parts.append(page.table("populations_data", header, rows))
    page.section("Learned collective variables and states", *parts)


def _new_temperature_section(
    page: _Page,
    model: Any,
    dataset: MultiTempDataset | None,
    mbar: Any,
    targets: np.ndarray,
    trained: np.ndarray,
    unit: str,
    n_samples: int,
    seed: int,
    device: str,
) -> None:
    """Generated FES at new temperatures beside MBAR's, with effective sample sizes."""
    from ..units import thermal_energy

    for t in targets:
        if trained.size and (t < (1 - EXTRAPOLATION_WARNING) * trained.min()):
            page.warnings.append(
                f"Target temperature {t:.4g} {unit} is more than "
                f"{EXTRAPOLATION_WARNING:.0%} below the lowest trained temperature "
                f"({trained.min():.4g} {unit}): the model extrapolates there."
            )
        elif trained.size and t > (1 + EXTRAPOLATION_WARNING) * trained.max():
            page.warnings.append(
                f"Target temperature {t:.4g} {unit} is more than "
                f"{EXTRAPOLATION_WARNING:.0%} above the highest trained temperature "
                f"({trained.max():.4g} {unit}): the model extrapolates there."
            )
    generated = model.sample(targets, n_samples, seed=seed + 1, device=device)
    names = tuple(model.feature_names)
    periodic = np.asarray(generated.periodic, dtype=bool)
    sets = [generated.features] + ([mbar.dataset.features] if mbar is not None else [])
    ranges = histogram_ranges(*sets, periodic=periodic)
    energy_unit = dataset.energy_unit if dataset is not None else generated.energy_unit
    parts = [
        "<p>Generated free-energy surfaces at temperatures given with <code>--temperatures"
        "</code>"
        + (
            ", beside MBAR's reweighting of the training data (its Kish effective sample size "
            "says how many independent frames the reweighted map rests on)."
            if mbar is not None
            else "; MBAR is left out because the data carry no energies (or no data were given)."
        )
        + "</p>"
    ]
    rows = []
    for i, t in enumerate(targets):
        gen_t = generated.features[generated.temperature == t]
        kt = float(thermal_energy(float(t), unit))
        panels: list[tuple[str, np.ndarray, np.ndarray | None]] = [
            (f"generated, T = {t:.4g}", gen_t, None)
        ]
        ess = math.nan
        if mbar is not None:
            ess = mbar.effective_sample_size(float(t))
            panels.append(
                (f"MBAR, T = {t:.4g} (ESS {ess:.0f})", mbar.dataset.features, mbar.weights(t))
            )
            if ess < ESS_WARNING:
                page.warnings.append(
                    f"MBAR at T = {t:.4g} {unit} rests on an effective sample size of only "
                    f"{ess:.0f} frames (below {ESS_WARNING:.0f}): its free-energy map and "
                    "heat capacity there are not reliable."
                )
        row: list[Any] = [t, ess]
        if len(names) >= 2:
            parts.append(
                _fes_row(
                    page,
                    panels,
                    ranges,
                    periodic,
                    names,
                    kt,
                    energy_unit,
                    f"fes_new_T{i}",
                    f"Free energy of {names[0]} and {names[1]} at the new temperature "
                    f"T = {t:.4g} {unit}.",
                )
            )
            if mbar is not None:
                row.append(
                    js_between_samples(
                        gen_t[:, :2],
                        mbar.dataset.features[:, :2],
                        _BINS_2D,
                        ranges[:2],
                        periodic[:2],
                        weights_b=mbar.weights(t),
                    )
                )
        rows.append(row)
    header = [f"temperature ({unit})", "MBAR effective sample size (frames)"]
    if mbar is not None and len(names) >= 2:
        header.append("JS generated vs MBAR (nats)")
    parts.append(page.table("metrics_new_temperatures", header, rows))
    title = "Generated vs MBAR at new temperatures" if mbar is not None else "New temperatures"
    page.section(title, *parts)


def _mbar(dataset: MultiTempDataset, rng: np.random.Generator, page: _Page):
    """An MBAR reweighter on at most :data:`_MAX_MBAR_FRAMES` frames of the data."""
    from ..analysis.mbar import MBARReweighter

    per_t = max(1, _MAX_MBAR_FRAMES // len(dataset.temperatures))
    sub = _subsample(dataset, per_t, rng)
    if sub.n_frames < dataset.n_frames:
        page.notes.append(
            f"MBAR uses a random subsample of {sub.n_frames} of the {dataset.n_frames} data "
            f"frames (at most {per_t} per temperature); effective sample sizes refer to it."
        )
    return MBARReweighter(sub)


def _heat_capacity_section(
    page: _Page, mbar: Any, dataset: MultiTempDataset, targets: np.ndarray
) -> None:
    """C_v(T) from MBAR over the trained range and the targets, with the ESS alongside."""
    import matplotlib.pyplot as plt

    temps = dataset.temperatures
    low = min(temps.min(), targets.min()) if targets.size else temps.min()
    high = max(temps.max(), targets.max()) if targets.size else temps.max()
    grid = np.unique(np.concatenate([np.geomspace(low, high, 40), temps, targets]))
    cv = mbar.heat_capacity(grid)
    ess = np.array([mbar.effective_sample_size(t) for t in grid])
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
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
    ax.legend(frameon=False, fontsize=8)
    rows = [[t, c, e] for t, c, e in zip(grid, cv, ess, strict=True)]
    page.section(
        "Thermodynamics",
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
        ),
    )


# ---------------------------------------------------------------------------- output
_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}img{max-width:100%;height:auto}figcaption{font-size:.9em;color:#444}
.file{color:#888;font-size:.8em}
.warnings{background:#fff4e5;border-left:4px solid #e67e00;padding:.5em 1em}
.ok{background:#eef8ee;border-left:4px solid #2e8b57;padding:.5em 1em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
"""


def _write_html(
    out: Path, page: _Page, run_dir: Path, dataset: MultiTempDataset | None, elapsed: float
) -> Path:
    """Assemble and atomically write the HTML file."""
    if page.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in page.warnings)
        warn = f'<div class="warnings"><ul>{items}</ul></div>'
    else:
        warn = '<div class="ok">No warnings: nothing the report checks looks untrustworthy.</div>'
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in page.notes)
    title = f"thermogen report: {run_dir.name}"
    data_line = f" and data <code>{html.escape(dataset.source)}</code>" if dataset else ""
    body = (
        f"<h1>{html.escape(title)}</h1>"
        f"<p>Run <code>{html.escape(str(run_dir))}</code>{data_line}; thermogen {__version__}; "
        f"written in {elapsed:.1f} s.</p>"
        f"<section><h2>Warnings</h2>{warn}</section>"
        + (f"<section><h2>Notes</h2><ul>{notes}</ul></section>" if notes else "")
        + "".join(page.sections)
    )
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
    try:
        with atomic_write(out) as tmp:
            tmp.write_text(document, encoding="utf-8")
    except OSError as err:
        raise InputError(out, None, f"cannot be written ({err.strerror or err})") from None
    return out


def _cell(value: Any) -> str:
    """A table cell: numbers in at most 4 significant digits."""
    if isinstance(value, (float, np.floating)):
        return "n/a" if not np.isfinite(value) else f"{value:.4g}"
    return str(value)


def _csv_cell(value: Any) -> Any:
    """A CSV cell: full-precision numbers."""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value
