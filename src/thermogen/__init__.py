"""thermogen: temperature-transferable generative models for multi-temperature simulation data.

The package is organised so that data flow one way:
files -> :mod:`thermogen.data` -> models -> samples -> :mod:`thermogen.analysis` -> report.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("thermogen")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
