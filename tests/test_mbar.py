"""MBAR reweighting against exact answers."""

from __future__ import annotations

import numpy as np
import pytest

from thermogen.analysis.mbar import MBARReweighter, kish_effective_sample_size
from thermogen.data import MultiTempDataset
from thermogen.errors import InputError
from thermogen.simulate import REMDConfig, run_remd
from thermogen.systems import MuellerBrown


def harmonic_dataset(temps, n_per_temp, dim=1, seed=0):
    """i.i.d. harmonic oscillator U = |x|^2/2 in ``dim`` dimensions: <x_i^2> = T, C_v = dim/2."""
    rng = np.random.default_rng(seed)
    t = np.repeat(np.asarray(temps, dtype=float), n_per_temp)
    x = rng.normal(0.0, np.sqrt(t)[:, None], size=(t.size, dim))
    return MultiTempDataset(
        x, t, energy=0.5 * (x**2).sum(axis=1), temperature_unit="reduced", energy_unit="reduced"
    )


def test_expectations_at_unsimulated_temperatures_match_exact_values():
    ds = harmonic_dataset([1.0, 1.5, 2.25, 3.375], 5000)
    mbar = MBARReweighter(ds)
    targets = [1.2, 2.0, 3.0]
    est = mbar.expectations(ds.features[:, 0] ** 2, targets)
    z = (est.value[:, 0] - np.array(targets)) / est.std_error[:, 0]
    assert np.all(np.abs(z) < 3.0), z
    assert np.all(est.std_error < 0.05)
    np.testing.assert_allclose(mbar.heat_capacity(targets), 0.5, rtol=0.05)


def test_weights_normalised_and_ess_collapses_outside_the_ladder():
    ds = harmonic_dataset([1.0, 1.2], 4000, dim=50)  # energy fluctuations grow with dimension
    mbar = MBARReweighter(ds)
    assert mbar.weights(1.1).sum() == pytest.approx(1.0)
    inside, outside = mbar.effective_sample_size(1.1), mbar.effective_sample_size(1.8)
    assert inside > 4000
    assert outside < 0.1 * inside


def test_overlap_matrix_is_stochastic_and_falls_with_the_temperature_gap():
    near = MBARReweighter(harmonic_dataset([1.0, 1.02], 3000, dim=200)).overlap_matrix()
    far = MBARReweighter(harmonic_dataset([1.0, 2.0], 3000, dim=200)).overlap_matrix()
    for matrix in (near, far):
        assert matrix.shape == (2, 2)
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-8)
    assert near[0, 1] > 0.3  # identical ensembles would give 0.5
    assert far[0, 1] < 1e-3  # 200-d energies: 100 ± 10 at T, 200 ± 20 at 2T


def test_kish_effective_sample_size():
    assert kish_effective_sample_size(np.zeros(100)) == pytest.approx(100)
    assert kish_effective_sample_size(np.log([1.0, 0.0 + 1e-300, 1e-300])) == pytest.approx(1.0)
    assert kish_effective_sample_size(np.log([3.0, 1.0])) == pytest.approx(16 / 10)


def test_mbar_needs_energies():
    ds = MultiTempDataset(
        np.zeros((4, 1)),
        np.array([1.0, 1.0, 2.0, 2.0]),
        temperature_unit="reduced",
        energy_unit="reduced",
        source="x.npz",
    )
    with pytest.raises(InputError, match=r"x\.npz: field 'energy'"):
        MBARReweighter(ds)


def test_mbar_from_remd_reproduces_exact_populations_between_simulated_temperatures():
    system = MuellerBrown()
    temps = system.default_temperatures
    config = REMDConfig(
        temps, n_chains=64, n_steps=30_000, equilibration_steps=10_000, stride=50, seed=2
    )
    ds = run_remd(system, config, progress=False).dataset
    mbar = MBARReweighter(ds, decorrelate=True)
    targets = [np.sqrt(temps[0] * temps[1]), np.sqrt(temps[2] * temps[3])]
    est = mbar.populations(system.basin_of(ds.features), len(system.basin_names), targets)
    exact = system.exact_populations(targets)
    z = np.abs(est.value - exact) / est.std_error
    assert np.all(z < 3.0), (est.value, exact, z)
    assert np.all(est.effective_sample_size > 200)
