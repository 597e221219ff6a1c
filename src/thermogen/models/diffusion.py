"""A diffusion model over configuration and temperature (Wang, Herron & Tiwary, PNAS 2022).

Temperature is a random variable of the data: every frame carries the temperature it was seen
at, the network sees log(T / T_ref) through low-frequency features, and generation at T fixes it.
Two temperature modes:

``conditional``
    The seed paper's formulation: forward noise N(0, I), temperature only an input.
``scaled-prior``
    Thermodynamic maps (Herron et al. 2023): prior and forward-noise variance proportional to
    T / T_ref, so a harmonic basin's width grows with T as equipartition says; the network also
    sees T.

:meth:`DiffusionModel.fit` trains with :func:`thermogen.train.train`; the fitted model samples
(ancestral, DDIM, probability-flow ODE), evaluates exact log-densities through the ODE, saves to
and loads from a run folder.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ..data.dataset import MultiTempDataset
from ..data.splits import train_validation_split
from ..errors import InputError
from ..train import TrainConfig, resolve_device, seeded
from .networks import ConditionedResidualMLP, sinusoidal_embedding
from .persistence import (
    data_meta,
    load_weights,
    read_config,
    read_data_meta,
    read_model_file,
    write_model_file,
)
from .protocol import CONFIGURATIONS, LOG_PROB, RESUME, SAMPLE, DataSpec, Model, uses_torch
from .registry import register
from .representation import FeatureScaler, TemperatureScale, standardization_record
from .requests import check_sample_request
from .run_dir import RunDir, train_stage
from .samplers import (
    log_density,
    sample_ancestral,
    sample_ddim,
    sample_dpm_solver,
    sample_heun,
    sampler_log_density,
)
from .schedule import CosineSchedule

__all__ = ["SAMPLERS", "TEMPERATURE_MODES", "DiffusionConfig", "DiffusionModel"]

TEMPERATURE_MODES = ("conditional", "scaled-prior")
SAMPLERS = {
    "ddpm": sample_ancestral,
    "ddim": sample_ddim,
    "ode": sample_dpm_solver,
    "heun": sample_heun,
}
"""``ode`` is DPM-Solver++(3M) on the probability-flow ODE; ``heun`` is Heun's method on it."""
DEFAULT_STEPS = {"ddpm": 500, "ddim": 50, "ode": 20, "heun": 25}
"""Default network calls per sample: ancestral sampling needs hundreds, the ODE solvers tens."""
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
        if self.temperature_mode not in TEMPERATURE_MODES:
            raise ValueError(
                f"temperature_mode must be one of {TEMPERATURE_MODES}, got {self.temperature_mode!r}"
            )

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


@register
@dataclass(frozen=True, eq=False)
class DiffusionModel(Model):
    """A fitted diffusion model; generates features at any temperature.

    Attributes
    ----------
    config
        The settings it was trained with.
    scaler, temperature_scale
        The data's standardization.
    net
        Noise predictor with the EMA weights.
    data_spec
        Features and units of the training data; generated samples have the same.
    history
        Training log rows (step, losses, learning rate, elapsed seconds).
    """

    kind: ClassVar[str] = "diffusion"
    label: ClassVar[str] = "the diffusion model"
    capabilities: ClassVar[frozenset[str]] = frozenset({SAMPLE, CONFIGURATIONS, LOG_PROB, RESUME})
    config_class: ClassVar[type] = DiffusionConfig
    sample_options: ClassVar[tuple[str, ...]] = ("sampler", "steps", "batch_size", "device")

    config: DiffusionConfig
    scaler: FeatureScaler
    temperature_scale: TemperatureScale
    net: DenoiserNet
    data_spec: DataSpec
    history: tuple[dict[str, float], ...] = ()

    # ------------------------------------------------------------------ training
    @classmethod
    @uses_torch
    def fit(
        cls,
        data: MultiTempDataset,
        config: DiffusionConfig | None = None,
        *,
        weights: np.ndarray | None = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = True,
    ) -> DiffusionModel:
        """Train on a multi-temperature dataset (at least two temperatures).

        With ``run_dir`` the run folder (:class:`~thermogen.models.run_dir.RunDir`) is written
        as training goes, and ``resume=True`` continues a killed run. The diffusion model takes
        no frame ``weights``.
        """
        config = config or DiffusionConfig()
        if weights is not None:
            cls.require("weights")
        data.require_temperatures(2, "the diffusion model")
        train_set, validation_set = train_validation_split(data, config.validation_fraction)
        scaler = FeatureScaler.fit(train_set.features, data.periodic)
        tscale = TemperatureScale.fit(data.temperature)
        with seeded(config.train.seed):
            net = DenoiserNet(scaler.model_dim, tscale.spread, config)
        rows = tuple(
            torch.as_tensor(
                np.column_stack([scaler.encode(d.features), tscale.log_ratio(d.temperature)]),
                dtype=torch.float32,
            )
            for d in (train_set, validation_set)
        )
        run = None if run_dir is None else RunDir(run_dir)
        if run is not None:
            standardization = standardization_record(scaler, data.feature_names, tscale)
            run.begin(cls.kind, config, data, config.train.seed, standardization, resume)
        loss = diffusion_loss(CosineSchedule(config.final_alpha_bar), config.temperature_mode)
        result = train_stage(
            run, "train", net, loss, rows, config.train, resume=resume, progress=progress
        )
        model = cls(
            config,
            scaler,
            tscale,
            result.ema_module.cpu().eval(),
            DataSpec.of(data),
            tuple(result.history),
        )
        if run is not None and result.is_main_process:
            run.finish(model, config, data, ["train"])
        return model

    def fit_summary(self) -> str:
        """Step and last losses of the training."""
        last = self.history[-1] if self.history else {}
        return (
            f"step {int(last.get('step', 0))}, train loss "
            f"{last.get('train_loss', float('nan')):.4f}, validation loss "
            f"{last.get('validation_loss', float('nan')):.4f}"
        )

    # ------------------------------------------------------------------ generation
    @property
    def schedule(self) -> CosineSchedule:
        return CosineSchedule(self.config.final_alpha_bar)

    def _eps_at(self, temperature: float, device: torch.device):
        log_ratio = float(self.temperature_scale.log_ratio(temperature))
        net = self.net.to(device)

        scale = math.exp(0.5 * log_ratio) if self.config.temperature_mode == "scaled-prior" else 1.0
        schedule = self.schedule
        low = torch.as_tensor(self.scaler.low, dtype=torch.float32, device=device)
        high = torch.as_tensor(self.scaler.high, dtype=torch.float32, device=device)

        def eps(z_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            """Predicted noise, made consistent with a clean-data prediction kept inside the bounds."""
            t = t.to(z_t)
            predicted = net(z_t, t, torch.full_like(t, log_ratio))
            ab = schedule.alpha_bar(t)[:, None]
            noise_sd = (1 - ab).sqrt() * scale
            clean = (z_t - noise_sd * predicted) / ab.sqrt()
            bounded = torch.minimum(torch.maximum(clean, low.to(z_t)), high.to(z_t))
            return (z_t - ab.sqrt() * bounded) / noise_sd

        return eps, scale

    @uses_torch
    def sample(
        self,
        temperatures: float | list[float] | np.ndarray,
        n: int,
        *,
        seed: int = 0,
        progress: bool = False,
        sampler: str = "ode",
        steps: int | None = None,
        batch_size: int = 4096,
        device: str = "cpu",
    ) -> MultiTempDataset:
        """``n`` new frames at each temperature, in the training data's feature space and units.

        Parameters
        ----------
        temperatures
            One or more temperatures (> 0), in the training data's unit.
        n
            Frames per temperature.
        sampler
            ``"ode"`` (DPM-Solver++(3M), default), ``"heun"``, ``"ddim"`` or ``"ddpm"`` (ancestral).
        steps
            Sampler steps (default :data:`DEFAULT_STEPS`).
        seed
            Seed of the prior noise; the same seed gives the same samples.
        """
        temps = check_sample_request(temperatures, n)
        _check_sampler(sampler, steps)
        steps = steps or DEFAULT_STEPS[sampler]
        dev = resolve_device(device)
        generator = torch.Generator(device="cpu").manual_seed(seed)
        chunks, temp_column = [], []
        bar = tqdm(
            total=n * temps.size,
            desc=f"sampling ({sampler}, {steps} steps)",
            unit="frame",
            disable=not progress,
        )
        with torch.inference_mode(), bar:
            for t in temps:
                eps, scale = self._eps_at(float(t), dev)
                for start in range(0, n, batch_size):
                    m = min(batch_size, n - start)
                    z = SAMPLERS[sampler](
                        eps,
                        self.schedule,
                        m,
                        self.scaler.model_dim,
                        scale,
                        steps,
                        generator,
                        torch.empty(0, device=dev),
                    )
                    chunks.append(self.scaler.decode(z.double().cpu().numpy()))
                    temp_column.append(np.full(m, t))
                    bar.update(m)
        return self.data_spec.dataset(np.concatenate(chunks), np.concatenate(temp_column))

    @uses_torch
    def sample_with_log_prob(
        self,
        temperature: float,
        n: int,
        sampler: str = "ode",
        steps: int | None = None,
        seed: int = 0,
        batch_size: int = 4096,
        device: str = "cpu",
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` frames (n, D) at ``temperature`` and their exact log-density log q(x | T) (n,).

        The density is that of the deterministic sampler itself (change of variables from the
        prior noise, forward-mode Jacobian), so importance weights exp(-U/kT)/q built from it are
        exact. Deterministic samplers only (``ode``, ``heun``, ``ddim``); no periodic features.
        """
        check_sample_request(temperature, n)
        _check_sampler(sampler, steps)
        if sampler == "ddpm":
            raise InputError(
                "sample",
                "sampler",
                "log-densities need a deterministic sampler (ode, heun or ddim)",
            )
        jacobian = self.scaler.log_jacobian
        steps = steps or DEFAULT_STEPS[sampler]
        dev = resolve_device(device)
        eps, scale = self._eps_at(float(temperature), dev)
        generator = torch.Generator(device="cpu").manual_seed(seed)
        like = torch.empty(0, device=dev)
        samples, log_q = [], []
        for start in range(0, n, batch_size):
            noise = torch.randn(
                (min(batch_size, n - start), self.scaler.model_dim), generator=generator
            ).to(dev)
            z, log_density_z = sampler_log_density(
                SAMPLERS[sampler], eps, self.schedule, noise, scale, steps, like
            )
            samples.append(self.scaler.decode(z.detach().double().cpu().numpy()))
            log_q.append(log_density_z.detach().double().cpu().numpy() + jacobian)
        return np.concatenate(samples), np.concatenate(log_q)

    @uses_torch
    def log_prob(
        self,
        features: np.ndarray,
        temperature: float,
        steps: int = 96,
        exact_divergence: bool | None = None,
        seed: int = 0,
        batch_size: int = 10_000,
        device: str = "cpu",
    ) -> np.ndarray:
        """log q(x | T) (N,) of features (N, D) in the data's units, via the probability-flow ODE.

        Heun's method over ``steps`` intervals (about 0.01 nats of integration error on average
        at the default 96). The divergence is exact (autograd) for up to 8 model dimensions and
        Hutchinson's estimate above, unless ``exact_divergence`` says otherwise. Not available for periodic
        features (the (cos, sin) map has no density on the circle).
        """
        jacobian = self.scaler.log_jacobian
        exact = self.scaler.model_dim <= 8 if exact_divergence is None else exact_divergence
        dev = resolve_device(device)
        eps, scale = self._eps_at(float(temperature), dev)
        generator = torch.Generator(device="cpu").manual_seed(seed)
        z = torch.as_tensor(
            self.scaler.encode(np.asarray(features, dtype=float)), dtype=torch.float32
        )
        out = [
            log_density(eps, self.schedule, chunk.to(dev), scale, steps, exact, generator)
            .double()
            .cpu()
            .numpy()
            for chunk in z.split(batch_size)
        ]
        return np.concatenate(out) + jacobian

    # ------------------------------------------------------------------ persistence
    def save(self, run_dir: str | Path) -> Path:
        """Write ``model.pt`` (EMA weights and everything needed to sample) into ``run_dir``."""
        meta = {
            "config": json.dumps(self.config.to_dict()),
            **data_meta(self.data_spec, self.scaler, self.temperature_scale),
        }
        return write_model_file(run_dir, self.kind, meta, self.net)

    @classmethod
    def load(cls, run_dir: str | Path) -> DiffusionModel:
        """The model saved in ``run_dir`` (raises :class:`InputError` for a missing or bad run)."""
        payload = read_model_file(run_dir, cls.kind)
        config = read_config(DiffusionConfig, payload, run_dir)
        spec, scaler, tscale = read_data_meta(payload)
        net = load_weights(DenoiserNet(scaler.model_dim, tscale.spread, config), payload, run_dir)
        return cls(config, scaler, tscale, net, spec)


def _check_sampler(sampler: str, steps: int | None) -> None:
    if sampler not in SAMPLERS:
        raise InputError(
            "sample", "sampler", f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}"
        )
    if steps is not None and steps < 1:
        raise InputError("sample", "steps", f"must be >= 1, got {steps}")
