"""Histograms: exact counts, periodic seam, normalisation, weights, common ranges."""

from __future__ import annotations

import numpy as np
import pytest

from thermogen.analysis import histogram, histogram_ranges, wrap_angle


def test_exact_counts_1d_drop_out_of_range_and_keep_upper_edge() -> None:
    x = np.array([0.1, 0.2, 0.6, 1.0, 1.5, -0.1])  # 1.5 and -0.1 are dropped; 1.0 is the edge
    np.testing.assert_array_equal(histogram(x[:, None], 2, [(0.0, 1.0)]), [0.5, 0.5])


def test_exact_counts_2d_and_3d() -> None:
    x2 = np.array([[0.1, 0.1], [0.1, 0.9], [0.9, 0.9], [0.8, 0.7]])
    np.testing.assert_array_equal(histogram(x2, 2, [(0, 1), (0, 1)]), [[0.25, 0.25], [0.0, 0.5]])
    x3 = np.array([[0.1, 0.1, 0.1], [0.9, 0.1, 0.9], [0.9, 0.1, 0.9], [0.1, 2.5, 0.5]])
    h3 = histogram(x3, [2, 3, 1], [(0, 1), (0, 3), (0, 1)])
    expected = np.zeros((2, 3, 1))
    expected[0, 0, 0], expected[1, 0, 0], expected[0, 2, 0] = 0.25, 0.5, 0.25
    np.testing.assert_array_equal(h3, expected)


def test_periodic_seam_and_wrapping() -> None:
    x = np.array([[np.pi - 1e-9], [-np.pi + 1e-9]])
    h = histogram(x, 4, [(0.0, 1.0)], periodic=[True])  # the given range is ignored
    np.testing.assert_array_equal(h, [0.5, 0.0, 0.0, 0.5])
    # 3.2 rad wraps to 3.2 - 2 pi = -3.083, in the first of 8 bins; -3.2 wraps into the last
    h8 = histogram(np.array([[3.2], [-3.2], [3.2 + 4 * np.pi]]), 8, [(-np.pi, np.pi)], [True])
    np.testing.assert_allclose(h8, [2 / 3, 0, 0, 0, 0, 0, 0, 1 / 3])
    np.testing.assert_allclose(
        wrap_angle(np.array([3.2, np.pi, -np.pi])), [3.2 - 2 * np.pi, -np.pi, -np.pi]
    )


def test_periodic_mixed_axes() -> None:
    x = np.array([[3.2, 0.5], [0.0, 0.5], [0.0, 7.0]])  # last point dropped on axis 1 only
    h = histogram(x, [2, 1], [(0.0, 0.0), (0.0, 1.0)], periodic=[True, False])
    np.testing.assert_array_equal(h, [[0.5], [0.5]])


def test_normalisation_and_weights() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 3))
    h = histogram(x, 5, [(-2, 2)] * 3)
    assert h.shape == (5, 5, 5)
    assert h.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(
        histogram(np.array([[0.2], [0.7]]), 2, [(0, 1)], weights=np.array([1.0, 3.0])),
        [0.25, 0.75],
    )
    # integer weights are the same as repeated samples
    w = rng.integers(0, 4, size=1000)
    np.testing.assert_allclose(
        histogram(x, 4, [(-2, 2)] * 3, weights=w.astype(float)),
        histogram(np.repeat(x, w, axis=0), 4, [(-2, 2)] * 3),
        atol=1e-15,
    )


def test_histogram_does_not_modify_input() -> None:
    x = np.array([[3.2, 0.5]])
    histogram(x, 2, [(0, 1), (0, 1)], periodic=[True, False])
    assert x[0, 0] == 3.2


def test_histogram_errors() -> None:
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="ranges"):
        histogram(x, 2, [(0, 1)])
    with pytest.raises(ValueError, match="NaN"):
        histogram(np.array([[np.nan, 0.0]]), 2, [(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="inside"):
        histogram(x + 5, 2, [(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="low < high"):
        histogram(x, 2, [(0, 1), (1, 0)])
    with pytest.raises(ValueError, match="weights"):
        histogram(x, 2, [(0, 1), (0, 1)], weights=-np.ones(3))


def test_histogram_ranges_union_margin_and_periodic() -> None:
    a = np.array([[0.0, 1.0, 0.3], [1.0, 2.0, 0.3]])
    b = np.array([[3.0, -1.0, 0.3]])
    ranges = histogram_ranges(a, b, periodic=[False, True, False], margin=0.1)
    assert ranges[0] == pytest.approx((-0.3, 3.3))
    assert ranges[1] == (-np.pi, np.pi)
    assert ranges[2] == pytest.approx((0.2, 0.4))  # constant axis: widened by margin itself
    np.testing.assert_allclose(
        histogram(np.vstack([a, b]), 3, ranges, [False, True, False]).sum(), 1.0
    )
