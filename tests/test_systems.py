"""Analytic systems: forces, exact grid references and exact i.i.d. sampling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from thermogen.analysis import fit_van_t_hoff
from thermogen.systems import (
    SYSTEMS,
    AnalyticSystem,
    DoubleWell,
    MuellerBrown,
    ThreeHole,
    TwoStateFolding,
    get_system,
)

ANALYTIC = [MuellerBrown, DoubleWell, ThreeHole, TwoStateFolding]


class Harmonic(AnalyticSystem):
    """U = (x^2 + y^2) / 2: the Boltzmann distribution is N(0, T I), <U> = T, C_v = 1."""

    name = "harmonic"
    bounds = ((-8.0, 8.0), (-8.0, 8.0))
    minima = ((0.0, 0.0),)
    basin_names = ("well",)
    default_temperatures = (0.5, 1.0)
    timestep = 0.01
    friction = 1.0

    def potential(self, xy):
        return 0.5 * (xy**2).sum(axis=1)

    def gradient(self, xy):
        return np.asarray(xy, dtype=float)


@pytest.mark.parametrize("cls", ANALYTIC)
def test_gradient_matches_finite_differences(cls):
    system = cls()
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = system.bounds
    pts = np.column_stack([rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50)]) * 0.6
    h = 1e-6
    numeric = np.stack(
        [
            (system.potential(pts + h * e) - system.potential(pts - h * e)) / (2 * h)
            for e in np.eye(2)
        ],
        axis=1,
    )
    analytic = system.gradient(pts)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-5 * np.abs(analytic).max())


@pytest.mark.parametrize("cls", ANALYTIC)
def test_reference_is_normalised_and_box_holds_the_mass(cls):
    system = cls()
    ref = system.reference(max(system.default_temperatures))
    assert ref.probability.sum() == pytest.approx(1.0, abs=1e-12)
    edge = ref.probability[[0, -1], :].sum() + ref.probability[:, [0, -1]].sum()
    assert edge < 5e-5
    assert ref.basin_populations.sum() == pytest.approx(1.0, abs=1e-12)
    # every declared minimum lies in its own basin
    np.testing.assert_array_equal(
        system.basin_of(np.array(system.minima)), np.arange(len(system.basin_names))
    )


def test_harmonic_reference_matches_analytic_answers():
    system = Harmonic()
    for t in (0.5, 1.0, 2.0):
        ref = system.reference(t)
        assert ref.mean_energy == pytest.approx(t, rel=1e-3)  # equipartition, 2 degrees of freedom
        assert ref.heat_capacity == pytest.approx(1.0, rel=2e-3)
        np.testing.assert_allclose(ref.basin_populations, [1.0], atol=1e-12)


@pytest.mark.parametrize("cls", ANALYTIC)
def test_heat_capacity_equals_derivative_of_mean_energy(cls):
    """C_v = Var(U)/T^2 = d<U>/dT is a thermodynamic identity the grid must satisfy."""
    system = cls()
    t = float(np.mean(system.default_temperatures))
    h = 1e-4 * t
    derivative = (system.reference(t + h).mean_energy - system.reference(t - h).mean_energy) / (
        2 * h
    )
    assert system.exact_heat_capacity(t)[0] == pytest.approx(derivative, rel=1e-5)


@pytest.mark.parametrize("cls", [*ANALYTIC, Harmonic])
def test_exact_samples_follow_the_grid_distribution(cls):
    system = cls()
    t = system.default_temperatures[0]
    n = 40_000
    samples = system.sample(t, n, rng=1)
    exact = system.reference(t).basin_populations
    observed = np.bincount(system.basin_of(samples), minlength=len(exact)) / n
    sigma = np.sqrt(exact * (1 - exact) / n)
    assert np.all(np.abs(observed - exact) < 4 * sigma + 1e-9)
    # and the energy distribution: sample mean of U vs exact <U> (sd from the exact variance)
    ref = system.reference(t)
    assert abs(system.potential(samples).mean() - ref.mean_energy) < 4 * np.sqrt(
        ref.energy_variance / n
    )


def test_samples_are_repeatable_with_a_seed():
    system = MuellerBrown()
    np.testing.assert_array_equal(system.sample(2.0, 100, rng=7), system.sample(2.0, 100, rng=7))


def test_two_state_melting_inside_default_ladder_and_van_t_hoff_recovers_tm():
    system = TwoStateFolding()
    ladder = system.default_temperatures
    tm = brentq(lambda t: system.exact_melting_curve(t, "folded")[0] - 0.5, 0.3, 3.0, xtol=1e-10)
    assert ladder[0] < tm < ladder[-1]
    temps = np.geomspace(ladder[0], ladder[-1], 25)
    fit = fit_van_t_hoff(
        temps, system.exact_melting_curve(temps, "folded"), temperature_unit="reduced"
    )
    assert abs(fit.tm / tm - 1) < 1e-3
    # folded is the low-energy, low-entropy state: it melts on heating
    populations = system.exact_melting_curve([ladder[0], ladder[-1]], "folded")
    assert populations[0] > 0.75 > 0.3 > populations[1]


def test_mueller_brown_minor_basins_rare_when_cold_and_populated_when_hot():
    system = MuellerBrown()
    cold, hot = system.exact_populations(
        [system.default_temperatures[0], system.default_temperatures[-1]]
    )
    assert cold[1:].sum() < 0.05
    assert hot[1:].sum() > 0.3


def test_registry_knows_every_system_and_rejects_unknown_names():
    assert set(SYSTEMS) == {
        "mueller-brown",
        "double-well",
        "three-hole",
        "two-state",
        "lj7",
        "many-well-32",
    }
    assert isinstance(get_system("three-hole"), ThreeHole)
    with pytest.raises(KeyError, match="mueller-brown"):
        get_system("muller")
