"""Test-wide settings: one torch thread (several are 10-30x slower on small machines)."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
