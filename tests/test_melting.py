"""Van 't Hoff melting curves: exact recovery, interval coverage on noisy data, input errors."""

from __future__ import annotations

import numpy as np
import pytest

from thermogen.analysis import VantHoffFit, fit_van_t_hoff, melting_temperature, van_t_hoff
from thermogen.units import KB_KJ_PER_MOL_K

TM_K, DH_KJ = 330.0, 150.0
TEMPS_K = np.linspace(280.0, 380.0, 11)


def test_van_t_hoff_shape() -> None:
    assert van_t_hoff(TM_K, TM_K, DH_KJ, KB_KJ_PER_MOL_K) == pytest.approx(0.5)
    p = van_t_hoff(TEMPS_K, TM_K, DH_KJ, KB_KJ_PER_MOL_K)
    assert np.all(np.diff(p) < 0)  # dH > 0: folded at low T
    expected = 1.0 / (1.0 + np.exp(DH_KJ / KB_KJ_PER_MOL_K * (1 / TM_K - 1 / TEMPS_K)))
    np.testing.assert_allclose(p, expected, rtol=1e-12)


def test_exact_curve_kelvin() -> None:
    p = van_t_hoff(TEMPS_K, TM_K, DH_KJ, KB_KJ_PER_MOL_K)
    fit = fit_van_t_hoff(TEMPS_K[::-1], p[::-1], n_boot=20, seed=0)  # order does not matter
    assert isinstance(fit, VantHoffFit)
    assert fit.tm == pytest.approx(TM_K, rel=1e-6)
    assert fit.dh == pytest.approx(DH_KJ, rel=1e-6)
    assert fit.gas_constant == KB_KJ_PER_MOL_K
    np.testing.assert_allclose(fit.predict(TEMPS_K), p, atol=1e-9)


def test_exact_curve_reduced_units_and_negative_dh() -> None:
    temps = np.linspace(0.5, 2.0, 7)
    p = van_t_hoff(temps, 1.1, 8.0, 1.0)
    fit = fit_van_t_hoff(temps, p, temperature_unit="reduced", n_boot=20, seed=0)
    assert (fit.tm, fit.dh) == (pytest.approx(1.1, rel=1e-6), pytest.approx(8.0, rel=1e-6))
    assert fit.gas_constant == 1.0
    rising = fit_van_t_hoff(temps, 1.0 - p, temperature_unit="reduced", n_boot=20, seed=0)
    assert (rising.tm, rising.dh) == (pytest.approx(1.1, rel=1e-6), pytest.approx(-8.0, rel=1e-6))


def test_sigma_follows_the_input_order() -> None:
    p = van_t_hoff(TEMPS_K, TM_K, DH_KJ, KB_KJ_PER_MOL_K)
    p = np.clip(p + 0.01 * np.random.default_rng(4).standard_normal(p.size), 0, 1)
    sigma = np.linspace(0.005, 0.05, p.size)
    shuffle = np.random.default_rng(5).permutation(p.size)
    in_order = fit_van_t_hoff(TEMPS_K, p, sigma=sigma, n_boot=50, seed=6)
    shuffled = fit_van_t_hoff(TEMPS_K[shuffle], p[shuffle], sigma=sigma[shuffle], n_boot=50, seed=6)
    assert shuffled.tm == pytest.approx(in_order.tm, rel=1e-9)
    assert shuffled.dh == pytest.approx(in_order.dh, rel=1e-9)
    unweighted = fit_van_t_hoff(TEMPS_K, p, n_boot=50, seed=6)
    assert unweighted.tm != pytest.approx(in_order.tm, rel=1e-9)  # the weights matter


def test_sharp_transition_needs_the_fit_not_just_the_guess() -> None:
    # the points bracketing 0.5 are ~1 - 1e-13 and ~1e-13: clipping makes the logit guess inexact
    temps = np.array([300.0, 310.0, 320.0, 330.0, 340.0])
    p = van_t_hoff(temps, 325.0, 2500.0, KB_KJ_PER_MOL_K)
    assert p[2] > 1 - 1e-6 and p[3] < 1e-6
    fit = fit_van_t_hoff(temps, p, n_boot=20, seed=0)
    assert fit.tm == pytest.approx(325.0, rel=1e-6)
    assert fit.dh == pytest.approx(2500.0, rel=1e-6)


def test_noisy_curves_errors_and_interval_coverage() -> None:
    sigma = 0.02
    truth = van_t_hoff(TEMPS_K, TM_K, DH_KJ, KB_KJ_PER_MOL_K)
    rng = np.random.default_rng(1)
    fits = [
        fit_van_t_hoff(
            TEMPS_K,
            np.clip(truth + sigma * rng.standard_normal(truth.size), 0, 1),
            sigma=sigma,
            n_boot=200,
            seed=rng,
        )
        for _ in range(60)
    ]
    tm = np.array([f.tm for f in fits])
    dh = np.array([f.dh for f in fits])
    # bootstrap errors agree with the spread of the estimates over independent data sets
    assert np.mean([f.tm_std_error for f in fits]) == pytest.approx(tm.std(ddof=1), rel=0.3)
    assert np.mean([f.dh_std_error for f in fits]) == pytest.approx(dh.std(ddof=1), rel=0.3)
    covered_tm = sum(f.tm_interval[0] <= TM_K <= f.tm_interval[1] for f in fits)
    covered_dh = sum(f.dh_interval[0] <= DH_KJ <= f.dh_interval[1] for f in fits)
    assert covered_tm >= 51 and covered_dh >= 51  # expected 57 of 60


def test_unweighted_noisy_fit_in_reduced_units_covers_truth() -> None:
    temps = np.linspace(0.6, 1.6, 15)
    rng = np.random.default_rng(2)
    p = van_t_hoff(temps, 1.0, 10.0, 1.0) + 0.01 * rng.standard_normal(temps.size)
    fit = fit_van_t_hoff(temps, np.clip(p, 0, 1), temperature_unit="reduced", seed=3)
    assert fit.tm_interval[0] < 1.0 < fit.tm_interval[1]
    assert fit.dh_interval[0] < 10.0 < fit.dh_interval[1]
    # linearised errors sigma * sqrt(diag((J^T J)^-1)) with the true noise level 0.01
    step = 1e-6
    jac = np.stack(
        [
            (van_t_hoff(temps, 1.0 + step, 10.0, 1.0) - van_t_hoff(temps, 1.0 - step, 10.0, 1.0)),
            (van_t_hoff(temps, 1.0, 10.0 + step, 1.0) - van_t_hoff(temps, 1.0, 10.0 - step, 1.0)),
        ],
        axis=1,
    ) / (2 * step)
    linear = 0.01 * np.sqrt(np.diag(np.linalg.inv(jac.T @ jac)))
    np.testing.assert_allclose([fit.tm_std_error, fit.dh_std_error], linear, rtol=0.35)


def test_melting_temperature_interpolation() -> None:
    assert melting_temperature(np.array([310.0, 300.0]), np.array([0.3, 0.8])) == pytest.approx(
        306.0
    )
    temps = np.array([1.0, 2.0, 3.0, 4.0])
    assert melting_temperature(temps, np.array([0.9, 0.5, 0.5, 0.1])) == 2.0
    assert melting_temperature(temps, np.array([0.1, 0.2, 0.7, 0.9])) == pytest.approx(2.6)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        fit_van_t_hoff(np.array([300.0, 310.0]), np.array([0.8, 0.2]))
    with pytest.raises(ValueError, match=r"never crosses 0\.5"):
        fit_van_t_hoff(TEMPS_K, np.linspace(0.95, 0.6, TEMPS_K.size))
    with pytest.raises(ValueError, match=r"never crosses 0\.5"):
        melting_temperature(TEMPS_K, np.full(TEMPS_K.size, 0.5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit_van_t_hoff(TEMPS_K, np.linspace(1.2, -0.2, TEMPS_K.size))
    with pytest.raises(ValueError, match="positive"):
        fit_van_t_hoff(TEMPS_K - 300.0, np.linspace(0.9, 0.1, TEMPS_K.size))
    with pytest.raises(ValueError, match="sigma"):
        fit_van_t_hoff(TEMPS_K, np.linspace(0.9, 0.1, TEMPS_K.size), sigma=0.0)
    with pytest.raises(ValueError, match="temperature unit"):
        fit_van_t_hoff(TEMPS_K, np.linspace(0.9, 0.1, TEMPS_K.size), temperature_unit="C")
