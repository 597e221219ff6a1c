"""Settings files are read strictly: no anchors or aliases, no repeated keys, bounded size, and
error messages that quote at most ~100 characters of a value."""

from __future__ import annotations

import time

import pytest

from thermogen.config import dataclass_from_mapping, load_yaml_mapping
from thermogen.errors import InputError
from thermogen.models import DiffusionConfig
from thermogen.strict_yaml import MAX_SETTINGS_BYTES

ALIAS_BOMB = "\n".join(
    ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    + ["width: *i"]
)


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    assert len(ALIAS_BOMB) < 600  # 9**9 strings once expanded
    started = time.perf_counter()
    with pytest.raises(
        InputError, match=r"bomb\.yaml: uses a YAML anchor or alias \(&a\) at line 1"
    ):
        load_yaml_mapping(path)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("train: &t {steps: 5}\n", "anchor or alias (&t) at line 1"),
        ("width: 64\nblocks: 2\nwidth: 32\n", "the key 'width' is given twice (lines 1 and 3)"),
        ("train:\n  steps: 5\n  steps: 6\n", "the key 'steps' is given twice (lines 2 and 3)"),
        ("width: [1, 2\n", "is not valid YAML at line 2"),
    ],
)
def test_anchors_repeated_keys_and_bad_yaml_are_one_line_errors(tmp_path, text, fragment):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_yaml_mapping(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and fragment in message and "\n" not in message


def test_binary_and_oversized_files_are_refused_without_parsing(tmp_path):
    binary = tmp_path / "model.yaml"
    binary.write_bytes(b"\x80\x03\x00 not text \xff\xfe")
    with pytest.raises(InputError, match="is not a text"):
        load_yaml_mapping(binary)
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * (MAX_SETTINGS_BYTES // 10 + 1))
    with pytest.raises(InputError, match="is larger than 1,000,000 bytes"):
        load_yaml_mapping(big)


def test_error_messages_quote_a_long_value_in_at_most_about_100_characters(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("width: '" + "9" * 100_000 + "'\n")
    with pytest.raises(InputError) as caught:
        dataclass_from_mapping(DiffusionConfig, load_yaml_mapping(path), path)
    message = str(caught.value)
    assert "field 'width': must be int" in message and len(message) < len(str(path)) + 200
