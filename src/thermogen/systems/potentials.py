"""Analytic 2D potentials with exact references (reduced units, k_B = 1)."""

from __future__ import annotations

import numpy as np

from .base import AnalyticSystem

__all__ = ["DoubleWell", "MuellerBrown", "ThreeHole", "TwoStateFolding"]


def _gaussian_sum(
    xy: np.ndarray,
    amp: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    x0: np.ndarray,
    y0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sum_i amp_i exp(a_i dx^2 + b_i dx dy + c_i dy^2) and its gradient, for points (M, 2)."""
    xy = np.asarray(xy, dtype=float)
    dx = xy[:, :1] - x0
    dy = xy[:, 1:] - y0
    with np.errstate(over="ignore"):  # far from the box the confining term is +inf: weight 0
        terms = amp * np.exp(a * dx**2 + b * dx * dy + c * dy**2)
    u = terms.sum(axis=1)
    gx = (terms * (2 * a * dx + b * dy)).sum(axis=1)
    gy = (terms * (b * dx + 2 * c * dy)).sum(axis=1)
    return u, np.stack([gx, gy], axis=1)


class MuellerBrown(AnalyticSystem):
    """The Mueller-Brown potential scaled by 0.1, with the deepest minimum at U = 0.

    Minima (basins): A (-0.558, 1.442) at U = 0; B (-0.050, 0.467) at 6.59; C (0.623, 0.028)
    at 3.85. The A-B saddle lies ~10.6 above A. With the default ladder T = 1 ... 4 the minor
    basins hold under 2% of the mass at T = 1 and the A-B barrier (~10.6 / 4 = 2.7 k_B T) is
    crossed freely at T = 4.
    """

    name = "mueller-brown"
    scale = 0.1
    bounds = ((-3.0, 1.6), (-1.2, 3.4))
    minima = ((-0.558, 1.442), (-0.050, 0.467), (0.623, 0.028))
    basin_names = ("A", "B", "C")
    default_temperatures = (1.0, 1.587, 2.52, 4.0)
    timestep = 0.002
    friction = 2.0

    _amp = np.array([-200.0, -100.0, -170.0, 15.0])
    _a = np.array([-1.0, -1.0, -6.5, 0.7])
    _b = np.array([0.0, 0.0, 11.0, 0.6])
    _c = np.array([-10.0, -10.0, -6.5, 0.7])
    _x0 = np.array([1.0, 0.0, -0.5, -1.0])
    _y0 = np.array([0.0, 0.5, 1.5, 1.0])
    _offset = 146.69948920  # -U_MB at minimum A, so that U(A) = 0

    def potential(self, xy: np.ndarray) -> np.ndarray:
        u, _ = _gaussian_sum(xy, self._amp, self._a, self._b, self._c, self._x0, self._y0)
        return self.scale * (u + self._offset)

    def gradient(self, xy: np.ndarray) -> np.ndarray:
        _, g = _gaussian_sum(xy, self._amp, self._a, self._b, self._c, self._x0, self._y0)
        return self.scale * g


class DoubleWell(AnalyticSystem):
    """A tilted 2D double well U = h (x^2 - 1)^2 + tilt x + (k/2) y^2.

    Barrier ~h = 4 between a lower right well and a higher left well (tilt 0.5 makes the left well
    1.0 higher), so the left population rises with temperature across the default ladder
    T = 0.5 ... 2.
    """

    name = "double-well"
    height = 4.0
    tilt = 0.5
    stiffness = 4.0
    bounds = ((-2.4, 2.4), (-3.0, 3.0))
    minima = ((-1.0, 0.0), (1.0, 0.0))
    basin_names = ("left", "right")
    default_temperatures = (0.5, 0.794, 1.26, 2.0)
    timestep = 0.005
    friction = 1.0

    def potential(self, xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        return self.height * (x**2 - 1) ** 2 - self.tilt * x + 0.5 * self.stiffness * y**2

    def gradient(self, xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        return np.stack([4 * self.height * x * (x**2 - 1) - self.tilt, self.stiffness * y], axis=1)


class ThreeHole(AnalyticSystem):
    """The three-hole potential (Metzner, Schuette, Vanden-Eijnden) used in the LaTF paper.

    U = 3 G(x, y - 1/3) - 3 G(x, y - 5/3) - 5 G(x - 1, y) - 5 G(x + 1, y)
        + 0.2 x^4 + 0.2 (y - 1/3)^4,   G(u, v) = exp(-u^2 - v^2).
    Two deep holes near (+-1, 0) and a shallow one near (0, 1.5). Default ladder T = 0.5 ... 2.
    """

    name = "three-hole"
    bounds = ((-3.0, 3.0), (-2.5, 3.5))
    minima = ((-1.048, -0.042), (1.048, -0.042), (0.0, 1.538))
    basin_names = ("left", "right", "top")
    default_temperatures = (0.5, 0.794, 1.26, 2.0)
    timestep = 0.005
    friction = 1.0

    _amp = np.array([3.0, -3.0, -5.0, -5.0])
    _ones = np.full(4, -1.0)
    _x0 = np.array([0.0, 0.0, 1.0, -1.0])
    _y0 = np.array([1.0 / 3.0, 5.0 / 3.0, 0.0, 0.0])

    def potential(self, xy: np.ndarray) -> np.ndarray:
        u, _ = _gaussian_sum(
            xy, self._amp, self._ones, 0.0 * self._ones, self._ones, self._x0, self._y0
        )
        return u + 0.2 * xy[:, 0] ** 4 + 0.2 * (xy[:, 1] - 1.0 / 3.0) ** 4

    def gradient(self, xy: np.ndarray) -> np.ndarray:
        _, g = _gaussian_sum(
            xy, self._amp, self._ones, 0.0 * self._ones, self._ones, self._x0, self._y0
        )
        return g + np.stack([0.8 * xy[:, 0] ** 3, 0.8 * (xy[:, 1] - 1.0 / 3.0) ** 3], axis=1)


class TwoStateFolding(AnalyticSystem):
    """A two-state 'folding' landscape: a narrow deep well and a broad shallow one.

    U = -s log(exp(-U_f / s) + exp(-U_u / s)), a smooth minimum of two harmonic wells
    U_f = k_f |r - c_f|^2 / 2 (folded: stiff, energy 0) and
    U_u = dE + k_u |r - c_u|^2 / 2 (unfolded: soft, energy dE).
    In the harmonic limit the folded population is the van 't Hoff sigmoid
    p_f = 1 / (1 + (k_f / k_u) exp(-dE / T)), so dH ~ dE = 3.28 and Tm ~ dE / ln(k_f / k_u) = 1.
    The wells overlap (centres 2.2 apart) so that the barrier out of the folded well is only
    ~5.4 and temperatures near Tm see transitions; the truncation of the wells makes the exact
    Tm 1.0033 (grid) and the van 't Hoff fit over the ladder returns it to 7e-4. The default
    ladder T = 0.72 ... 1.41 is roughly symmetric about Tm in 1/T.
    """

    name = "two-state"
    stiff = 40.0
    soft = 1.5
    gap = float(np.log(40.0 / 1.5))  # dE, so that Tm is ~1 in the harmonic limit
    smoothing = 0.1
    folded_centre = (-1.5, 0.0)
    unfolded_centre = (0.7, 0.0)
    bounds = ((-3.0, 6.2), (-5.5, 5.5))
    minima = (folded_centre, unfolded_centre)
    basin_names = ("folded", "unfolded")
    default_temperatures = (0.72, 0.901, 1.127, 1.41)
    grid_size = 900
    timestep = 0.005
    friction = 1.0

    def _wells(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        df = xy - np.asarray(self.folded_centre)
        du = xy - np.asarray(self.unfolded_centre)
        uf = 0.5 * self.stiff * (df**2).sum(axis=1)
        uu = self.gap + 0.5 * self.soft * (du**2).sum(axis=1)
        return uf, uu, self.stiff * df, self.soft * du

    def potential(self, xy: np.ndarray) -> np.ndarray:
        uf, uu, _, _ = self._wells(np.asarray(xy, dtype=float))
        s = self.smoothing
        return -s * np.logaddexp(-uf / s, -uu / s)

    def gradient(self, xy: np.ndarray) -> np.ndarray:
        uf, uu, gf, gu = self._wells(np.asarray(xy, dtype=float))
        s = self.smoothing
        weight_f = 1.0 / (1.0 + np.exp(np.clip((uf - uu) / s, -700, 700)))
        return weight_f[:, None] * gf + (1.0 - weight_f)[:, None] * gu
