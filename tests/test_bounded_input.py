"""Issue 13, bounded cost on hostile input: an npz header cannot make thermogen allocate what the
file does not hold, features too large to standardize are named, a sample request is checked
against memory before any work, and every diffusion setting is range-checked when built."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from thermogen.config import dataclass_from_mapping
from thermogen.data import MultiTempDataset, load_dataset, save_dataset
from thermogen.errors import InputError
from thermogen.models import DiffusionConfig, DiffusionModel
from thermogen.train import TrainConfig

from .cli_helpers import fails, run


def npz_with_header(path: Path, name: str, shape: tuple[int, ...]) -> Path:
    """An npz whose ``name`` entry declares ``shape`` (float64) but holds only its header."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}.npy", header.getvalue() + b"\0" * 64)
        archive.writestr("temperature.npy", _npy(np.ones(3)))
    return path


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("shape", [(200_000_000, 2), (10**11, 2)])  # 3.2 GB and 1.6 TB
def test_a_huge_npz_header_is_refused_fast_without_allocating(tmp_path, shape):
    path = npz_with_header(tmp_path / "huge.npz", "features", shape)
    script = (
        "import time\n"
        "from thermogen.data import load_dataset\n"
        "from thermogen.errors import InputError\n"
        "t = time.perf_counter()\n"
        f"try:\n    load_dataset({str(path)!r})\n"
        "except InputError as e:\n    print(e)\n"
        # VmHWM: this process's own peak (ru_maxrss would carry the forking parent's over exec)
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(time.perf_counter() - t, peak)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    message, numbers = done.stdout.strip().splitlines()
    seconds, peak_kb = numbers.split()
    assert f"{path}: field 'features': declares an array of" in message
    assert "but the entry holds" in message
    assert float(seconds) < 5.0 and int(peak_kb) < 300_000  # peak memory under 300 MB


def test_features_too_large_to_standardize_are_named(tmp_path):
    rng = np.random.default_rng(0)
    temps = np.repeat([1.0, 2.0], 200)
    x = np.column_stack([rng.normal(size=400), 1e300 * rng.normal(size=400)])
    data = MultiTempDataset(
        x, temps, feature_names=("x", "huge"), temperature_unit="reduced", energy_unit="reduced"
    )
    path = save_dataset(data, tmp_path / "huge_values.npz")
    config = DiffusionConfig(width=8, blocks=1, train=TrainConfig(steps=5, batch_size=32))
    with pytest.raises(InputError, match=r"field 'features\[huge\]': has values too large"):
        DiffusionModel.fit(load_dataset(path), config, progress=False)


def test_a_sample_request_larger_than_memory_is_refused_before_sampling(tmp_path):
    rng = np.random.default_rng(0)
    temps = np.repeat([1.0, 2.0], 300)
    data = MultiTempDataset(
        rng.normal(size=(600, 2)), temps, temperature_unit="reduced", energy_unit="reduced"
    )
    save_dataset(data, tmp_path / "d.npz")
    settings = tmp_path / "c.yaml"
    settings.write_text(yaml.safe_dump({"width": 8, "blocks": 1, "train": {"steps": 5}}))
    assert run(["train", tmp_path / "d.npz", "--out", tmp_path / "r", "--config", settings])[0] == 0
    started = time.perf_counter()
    argv = ["sample", tmp_path / "r", "--temperatures", "1", "--n", "1000000000000"]
    fails([*argv, "--out", tmp_path / "s.npz"], "field 'n': asks for 1,000,000,000,000 samples")
    assert time.perf_counter() - started < 5.0 and not (tmp_path / "s.npz").exists()


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"time_features": 7}, "time_features must be an even integer in [2, 1024], got 7"),
        ({"validation_fraction": 1.5}, "validation_fraction must be in (0, 1), got 1.5"),
        ({"final_alpha_bar": 1.5}, "final_alpha_bar must be in (0, 1), got 1.5"),
        ({"final_alpha_bar": 0}, "final_alpha_bar must be in (0, 1), got 0.0"),
        ({"width": 100_000_000}, "width must be an integer in [1, 16384], got 100000000"),
        ({"blocks": -1}, "blocks must be an integer in [1, 256], got -1"),
    ],
)
def test_diffusion_settings_out_of_range_are_one_line_errors(tmp_path, settings, fragment):
    with pytest.raises(InputError) as caught:
        dataclass_from_mapping(DiffusionConfig, settings, tmp_path / "c.yaml")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'c.yaml'}: ") and fragment in message
