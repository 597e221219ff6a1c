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
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ..analysis.populations import PopulationCurve
from ..data.dataset import MultiTempDataset
from ..errors import UsageError
from ..tables import state_table
from .flow_prior import TEMPERATURE_COUPLINGS, FlowPrior, LaTFConfig, train_joint_stage
from .persistence import (
    data_meta,
    load_weights,
    read_config,
    read_data_meta,
    read_model_file,
    write_model_file,
)
from .protocol import (
    POPULATION_CURVE,
    POPULATIONS,
    RESUME,
    SAMPLE,
    TRANSFORM,
    WEIGHTS,
    DataSpec,
    Model,
    uses_torch,
)
from .registry import register
from .representation import FeatureScaler, TemperatureScale
from .requests import check_sample_request
from .run_dir import RunDir, train_stage
from .spib import (
    LaggedData,
    LearnedStates,
    SPIBNet,
    fit_rounds,
    skeleton,
)
from .state_thermodynamics import StateCounts, StateThermodynamics

__all__ = ["TEMPERATURE_COUPLINGS", "FlowPrior", "LaTFConfig", "LaTFModel"]


@register
@dataclass(frozen=True, eq=False)
class LaTFModel(LearnedStates, Model):
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
    data_spec
        Features and units of the training data.
    state_counts
        Frames per state, temperature and trajectory of the training data (for populations).
    history
        Records of the SPIB rounds and the joint stage's log (empty after :meth:`load`).
    """

    kind: ClassVar[str] = "latf"
    label: ClassVar[str] = "LaTF"
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {SAMPLE, TRANSFORM, POPULATIONS, POPULATION_CURVE, WEIGHTS, RESUME}
    )
    config_class: ClassVar[type] = LaTFConfig
    seed_stages: ClassVar[tuple[tuple[str, ...], ...]] = (("spib", "train"), ("joint",))
    sample_note: ClassVar[str] = "a latf run samples its flow exactly"
    stage_titles: ClassVar[dict[str, str]] = {"joint": "the joint SPIB + flow stage"}

    config: LaTFConfig
    scaler: FeatureScaler
    temperature_scale: TemperatureScale
    net: SPIBNet
    data_spec: DataSpec
    state_counts: StateCounts
    history: tuple[dict[str, float], ...] = ()

    @classmethod
    def capabilities_for(cls, config: LaTFConfig) -> frozenset[str]:
        """Population intervals need the van-t-hoff coupling's state thermodynamics."""
        if config.temperature_coupling == "van-t-hoff":
            return cls.capabilities
        return cls.capabilities - {POPULATION_CURVE}

    @classmethod
    def missing(cls, capability: str, config: Any = None) -> str:
        """As :meth:`Model.missing`, naming the coupling that lacks population intervals."""
        if capability == POPULATION_CURVE and config is not None:
            return _no_intervals(config.temperature_coupling)
        return super().missing(capability, config)

    def can(self, capability: str) -> bool:
        """As :meth:`Model.can`; population intervals need the prior's state mixture."""
        if capability == POPULATION_CURVE:
            return self.net.prior.is_mixture
        return super().can(capability)

    @property
    def latent_spec(self) -> DataSpec:
        """What :meth:`sample` returns: the latent CVs ``cv0..`` in the data's units."""
        names = tuple(f"cv{i}" for i in range(self.config.spib.latent_dim))
        spec = self.data_spec
        return DataSpec(names, (False,) * len(names), spec.temperature_unit, spec.energy_unit)

    @property
    def thermodynamics(self) -> StateThermodynamics:
        """Entropy and enthalpy of each state fitted to the training frames' states."""
        return StateThermodynamics.fit(self.state_counts)

    @classmethod
    @uses_torch
    def fit(
        cls,
        data: MultiTempDataset,
        config: LaTFConfig | None = None,
        *,
        weights: np.ndarray | None = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = True,
    ) -> LaTFModel:
        """Train on trajectories at two or more temperatures (``replica`` and ``time`` needed).

        Parameters
        ----------
        data
            N frames in continuous trajectories at >= 2 temperatures.
        config
            Settings (default :class:`LaTFConfig`).
        weights
            (N,) optional frame weights.
        run_dir
            Run folder to write (record, standardization, every stage's checkpoint, log, model).
        resume
            Continue a killed training from the checkpoints in ``run_dir``.
        progress
            Show progress bars.
        """
        config = config or LaTFConfig()
        data.require_temperatures(2, "LaTF")
        tscale = TemperatureScale.fit(data.temperature)
        lagged, scaler = LaggedData.build(
            data, config.spib, weights, tscale.log_ratio(data.temperature)
        )
        run = RunDir.started(run_dir, cls, config, data, scaler, tscale, resume)
        trainer = partial(train_stage, run, resume=resume, progress=progress)
        rounds = fit_rounds(lagged, config.spib, trainer, prefix="spib_round_")
        net, counts, joint = train_joint_stage(lagged, rounds, data, tscale, config, trainer)
        model = cls(
            config,
            scaler,
            tscale,
            net,
            DataSpec.of(data),
            counts,
            (*rounds.history, *joint),
        )
        if run is not None:
            run.finish(model, config, data, [*rounds.stages, "joint"])
        return model

    @uses_torch
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

    @uses_torch
    @torch.no_grad()
    def sample_latent(
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

    def sample(
        self,
        temperatures: float | np.ndarray,
        n: int,
        *,
        seed: int = 0,
        progress: bool = False,
    ) -> MultiTempDataset:
        """``n`` latent samples (features ``cv0..``, :attr:`latent_spec`) at each temperature,
        as :meth:`sample_latent` draws them; :meth:`state_probabilities` decodes their states."""
        temps = check_sample_request(temperatures, n)
        cv, _ = self.sample_latent(temps, n, seed)
        return self.latent_spec.dataset(cv.reshape(-1, cv.shape[2]), np.repeat(temps, n))

    @uses_torch
    @torch.no_grad()
    def state_probabilities(self, samples: MultiTempDataset) -> np.ndarray:
        """(N, S) decoded state probabilities p(y | z) of latent samples (N frames of ``cv0..``)."""
        self.latent_spec.check(samples)
        z = torch.from_numpy(np.array(samples.features, dtype=np.float32))
        return self.net.decoder(z).softmax(dim=1).double().numpy()

    def sample_columns(self, samples: MultiTempDataset) -> dict[str, np.ndarray]:
        """``cv`` (N, d), ``state_prob`` (N, S) and ``state`` (N,), the most probable state."""
        prob = self.state_probabilities(samples)
        return {"cv": samples.features, "state_prob": prob, "state": prob.argmax(1)}

    def sample_summary(self, samples: MultiTempDataset) -> str:
        """The fraction of samples whose most probable state is each state, per temperature."""
        state = self.state_probabilities(samples).argmax(1)
        temps = samples.temperatures
        shares = np.stack(
            [np.bincount(state[samples.temperature == t], minlength=self.n_states) for t in temps]
        )
        shares = shares / shares.sum(1, keepdims=True)
        return "fraction of samples whose most probable state is each state:\n" + state_table(
            temps, shares, samples.temperature_unit
        )

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
        _, prob = self.sample_latent(temps, n, seed)
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
        if not self.can(POPULATION_CURVE):
            raise UsageError(_no_intervals(self.net.prior.coupling))
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
            **data_meta(self.data_spec, self.scaler, self.temperature_scale),
        }
        return write_model_file(run_dir, self.kind, meta, self.net)

    @classmethod
    def load(cls, run_dir: str | Path) -> LaTFModel:
        """The model saved by :meth:`save` in ``run_dir``."""
        payload = read_model_file(run_dir, cls.kind)
        config = read_config(LaTFConfig, payload, run_dir)
        spec, scaler, tscale = read_data_meta(payload)
        n_states = int(payload["n_states"])
        prior = FlowPrior(config.spib.latent_dim, config, tscale.spread, n_states)
        net = load_weights(
            skeleton(config.spib, scaler.model_dim, n_states, prior), payload, run_dir
        )
        counts = StateCounts.from_dict(payload.json("state_counts"))
        return cls(config, scaler, tscale, net, spec, counts)


def _no_intervals(coupling: str) -> str:
    """Why a model with temperature coupling ``coupling`` has no population intervals."""
    return (
        "population intervals need the 'van-t-hoff' temperature coupling; this model uses "
        f"{coupling!r}: use populations() (no intervals)"
    )
