"""The model registry: every model kind by name, and the one place that maps a name to a class.

:func:`register` adds a :class:`~thermogen.models.protocol.Model` subclass; the CLI, the
workflow and the report then train, load, sample and report it through the protocol alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ..errors import InputError, NonFiniteSamplesError
from .protocol import CAPABILITIES, Model
from .run_dir import RunDir

__all__ = [
    "MODEL_CLASSES",
    "MODEL_CONFIGS",
    "generated_by",
    "kinds_with",
    "load_model",
    "load_run",
    "model_class",
    "register",
]

MODEL_CLASSES: dict[str, type[Model]] = {}
"""The model class of each kind, by the name used on the command line and in model files."""
MODEL_CONFIGS: dict[str, type] = {}
"""The settings dataclass of each model kind."""

T = TypeVar("T", bound=type[Model])


def register(cls: T) -> T:
    """Add a model class under its ``kind`` (usable as a class decorator)."""
    unknown = sorted(set(cls.capabilities) - set(CAPABILITIES))
    if unknown:
        raise ValueError(f"{cls.__name__} declares unknown capabilities {unknown}")
    MODEL_CLASSES[cls.kind] = cls
    MODEL_CONFIGS[cls.kind] = cls.config_class
    return cls


def model_class(kind: str, source: str | Path = "model", field: str | None = "kind") -> type[Model]:
    """The class of model ``kind`` (one-line InputError naming ``source`` and ``field``)."""
    if kind not in MODEL_CLASSES:
        raise InputError(
            source, field, f"is {kind!r}; this thermogen knows {', '.join(MODEL_CLASSES)} models"
        )
    return MODEL_CLASSES[kind]


def kinds_with(capability: str) -> list[str]:
    """The registered kinds whose models can have ``capability``."""
    return [kind for kind, cls in MODEL_CLASSES.items() if capability in cls.capabilities]


def load_model(run_dir: str | Path) -> Any:
    """The fitted model saved in a run folder, of whichever kind ``run_dir/model.pt`` holds.

    Raises
    ------
    InputError
        One line naming the file, for a missing folder or model, a damaged file, or a kind
        this version of thermogen does not know.
    """
    run = RunDir(run_dir)
    return model_class(run.kind(), run.model_file).load(run_dir)


def load_run(run_dir: str | Path, capability: str | None, command: str) -> Any:
    """The model of a run folder, checked up front to have ``capability`` for ``command``.

    Raises
    ------
    InputError
        Naming ``model.pt`` and field ``kind``: the model's kind cannot do what ``command``
        needs, with the kinds that can.
    """
    run = RunDir(run_dir)
    cls = model_class(run.kind(), run.model_file)
    if capability is not None and capability not in cls.capabilities:
        others = " or ".join(f"--model {kind}" for kind in kinds_with(capability))
        raise InputError(
            run.model_file,
            "kind",
            f"is a {cls.kind} model: {cls.missing(capability)}; {command} needs a run trained "
            f"with {others}",
        )
    model = cls.load(run_dir)
    if capability is not None and not model.can(capability):
        raise InputError(run.model_file, "config", cls.missing(capability, model.config))
    return model


@contextmanager
def generated_by(run_dir: str | Path | None) -> Iterator[None]:
    """Inside the block, NaN or infinite samples are an :class:`InputError` naming the run's
    ``model.pt`` (field ``state_dict``): its weights made them, not the user's data."""
    try:
        yield
    except NonFiniteSamplesError as err:
        where = RunDir(run_dir).model_file if run_dir is not None else "the model in memory"
        raise InputError(where, "state_dict", str(err)) from None
