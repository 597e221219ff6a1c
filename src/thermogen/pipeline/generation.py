"""Generating samples from a run and mapping frames onto a run's learned CVs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..data import save_dataset
from ..data.dataset import MultiTempDataset
from ..errors import InputError
from ..fileio import available_memory, byte_size, write_npz
from ..models import Model, load_run
from ..models.protocol import CONFIGURATIONS, LOG_PROB, SAMPLE, TRANSFORM
from ..models.registry import generated_by
from ..models.requests import check_sample_request
from ..provenance import run_record, write_json
from ..structures.output import (
    StructureRequest,
    check_structure_request,
    write_structures,
)
from ..structures.weights import StructureWeights, structure_weights
from .guards import check_outputs, npz_outputs

__all__ = ["SampleResult", "TransformResult", "sample_model", "transform_data"]


@dataclass(frozen=True)
class SampleResult:
    """Generated samples and the files they were written to.

    Attributes
    ----------
    samples
        The samples (a dataset: configurations, or latent CVs ``cv0..`` for LaTF).
    path, record
        The ``.npz`` written (None when not written) and its run record.
    n
        Samples per temperature.
    what
        ``"frames"`` (configurations) or ``"latent samples"``.
    note
        The model's own lines about the samples (e.g. state fractions).
    """

    samples: MultiTempDataset
    path: Path | None
    record: Path | None
    n: int
    what: str
    note: str

    def summary(self) -> str:
        """What ``thermogen sample`` prints."""
        where = f" to {self.path}" if self.path is not None else ""
        lines = [f"wrote {self.samples.n_frames} {self.what} ({self.n} per temperature){where}"]
        return "\n".join(lines + ([self.note] if self.note else []))


def sample_model(
    run: str | Path | Model,
    temperatures: Any,
    n: int,
    out: str | Path | None = None,
    *,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    progress: bool = False,
    structures: str | Path | None = None,
    molecule: str | None = None,
) -> SampleResult:
    """``n`` samples per temperature from a run folder (or a fitted model), written to ``out``.

    Parameters
    ----------
    run
        A run folder (its model must be able to sample) or a fitted model.
    temperatures
        (K,) temperatures, in the model's unit.
    n
        Samples per temperature.
    out
        The ``.npz`` to write (the dataset, plus the model's extra columns, e.g. decoded states)
        with ``<out>.run.json`` beside it; None writes nothing.
    seed
        Seed of the samples.
    options
        The model's sampling options (e.g. ``sampler`` for diffusion), checked by the model.
    structures
        A trajectory file (DCD, XTC, PDB, ...) for the generated structures, with the
        topology ``<structures>.pdb`` beside it; the run must be trained on internal
        coordinates (checked before sampling).
    molecule
        Built-in molecule name or molecule YAML whose OpenMM energies (kJ/mol) become the
        samples' ``energy`` (with ``structures``).
    """
    model = run if isinstance(run, Model) else load_run(run, SAMPLE, "sample")
    run_dir = None if isinstance(run, Model) else run
    type(model).require(SAMPLE, model.config)
    options = dict(options or {})
    model.check_sample_options(options)
    temps = check_sample_request(temperatures, n)
    _check_memory(n * temps.size, model.data_spec.n_features)
    request = None
    if molecule is not None and structures is None:
        raise InputError("sample", "--molecule", "gives energies of structures; add --structures")
    if structures is not None:
        internal = model.data_spec.internal_coordinates if model.can(CONFIGURATIONS) else None
        request = check_structure_request(internal, run_dir, structures, molecule)
    outputs = (npz_outputs(out) if out is not None else []) + (request.outputs if request else [])
    if outputs:
        check_outputs(outputs, run_dir)
    with generated_by(run_dir):
        samples, weights, written = _generate(model, request, temps, n, seed, options, progress)
    columns = {**model.sample_columns(samples), **(weights.columns() if weights else {})}
    path = record = None
    if out is not None:
        path = save_dataset(samples, out, columns)
        settings = {
            "run_dir": None if isinstance(run, Model) else str(run),
            "model": model.kind,
            "temperatures": temps,
            "n": n,
            **options,
            "structures": None if request is None else str(request.path),
            "molecule": molecule,
        }
        results = {"n_frames": samples.n_frames, "configurations": model.can(CONFIGURATIONS)}
        if weights is not None:
            results["ess_fraction"] = dict(zip(weights.temperatures, weights.ess, strict=True))
        record = write_json(
            path.with_suffix(".run.json"), run_record("sample", settings, seed, results)
        )
    what = "frames" if model.can(CONFIGURATIONS) else "latent samples"
    parts = [model.sample_summary(samples), _written(written, samples)]
    if weights is not None:
        parts.append(weights.summary(samples.temperature_unit))
    note = "\n".join(part for part in parts if part)
    return SampleResult(samples, path, record, n, what, note)


def _generate(
    model: Model,
    request: StructureRequest | None,
    temperatures: np.ndarray,
    n: int,
    seed: int,
    options: Mapping[str, Any],
    progress: bool,
) -> tuple[MultiTempDataset, StructureWeights | None, list[Path]]:
    """Samples, their Boltzmann weights (structures with energies and an exact density only)
    and the structure files written."""
    weigh = request is not None and request.molecule is not None and model.can(LOG_PROB)
    if weigh:
        samples, log_q = _sample_with_density(model, temperatures, n, seed, options, progress)
    else:
        samples = model.sample(temperatures, n, seed=seed, progress=progress, **options)
    if request is None:
        return samples, None, []
    samples, written = _structures(samples, request, progress)
    return samples, structure_weights(samples, log_q) if weigh else None, written


def _sample_with_density(
    model: Model,
    temperatures: np.ndarray,
    n: int,
    seed: int,
    options: Mapping[str, Any],
    progress: bool,
) -> tuple[MultiTempDataset, np.ndarray]:
    """``n`` samples per temperature with the sampler's exact log-density of each (N,)."""
    features, log_q = [], []
    for i, t in enumerate(tqdm(temperatures, desc="sampling with densities", disable=not progress)):
        x, log_density = model.sample_with_log_prob(float(t), n, seed=seed + i, **options)
        features.append(x)
        log_q.append(log_density)
    column = np.repeat(temperatures, n)
    return model.data_spec.dataset(np.concatenate(features), column), np.concatenate(log_q)


def _structures(
    samples: MultiTempDataset, request: StructureRequest, progress: bool
) -> tuple[MultiTempDataset, list[Path]]:
    """Rebuild, write and (with a molecule) evaluate the structures of generated samples."""
    positions = request.internal.positions(samples.features)
    written = write_structures(request, positions)
    if request.molecule is None:
        return samples, written
    energy = request.molecule.potential_energy(positions, progress=progress)
    return replace(samples, energy=energy, energy_unit="kJ/mol"), written


def _written(files: list[Path], samples: MultiTempDataset) -> str:
    """The structure files written and, with energies, their mean per temperature."""
    if not files:
        return ""
    lines = [f"structures: {', '.join(str(f) for f in files)}"]
    if samples.energy is not None:
        means = ", ".join(
            f"{t:g} K: {samples.energy[samples.temperature == t].mean():.1f}"
            for t in samples.temperatures
        )
        lines.append(f"mean potential energy (kJ/mol): {means}")
    return "\n".join(lines)


def _check_memory(n_samples: int, n_features: int) -> None:
    """Refuse a request whose samples would not fit in half the memory available now."""
    needed = 3 * 8 * n_samples * (n_features + 1)  # features, temperatures, the model's copies
    available = available_memory()
    if available is not None and needed > available // 2:
        raise InputError(
            "sample",
            "n",
            f"asks for {n_samples:,} samples, which need about {byte_size(needed)} of memory, "
            f"more than half of what is available ({byte_size(available)}): ask for fewer",
        )


@dataclass(frozen=True)
class TransformResult:
    """Learned CVs and states of frames, and the file they were written to.

    Attributes
    ----------
    cv, state
        (N, d) latent means and (N,) most likely states.
    path, record
        The ``.npz`` written and its run record.
    n_states
        States the model knows.
    """

    cv: np.ndarray
    state: np.ndarray
    path: Path
    record: Path
    n_states: int

    @property
    def populations(self) -> np.ndarray:
        """(S,) fraction of the frames in each state."""
        return np.bincount(self.state, minlength=self.n_states) / self.state.size

    def summary(self) -> str:
        """What ``thermogen transform`` prints."""
        shares = ", ".join(f"{s}: {p:.3f}" for s, p in enumerate(self.populations))
        return (
            f"wrote cv {self.cv.shape} and state ({self.state.size},) to {self.path}\n"
            f"fraction of frames in each state: {shares}"
        )


def transform_data(
    run_dir: str | Path, data: MultiTempDataset, out: str | Path, csv_options: Mapping[str, Any]
) -> TransformResult:
    """CVs and states of every frame of ``data`` from a run that can transform, written to
    ``out`` (``cv``, ``state``, ``temperature``) with a run record beside it."""
    model = load_run(run_dir, TRANSFORM, "transform")
    model.check_compatible(data)
    check_outputs(npz_outputs(out), run_dir, data)
    cv, state = model.transform(data.features)
    path = write_npz(
        out,
        {
            "cv": cv.astype(float),
            "state": state.astype(np.int64),
            "temperature": data.temperature,
            "temperature_unit": np.array(data.temperature_unit),
        },
    )
    result = TransformResult(cv, state, path, path.with_suffix(".run.json"), model.n_states)
    write_json(
        result.record,
        run_record(
            "transform",
            {"run_dir": str(run_dir), "data": data.source, **csv_options},
            None,
            {
                "n_frames": data.n_frames,
                "latent_dim": cv.shape[1],
                "n_states": model.n_states,
                "state_populations": result.populations,
            },
        ),
    )
    return result
