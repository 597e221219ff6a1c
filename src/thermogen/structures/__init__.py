"""Whole molecules: internal coordinates, structures and their energies."""

from .zmatrix import CONSTRAINT_RULES, InternalCoordinates, build_internal_coordinates

__all__ = ["CONSTRAINT_RULES", "InternalCoordinates", "build_internal_coordinates"]
