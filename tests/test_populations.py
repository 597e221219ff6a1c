"""State populations and block-bootstrap errors against a Markov chain with known correlation."""

from __future__ import annotations

import numpy as np
import pytest

from thermogen.analysis import (
    PopulationEstimate,
    bootstrap_populations,
    state_populations,
    statistical_inefficiency,
)

FLIP = 0.01
"""Flip probability a of the symmetric 2-state chain: rho(k) = (1 - 2a)^k."""
RHO = 1.0 - 2.0 * FLIP
G_EXACT = (1.0 + RHO) / (1.0 - RHO)
"""Statistical inefficiency 1 + 2 sum_k rho^k = (1 + rho) / (1 - rho) = 99."""


def _two_state_chains(n_chains: int, n_steps: int, seed: int) -> np.ndarray:
    """(n_chains, n_steps) stationary symmetric 2-state Markov chains with flip probability FLIP."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 2, size=(n_chains, 1))
    flips = rng.random((n_chains, n_steps)) < FLIP
    flips[:, 0] = False
    return (start + np.cumsum(flips, axis=1)) % 2


def _exact_error_of_mean(n_steps: int) -> float:
    """Exact standard deviation of the time average of one state indicator over n steps.

    Var = p (1 - p) / n * [(1 + rho) / (1 - rho) - 2 rho (1 - rho^n) / (n (1 - rho)^2)], p = 1/2.
    """
    correction = 2 * RHO * (1 - RHO**n_steps) / (n_steps * (1 - RHO) ** 2)
    return float(np.sqrt(0.25 / n_steps * (G_EXACT - correction)))


def test_state_populations_hand_values() -> None:
    labels = np.array([0, 2, 2, 1, 2])
    np.testing.assert_allclose(state_populations(labels, 4), [0.2, 0.2, 0.6, 0.0])
    weights = np.array([1.0, 0.5, 0.5, 2.0, 0.0])
    np.testing.assert_allclose(state_populations(labels, 3, weights), [0.25, 0.5, 0.25])


def test_label_and_weight_errors() -> None:
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        state_populations(np.array([0, 2]), 2)
    with pytest.raises(ValueError, match="integers"):
        state_populations(np.array([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match="weights"):
        state_populations(np.array([0, 1]), 2, np.zeros(2))
    with pytest.raises(ValueError, match="groups"):
        bootstrap_populations(np.array([0, 1]), 2, groups=np.zeros(3))


def test_statistical_inefficiency_of_markov_chain() -> None:
    labels = _two_state_chains(1, 100_000, seed=0)[0]
    assert statistical_inefficiency(labels, 2) == pytest.approx(G_EXACT, rel=0.15)
    iid = np.random.default_rng(1).integers(0, 3, size=20_000)
    assert statistical_inefficiency(iid, 3) == pytest.approx(1.0, abs=0.1)


def test_block_bootstrap_error_matches_exact_markov_error() -> None:
    n_steps = 100_000
    labels = _two_state_chains(1, n_steps, seed=2)[0]
    exact = _exact_error_of_mean(n_steps)
    naive = bootstrap_populations(labels, 2, block_length=1, n_boot=300, seed=3)
    block = bootstrap_populations(labels, 2, seed=3)
    assert isinstance(block, PopulationEstimate)
    # i.i.d. resampling misses the factor sqrt(g) ~ 10
    assert naive.std_error[0] < 0.15 * exact
    assert block.block_length == pytest.approx(5 * G_EXACT, rel=0.2)
    np.testing.assert_allclose(block.std_error, exact, rtol=0.2)
    np.testing.assert_allclose(block.value, state_populations(labels, 2))
    assert np.all(block.low < block.value) and np.all(block.value < block.high)


def test_grouped_chains_give_error_of_pooled_mean() -> None:
    n_chains, n_steps = 10, 10_000
    chains = _two_state_chains(n_chains, n_steps, seed=4)
    groups = np.repeat(np.arange(n_chains), n_steps)
    est = bootstrap_populations(chains.ravel(), 2, groups=groups, seed=5)
    exact = _exact_error_of_mean(n_steps) / np.sqrt(n_chains)
    np.testing.assert_allclose(est.std_error, exact, rtol=0.2)
    # Concatenating the chains as one group would let blocks straddle chain boundaries; the
    # frame order across groups is irrelevant, only the order within each group matters.
    interleaved = np.argsort(np.tile(np.arange(n_steps), n_chains), kind="stable")
    shuffled = bootstrap_populations(
        chains.ravel()[interleaved],
        2,
        groups=groups[interleaved],
        block_length=est.block_length,
        seed=5,
    )
    np.testing.assert_array_equal(shuffled.std_error, est.std_error)


def test_weighted_bootstrap_value_and_equivalence_to_repeats() -> None:
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 3, size=3000)
    counts = rng.integers(1, 4, size=3000)
    weighted = bootstrap_populations(
        labels, 3, weights=counts.astype(float), block_length=1, seed=7
    )
    np.testing.assert_allclose(weighted.value, state_populations(labels, 3, counts))
    # a weight-k frame is k identical frames resampled together: errors match a block bootstrap
    # of the repeated frames with one block per original frame
    repeated = np.repeat(labels, counts)
    groups = np.repeat(np.arange(labels.size), counts)
    blocked = bootstrap_populations(repeated, 3, groups=groups, block_length=4, seed=7)
    np.testing.assert_allclose(weighted.std_error, blocked.std_error, rtol=1e-12)


def test_iid_interval_coverage() -> None:
    truth = np.array([0.2, 0.3, 0.5])
    rng = np.random.default_rng(8)
    covered = np.zeros(3)
    n_trials = 200
    for _ in range(n_trials):
        labels = rng.choice(3, size=1000, p=truth)
        est = bootstrap_populations(labels, 3, n_boot=500, seed=rng)
        covered += (est.low <= truth) & (truth <= est.high)
    assert np.all((0.88 * n_trials <= covered) & (covered <= 0.99 * n_trials))


def test_few_blocks_warns() -> None:
    with pytest.warns(RuntimeWarning, match="blocks"):
        bootstrap_populations(np.array([0, 1] * 50), 2, block_length=10)
