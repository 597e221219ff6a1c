"""The HTML report of a run, as ``thermogen report`` and the workflow's report step write it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .guards import check_outputs

__all__ = ["ReportResult", "report_run"]


@dataclass(frozen=True)
class ReportResult:
    """The report written.

    Attributes
    ----------
    path
        The HTML file.
    files
        ``<stem>_files/``: every figure (PNG), table (CSV) and the samples shown (``samples.npz``).
    """

    path: Path
    files: Path

    def summary(self) -> str:
        """What ``thermogen report`` prints."""
        return f"wrote {self.path} (figures and tables in {self.files})"


def report_run(
    run_dir: str | Path,
    out: str | Path,
    *,
    data: Any = None,
    temperatures: Sequence[float] | None = None,
    samples: Any = None,
    reference: Any = None,
    reference_kind: str = "reference",
    n_samples: int = 2000,
    seed: int = 0,
    device: str = "cpu",
) -> ReportResult:
    """Write the report of ``run_dir`` to ``out`` (see :func:`thermogen.report.write_report`
    for every argument): it shows ``samples`` when given, else ``n_samples`` per temperature
    drawn once."""
    from ..report import write_report

    files = Path(out).parent / f"{Path(out).stem}_files"
    check_outputs([Path(out), files], run_dir, data, reference, samples, creates_folders=True)
    path = write_report(
        run_dir,
        data,
        temperatures,
        out,
        samples=samples,
        n_samples=n_samples,
        seed=seed,
        device=device,
        reference=reference,
        reference_kind=reference_kind,
    )
    return ReportResult(path, path.parent / f"{path.stem}_files")
