"""SPIB on short Langevin trajectories of analytic systems whose basins are known exactly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from thermogen.data import MultiTempDataset
from thermogen.errors import InputError, UsageError
from thermogen.models.spib import (
    Encoder,
    LaggedData,
    SPIBConfig,
    SPIBModel,
    SPIBNet,
    relabel,
    vamp_prior,
)
from thermogen.simulate import REMDConfig, run_remd
from thermogen.systems import ThreeHole, TwoStateFolding
from thermogen.train import TrainConfig

FAST = SPIBConfig(
    train=TrainConfig(
        steps=300,
        batch_size=512,
        learning_rate=3e-3,
        warmup_steps=20,
        ema_decay=0.98,
        validation_interval=300,
        checkpoint_interval=300,
    )
)


def langevin(system, temperatures, n_chains=32, n_steps=20_000, stride=20, seed=1):
    """Plain Langevin trajectories at fixed temperatures (no swap is ever attempted)."""
    config = REMDConfig(
        temperatures,
        n_chains=n_chains,
        n_steps=n_steps,
        equilibration_steps=0,
        stride=stride,
        swap_interval=10 * n_steps,
        seed=seed,
    )
    return run_remd(system, config, progress=False).dataset


def agreement(states: np.ndarray, basins: np.ndarray) -> float:
    """Fraction of frames whose state matches the basin after the best one-to-one matching."""
    size = max(states.max(), basins.max()) + 1
    counts = np.zeros((size, size))
    np.add.at(counts, (states, basins), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / states.size


@pytest.fixture(scope="module")
def two_state_data() -> MultiTempDataset:
    return langevin(TwoStateFolding(), (1.0,))


@pytest.mark.parametrize(
    ("system", "temperatures", "lag", "round_steps", "n_states"),
    # lags (1 and 0.5 time units) below the shortest basin lifetime (~2 for the top hole),
    # above the relaxation inside the wells; the small top hole needs longer rounds to survive
    [(TwoStateFolding(), (1.0,), 10, 300, 2), (ThreeHole(), (1.0, 1.3), 5, 800, 3)],
    ids=["two-state", "three-hole"],
)
def test_spib_from_50_clusters_finds_the_basins(system, temperatures, lag, round_steps, n_states):
    data = langevin(system, temperatures)
    config = replace(FAST, lag=lag, train=replace(FAST.train, steps=round_steps))
    model = SPIBModel.fit(data, config, progress=False)
    assert model.history[0]["n_states"] > n_states  # relabelling merged the k-means clusters
    cv, state = model.transform(data.features)
    assert model.n_states == n_states
    assert cv.shape == (data.n_frames, 2) and np.isfinite(cv).all()
    assert agreement(state, system.basin_of(data.features)) >= 0.95


def test_relabelling_drops_empty_states_and_keeps_every_parameter_trainable(two_state_data):
    config = replace(FAST, n_initial_states=6)
    data, _ = LaggedData.build(two_state_data, config, None, np.zeros(two_state_data.n_frames))
    labels = np.arange(data.x.shape[0]) % 6
    net = SPIBNet(Encoder(data.in_dim, (8,), 2), torch.nn.Linear(2, 6), vamp_prior(data, labels, 6))
    with torch.no_grad():  # states 1 and 4 can never win the argmax
        net.decoder.bias.copy_(torch.tensor([0.0, -1e3, 0.0, 0.0, -1e3, 0.0]))
    net.requires_grad_(False)  # as the EMA copy that train() returns
    keep = np.unique(net.states(torch.as_tensor(data.x, dtype=torch.float32))[1].numpy())

    rebuilt, new_labels, changed = relabel(net, data, labels)
    assert set(keep) <= {0, 2, 3, 5} and rebuilt.n_states == keep.size
    assert set(np.unique(new_labels)) == set(range(keep.size))
    assert changed >= 1 / 3  # every frame of states 1 and 4 moved
    old = {id(p) for p in net.parameters()}
    assert all(p.requires_grad and id(p) not in old for p in rebuilt.parameters())
    torch.testing.assert_close(rebuilt.decoder.weight, net.decoder.weight[keep])
    for k in range(keep.size):  # pseudo-inputs at the mean input of each new state
        torch.testing.assert_close(
            rebuilt.prior.pseudo_inputs[k],
            torch.as_tensor(data.x[new_labels == k].mean(0), dtype=torch.float32),
        )


def test_save_load_round_trip_gives_identical_states(two_state_data, tmp_path):
    config = replace(FAST, max_rounds=1, n_initial_states=5)
    model = SPIBModel.fit(two_state_data, config, progress=False)
    model.save(tmp_path)
    loaded = SPIBModel.load(tmp_path)
    assert loaded.n_states == model.n_states and loaded.config == model.config
    for a, b in zip(
        model.transform(two_state_data.features),
        loaded.transform(two_state_data.features),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_refuses_data_without_trajectories(two_state_data):
    bare = MultiTempDataset(
        two_state_data.features,
        two_state_data.temperature,
        temperature_unit="reduced",
        energy_unit="reduced",
        source="frames.npz",
    )
    with pytest.raises(InputError, match=r"frames\.npz: field 'replica'.*'time'"):
        SPIBModel.fit(bare, FAST, progress=False)


def test_refuses_a_lag_longer_than_every_trajectory(two_state_data):
    with pytest.raises(InputError, match=r"lag \(5000 frames\) is longer than every trajectory"):
        SPIBModel.fit(two_state_data, replace(FAST, lag=5000), progress=False)
    with pytest.raises(InputError, match="validation part"):
        SPIBModel.fit(two_state_data, replace(FAST, lag=500), progress=False)


def test_refuses_bad_weights_and_settings(two_state_data):
    with pytest.raises(InputError, match="weights"):
        SPIBModel.fit(two_state_data, FAST, weights=np.ones(3), progress=False)
    with pytest.raises(UsageError, match=r"SPIBConfig\.n_initial_states"):
        SPIBConfig(n_initial_states=1)
