"""Settings from YAML: nested dataclasses at any depth, lists as tuples, one-line errors."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import yaml

from thermogen.config import dataclass_from_mapping, load_yaml_mapping
from thermogen.errors import InputError
from thermogen.models import MODEL_CONFIGS, DiffusionConfig, LaTFConfig, SPIBConfig


def from_yaml(tmp_path: Path, settings: object, cls: type = LaTFConfig):
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(settings))
    return dataclass_from_mapping(cls, load_yaml_mapping(path), path)


def test_every_model_has_a_config():
    assert MODEL_CONFIGS == {"diffusion": DiffusionConfig, "spib": SPIBConfig, "latf": LaTFConfig}


def test_nested_settings_and_lists_build_a_latf_config(tmp_path):
    config = from_yaml(
        tmp_path,
        {
            "spib": {"lag": 30, "hidden": [32, 16], "train": {"steps": 300, "seed": 4}},
            "flow_hidden": [8],
            "joint": {"steps": 700},
        },
    )
    assert config.spib.lag == 30 and config.spib.hidden == (32, 16)
    assert config.flow_hidden == (8,) and isinstance(config.flow_hidden, tuple)
    assert (config.spib.train.steps, config.spib.train.seed, config.joint.steps) == (300, 4, 700)


def test_a_nested_mapping_overrides_only_the_keys_it_names(tmp_path):
    """Other settings keep the enclosing config's defaults, not TrainConfig's."""
    config = from_yaml(tmp_path, {"spib": {"train": {"steps": 300}}, "joint": {"steps": 700}})
    assert config.spib.train == replace(SPIBConfig().train, steps=300)
    assert config.joint.learning_rate == LaTFConfig().joint.learning_rate
    assert config.joint.warmup_steps == LaTFConfig().joint.warmup_steps
    diffusion = from_yaml(tmp_path, {"train": {"steps": 10}}, DiffusionConfig)
    assert diffusion.train.learning_rate == DiffusionConfig().train.learning_rate


@pytest.mark.parametrize(
    ("settings", "field_name", "fragment"),
    [
        ({"spib": {"lagg": 3}}, "spib.lagg", "unknown setting; did you mean 'spib.lag'?"),
        ({"spib": {"train": {"stpes": 3}}}, "spib.train.stpes", "did you mean 'spib.train.steps'?"),
        ({"spib": {"lag": "ten"}}, "spib.lag", "must be int, got 'ten'"),
        ({"spib": {"hidden": 64}}, "spib.hidden", "must be a list of int, got 64"),
        ({"spib": {"hidden": [32, "x"]}}, "spib.hidden[1]", "must be int, got 'x'"),
        ({"spib": {"beta": [1]}}, "spib.beta", "must be float, got [1]"),
        ({"spib": 5}, "spib", "must be a mapping of settings, got 5"),
        ({"joint": {"seed": True}}, "joint.seed", "must be int, got True"),
        ({"spib": {"lag": 0}}, "spib", "SPIBConfig.lag must be ≥ 1 frame"),
        ({"joint": {"steps": 0}}, "joint", "TrainConfig.steps must be ≥ 1"),
    ],
)
def test_mistakes_are_one_line_naming_the_dotted_key_and_the_file(
    tmp_path, settings, field_name, fragment
):
    with pytest.raises(InputError) as caught:
        from_yaml(tmp_path, settings)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'settings.yaml'}: field '{field_name}': ")
    assert fragment in message


@dataclass(frozen=True)
class Inner:
    pair: tuple[int, float] = (1, 2.0)
    widths: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Middle:
    inner: Inner = field(default_factory=Inner)
    name: str = "m"


@dataclass(frozen=True)
class Outer:
    middle: Middle = field(default_factory=Middle)


def test_three_levels_fixed_length_tuples_and_optional_tuples(tmp_path):
    config = from_yaml(
        tmp_path, {"middle": {"inner": {"pair": [3, 4], "widths": [5, 6, 7]}}}, Outer
    )
    assert config == Outer(Middle(Inner((3, 4.0), (5, 6, 7))))
    assert isinstance(config.middle.inner.pair[1], float)
    assert from_yaml(tmp_path, {"middle": {"inner": {"widths": None}}}, Outer) == Outer()
    with pytest.raises(
        InputError, match=r"'middle\.inner\.pair': must be a list of 2 values, got 3"
    ):
        from_yaml(tmp_path, {"middle": {"inner": {"pair": [1, 2, 3]}}}, Outer)
    with pytest.raises(InputError, match=r"'middle\.inner\.widths': must be a list of int or null"):
        from_yaml(tmp_path, {"middle": {"inner": {"widths": "wide"}}}, Outer)
