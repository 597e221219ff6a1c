"""Execute the tutorial notebook and store it with its outputs, so that it reads on a code host.

    OMP_NUM_THREADS=1 .venv/bin/python docs/execute_tutorial.py          # execute, write in place
    .venv/bin/python docs/execute_tutorial.py --out /tmp/tutorial.ipynb  # write elsewhere
    .venv/bin/python docs/execute_tutorial.py --clear                    # strip the outputs again

The notebook runs in a kernel of this interpreter (the one thermogen is installed in), in a
temporary folder, so the files it writes (``tutorial_output/``) do not land in ``docs/``; Jupyter
and IPython write nothing outside that folder either. It takes about a minute on one CPU core.
The file is only rewritten when every cell ran, including the final checks ("all checks
passed"). No execution timestamps are stored, so re-running changes only the printed numbers,
timings and figures. ``tests/test_docs.py`` executes its own in-memory copy and never writes the
file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent / "tutorial.ipynb"
KERNEL = "thermogen-tutorial"
TIMEOUT_S = 600
"""Longest a single cell may run (seconds)."""


def _kernelspec(jupyter_path: Path) -> None:
    """A kernelspec named :data:`KERNEL` that runs this interpreter."""
    spec = jupyter_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "thermogen", "language": "python"})
    )


def clear(path: Path) -> None:
    """Remove every output and execution count from the notebook at ``path``."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)


def execute(source: Path, out: Path) -> float:
    """Run every cell of ``source`` and write the notebook with its outputs to ``out``.

    Returns the wall-clock seconds the cells took. Raises ``nbclient.exceptions.CellExecutionError``
    (and writes nothing) when a cell fails.
    """
    import nbclient
    import nbformat

    notebook = nbformat.read(source, as_version=4)
    kernelspec = dict(notebook.metadata.get("kernelspec", {}))
    with tempfile.TemporaryDirectory(prefix="thermogen_tutorial_") as tmp:
        root = Path(tmp)
        for name, sub in (
            ("JUPYTER_PATH", "jupyter"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTER_CONFIG_DIR", "config"),
            ("IPYTHONDIR", "ipython"),
            ("MPLCONFIGDIR", "matplotlib"),
        ):
            os.environ[name] = str(root / sub)
        os.environ["JUPYTER_PLATFORM_DIRS"] = "1"
        _kernelspec(root / "jupyter")
        work = root / "work"
        work.mkdir()
        client = nbclient.NotebookClient(
            notebook,
            timeout=TIMEOUT_S,
            kernel_name=KERNEL,
            record_timing=False,
            resources={"metadata": {"path": str(work)}},
        )
        started = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - started
    streams = [
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "stream"
    ]
    if not streams or "all checks passed" not in streams[-1]:
        raise RuntimeError(
            "the notebook ran but its final checks did not print 'all checks passed'"
        )
    if kernelspec:  # keep the generic kernel name, not this script's temporary one
        notebook.metadata["kernelspec"] = kernelspec
    nbformat.validate(notebook)
    nbformat.write(notebook, out)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "notebook", nargs="?", type=Path, default=NOTEBOOK, help="default: %(default)s"
    )
    parser.add_argument(
        "--out", type=Path, help="where to write the executed notebook (default: in place)"
    )
    parser.add_argument(
        "--clear", action="store_true", help="strip the outputs instead of executing"
    )
    args = parser.parse_args(argv)
    if args.clear:
        clear(args.notebook)
        print(f"cleared the outputs of {args.notebook}")
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = args.out or args.notebook
    elapsed = execute(args.notebook, out)
    print(f"executed {args.notebook} in {elapsed:.0f} s; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
