"""Latent Thermodynamic Flows (LaTF; Qiu, John, Herron & Tiwary, arXiv 2507.03174).

SPIB (:mod:`thermogen.models.spib`) whose latent prior is a normalizing flow on top of the
temperature-steerable tilted Gaussian (:class:`~thermogen.models.tilted_gaussian.TiltedGaussian`)
with variance s^2 = T / T_ref: with u = f^{-1}(z; T),

    log p(z | T) = log p_base(u | T) + log |det du/dz|.

The flow acts on the latent standardized by the mean and spread of the SPIB-stage latent means
(a fixed affine map whose Jacobian is included), so its spline domain [-5, 5] covers the data.

Temperature coupling
--------------------
``"base-only"``
    The paper's form: one flow for all temperatures; T enters only through the base variance.
    Measured here (METHODS.md section 4): when the states sit at about the same base radius,
    changing the variance moves almost no mass between them and the melting curve is flat.
``"flow-context"``
    The flow is also conditioned on log(T / T_ref) / spread (spread = half the range of log T
    over the training ladder, so the context is about [-1, 1] on the ladder), and the base keeps
    its T-scaled variance: T can move mass between states directly. The default, because it
    reproduces the populations at the training temperatures.

Measured (two-state system, 1500 Langevin trajectories at each of T = 0.9 and 1.12, default flow
and joint stage, two seeds): folded population at the training temperatures, exact 0.592 / 0.416,
base-only 0.52-0.54 / 0.48 (flat, as in METHODS.md), flow-context 0.58-0.59 / 0.41-0.42. Away from
the training temperatures neither is reliable: base-only stays flat (0.59-0.62 at T = 0.7, exact
0.80; 0.44 at 1.4, exact 0.29); flow-context follows the exact curve within 0.03 from 1.12 to 1.4
with one seed but turns back up (0.50 at 1.4) with the other, and below 0.9 it stays flat (0.62 at
0.7) or overshoots (0.89): two temperatures do not pin down how the context network extrapolates.

Flow type
---------
A neural spline flow (zuko ``NSF``: masked-autoregressive monotonic rational-quadratic splines).
Splines are more expressive per layer than RealNVP's affine couplings, and they are bounded:
zuko squashes the spline parameters, so slopes stay within fixed limits whatever the context,
and outside [-5, 5] the map is the identity. Sampling far outside the training temperatures
(large context, base mass far out) therefore stays finite, where an affine coupling's
exp(scale) can overflow.

Training and generation
-----------------------
Stage 1 is SPIB with its VampPrior and relabelling rounds; stage 2 trains encoder, decoder and
flow jointly with the SPIB loss whose KL term uses the flow prior at each frame's temperature
(labels fixed). At any T: u ~ base(T), z = f(u; T), state probabilities p(y | z) from the decoder.
State populations at T are the frequencies of the most likely state of each sample (argmax of
p(y | z)), the same rule that labels frames: the decoder's probabilities are those of the state
``lag`` later, which mix in transitions and are not temperature aware.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import zuko
from torch import nn

from ..data.dataset import MultiTempDataset
from ..train import TrainConfig, train
from .persistence import data_meta, load_weights, read_data_meta, read_model_file, write_model_file
from .representation import FeatureScaler, TemperatureScale
from .requests import check_sample_request
from .spib import (
    Encoder,
    LaggedData,
    SPIBConfig,
    SPIBNet,
    check_fields,
    encode_states,
    fit_rounds,
    seeded,
    skeleton,
    spib_loss,
)
from .tilted_gaussian import TiltedGaussian

__all__ = ["TEMPERATURE_COUPLINGS", "LaTFConfig", "LaTFModel"]

TEMPERATURE_COUPLINGS = ("base-only", "flow-context")

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
    temperature_coupling: str = "flow-context"
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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LaTFConfig:
        """The config written by :meth:`to_dict`."""
        return cls(
            **{
                **data,
                "spib": SPIBConfig.from_dict(data["spib"]),
                "joint": TrainConfig(**data["joint"]),
            }
        )


class FlowPrior(nn.Module):
    """p(z | T): a spline flow on the standardized latent over the tilted Gaussian at T / T_ref.

    Parameters
    ----------
    latent_dim
        d.
    config
        Coupling, tilt and flow size.
    spread
        Half the range of log T on the training ladder; the flow context is log(T/T_ref) / spread.
    """

    def __init__(self, latent_dim: int, config: LaTFConfig, spread: float) -> None:
        super().__init__()
        self.latent_dim, self.tilt = latent_dim, config.tilt
        self.uses_context = config.temperature_coupling == "flow-context"
        self.transform = zuko.flows.NSF(
            features=latent_dim,
            context=int(self.uses_context),
            transforms=config.transforms,
            hidden_features=config.flow_hidden,
            bins=config.bins,
        ).transform
        self.register_buffer("spread", torch.tensor(float(spread)))
        self.register_buffer("shift", torch.zeros(latent_dim))
        self.register_buffer("scale", torch.ones(latent_dim))

    def standardize_with(self, latent: torch.Tensor) -> None:
        """Set the fixed affine standardization from latent means (N, d)."""
        self.shift.copy_(latent.mean(0))
        self.scale.copy_(latent.std(0).clamp_min(1e-6))

    def to_base(self, log_ratio: torch.Tensor) -> torch.distributions.Transform:
        """The map standardized z -> u at temperatures log(T / T_ref) (B,)."""
        context = (log_ratio / self.spread)[:, None] if self.uses_context else None
        return self.transform(context)

    def base(self, log_ratio: torch.Tensor) -> TiltedGaussian:
        """The tilted Gaussian at temperatures log(T / T_ref) (B,): s^2 = T / T_ref."""
        return TiltedGaussian.at_temperature(self.latent_dim, log_ratio.exp(), self.tilt)

    def log_prob(
        self, z: torch.Tensor, log_ratio: torch.Tensor, encoder: Encoder | None = None
    ) -> torch.Tensor:
        """log p(z | T) (B,) of latents (B, d) at log(T / T_ref) (B,); ``encoder`` is unused."""
        u, log_det = self.to_base(log_ratio).call_and_ladj((z - self.shift) / self.scale)
        return self.base(log_ratio).log_prob(u) + log_det - self.scale.log().sum()

    @torch.no_grad()
    def sample(self, log_ratio: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One latent (B, d) per temperature log(T / T_ref) (B,)."""
        u = self.base(log_ratio).sample(generator=generator)
        return self.to_base(log_ratio).inv(u) * self.scale + self.shift


@dataclass(frozen=True, eq=False)
class LaTFModel:
    """A fitted LaTF: standardizations, SPIB network with the flow prior, found states.

    Attributes
    ----------
    config
        The settings it was trained with.
    scaler
        Feature standardization.
    temperature_scale
        T_ref (geometric mean of the training temperatures) and the log-T spread.
    net
        Encoder, decoder and :class:`FlowPrior` (CPU, eval mode).
    feature_names, temperature_unit
        Of the training data.
    history
        Records of the SPIB rounds and the joint stage's log (empty after :meth:`load`).
    """

    config: LaTFConfig
    scaler: FeatureScaler
    temperature_scale: TemperatureScale
    net: SPIBNet
    feature_names: tuple[str, ...]
    temperature_unit: str
    history: tuple[dict[str, float], ...] = ()

    @property
    def n_states(self) -> int:
        """Number of metastable states found by the SPIB stage."""
        return self.net.n_states

    @classmethod
    def fit(
        cls,
        dataset: MultiTempDataset,
        config: LaTFConfig | None = None,
        weights: np.ndarray | None = None,
        progress: bool = True,
    ) -> LaTFModel:
        """Train on trajectories at two or more temperatures (``replica`` and ``time`` needed).

        Parameters
        ----------
        dataset
            N frames in continuous trajectories at >= 2 temperatures.
        config
            Settings (default :class:`LaTFConfig`).
        weights
            (N,) optional frame weights.
        progress
            Show progress bars.
        """
        config = config or LaTFConfig()
        dataset.require_temperatures(2, "LaTF")
        tscale = TemperatureScale.fit(dataset.temperature)
        data, scaler = LaggedData.build(
            dataset, config.spib, weights, tscale.log_ratio(dataset.temperature)
        )
        spib_net, labels, rounds = fit_rounds(data, config.spib, progress)
        with seeded(config.joint.seed):
            prior = FlowPrior(config.spib.latent_dim, config, tscale.spread)
        prior.standardize_with(spib_net.states(torch.as_tensor(data.x, dtype=torch.float32))[0])
        net = SPIBNet(spib_net.encoder, spib_net.decoder, prior)
        loss = spib_loss(data.in_dim, config.spib.beta)
        result = train(net, loss, *data.rows(labels), config.joint, progress=progress)
        return cls(
            config,
            scaler,
            tscale,
            result.ema_module.cpu().eval(),
            dataset.feature_names,
            dataset.temperature_unit,
            (*rounds, *result.history),
        )

    def transform(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Collective variables (N, d) (latent means) and state labels (N,) of features (N, D)."""
        return encode_states(self.scaler, self.net, features)

    @torch.no_grad()
    def sample(
        self, temperatures: float | np.ndarray, n: int, seed: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Generated latents and their state probabilities at each temperature.

        Parameters
        ----------
        temperatures
            K temperatures (> 0) in the training data's unit.
        n
            Samples per temperature.
        seed
            Seed of the base draws; the same seed gives the same samples.

        Returns
        -------
        cv, state_prob : np.ndarray
            (K, n, d) latents z and (K, n, S) decoded probabilities p(y | z).
        """
        temps = check_sample_request(temperatures, n)
        generator = torch.Generator().manual_seed(seed)
        cvs, probs = [], []
        for log_ratio in self.temperature_scale.log_ratio(temps):
            z = self.net.prior.sample(torch.full((n,), float(log_ratio)), generator)
            cvs.append(z.double().numpy())
            probs.append(self.net.decoder(z).softmax(dim=1).double().numpy())
        return np.stack(cvs), np.stack(probs)

    def populations(self, temperatures: float | np.ndarray, n: int, seed: int = 0) -> np.ndarray:
        """(K, S) state populations at K temperatures: argmax frequencies of ``n`` samples each."""
        _, prob = self.sample(temperatures, n, seed)
        state = prob.argmax(axis=2)
        return np.stack([np.bincount(s, minlength=self.n_states) / n for s in state])

    def save(self, run_dir: str | Path) -> Path:
        """Write ``run_dir/model.pt`` (loaded with ``weights_only=True``)."""
        meta = {
            "config": json.dumps(self.config.to_dict()),
            "n_states": self.n_states,
            **data_meta(
                self.scaler, self.temperature_scale, self.feature_names, self.temperature_unit
            ),
        }
        return write_model_file(run_dir, "latf", meta, self.net)

    @classmethod
    def load(cls, run_dir: str | Path) -> LaTFModel:
        """The model saved by :meth:`save` in ``run_dir``."""
        payload = read_model_file(run_dir, "latf")
        config = LaTFConfig.from_dict(json.loads(payload["config"]))
        scaler, tscale, names, unit = read_data_meta(payload)
        prior = FlowPrior(config.spib.latent_dim, config, tscale.spread)
        net = skeleton(config.spib, scaler.model_dim, int(payload["n_states"]), prior)
        return cls(config, scaler, tscale, load_weights(net, payload, run_dir), names, unit)
