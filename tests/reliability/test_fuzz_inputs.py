"""Property-based fuzzing of the dataset loaders, the MDTraj readers and the settings parser.

Each property feeds an entry point generated input (random arrays, bytes, damaged copies of
valid files, CSV and YAML text, settings mappings) and asserts that it returns or raises one of
the project's own errors (:class:`~thermogen.errors.ThermogenError`) with a one-line message of
at most :data:`MAX_MESSAGE` characters; any other exception fails the test.

The default run draws a few hundred examples in all, derandomized so that CI is repeatable;
``-m slow`` draws ten times as many, randomly.
"""

from __future__ import annotations

import dataclasses
import io
import string
import tempfile
import typing
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis.extra.numpy as hnp
import mdtraj as md
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thermogen.config import dataclass_from_mapping, load_yaml_mapping
from thermogen.data import MultiTempDataset, load_dataset, save_dataset
from thermogen.data.trajectory_files import (
    check_first_frame,
    count_frames,
    iter_frames,
    load_structure,
    load_topology,
)
from thermogen.errors import ThermogenError
from thermogen.models import MODEL_CONFIGS
from thermogen.strict_yaml import load_settings_text
from thermogen.train import TrainConfig
from thermogen.workflow.loading import load_workflow_config
from thermogen.workflow.schema import (
    DataSettings,
    ReportSettings,
    SampleSettings,
    SimulateSettings,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
"""Fuzzed data is often legal but suspicious (InputWarning) and MDTraj warns on odd PDB files."""

MAX_MESSAGE = 400
"""Longest error message accepted (messages quote at most about 100 characters of a value)."""
SLOW_FACTOR = 10
"""How many times more examples each property draws under ``-m slow``."""
SCALES = [
    pytest.param(1, id="default"),
    pytest.param(SLOW_FACTOR, id="slow", marks=pytest.mark.slow),
]
PDB = Path(__file__).parents[2] / "src/thermogen/systems/data/alanine_dipeptide.pdb"
"""A valid 22-atom structure shipped with the package."""


def fuzz(scale: int, examples: int, *strategies: st.SearchStrategy) -> Callable:
    """``given(*strategies)`` with ``examples`` (times ``scale``) examples: derandomized in the
    default run, random under ``slow``; no example database is written."""

    def decorate(check: Callable) -> Callable:
        return settings(
            max_examples=examples * scale,
            deadline=None,
            derandomize=scale == 1,
            database=None,
            suppress_health_check=[
                HealthCheck.function_scoped_fixture,
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
            ],
        )(given(*strategies)(check))

    return decorate


def own_errors_only(call: Callable, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``; a ThermogenError is returned after its message is checked, any
    other exception propagates (and fails the property)."""
    try:
        return call(*args, **kwargs)
    except ThermogenError as err:
        message = str(err)
        assert len(message.splitlines()) == 1, f"not one line: {message!r}"
        assert len(message) <= MAX_MESSAGE, f"{len(message)} characters: {message[:600]!r}"
        return err


def write(path: Path, content: bytes | str) -> Path:
    """``content`` written to ``path`` (text as UTF-8, surrogates passed through)."""
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    path.write_bytes(data)
    return path


def mostly(
    usual: st.SearchStrategy, unusual: st.SearchStrategy, odds: int = 4
) -> st.SearchStrategy:
    """``usual`` about ``odds`` times in ``odds + 1``, else ``unusual``.

    Hypothesis draws the simplest value (0) more often than chance and shrinks towards it, so
    0 picks ``usual``: the rare branch stays rare and failures shrink to ordinary input."""
    return st.integers(0, odds).flatmap(lambda i: unusual if i == 1 else usual)


def mutated(valid: bytes) -> st.SearchStrategy[bytes]:
    """``valid`` with a few bytes overwritten, a chunk spliced in, and/or cut short."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(valid)
        for _ in range(draw(st.integers(0, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        if draw(st.booleans()):
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(max_size=16))
        if draw(st.booleans()):
            del data[draw(st.integers(0, len(data))) :]
        return bytes(data)

    return build()


# ---------------------------------------------------------------------- npz

SCHEMA_KEYS = ("features", "temperature", "energy", "replica", "time", "feature_names", "periodic")
UNIT_KEYS = ("temperature_unit", "energy_unit")
UNITS = ("K", "reduced", "kJ/mol", "kcal/mol")
ANY_DTYPE = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.unicode_string_dtypes(max_len=6),
    hnp.byte_string_dtypes(max_len=6),
    hnp.datetime64_dtypes(),
    hnp.timedelta64_dtypes(),
)
ANY_SHAPE = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
JUNK_KEYS = st.text(string.ascii_letters + "_-. ", min_size=1, max_size=8)


def any_array(shape: Any = ANY_SHAPE) -> st.SearchStrategy[np.ndarray]:
    """An array of any object-free dtype (nan, inf and extreme values included)."""
    return hnp.arrays(ANY_DTYPE, shape)


def plausible_array(key: str, n: int, d: int) -> st.SearchStrategy[np.ndarray]:
    """An array of about the right kind and shape for schema field ``key`` (N frames, D
    features), so that generated files reach the dataset's own checks."""
    numbers = st.one_of(hnp.floating_dtypes(), hnp.integer_dtypes(), hnp.boolean_dtypes())
    finite = hnp.arrays(np.float64, (n, d), elements=st.floats(-4.0, 4.0))
    positive = hnp.arrays(np.float64, (n,), elements=st.floats(0.1, 1000.0))
    any_unit = st.sampled_from(UNITS) | st.text(max_size=12) | st.text(min_size=100, max_size=300)
    choices = {
        "features": mostly(finite, hnp.arrays(numbers, (n, d)), odds=2),
        "temperature": mostly(positive, hnp.arrays(numbers, (n,)), odds=2),
        "energy": hnp.arrays(numbers, (n,)),
        "replica": hnp.arrays(hnp.integer_dtypes() | hnp.floating_dtypes(), (n,)),
        "time": st.just(np.arange(n)) | hnp.arrays(hnp.integer_dtypes(), (n,)),
        "feature_names": st.lists(st.text(max_size=5), min_size=d, max_size=d).map(np.array)
        | hnp.arrays(hnp.byte_string_dtypes(max_len=4), (d,)),
        "periodic": hnp.arrays(hnp.boolean_dtypes() | hnp.integer_dtypes(), (d,)),
        "temperature_unit": mostly(st.sampled_from(["K", "reduced"]), any_unit),
        "energy_unit": mostly(st.sampled_from(["kJ/mol", "kcal/mol", "reduced"]), any_unit),
    }
    if key in UNIT_KEYS:
        return choices[key].map(np.array) | st.binary(max_size=8).map(np.array)
    return choices[key]


@st.composite
def npz_contents(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """Named arrays for an npz file: schema fields (usually the required ones) that are mostly
    of about the right shape, plus junk keys."""
    n = draw(mostly(st.integers(1, 5), st.just(0)))
    d = draw(mostly(st.integers(1, 3), st.just(0)))
    arrays = {}
    for key in SCHEMA_KEYS + UNIT_KEYS:
        if draw(st.integers(0, 9)) < (9 if key in ("features", "temperature") else 3):
            arrays[key] = draw(mostly(plausible_array(key, n, d), any_array()))
    for key in draw(st.lists(JUNK_KEYS, max_size=2)):
        arrays[key] = draw(any_array())
    return arrays


NPY_DESCRS = [
    *"'<f8' '<i8' '|b1' '<U3' '|S2' '|O' '<c16' '>f2' '<M8[s]' 'V8' '<f8 5 None 'foo'".split(),
    *["'<U999999999'", "[('a', '<f8')]"],
]
"""dtype descriptions for a crafted ``.npy`` header: valid, pickled, huge and malformed."""


@st.composite
def npy_entry(draw: st.DrawFn) -> bytes:
    """An ``.npy`` entry with a crafted header (any dtype, order and shape text) and data."""
    descr = draw(st.sampled_from(NPY_DESCRS) | st.text(max_size=10).map(repr))
    dims = st.lists(st.integers(-3, 6) | st.sampled_from([2**31, 2**62, 10**30, True]), max_size=3)
    shape = dims.map(lambda s: repr(tuple(s))) | st.sampled_from(["()", "(1.5,)", "[2]", "x"])
    order = st.sampled_from(["False", "True", "0", "'no'"])
    header = f"{{'descr': {descr}, 'fortran_order': {draw(order)}, 'shape': {draw(shape)}, }}"
    header = header.encode("latin1", "replace")
    version = draw(st.sampled_from([(1, 0), (2, 0), (3, 0), (9, 9)]))
    size = len(header).to_bytes(2 if version[0] == 1 else 4, "little")
    data = draw(st.binary(max_size=64))
    return b"\x93NUMPY" + bytes(version) + size + header + b"\n" + data


def test_npz_arrays(scale, folder):
    """npz files of random named arrays (any dtype and shape, 0-size and 3-D included)."""

    @fuzz(scale, 60, npz_contents(), st.booleans())
    def check(arrays, compressed):
        path = folder / "data.npz"
        (np.savez_compressed if compressed else np.savez)(path, **arrays)
        own_errors_only(load_dataset, path)

    check()


def test_npz_random_bytes(scale, folder):
    """Random bytes (some starting as a zip or npy file would) named ``.npz``."""
    magic = st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY\x01\x00"])

    @fuzz(scale, 30, magic, st.binary(max_size=2000))
    def check(start, rest):
        own_errors_only(load_dataset, write(folder / "data.npz", start + rest))

    check()


def test_npz_damaged(scale, folder):
    """Valid npz files (stored and deflated) with bytes flipped, spliced in or cut off."""
    dataset = MultiTempDataset(
        np.arange(8.0).reshape(4, 2), np.array([1.0, 1.0, 2.0, 2.0]), energy=np.zeros(4)
    )
    stored = save_dataset(dataset, folder / "valid.npz").read_bytes()
    deflated = io.BytesIO()
    np.savez_compressed(deflated, features=dataset.features, temperature=dataset.temperature)

    @fuzz(scale, 50, mutated(stored) | mutated(deflated.getvalue()))
    def check(data):
        own_errors_only(load_dataset, write(folder / "data.npz", data))

    check()


def test_npz_crafted_entries(scale, folder):
    """Zip archives whose entries have valid CRCs but crafted ``.npy`` headers and data."""
    valid = {"features": np.zeros((3, 2)), "temperature": np.ones(3)}

    @fuzz(scale, 40, st.lists(st.sampled_from(SCHEMA_KEYS + UNIT_KEYS), min_size=1), npy_entry())
    def check(keys, entry):
        path = folder / "data.npz"
        with zipfile.ZipFile(path, "w") as archive:
            for key in dict.fromkeys(keys):
                archive.writestr(f"{key}.npy", entry)
            for key in set(valid) - set(keys):
                buffer = io.BytesIO()
                np.save(buffer, valid[key])
                archive.writestr(f"{key}.npy", buffer.getvalue())
        own_errors_only(load_dataset, path)

    check()


# ---------------------------------------------------------------------- csv

CSV_NAMES = mostly(
    st.sampled_from(["energy", "replica", "time", "x0", "x1", "phi"]),
    st.sampled_from(["temperature", "", " temperature", '"x"', '"a\nb"']) | st.text(max_size=6),
)
CSV_CELLS = mostly(
    st.integers(1, 9).map(str) | st.floats(0.1, 500.0).map(repr),
    st.one_of(
        st.sampled_from(["1", "2.5", "-3", "0", "nan", "inf", "-inf", "1e999", "1e-400", "1_000"])
        | st.sampled_from(["0x10", " 4 ", "", "\u0661\u0662", "9" * 40, "true", '"1"', "1,2"])
        | st.sampled_from(["\x00", '"a\nb"', "\u00a0", "1e5000", "\u2028"]),
        st.floats().map(repr),
        st.integers().map(str),
        st.text(max_size=6),
    ),
)


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    """CSV-like bytes: an optional header, rows (usually as wide as the header; some ragged or
    very long), any line ending, an optional BOM, sometimes raw bytes spliced in."""
    header = draw(mostly(st.just(["temperature"]), st.just([]))) + draw(
        st.lists(CSV_NAMES, max_size=4)
    )
    width = len(header)
    row = mostly(
        st.lists(CSV_CELLS, min_size=width, max_size=width), st.lists(CSV_CELLS, max_size=6)
    )
    rows = draw(st.lists(row, max_size=6))
    if draw(st.integers(0, 9)) == 1:
        rows.append(["1"] * draw(st.integers(100, 600)))
    lines = ([] if draw(st.integers(0, 4)) == 1 else [header]) + rows
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(",".join(cells) for cells in lines) + draw(st.sampled_from(["", newline]))
    data = (draw(st.sampled_from(["", "\ufeff"])) + text).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 1:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data


def test_csv_files(scale, folder):
    """CSV files from random header and row strings, text and bytes."""
    content = mostly(csv_bytes(), st.binary(max_size=300) | st.text(max_size=300))

    @fuzz(scale, 60, content)
    def check(data):
        own_errors_only(load_dataset, write(folder / "data.csv", data))

    check()


# ---------------------------------------------------------------------- MDTraj-readable


def test_trajectory_files(scale, folder):
    """Random, truncated and damaged PDB, DCD and XTC files through every MDTraj reader."""
    structure = md.load(str(PDB))
    topology = structure.topology
    frames = md.join([structure] * 3)
    valid = {".pdb": PDB.read_bytes()}
    for suffix in (".dcd", ".xtc"):
        frames.save(str(folder / f"valid{suffix}"))
        valid[suffix] = (folder / f"valid{suffix}").read_bytes()
    # MDTraj's XTC decoder (C) crashes the process on damaged compressed coordinates or
    # coordinate bounds, which no Python code can catch: XTC files are only cut short here.
    damaged = {suffix: mutated(data) for suffix, data in valid.items()}
    damaged[".xtc"] = st.integers(0, len(valid[".xtc"])).map(lambda n: valid[".xtc"][:n])
    content = st.sampled_from(sorted(valid)).flatmap(
        lambda suffix: st.tuples(st.just(suffix), damaged[suffix] | st.binary(max_size=500))
    )
    any_suffix = st.tuples(st.sampled_from(sorted(valid)), st.sampled_from(list(valid.values())))

    @fuzz(scale, 40, content | any_suffix)
    def check(case):
        suffix, data = case
        path = write(folder / f"input{suffix}", data)
        own_errors_only(load_structure, path)
        own_errors_only(load_topology, path)
        own_errors_only(count_frames, path)
        own_errors_only(lambda: list(iter_frames(path, topology, 2, 1, "top.pdb")))
        own_errors_only(check_first_frame, path, topology, "top.pdb")

    check()


# ---------------------------------------------------------------------- settings (YAML)

YAML_TOKENS = st.sampled_from(
    [
        *"a: - ? : { } [ ] , &x *x ' \" # | > --- ... %YAML 1.1 %TAG ! tag:x,2000:".split(),
        *"!!int !!float !!bool !!timestamp !!binary !!set !!omap !!pairs !!str !!null".split(),
        *"!!python/object:os.system !local !<tag:yaml.org,2002:int> \\u00 \\x".split(),
        *"2001-02-30 2001-12-14t21:59:43.10-05:00 1:70 0x1F 0o17 0b2 1_0 .inf .nan".split(),
        *"-.inf ~ null yes Off 1e400 key steps train 1".split(),
        "9" * 30,
    ]
)
YAML_SEPARATORS = mostly(
    st.sampled_from(["", " ", ": ", "\n", "\n  ", "\r\n", "\n- "]),
    st.sampled_from(["\t", "\x00", "\ufeff", "\x85", "\u2028"]),
    odds=19,
)
YAML_TRAPS = st.sampled_from(
    [
        *["2001-02-30", "!!int", "!!int x", "!!float .", "!!bool maybe", "!!timestamp x"],
        *["[" * 60, "{a: " * 60, "&a [*a]", "? [1]\n: 2", "{a: 1, a: 2}", "1" * 5000],
        *["!!python/object/apply:os.system [ls]", "!x" + "x" * 300, "a: |\n b\n\tc"],
    ]
)
"""Values PyYAML itself trips on or that strict settings refuse (bad scalars, deep nesting,
aliases, duplicate keys, huge ints, long tags)."""
PRINTABLE = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=4)
YAML_TEXT = st.lists(st.tuples(YAML_TOKENS | PRINTABLE, YAML_SEPARATORS), max_size=30).map(
    lambda parts: "".join(token + separator for token, separator in parts)
)


def test_settings_text(scale):
    """YAML parsing of raw and YAML-like text."""

    @fuzz(scale, 60, st.one_of(YAML_TRAPS, YAML_TEXT, st.text(max_size=200)))
    def check(text):
        own_errors_only(load_settings_text, text, "settings.yaml")

    check()


def test_settings_file_bytes(scale, folder):
    """Settings files of random bytes (invalid UTF-8, BOM, NUL) and YAML-like text."""
    text = YAML_TEXT | YAML_TRAPS.map(lambda trap: f"a: {trap}\n")
    content = st.one_of(st.binary(max_size=300), text, text.map(lambda t: "\ufeff" + t))

    @fuzz(scale, 30, content)
    def check(data):
        own_errors_only(load_yaml_mapping, write(folder / "settings.yaml", data))

    check()


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63, 10**20, -(10**30), 10**400]),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["1", "1.5", "nan", ".inf", "0x10", "1e3", "yes", "~", "", "cpu", "auto"]),
    st.sampled_from(["cuda", "cuda:99", "1:5:4", "5:1:4", "1:2:0", "1:2:x", "1,2,3", "-1,2"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
"""Any value a YAML file can hold (bar timestamps and binary)."""


def typed_value(hint: Any) -> st.SearchStrategy:
    """Values of about type ``hint`` (edge cases included), so that settings reach the
    dataclasses' own checks rather than only the type checks."""
    options = (
        typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, type(int | str)) else ()
    )
    if options:
        return st.one_of([typed_value(option) for option in options])
    if dataclasses.is_dataclass(hint):
        return settings_mapping(hint)
    if typing.get_origin(hint) is tuple:
        return st.lists(st.integers(-2, 300) | st.floats(-10, 1000) | SCALARS, max_size=5)
    return {
        int: st.integers(-5, 100) | st.sampled_from([2**63, 10**30, -(10**20)]),
        float: st.floats(-10, 10) | st.floats() | st.sampled_from([10**400, -(10**400)]),
        bool: st.booleans(),
        str: SCALARS.filter(lambda v: isinstance(v, str)),
        type(None): st.none(),
    }.get(hint, VALUES)


def settings_mapping(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    """Mappings of some of ``cls``'s fields (typed values or any value), now and then with an
    unknown key."""
    hints = typing.get_type_hints(cls)
    fields = {name: mostly(typed_value(hints[name]), VALUES) for name in hints if name != "source"}
    known = st.fixed_dictionaries({}, optional=fields)
    junk = st.dictionaries(st.text(max_size=8), VALUES, min_size=1, max_size=1)
    return mostly(known, st.tuples(known, junk).map(lambda pair: {**pair[0], **pair[1]}), odds=9)


CONFIG_CLASSES = [*MODEL_CONFIGS.values(), TrainConfig]


def test_config_dataclasses(scale, folder):
    """Model and training settings files, mappings dumped with yaml.safe_dump, built into their
    config dataclasses."""
    case = st.sampled_from(CONFIG_CLASSES).flatmap(
        lambda cls: st.tuples(st.just(cls), settings_mapping(cls))
    )

    @fuzz(scale, 60, case)
    def check(case):
        cls, mapping = case
        path = write(folder / "settings.yaml", yaml.safe_dump(mapping))
        data = own_errors_only(load_yaml_mapping, path)
        if isinstance(data, dict):
            own_errors_only(dataclass_from_mapping, cls, data, path)

    check()


DOTTED_KEYS = st.sampled_from(
    "seed out system data data.path model.kind model.train.steps model.width model.spib.lag "
    "simulate.temperatures simulate.chains sample.n sample.temperatures report.temperatures "
    "report.reference x.y".split()
)


SYSTEMS = st.sampled_from(["mueller-brown", "two-state", "lj7", "alanine-dipeptide", "x.yaml"])
DATA = st.sampled_from(["data.npz", "missing.npz"])


@st.composite
def workflow_mapping(draw: st.DrawFn) -> dict[str, Any]:
    """A workflow file's mapping: usually one source of frames and sections of about the right
    shape, sometimes any value in any section."""
    frames = draw(mostly(st.sampled_from(["simulate", "data"]), st.sampled_from(["both", "none"])))
    mapping = {}
    if frames in ("simulate", "both"):
        mapping["system"] = draw(mostly(SYSTEMS, VALUES))
        if draw(st.booleans()):
            mapping["simulate"] = draw(mostly(settings_mapping(SimulateSettings), VALUES))
    if frames in ("data", "both"):
        data = DATA | settings_mapping(DataSettings).map(lambda d: {"path": "data.npz", **d})
        mapping["data"] = draw(mostly(data, VALUES))
    kind = draw(mostly(st.sampled_from(sorted(MODEL_CONFIGS)), VALUES))
    known = isinstance(kind, str) and kind in MODEL_CONFIGS
    model = settings_mapping(MODEL_CONFIGS[kind] if known else TrainConfig)
    optional = {
        "model": mostly(model.map(lambda fields: {"kind": kind, **fields}), VALUES),
        "sample": mostly(settings_mapping(SampleSettings), VALUES),
        "report": mostly(settings_mapping(ReportSettings), VALUES),
        "out": st.sampled_from(["run", "data.npz", ""]) | st.text(max_size=8),
        "seed": typed_value(int),
    }
    mapping.update(draw(st.fixed_dictionaries({}, optional=optional)))
    if draw(st.integers(0, 9)) == 1:
        mapping[draw(st.sampled_from(["source", "sytem"]) | st.text(max_size=6))] = draw(VALUES)
    return mapping


def test_workflow_config(scale, folder):
    """Workflow files (sections of about the right shape, dumped as YAML) with overrides."""
    save_dataset(
        MultiTempDataset(np.zeros((4, 1)), np.array([1.0, 1.0, 2.0, 2.0])), folder / "data.npz"
    )
    dumped = SCALARS.map(lambda v: yaml.safe_dump(v).removesuffix("\n...\n").strip())
    value = st.one_of(YAML_TRAPS, YAML_TEXT, dumped)
    override = st.tuples(DOTTED_KEYS, value).map("=".join) | st.text(max_size=12)

    @fuzz(scale, 40, workflow_mapping(), st.lists(override, max_size=3))
    def check(mapping, overrides):
        path = write(folder / "workflow.yaml", yaml.safe_dump(mapping))
        own_errors_only(load_workflow_config, path, overrides)

    check()


@pytest.fixture
def folder() -> Iterator[Path]:
    """A fresh folder with a short path (error messages quote it; tmp_path's is long)."""
    with tempfile.TemporaryDirectory(prefix="fuzz") as name:
        yield Path(name)


@pytest.fixture(params=SCALES)
def scale(request) -> int:
    """Examples per property, in multiples of its default number."""
    return request.param
