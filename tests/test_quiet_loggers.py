"""Silencing other packages' loggers is scoped to the calls that log, never left behind."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

from thermogen.analysis import mbar as mbar_module
from thermogen.analysis.mbar import MBARReweighter
from thermogen.data import MultiTempDataset
from thermogen.quiet import quiet_loggers
from thermogen.simulate.remd_store import OPENMMTOOLS_LOGGERS

TOUCHED = tuple(dict.fromkeys(("pymbar", *OPENMMTOOLS_LOGGERS)))
"""Every logger thermogen silences somewhere."""


def test_quiet_loggers_sets_and_restores_levels_also_on_errors() -> None:
    first, second = logging.getLogger("thermogen-test-a"), logging.getLogger("thermogen-test-b")
    first.setLevel(logging.DEBUG)
    with (
        pytest.raises(RuntimeError),
        quiet_loggers(first.name, second.name, level=logging.CRITICAL),
    ):
        assert first.level == second.level == logging.CRITICAL
        raise RuntimeError
    assert (first.level, second.level) == (logging.DEBUG, logging.NOTSET)


def test_importing_leaves_the_levels_of_other_packages_loggers_alone() -> None:
    script = f"""
import logging
names = {TOUCHED!r}
for i, name in enumerate(names):
    logging.getLogger(name).setLevel(logging.DEBUG + i)
import thermogen.analysis.mbar
import thermogen.simulate.remd_store as store
store.import_openmmtools()
print([logging.getLogger(name).level - logging.DEBUG for name in names])
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.split("\n")[-2] == str(list(range(len(TOUCHED))))
    assert "JAX" not in run.stdout + run.stderr


def test_mbar_silences_pymbar_only_while_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    temperature = np.repeat([1.0, 2.0], 500)
    x = rng.normal(0.0, np.sqrt(temperature))
    ds = MultiTempDataset(
        x[:, None],
        temperature,
        energy=0.5 * x**2,
        temperature_unit="reduced",
        energy_unit="reduced",
    )
    logger = logging.getLogger("pymbar")
    seen = []
    mbar_class = mbar_module.pymbar.MBAR

    def recording_mbar(*args: object, **kwargs: object) -> object:
        seen.append(logger.level)
        return mbar_class(*args, **kwargs)

    monkeypatch.setattr(mbar_module.pymbar, "MBAR", recording_mbar)
    with quiet_loggers("pymbar", level=logging.INFO):  # a level of the user's choosing
        levels = [logging.getLogger(name).level for name in TOUCHED]
        mbar = MBARReweighter(ds, decorrelate=True)
        mbar.expectations(x[None, :] ** 2, [1.5])
        assert seen == [logging.ERROR]
        assert [logging.getLogger(name).level for name in TOUCHED] == levels
        assert logger.level == logging.INFO
