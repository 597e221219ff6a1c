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
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from tqdm import tqdm

from ..data.dataset import MultiTempDataset
from ..data.splits import train_validation_indices
from ..errors import InputError
from ..train import resolve_device, seeded
from .diffusion_network import (
    TEMPERATURE_MODES,
    DenoiserNet,
    DiffusionConfig,
    diffusion_loss,
)
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
from .representation import FeatureScaler, TemperatureScale, fit_scaler
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

SAMPLERS = {
    "ddpm": sample_ancestral,
    "ddim": sample_ddim,
    "ode": sample_dpm_solver,
    "heun": sample_heun,
}
"""``ode`` is DPM-Solver++(3M) on the probability-flow ODE; ``heun`` is Heun's method on it."""
DEFAULT_STEPS = {"ddpm": 500, "ddim": 50, "ode": 20, "heun": 25}
"""Default network calls per sample: ancestral sampling needs hundreds, the ODE solvers tens."""


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
        train_index, validation_index = train_validation_indices(data, config.validation_fraction)
        train_set, validation_set = data.subset(train_index), data.subset(validation_index)
        scaler = fit_scaler(data, train_index)
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
        run = RunDir.started(run_dir, cls, config, data, scaler, tscale, resume)
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
