"""State Predictive Information Bottleneck (SPIB; Wang & Tiwary, JCP 2021).

An encoder q(z | x_t) = N(mu(x), diag sigma^2(x)) maps a frame to a low-dimensional latent z (the
learned collective variables); a linear decoder with softmax predicts the metastable state of the
frame ``lag`` steps later, y_{t+lag}. The loss of a pair, with one reparameterised sample z,
is

    -log p(y_{t+lag} | z) + beta (log q(z | x_t) - log r(z)),

r(z) the VampPrior: a mixture, over states k, of the encoder at a learned pseudo-input p_k with
learned mixture weights. Pairs are only formed inside continuous trajectories
(:func:`thermogen.data.lagged_pairs`); optional per-frame weights multiply each pair's loss.

Iterative relabelling
---------------------
Labels start from k-means (``n_initial_states`` clusters, k-means++ seeding) on the standardized
features. Training runs in rounds; each round is one call of :func:`thermogen.train.train` with
``config.train`` (so ``train.steps`` is the length of a round; ``train`` has no callback, so a
round ends after its steps rather than when populations settle). After a round every frame gets
the decoder's most likely state at its own latent mean, argmax_k p(k | mu(x_t)); states nobody
holds are dropped; a new network is assembled from the EMA weights with the decoder rows of the
surviving states, pseudo-inputs reset to the (weighted) mean input of each state and mixture
weights to the state populations. Every parameter of the new network is a fresh, trainable
tensor and the next :func:`train` call builds a fresh optimizer for exactly these parameters, so no
parameter silently stops learning (and no stale Adam moments refer to dropped states). Rounds
stop when fewer than ``relabel_tolerance`` of the frames change label, or after ``max_rounds``.
The number of surviving states is the number of metastable states found.

The building blocks below the public classes (:class:`LaggedData`, :class:`SPIBNet`,
:func:`fit_rounds`, the model-file helpers) are shared with :mod:`thermogen.models.latf`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..config import check_fields
from ..data.dataset import MultiTempDataset
from ..train import LossFn, TrainConfig, TrainResult, seeded
from .persistence import (
    data_meta,
    load_weights,
    read_config,
    read_data_meta,
    read_model_file,
    write_model_file,
)
from .protocol import RESUME, TRANSFORM, WEIGHTS, DataSpec, Model, uses_torch
from .registry import register
from .representation import FeatureScaler
from .run_dir import RunDir, train_stage
from .spib_data import LaggedData, initial_labels
from .spib_network import (
    Encoder,
    SPIBNet,
    VampPrior,
    encode_states,
    skeleton,
    spib_loss,
)

__all__ = ["SPIBConfig", "SPIBModel"]


_CONFIG_RULES = {
    "latent_dim": ("≥ 1", lambda v: v >= 1),
    "hidden": ("a non-empty tuple of widths ≥ 1", lambda v: len(v) > 0 and min(v) >= 1),
    "lag": ("≥ 1 frame", lambda v: v >= 1),
    "beta": ("≥ 0", lambda v: v >= 0),
    "n_initial_states": ("≥ 2", lambda v: v >= 2),
    "max_rounds": ("≥ 1", lambda v: v >= 1),
    "relabel_tolerance": ("in [0, 1)", lambda v: 0 <= v < 1),
    "validation_fraction": ("in (0, 1)", lambda v: 0 < v < 1),
}


@dataclass(frozen=True)
class SPIBConfig:
    """Settings of SPIB.

    Attributes
    ----------
    latent_dim
        Dimension d of the latent z (the collective variables).
    hidden
        Widths of the encoder MLP's hidden layers.
    lag
        Time lag between a frame and the state it predicts, in frames.
    beta
        Weight of the information-bottleneck (KL) term.
    n_initial_states
        k-means clusters the labels start from.
    max_rounds, relabel_tolerance
        Stop relabelling after ``max_rounds`` rounds or when fewer than this fraction of frames
        change state.
    validation_fraction
        Fraction of each trajectory (its end) whose pairs give the validation loss.
    train
        Optimisation settings of one round (``steps`` is the length of a round).
    """

    latent_dim: int = 2
    hidden: tuple[int, ...] = (64, 64)
    lag: int = 10
    beta: float = 1e-3
    n_initial_states: int = 50
    max_rounds: int = 20
    relabel_tolerance: float = 0.01
    validation_fraction: float = 0.1
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=1000,
            batch_size=512,
            learning_rate=3e-3,
            warmup_steps=20,
            ema_decay=0.98,
            validation_interval=500,
            checkpoint_interval=1000,
        )
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        check_fields(self, _CONFIG_RULES)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready settings."""
        return asdict(self)


# ---------------------------------------------------------------------- rounds
def vamp_prior(data: LaggedData, labels: np.ndarray, n_states: int) -> VampPrior:
    """Pseudo-inputs at each state's weighted mean input, mixture weights at its population."""
    mass = np.bincount(labels, weights=data.weights, minlength=n_states)
    sums = np.stack([np.bincount(labels, data.weights * c, n_states) for c in data.x.T], axis=1)
    means = sums / np.maximum(mass, 1e-300)[:, None]
    log_mass = np.log(np.maximum(mass / mass.sum(), 1e-12))
    return VampPrior(torch.as_tensor(means), torch.as_tensor(log_mass))


def _surviving_decoder(decoder: nn.Linear, keep: np.ndarray) -> nn.Linear:
    """A new linear decoder with only the rows (states) ``keep``."""
    new = nn.Linear(decoder.in_features, keep.size)
    with torch.no_grad():
        new.weight.copy_(decoder.weight[keep])
        new.bias.copy_(decoder.bias[keep])
    return new


def relabel(
    net: SPIBNet, data: LaggedData, labels: np.ndarray
) -> tuple[SPIBNet, np.ndarray, float]:
    """Relabel every frame with its most likely state and rebuild the network for the survivors.

    Returns the new network (fresh trainable parameters: copied encoder, decoder rows of the
    surviving states, VampPrior reset from the new labels), the new labels 0..K'-1 (N,) and the
    fraction of frames whose state changed.
    """
    _, predicted = net.cpu().states(torch.as_tensor(data.x, dtype=torch.float32))
    predicted = predicted.numpy()
    keep, new_labels = np.unique(predicted, return_inverse=True)
    encoder = copy.deepcopy(net.encoder).requires_grad_(True)
    rebuilt = SPIBNet(
        encoder,
        _surviving_decoder(net.decoder, keep),
        vamp_prior(data, new_labels, keep.size),
    )
    return rebuilt, new_labels, float(np.mean(predicted != labels))


StageTrainer = Callable[
    [str, nn.Module, LossFn, tuple[torch.Tensor, torch.Tensor], TrainConfig], TrainResult
]
"""``trainer(stage, module, loss, rows, config)``: one training stage (see
:func:`thermogen.models.run_dir.train_stage`)."""


@dataclass(frozen=True)
class Rounds:
    """What :func:`fit_rounds` returns.

    Attributes
    ----------
    net
        The network after the last relabelling.
    labels
        (N,) final state labels 0..S-1.
    history
        One record per round (round, states, fraction of labels changed, last losses).
    stages
        Names of the training stages the rounds ran as, in order.
    """

    net: SPIBNet
    labels: np.ndarray
    history: list[dict[str, float]]
    stages: list[str]


def fit_rounds(
    data: LaggedData, config: SPIBConfig, trainer: StageTrainer, prefix: str = "round_"
) -> Rounds:
    """SPIB from k-means labels through rounds of training and relabelling; round ``i`` is
    the training stage ``f"{prefix}{i:02d}"`` of ``trainer``."""
    labels = initial_labels(data.x, config.n_initial_states, config.train.seed)
    n_states = int(labels.max()) + 1
    with seeded(config.train.seed):
        net = SPIBNet(
            Encoder(data.in_dim, config.hidden, config.latent_dim),
            nn.Linear(config.latent_dim, n_states),
            vamp_prior(data, labels, n_states),
        )
    loss = spib_loss(data.in_dim, config.beta)
    history, stages = [], []
    for round_index in range(config.max_rounds):
        stages.append(f"{prefix}{round_index:02d}")
        result = trainer(stages[-1], net, loss, data.rows(labels), config.train)
        net, labels, changed = relabel(result.ema_module, data, labels)
        last = result.history[-1]
        history.append(
            {
                "round": round_index,
                "n_states": net.n_states,
                "changed": changed,
                "train_loss": last["train_loss"],
                "validation_loss": last["validation_loss"],
            }
        )
        if changed < config.relabel_tolerance:
            break
    return Rounds(net, labels, history, stages)


# ---------------------------------------------------------------------- model
class LearnedStates:
    """What SPIB and LaTF share: an encoder to learned CVs, a decoder to metastable states.

    Needs ``scaler``, ``net`` (an :class:`SPIBNet`) and ``history`` on the model.
    """

    scaler: FeatureScaler
    net: SPIBNet
    history: tuple[dict[str, float], ...]

    @property
    def n_states(self) -> int:
        """Number of metastable states found."""
        return self.net.n_states

    def fit_summary(self) -> str:
        """The number of states found."""
        return f"{self.n_states} metastable states found"

    def record_results(self) -> dict[str, Any]:
        """States found and the training records (relabelling rounds, stage logs)."""
        return {"n_states": self.n_states, "history": list(self.history)}

    @uses_torch
    def transform(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Collective variables (N, d) (latent means) and state labels (N,) of features (N, D)."""
        return encode_states(self.scaler, self.net, features)


@register
@dataclass(frozen=True, eq=False)
class SPIBModel(LearnedStates, Model):
    """A fitted SPIB: standardization, network and the metastable states it found.

    Attributes
    ----------
    config
        The settings it was trained with.
    scaler
        Feature standardization.
    net
        The network (CPU, eval mode).
    data_spec
        Features and units of the training data.
    history
        One record per relabelling round (empty after :meth:`load`).
    """

    kind: ClassVar[str] = "spib"
    label: ClassVar[str] = "SPIB alone"
    capabilities: ClassVar[frozenset[str]] = frozenset({TRANSFORM, WEIGHTS, RESUME})
    config_class: ClassVar[type] = SPIBConfig

    config: SPIBConfig
    scaler: FeatureScaler
    net: SPIBNet
    data_spec: DataSpec
    history: tuple[dict[str, float], ...] = ()

    @classmethod
    @uses_torch
    def fit(
        cls,
        data: MultiTempDataset,
        config: SPIBConfig | None = None,
        *,
        weights: np.ndarray | None = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = True,
    ) -> SPIBModel:
        """Train on the trajectories of ``data`` (needs ``replica`` and ``time``).

        Parameters
        ----------
        data
            N frames in continuous trajectories, at one or more temperatures.
        config
            Settings (default :class:`SPIBConfig`).
        weights
            (N,) optional frame weights (e.g. reweighting factors); unweighted k-means seeds.
        run_dir
            Run folder to write (record, standardization, each round's checkpoint, log, model).
        resume
            Continue a killed training from the checkpoints in ``run_dir``.
        progress
            Show a progress bar per round.
        """
        config = config or SPIBConfig()
        lagged, scaler = LaggedData.build(data, config, weights, np.zeros(data.n_frames))
        run = RunDir.started(run_dir, cls, config, data, scaler, resume=resume)
        trainer = partial(train_stage, run, resume=resume, progress=progress)
        rounds = fit_rounds(lagged, config, trainer)
        model = cls(config, scaler, rounds.net.eval(), DataSpec.of(data), tuple(rounds.history))
        if run is not None:
            run.finish(model, config, data, rounds.stages)
        return model

    def save(self, run_dir: str | Path) -> Path:
        """Write ``run_dir/model.pt`` (loaded with ``weights_only=True``)."""
        meta = {
            "config": json.dumps(self.config.to_dict()),
            "n_states": self.n_states,
            **data_meta(self.data_spec, self.scaler),
        }
        return write_model_file(run_dir, self.kind, meta, self.net)

    @classmethod
    def load(cls, run_dir: str | Path) -> SPIBModel:
        """The model saved by :meth:`save` in ``run_dir``."""
        payload = read_model_file(run_dir, cls.kind)
        config = read_config(SPIBConfig, payload, run_dir)
        spec, scaler, _ = read_data_meta(payload)
        n_states, in_dim = int(payload["n_states"]), scaler.model_dim
        prior = VampPrior(torch.zeros(n_states, in_dim), torch.zeros(n_states))
        net = load_weights(skeleton(config, in_dim, n_states, prior), payload, run_dir)
        return cls(config, scaler, net, spec)
