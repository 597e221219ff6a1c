"""The bad-input catalogue (issue 13): every user mistake and hostile input found so far, each a
one-line error naming the file and the field, a non-zero exit within seconds, no traceback, and
every input file and the existing run folder byte-identical afterwards.

Each case is a function that prepares its inputs under the test's own folder and returns the
command line; the decorator records the fragments its one error line must hold.
"""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from thermogen.data import save_dataset

from ..cli_helpers import run
from .inputs import World, harmonic_frames

Build = Callable[[World, Path], list]
CASES: list = []


def case(*fragments: str) -> Callable[[Build], Build]:
    """Register a catalogue case whose error line must hold every fragment."""

    def register(build: Build) -> Build:
        CASES.append(pytest.param(build, fragments, id=build.__name__))
        return build

    return register


def settings_file(tmp: Path, text: str | dict, name: str = "c.yaml") -> Path:
    path = tmp / name
    path.write_text(text if isinstance(text, str) else yaml.safe_dump(text))
    return path


def train_with(world: World, tmp: Path, settings: str | dict, *more: str) -> list:
    """``thermogen train`` of the shared data with ``settings`` into a new folder."""
    config = settings_file(tmp, settings)
    return ["train", world.data, "--out", tmp / "new_run", "--config", config, "--quiet", *more]


def sample_from(run_dir: Path, out: Path, *more: str) -> list:
    return ["sample", run_dir, "--temperatures", "1.5", "--n", "10", "--out", out, "--quiet", *more]


def copied_run(world: World, tmp: Path) -> Path:
    """A copy of the shared run, for cases that edit a run folder by hand."""
    return Path(shutil.copytree(world.run, tmp / "edited_run"))


def edit_model_file(run_dir: Path, edit: Callable[[dict], None]) -> Path:
    path = run_dir / "model.pt"
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, path)
    return run_dir


def resume_on(world: World, tmp: Path, **overrides) -> list:
    """``train --resume`` of the shared run on data that are not its own."""
    other = save_dataset(harmonic_frames(**overrides), tmp / "other.npz")
    return ["train", other, "--out", world.run, "--config", world.settings, "--resume", "--quiet"]


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npz_declaring(path: Path, shape: tuple[int, ...]) -> Path:
    """An npz whose ``features`` entry declares ``shape`` (float64) but holds only its header."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("features.npy", header.getvalue() + b"\0" * 64)
        archive.writestr("temperature.npy", npy_bytes(np.ones(3)))
    return path


def npz_of(tmp: Path, **arrays) -> Path:
    """An npz of the shared frames with some entries replaced (None drops one)."""
    frames = harmonic_frames()
    base = {
        "features": frames.features,
        "temperature": frames.temperature,
        "replica": frames.replica,
        "time": frames.time,
        "temperature_unit": np.array("reduced"),
        "energy_unit": np.array("reduced"),
    }
    base.update(arrays)
    path = tmp / "bad.npz"
    np.savez(path, **{k: v for k, v in base.items() if v is not None})
    return path


# ------------------------------------------------ 1-5: data lost or mixed


@case("data.npz", "--out", "an input of this command")
def sample_over_the_training_data(w, tmp):
    return sample_from(w.run, w.data)


@case("data.npz", "--out", "an input of this command")
def sample_over_the_training_data_named_without_suffix(w, tmp):
    return sample_from(w.run, w.root / "data")


@case("d.run.json", "--out", "an input of this command")
def sample_over_the_record_beside_csv_training_data(w, tmp):
    csv = Path(shutil.copy(w.csv, tmp / "d.csv"))
    argv = ["train", csv, "--out", tmp / "r", "--config", w.settings, "--quiet"]
    assert run([*argv, "--temperature-unit", "reduced", "--energy-unit", "reduced"])[0] == 0
    (tmp / "d.run.json").write_text("{}")  # the record of whatever wrote d.csv
    return sample_from(tmp / "r", tmp / "d.npz")


@case("model.pt", "--out")
def sample_over_the_run_folders_model(w, tmp):
    return sample_from(w.run, w.run / "model.pt")


@case("standardization.json", "--out")
def sample_into_a_file_of_the_run_folder(w, tmp):
    return sample_from(w.run, w.run / "standardization.json")


@case("--out", "more.npz")
def sample_into_the_run_folder(w, tmp):
    return sample_from(w.run, w.run / "more.npz")


@case("data.npz", "--out")
def report_over_the_data(w, tmp):
    return ["report", w.run, "--data", w.data, "--out", w.data]


@case("are not the data the run", "(their features differ)")
def resume_on_other_frames(w, tmp):
    return resume_on(w, tmp, seed=1)


@case("are not the data the run", "(their temperature differ)")
def resume_on_other_temperatures(w, tmp):
    frames = harmonic_frames()
    return resume_on(w, tmp, temperature=frames.temperature * 1.5)


@case("are not the data the run", "units")
def resume_on_other_units(w, tmp):
    kelvin = harmonic_frames().temperature * 300
    return resume_on(w, tmp, temperature=kelvin, temperature_unit="K", energy_unit="kJ/mol")


@case("are not the data the run", "(their feature_names differ)")
def resume_on_other_feature_names(w, tmp):
    return resume_on(w, tmp, feature_names=("a", "b"))


@case("config.json", "settings.width", "resume with the run's own settings")
def resume_with_other_settings(w, tmp):
    changed = settings_file(tmp, {**yaml.safe_load(w.settings.read_text()), "width": 16})
    return ["train", w.data, "--out", w.run, "--config", changed, "--resume", "--quiet"]


@case("holds a training run already", "--overwrite")
def train_over_a_finished_run(w, tmp):
    return ["train", w.data, "--out", w.run, "--config", w.settings, "--quiet"]


@case("choose one")
def train_with_resume_and_overwrite(w, tmp):
    return ["train", w.data, "--out", w.run, "--resume", "--overwrite", "--quiet"]


@case("--out", "is a file, not a run folder")
def train_out_is_a_regular_file(w, tmp):
    return ["train", w.data, "--out", w.settings, "--quiet"]


@case("resume=True", "no checkpoint to resume from")
def resume_without_a_run(w, tmp):
    return ["train", w.data, "--out", tmp / "nothing", "--resume", "--quiet"]


# ------------------------------------------------ 6-9: bounded cost


@case("c.yaml", "anchor")
def config_alias_bomb(w, tmp):
    levels = ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    for i in range(1, 9):
        levels.append(f"{chr(97 + i)}: &{chr(97 + i)} [{','.join([f'*{chr(96 + i)}'] * 9)}]")
    return train_with(w, tmp, "\n".join(levels) + "\nwidth: *i\n")


@case("huge.npz", "features", "declares an array of")
def npz_header_of_gigabytes(w, tmp):
    return ["info", npz_declaring(tmp / "huge.npz", (300_000_000, 2))]


@case("huge.npz", "features", "declares an array of")
def npz_header_of_terabytes(w, tmp):
    return ["info", npz_declaring(tmp / "huge.npz", (10**11, 2))]


@case("'n'", "samples")
def sample_a_trillion(w, tmp):
    argv = sample_from(w.run, tmp / "s.npz")
    argv[argv.index("--n") + 1] = "1000000000000"
    return argv


@case("--out", "no_such_dir")
def sample_into_a_missing_folder(w, tmp):
    return sample_from(w.run, tmp / "no_such_dir" / "s.npz")


@case("huge_values.npz", "features[x0]", "too large")
def features_too_large_to_standardize(w, tmp):
    frames = harmonic_frames()
    huge = save_dataset(harmonic_frames(features=frames.features * 1e300), tmp / "huge_values.npz")
    return ["train", huge, "--out", tmp / "r", "--config", w.settings, "--quiet"]


@case("bad.npz", "features", "finite")
def features_not_finite(w, tmp):
    features = harmonic_frames().features.copy()
    features[3, 1] = np.nan
    return ["info", npz_of(tmp, features=features)]


@case("bad.npz", "energy", "finite")
def energies_not_finite(w, tmp):
    energy = np.zeros(400)
    energy[7] = np.inf
    return ["info", npz_of(tmp, energy=energy)]


# ------------------------------------------------ 10: tracebacks before


@case("c.yaml", "is not a text (UTF-8) file")
def config_is_a_binary_file(w, tmp):
    (tmp / "c.yaml").write_bytes(bytes(range(256)) * 4)
    return ["train", w.data, "--out", tmp / "r", "--config", tmp / "c.yaml", "--quiet"]


@case("model.pt", "scaler")
def model_file_with_keys_missing(w, tmp):
    return sample_from(edit_model_file(copied_run(w, tmp), lambda p: p.pop("scaler")), tmp / "s")


@case("model.pt", "state_dict")
def model_file_with_weights_missing(w, tmp):
    edited = edit_model_file(copied_run(w, tmp), lambda p: p["state_dict"].popitem())
    return sample_from(edited, tmp / "s.npz")


@case("model.pt", "cannot be read")
def model_file_damaged(w, tmp):
    edited = copied_run(w, tmp)
    (edited / "model.pt").write_bytes((edited / "model.pt").read_bytes()[:500])
    return sample_from(edited, tmp / "s.npz")


@case("model.pt", "missing")
def model_file_absent(w, tmp):
    edited = copied_run(w, tmp)
    (edited / "model.pt").unlink()
    return sample_from(edited, tmp / "s.npz")


@case("config.json", "cannot be read as JSON")
def run_record_not_json(w, tmp):
    edited = copied_run(w, tmp)
    (edited / "config.json").write_text("{ this is not json")
    return sample_from(edited, tmp / "s.npz")


@case("model.pt", "scaler")
def scaler_of_the_wrong_length(w, tmp):
    def shorten(payload: dict) -> None:
        scaler = json.loads(payload["scaler"])
        for key, value in scaler.items():
            if isinstance(value, list):
                scaler[key] = value[:1]
        payload["scaler"] = json.dumps(scaler)

    return sample_from(edit_model_file(copied_run(w, tmp), shorten), tmp / "s.npz")


# ------------------------------------------------ 11: misleading messages before


@case("nohead.csv", "header")
def csv_without_a_header_row(w, tmp):
    frames = harmonic_frames()
    path = tmp / "nohead.csv"
    np.savetxt(path, np.column_stack([frames.temperature, frames.features]), delimiter=",")
    return ["info", path]


@case("binary.csv", "is not a readable UTF-8 CSV text file")
def csv_that_is_binary(w, tmp):
    (tmp / "binary.csv").write_bytes(bytes(range(256)) * 8)
    return ["info", tmp / "binary.csv"]


@case("model.pt", "kind", "is 'transformer'", "knows diffusion")
def run_of_an_unknown_model_kind(w, tmp):
    edited = edit_model_file(copied_run(w, tmp), lambda p: p.update(kind="transformer"))
    return sample_from(edited, tmp / "s.npz")


@case("model.pt", "state_dict", "NaN or infinite", "retrain")
def generated_samples_not_finite_blame_the_run(w, tmp):
    def poison(payload: dict) -> None:
        for weights in payload["state_dict"].values():
            if weights.is_floating_point():
                weights.fill_(float("nan"))

    return sample_from(edit_model_file(copied_run(w, tmp), poison), tmp / "s.npz")


@case("--device", "cuda:99")
def device_this_machine_lacks(w, tmp):
    return [*sample_from(w.run, tmp / "s.npz"), "--device", "cuda:99"]  # with or without CUDA


@case("--device", "toaster")
def device_unknown(w, tmp):
    return [*sample_from(w.run, tmp / "s.npz"), "--device", "toaster"]


# ------------------------------------------------ 12: silent accepts before


@case("bad.npz", "replica", "negative")
def negative_replica_ids(w, tmp):
    return ["info", npz_of(tmp, replica=np.repeat([-1, 1], 200))]


@case("backwards.npz", "time", "SPIB")
def time_running_backwards_for_spib(w, tmp):
    frames = harmonic_frames()
    order = np.concatenate([np.arange(200)[::-1], np.arange(200, 400)])
    data = save_dataset(harmonic_frames(time=frames.time[order]), tmp / "backwards.npz")
    return ["train", data, "--model", "spib", "--out", tmp / "r", "--quiet"]


# ------------------------------------------------ earlier bad-input checks, gathered here


@case("missing.npz", "does not exist")
def data_file_missing(w, tmp):
    return ["info", tmp / "missing.npz"]


@case("empty.npz", "empty")
def data_file_empty(w, tmp):
    (tmp / "empty.npz").write_bytes(b"")
    return ["info", tmp / "empty.npz"]


@case("bad.npz", "temperature", "missing")
def npz_without_temperatures(w, tmp):
    return ["info", npz_of(tmp, temperature=None)]


@case("bad.npz", "temperature", "positive")
def temperatures_not_positive(w, tmp):
    return ["info", npz_of(tmp, temperature=np.repeat([0.0, 2.0], 200))]


@case("bad.npz", "features")
def features_one_dimensional(w, tmp):
    return ["info", npz_of(tmp, features=np.zeros(400))]


@case("bad.npz", "feature_names")
def feature_names_of_the_wrong_length(w, tmp):
    return ["info", npz_of(tmp, feature_names=np.array(["a", "b", "c"]))]


@case("bad.npz", "temperature_unit")
def temperature_unit_unknown(w, tmp):
    return ["info", npz_of(tmp, temperature_unit=np.array("F"))]


@case("bad.npz", "features", "pickle")
def npz_holding_pickled_objects(w, tmp):
    return ["info", npz_of(tmp, features=np.array([{"a": 1}] * 400, dtype=object))]


@case("enc.npz", "features", "cannot be read")
def npz_with_an_entry_marked_encrypted(w, tmp):
    archive = bytearray(w.data.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = archive.find(signature)
        while start != -1:
            archive[start + flag_offset] |= 1  # general-purpose flag bit 0: encrypted
            start = archive.find(signature, start + 4)
    (tmp / "enc.npz").write_bytes(bytes(archive))
    return ["info", tmp / "enc.npz"]


@case("bad.npz", "time", "repeats")
def frame_index_repeated_in_a_trajectory(w, tmp):
    return ["info", npz_of(tmp, time=np.zeros(400, dtype=int))]


@case("ragged.csv", "line 3")
def csv_with_a_ragged_row(w, tmp):
    (tmp / "ragged.csv").write_text("temperature,x\n1.0,0.5\n2.0\n")
    return ["info", tmp / "ragged.csv"]


@case("words.csv", "x")
def csv_with_words_for_numbers(w, tmp):
    (tmp / "words.csv").write_text("temperature,x\n1.0,0.5\n2.0,abc\n")
    return ["info", tmp / "words.csv"]


@case("--model", "transformer")
def model_kind_unknown(w, tmp):
    return ["train", w.data, "--model", "transformer", "--out", tmp / "r", "--quiet"]


@case("--temperatures", "abc")
def temperatures_not_numbers(w, tmp):
    argv = sample_from(w.run, tmp / "s.npz")
    argv[argv.index("--temperatures") + 1] = "1.0,abc"
    return argv


@case("--temperatures", "positive")
def temperatures_negative(w, tmp):
    argv = sample_from(w.run, tmp / "s.npz")
    argv[argv.index("--temperatures") + 1] = "-1.0"
    return argv


@case("'n'", "positive")
def sample_count_zero(w, tmp):
    argv = sample_from(w.run, tmp / "s.npz")
    argv[argv.index("--n") + 1] = "0"
    return argv


@case("nothing", "not a run folder")
def sample_from_a_missing_run(w, tmp):
    return sample_from(tmp / "nothing", tmp / "s.npz")


@case("model.pt", "transform")
def transform_with_a_diffusion_run(w, tmp):
    return ["transform", w.run, w.data, "--out", tmp / "cv.npz"]


@case("model.pt", "latf")
def melt_with_a_diffusion_run(w, tmp):
    return ["melt", w.run, "--tmin", "1", "--tmax", "2", "--out", tmp / "melt"]


@case("three.npz", "features", "trained on")
def report_data_of_other_features(w, tmp):
    frames = harmonic_frames()
    other = harmonic_frames(features=np.column_stack([frames.features, frames.features[:, 0]]))
    return ["report", w.run, "--data", save_dataset(other, tmp / "three.npz"), "--out", tmp / "r"]


@case("top.pdb", "does not exist")
def featurize_without_a_topology(w, tmp):
    return ["featurize", "--top", tmp / "top.pdb", "--traj", f"{w.data}@300", "--out", tmp / "f"]


@case("wf.yaml", "nonsense")
def workflow_with_an_unknown_section(w, tmp):
    return ["run", settings_file(tmp, {"nonsense": {"a": 1}}, "wf.yaml")]


@case("--temperatures")
def simulate_a_ladder_that_is_not_numbers(w, tmp):
    return ["simulate", "double-well", "--temperatures", "hot,cold", "--out", tmp / "d.npz"]


SETTINGS_CASES = {
    "config_huge_value_is_quoted_short": ({"width": "9" * 200_000}, ("c.yaml", "width")),
    "config_larger_than_the_cap": (
        "# padding\n" * 200_000 + "width: 8\n",
        ("c.yaml", "larger than"),
    ),
    "time_features_odd": ({"time_features": 7}, ("c.yaml", "time_features", "even")),
    "validation_fraction_above_one": (
        {"validation_fraction": 1.5},
        ("c.yaml", "validation_fraction"),
    ),
    "final_alpha_bar_above_one": ({"final_alpha_bar": 1.5}, ("c.yaml", "final_alpha_bar")),
    "final_alpha_bar_zero": ({"final_alpha_bar": 0}, ("c.yaml", "final_alpha_bar")),
    "width_of_a_hundred_million": ({"width": 100_000_000}, ("c.yaml", "width")),
    "learning_rate_infinite": (
        "train:\n  learning_rate: .inf\n",
        ("c.yaml", "train.learning_rate", "must be a finite number"),
    ),
    "device_unknown_in_the_config": (
        {"train": {"device": "toaster"}},
        ("c.yaml", "train", "TrainConfig.device"),
    ),
    "numeric_string_for_a_number": ({"width": "128"}, ("c.yaml", "width", "'128'")),
    "duplicate_yaml_keys": ("width: 8\nwidth: 16\n", ("c.yaml", "'width' is given twice")),
    "width_zero": ({"width": 0}, ("c.yaml", "width")),
    "blocks_negative": ({"blocks": -1}, ("c.yaml", "blocks")),
    "steps_zero": ({"train": {"steps": 0}}, ("c.yaml", "train", "TrainConfig.steps must be ≥ 1")),
    "batch_size_negative": (
        {"train": {"batch_size": -5}},
        ("c.yaml", "train", "TrainConfig.batch_size must be ≥ 1"),
    ),
    "config_key_misspelled": ({"wdth": 8}, ("c.yaml", "wdth", "did you mean 'width'")),
    "config_not_a_mapping": ("- 1\n- 2\n", ("c.yaml", "mapping")),
    "config_with_a_python_tag": (
        "width: !!python/object/apply:os.system ['echo hi']\n",
        ("c.yaml", "python"),
    ),
}
"""Cases that are a settings file alone: name -> (its contents, the fragments of the error)."""
CASES.extend(
    pytest.param(lambda w, tmp, text=text: train_with(w, tmp, text), fragments, id=name)
    for name, (text, fragments) in SETTINGS_CASES.items()
)


def snapshot(*folders: Path) -> dict[Path, bytes]:
    """Every file under ``folders`` with its bytes, but the (empty) run-folder lock files that
    ``thermogen train`` leaves beside a folder (``.NAME.lock``, see docs/reliability.md)."""
    files = (p for f in folders for p in sorted(f.rglob("*")) if p.is_file())
    return {p: p.read_bytes() for p in files if not p.name.endswith(".lock")}


@pytest.mark.parametrize(("build", "fragments"), CASES)
def test_bad_input_is_one_line_within_seconds_and_changes_nothing(
    world, tmp_path, build, fragments
):
    argv = build(world, tmp_path)
    before = snapshot(world.root, tmp_path)
    started = time.perf_counter()
    status, _, err = run(argv)
    seconds = time.perf_counter() - started
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith(f"thermogen {argv[0]}: error: ")]
    assert status == 2, err
    assert len(errors) == 1 and len(lines) <= 2 and "Traceback" not in err, err
    assert all(": warning: " in line for line in lines if line not in errors), err
    assert len(errors[0]) < 500, errors[0]
    missing = [fragment for fragment in fragments if fragment not in errors[0]]
    assert not missing, (missing, errors[0])
    assert seconds < 5.0, seconds
    assert snapshot(world.root, tmp_path) == before


def test_the_catalogue_holds_at_least_sixty_cases():
    assert len(CASES) >= 60, len(CASES)
