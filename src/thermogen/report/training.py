"""The training section: loss curves, convergence check, settings, seed and versions."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .page import Page
from .thresholds import CONVERGENCE_WARNING

__all__ = ["late_validation_drop", "training_section"]

LOSS_KEYS = ("train_loss", "validation_loss")
"""Columns of ``train_log.csv`` drawn as loss curves."""


def training_section(
    page: Page,
    record: dict[str, Any],
    log: list[dict[str, Any]],
    run_dir: Path,
    stage_titles: dict[str, str],
) -> None:
    """Loss curves (train and validation), wall time, the run record and resolved settings.

    ``log`` holds the rows of ``train_log.csv`` (every stage, with its ``stage``); the last
    stage's rows are drawn, titled by ``stage_titles`` when the run had several stages. SPIB's
    relabelling rounds (records with ``round`` in the run record's results) are tabulated.
    """
    import matplotlib.pyplot as plt

    recorded = [r for r in record.get("results", {}).get("history", []) if isinstance(r, dict)]
    rounds = [r for r in recorded if "round" in r]
    stages = list(dict.fromkeys(row["stage"] for row in log))
    history = [row for row in log if stages and row["stage"] == stages[-1]]
    parts = []
    if history:
        steps = np.array([row["step"] for row in history])
        fig, ax = plt.subplots(figsize=(5.5, 3.4), constrained_layout=True)
        for key, label, style in zip(LOSS_KEYS, ("train", "validation"), ("-", "--"), strict=True):
            values = np.array([row.get(key, math.nan) for row in history])
            ok = np.isfinite(values)
            if ok.any():
                ax.plot(steps[ok], values[ok], ls=style, marker="o", ms=3, label=label)
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("loss (dimensionless)")
        losses = np.array([row.get(k, math.nan) for row in history for k in LOSS_KEYS])
        losses = losses[np.isfinite(losses)]
        if losses.size and losses.min() > 0 and losses.max() > 10 * losses.min():
            ax.set_yscale("log")  # linear unless the loss spans a decade
        ax.legend(frameon=False)
        caption = "Training and validation loss" + (
            f" of {stage_titles.get(stages[-1], f'stage {stages[-1]}')}."
            if len(stages) > 1
            else "."
        )
        parts.append(page.figure(fig, "loss_curves", caption))
        elapsed = history[-1].get("elapsed_s", math.nan)
        if np.isfinite(elapsed):
            parts.append(f"<p>{int(steps[-1])} steps in {elapsed:.1f} s of training wall time.</p>")
            page.key("training", f"{int(steps[-1])} steps, {elapsed:.0f} s")
        drop = late_validation_drop(history)
        if drop is not None and drop > CONVERGENCE_WARNING:
            page.warnings.append(
                f"Training has not converged: the validation loss still fell by {drop:.1%} over "
                "the last 20% of the steps. Train longer before trusting the generated samples."
            )
    if rounds:
        keys = list(dict.fromkeys(k for r in rounds for k in r))
        parts.append(
            "<p>SPIB relabelling rounds (states kept, fraction of labels changed, last losses):</p>"
            + page.table("spib_rounds", keys, [[r.get(k, "") for k in keys] for r in rounds])
        )
    if not history and not rounds:
        parts.append(f"<p>No training log in {html.escape(str(run_dir))}.</p>")
    if record:
        settings = record.get("settings", {})
        device = next(iter(_devices(settings)), "?")
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


def _devices(settings: Any) -> list[str]:
    """The ``device`` of every training stage found in nested settings, depth first."""
    if not isinstance(settings, dict):
        return []
    own = [settings["device"]] if isinstance(settings.get("device"), str) else []
    return own + [d for value in settings.values() for d in _devices(value)]


def late_validation_drop(history: list[dict[str, float]]) -> float | None:
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
