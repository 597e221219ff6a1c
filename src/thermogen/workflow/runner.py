"""Running a checked workflow: every step in turn, and what the run wrote."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..data.dataset import MultiTempDataset
from ..errors import InputError
from ..fileio import atomic_write
from . import steps
from .loading import workflow_config_from_mapping, workflow_config_to_mapping
from .schema import DataSettings, WorkflowConfig


@dataclass(frozen=True)
class WorkflowResult:
    """What :func:`run_workflow` wrote.

    Attributes
    ----------
    out_dir
        The output folder.
    config
        ``run.yaml``: the resolved config (loads back to the same run).
    record
        ``run.json``: settings, seed, versions, timings and paths.
    data
        The training data (``data.npz`` when simulated, else the imported file).
    run_dir
        The model's run folder.
    samples
        ``samples.npz`` (None for spib models).
    report
        ``report.html``.
    timings
        Wall seconds of each step and in total.
    """

    out_dir: Path
    config: Path
    record: Path
    data: Path
    run_dir: Path
    samples: Path | None
    report: Path
    timings: dict[str, float]

    def summary(self) -> str:
        """A few lines: the files written and the time each step took."""
        times = ", ".join(f"{k} {v:.0f} s" for k, v in self.timings.items() if k != "total")
        lines = [
            f"done in {self.timings['total']:.0f} s ({times})",
            f"data:       {self.data}",
            f"model run:  {self.run_dir}",
        ]
        if self.samples is not None:
            lines.append(f"samples:    {self.samples}")
        lines += [f"config:     {self.config}", f"run record: {self.record}"]
        lines.append(f"report:     {self.report}")
        return "\n".join(lines)


def run_workflow(
    config: WorkflowConfig,
    *,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
) -> WorkflowResult:
    """Run simulate-or-import, train, sample and report; write everything to ``config.out``.

    Parameters
    ----------
    config
        From :func:`load_workflow_config` or :func:`workflow_config_from_mapping`.
    progress
        Show the progress bars of each step.
    log
        Receives one line as each step starts and its short result (None: silent).

    Returns
    -------
    WorkflowResult
        The files written (``run.yaml``, ``run.json``, ``data.npz`` when simulated,
        ``model/``, ``samples.npz``, ``report.html`` and ``report_files/``) and timings.
    """
    # a config built by hand is checked and resolved as a file's would be
    config = workflow_config_from_mapping(workflow_config_to_mapping(config), config.source)
    out = _output_folder(config)
    settings = workflow_config_to_mapping(config)
    config_path = out / "run.yaml"
    with atomic_write(config_path) as tmp:
        tmp.write_text(yaml.safe_dump(settings, sort_keys=False))
    first = "simulate" if config.system else "import"
    steps_run = (
        (first, "train", "sample", "report") if config.sample else (first, "train", "report")
    )
    clock = _Clock(steps_run, log or (lambda _line: None))
    data_path, dataset = _frames(config, out, clock, progress)
    run_dir = out / "model"
    clock.begin("train", f"{config.model.kind} on {dataset.n_frames} frames")
    model, trained = steps.train(config.model, dataset, run_dir, progress)
    clock.end("train", trained)
    samples = None
    if config.sample is not None:
        temperatures = steps.sample_temperatures(config.sample, config.report, dataset.temperatures)
        clock.begin("sample", f"{config.sample.n} per temperature at {_listed(temperatures)}")
        samples = steps.sample(model, config.sample, temperatures, out / "samples", progress)
        clock.end("sample", f"wrote {samples}")
    clock.begin("report", "figures, metrics and warnings")
    report = steps.report(config.report, run_dir, dataset, out / "report.html", samples)
    clock.end("report")
    paths = {"data": data_path, "run_dir": run_dir, "samples": samples, "report": report}
    record = _write_record(out, settings, config, dataset, paths, clock.finish())
    return WorkflowResult(
        out, config_path, record, data_path, run_dir, samples, report, clock.timings
    )


class _Clock:
    """Announces each step (``[i/n] step: what``) and times it; ``finish`` adds the total."""

    def __init__(self, names: tuple[str, ...], say: Callable[[str], None]) -> None:
        self.names, self.say = names, say
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()

    def begin(self, step: str, what: str) -> None:
        self.say(f"[{self.names.index(step) + 1}/{len(self.names)}] {step}: {what}")
        self.timings[step] = time.perf_counter()

    def end(self, step: str, result: str | None = None) -> None:
        self.timings[step] = time.perf_counter() - self.timings[step]
        if result:
            self.say(result)

    def finish(self) -> dict[str, float]:
        self.timings["total"] = time.perf_counter() - self.started
        return self.timings


def _output_folder(config: WorkflowConfig) -> Path:
    """``config.out``, created (a one-line InputError naming the key when it cannot be)."""
    out = Path(config.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(
            config.source, "out", f"cannot be created ({err.strerror or err})"
        ) from None
    return out


def _frames(
    config: WorkflowConfig, out: Path, clock: _Clock, progress: bool
) -> tuple[Path, MultiTempDataset]:
    """The first step: simulate (``data.npz``) or import; the data file and its frames."""
    from ..data import describe, load_dataset

    first = clock.names[0]
    if config.system is not None:
        assert config.simulate is not None
        clock.begin(first, f"replica exchange of {config.system}")
        data_path, summary = steps.simulate(config.system, config.simulate, out / "data", progress)
        clock.say(summary)
    else:
        assert isinstance(config.data, DataSettings)
        clock.begin(first, f"reading {config.data.path}")
        data_path = Path(config.data.path)
    dataset = load_dataset(data_path, **(config.data.load_options() if config.data else {}))
    clock.end(first, describe(dataset))
    return data_path, dataset


def _write_record(
    out: Path,
    settings: dict[str, Any],
    config: WorkflowConfig,
    dataset: MultiTempDataset,
    paths: dict[str, Path | None],
    timings: dict[str, float],
) -> Path:
    """``run.json``: the resolved settings, seed, versions, what was written and timings."""
    from ..provenance import run_record, write_json

    results = {
        "config_file": config.source,
        "data": str(paths["data"]),
        "n_frames": dataset.n_frames,
        "temperatures": dataset.temperatures,
        "temperature_unit": dataset.temperature_unit,
        "run_dir": str(paths["run_dir"]),
        "samples": None if paths["samples"] is None else str(paths["samples"]),
        "report": str(paths["report"]),
        "seconds": timings,
    }
    return write_json(out / "run.json", run_record("run", settings, config.seed, results))


def _listed(temperatures: Sequence[float]) -> str:
    """Temperatures as a short comma-separated list."""
    return ", ".join(f"{float(t):.4g}" for t in temperatures)
