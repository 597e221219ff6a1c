"""Reading and writing datasets: npz round trips, CSV parsing, unit conversion and defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thermogen.data import MultiTempDataset, load_dataset, save_dataset
from thermogen.errors import InputError
from thermogen.fileio import atomic_write

FIELDS = (
    "features",
    "temperature",
    "energy",
    "replica",
    "time",
    "feature_names",
    "periodic",
    "temperature_unit",
    "energy_unit",
)


def full_dataset(energy_unit: str = "kJ/mol") -> MultiTempDataset:
    """Five frames, two trajectories, an angle feature and energies."""
    return MultiTempDataset(
        features=np.array([[0.1, 1.5], [-3.0, 2.5], [3.1, 0.0], [0.0, -1.0], [1.0, 7.25]]),
        temperature=np.array([300.0, 300.0, 350.0, 350.0, 400.0]),
        energy=np.array([-1.5, 0.25, 2.0, -0.125, 3.0]),
        replica=np.array([0, 0, 1, 1, 1]),
        time=np.array([0, 1, 0, 2, 5]),
        feature_names=["phi", "dist"],
        periodic=np.array([True, False]),
        energy_unit=energy_unit,
        source="original",
    )


def assert_same(a: MultiTempDataset, b: MultiTempDataset) -> None:
    """Every field equal, values and dtypes."""
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, name
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert x == y, name


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ---------------------------------------------------------------------- npz


def test_npz_round_trip_reproduces_every_field(tmp_path: Path) -> None:
    original = full_dataset()
    written = save_dataset(original, tmp_path / "data.npz")
    loaded = load_dataset(written)
    assert written == tmp_path / "data.npz"
    assert loaded.source == str(written)
    assert_same(original, loaded)


def test_npz_round_trip_without_optional_fields(tmp_path: Path) -> None:
    original = MultiTempDataset(
        np.array([[1.0], [2.0]]),
        np.array([1.0, 2.0]),
        temperature_unit="reduced",
        energy_unit="reduced",
    )
    loaded = load_dataset(save_dataset(original, tmp_path / "plain.npz"))
    assert_same(original, loaded)
    assert loaded.energy is None and loaded.replica is None and loaded.time is None


def test_kcal_per_mol_is_saved_as_kj_per_mol(tmp_path: Path) -> None:
    original = full_dataset(energy_unit="kcal/mol")
    path = save_dataset(original, tmp_path / "kcal.npz")
    with np.load(path) as raw:
        assert str(raw["energy_unit"]) == "kJ/mol"
        np.testing.assert_array_equal(raw["energy"], full_dataset().energy * 4.184)
    assert_same(original, load_dataset(path))


def test_save_appends_npz_suffix(tmp_path: Path) -> None:
    written = save_dataset(full_dataset(), tmp_path / "data.v2")
    assert written == tmp_path / "data.v2.npz"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.v2.npz"]


def test_save_replaces_an_existing_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "data.npz"
    target.write_bytes(b"old contents")
    save_dataset(full_dataset(), target)
    assert_same(full_dataset(), load_dataset(target))
    assert [p.name for p in tmp_path.iterdir()] == ["data.npz"]


def test_save_into_missing_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be written"):
        save_dataset(full_dataset(), tmp_path / "missing" / "data.npz")


def test_npz_kcal_per_mol_energies_are_converted_on_load(tmp_path: Path) -> None:
    path = tmp_path / "kcal.npz"
    np.savez(
        path,
        features=np.zeros((3, 1)),
        temperature=np.full(3, 300.0),
        energy=np.array([1.0, -2.0, 0.5]),
        energy_unit="kcal/mol",
    )
    ds = load_dataset(path)
    assert ds.energy_unit == "kJ/mol"
    np.testing.assert_allclose(ds.energy, [4.184, -8.368, 2.092], rtol=1e-15)


def test_npz_missing_units_default_to_kelvin_and_kj_per_mol(tmp_path: Path) -> None:
    path = tmp_path / "bare.npz"
    np.savez(
        path,
        features=np.zeros((2, 3)),
        temperature=np.array([300.0, 310.0]),
        energy=np.array([1.0, 2.0]),
    )
    ds = load_dataset(path)
    assert (ds.temperature_unit, ds.energy_unit) == ("K", "kJ/mol")
    assert ds.feature_names == ("x0", "x1", "x2")
    np.testing.assert_array_equal(ds.periodic, [False, False, False])
    np.testing.assert_array_equal(ds.energy, [1.0, 2.0])


def test_npz_extra_keys_are_ignored_even_pickled_ones(tmp_path: Path) -> None:
    path = tmp_path / "extra.npz"
    np.savez(
        path,
        features=np.ones((2, 1)),
        temperature=np.array([1.0, 2.0]),
        temperature_unit="reduced",
        energy_unit="reduced",
        notes=np.array("hello"),
        blob=np.array([{"a": 1}], dtype=object),
    )
    ds = load_dataset(path)
    assert ds.n_frames == 2 and ds.temperature_unit == "reduced"


def test_npz_feature_names_stored_as_bytes_are_decoded(tmp_path: Path) -> None:
    path = tmp_path / "bytes.npz"
    np.savez(
        path,
        features=np.zeros((1, 2)),
        temperature=np.array([300.0]),
        feature_names=np.array([b"phi", b"psi"]),
    )
    assert load_dataset(path).feature_names == ("phi", "psi")


def test_npz_refuses_csv_options(tmp_path: Path) -> None:
    path = save_dataset(full_dataset(), tmp_path / "data.npz")
    with pytest.raises(InputError, match="field 'energy_unit'"):
        load_dataset(path, energy_unit="kcal/mol")


# ---------------------------------------------------------------------- csv


def test_csv_features_and_optional_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "d.csv",
        "phi, replica,temperature,energy,time,dist\n"
        "0.5,0,300,-1.0,0,2.0\n"
        "\n"
        "-0.5,0,300,-2.5,1,3.0\n"
        "3.0,1,350,0.5,0,4.0\n",
    )
    ds = load_dataset(path, periodic=["phi"])
    assert ds.source == str(path)
    assert ds.feature_names == ("phi", "dist")
    np.testing.assert_array_equal(ds.features, [[0.5, 2.0], [-0.5, 3.0], [3.0, 4.0]])
    np.testing.assert_array_equal(ds.temperature, [300.0, 300.0, 350.0])
    np.testing.assert_array_equal(ds.energy, [-1.0, -2.5, 0.5])
    np.testing.assert_array_equal(ds.replica, [0, 0, 1])
    np.testing.assert_array_equal(ds.time, [0, 1, 0])
    np.testing.assert_array_equal(ds.periodic, [True, False])
    assert (ds.temperature_unit, ds.energy_unit) == ("K", "kJ/mol")


def test_csv_minimal_columns_and_defaults(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "temperature,x\n1.5,10\n2.5,20\n")
    ds = load_dataset(path, temperature_unit="reduced", energy_unit="reduced")
    assert ds.energy is None and ds.replica is None and ds.time is None
    np.testing.assert_array_equal(ds.periodic, [False])
    assert ds.temperature_unit == "reduced"


def test_csv_kcal_per_mol_energies_are_converted(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "temperature,energy,x\n300,1.0,0\n300,-0.5,1\n")
    ds = load_dataset(path, energy_unit="kcal/mol")
    assert ds.energy_unit == "kJ/mol"
    np.testing.assert_allclose(ds.energy, [4.184, -2.092], rtol=1e-15)


def test_csv_periodic_option_accepts_a_single_name(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "temperature,phi,psi\n300,0.1,0.2\n")
    np.testing.assert_array_equal(load_dataset(path, periodic="psi").periodic, [False, True])


def test_csv_periodic_option_must_name_a_feature(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "temperature,phi\n300,0.1\n")
    with pytest.raises(InputError, match=r"field 'periodic'.*'temperature'"):
        load_dataset(path, periodic=["temperature"])


def test_csv_non_numeric_cell_names_column_and_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "temperature,x\n300,1\n300,oops\n")
    with pytest.raises(InputError, match=r"field 'x': has a non-numeric value 'oops' on line 3"):
        load_dataset(path)


def test_csv_ragged_row_names_the_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "temperature,x\n300,1\n300\n")
    with pytest.raises(InputError, match="line 3 has 1 cells but the header has 2"):
        load_dataset(path)


def test_csv_header_without_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "temperature,x\n")
    with pytest.raises(InputError, match="no data rows"):
        load_dataset(path)


# ---------------------------------------------------------------------- atomic_write


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_replaces_and_keeps_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o640)
    with atomic_write(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


# ---------------------------------------------------------------------- unreadable npz entries


def test_npz_corrupt_entry_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "crc.npz"
    features = np.arange(1.0, 7.0).reshape(3, 2)
    np.savez(path, features=features, temperature=np.full(3, 300.0))
    raw = bytearray(path.read_bytes())
    raw[raw.find(features.tobytes()) + 3] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="field 'features': cannot be read"):
        load_dataset(path)


def test_npz_pickled_required_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npz"
    np.savez(path, features=np.zeros((2, 1)), temperature=np.array([1.0, "2"], dtype=object))
    with pytest.raises(InputError, match="field 'temperature': cannot be read"):
        load_dataset(path)


def test_npy_renamed_npz_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "single.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros((2, 2)))
    with pytest.raises(InputError, match=r"single \.npy array"):
        load_dataset(path)
