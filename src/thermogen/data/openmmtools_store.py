"""Read an openmmtools replica-exchange store (MultiStateReporter NetCDF), by state or by replica.

An openmmtools ``MultiStateReporter`` writes two NetCDF files: the analysis file (``remd.nc``)
with, per iteration, ``states[iteration, replica]`` (the thermodynamic state each replica was
in) and ``energies[iteration, replica, state]`` (the reduced potential of the replica's
configuration in every state), and the checkpoint file (``remd_checkpoint.nc``) with
``positions[iteration // k, replica, atom, xyz]`` in nm, stored only every ``k =
CheckpointInterval`` iterations. At iteration i, replica r's positions are the end of its
propagation in state ``states[i, r]``, and ``energies[i, r]`` are computed on them; iteration 0
holds the starting structures (identical for every replica unless given otherwise), so reading
starts at iteration 1 by default.

Units and conventions: openmmtools' reduced potential is u = (U + pV) / (k_B T) with
k_B = 0.0083144626 kJ/(mol K), so a frame's potential energy is U = k_B T_s u[i, r, s] in kJ/mol
for the state s the replica was in (U + pV at constant pressure: the quantity MBAR needs there).
For a temperature ladder k_B T_j u[i, r, j] is the same for every state j; the reader checks this
and refuses stores whose states differ in more than temperature (alchemical or Hamiltonian
exchange). Temperatures come from the stored thermodynamic states, read as data (YAML), without
running any code stored in the file.

*By replica* (the demultiplexed trajectories) each replica is one continuous trajectory through
the temperatures: ``replica`` = replica index, ``time`` = index of the stored frame, and the
temperature changes when the replica is swapped. *By state* the frames are grouped by
thermodynamic state (temperature), in iteration order; they are not continuous trajectories, so
``replica`` and ``time`` are left out.

The reader is :class:`OpenMMToolsStore` (:mod:`thermogen.data.store_reader`, with the
thermodynamic states parsed by :mod:`thermogen.data.store_states`); :func:`featurize_store`
(:mod:`thermogen.data.store_featurize`) turns its frames into a dataset.
"""

from __future__ import annotations

from .store_featurize import featurize_store
from .store_reader import OpenMMToolsStore, default_checkpoint_path

__all__ = ["OpenMMToolsStore", "default_checkpoint_path", "featurize_store"]
