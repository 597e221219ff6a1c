"""SPIB's training data: standardized frames and their time-lagged pairs inside trajectories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.cluster.vq import kmeans2

from ..data.dataset import MultiTempDataset
from ..data.splits import lagged_pairs, train_validation_indices
from ..data.suspicious import first_time_reversal
from ..errors import InputError
from .representation import FeatureScaler, fit_scaler

if TYPE_CHECKING:
    from .spib import SPIBConfig

__all__ = ["LaggedData", "initial_labels"]


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
        parts = train_validation_indices(dataset, config.validation_fraction)
        pairs = tuple(_pairs_within(dataset, index, config.lag) for index in parts)
        if pairs[1][0].size == 0:
            raise InputError(
                dataset.source,
                "time",
                f"the validation part (last {config.validation_fraction:g} of each trajectory) "
                f"is shorter than the lag ({config.lag} frames): raise "
                "SPIBConfig.validation_fraction or lower SPIBConfig.lag",
            )
        scaler = fit_scaler(dataset, parts[0])
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
    backwards = first_time_reversal(dataset)
    if backwards is not None:
        raise InputError(
            dataset.source,
            "time",
            f"runs backwards inside replica {backwards} (in file order): SPIB pairs frames a lag "
            "apart in time, so each trajectory's frames must come in time order; check how the "
            "pieces were joined",
        )
    spans = [np.ptp(dataset.time[segment]) for segment in dataset.trajectories().segments]
    longest = int(max(spans))
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
