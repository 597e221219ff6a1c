"""KL and JS divergences against hand values; noise floor scaling with sample size."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from thermogen.analysis import (
    NoiseFloor,
    js_between_samples,
    js_divergence,
    kl_divergence,
    noise_floor,
)

LN2 = np.log(2.0)


def test_js_identity_disjoint_symmetric_and_normalised_inside() -> None:
    rng = np.random.default_rng(0)
    p, q = rng.random((4, 5)), rng.random((4, 5))
    assert js_divergence(p, p) == 0.0
    assert js_divergence(p, 7.0 * p) == pytest.approx(0.0, abs=1e-15)
    assert js_divergence(np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 3.0])) == pytest.approx(LN2)
    assert js_divergence(p, q) == pytest.approx(js_divergence(q, p), rel=1e-14)
    assert 0.0 < js_divergence(p, q) < LN2


def test_js_hand_value() -> None:
    # m = (3/4, 1/4): KL(p||m) = ln(4/3), KL(q||m) = ln(4/3) / 2
    assert js_divergence(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == pytest.approx(
        0.75 * np.log(4.0 / 3.0), rel=1e-14
    )


def test_kl_hand_value_and_regularisation() -> None:
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    exact = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
    assert kl_divergence(p, q, eps=0.0) == pytest.approx(exact, rel=1e-14)
    assert kl_divergence(p, q) == pytest.approx(exact, rel=1e-8)
    assert kl_divergence(10 * p, q, eps=0.0) == pytest.approx(exact, rel=1e-14)
    assert kl_divergence(p, p) == 0.0
    # q empty where p is not: infinite without eps, large but finite with it
    empty = np.array([1.0, 0.0])
    assert kl_divergence(p, empty, eps=0.0) == np.inf
    regularised = 0.5 * np.log(0.5 / 1e-10) + 0.5 * np.log(0.5 / 1.0)
    assert kl_divergence(p, empty) == pytest.approx(regularised, rel=1e-6)


def test_divergence_errors() -> None:
    with pytest.raises(ValueError, match="shape"):
        js_divergence(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        kl_divergence(np.array([1.0, -1.0]), np.ones(2))
    with pytest.raises(ValueError, match="zero"):
        js_divergence(np.zeros(2), np.ones(2))


def test_js_between_samples() -> None:
    a = np.array([[0.1, 0.1], [0.6, 0.6]])
    b = np.array([[0.1, 0.6], [0.6, 0.1]])
    ranges = [(0.0, 1.0), (0.0, 1.0)]
    assert js_between_samples(a, a, 2, ranges) == 0.0
    assert js_between_samples(a, b, 2, ranges) == pytest.approx(LN2)
    # weights move all of a's mass into one bin: p = (1, 0, 0, 0), q = (0, 1/2, 1/2, 0) -> ln 2
    assert js_between_samples(a, b, 2, ranges, weights_a=np.array([1.0, 0.0])) == pytest.approx(LN2)
    # periodic: 3.2 rad and -3.083 rad are the same angle
    angles = np.array([[3.2], [1.0]])
    assert js_between_samples(angles, angles - 2 * np.pi, 8, [(0, 0)], periodic=[True]) == 0.0


def _gaussian(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((n, 1))


def test_noise_floor_scales_as_one_over_n() -> None:
    # Two multinomial histograms of n samples on K bins: E[JS] ~ (K - 1) / (4 n)
    n_bins = 12
    metric = functools.partial(js_between_samples, bins=n_bins, ranges=[(-3.0, 3.0)])
    small = noise_floor(_gaussian, 2000, metric, n_repeats=200, seed=1)
    large = noise_floor(_gaussian, 8000, metric, n_repeats=200, seed=2)
    assert isinstance(small, NoiseFloor)
    assert (small.n, small.n_repeats) == (2000, 200)
    assert 3.3 < small.mean / large.mean < 4.9
    assert small.mean == pytest.approx((n_bins - 1) / (4 * 2000), rel=0.15)
    assert 0.0 < small.std < small.mean


def test_noise_floor_from_reference_array_uses_disjoint_subsamples() -> None:
    pool = np.arange(100.0)[:, None]

    def shared(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.intersect1d(a, b).size)

    floor = noise_floor(pool, 50, shared, n_repeats=10, seed=0)
    assert (floor.mean, floor.std) == (0.0, 0.0)
    with pytest.raises(ValueError, match="at least 102"):
        noise_floor(pool, 51, shared)


def test_noise_floor_array_and_sampler_agree() -> None:
    metric = functools.partial(js_between_samples, bins=10, ranges=[(-3.0, 3.0)])
    pool = _gaussian(400_000, np.random.default_rng(3))
    from_array = noise_floor(pool, 2000, metric, n_repeats=100, seed=4)
    from_sampler = noise_floor(_gaussian, 2000, metric, n_repeats=100, seed=5)
    assert from_array.mean == pytest.approx(from_sampler.mean, rel=0.2)


def test_noise_floor_errors() -> None:
    with pytest.raises(ValueError, match="n_repeats"):
        noise_floor(_gaussian, 10, js_divergence, n_repeats=1)
    with pytest.raises(ValueError, match="positive"):
        noise_floor(_gaussian, 0, js_divergence)
