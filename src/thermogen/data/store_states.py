"""The thermodynamic states of an openmmtools store, read as data: the temperature ladder.

openmmtools serializes each state as YAML (quantities, numpy scalars and the compressed OpenMM
system); :class:`StoreLoader` reads them with a safe loader that runs no code stored in the
file. From them come the temperatures, the common pressure and whether the system is periodic,
and :func:`potential_energies` checks that the states differ in temperature only.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import InputError
from ..units import KB_KJ_PER_MOL_K

__all__ = [
    "StoreLoader",
    "potential_energies",
    "state_dicts",
    "temperature_ladder",
    "uses_periodic_boundaries",
]

_ENERGY_RTOL = 1e-6
"""Relative tolerance of k_B T_j u_j agreeing over the states j of one frame."""


class StoreLoader(yaml.SafeLoader):
    """Safe YAML loader for openmmtools' serialized states: numbers and quantities, no code."""


def _construct_quantity(loader: StoreLoader, node: yaml.Node) -> dict[str, Any]:
    return loader.construct_mapping(node, deep=True)


def _construct_python(loader: StoreLoader, suffix: str, node: yaml.Node) -> Any:
    """numpy scalars and dtypes and Python tuples, decoded as data; anything else as None."""
    if suffix == "tuple":
        return tuple(loader.construct_sequence(node, deep=True))
    if suffix.startswith("object/apply:numpy") and suffix.endswith("multiarray.scalar"):
        dtype, data = loader.construct_sequence(node, deep=True)
        if isinstance(dtype, np.dtype) and isinstance(data, bytes):
            return np.frombuffer(data, dtype=dtype)[0].item()
        return None
    if suffix == "object/apply:numpy.dtype":
        fields = loader.construct_mapping(node, deep=True)
        dtype = np.dtype(fields["args"][0])
        state = fields.get("state") or ()
        return dtype.newbyteorder(state[1]) if len(state) > 1 and state[1] in "<>" else dtype
    return None


def _construct_other(loader: StoreLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


StoreLoader.add_constructor("!Quantity", _construct_quantity)
StoreLoader.add_multi_constructor("tag:yaml.org,2002:python/", _construct_python)
StoreLoader.add_multi_constructor("!", _construct_other)


def state_dicts(group: Any, path: Path) -> list[dict[str, Any]]:
    """The serialized thermodynamic states ``state0, state1, ...``, innermost state first."""
    dicts = []
    for k in range(len(group.variables)):
        name = f"state{k}"
        if name not in group.variables:
            raise InputError(path, f"thermodynamic_states/{name}", "is missing")
        variable = group.variables[name]
        variable.set_auto_mask(False)
        try:
            if variable.dtype == np.dtype("S1"):
                text = np.asarray(variable[:]).tobytes().decode()
            else:
                text = str(variable[0])
            data = yaml.load(text, Loader=StoreLoader)  # a SafeLoader: runs no stored code
        except (yaml.YAMLError, UnicodeDecodeError, ValueError, TypeError, KeyError) as err:
            raise InputError(
                path, f"thermodynamic_states/{name}", f"cannot be read ({type(err).__name__})"
            ) from None
        while isinstance(data, dict) and "thermodynamic_state" in data:
            data = data["thermodynamic_state"]
        if not isinstance(data, dict):
            raise InputError(path, f"thermodynamic_states/{name}", "is not a serialized state")
        dicts.append(data)
    if not dicts:
        raise InputError(path, "thermodynamic_states", "holds no states")
    return dicts


def temperature_ladder(states: list[dict[str, Any]], path: Path) -> tuple[np.ndarray, float | None]:
    """(S,) temperatures in K and the common pressure in bar (None at constant volume)."""
    temperatures = [
        _quantity(state.get("temperature"), "kelvin", path, f"thermodynamic_states/state{k}")
        for k, state in enumerate(states)
    ]
    pressures = [state.get("pressure") for state in states]
    if all(p is None for p in pressures):
        return np.array(temperatures), None
    values = [
        _quantity(p, "bar", path, f"thermodynamic_states/state{k}") for k, p in enumerate(pressures)
    ]
    if not np.allclose(values, values[0]):
        raise InputError(
            path,
            "thermodynamic_states",
            "have different pressures: this is not a temperature ladder",
        )
    return np.array(temperatures), float(values[0])


def _quantity(value: Any, unit: str, path: Path, field: str) -> float:
    if not (isinstance(value, dict) and "value" in value and "unit" in value):
        raise InputError(path, field, f"has no {unit} quantity where one was expected")
    if str(value["unit"]).strip() != unit:
        raise InputError(path, field, f"is in {value['unit']!r}, expected {unit}")
    number = value["value"]
    if not isinstance(number, int | float) or not np.isfinite(number) or number <= 0:
        raise InputError(path, field, f"holds an invalid {unit} value {number!r}")
    return float(number)


def potential_energies(
    reduced: np.ndarray,
    states: np.ndarray,
    temperatures: np.ndarray,
    neighborhoods: np.ndarray,
    path: Path,
) -> np.ndarray:
    """(I, R) U = k_B T_s u[i, r, s] in kJ/mol, after checking the states form a temperature ladder."""
    energies = reduced * (KB_KJ_PER_MOL_K * temperatures)  # (I, R, S): k_B T_j u_j
    own = np.take_along_axis(energies, states[:, :, None], axis=2)[:, :, 0]
    if not np.all(np.isfinite(own)):
        i, r = np.argwhere(~np.isfinite(own))[0]
        raise InputError(
            path, "energies", f"has a NaN or infinite energy (iteration {i}, replica {r})"
        )
    checked = neighborhoods & np.isfinite(energies)
    scale = np.maximum(1.0, np.abs(own))[:, :, None]
    mismatch = checked & (np.abs(energies - own[:, :, None]) > _ENERGY_RTOL * scale)
    if mismatch.any():
        i, r, j = np.argwhere(mismatch)[0]
        raise InputError(
            path,
            "energies",
            f"are not one energy over k_B T (iteration {i}, replica {r}: k_B T u is "
            f"{energies[i, r, states[i, r]]:.6g} kJ/mol in its own state but {energies[i, r, j]:.6g} "
            f"in state {j}): the states differ in more than temperature, so this is not "
            "temperature replica exchange",
        )
    return own


def uses_periodic_boundaries(states: list[dict[str, Any]], path: Path) -> bool:
    """Whether the stored OpenMM system is periodic (a vacuum system still has box vectors)."""
    import openmm

    serialized = next((s["standard_system"] for s in states if "standard_system" in s), None)
    if serialized is None:
        raise InputError(path, "thermodynamic_states", "holds no serialized OpenMM system")
    try:
        xml = zlib.decompress(serialized) if isinstance(serialized, bytes) else serialized
        if isinstance(xml, bytes):
            xml = xml.decode()
        system = openmm.XmlSerializer.deserialize(xml)
    except Exception as err:  # OpenMM raises plain Exception for bad XML
        raise InputError(
            path,
            "thermodynamic_states/state0",
            f"holds an OpenMM system that cannot be read ({type(err).__name__})",
        ) from None
    return bool(system.usesPeriodicBoundaryConditions())
