"""LaTF's settings and its latent prior: a spline flow over a temperature-steered tilted Gaussian.

The model that uses them, and what the temperature couplings mean, is described in
:mod:`thermogen.models.latf`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
import zuko
from torch import nn

from ..config import check_fields
from ..data.dataset import MultiTempDataset
from ..train import TrainConfig, seeded
from .representation import TemperatureScale
from .spib import (
    Encoder,
    LaggedData,
    Rounds,
    SPIBConfig,
    SPIBNet,
    StageTrainer,
    spib_loss,
)
from .state_thermodynamics import StateCounts, StateThermodynamics
from .tilted_gaussian import TiltedGaussian

__all__ = ["TEMPERATURE_COUPLINGS", "FlowPrior", "LaTFConfig", "train_joint_stage"]

TEMPERATURE_COUPLINGS = ("van-t-hoff", "base-only", "flow-context")

_CONFIG_RULES = {
    "temperature_coupling": (
        f"one of {TEMPERATURE_COUPLINGS}",
        lambda v: v in TEMPERATURE_COUPLINGS,
    ),
    "tilt": ("≥ 0", lambda v: v >= 0),
    "transforms": ("≥ 1", lambda v: v >= 1),
    "flow_hidden": ("a non-empty tuple of widths ≥ 1", lambda v: len(v) > 0 and min(v) >= 1),
    "bins": ("≥ 2", lambda v: v >= 2),
}


@dataclass(frozen=True)
class LaTFConfig:
    """Settings of LaTF.

    Attributes
    ----------
    spib
        The SPIB stage (encoder, lag, beta, relabelling rounds); its ``beta`` also weights the
        flow-prior KL term of the joint stage.
    temperature_coupling
        ``"flow-context"`` or ``"base-only"`` (see the module docstring).
    tilt
        tau of the tilted Gaussian base.
    transforms, flow_hidden, bins
        Spline transforms, hidden widths of their networks, and spline bins.
    joint
        Optimisation settings of the joint stage.
    """

    spib: SPIBConfig = field(default_factory=SPIBConfig)
    temperature_coupling: str = "van-t-hoff"
    tilt: float = 2.0
    transforms: int = 4
    flow_hidden: tuple[int, ...] = (64, 64)
    bins: int = 8
    joint: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=3000,
            batch_size=512,
            learning_rate=3e-3,
            warmup_steps=100,
            ema_decay=0.995,
            validation_interval=500,
            checkpoint_interval=3000,
        )
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "flow_hidden", tuple(self.flow_hidden))
        check_fields(self, _CONFIG_RULES)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready settings."""
        return asdict(self)


class FlowPrior(nn.Module):
    """p(z | T): a spline flow on the standardized latent over the tilted Gaussian at T / T_ref.

    With the ``"van-t-hoff"`` coupling it is a mixture over the S states,
    p(z | T) = sum_k p_k(T) p(z | k, T), the flow conditioned on the state (one-hot) and the
    state populations p_k(T) those of :class:`StateThermodynamics` (buffers set after fitting).

    Parameters
    ----------
    latent_dim
        d.
    config
        Coupling, tilt and flow size.
    spread
        Half the range of log T on the training ladder; the flow context is log(T/T_ref) / spread.
    n_states
        S, the number of states (used by the ``"van-t-hoff"`` coupling).
    """

    def __init__(self, latent_dim: int, config: LaTFConfig, spread: float, n_states: int) -> None:
        super().__init__()
        self.latent_dim, self.tilt, self.n_states = latent_dim, config.tilt, n_states
        self.coupling = config.temperature_coupling
        context = {"base-only": 0, "flow-context": 1, "van-t-hoff": n_states}[self.coupling]
        self.transform = zuko.flows.NSF(
            features=latent_dim,
            context=context,
            transforms=config.transforms,
            hidden_features=config.flow_hidden,
            bins=config.bins,
        ).transform
        self.register_buffer("spread", torch.tensor(float(spread)))
        self.register_buffer("shift", torch.zeros(latent_dim))
        self.register_buffer("scale", torch.ones(latent_dim))
        # S_k / k_B and H_k / (k_B T_ref) of the states (van-t-hoff coupling)
        self.register_buffer("entropy", torch.zeros(n_states))
        self.register_buffer("enthalpy", torch.zeros(n_states))

    @property
    def is_mixture(self) -> bool:
        """Whether the prior is a mixture over states with thermodynamic weights."""
        return self.coupling == "van-t-hoff"

    def standardize_with(self, latent: torch.Tensor) -> None:
        """Set the fixed affine standardization from latent means (N, d)."""
        self.shift.copy_(latent.mean(0))
        self.scale.copy_(latent.std(0).clamp_min(1e-6))

    def set_thermodynamics(self, states: StateThermodynamics, reference: float) -> None:
        """Set the state weights from fitted entropies and enthalpies (T_ref = ``reference``)."""
        self.entropy.copy_(torch.as_tensor(states.entropy))
        self.enthalpy.copy_(torch.as_tensor(states.enthalpy / reference))

    def log_weights(self, log_ratio: torch.Tensor) -> torch.Tensor:
        """(B, S) log state populations at log(T / T_ref) (B,) (van-t-hoff coupling)."""
        logits = self.entropy - self.enthalpy * torch.exp(-log_ratio)[:, None]
        return logits.log_softmax(dim=1)

    def to_base(
        self, log_ratio: torch.Tensor, state: torch.Tensor | None = None
    ) -> torch.distributions.Transform:
        """The map standardized z -> u at temperatures log(T / T_ref) (B,) (and, with the
        van-t-hoff coupling, for the states (B,))."""
        if self.coupling == "flow-context":
            return self.transform((log_ratio / self.spread)[:, None])
        if self.is_mixture:
            return self.transform(F.one_hot(state, self.n_states).to(log_ratio))
        return self.transform(None)

    def _component_log_prob(
        self, z: torch.Tensor, log_ratio: torch.Tensor, state: torch.Tensor | None
    ) -> torch.Tensor:
        """log p(z | T) (B,), or log p(z | state, T) with the van-t-hoff coupling."""
        u, log_det = self.to_base(log_ratio, state).call_and_ladj((z - self.shift) / self.scale)
        return self.base(log_ratio).log_prob(u) + log_det - self.scale.log().sum()

    def base(self, log_ratio: torch.Tensor) -> TiltedGaussian:
        """The tilted Gaussian at temperatures log(T / T_ref) (B,): s^2 = T / T_ref."""
        return TiltedGaussian.at_temperature(self.latent_dim, log_ratio.exp(), self.tilt)

    def log_prob(
        self,
        z: torch.Tensor,
        log_ratio: torch.Tensor,
        encoder: Encoder | None = None,
        state: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """log p(z | T) (B,) of latents (B, d) at log(T / T_ref) (B,); ``encoder`` is unused.

        With the van-t-hoff coupling and the frames' own ``state`` (B,) given, the joint
        log p(z, state | T); without it, the mixture log p(z | T).
        """
        if not self.is_mixture:
            return self._component_log_prob(z, log_ratio, None)
        log_weights = self.log_weights(log_ratio)
        if state is not None:
            chosen = log_weights.gather(1, state[:, None])[:, 0]
            return chosen + self._component_log_prob(z, log_ratio, state)
        ids = torch.zeros_like(log_ratio, dtype=torch.long)
        per_state = [self._component_log_prob(z, log_ratio, ids + k) for k in range(self.n_states)]
        return torch.logsumexp(torch.stack(per_state, 1) + log_weights, dim=1)

    @torch.no_grad()
    def sample(
        self, log_ratio: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One latent (B, d) per temperature log(T / T_ref) (B,), and the mixture component
        (state, (B,)) it was drawn from (``None`` unless the coupling is van-t-hoff)."""
        state = None
        if self.is_mixture:
            state = torch.multinomial(self.log_weights(log_ratio).exp(), 1, generator=generator)
            state = state[:, 0]
        u = self.base(log_ratio).sample(generator=generator)
        z = self.to_base(log_ratio, state).inv(u) * self.scale + self.shift
        return z, state


def train_joint_stage(
    lagged: LaggedData,
    rounds: Rounds,
    data: MultiTempDataset,
    tscale: TemperatureScale,
    config: LaTFConfig,
    trainer: StageTrainer,
) -> tuple[SPIBNet, StateCounts, list[dict[str, float]]]:
    """Encoder, decoder and flow prior trained jointly (stage ``joint``), with the state
    weights refitted to the states the trained encoder gives the training frames.

    Returns the network (CPU, eval), the final state counts and the stage's log rows.
    """
    with seeded(config.joint.seed):
        prior = FlowPrior(config.spib.latent_dim, config, tscale.spread, rounds.net.n_states)
    x = torch.as_tensor(lagged.x, dtype=torch.float32)
    prior.standardize_with(rounds.net.states(x)[0])
    counts = partial(
        StateCounts.from_frames,
        data.temperature,
        group=data.replica,
        n_states=rounds.net.n_states,
        weights=lagged.weights,
    )
    prior.set_thermodynamics(StateThermodynamics.fit(counts(rounds.labels)), tscale.reference)
    net = SPIBNet(rounds.net.encoder, rounds.net.decoder, prior)
    loss = spib_loss(lagged.in_dim, config.spib.beta)
    result = trainer("joint", net, loss, lagged.rows(rounds.labels), config.joint)
    net = result.ema_module.cpu().eval()
    # the states reported by transform(), whose populations the prior's weights must give
    final_counts = counts(net.states(x)[1].numpy())
    net.prior.set_thermodynamics(StateThermodynamics.fit(final_counts), tscale.reference)
    return net, final_counts, list(result.history)
