"""Temperature replica exchange (REMD) with vectorised Langevin dynamics.

``n_chains`` independent REMD chains run side by side; each chain holds one replica per
temperature of the ladder. Every ``swap_interval`` steps neighbouring temperatures try to swap
their replicas (alternating even and odd pairs) with the Metropolis criterion
min(1, exp[(1/T_i - 1/T_j)(U_i - U_j)]); velocities are rescaled by sqrt(T_new / T_old).
Frames are written per replica, so every ``replica`` id in the dataset is one continuous
trajectory whose temperature changes at accepted swaps.
"""

from __future__ import annotations

import time as wallclock
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..data.dataset import MultiTempDataset
from ..data.io import save_dataset
from ..errors import UsageError
from ..provenance import run_record, write_json
from ..systems.base import SimulationSystem
from .langevin import LangevinState, baoab_step
from .round_trips import RoundTripCounter

__all__ = ["REMDConfig", "REMDResult", "run_remd"]


@dataclass(frozen=True)
class REMDConfig:
    """Settings of a replica-exchange run (reduced units).

    Attributes
    ----------
    temperatures
        Ladder of K temperatures (ascending).
    n_chains
        Independent REMD chains; the run propagates ``n_chains * K`` walkers at once.
    n_steps
        Langevin steps after equilibration.
    equilibration_steps
        Steps run and discarded before frames are saved.
    stride
        Steps between saved frames.
    swap_interval
        Steps between swap attempts.
    timestep, friction
        Langevin dt and gamma; None takes the system's defaults.
    seed
        Seed of the random generator; the same seed reproduces the run exactly.
    """

    temperatures: tuple[float, ...]
    n_chains: int = 64
    n_steps: int = 20_000
    equilibration_steps: int = 2_000
    stride: int = 50
    swap_interval: int = 50
    timestep: float | None = None
    friction: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        temps = tuple(float(t) for t in self.temperatures)
        if not temps or any(t <= 0 for t in temps) or list(temps) != sorted(set(temps)):
            raise UsageError(f"temperatures must be positive, distinct and ascending, got {temps}")
        object.__setattr__(self, "temperatures", temps)
        for name in ("n_chains", "n_steps", "stride", "swap_interval"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.equilibration_steps < 0:
            raise UsageError(f"equilibration_steps must be >= 0, got {self.equilibration_steps}")


@dataclass(frozen=True)
class REMDResult:
    """What a replica-exchange run produced.

    Attributes
    ----------
    dataset
        Frames with ``features``, ``temperature``, ``energy``, ``replica`` and ``time``.
    acceptance
        (K-1,) fraction of accepted swaps between temperatures k and k+1 (0 when none was
        attempted).
    swap_attempts
        (K-1,) swaps attempted between temperatures k and k+1, summed over chains.
    round_trips
        Total number of lowest -> highest -> lowest temperature round trips over all replicas.
    walker_steps_per_second
        Throughput of the dynamics (walkers x steps / wall time).
    config
        The resolved settings (timestep and friction filled in).
    """

    dataset: MultiTempDataset
    acceptance: np.ndarray
    swap_attempts: np.ndarray
    round_trips: int
    walker_steps_per_second: float
    config: REMDConfig

    def summary(self) -> str:
        """A short table of swap acceptance per neighbour pair and the round trips."""
        temps = self.config.temperatures
        lines = ["swap acceptance between neighbouring temperatures:"]
        lines += [
            f"  {temps[k]:>10.4g} <-> {temps[k + 1]:<10.4g} "
            + (f"{a:6.1%}" if n else "no swaps attempted")
            for k, (a, n) in enumerate(zip(self.acceptance, self.swap_attempts, strict=True))
        ]
        lines.append(f"round trips (lowest -> highest -> lowest): {self.round_trips}")
        lines.append(f"throughput: {self.walker_steps_per_second:,.0f} walker-steps/s")
        return "\n".join(lines)

    def save(self, path: str | Path, system_name: str) -> tuple[Path, Path]:
        """Write the dataset (``path``, .npz) and its run record (``path`` with ``.run.json``).

        Returns the two paths written.
        """
        data_path = save_dataset(self.dataset, path)
        record = run_record(
            "simulate",
            {"system": system_name, **asdict(self.config)},
            self.config.seed,
            {
                "swap_acceptance": self.acceptance,
                "swap_attempts": self.swap_attempts,
                "round_trips": self.round_trips,
                "walker_steps_per_second": self.walker_steps_per_second,
                "n_frames": self.dataset.n_frames,
            },
        )
        return data_path, write_json(data_path.with_suffix(".run.json"), record)


class _SwapBook:
    """State-to-replica bookkeeping, swap statistics and round-trip counting for all chains."""

    def __init__(self, n_chains: int, n_temps: int) -> None:
        self.state_of = np.tile(np.arange(n_temps), (n_chains, 1))  # [chain, replica] -> state
        self.attempts = np.zeros(max(n_temps - 1, 0), dtype=np.int64)
        self.accepted = np.zeros(max(n_temps - 1, 0), dtype=np.int64)
        self.trips = RoundTripCounter(n_temps, self.state_of.shape)
        self.trips.update(self.state_of)
        self.parity = 0

    def attempt(
        self, reduced_beta: np.ndarray, energy: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Try swaps between pairs (s, s+1) of one parity; returns the replicas' old states.

        ``reduced_beta`` (K,) is 1/T per state; ``energy`` (C, K) per replica.
        """
        n_chains, n_temps = self.state_of.shape
        old = self.state_of.copy()
        lower_states = np.arange(self.parity, n_temps - 1, 2)
        self.parity ^= 1
        if lower_states.size == 0:
            return old
        replica_at = np.argsort(self.state_of, axis=1)  # [chain, state] -> replica
        chains = np.arange(n_chains)[:, None]
        lo = replica_at[:, lower_states]
        hi = replica_at[:, lower_states + 1]
        delta = (reduced_beta[lower_states] - reduced_beta[lower_states + 1]) * (
            energy[chains, lo] - energy[chains, hi]
        )
        accept = np.log(rng.random(delta.shape)) < delta
        self.attempts[lower_states] += n_chains
        self.accepted[lower_states] += accept.sum(axis=0)
        rows = np.broadcast_to(chains, lo.shape)[accept]
        self.state_of[rows, lo[accept]], self.state_of[rows, hi[accept]] = (
            self.state_of[rows, hi[accept]],
            self.state_of[rows, lo[accept]],
        )
        self.trips.update(self.state_of)
        return old

    @property
    def acceptance(self) -> np.ndarray:
        return self.accepted / np.maximum(self.attempts, 1)


def run_remd(system: SimulationSystem, config: REMDConfig, progress: bool = True) -> REMDResult:
    """Run replica exchange for ``system`` and return the frames as a dataset.

    Parameters
    ----------
    system
        The system to simulate (reduced units).
    config
        Ladder, run length, stride and seed.
    progress
        Show a progress bar with the running swap acceptance.

    Returns
    -------
    REMDResult
        The dataset has ``n_chains * K * (n_steps // stride)`` frames.
    """
    config = _with_system_defaults(config, system)
    dt, gamma = config.timestep, config.friction
    rng = np.random.default_rng(config.seed)
    ladder = np.asarray(config.temperatures)
    n_chains, n_temps = config.n_chains, ladder.size
    n_walkers = n_chains * n_temps
    book = _SwapBook(n_chains, n_temps)

    temperature = ladder[book.state_of].ravel()
    state = LangevinState.start(
        system, system.initial_positions(temperature, rng), temperature, rng
    )
    n_frames = config.n_steps // config.stride
    features = np.empty((n_frames, n_walkers, len(system.feature_names)))
    energies = np.empty((n_frames, n_walkers))
    temps = np.empty((n_frames, n_walkers))

    total = config.equilibration_steps + n_frames * config.stride
    start = wallclock.perf_counter()
    with tqdm(
        total=total,
        desc=f"REMD {system.name}",
        unit="step",
        disable=not progress,
        mininterval=0.5,
        smoothing=0.1,
    ) as bar:
        for step in range(1, total + 1):
            baoab_step(system, state, temperature, dt, gamma, rng)
            if step % config.swap_interval == 0 and n_temps > 1:
                temperature = _exchange(book, state, ladder, rng)
            produced = step - config.equilibration_steps
            if produced > 0 and produced % config.stride == 0:
                frame = produced // config.stride - 1
                features[frame] = system.features(state.positions)
                energies[frame] = state.energy
                temps[frame] = temperature
            if step % 200 == 0 or step == total:
                bar.update(step - bar.n)
                if n_temps > 1:
                    bar.set_postfix(swap=f"{book.acceptance.mean():.0%}", refresh=False)
    elapsed = wallclock.perf_counter() - start
    return REMDResult(
        _replica_dataset(system, features, energies, temps),
        book.acceptance,
        book.attempts.copy(),
        book.trips.count,
        n_walkers * total / elapsed,
        config,
    )


def _with_system_defaults(config: REMDConfig, system: SimulationSystem) -> REMDConfig:
    """``config`` with the system's Langevin timestep and friction where it leaves them None."""
    dt = system.timestep if config.timestep is None else config.timestep
    gamma = system.friction if config.friction is None else config.friction
    return REMDConfig(**{**asdict(config), "timestep": dt, "friction": gamma})


def _exchange(
    book: _SwapBook, state: LangevinState, ladder: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Attempt swaps in every chain; moved replicas get velocities scaled by sqrt(T_new / T_old).

    Returns
    -------
    numpy.ndarray
        (C * K,) temperature of each walker after the swaps.
    """
    n_chains, n_temps = book.state_of.shape
    old = book.attempt(1.0 / ladder, state.energy.reshape(n_chains, n_temps), rng).ravel()
    new = book.state_of.ravel()
    moved = old != new
    state.velocities[moved] *= np.sqrt(ladder[new[moved]] / ladder[old[moved]]).reshape(
        (-1,) + (1,) * (state.velocities.ndim - 1)
    )
    return ladder[new]


def _replica_dataset(
    system: SimulationSystem, features: np.ndarray, energies: np.ndarray, temps: np.ndarray
) -> MultiTempDataset:
    """The saved frames as a dataset, grouped by walker (one trajectory each) in time order.

    Parameters
    ----------
    features
        (F, W, D) features of W walkers at F saved frames.
    energies, temps
        (F, W) potential energy and temperature of each walker at each saved frame.
    """
    n_frames, n_walkers = energies.shape
    replica = np.broadcast_to(np.arange(n_walkers), (n_frames, n_walkers))
    frame_index = np.broadcast_to(np.arange(n_frames)[:, None], (n_frames, n_walkers))
    order = np.argsort(replica.ravel(), kind="stable")  # grouped by trajectory, in time order
    return MultiTempDataset(
        features=features.reshape(-1, features.shape[-1])[order],
        temperature=temps.ravel()[order],
        energy=energies.ravel()[order],
        replica=replica.ravel()[order],
        time=frame_index.ravel()[order],
        feature_names=system.feature_names,
        periodic=system.periodic,
        temperature_unit=system.temperature_unit,
        energy_unit=system.energy_unit,
        source=f"REMD {system.name}",
    )
