"""Issue 13's measured limits, each in a fresh process: the alias bomb and the huge npz headers are
refused within 5 s with a peak memory under 300 MB, SIGTERM during sampling leaves nothing
half-written, and an internal error (a bug) prints its traceback with a bug-report line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..cli_helpers import run
from ..test_bounded_input import npz_with_header
from ..test_strict_yaml import ALIAS_BOMB
from .inputs import World

PEAK_SCRIPT = """
import sys, time
from thermogen.cli import main
started = time.perf_counter()
status = main(sys.argv[1:])
peak_kb = [line for line in open('/proc/self/status') if line.startswith('VmHWM')][0].split()[1]
print(status, time.perf_counter() - started, peak_kb, file=sys.stderr)
"""
"""Runs ``thermogen ARGV`` and prints its exit status, seconds and this process's own peak memory
(VmHWM, kB) as the last stderr line."""


def measured(argv: list) -> tuple[int, float, int, list[str]]:
    """Exit status, seconds, peak memory (MB) and the other stderr lines of ``thermogen ARGV``."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, *map(str, argv)], capture_output=True, text=True
    )
    *lines, numbers = done.stderr.strip().splitlines()
    status, seconds, peak_kb = numbers.split()
    return int(status), float(seconds), int(peak_kb) // 1024, lines


def hostile_inputs(world: World, tmp: Path) -> dict[str, list]:
    (tmp / "bomb.yaml").write_text(ALIAS_BOMB)
    return {
        "alias bomb": ["train", world.data, "--config", tmp / "bomb.yaml", "--out", tmp / "r"],
        "2.4 GB header": ["info", npz_with_header(tmp / "gb.npz", "features", (150_000_000, 2))],
        "1.6 TB header": ["info", npz_with_header(tmp / "tb.npz", "features", (10**11, 2))],
    }


@pytest.mark.parametrize("name", ["alias bomb", "2.4 GB header", "1.6 TB header"])
def test_hostile_files_are_refused_within_5_s_under_300_mb(world, tmp_path, name):
    status, seconds, peak_mb, lines = measured(hostile_inputs(world, tmp_path)[name])
    assert status == 2 and len(lines) == 1 and ": error: " in lines[0], lines
    assert seconds < 5.0 and peak_mb < 300, (seconds, peak_mb)


def test_sigterm_during_sampling_leaves_no_temporary_file(world, tmp_path):
    argv = ["sample", world.run, "--temperatures", "1:2:50", "--n", "400000", "--quiet"]
    busy = subprocess.Popen(
        [sys.executable, "-m", "thermogen", *map(str, argv), "--out", tmp_path / "s.npz"],
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4)  # importing torch and loading the run take about 2 s: it is sampling now
    assert busy.poll() is None, busy.stderr.read()
    busy.send_signal(signal.SIGTERM)
    assert busy.wait(30) == 143 and "terminated" in busy.stderr.read()
    assert list(tmp_path.iterdir()) == []


def test_an_internal_error_prints_its_traceback_and_asks_for_a_bug_report(monkeypatch, world):
    from thermogen.cli import info

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(info, "handle", broken)
    status, _, err = run(["info", world.data])
    assert status == 70
    assert "Traceback" in err and "ZeroDivisionError: a bug" in err
    assert err.strip().splitlines()[-1].startswith("thermogen info: internal error in thermogen")
    assert "please report it" in err
