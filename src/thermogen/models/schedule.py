"""The noise schedule of the diffusion model (variance preserving, continuous time t in [0, 1])."""

from __future__ import annotations

import math

import torch

__all__ = ["CosineSchedule"]


class CosineSchedule:
    """Cosine alpha-bar schedule (Nichol & Dhariwal 2021) ending at ``final_alpha_bar``.

    alpha_bar(t) = cos^2(pi/2 (u + s)/(1 + s)) / cos^2(pi/2 s/(1 + s)) with u = t * u_max, where u_max
    is chosen so that alpha_bar(1) = ``final_alpha_bar`` exactly (no clipping kink). A final
    alpha-bar of ~1e-4 keeps the few-step samplers stable (smaller values made DDIM diverge).
    The noise level of the EDM parametrisation is sigma(t) = sqrt((1 - alpha_bar) / alpha_bar).
    """

    def __init__(self, final_alpha_bar: float = 1e-4, offset: float = 0.008) -> None:
        self.offset = offset
        self._c0 = math.cos(0.5 * math.pi * offset / (1 + offset)) ** 2
        angle = math.acos(math.sqrt(final_alpha_bar * self._c0))
        self.u_max = angle * 2 / math.pi * (1 + offset) - offset
        self.final_alpha_bar = final_alpha_bar

    def alpha_bar(self, t: torch.Tensor) -> torch.Tensor:
        """alpha_bar(t) for t in [0, 1], same shape as ``t``."""
        u = t * self.u_max
        return torch.cos(0.5 * math.pi * (u + self.offset) / (1 + self.offset)) ** 2 / self._c0

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        """EDM noise level sqrt((1 - alpha_bar)/alpha_bar)."""
        ab = self.alpha_bar(t)
        return torch.sqrt((1 - ab) / ab)

    def t_of_sigma(self, sigma: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`sigma`."""
        ab = 1.0 / (1.0 + sigma**2)
        angle = torch.acos(torch.sqrt(ab * self._c0).clamp(max=1.0))
        return (angle * 2 / math.pi * (1 + self.offset) - self.offset) / self.u_max

    @property
    def sigma_max(self) -> float:
        return math.sqrt((1 - self.final_alpha_bar) / self.final_alpha_bar)
