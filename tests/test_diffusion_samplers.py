"""Samplers and the ODE log-density against a Gaussian, whose ideal noise predictor is exact.

For data z0 ~ N(m, v I) and z_t = a z0 + b s eps (a = sqrt(ab), b = sqrt(1 - ab), s the noise
scale), the Bayes-optimal noise prediction is E[eps | z_t] = b s (z_t - a m) / (a^2 v + b^2 s^2).
With it, every sampler must return N(m, v I) and the log-density must be the Gaussian's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from thermogen.models.representation import FeatureScaler, TemperatureScale
from thermogen.models.samplers import (
    log_density,
    sample_ancestral,
    sample_ddim,
    sample_dpm_solver,
    sample_heun,
    sampler_log_density,
)
from thermogen.models.schedule import CosineSchedule

MEAN = torch.tensor([0.5, -1.0], dtype=torch.float64)
VAR = 0.3


def ideal_eps(schedule: CosineSchedule, scale: float):
    def eps(z_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = schedule.alpha_bar(t.to(z_t))[:, None]
        a, b = ab.sqrt(), (1 - ab).sqrt()
        return b * scale * (z_t - a * MEAN) / (a**2 * VAR + b**2 * scale**2)

    return eps


@pytest.mark.parametrize("scale", [1.0, 1.4])
@pytest.mark.parametrize(
    ("sampler", "steps", "tolerance"),
    # DPM-Solver++ is accurate with few steps; DDIM (Euler) and Heun in sigma converge slowly
    [
        (sample_ancestral, 200, 0.03),
        (sample_dpm_solver, 15, 0.03),
        (sample_ddim, 400, 0.03),
        (sample_heun, 99, 0.03),
    ],
)
def test_samplers_reproduce_the_gaussian(sampler, steps, tolerance, scale):
    schedule = CosineSchedule()
    generator = torch.Generator().manual_seed(0)
    like = torch.empty(0, dtype=torch.float64)
    z = sampler(ideal_eps(schedule, scale), schedule, 40_000, 2, scale, steps, generator, like)
    np.testing.assert_allclose(z.mean(0).numpy(), MEAN.numpy(), atol=tolerance)
    np.testing.assert_allclose(z.var(0).numpy(), [VAR, VAR], rtol=3 * tolerance)


@pytest.mark.parametrize("exact_divergence", [True, False])
def test_ode_log_density_equals_the_gaussian_log_density(exact_divergence):
    schedule = CosineSchedule()
    generator = torch.Generator().manual_seed(1)
    points = MEAN + math.sqrt(VAR) * torch.randn(
        4000 if not exact_divergence else 200, 2, dtype=torch.float64, generator=generator
    )
    exact = (-0.5 * ((points - MEAN) ** 2).sum(1) / VAR - math.log(2 * math.pi * VAR)).numpy()
    got = log_density(
        ideal_eps(schedule, 1.2), schedule, points, 1.2, 96, exact_divergence, generator
    ).numpy()
    if exact_divergence:  # Heun's integration error at 96 intervals: ~0.01 nats on average
        assert abs((got - exact).mean()) < 0.02
        np.testing.assert_allclose(got, exact, atol=0.06)
    else:  # Hutchinson: unbiased, with noise that averages out
        assert abs((got - exact).mean()) < 0.03
        assert np.corrcoef(got, exact)[0, 1] > 0.9


def test_schedule_ends_and_inverse():
    schedule = CosineSchedule(final_alpha_bar=1e-4)
    ab = schedule.alpha_bar(torch.tensor([0.0, 1.0], dtype=torch.float64))
    np.testing.assert_allclose(ab.numpy(), [1.0, 1e-4], rtol=1e-9)
    t = torch.linspace(0.01, 1, 50, dtype=torch.float64)
    np.testing.assert_allclose(schedule.t_of_sigma(schedule.sigma(t)).numpy(), t.numpy(), atol=1e-9)
    assert torch.all(torch.diff(schedule.sigma(t)) > 0)


def test_feature_scaler_round_trip_and_angle_wrapping():
    rng = np.random.default_rng(0)
    features = np.column_stack([rng.normal(3.0, 2.0, 500), rng.uniform(-np.pi, np.pi, 500)])
    scaler = FeatureScaler.fit(features, np.array([False, True]))
    z = scaler.encode(features)
    assert z.shape == (500, 3)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(scaler.decode(z), features, atol=1e-12)
    # any point of model space decodes to a wrapped angle, and +-pi are the same place
    decoded = scaler.decode(rng.normal(0, 5, (1000, 3)))
    assert np.all(np.abs(decoded[:, 1]) <= np.pi)
    seam = scaler.encode(np.array([[0.0, np.pi - 1e-9], [0.0, -np.pi + 1e-9]]))
    np.testing.assert_allclose(seam[0], seam[1], atol=1e-6)
    with pytest.raises(ValueError, match="angle"):
        _ = scaler.log_jacobian


def test_temperature_scale_is_centred_on_the_geometric_mean():
    scale = TemperatureScale.fit(np.array([1.0, 1.0, 4.0]))
    assert scale.reference == pytest.approx(2.0)
    np.testing.assert_allclose(scale.log_ratio([1.0, 4.0]) / scale.spread, [-1.0, 1.0])


@pytest.mark.parametrize("sampler", [sample_dpm_solver, sample_ddim])
def test_sampler_log_density_is_exact_for_the_discrete_sampler(sampler):
    """For a linear (Gaussian) denoiser every sampler is an affine map of the noise, so its
    samples are exactly Gaussian; their log-density must match the Gaussian fitted to them."""
    schedule = CosineSchedule()
    noise = torch.randn(3000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    z, log_q = sampler_log_density(
        sampler,
        ideal_eps(schedule, 1.0),
        schedule,
        noise,
        1.0,
        12,
        torch.empty(0, dtype=torch.float64),
    )
    # the map is affine: z = c + k * noise, identical k for every sample
    k = ((z - z.mean(0)) / (noise - noise.mean(0))).mean(0)
    expected = -0.5 * (noise**2).sum(1) - math.log(2 * math.pi) - torch.log(k.abs()).sum()
    np.testing.assert_allclose(log_q.numpy(), expected.numpy(), atol=1e-9)
