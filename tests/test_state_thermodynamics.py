"""State free energies G_k = H_k - T S_k fitted to labelled frames at a few temperatures."""

from __future__ import annotations

import numpy as np
import pytest

from thermogen.models.state_thermodynamics import StateCounts, StateThermodynamics

TRUE = StateThermodynamics(entropy=np.array([0.0, 2.0, -1.0]), enthalpy=np.array([0.0, 2.5, -0.4]))


def labelled_frames(temperatures, frames_per_group, groups_per_temperature, seed):
    """Frames drawn from the exact populations of TRUE: (temperature, state, group) per frame."""
    rng = np.random.default_rng(seed)
    temperature, state, group = [], [], []
    for t_index, t in enumerate(temperatures):
        p = TRUE.populations(t)[0]
        for g in range(groups_per_temperature):
            temperature.append(np.full(frames_per_group, t))
            state.append(rng.choice(3, frames_per_group, p=p))
            group.append(np.full(frames_per_group, t_index * groups_per_temperature + g))
    return np.concatenate(temperature), np.concatenate(state), np.concatenate(group)


def test_populations_follow_van_t_hoff_log_odds():
    t = np.array([0.5, 1.0, 2.0])
    log_p = TRUE.log_populations(t)
    np.testing.assert_allclose(np.exp(log_p).sum(1), 1.0)
    # log(p1 / p0) = (S1 - S0) - (H1 - H0) / T
    np.testing.assert_allclose(log_p[:, 1] - log_p[:, 0], 2.0 - 2.5 / t)


def test_counts_tabulate_frames_per_trajectory_and_temperature():
    temperature = np.array([1.0, 1.0, 2.0, 2.0, 2.0, 1.0])
    state = np.array([0, 1, 1, 1, 0, 0])
    group = np.array([7, 7, 3, 3, 3, 3])
    counts = StateCounts.from_frames(temperature, state, group, n_states=2)
    np.testing.assert_array_equal(counts.temperatures, [1.0, 2.0])
    # groups sorted (3, 7); group 3 has one frame at T = 1 (state 0) and three at T = 2
    np.testing.assert_array_equal(counts.masses[0], [[1, 0], [1, 2]])
    np.testing.assert_array_equal(counts.masses[1], [[1, 1], [0, 0]])
    weighted = StateCounts.from_frames(temperature, state, group, 2, weights=np.full(6, 0.1))
    np.testing.assert_allclose(weighted.masses, counts.masses)  # rescaled to frame numbers
    again = StateCounts.from_dict(counts.to_dict())
    np.testing.assert_array_equal(again.masses, counts.masses)


def test_two_temperatures_reproduce_the_observed_fractions_exactly():
    temperature, state, group = labelled_frames((0.8, 1.3), 500, 20, seed=1)
    counts = StateCounts.from_frames(temperature, state, group, 3)
    fit = StateThermodynamics.fit(counts)
    observed = counts.masses.sum(0) + 0.5  # the fit's half pseudo-frame per cell
    observed /= observed.sum(1, keepdims=True)
    np.testing.assert_allclose(fit.populations(counts.temperatures), observed, atol=1e-5)
    assert fit.entropy[0] == 0 and fit.enthalpy[0] == 0


def test_fit_recovers_the_true_enthalpies_and_entropies_from_many_frames():
    temperature, state, group = labelled_frames((0.7, 1.0, 1.5, 2.2), 2000, 25, seed=2)
    fit = StateThermodynamics.fit(StateCounts.from_frames(temperature, state, group, 3))
    np.testing.assert_allclose(fit.enthalpy, TRUE.enthalpy, atol=0.05)
    np.testing.assert_allclose(fit.entropy, TRUE.entropy, atol=0.05)
    # and extrapolates: populations far outside the temperatures it saw
    np.testing.assert_allclose(fit.populations([0.4, 4.0]), TRUE.populations([0.4, 4.0]), atol=0.01)


def test_bootstrap_spread_matches_the_binomial_error_of_the_fractions():
    temperature, state, group = labelled_frames((0.8, 1.3), 100, 100, seed=3)
    counts = StateCounts.from_frames(temperature, state, group, 3)
    fits = StateThermodynamics.bootstrap(counts, 300, np.random.default_rng(0))
    p1 = np.array([f.populations(0.8)[0, 1] for f in fits])
    p = TRUE.populations(0.8)[0, 1]
    # 10,000 independent frames at T = 0.8 (groups resampled across both temperatures)
    expected = np.sqrt(p * (1 - p) / 10_000)
    assert p1.std() == pytest.approx(expected, rel=0.25)


def test_a_state_missing_at_one_temperature_keeps_finite_free_energies():
    temperature = np.r_[np.full(100, 1.0), np.full(100, 2.0)]
    state = np.r_[np.zeros(100, int), np.r_[np.zeros(50, int), np.ones(50, int)]]
    fit = StateThermodynamics.fit(StateCounts.from_frames(temperature, state, np.zeros(200), 2))
    assert np.all(np.isfinite(fit.enthalpy)) and np.all(np.isfinite(fit.entropy))
    assert fit.populations(1.0)[0, 1] < 0.01
