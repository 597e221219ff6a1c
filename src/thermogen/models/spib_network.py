"""SPIB's network: encoder, linear state decoder, VampPrior, and the loss of a lagged pair."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..train import LossFn
from .representation import FeatureScaler

__all__ = [
    "Encoder",
    "SPIBNet",
    "VampPrior",
    "encode_states",
    "gaussian_log_prob",
    "mlp",
    "skeleton",
    "spib_loss",
]


def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int) -> nn.Sequential:
    """in_dim -> hidden... (ReLU) -> out_dim."""
    widths = (in_dim, *hidden)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], out_dim))


class Encoder(nn.Module):
    """x (B, D') -> mean and log-variance (B, d) of the Gaussian q(z | x)."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        self.net = mlp(in_dim, hidden, 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.net(x).chunk(2, dim=-1)
        return mean, log_var


def gaussian_log_prob(z: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, diag exp(log_var)) summed over the last axis."""
    return -0.5 * (((z - mean) ** 2) / log_var.exp() + log_var + math.log(2 * math.pi)).sum(-1)


class VampPrior(nn.Module):
    """r(z) = sum_k w_k q(z | p_k): the encoder at K learned pseudo-inputs p_k (K, D')."""

    def __init__(self, pseudo_inputs: torch.Tensor, log_weights: torch.Tensor) -> None:
        super().__init__()
        self.pseudo_inputs = nn.Parameter(pseudo_inputs.clone().float())
        self.log_weights = nn.Parameter(log_weights.clone().float())

    def log_prob(
        self,
        z: torch.Tensor,
        log_ratio: torch.Tensor,
        encoder: Encoder,
        state: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """log r(z) (B,) of latents (B, d); ``log_ratio`` and ``state`` are ignored (the prior
        knows neither temperature nor the frame's own state)."""
        mean, log_var = encoder(self.pseudo_inputs)
        per_state = gaussian_log_prob(z[:, None, :], mean[None], log_var[None])
        return torch.logsumexp(per_state + self.log_weights.log_softmax(0), dim=1)


class SPIBNet(nn.Module):
    """Encoder, linear state decoder and a latent prior with
    ``log_prob(z, log_ratio, encoder, state)``."""

    def __init__(self, encoder: Encoder, decoder: nn.Linear, prior: nn.Module) -> None:
        super().__init__()
        self.encoder, self.decoder, self.prior = encoder, decoder, prior

    @property
    def n_states(self) -> int:
        """Number of states the decoder predicts."""
        return self.decoder.out_features

    def forward(
        self,
        x: torch.Tensor,
        label: torch.Tensor,
        log_ratio: torch.Tensor,
        state: torch.Tensor,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-pair cross-entropy of the future state ``label`` and single-sample KL term against
        the prior at the frame's temperature and own ``state``, each (B,)."""
        mean, log_var = self.encoder(x)
        noise = torch.randn(mean.shape, generator=generator, device=x.device, dtype=x.dtype)
        z = mean + (0.5 * log_var).exp() * noise
        prior = self.prior.log_prob(z, log_ratio, self.encoder, state)
        kl = gaussian_log_prob(z, mean, log_var) - prior
        return F.cross_entropy(self.decoder(z), label, reduction="none"), kl

    @torch.no_grad()
    def states(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent means (N, d) and most likely states (N,) of standardized frames (N, D')."""
        mean, _ = self.encoder(x)
        return mean, self.decoder(mean).argmax(dim=1)


def encode_states(
    scaler: FeatureScaler, net: SPIBNet, features: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Latent means (N, d) and most likely states (N,) of raw features (N, D), as numpy."""
    x = torch.as_tensor(scaler.encode(np.asarray(features, dtype=float)), dtype=torch.float32)
    cv, state = net.states(x)
    return cv.numpy().astype(float), state.numpy()


def spib_loss(in_dim: int, beta: float) -> LossFn:
    """Weighted mean of cross-entropy + beta * KL over rows
    [x (D'), future label, weight, log_ratio, own label]."""

    def loss(module: nn.Module, rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x, label, weight, log_ratio, state = rows.split([in_dim, 1, 1, 1, 1], dim=1)
        ce, kl = module(x, label[:, 0].long(), log_ratio[:, 0], state[:, 0].long(), generator)
        weight = weight[:, 0]
        return (weight * (ce + beta * kl)).sum() / weight.sum().clamp_min(1e-12)

    return loss


def skeleton(config: Any, in_dim: int, n_states: int, prior: nn.Module) -> SPIBNet:
    """An untrained network of the given shape, to load weights into."""
    return SPIBNet(
        Encoder(in_dim, config.hidden, config.latent_dim),
        nn.Linear(config.latent_dim, n_states),
        prior,
    )
