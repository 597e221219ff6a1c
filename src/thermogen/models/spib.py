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
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from scipy.cluster.vq import kmeans2
from torch import nn

from ..data.dataset import MultiTempDataset
from ..data.splits import lagged_pairs, train_validation_split
from ..errors import InputError, UsageError
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
from .representation import FeatureScaler, standardization_record
from .run_dir import RunDir, train_stage

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


def check_fields(config: Any, rules: dict[str, tuple[str, Any]]) -> None:
    """Raise :class:`UsageError` naming the first field of ``config`` that breaks its rule."""
    for name, (requirement, valid) in rules.items():
        value = getattr(config, name)
        if not valid(value):
            raise UsageError(f"{type(config).__name__}.{name} must be {requirement}, got {value!r}")


# ---------------------------------------------------------------------- data
@dataclass(frozen=True)
class LaggedData:
    """Frames and their time-lagged pairs, packed into training rows once labels are known.

    Attributes
    ----------
    x
        (N, D') standardized features of every frame.
    log_ratio
        (N,) log(T / T_ref) of every frame (zeros when the model ignores temperature).
    weights
        (N,) non-negative frame weights (ones by default).
    train_pairs, validation_pairs
        (i, j) frame indices ``lag`` apart in one trajectory: training pairs from the start of
        each trajectory, validation pairs from its end.
    """

    x: np.ndarray
    log_ratio: np.ndarray
    weights: np.ndarray
    train_pairs: tuple[np.ndarray, np.ndarray]
    validation_pairs: tuple[np.ndarray, np.ndarray]

    @classmethod
    def build(
        cls,
        dataset: MultiTempDataset,
        config: SPIBConfig,
        weights: np.ndarray | None,
        log_ratio: np.ndarray,
    ) -> tuple[LaggedData, FeatureScaler]:
        """Pairs and standardized features of ``dataset``; the scaler is fitted on training frames."""
        _check_trajectories(dataset, config.lag)
        weights = _check_weights(dataset, weights)
        parts = _split_indices(dataset, config.validation_fraction)
        pairs = tuple(_pairs_within(dataset, index, config.lag) for index in parts)
        if pairs[1][0].size == 0:
            raise InputError(
                dataset.source,
                "time",
                f"the validation part (last {config.validation_fraction:g} of each trajectory) "
                f"is shorter than the lag ({config.lag} frames): raise "
                "SPIBConfig.validation_fraction or lower SPIBConfig.lag",
            )
        scaler = FeatureScaler.fit(dataset.features[parts[0]], dataset.periodic)
        data = cls(scaler.encode(dataset.features), log_ratio, weights, pairs[0], pairs[1])
        return data, scaler

    @property
    def in_dim(self) -> int:
        """D', the width of the encoder's input."""
        return self.x.shape[1]

    def rows(self, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Training and validation rows [x_i, label_j, weight_i, log_ratio_i, label_i] (P, D' + 4)."""
        return tuple(
            torch.as_tensor(
                np.column_stack(
                    [self.x[i], labels[j], self.weights[i], self.log_ratio[i], labels[i]]
                ),
                dtype=torch.float32,
            )
            for i, j in (self.train_pairs, self.validation_pairs)
        )


def _check_trajectories(dataset: MultiTempDataset, lag: int) -> None:
    """Refuse data without trajectories, or whose trajectories are all shorter than the lag."""
    if not dataset.has_trajectories:
        raise InputError(
            dataset.source,
            "replica",
            "SPIB needs continuous trajectories: give every frame a 'replica' (trajectory id) "
            "and 'time' (frame index), as `thermogen simulate` writes them",
        )
    order = np.lexsort((dataset.time, dataset.replica))
    starts = np.flatnonzero(np.r_[True, np.diff(dataset.replica[order]) != 0])
    ends = np.r_[starts[1:], order.size] - 1
    longest = int((dataset.time[order][ends] - dataset.time[order][starts]).max())
    if lag > longest:
        raise InputError(
            dataset.source,
            "time",
            f"the lag ({lag} frames) is longer than every trajectory (the longest spans "
            f"{longest} frames): lower SPIBConfig.lag",
        )


def _check_weights(dataset: MultiTempDataset, weights: np.ndarray | None) -> np.ndarray:
    """(N,) frame weights: ones, or the given finite non-negative weights with a positive sum."""
    if weights is None:
        return np.ones(dataset.n_frames)
    w = np.asarray(weights, dtype=float)
    if w.shape != (dataset.n_frames,) or not np.all(np.isfinite(w)) or w.min() < 0 or w.sum() <= 0:
        raise InputError(
            dataset.source,
            "weights",
            f"must be {dataset.n_frames} finite non-negative numbers, not all zero",
        )
    return w


def _split_indices(dataset: MultiTempDataset, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of :func:`train_validation_split`'s two parts (the index rides along as a column)."""
    tagged = replace(
        dataset,
        features=np.column_stack([dataset.features, np.arange(dataset.n_frames)]),
        feature_names=None,
        periodic=np.r_[dataset.periodic, False],
    )
    return tuple(
        part.features[:, -1].astype(np.int64) for part in train_validation_split(tagged, fraction)
    )


def _pairs_within(
    dataset: MultiTempDataset, index: np.ndarray, lag: int
) -> tuple[np.ndarray, np.ndarray]:
    """Lagged pairs among the frames ``index`` (P,), as frame indices of ``dataset``."""
    i, j = lagged_pairs(dataset.subset(index), lag)
    return index[i], index[j]


def initial_labels(x: np.ndarray, n_states: int, seed: int) -> np.ndarray:
    """(N,) k-means++ cluster labels 0..K'-1 of rows ``x`` (N, D'); empty clusters are dropped."""
    _, labels = kmeans2(x, min(n_states, x.shape[0]), minit="++", rng=seed, missing="warn")
    return np.unique(labels, return_inverse=True)[1]


# ---------------------------------------------------------------------- network
def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int) -> nn.Sequential:
    """in_dim -> hidden... (ReLU) -> out_dim."""
    widths = (in_dim, *hidden)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], out_dim))


class Encoder(nn.Module):
    """x (B, D') -> mean and log-variance (B, d) of the Gaussian q(z | x)."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        self.net = mlp(in_dim, hidden, 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.net(x).chunk(2, dim=-1)
        return mean, log_var


def gaussian_log_prob(z: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, diag exp(log_var)) summed over the last axis."""
    return -0.5 * (((z - mean) ** 2) / log_var.exp() + log_var + math.log(2 * math.pi)).sum(-1)


class VampPrior(nn.Module):
    """r(z) = sum_k w_k q(z | p_k): the encoder at K learned pseudo-inputs p_k (K, D')."""

    def __init__(self, pseudo_inputs: torch.Tensor, log_weights: torch.Tensor) -> None:
        super().__init__()
        self.pseudo_inputs = nn.Parameter(pseudo_inputs.clone().float())
        self.log_weights = nn.Parameter(log_weights.clone().float())

    def log_prob(
        self,
        z: torch.Tensor,
        log_ratio: torch.Tensor,
        encoder: Encoder,
        state: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """log r(z) (B,) of latents (B, d); ``log_ratio`` and ``state`` are ignored (the prior
        knows neither temperature nor the frame's own state)."""
        mean, log_var = encoder(self.pseudo_inputs)
        per_state = gaussian_log_prob(z[:, None, :], mean[None], log_var[None])
        return torch.logsumexp(per_state + self.log_weights.log_softmax(0), dim=1)


class SPIBNet(nn.Module):
    """Encoder, linear state decoder and a latent prior with
    ``log_prob(z, log_ratio, encoder, state)``."""

    def __init__(self, encoder: Encoder, decoder: nn.Linear, prior: nn.Module) -> None:
        super().__init__()
        self.encoder, self.decoder, self.prior = encoder, decoder, prior

    @property
    def n_states(self) -> int:
        """Number of states the decoder predicts."""
        return self.decoder.out_features

    def forward(
        self,
        x: torch.Tensor,
        label: torch.Tensor,
        log_ratio: torch.Tensor,
        state: torch.Tensor,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-pair cross-entropy of the future state ``label`` and single-sample KL term against
        the prior at the frame's temperature and own ``state``, each (B,)."""
        mean, log_var = self.encoder(x)
        noise = torch.randn(mean.shape, generator=generator, device=x.device, dtype=x.dtype)
        z = mean + (0.5 * log_var).exp() * noise
        prior = self.prior.log_prob(z, log_ratio, self.encoder, state)
        kl = gaussian_log_prob(z, mean, log_var) - prior
        return F.cross_entropy(self.decoder(z), label, reduction="none"), kl

    @torch.no_grad()
    def states(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent means (N, d) and most likely states (N,) of standardized frames (N, D')."""
        mean, _ = self.encoder(x)
        return mean, self.decoder(mean).argmax(dim=1)


def encode_states(
    scaler: FeatureScaler, net: SPIBNet, features: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Latent means (N, d) and most likely states (N,) of raw features (N, D), as numpy."""
    x = torch.as_tensor(scaler.encode(np.asarray(features, dtype=float)), dtype=torch.float32)
    cv, state = net.states(x)
    return cv.numpy().astype(float), state.numpy()


def spib_loss(in_dim: int, beta: float) -> LossFn:
    """Weighted mean of cross-entropy + beta * KL over rows
    [x (D'), future label, weight, log_ratio, own label]."""

    def loss(module: nn.Module, rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x, label, weight, log_ratio, state = rows.split([in_dim, 1, 1, 1, 1], dim=1)
        ce, kl = module(x, label[:, 0].long(), log_ratio[:, 0], state[:, 0].long(), generator)
        weight = weight[:, 0]
        return (weight * (ce + beta * kl)).sum() / weight.sum().clamp_min(1e-12)

    return loss


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


def skeleton(config: SPIBConfig, in_dim: int, n_states: int, prior: nn.Module) -> SPIBNet:
    """An untrained network of the given shape, to load weights into."""
    return SPIBNet(
        Encoder(in_dim, config.hidden, config.latent_dim),
        nn.Linear(config.latent_dim, n_states),
        prior,
    )


# ---------------------------------------------------------------------- model
@register
@dataclass(frozen=True, eq=False)
class SPIBModel(Model):
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

    @property
    def n_states(self) -> int:
        """Number of metastable states found."""
        return self.net.n_states

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
        run = None if run_dir is None else RunDir(run_dir)
        if run is not None:
            standardization = standardization_record(scaler, data.feature_names)
            run.begin(cls.kind, config, data, config.train.seed, standardization, resume)
        trainer = partial(train_stage, run, resume=resume, progress=progress)
        rounds = fit_rounds(lagged, config, trainer)
        model = cls(config, scaler, rounds.net.eval(), DataSpec.of(data), tuple(rounds.history))
        if run is not None:
            run.finish(model, config, data, rounds.stages)
        return model

    def fit_summary(self) -> str:
        """The number of states found."""
        return f"{self.n_states} metastable states found"

    def record_results(self) -> dict[str, Any]:
        """States found and the relabelling rounds."""
        return {"n_states": self.n_states, "history": list(self.history)}

    @uses_torch
    def transform(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Collective variables (N, d) (latent means) and state labels (N,) of features (N, D)."""
        return encode_states(self.scaler, self.net, features)

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
