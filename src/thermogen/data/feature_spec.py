"""Feature specifications: the items ``KIND[:SELECTION[:CUTOFF]]`` of ``--features``.

:func:`parse_features` turns the text into :class:`FeatureSpec` items; the language (kinds,
default selections, the contact cutoff) is described in :mod:`thermogen.data.featurize`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError

__all__ = [
    "ANGLE_KINDS",
    "DEFAULT_CUTOFF",
    "DEFAULT_SELECTION",
    "FEATURE_KINDS",
    "FeatureSpec",
    "parse_features",
]

ANGLE_KINDS = ("phi", "psi", "omega", "chi1")
FEATURE_KINDS = (*ANGLE_KINDS, "distances", "contacts", "rg", "rmsd", "internal")
DEFAULT_SELECTION = {
    "distances": "name CA",
    "contacts": "name CA",
    "rg": "all",
    "rmsd": "not element H",
    "internal": "HBonds",
}
"""Selection of a kind whose spec gives none (angle kinds default to every residue)."""
INTERNAL_RULES = ("HBonds", "none", "AllBonds")
"""``internal:RULE``: which bond lengths are constrained (and so not features)."""
DEFAULT_CUTOFF = 0.8
"""Contact cutoff in nm."""

_ALIASES = {"distance": "distances", "contact": "contacts"}
"""Singular spellings accepted for the pair kinds."""


@dataclass(frozen=True)
class FeatureSpec:
    """One item of a feature specification.

    Parameters
    ----------
    kind
        One of :data:`FEATURE_KINDS`.
    selection
        MDTraj atom selection, or None for the kind's default (all residues for angles).
    cutoff
        Contact cutoff in nm (``contacts`` only), or None for the default 0.8 nm.
    """

    kind: str
    selection: str | None = None
    cutoff: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise UsageError(
                f"--features: unknown feature {self.kind!r}; use {', '.join(FEATURE_KINDS)}"
            )
        if self.cutoff is not None and self.kind != "contacts":
            raise UsageError(f"--features: {self.kind!r} takes no cutoff (only contacts does)")
        if self.cutoff is not None and not (np.isfinite(self.cutoff) and self.cutoff > 0):
            raise UsageError(
                f"--features: the contact cutoff must be a positive distance in nm, got {self.cutoff:g}"
            )
        if self.kind == "internal" and self.selection not in (None, *INTERNAL_RULES):
            raise UsageError(
                f"--features: internal:{self.selection} names no constraint rule; use "
                f"{', '.join(f'internal:{rule}' for rule in INTERNAL_RULES)} (bonds held fixed)"
            )

    def __str__(self) -> str:
        parts = [self.kind]
        if self.selection is not None or self.cutoff is not None:
            parts.append(self.selection or DEFAULT_SELECTION[self.kind])
        if self.cutoff is not None:
            parts.append(f"{self.cutoff:g}")
        return ":".join(parts)


def parse_features(text: str) -> tuple[FeatureSpec, ...]:
    """Parse a feature specification such as ``"phi,psi,rmsd:backbone,contacts:name CA:0.8"``.

    Parameters
    ----------
    text
        Comma-separated items ``KIND[:SELECTION[:CUTOFF]]`` (see :mod:`thermogen.data.featurize`).

    Returns
    -------
    tuple of FeatureSpec
        One per item, in order.

    Raises
    ------
    UsageError
        For an empty specification, an unknown kind, an empty selection text or a bad cutoff.
    """
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or not all(items):
        raise UsageError(
            f"--features: {text!r} has an empty item; write e.g. 'phi,psi' or 'rmsd:backbone'"
        )
    return tuple(_parse_item(item) for item in items)


def _parse_item(item: str) -> FeatureSpec:
    head, sep, rest = item.partition(":")
    kind = _ALIASES.get(head.strip().lower(), head.strip().lower())
    if not sep:
        return FeatureSpec(kind)
    cutoff = None
    if kind == "contacts":
        selection_text, sep, last = rest.rpartition(":")
        if sep:
            try:
                cutoff = float(last)
            except ValueError:
                raise UsageError(
                    f"--features: {item!r}: the contact cutoff {last.strip()!r} is not a number (nm)"
                ) from None
            rest = selection_text
    selection = rest.strip()
    if not selection:
        raise UsageError(
            f"--features: {item!r} has an empty selection; leave out the ':' for the default"
        )
    return FeatureSpec(kind, selection, cutoff)
