"""Replica exchange: bookkeeping, swap acceptance and sampling of the exact distribution."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from thermogen.analysis import bootstrap_populations
from thermogen.simulate import REMDConfig, geometric_ladder, parse_temperatures, run_remd
from thermogen.simulate.remd import _SwapBook
from thermogen.systems import DoubleWell, MuellerBrown, ThreeHole, TwoStateFolding

from .test_systems import Harmonic

# (system, chains, production steps, equilibration steps): sized so each run takes a few seconds
RUNS = [
    (MuellerBrown, 64, 30_000, 10_000),
    (DoubleWell, 64, 30_000, 10_000),
    (ThreeHole, 64, 30_000, 10_000),
    (TwoStateFolding, 64, 40_000, 10_000),
]


@pytest.mark.parametrize(
    ("cls", "n_chains", "n_steps", "n_equil"), RUNS, ids=[r[0].name for r in RUNS]
)
def test_remd_samples_exact_basin_populations_at_every_temperature(cls, n_chains, n_steps, n_equil):
    system = cls()
    config = REMDConfig(
        system.default_temperatures,
        n_chains=n_chains,
        n_steps=n_steps,
        equilibration_steps=n_equil,
        stride=50,
        seed=11,
    )
    result = run_remd(system, config, progress=False)
    ds = result.dataset
    n_temps = len(system.default_temperatures)
    labels = system.basin_of(ds.features)
    frames_per_chain = n_steps // config.stride
    for t, exact in zip(ds.temperatures, system.exact_populations(ds.temperatures), strict=True):
        at_t = np.flatnonzero(ds.temperature == t)
        at_t = at_t[
            np.lexsort((ds.time[at_t], ds.replica[at_t] // n_temps))
        ]  # one series per chain
        # Chains are independent, the frames of one chain are not (replicas return to T through
        # swaps): a block is a whole chain's series at T.
        est = bootstrap_populations(
            labels[at_t],
            len(exact),
            groups=ds.replica[at_t] // n_temps,
            block_length=frames_per_chain,
            n_boot=1000,
            seed=0,
        )
        z = np.abs(est.value - exact) / est.std_error
        assert np.all(z < 3.0), f"{system.name} at T={t:g}: {est.value} vs exact {exact} (z={z})"


def test_swap_acceptance_matches_exact_expectation_for_a_harmonic_well():
    """<min(1, exp[(1/T1 - 1/T2)(U1 - U2)])> over exact samples is the exact acceptance."""
    system = Harmonic()
    temps = (1.0, 1.6)
    config = REMDConfig(
        temps,
        n_chains=256,
        n_steps=10_000,
        equilibration_steps=500,
        stride=100,
        swap_interval=20,
        seed=3,
    )
    result = run_remd(system, config, progress=False)
    rng = np.random.default_rng(0)
    u1 = system.potential(system.sample(temps[0], 400_000, rng))
    u2 = system.potential(system.sample(temps[1], 400_000, rng))
    exact = np.minimum(1.0, np.exp((1 / temps[0] - 1 / temps[1]) * (u1 - u2))).mean()
    attempts = 256 * (10_500 // 20)
    assert result.acceptance[0] == pytest.approx(
        exact, abs=4 * np.sqrt(exact * (1 - exact) / attempts) + 0.01
    )


def test_swap_book_counts_round_trips():
    """With equal energies every swap is accepted: two temperatures swap every other attempt."""
    book = _SwapBook(n_chains=1, n_temps=2)
    rng = np.random.default_rng(0)
    states = []
    for _ in range(4):
        book.attempt(np.array([1.0, 0.5]), np.zeros((1, 2)), rng)
        states.append(book.state_of[0].tolist())
    assert states == [[1, 0], [1, 0], [0, 1], [0, 1]]
    assert book.trips.count == 1  # replica 0: bottom -> top -> bottom; replica 1 is half way
    np.testing.assert_array_equal(book.acceptance, [1.0])


def test_dataset_layout_and_repeatability():
    system = DoubleWell()
    config = REMDConfig(
        (0.5, 1.0, 2.0), n_chains=3, n_steps=1000, equilibration_steps=100, stride=100, seed=5
    )
    first = run_remd(system, config, progress=False).dataset
    second = run_remd(system, config, progress=False).dataset
    assert first.n_frames == 3 * 3 * 10
    np.testing.assert_array_equal(first.features, second.features)
    np.testing.assert_allclose(first.energy, system.potential(first.features))
    for r in range(9):
        np.testing.assert_array_equal(first.time[first.replica == r], np.arange(10))
    # at every saved time each chain has exactly one replica at each temperature
    for frame in range(10):
        at = first.time == frame
        chain = first.replica[at] // 3
        for c in range(3):
            np.testing.assert_array_equal(
                np.sort(first.temperature[at][chain == c]), [0.5, 1.0, 2.0]
            )
    assert first.temperature_unit == "reduced"


def test_a_run_without_swap_attempts_says_so():
    config = REMDConfig(
        (0.5, 1.0), n_chains=4, n_steps=200, equilibration_steps=0, stride=50, swap_interval=1000
    )
    result = run_remd(DoubleWell(), config, progress=False)
    assert result.swap_attempts.tolist() == [0] and result.acceptance.tolist() == [0.0]
    assert "no swaps attempted" in result.summary()
    swapping = run_remd(DoubleWell(), replace(config, swap_interval=10), progress=False)
    assert swapping.swap_attempts.tolist() == [4 * 200 // 10 // 2]  # even steps: pair (0, 1)
    assert "no swaps attempted" not in swapping.summary()


def test_ladders():
    np.testing.assert_allclose(geometric_ladder(1.0, 4.0, 3), [1.0, 2.0, 4.0])
    np.testing.assert_allclose(parse_temperatures("300:600:8"), np.geomspace(300, 600, 8))
    np.testing.assert_allclose(parse_temperatures("2, 1"), [1.0, 2.0])
    for bad in ("1,x", "0,1", "1,1", "3:1:4"):
        with pytest.raises(ValueError):
            parse_temperatures(bad)
