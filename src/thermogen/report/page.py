"""The report page: what sections collect (HTML, figures, tables, warnings) and how it is written.

Figures are embedded as base64 PNG data URIs and also saved as PNG beside the HTML; tables are
HTML and CSV with the same numbers (CSV at full precision).
"""

from __future__ import annotations

import base64
import csv
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import InputError
from ..fileio import atomic_write
from .figures import save_figure

__all__ = ["Page", "write_html"]


FIGURE_DPI = 150
"""Pixels per inch of the PNG files."""
CSS_DPI = 100
"""CSS pixels per figure inch on the page: fonts of PAPER_RC then read at about body-text size,
and the PNG's extra pixels keep them sharp on high-density screens."""


@dataclass
class Page:
    """What the report collects while it is built.

    Attributes
    ----------
    files_dir
        Folder beside the HTML for the PNG and CSV files.
    sections
        HTML of each section, in order.
    warnings, notes
        Plain-word warnings (results not to trust) and notes (what was subsampled or left out).
    summary
        ``(label, value)`` rows of the summary box at the top of the page.
    files
        Every file written to ``files_dir``.
    headline
        ``(priority, figure HTML)`` of the figure repeated under the summary box.
    """

    files_dir: Path
    sections: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    headline: tuple[int, str] | None = None

    def figure(self, fig: Any, name: str, caption: str) -> str:
        """Save ``fig`` as ``name.png`` beside the report; the ``<figure>`` HTML embedding it."""
        path = save_figure(fig, self.files_dir / f"{name}.png", dpi=FIGURE_DPI)
        self.files.append(path)
        raw = path.read_bytes()
        width = round(int.from_bytes(raw[16:20], "big") * CSS_DPI / FIGURE_DPI)
        data = base64.b64encode(raw).decode("ascii")
        return (
            f'<figure><img src="data:image/png;base64,{data}" width="{width}" '
            f'alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)} "
            f'<span class="file">({html.escape(self.files_dir.name)}/{path.name})</span>'
            "</figcaption></figure>"
        )

    def table(
        self,
        name: str,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        folded: str | None = None,
    ) -> str:
        """Write ``name.csv`` beside the report; an HTML table of the same numbers.

        With ``folded``, the table is shown folded under that title (for long tables).
        """
        path = self.files_dir / f"{name}.csv"
        with atomic_write(path) as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([[_csv_cell(c) for c in row] for row in rows])
        self.files.append(path)
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell_text(c))}</td>" for c in row) + "</tr>"
            for row in rows
        )
        table = (
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f'<p class="file">{html.escape(self.files_dir.name)}/{path.name}</p>'
        )
        if folded is None:
            return table
        return f"<details><summary>{html.escape(folded)}</summary>{table}</details>"

    def section(self, title: str, *parts: str) -> None:
        """Append a section with an ``<h2>`` heading."""
        self.sections.append(f"<section><h2>{html.escape(title)}</h2>{''.join(parts)}</section>")

    def offer_headline(self, figure_html: str, priority: int) -> None:
        """Show ``figure_html`` under the summary box too, unless a figure of higher or equal
        ``priority`` was offered first (3: against a reference or a melting curve, 2: at a new
        temperature, 1: at a trained temperature; one more for a new temperature inside the
        trained range, where all methods are expected to agree)."""
        if self.headline is None or priority > self.headline[0]:
            self.headline = (priority, figure_html)

    def key(self, label: str, value: str) -> None:
        """Add one line to the summary box at the top of the page."""
        self.summary.append((label, value))


_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1100px;
margin:1.5em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}img{max-width:100%;height:auto}figcaption{font-size:.9em;color:#444}
.file{color:#888;font-size:.8em}
.warnings{background:#fff4e5;border-left:4px solid #e67e00;padding:.5em 1em}
.ok{background:#eef8ee;border-left:4px solid #2e8b57;padding:.5em 1em}
.summary{background:#f3f6fb;border:1px solid #c9d6ea;border-radius:6px;padding:.6em 1em;
margin:1em 0}
.summary table{border:none;margin:0;font-size:.95em}
.summary td{border:none;padding:.15em .8em .15em 0;text-align:left;vertical-align:top}
.summary td:first-child{color:#555;white-space:nowrap;font-weight:600}
.summary .bad{color:#b35900;font-weight:600}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
"""


def write_html(out: Path, page: Page, title: str, subtitle: str) -> Path:
    """Assemble the page (summary box, warnings, notes, sections) and write it atomically.

    Raises
    ------
    InputError
        If ``out`` cannot be written.
    """
    if page.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in page.warnings)
        warn = f'<div class="warnings"><ul>{items}</ul></div>'
    else:
        warn = '<div class="ok">No warnings: nothing the report checks looks untrustworthy.</div>'
    count = len(page.warnings)
    summary_rows = [
        *page.summary,
        ("warnings", f"{count} (see below)" if count else "none"),
    ]
    flagged = ' class="bad"' if count else ""
    summary = "".join(
        f"<tr><td>{html.escape(label)}</td>"
        f"<td{flagged if label == 'warnings' else ''}>{html.escape(value)}</td></tr>"
        for label, value in summary_rows
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in page.notes)
    body = (
        f"<h1>{html.escape(title)}</h1><p>{subtitle}; thermogen {__version__}.</p>"
        f'<div class="summary"><table>{summary}</table></div>'
        + (page.headline[1] if page.headline is not None else "")
        + f'<section id="warnings"><h2>Warnings</h2>{warn}</section>'
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


def cell_text(value: Any) -> str:
    """A table cell: numbers in at most 4 significant digits, ``n/a`` when not finite."""
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
