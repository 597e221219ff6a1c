"""Latent Thermodynamic Flows (LaTF; Qiu, John, Herron & Tiwary, arXiv 2507.03174).

SPIB (:mod:`thermogen.models.spib`) whose latent prior is a normalizing flow on top of the
temperature-steerable tilted Gaussian (:class:`~thermogen.models.tilted_gaussian.TiltedGaussian`)
with variance s^2 = T / T_ref: with u = f^{-1}(z; T),

    log p(z | T) = log p_base(u | T) + log |det du/dz|.

The flow acts on the latent standardized by the mean and spread of the SPIB-stage latent means
(a fixed affine map whose Jacobian is included), so its spline domain [-5, 5] covers the data.

Temperature coupling
--------------------
``"van-t-hoff"`` (default)
    A mixture over the S states found by SPIB, p(z | T) = sum_k p_k(T) p(z | k, T): one flow,
    conditioned on the state (one-hot), over the T-scaled tilted base, and state weights from a
    free energy per state, p_k(T) proportional to exp(S_k / k_B - H_k / (k_B T))
    (:mod:`thermogen.models.state_thermodynamics`), fitted by maximum likelihood to the states
    of the training frames. State log-odds are then linear in 1/T (van 't Hoff), which two
    temperatures fix and which extrapolates the way a two-state analysis does; within a state
    the base variance still grows with T. Populations at any T are these weights, with intervals
    from a bootstrap over the training trajectories.
``"base-only"``
    The paper's form: one flow for all temperatures; T enters only through the base variance.
    Measured here (METHODS.md section 4): when the states sit at about the same base radius,
    changing the variance moves almost no mass between them and the melting curve is flat.
``"flow-context"``
    The flow is also conditioned on log(T / T_ref) / spread (spread = half the range of log T
    over the training ladder, so the context is about [-1, 1] on the ladder), and the base keeps
    its T-scaled variance: T can move mass between states directly, but nothing says how.

Measured (two-state system, 1500 Langevin trajectories at each of T = 0.9 and 1.12, the test
suite's short training, seed 0; folded population over T = 0.6 ... 1.4, exact 0.90 ... 0.29,
Tm = 1.003): van-t-hoff within 0.015 of the exact curve everywhere (0.022 with seed 1; the
data's own error at the training temperatures is about 0.013), tilt 2 or 0 alike; base-only flat
at 0.49-0.50 (error 0.40); flow-context right at the training temperatures (0.577, 0.422) but
0.75 at T = 0.6 and 0.39 at 1.4 (error 0.15): two temperatures do not pin down how a context
network extrapolates.

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
(labels fixed; with the van-t-hoff coupling, the prior of the frame's own state). The state
weights are then refitted to the states :meth:`LaTFModel.transform` gives the training frames.
At any T: (state k ~ p_k(T)), u ~ base(T), z = f(u; ...), and state probabilities p(y | z) from
the decoder. Without state weights, populations at T are the frequencies of the most likely
decoded state of samples, the rule that labels frames.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import zuko
from torch import nn

from ..analysis.populations import PopulationCurve
from ..data.dataset import MultiTempDataset
from ..errors import UsageError
from ..train import TrainConfig, seeded, train
from .persistence import (
    data_meta,
    load_weights,
    read_config,
    read_data_meta,
    read_model_file,
    write_model_file,
)
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
    skeleton,
    spib_loss,
)
from .state_thermodynamics import StateCounts, StateThermodynamics
from .tilted_gaussian import TiltedGaussian

__all__ = ["TEMPERATURE_COUPLINGS", "LaTFConfig", "LaTFModel"]

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
    state_counts: StateCounts
    history: tuple[dict[str, float], ...] = ()

    @property
    def n_states(self) -> int:
        """Number of metastable states found by the SPIB stage."""
        return self.net.n_states

    @property
    def thermodynamics(self) -> StateThermodynamics:
        """Entropy and enthalpy of each state fitted to the training frames' states."""
        return StateThermodynamics.fit(self.state_counts)

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
            prior = FlowPrior(config.spib.latent_dim, config, tscale.spread, spib_net.n_states)
        x = torch.as_tensor(data.x, dtype=torch.float32)
        prior.standardize_with(spib_net.states(x)[0])
        counts = partial(
            StateCounts.from_frames,
            dataset.temperature,
            group=dataset.replica,
            n_states=spib_net.n_states,
            weights=data.weights,
        )
        prior.set_thermodynamics(StateThermodynamics.fit(counts(labels)), tscale.reference)
        net = SPIBNet(spib_net.encoder, spib_net.decoder, prior)
        loss = spib_loss(data.in_dim, config.spib.beta)
        result = train(net, loss, *data.rows(labels), config.joint, progress=progress)
        net = result.ema_module.cpu().eval()
        # the states reported by transform(), whose populations the prior's weights must give
        final_counts = counts(net.states(x)[1].numpy())
        net.prior.set_thermodynamics(StateThermodynamics.fit(final_counts), tscale.reference)
        return cls(
            config,
            scaler,
            tscale,
            net,
            dataset.feature_names,
            dataset.temperature_unit,
            final_counts,
            (*rounds, *result.history),
        )

    def transform(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Collective variables (N, d) (latent means) and state labels (N,) of features (N, D)."""
        return encode_states(self.scaler, self.net, features)

    @torch.no_grad()
    def posterior_sample(self, features: np.ndarray, seed: int = 0) -> np.ndarray:
        """One latent draw z ~ q(z | x) (N, d) per frame of features (N, D).

        The flow prior is fitted to these draws (the aggregate posterior), while :meth:`transform`
        returns their means; generated latents at a training temperature compare with these.
        """
        x = torch.as_tensor(self.scaler.encode(np.asarray(features, dtype=float)))
        mean, log_var = self.net.encoder(x.float())
        noise = torch.randn(mean.shape, generator=torch.Generator().manual_seed(seed))
        return (mean + (0.5 * log_var).exp() * noise).double().numpy()

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
            z, _ = self.net.prior.sample(torch.full((n,), float(log_ratio)), generator)
            cvs.append(z.double().numpy())
            probs.append(self.net.decoder(z).softmax(dim=1).double().numpy())
        return np.stack(cvs), np.stack(probs)

    def sample_table(
        self, temperatures: float | np.ndarray, n: int, seed: int = 0
    ) -> dict[str, np.ndarray]:
        """:meth:`sample` as the flat arrays ``thermogen sample`` writes for a latf run.

        Returns
        -------
        dict
            ``cv`` (K n, d), ``state`` (K n,) most probable state, ``state_prob`` (K n, S),
            ``temperature`` (K n,) in ``temperature_unit`` (a 0-d string array).
        """
        temps = check_sample_request(temperatures, n)
        cv, prob = self.sample(temps, n, seed)
        return {
            "cv": cv.reshape(-1, cv.shape[2]),
            "state": prob.argmax(axis=2).reshape(-1).astype(np.int64),
            "state_prob": prob.reshape(-1, prob.shape[2]),
            "temperature": np.repeat(temps, n),
            "temperature_unit": np.array(self.temperature_unit),
        }

    def populations(
        self, temperatures: float | np.ndarray, n: int = 20_000, seed: int = 0
    ) -> np.ndarray:
        """(K, S) state populations at K temperatures.

        With the van-t-hoff coupling, the prior's state weights (exact; ``n`` and ``seed`` are
        not used). Otherwise the frequencies of the most likely decoded state of ``n`` samples
        per temperature, the rule :meth:`transform` labels frames by.
        """
        temps = check_sample_request(temperatures, n)
        if self.net.prior.is_mixture:
            return self.thermodynamics.populations(temps)
        _, prob = self.sample(temps, n, seed)
        return np.stack([np.bincount(s, minlength=self.n_states) / n for s in prob.argmax(2)])

    def population_curve(
        self,
        temperatures: np.ndarray,
        n_bootstrap: int = 200,
        confidence: float = 0.95,
        seed: int = 0,
    ) -> PopulationCurve:
        """State populations over a temperature range with intervals (van-t-hoff coupling).

        Populations are the prior's state weights; the intervals are percentiles of the same with
        the state entropies and enthalpies refitted to ``n_bootstrap`` resamplings of the training
        trajectories: the statistical uncertainty of the training data's state populations, not
        the variation between training runs.

        Parameters
        ----------
        temperatures
            (K,) temperatures (> 0) in the training data's unit.
        n_bootstrap
            Bootstrap resamplings of the trajectories.
        confidence
            Coverage of the intervals.
        seed
            Seed of the bootstrap.
        """
        if not self.net.prior.is_mixture:
            raise UsageError(
                f"population intervals need the 'van-t-hoff' temperature coupling; this model "
                f"uses {self.config.temperature_coupling!r}: use populations() (no intervals)"
            )
        temps = np.sort(check_sample_request(temperatures, 1))
        fits = StateThermodynamics.bootstrap(
            self.state_counts, n_bootstrap, np.random.default_rng(seed)
        )
        replicates = np.stack([fit.populations(temps) for fit in fits])
        low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
        return PopulationCurve(
            temperature=temps,
            population=self.thermodynamics.populations(temps),
            low=low,
            high=high,
            confidence=confidence,
            temperature_unit=self.temperature_unit,
        )

    def save(self, run_dir: str | Path) -> Path:
        """Write ``run_dir/model.pt`` (loaded with ``weights_only=True``)."""
        meta = {
            "config": json.dumps(self.config.to_dict()),
            "n_states": self.n_states,
            "state_counts": json.dumps(self.state_counts.to_dict()),
            **data_meta(
                self.scaler, self.temperature_scale, self.feature_names, self.temperature_unit
            ),
        }
        return write_model_file(run_dir, "latf", meta, self.net)

    @classmethod
    def load(cls, run_dir: str | Path) -> LaTFModel:
        """The model saved by :meth:`save` in ``run_dir``."""
        payload = read_model_file(run_dir, "latf")
        config = read_config(LaTFConfig, payload, run_dir)
        scaler, tscale, names, unit = read_data_meta(payload)
        n_states = int(payload["n_states"])
        prior = FlowPrior(config.spib.latent_dim, config, tscale.spread, n_states)
        net = skeleton(config.spib, scaler.model_dim, n_states, prior)
        counts = StateCounts.from_dict(json.loads(payload["state_counts"]))
        return cls(config, scaler, tscale, load_weights(net, payload, run_dir), names, unit, counts)
