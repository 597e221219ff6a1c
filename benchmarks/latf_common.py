"""Pieces shared by the LaTF benchmarks (three_hole.py, lj7.py): settings, labels, provenance."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import thermogen.models.latf as latf_module
from thermogen.models.latf import LaTFConfig


def latf_config(
    lag: int, seed: int, spib_steps: int | None = None, joint_steps: int | None = None
) -> LaTFConfig:
    """The default LaTF settings with a lag (frames), seeds and optional step counts."""
    config = LaTFConfig()
    spib_train = replace(config.spib.train, seed=seed)
    joint = replace(config.joint, seed=seed)
    if spib_steps:
        spib_train = replace(spib_train, steps=spib_steps)
    if joint_steps:
        joint = replace(joint, steps=joint_steps)
    return replace(config, spib=replace(config.spib, lag=lag, train=spib_train), joint=joint)


def kind_of(t: float, training: tuple[float, ...]) -> str:
    """``training``, ``interpolated`` or ``extrapolated`` relative to the training temperatures."""
    if t in training:
        return "training"
    return "interpolated" if min(training) < t < max(training) else "extrapolated"


def source_digest() -> str:
    """SHA-256 (first 12 hex digits) of the LaTF module that ran, as it may change between runs."""
    return hashlib.sha256(Path(latf_module.__file__).read_bytes()).hexdigest()[:12]
