"""torch's CPU thread count for thermogen's work, set for the duration of a call and restored.

The networks here are small: on small machines they run 10-30x slower with several intra-op
threads than with one. thermogen therefore uses ``THERMOGEN_TORCH_THREADS`` threads (default 1)
inside every fit, sample, encode and density call, and gives the caller's setting back
afterwards; importing thermogen changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import InputError

__all__ = ["TORCH_THREADS_ENV", "configured_threads", "torch_threads"]

TORCH_THREADS_ENV = "THERMOGEN_TORCH_THREADS"
"""Environment variable with the number of torch CPU threads thermogen uses (default 1)."""


def configured_threads() -> int:
    """The thread count of ``THERMOGEN_TORCH_THREADS`` (1 when unset)."""
    value = os.environ.get(TORCH_THREADS_ENV, "1")
    if not value.isdigit() or int(value) < 1:
        raise InputError(TORCH_THREADS_ENV, None, f"must be a positive integer, got {value!r}")
    return int(value)


@contextmanager
def torch_threads(threads: int | None = None) -> Iterator[None]:
    """Use ``threads`` torch intra-op threads inside the block (default
    :func:`configured_threads`) and restore the caller's number after it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(configured_threads() if threads is None else threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
