"""Networks shared by the models: a residual MLP conditioned on embeddings."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ConditionedResidualMLP", "sinusoidal_embedding"]


def sinusoidal_embedding(value: torch.Tensor, dim: int, max_period: float = 1000.0) -> torch.Tensor:
    """Sinusoidal features (B, dim) of a scalar per row ``value`` (B,), as in transformers.

    Frequencies are geometric between 1 and 1/max_period (``value`` is scaled by max_period).
    """
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, device=value.device, dtype=value.dtype) / half
    )
    angles = value[:, None] * max_period * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class _Block(nn.Module):
    """LayerNorm -> Linear -> SiLU -> Linear with a per-feature scale and shift from the condition."""

    def __init__(self, width: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.film = nn.Linear(cond_dim, 2 * width)
        self.inner = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        nn.init.zeros_(self.inner[-1].weight)
        nn.init.zeros_(self.inner[-1].bias)

    def forward(self, h: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(cond).chunk(2, dim=1)
        return h + self.inner(self.norm(h) * (1 + scale) + shift)


class ConditionedResidualMLP(nn.Module):
    """x (B, in_dim) and a condition (B, cond_dim), or (1, cond_dim) shared by all rows -> (B, out_dim).

    Parameters
    ----------
    in_dim, cond_dim, out_dim
        Input, condition and output widths.
    width, blocks
        Hidden width and number of residual blocks.
    """

    def __init__(
        self, in_dim: int, cond_dim: int, out_dim: int, width: int = 256, blocks: int = 4
    ) -> None:
        super().__init__()
        self.cond = nn.Sequential(nn.Linear(cond_dim, width), nn.SiLU(), nn.Linear(width, width))
        self.inp = nn.Linear(in_dim, width)
        self.blocks = nn.ModuleList(_Block(width, width) for _ in range(blocks))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.SiLU(), nn.Linear(width, out_dim))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        c = self.cond(cond)
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, c)
        return self.out(h)
