"""Temperature transfer of the diffusion model on Mueller-Brown, trained on the project's REMD frames.

The same comparison as ``transfer_2d.py`` (exact density, noise floor, MBAR, samplers, reweighting)
but the model learns from correlated replica-exchange frames instead of i.i.d. exact samples.
Writes ``benchmarks/results/transfer_remd.json``.

Usage: ``python benchmarks/transfer_remd.py [--modes ...] [--train-steps N]``
"""

from __future__ import annotations

import sys

from transfer_2d import main

if __name__ == "__main__":
    sys.argv[1:1] = ["--data", "remd"]
    main()
