"""LJ7 in 2D: energies, forces, restraint, coordination numbers and the ground state."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from thermogen.systems.lj7 import (
    LJ7,
    coordination_moments,
    coordination_numbers,
    hexagonal_cluster,
    lj_pair_energy,
)

R_MIN = 2.0 ** (1.0 / 6.0)


def _spread_out(first: np.ndarray) -> np.ndarray:
    """(7, 2) configuration: ``first`` (k, 2) as given, the others 1000 sigma apart on a line."""
    far = 1000.0 * np.arange(1, 8 - len(first))[:, None] * np.array([[1.0, 0.0]])
    return np.concatenate([first, far])


def _random_configurations(rng: np.random.Generator, n: int, jitter: float) -> np.ndarray:
    return hexagonal_cluster() + jitter * rng.standard_normal((n, 7, 2))


def test_pair_energy_known_values() -> None:
    assert lj_pair_energy(R_MIN) == pytest.approx(-1.0, abs=1e-14)
    assert lj_pair_energy(1.0) == pytest.approx(0.0, abs=1e-14)
    assert lj_pair_energy(2.0) == pytest.approx(4 * (2.0**-12 - 2.0**-6), rel=1e-14)


def test_dimer_at_minimum_has_energy_minus_one_and_no_force() -> None:
    x = _spread_out(np.array([[0.0, 0.0], [R_MIN, 0.0]]))[None]
    energy, force = LJ7(restraint_stiffness=0.0).energy_and_force(x)
    assert energy[0] == pytest.approx(-1.0, abs=1e-12)
    np.testing.assert_allclose(force, 0.0, atol=1e-12)


def test_energy_is_sum_of_pair_energies() -> None:
    x = _random_configurations(np.random.default_rng(0), 3, 0.1)
    expected = [
        sum(lj_pair_energy(np.linalg.norm(c[i] - c[j])) for i in range(7) for j in range(i + 1, 7))
        for c in x
    ]
    np.testing.assert_allclose(LJ7().energy(x), expected, rtol=1e-12)


@pytest.mark.parametrize("ring_radius", [R_MIN, 2.05])
def test_forces_match_central_finite_differences(ring_radius: float) -> None:
    """A ring of radius 2.05 puts about half of the particles beyond the 2 sigma wall."""
    system = LJ7()
    x = hexagonal_cluster(ring_radius) + 0.1 * np.random.default_rng(1).standard_normal((4, 7, 2))
    wall_acts = system.energy(x) > LJ7(restraint_stiffness=0.0).energy(x)
    assert np.all(wall_acts) == (ring_radius > 2.0)
    _, force = system.energy_and_force(x)
    h = 1e-6
    steps = h * np.eye(14).reshape(14, 1, 7, 2)
    numeric = -(
        system.energy((x + steps).reshape(-1, 7, 2)) - system.energy((x - steps).reshape(-1, 7, 2))
    ).reshape(14, -1) / (2 * h)
    np.testing.assert_allclose(force.reshape(-1, 14), numeric.T, atol=1e-6 * (1 + abs(force).max()))


def test_total_force_is_zero_with_and_without_the_wall() -> None:
    x = _random_configurations(np.random.default_rng(2), 50, 0.1)
    _, force = LJ7().energy_and_force(x)
    np.testing.assert_allclose(force.sum(axis=1), 0.0, atol=1e-10)
    stretched = _random_configurations(np.random.default_rng(2), 50, 0.1)
    stretched[:, 1:] *= 2.0  # ring at ~2.24 sigma from the centre: the wall acts
    energy, force = LJ7().energy_and_force(stretched)
    assert np.all(energy - LJ7(restraint_stiffness=0.0).energy(stretched) > 0)
    np.testing.assert_allclose(force.sum(axis=1), 0.0, atol=1e-10)


def test_restraint_known_value() -> None:
    """A hexagon of radius 3: LJ is tiny, each ring particle is 1 sigma past the 2 sigma wall."""
    x = hexagonal_cluster(spacing=3.0)[None]
    energy, force = LJ7().energy_and_force(x)
    bare_energy, bare_force = LJ7(restraint_stiffness=0.0).energy_and_force(x)
    assert energy[0] - bare_energy[0] == pytest.approx(6 * 0.5 * 100.0 * 1.0**2, rel=1e-12)
    wall = (force - bare_force)[0]
    np.testing.assert_allclose(wall[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(wall[1:], -100.0 * x[0, 1:] / 3.0, atol=1e-10)


def test_wall_does_not_touch_the_hexagon() -> None:
    x = _random_configurations(np.random.default_rng(3), 10, 0.05)
    np.testing.assert_array_equal(LJ7().energy(x), LJ7(restraint_stiffness=0.0).energy(x))


def test_large_batches_match_single_evaluations() -> None:
    """Batches longer than the internal block give the same answers as one walker at a time."""
    system = LJ7()
    x = _random_configurations(np.random.default_rng(4), 1100, 0.3)
    energy, force = system.energy_and_force(x)
    for m in (0, 511, 512, 1023, 1024, 1099):
        e1, f1 = system.energy_and_force(x[m])
        assert energy[m] == pytest.approx(e1[0], rel=1e-12)
        np.testing.assert_allclose(force[m], f1[0], rtol=1e-10, atol=1e-10)


def test_coordination_numbers_of_hand_configurations() -> None:
    # A pair exactly at r0 = 1.5, where the rational switch is 0/0 and its limit is 1/2.
    x = _spread_out(np.array([[0.0, 0.0], [1.5, 0.0]]))[None]
    np.testing.assert_allclose(coordination_numbers(x)[0], [0.5, 0.5, 0, 0, 0, 0, 0], atol=1e-20)

    def switch(r: float) -> float:
        q = r / 1.5
        return (1 - q**8) / (1 - q**16)

    # Right triangle 1-2-r5 (plus a particle at exactly r0 from particle 0), the rest far away.
    x = _spread_out(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, -1.5]]))[None]
    s1, s2, s5, s3 = switch(1.0), switch(2.0), switch(np.sqrt(5.0)), switch(3.5)
    s15 = switch(np.sqrt(1.0 + 2.25))
    expected = [s1 + s2 + 0.5, s1 + s5 + s15, s2 + s5 + s3, 0.5 + s15 + s3, 0, 0, 0]
    np.testing.assert_allclose(coordination_numbers(x)[0], expected, rtol=1e-13, atol=1e-20)


def test_features_are_sorted_and_permutation_invariant() -> None:
    rng = np.random.default_rng(5)
    x = _random_configurations(rng, 20, 0.3)
    features = LJ7().features(x)
    assert features.shape == (20, 7)
    assert np.all(np.diff(features, axis=1) >= 0)
    permuted = x[:, rng.permutation(7)]
    np.testing.assert_allclose(LJ7().features(permuted), features, rtol=1e-13)
    np.testing.assert_allclose(np.sort(coordination_numbers(x), axis=1), features)


def test_coordination_moments() -> None:
    c = np.array([[3.0] * 7, [0, 0, 0, 0, 0, 0, 7.0], [7.0, 0, 0, 0, 0, 0, 0]])
    # second row: mean 1, deviations six times -1 and once 6 -> mu2 = 42/7, mu3 = 210/7
    np.testing.assert_allclose(coordination_moments(c), [[0, 0], [6, 30], [6, 30]], atol=1e-14)


def test_hexagon_relaxes_to_the_known_global_minimum() -> None:
    system = LJ7()

    def energy_and_gradient(flat: np.ndarray) -> tuple[float, np.ndarray]:
        energy, force = system.energy_and_force(flat.reshape(1, 7, 2))
        return float(energy[0]), -force.ravel()

    start = system.initial_positions(np.ones(1), np.random.default_rng(6))[0]
    result = minimize(
        energy_and_gradient, start.ravel(), jac=True, method="L-BFGS-B", options={"gtol": 1e-10}
    )
    assert result.fun == pytest.approx(-12.53, abs=0.01)
    assert result.fun == pytest.approx(system.ground_state_energy, abs=1e-5)
    ring = np.linalg.norm(result.x.reshape(7, 2) - result.x.reshape(7, 2)[0], axis=1)[1:]
    np.testing.assert_allclose(ring, ring.mean(), rtol=1e-4)  # still a regular hexagon


def test_system_attributes() -> None:
    system = LJ7()
    assert system.name == "lj7"
    assert system.config_shape == (7, 2)
    assert len(system.feature_names) == 7
    temps = np.array(system.default_temperatures)
    assert temps[0] == pytest.approx(0.1) and temps[-1] == pytest.approx(0.4)
    np.testing.assert_allclose(np.diff(np.log(temps)), np.log(4.0) / (temps.size - 1), atol=1e-3)
    x = system.initial_positions(np.ones(5), np.random.default_rng(7))
    assert x.shape == (5, 7, 2)
    assert np.abs(x - hexagonal_cluster()).max() < 0.2
