"""Test-wide settings and shared fixtures.

One torch thread (several are 10-30x slower on small machines). The default demo runs once per
session (about 2-3 minutes on 2 cores) and serves both its own checks and the browser test of
its report.
"""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def default_demo(tmp_path_factory):
    """The result of ``thermogen demo`` with its default settings (seed 0)."""
    from thermogen.demo import run_demo

    return run_demo(tmp_path_factory.mktemp("default_demo") / "demo", progress=False)
