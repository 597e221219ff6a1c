"""The diffusion model's settings, noise-prediction network and training loss."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from ..config import check_fields
from ..train import TrainConfig
from .networks import ConditionedResidualMLP, sinusoidal_embedding
from .schedule import CosineSchedule

__all__ = ["TEMPERATURE_MODES", "DenoiserNet", "DiffusionConfig", "diffusion_loss", "noise_scale"]

TEMPERATURE_MODES = ("conditional", "scaled-prior")
_CONFIG_RULES = {
    "temperature_mode": (f"one of {TEMPERATURE_MODES}", lambda v: v in TEMPERATURE_MODES),
    "width": ("an integer in [1, 16384]", lambda v: 1 <= v <= 16_384),
    "blocks": ("an integer in [1, 256]", lambda v: 1 <= v <= 256),
    "time_features": ("an even integer in [2, 1024]", lambda v: 2 <= v <= 1024 and v % 2 == 0),
    "final_alpha_bar": ("in (0, 1)", lambda v: 0 < v < 1),
    "validation_fraction": ("in (0, 1)", lambda v: 0 < v < 1),
}
"""The range of every setting, checked when the settings are built (YAML, CLI or Python)."""
_TEMPERATURE_FREQUENCIES = (math.pi / 4, math.pi / 2)
"""Low frequencies (radians per unit of scaled log T): high ones break extrapolation in T."""


@dataclass(frozen=True)
class DiffusionConfig:
    """Settings of the diffusion model.

    Attributes
    ----------
    temperature_mode
        ``"scaled-prior"`` or ``"conditional"`` (see the module docstring).
    width, blocks
        Hidden width and number of residual blocks of the noise-prediction MLP.
    time_features
        Size of the sinusoidal embedding of the diffusion time.
    final_alpha_bar
        alpha-bar at the end of the cosine schedule.
    validation_fraction
        Fraction of each trajectory (its end) held out for the validation loss.
    train
        Optimisation settings (steps, batch, learning rate, EMA, device, seed, ...).
    """

    temperature_mode: str = "conditional"
    width: int = 128
    blocks: int = 4
    time_features: int = 64
    final_alpha_bar: float = 1e-4
    validation_fraction: float = 0.1
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=6_000, batch_size=1024, learning_rate=2e-3)
    )

    def __post_init__(self) -> None:
        check_fields(self, _CONFIG_RULES)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready settings."""
        return asdict(self)


class DenoiserNet(nn.Module):
    """Noise predictor eps(z_t, t, log T/T_ref) (B, D') for the standardized coordinates z_t.

    Preconditioned as in EDM (Karras et al. 2022): with a = sqrt(ab), b = sqrt(1 - ab) and s the
    noise scale, eps = b s z_t / (a^2 + b^2 s^2) + F(z_t / sqrt(a^2 + b^2 s^2), t, T). The first
    term is the exact answer for unit-variance Gaussian data, so the MLP F only learns the
    deviation from it and always sees unit-variance inputs; without it, trajectories that start
    in the prior's tails leave everything the network was trained on.

    ``t`` and ``log_ratio`` are (B,), or (1,) when the whole batch shares them (sampling): the
    conditioning is then computed once and broadcast.
    """

    def __init__(self, dim: int, temperature_spread: float, config: DiffusionConfig) -> None:
        super().__init__()
        self.time_features = config.time_features
        self.mode = config.temperature_mode
        self.schedule = CosineSchedule(config.final_alpha_bar)
        self.register_buffer("spread", torch.tensor(float(temperature_spread)))
        cond_dim = config.time_features + 1 + 2 * len(_TEMPERATURE_FREQUENCIES)
        self.mlp = ConditionedResidualMLP(
            dim, cond_dim, dim, width=config.width, blocks=config.blocks
        )

    def forward(self, z_t: torch.Tensor, t: torch.Tensor, log_ratio: torch.Tensor) -> torch.Tensor:
        tau = log_ratio / self.spread
        waves = [f(w * tau) for w in _TEMPERATURE_FREQUENCIES for f in (torch.sin, torch.cos)]
        cond = torch.cat(
            [sinusoidal_embedding(t, self.time_features), tau[:, None], torch.stack(waves, 1)],
            dim=1,
        )
        ab = self.schedule.alpha_bar(t)[:, None]
        noise_sd = (1 - ab).sqrt() * noise_scale(log_ratio, self.mode)[:, None]
        total_var = ab + noise_sd**2
        return noise_sd / total_var * z_t + self.mlp(z_t / total_var.sqrt(), cond)


def noise_scale(log_ratio: torch.Tensor, mode: str) -> torch.Tensor:
    """Forward-noise standard deviation of each row: sqrt(T / T_ref) (scaled prior) or 1."""
    return torch.exp(0.5 * log_ratio) if mode == "scaled-prior" else torch.ones_like(log_ratio)


def diffusion_loss(schedule: CosineSchedule, mode: str):
    """The training loss: mean squared error of the predicted noise at a uniform random time.

    The returned function takes the network, a batch of rows [z (D'), log T/T_ref] (B, D'+1) and a
    torch.Generator.
    """

    def loss(net: nn.Module, rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z0, log_ratio = rows[:, :-1], rows[:, -1]
        t = torch.rand(rows.shape[0], generator=generator, device=generator.device).to(rows)
        noise = torch.randn(z0.shape, generator=generator, device=generator.device).to(rows)
        ab = schedule.alpha_bar(t)[:, None]
        scale = noise_scale(log_ratio, mode)[:, None]
        z_t = ab.sqrt() * z0 + (1 - ab).sqrt() * scale * noise
        return torch.mean((net(z_t, t, log_ratio) - noise) ** 2)

    return loss
