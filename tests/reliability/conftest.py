"""Fixtures of the reliability tests."""

from __future__ import annotations

import pytest

from .inputs import World, build_world


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    """The shared inputs, built once per session."""
    return build_world(tmp_path_factory.mktemp("reliability_world"))
