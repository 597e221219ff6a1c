"""The 32-dimensional many-well system (issue 14): forces, exact quadrature answers, exact i.i.d.
samples against them, and replica exchange at the right temperatures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from thermogen.data import load_dataset
from thermogen.systems import ManyWell32, get_system

from .cli_helpers import run


def test_forces_are_minus_the_gradient_of_the_energy():
    system = ManyWell32()
    x = np.random.default_rng(0).normal(0.0, 1.5, size=(5, 32))
    _, force = system.energy_and_force(x)
    step = 1e-6
    numerical = np.empty_like(x)
    for k in range(32):
        shift = np.zeros(32)
        shift[k] = step
        numerical[:, k] = -(system.energy(x + shift) - system.energy(x - shift)) / (2 * step)
    np.testing.assert_allclose(force, numerical, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("temperature", [0.5, 1.219, 4.0])
def test_the_minor_well_probability_matches_independent_integration(temperature):
    def weight(x):
        return np.exp(-ManyWell32.pair_energy_x(x) / temperature)

    minor = integrate.quad(weight, -np.inf, 0.0)[0]
    major = integrate.quad(weight, 0.0, np.inf)[0]
    assert get_system("many-well-32").minor_probability(temperature) == pytest.approx(
        minor / (minor + major), rel=1e-6
    )


def test_exact_samples_follow_the_quadrature_marginal_and_the_binomial_count():
    system, temperature = ManyWell32(), 1.219
    samples = system.exact_samples(temperature, 20_000, np.random.default_rng(1))
    grid, density = system.well_density(temperature)
    edges = np.linspace(-3, 3, 31)
    expected = np.diff(np.interp(edges, grid, _cumulative(grid, density)))
    observed = np.histogram(samples[:, 0::2], edges)[0] / samples[:, 0::2].size
    assert np.abs(observed - expected).max() < 0.005
    counts = np.bincount(system.minor_counts(samples), minlength=17) / len(samples)
    total_variation = 0.5 * np.abs(counts - system.minor_count_distribution(temperature)).sum()
    assert total_variation < 0.02
    assert samples[:, 1::2].var() == pytest.approx(temperature, rel=0.02)


def _cumulative(grid: np.ndarray, density: np.ndarray) -> np.ndarray:
    steps = 0.5 * (density[1:] + density[:-1]) * np.diff(grid)
    return np.concatenate([[0.0], np.cumsum(steps)])


def test_replica_exchange_holds_every_replica_at_its_temperature(tmp_path):
    out = tmp_path / "many_well.npz"
    status, _, err = run(["simulate", "many-well-32", "--steps", "4000", "--out", out, "--quiet"])
    assert status == 0, err
    data = load_dataset(out)
    assert data.n_features == 32 and data.feature_names[:2] == ("x0", "y0")
    for temperature in data.temperatures:  # the harmonic coordinates: variance T exactly
        springs = data.features[data.temperature == temperature][:, 1::2]
        assert springs.var() == pytest.approx(temperature, rel=0.03)
    minor = [(data.features[data.temperature == t][:, 0::2] < 0).mean() for t in data.temperatures]
    assert np.all(np.diff(minor) > 0)  # the minor wells fill as the temperature rises
