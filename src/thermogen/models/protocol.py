"""The model protocol: the one shape every thermogen model has, whatever it learns.

A model class declares its ``kind`` (the name on the command line and in model files), the
``capabilities`` it has, its settings class and the settings paths of its training stages. Every
model is fitted the same way and answers the same questions::

    model = Model.fit(data, config, weights=None, run_dir=None, resume=False, progress=True)
    model.sample(temperatures, n, seed=0, progress=False, **options)  # -> MultiTempDataset
    model.save(run_dir); Model.load(run_dir); model.check_compatible(data)

Consumers (the CLI, the workflow, the report) never branch on a model's kind: they ask for a
capability with :meth:`Model.require` (one line naming the kind and what is missing) or test
``capability in model.capabilities``. New models land by subclassing :class:`Model` and
registering with :func:`thermogen.models.registry.register` (learned from deeptime's
``Estimator.fit -> Model``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from ..data.dataset import MultiTempDataset
from ..errors import InputError, NonFiniteSamplesError, UsageError
from ..structures.zmatrix import InternalCoordinates
from ..threads import torch_threads

__all__ = [
    "CAPABILITIES",
    "CONFIGURATIONS",
    "LOG_PROB",
    "POPULATIONS",
    "POPULATION_CURVE",
    "RESUME",
    "SAMPLE",
    "TRANSFORM",
    "WEIGHTS",
    "DataSpec",
    "Model",
    "uses_torch",
]

SAMPLE = "sample"
CONFIGURATIONS = "configurations"
TRANSFORM = "transform"
POPULATIONS = "populations"
POPULATION_CURVE = "population_curve"
WEIGHTS = "weights"
RESUME = "resume"
LOG_PROB = "log_prob"

CAPABILITIES: dict[str, tuple[str, str]] = {
    SAMPLE: ("sample at any temperature", "temperature model"),
    CONFIGURATIONS: (
        "generate configurations in the data's features",
        "generator of configurations",
    ),
    TRANSFORM: ("map frames to collective variables and states", "learned collective variables"),
    POPULATIONS: ("give state populations at any temperature", "temperature model of states"),
    POPULATION_CURVE: ("give state populations with intervals", "population intervals"),
    WEIGHTS: ("train with per-frame weights", "use for frame weights"),
    RESUME: ("resume a killed training", "checkpoints"),
    LOG_PROB: ("evaluate exact log-densities", "exact density"),
}
"""Every capability a model may declare: (what it lets a model do, what a model needs for it).

``sample`` returns a :class:`MultiTempDataset` at any temperature; with ``configurations`` its
samples are in the training data's feature space (comparable with the data and MBAR), without
it they are in the model's latent space. ``populations`` gives (K, S) state populations,
``population_curve`` the same with bootstrap intervals."""

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound="Model")


def uses_torch(method: F) -> F:
    """Run ``method`` with thermogen's torch CPU threads (:func:`thermogen.threads.torch_threads`),
    restoring the caller's thread count afterwards."""

    @functools.wraps(method)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with torch_threads():
            return method(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@dataclass(frozen=True)
class DataSpec:
    """What a model's inputs (or outputs) are: feature names, periodicity and units.

    Attributes
    ----------
    feature_names
        D names, in order.
    periodic
        D flags: True for angles in radians in [-pi, pi].
    temperature_unit
        ``"K"`` or ``"reduced"``.
    energy_unit
        ``"kJ/mol"`` or ``"reduced"``.
    internal_coordinates
        The molecule's Z-matrix when the features are its internal coordinates, else None.
    """

    feature_names: tuple[str, ...]
    periodic: tuple[bool, ...]
    temperature_unit: str
    energy_unit: str
    internal_coordinates: InternalCoordinates | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready spec without its Z-matrix (stored as an entry of its own)."""
        return {
            "feature_names": list(self.feature_names),
            "periodic": list(self.periodic),
            "temperature_unit": self.temperature_unit,
            "energy_unit": self.energy_unit,
        }

    @classmethod
    def of(cls, dataset: MultiTempDataset) -> DataSpec:
        """The spec of a dataset's features and units."""
        return cls(
            tuple(dataset.feature_names),
            tuple(bool(p) for p in dataset.periodic),
            dataset.temperature_unit,
            dataset.energy_unit,
            dataset.internal_coordinates,
        )

    @property
    def n_features(self) -> int:
        """D."""
        return len(self.feature_names)

    def check(self, dataset: MultiTempDataset) -> MultiTempDataset:
        """``dataset`` when its feature columns are these, in this order; else a one-line
        :class:`InputError` naming the data's file and field ``features``."""
        names, expected = tuple(dataset.feature_names), self.feature_names
        if names == expected:
            return dataset
        shown = ", ".join(expected[:10]) + (", ..." if len(expected) > 10 else "")
        if len(names) != len(expected):
            problem = (
                f"has {len(names)} columns but the model was trained on {len(expected)} ({shown})"
            )
        else:
            i = next(i for i, (a, b) in enumerate(zip(names, expected, strict=True)) if a != b)
            problem = (
                f"column {i} is {names[i]!r} where the model has {expected[i]!r} "
                f"(the model's features, in order: {shown})"
            )
        raise InputError(dataset.source, "features", problem)

    def dataset(
        self, features: np.ndarray, temperature: np.ndarray, source: str = "generated"
    ) -> MultiTempDataset:
        """Frames (N, D) at temperatures (N,) described by this spec, as a dataset.

        Raises
        ------
        NonFiniteSamplesError
            Some of ``features`` are NaN or infinite (the model, not the data, is at fault).
        """
        bad = ~np.isfinite(features)
        if bad.any():
            first = temperature[bad.any(axis=1)][0]
            raise NonFiniteSamplesError(
                f"generated {int(bad.sum())} NaN or infinite values (first at T = {first:.4g}): "
                "the run diverged or its model file is damaged; retrain it"
            )
        return MultiTempDataset(
            features,
            temperature,
            feature_names=self.feature_names,
            periodic=np.asarray(self.periodic, dtype=bool),
            temperature_unit=self.temperature_unit,
            energy_unit=self.energy_unit,
            internal_coordinates=self.internal_coordinates,
            source=source,
        )


class Model:
    """Base class of every thermogen model (a fitted estimator).

    Subclasses set the class attributes below and implement :meth:`fit`, :meth:`save`,
    :meth:`load` and, by capability, :meth:`sample`, ``transform``, ``populations``,
    ``population_curve`` and ``log_prob``. Instances have ``config`` and ``data_spec``.

    Attributes
    ----------
    kind
        Name of the model on the command line and in ``model.pt``.
    capabilities
        What every model of the class can do (see :data:`CAPABILITIES`);
        :meth:`capabilities_for` narrows it for one config.
    config_class
        The settings dataclass.
    seed_stages
        Attribute paths, inside a config, of each training stage (a ``TrainConfig`` with a
        ``seed``), first stage first.
    sample_options
        Names of the keyword options :meth:`sample` takes besides ``seed`` and ``progress``.
    sample_note
        Why the model takes no other sampling options (shown when one is refused).
    label
        How the model is named in a sentence ("the diffusion model").
    stage_titles
        Training stages named in words for figure captions (``{"joint": "the joint ..."}``).
    """

    kind: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset()
    config_class: ClassVar[type]
    seed_stages: ClassVar[tuple[tuple[str, ...], ...]] = (("train",),)
    sample_options: ClassVar[tuple[str, ...]] = ()
    sample_note: ClassVar[str] = ""
    label: ClassVar[str] = "the model"
    stage_titles: ClassVar[dict[str, str]] = {}

    config: Any

    # ------------------------------------------------------------ what the model can do
    @classmethod
    def capabilities_for(cls, config: Any) -> frozenset[str]:
        """What a model of this class trained with ``config`` can do (default: all of
        :attr:`capabilities`)."""
        return cls.capabilities

    def can(self, capability: str) -> bool:
        """Whether this fitted model has ``capability``."""
        return capability in self.capabilities_for(self.config)

    @classmethod
    def missing(cls, capability: str, config: Any = None) -> str:
        """Why a model of this kind (trained with ``config``) cannot do ``capability``."""
        return f"{cls.label} has no {CAPABILITIES[capability][1]}"

    @classmethod
    def lacks(cls, capability: str) -> str:
        """``"a KIND model has no ..."``: the kind's missing ``capability`` in words."""
        return f"a {cls.kind} model has no {CAPABILITIES[capability][1]}"

    @classmethod
    def require(cls, capability: str, config: Any = None) -> None:
        """Raise a one-line :class:`UsageError` naming the kind and the missing capability."""
        have = cls.capabilities if config is None else cls.capabilities_for(config)
        if capability not in have:
            raise UsageError(
                f"a {cls.kind} model cannot {CAPABILITIES[capability][0]}: "
                f"{cls.missing(capability, config)}"
            )

    @classmethod
    def check_sample_options(cls, options: Mapping[str, Any]) -> None:
        """Refuse sampling options this model does not take (one-line :class:`UsageError`)."""
        unknown = [name for name in options if name not in cls.sample_options]
        if unknown:
            note = f" ({cls.sample_note})" if cls.sample_note else ""
            raise UsageError(f"{unknown[0]!r} is not a sampling option of a {cls.kind} model{note}")

    # ------------------------------------------------------------ seeds of the stages
    @classmethod
    def seed_of(cls, config: Any) -> int:
        """The seed of the first training stage of ``config``."""
        stage = config
        for name in cls.seed_stages[0]:
            stage = getattr(stage, name)
        return stage.seed

    @classmethod
    def with_seed(cls, config: Any, seed: int) -> Any:
        """``config`` with every training stage seeded by ``seed``."""
        return cls._in_every_stage(config, seed=seed)

    @classmethod
    def with_device(cls, config: Any, device: str) -> Any:
        """``config`` with every training stage on ``device``."""
        return cls._in_every_stage(config, device=device)

    @classmethod
    def _in_every_stage(cls, config: Any, **values: Any) -> Any:
        """``config`` with ``values`` set in the ``TrainConfig`` of every training stage."""

        def updated(node: Any, path: tuple[str, ...]) -> Any:
            if not path:
                return replace(node, **values)
            return replace(node, **{path[0]: updated(getattr(node, path[0]), path[1:])})

        for path in cls.seed_stages:
            config = updated(config, path)
        return config

    # ------------------------------------------------------------ the shared protocol
    data_spec: DataSpec
    """The training data's features and units (a field of every model)."""

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the D input features."""
        return self.data_spec.feature_names

    @property
    def temperature_unit(self) -> str:
        """Unit of every temperature the model takes and returns."""
        return self.data_spec.temperature_unit

    def check_compatible(self, data: MultiTempDataset) -> MultiTempDataset:
        """``data`` when it has the model's features, in order (else a one-line InputError)."""
        return self.data_spec.check(data)

    @classmethod
    def fit(
        cls: type[M],
        data: MultiTempDataset,
        config: Any = None,
        *,
        weights: np.ndarray | None = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = True,
    ) -> M:
        """Train on ``data``; with ``run_dir`` the run folder is written as training goes."""
        raise NotImplementedError

    def sample(
        self, temperatures: Any, n: int, *, seed: int = 0, progress: bool = False, **options: Any
    ) -> MultiTempDataset:
        """``n`` samples at each temperature, as a dataset (capability ``sample``)."""
        type(self).require(SAMPLE, self.config)
        raise NotImplementedError

    def sample_with_log_prob(
        self, temperature: float, n: int, *, seed: int = 0, **options: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` samples (n, D) at ``temperature`` with the sampler's exact log-density of each
        (n,) (capability ``log_prob``)."""
        type(self).require(LOG_PROB, self.config)
        raise NotImplementedError

    def sample_columns(self, samples: MultiTempDataset) -> dict[str, np.ndarray]:
        """Extra per-sample arrays written beside :meth:`sample`'s dataset (none by default)."""
        return {}

    def sample_summary(self, samples: MultiTempDataset) -> str:
        """A few lines about generated samples, for the command line (none by default)."""
        return ""

    def fit_summary(self) -> str:
        """One line on how training ended."""
        raise NotImplementedError

    def record_results(self) -> dict[str, Any]:
        """Model-specific results for the run record (states found, ...)."""
        return {}

    def save(self, run_dir: str | Path) -> Path:
        """Write ``run_dir/model.pt``."""
        raise NotImplementedError

    @classmethod
    def load(cls: type[M], run_dir: str | Path) -> M:
        """The model saved in ``run_dir``."""
        raise NotImplementedError
