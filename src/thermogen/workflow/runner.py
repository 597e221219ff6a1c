"""Running a checked workflow: every step in turn, and what the run wrote."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

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
    from ..provenance import run_record, write_json

    # a config built by hand is checked and resolved as a file's would be
    config = workflow_config_from_mapping(workflow_config_to_mapping(config), config.source)
    say = log or (lambda _line: None)
    out = Path(config.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(
            config.source, "out", f"cannot be created ({err.strerror or err})"
        ) from None
    settings = workflow_config_to_mapping(config)
    config_path = out / "run.yaml"
    with atomic_write(config_path) as tmp:
        tmp.write_text(yaml.safe_dump(settings, sort_keys=False))
    order = ("simulate" if config.system else "import", "train", "sample", "report")
    if config.sample is None:
        order = (order[0], "train", "report")
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def begin(step: str, what: str) -> None:
        say(f"[{order.index(step) + 1}/{len(order)}] {step}: {what}")
        timings[step] = time.perf_counter()

    def end(step: str) -> None:
        timings[step] = time.perf_counter() - timings[step]

    if config.system is not None:
        assert config.simulate is not None
        begin(order[0], f"replica exchange of {config.system}")
        data_path, summary = steps.simulate(config.system, config.simulate, out / "data", progress)
        say(summary)
    else:
        assert isinstance(config.data, DataSettings)
        begin(order[0], f"reading {config.data.path}")
        data_path = Path(config.data.path)
    from ..data import describe, load_dataset

    dataset = load_dataset(data_path, **(config.data.load_options() if config.data else {}))
    end(order[0])
    say(describe(dataset))

    run_dir = out / "model"
    begin("train", f"{config.model.kind} on {dataset.n_frames} frames")
    model, trained = steps.train(config.model, dataset, run_dir, progress)
    end("train")
    say(trained)

    samples = None
    sample = config.sample
    if sample is not None:
        temperatures = steps.sample_temperatures(sample, config.report, dataset.temperatures)
        begin("sample", f"{sample.n} per temperature at {_listed(temperatures)}")
        samples = steps.sample(model, sample, temperatures, out / "samples", progress)
        end("sample")
        say(f"wrote {samples}")

    begin("report", "figures, metrics and warnings")
    report = steps.report(config.report, run_dir, dataset, out / "report.html", samples)
    end("report")
    timings["total"] = time.perf_counter() - started
    record = write_json(
        out / "run.json",
        run_record(
            "run",
            settings,
            config.seed,
            {
                "config_file": config.source,
                "data": str(data_path),
                "n_frames": dataset.n_frames,
                "temperatures": dataset.temperatures,
                "temperature_unit": dataset.temperature_unit,
                "run_dir": str(run_dir),
                "samples": None if samples is None else str(samples),
                "report": str(report),
                "seconds": timings,
            },
        ),
    )
    return WorkflowResult(out, config_path, record, data_path, run_dir, samples, report, timings)


def _listed(temperatures: Sequence[float]) -> str:
    """Temperatures as a short comma-separated list."""
    return ", ".join(f"{float(t):.4g}" for t in temperatures)
