"""``thermogen run CONFIG.yaml [key=value ...]`` and the configs in ``examples/``.

Tiny runs (Mueller-Brown, a few hundred training steps at most) go end to end through the CLI
in-process; every user mistake must give exit status 2 and one stderr line naming the key and
the file, before any step starts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from thermogen import __version__
from thermogen.errors import InputError
from thermogen.workflow import (
    DataSettings,
    WorkflowConfig,
    load_workflow_config,
    run_workflow,
    workflow_config_from_mapping,
)

from .cli_helpers import fails, run

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.yaml"))
TINY = {
    "system": "mueller-brown",
    "simulate": {"chains": 8, "steps": 2000, "equilibration": 200, "stride": 20},
    "model": {
        "kind": "diffusion",
        "width": 32,
        "blocks": 1,
        "train": {"steps": 40, "batch_size": 256, "validation_interval": 20},
    },
    "sample": {"n": 50, "steps": 6},
    "report": {"temperatures": [1.26], "n_samples": 50},
    "seed": 1,
}
"""A Mueller-Brown run of a few seconds (3,200 frames, 40 training steps)."""


def write_config(path: Path, settings: dict) -> Path:
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, Path, str]:
    """The tiny config, its output folder after ``thermogen run`` with overrides, and stdout."""
    folder = tmp_path_factory.mktemp("workflow")
    config = write_config(folder / "tiny.yaml", {**TINY, "out": str(folder / "ignored")})
    out = folder / "out"
    status, stdout, stderr = run(["run", config, "model.train.steps=30", f"out={out}", "--quiet"])
    assert status == 0, stderr
    return config, out, stdout


def test_run_writes_report_resolved_config_and_record(first_run):
    config, out, stdout = first_run
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "model" / "model.pt").is_file()
    assert f"report:     {out / 'report.html'}" in stdout
    for step in ("[1/4] simulate", "[2/4] train", "[3/4] sample", "[4/4] report"):
        assert step in stdout
    resolved = yaml.safe_load((out / "run.yaml").read_text())
    assert resolved["model"]["train"]["steps"] == 30  # the override, not the file's 40
    assert resolved["out"] == str(out)
    assert resolved["simulate"]["temperatures"] == [1.0, 1.587, 2.52, 4.0]  # the system's ladder
    assert resolved["simulate"]["seed"] == resolved["model"]["train"]["seed"] == 1
    # the resolved config loads back to the config that ran
    assert load_workflow_config(out / "run.yaml") == load_workflow_config(
        config, ["model.train.steps=30", f"out={out}"]
    )
    record = json.loads((out / "run.json").read_text())
    assert record["seed"] == 1 and record["thermogen_version"] == __version__
    assert record["results"]["n_frames"] == 8 * 4 * 100
    samples = np.load(out / "samples.npz")
    assert samples["features"].shape == (50, 2)
    assert np.all(samples["temperature"] == 1.26)  # sample temperatures default to the report's


def test_same_seed_gives_the_same_samples(first_run, tmp_path):
    config, out, _ = first_run
    # the same run, through the Python API, with a reference in its report
    reference = f"report.reference={out / 'data.npz'}"
    again = load_workflow_config(config, ["model.train.steps=30", f"out={tmp_path}", reference])
    result = run_workflow(again, progress=False, log=None)
    assert str(out / "data.npz") in result.report.read_text()  # listed as the reference
    first, second = np.load(out / "samples.npz"), np.load(result.samples)
    np.testing.assert_array_equal(first["features"], second["features"])
    np.testing.assert_array_equal(
        np.load(out / "data.npz")["features"], np.load(result.data)["features"]
    )


def test_overrides_change_the_resolved_config(tmp_path):
    config = write_config(tmp_path / "c.yaml", {**TINY, "out": "here"})
    resolved = load_workflow_config(
        config,
        [
            "seed=3",
            "model.train.steps=7",
            "sample.temperatures=[2.5, 1.5]",
            "out=/tmp/x",
            "simulate.temperatures=0.5:2:4",
        ],
    )
    assert resolved.seed == 3
    assert resolved.simulate.seed == resolved.sample.seed == resolved.report.seed == 3
    assert resolved.model.config.train.seed == 3  # the top-level seed feeds every step
    assert resolved.model.config.train.steps == 7 and resolved.model.config.width == 32
    assert resolved.sample.temperatures == (1.5, 2.5)
    assert resolved.out == "/tmp/x"
    assert resolved.simulate.temperatures == pytest.approx((0.5, 0.7937, 1.26, 2.0), abs=1e-4)
    plain = load_workflow_config(config)
    assert plain.seed == 1 and plain.model.config.train.steps == 40
    # a step's own seed wins over the top-level one
    own = load_workflow_config(config, ["model.train.seed=9", "seed=3"])
    assert own.model.config.train.seed == 9 and own.simulate.seed == 3


def test_inputs_are_relative_to_the_config_file(tmp_path, monkeypatch, first_run):
    _, out, _ = first_run
    (tmp_path / "d.npz").write_bytes((out / "data.npz").read_bytes())
    config = write_config(tmp_path / "c.yaml", {"data": "d.npz", "model": {"kind": "spib"}})
    monkeypatch.chdir(out)
    resolved = load_workflow_config(config)
    assert resolved.data == DataSettings(str(tmp_path / "d.npz"))
    assert resolved.sample is None  # spib models do not sample


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid(example, first_run):
    _, out, _ = first_run
    text = example.read_text()
    assert text.startswith("#")  # each example explains itself
    # import-data reads what two-state-latf writes; point it at a file that exists here
    overrides = [f"data={out / 'data.npz'}"] if "data" in yaml.safe_load(text) else []
    config = load_workflow_config(example, overrides)
    assert config.model.kind in ("diffusion", "latf", "spib")
    assert (config.system is None) != (config.data is None)


def test_examples_cover_every_built_in_kind():
    names = {p.name for p in EXAMPLES}
    assert {
        "mueller-brown-diffusion.yaml",
        "two-state-latf.yaml",
        "alanine-dipeptide.yaml",
        "import-data.yaml",
    } <= names
    kinds = {yaml.safe_load(p.read_text())["model"]["kind"] for p in EXAMPLES}
    assert kinds == {"diffusion", "latf", "spib"}


@pytest.mark.parametrize(
    ("settings", "key", "fragment"),
    [
        ({"modle": {"kind": "diffusion"}}, "modle", "did you mean 'model'"),
        (
            {"model": {"train": {"stepz": 3}}},
            "model.train.stepz",
            "did you mean 'model.train.steps'",
        ),
        ({"seed": "abc"}, "seed", "must be int"),
        ({"simulate": {"chains": "many"}}, "simulate.chains", "must be int or null"),
        ({"model": {"kind": "gan"}}, "model.kind", "diffusion, spib, latf"),
        ({"report": {"reference": "missing.npz"}}, "report.reference", "file not found"),
        ({"simulate": {"ns": 1}}, "simulate.ns", "molecules only"),
        ({"simulate": {"temperatures": 3904}}, "simulate.temperatures", "quoted ladder"),
        ({"report": {"reference_kind": "exakt"}}, "report.reference_kind", "reference, exact"),
        ({"system": "my-molecule.yaml"}, "system", "file not found"),
        ({"system": "nosuch"}, "system", "unknown system 'nosuch'"),
    ],
)
def test_config_mistakes_are_one_line_naming_key_and_file(tmp_path, settings, key, fragment):
    config = write_config(tmp_path / "bad.yaml", {**TINY, **settings, "out": str(tmp_path / "o")})
    fails(["run", config], str(config), f"field '{key}'", fragment)
    assert not (tmp_path / "o").exists()  # refused before any step started


def test_missing_data_file_is_one_line(tmp_path):
    config = write_config(tmp_path / "imp.yaml", {"data": "nope.npz"})
    fails(["run", config], str(config), "field 'data'", f"file not found: {tmp_path / 'nope.npz'}")


@pytest.mark.parametrize(
    ("override", "key", "fragment"),
    [
        ("model.train.stepz=3", "model.train.stepz", "did you mean 'model.train.steps'"),
        ("seed=abc", "seed", "must be int"),
        ("report.reference=missing.npz", "report.reference", "file not found"),
        ("data=x.npz", "simulate", "both given"),
    ],
)
def test_override_mistakes_name_the_command_line(tmp_path, override, key, fragment):
    config = write_config(tmp_path / "c.yaml", {**TINY, "out": str(tmp_path / "o")})
    fails(["run", config, override], "command line", str(config), f"field '{key}'", fragment)
    assert not (tmp_path / "o").exists()


def test_override_must_be_key_value(tmp_path):
    config = write_config(tmp_path / "c.yaml", TINY)
    fails(["run", config, "steps"], "command line", "KEY=VALUE")


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"data": "d.npz"}, "and 'data' are both given"),
        ({"system": None, "simulate": None}, "says where no frames come from"),
        ({"system": None}, "'simulate' needs a system"),
    ],
)
def test_exactly_one_source_of_frames(tmp_path, settings, fragment):
    (tmp_path / "d.npz").write_bytes(b"")
    config = write_config(tmp_path / "c.yaml", {**TINY, **settings})
    fails(["run", config], str(config), fragment)


def test_model_kind_limits(tmp_path):
    base = {key: value for key, value in TINY.items() if key != "model"}
    spib = workflow_config_from_mapping(
        {**base, "sample": None, "report": {}, "model": {"kind": "spib"}}
    )
    assert spib.sample is None
    with pytest.raises(ValueError, match="spib model has no temperature model"):
        workflow_config_from_mapping({**base, "model": {"kind": "spib"}})
    with pytest.raises(ValueError, match=r"report\.temperatures"):
        workflow_config_from_mapping({**base, "sample": None, "model": {"kind": "latf"}})
    with pytest.raises(ValueError, match=r"sample\.steps"):
        workflow_config_from_mapping({**base, "report": {}, "model": {"kind": "latf"}})


def test_a_config_built_by_hand_is_checked_before_running(tmp_path):
    with pytest.raises(InputError, match="field 'data': file not found"):
        run_workflow(WorkflowConfig(data="nope.npz", out=str(tmp_path / "o")), log=None)
    assert not (tmp_path / "o").exists()
