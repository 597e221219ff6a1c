"""LaTF on a two-state system simulated at two temperatures on either side of its melting point."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch

from thermogen.errors import InputError, UsageError
from thermogen.models.latf import TEMPERATURE_COUPLINGS, FlowPrior, LaTFConfig, LaTFModel
from thermogen.models.spib import SPIBConfig, SPIBModel
from thermogen.models.state_thermodynamics import StateThermodynamics
from thermogen.models.tilted_gaussian import TiltedGaussian
from thermogen.simulate import REMDConfig, run_remd
from thermogen.systems import TwoStateFolding
from thermogen.train import TrainConfig

TEMPERATURES = (0.9, 1.12)  # below and above Tm ~ 1.0
FAST = LaTFConfig(
    # lag 3 time units: longer than the relaxation inside the soft unfolded well (~2)
    spib=SPIBConfig(
        lag=30,
        validation_fraction=0.3,
        train=TrainConfig(
            steps=300,
            batch_size=512,
            learning_rate=3e-3,
            warmup_steps=20,
            ema_decay=0.98,
            validation_interval=300,
            checkpoint_interval=300,
        ),
    ),
    transforms=3,
    flow_hidden=(32, 32),
    joint=TrainConfig(
        steps=1500,
        batch_size=512,
        learning_rate=3e-3,
        warmup_steps=100,
        ema_decay=0.995,
        validation_interval=500,
        checkpoint_interval=1500,
    ),
)


@pytest.fixture(scope="module")
def system() -> TwoStateFolding:
    return TwoStateFolding()


@pytest.fixture(scope="module")
def data(system):
    """1500 plain Langevin trajectories per temperature, started from exact equilibrium samples,
    so the basin populations of the data are within ~0.013 (one standard error) of the truth."""
    config = REMDConfig(
        TEMPERATURES,
        n_chains=1500,
        n_steps=2400,
        equilibration_steps=0,
        stride=20,
        swap_interval=100_000,
        seed=0,
    )
    return run_remd(system, config, progress=False).dataset


@pytest.fixture(scope="module")
def model(data) -> LaTFModel:
    assert FAST.temperature_coupling == LaTFConfig().temperature_coupling  # the default
    return LaTFModel.fit(data, FAST, progress=False)


def folded_states(model: LaTFModel, data, system) -> np.ndarray:
    """(S,) bool: states whose frames are mostly in the folded basin (checked to agree >= 95%)."""
    _, state = model.transform(data.features)
    folded = system.basin_of(data.features) == 0
    fraction_folded = np.bincount(state, weights=folded, minlength=model.n_states) / np.maximum(
        np.bincount(state, minlength=model.n_states), 1
    )
    is_folded = fraction_folded > 0.5
    assert np.mean(is_folded[state] == folded) >= 0.95
    return is_folded


def test_populations_at_the_training_temperatures_match_the_exact_ones(model, data, system):
    populations = model.populations(TEMPERATURES, n=20_000, seed=0)
    assert populations.shape == (2, model.n_states)
    np.testing.assert_allclose(populations.sum(1), 1.0)
    folded = populations[:, folded_states(model, data, system)].sum(1)
    exact = system.exact_melting_curve(TEMPERATURES)
    assert np.all(np.abs(folded - exact) < 0.05), f"model {folded}, exact {exact}"


def test_melting_curve_from_two_temperatures_matches_the_exact_one_over_tm_40_percent(
    model, data, system
):
    temperatures = np.linspace(0.6, 1.4, 9)  # exact Tm = 1.0033
    curve = model.population_curve(temperatures, n_bootstrap=100, seed=1)
    is_folded = folded_states(model, data, system)
    folded = curve.population[:, is_folded].sum(1)
    exact = system.exact_melting_curve(temperatures)
    assert np.abs(folded - exact).max() < 0.05, f"model {folded}, exact {exact}"
    np.testing.assert_allclose(curve.population.sum(1), 1.0)
    assert np.all(curve.low <= curve.population + 1e-12)
    assert np.all(curve.population <= curve.high + 1e-12)
    # the data's statistical error at each training temperature is ~0.013: intervals that wide
    width = (curve.high - curve.low)[:, is_folded].sum(1)
    assert np.all((width > 0.02) & (width < 0.15))


def test_samples_of_each_state_decode_to_that_state(model):
    prior = model.net.prior
    generator = torch.Generator().manual_seed(0)
    for log_ratio in model.temperature_scale.log_ratio([0.7, 1.0, 1.4]):
        z, component = prior.sample(torch.full((4000,), float(log_ratio)), generator)
        decoded = model.net.decoder(z).argmax(1)
        assert (decoded == component).float().mean() > 0.95


def test_population_intervals_need_the_state_mixture(model):
    net = copy.deepcopy(model.net)
    net.prior.coupling = "base-only"
    with pytest.raises(UsageError, match="van-t-hoff"):
        replace(model, net=net).population_curve([1.0, 1.1])


def test_sampling_far_outside_the_training_range_stays_finite(model):
    temperatures = np.array([0.3, 3.0]) * model.temperature_scale.reference
    cv, prob = model.sample_latent(temperatures, n=5000, seed=3)
    assert cv.shape == (2, 5000, 2) and prob.shape == (2, 5000, model.n_states)
    assert np.isfinite(cv).all() and np.isfinite(prob).all()
    np.testing.assert_allclose(prob.sum(2), 1.0, atol=1e-6)


def test_save_load_round_trip_gives_identical_samples(model, data, tmp_path):
    model.save(tmp_path)
    loaded = LaTFModel.load(tmp_path)
    assert loaded.config == model.config and loaded.temperature_scale == model.temperature_scale
    for a, b in zip(
        model.sample_latent([0.8, 1.3], 2000, seed=5),
        loaded.sample_latent([0.8, 1.3], 2000, seed=5),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        model.transform(data.features[:500])[1], loaded.transform(data.features[:500])[1]
    )
    with pytest.raises(InputError, match="is not a spib model"):
        SPIBModel.load(tmp_path)


def test_one_temperature_is_refused(data):
    one = data.subset(data.temperature == TEMPERATURES[0])
    with pytest.raises(InputError, match="2 or more temperatures"):
        LaTFModel.fit(one, FAST, progress=False)


@pytest.mark.parametrize("coupling", TEMPERATURE_COUPLINGS)
def test_flow_prior_is_a_normalised_density_at_any_temperature(coupling):
    torch.manual_seed(0)
    prior = FlowPrior(2, replace(FAST, temperature_coupling=coupling), spread=0.11, n_states=3)
    prior.set_thermodynamics(
        StateThermodynamics(np.array([0.0, 1.0, -0.5]), np.array([0.0, 1.5, -0.2])), 1.0
    )
    prior.standardize_with(
        torch.randn(1000, 2) * torch.tensor([1.0, 0.8]) + torch.tensor([0.5, -0.3])
    )
    edges = torch.linspace(-14, 14, 281)
    centres = 0.5 * (edges[1:] + edges[:-1])
    grid = torch.stack(torch.meshgrid(centres, centres, indexing="ij"), -1).reshape(-1, 2)
    cell = (edges[1] - edges[0]) ** 2
    for ratio in (0.5, 2.0):
        with torch.no_grad():
            density = prior.log_prob(grid, torch.full((grid.shape[0],), np.log(ratio))).exp()
        assert (density.sum() * cell).item() == pytest.approx(1.0, abs=0.01)


def test_mixture_prior_is_the_state_weighted_sum_of_its_components():
    prior = FlowPrior(2, FAST, spread=0.11, n_states=3)
    states = StateThermodynamics(np.array([0.0, 1.0, -0.5]), np.array([0.0, 1.5, -0.2]))
    prior.set_thermodynamics(states, reference=2.0)
    z, log_ratio = torch.randn(50, 2), torch.full((50,), np.log(0.6))
    with torch.no_grad():
        joint = torch.stack(
            [prior.log_prob(z, log_ratio, state=torch.full((50,), k)) for k in range(3)], 1
        )
        weights = prior.log_weights(log_ratio)
    torch.testing.assert_close(prior.log_prob(z, log_ratio), torch.logsumexp(joint, 1))
    np.testing.assert_allclose(weights[0].exp().numpy(), states.populations(1.2)[0], rtol=1e-5)


def test_base_only_moves_temperature_through_the_base_alone():
    z = torch.randn(64, 2)
    cold, hot = torch.full((64,), -0.1), torch.full((64,), 0.1)
    priors = {
        c: FlowPrior(2, replace(FAST, temperature_coupling=c), 0.11, n_states=2)
        for c in ("base-only", "flow-context")
    }
    with torch.no_grad():
        u = {c: [p.to_base(t)(z) for t in (cold, hot)] for c, p in priors.items()}
        change = priors["base-only"].log_prob(z, hot) - priors["base-only"].log_prob(z, cold)
    torch.testing.assert_close(u["base-only"][0], u["base-only"][1])
    assert not torch.allclose(u["flow-context"][0], u["flow-context"][1])
    base = [TiltedGaussian.at_temperature(2, t.exp(), FAST.tilt) for t in (cold, hot)]
    u_base = u["base-only"][0]
    torch.testing.assert_close(change, base[1].log_prob(u_base) - base[0].log_prob(u_base))


def test_bad_settings_and_requests_are_refused(model):
    with pytest.raises(UsageError, match="temperature_coupling"):
        LaTFConfig(temperature_coupling="base")
    with pytest.raises(InputError, match="temperatures"):
        model.sample([1.0, -1.0], n=10)
    with pytest.raises(InputError, match="'n'"):
        model.populations(1.0, n=0)
