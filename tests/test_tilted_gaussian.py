"""The tilted Gaussian base: exact normaliser and exact sampler against numerical integration."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from scipy.special import gammaln

from thermogen.models.tilted_gaussian import TiltedGaussian, log_radial_integral

DIMS = (1, 2, 3, 5)
PARAMS = ((1.0, 0.0), (0.55, 2.5), (1.0, 2.0), (1.73, 3.0))  # (s, tau)


def radial_weight(r: np.ndarray, dim: int, s: float, tau: float) -> np.ndarray:
    """Unnormalised radial density r^{d-1} exp(-r^2/(2 s^2) + tau r), shifted by its peak value."""
    peak = tau * s**2 + s * math.sqrt(dim)
    log_w = (dim - 1) * np.log(np.maximum(r, 1e-300)) - r**2 / (2 * s**2) + tau * r
    log_peak = (dim - 1) * math.log(peak) - peak**2 / (2 * s**2) + tau * peak
    return np.exp(log_w - log_peak), log_peak


def quad_log_normalizer(dim: int, s: float, tau: float) -> float:
    """log Z by adaptive quadrature of the radial integral times the area of the unit sphere."""
    upper = tau * s**2 + 12 * s + 3 * s * math.sqrt(dim)
    value, _ = integrate.quad(
        lambda r: radial_weight(np.array(r), dim, s, tau)[0], 0, upper, limit=200, epsrel=1e-12
    )
    log_sphere = math.log(2) + dim / 2 * math.log(math.pi) - gammaln(dim / 2)
    return log_sphere + math.log(value) + radial_weight(np.array(1.0), dim, s, tau)[1]


def radial_cdf(dim: int, s: float, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact radial CDF on a fine grid (error far below 1e-6) and E[r^2]."""
    r = np.linspace(0, tau * s**2 + 14 * s + 3 * s * math.sqrt(dim), 200_001)
    w, _ = radial_weight(r, dim, s, tau)
    cdf = integrate.cumulative_trapezoid(w, r, initial=0.0)
    mean_r2 = integrate.trapezoid(w * r**2, r) / cdf[-1]
    return r, cdf / cdf[-1], mean_r2


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize(("s", "tau"), PARAMS)
def test_log_normalizer_matches_quadrature(dim, s, tau):
    exact = TiltedGaussian(dim, s, tau).log_normalizer().double().item()
    assert exact == pytest.approx(quad_log_normalizer(dim, s, tau), abs=1e-6)


def test_log_normalizer_in_float64_matches_quadrature_of_the_radial_integral_far_out():
    for dim in (1, 2, 7):
        for a in (0.0, 4.0, 40.0, 300.0):
            value, _ = integrate.quad(
                lambda x, a=a, dim=dim: x ** (dim - 1) * math.exp(-0.5 * (x - a) ** 2),
                max(a - 40, 0),
                a + 40,
                points=[a + 1],
                limit=200,
                epsrel=1e-13,
            )
            expected = 0.5 * a**2 + math.log(value)
            assert log_radial_integral(dim, a) == pytest.approx(expected, rel=1e-11, abs=1e-11)


def test_density_integrates_to_one_on_a_plain_2d_grid():
    """Brute force in Cartesian coordinates, independent of the polar reduction."""
    edges = torch.linspace(-22, 22, 1761, dtype=torch.float64)
    centres = 0.5 * (edges[1:] + edges[:-1])
    grid = torch.stack(torch.meshgrid(centres, centres, indexing="ij"), -1).reshape(-1, 2)
    cell = (edges[1] - edges[0]) ** 2
    for s, tau in PARAMS:
        dist = TiltedGaussian(2, torch.tensor(s, dtype=torch.float64), tau)
        assert (dist.log_prob(grid).exp().sum() * cell).item() == pytest.approx(1.0, abs=2e-4)


@pytest.mark.parametrize("dim", DIMS)
def test_sampler_radii_follow_the_exact_radial_distribution(dim):
    n = 20_000
    for seed, (s, tau) in enumerate(PARAMS):
        generator = torch.Generator().manual_seed(seed)
        u = TiltedGaussian(dim, torch.tensor(s, dtype=torch.float64), tau).sample(
            (n,), generator=generator
        )
        assert u.shape == (n, dim) and torch.isfinite(u).all()
        radius = torch.linalg.vector_norm(u, dim=-1).numpy()
        grid, cdf, mean_r2 = radial_cdf(dim, s, tau)
        pvalue = stats.kstest(radius, lambda r, g=grid, c=cdf: np.interp(r, g, c)).pvalue
        assert pvalue > 1e-3, f"d={dim}, s={s}, tau={tau}: KS p-value {pvalue:.2g}"
        r2 = radius**2
        assert abs(r2.mean() - mean_r2) < 5 * r2.std() / math.sqrt(n)
        # directions are uniform: the mean of u vanishes
        assert np.all(np.abs(u.numpy().mean(0)) < 5 * u.numpy().std(0) / math.sqrt(n))


def test_batched_temperatures_broadcast_and_sample_reproducibly():
    ratios = torch.tensor([0.3, 1.0, 3.0])
    dist = TiltedGaussian.at_temperature(2, ratios, tilt=2.5)
    assert dist.batch_shape == (3,) and dist.event_shape == (2,)
    torch.testing.assert_close(dist.scale, ratios.sqrt())

    draws = [dist.sample((500,), generator=torch.Generator().manual_seed(7)) for _ in range(2)]
    assert draws[0].shape == (500, 3, 2) and draws[0].dtype == torch.float32
    torch.testing.assert_close(draws[0], draws[1], rtol=0, atol=0)
    # the ring radius grows with temperature
    radius = torch.linalg.vector_norm(draws[0], dim=-1).mean(0)
    assert radius[0] < radius[1] < radius[2]
    assert dist.log_prob(draws[0]).shape == (500, 3)
    for single, ratio in zip(dist.log_normalizer(), ratios, strict=True):
        one = TiltedGaussian.at_temperature(2, ratio, tilt=2.5)
        assert single.item() == pytest.approx(one.log_normalizer().item(), rel=1e-6)


def test_log_prob_gradient_is_the_analytic_one_and_finite_at_the_origin():
    s, tau = 1.3, 2.0
    u = torch.tensor([[0.0, 0.0], [0.6, -1.1], [3.0, 2.0]], requires_grad=True)
    TiltedGaussian(2, s, tau).log_prob(u).sum().backward()
    r = u.detach().norm(dim=-1, keepdim=True)
    expected = u.detach() * (-1 / s**2 + tau / r)
    expected[0] = 0.0
    torch.testing.assert_close(u.grad, expected)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="dim"):
        TiltedGaussian(0, 1.0, 2.0)
    with pytest.raises(ValueError):
        TiltedGaussian(2, -1.0, 2.0, validate_args=True)
    with pytest.raises(ValueError):
        TiltedGaussian(2, 1.0, -0.5, validate_args=True)
