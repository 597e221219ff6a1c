"""Cartesian <-> internal coordinates along a Z-matrix: the geometry, in torch (float64).

A Z-matrix places atoms one after another: the atom in placement slot ``p`` sits at bond length
``r[p]`` from its reference ``j``, bond angle ``theta[p]`` (atom, j, k) and torsion ``phi[p]``
(atom, j, k, l) from earlier atoms. Slot 0 is the origin, slot 1 lies on the x axis (a bond
only), slot 2 in the xy plane (a bond and an angle); every later slot has all three, so a
molecule of n atoms has 3n - 6 internal coordinates and the rigid-body motion is gone.

The inverse is NeRF (Parsons et al., J. Comput. Chem. 2005), vectorised over frames and over
the atoms of one placement *level* (atoms whose references are all placed), so a molecule costs
as many steps as its Z-matrix is deep, not as many as it has atoms. Torsions follow the IUPAC
sign convention that MDTraj's ``compute_dihedrals`` uses.

Written here rather than taken from a library: MDTraj computes geometry in float32 and has no
inverse; the maintained Z-matrix builders we know (bgflow, chemcoord) bring their own models or
pandas frames and no batched torch inverse. Units: nm and radians.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "cartesian_from_internal",
    "internal_from_cartesian",
    "log_volume_element",
    "placement_levels",
]


def internal_from_cartesian(
    xyz: torch.Tensor, order: np.ndarray, refs: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bond lengths, angles and torsions (each (B, n)) of frames xyz (B, n_atoms, 3), in nm.

    ``order`` (n,) lists atoms in placement order and ``refs`` (n, 3) their (j, k, l)
    references (-1 where a slot has none). Entries a slot does not have are 0.
    """
    import torch

    atom = xyz[:, order]
    j, k, far = (xyz[:, np.maximum(refs[:, c], 0)] for c in range(3))
    bond = torch.linalg.norm(atom - j, dim=-1)
    theta = _angle(atom - j, k - j)
    phi = _dihedral(atom, j, k, far)
    slot = torch.arange(order.size, device=xyz.device)
    zero = torch.zeros_like(bond)
    return (
        torch.where(slot >= 1, bond, zero),
        torch.where(slot >= 2, theta, zero),
        torch.where(slot >= 3, phi, zero),
    )


def cartesian_from_internal(
    bond: torch.Tensor,
    theta: torch.Tensor,
    phi: torch.Tensor,
    order: np.ndarray,
    refs: np.ndarray,
    levels: list[np.ndarray],
) -> torch.Tensor:
    """Frames (B, n_atoms, 3) in nm from internal coordinates (each (B, n), as
    :func:`internal_from_cartesian` returns them), by NeRF level after level.

    Slot 0 is placed at the origin, slot 1 on +x, slot 2 in the xy plane (y > 0); ``levels``
    comes from :func:`placement_levels`.
    """
    batch, n = bond.shape
    xyz = bond.new_zeros((batch, n, 3))
    xyz = xyz.index_copy(1, _tensor(order[1:2], xyz), _first_bond(bond))
    xyz = xyz.index_copy(
        1, _tensor(order[2:3], xyz), _in_plane(xyz, bond[:, 2], theta[:, 2], refs[2])
    )
    for slots in levels:
        j, k, far = (xyz[:, refs[slots, c]] for c in range(3))
        placed = _nerf(far, k, j, bond[:, slots], theta[:, slots], phi[:, slots])
        xyz = xyz.index_copy(1, _tensor(order[slots], xyz), placed)
    return xyz


def log_volume_element(bond: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """log of the volume element (B,) of internal coordinates in 3n-dimensional Cartesian space.

    d^3n x = d^3(translation) d(orientation) * prod_{p>=1} r_p^2 * prod_{p>=2} sin(theta_p) *
    prod(dr dtheta dphi): each atom is placed in spherical coordinates about its reference, and
    the three rigid rotations (integrated out, a constant 8 pi^2) take the torsion-free slots'
    places. A density of Cartesian configurations p(x) is the density p(x(q)) * exp(this) of
    internal coordinates q.
    """
    import torch

    return 2 * torch.log(bond[:, 1:]).sum(dim=1) + torch.log(torch.sin(theta[:, 2:])).sum(dim=1)


def placement_levels(order: np.ndarray, refs: np.ndarray) -> list[np.ndarray]:
    """Slots from 3 on grouped so that every slot's references are in earlier groups.

    Returns
    -------
    list of numpy.ndarray
        Slot indices per level, first level first; the slots of a level are placed in one
        vectorised NeRF step.
    """
    slot_of = np.empty(order.size, dtype=int)
    slot_of[order] = np.arange(order.size)
    depth = np.zeros(order.size, dtype=int)
    for slot in range(3, order.size):
        depth[slot] = 1 + max(depth[slot_of[atom]] for atom in refs[slot])
    return [np.flatnonzero(depth == d) for d in range(1, depth.max() + 1)]


# ---------------------------------------------------------------------- pieces


def _tensor(indices: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.as_tensor(indices, dtype=torch.long, device=like.device)


def _first_bond(bond: torch.Tensor) -> torch.Tensor:
    """(B, 1, 3): slot 1 on the +x axis at its bond length from slot 0."""
    zero = bond.new_zeros(bond.shape[0])
    return _stack(bond[:, 1], zero, zero)[:, None]


def _in_plane(
    xyz: torch.Tensor, bond: torch.Tensor, theta: torch.Tensor, ref: np.ndarray
) -> torch.Tensor:
    """(B, 1, 3): slot 2 in the xy plane (y > 0), bonded to ``ref[0]`` with angle to ``ref[1]``."""
    j, k = xyz[:, ref[0]], xyz[:, ref[1]]
    axis = (k - j) / (k - j).norm(dim=-1, keepdim=True)  # along +-x
    zero = bond.new_zeros(bond.shape)
    offset = _stack(bond * theta.cos() * axis[:, 0], bond * theta.sin(), zero)
    return (j + offset)[:, None]


def _stack(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.stack([x, y, z], dim=-1)


def _nerf(
    a: torch.Tensor,
    b: torch.Tensor,
    c: torch.Tensor,
    bond: torch.Tensor,
    theta: torch.Tensor,
    phi: torch.Tensor,
) -> torch.Tensor:
    """Atoms (B, m, 3) at ``bond`` from c, angle ``theta`` (atom, c, b) and torsion ``phi``
    (atom, c, b, a): NeRF's local frame on (a, b, c)."""
    import torch

    bc = c - b
    bc = bc / bc.norm(dim=-1, keepdim=True)
    normal = torch.linalg.cross(b - a, bc, dim=-1)
    normal = normal / normal.norm(dim=-1, keepdim=True)
    in_plane = torch.linalg.cross(normal, bc, dim=-1)
    local = (
        -bond * theta.cos(),
        bond * theta.sin() * phi.cos(),
        bond * theta.sin() * phi.sin(),
    )
    return (
        c + local[0][..., None] * bc + local[1][..., None] * in_plane + local[2][..., None] * normal
    )


def _angle(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Angle (B, m) between vectors u and v (B, m, 3), by atan2 (accurate near 0 and pi)."""
    import torch

    cross = torch.linalg.cross(u, v, dim=-1).norm(dim=-1)
    return torch.atan2(cross, (u * v).sum(dim=-1))


def _dihedral(
    p0: torch.Tensor, p1: torch.Tensor, p2: torch.Tensor, p3: torch.Tensor
) -> torch.Tensor:
    """IUPAC dihedral (B, m) of p0-p1-p2-p3 (MDTraj's ``compute_dihedrals`` convention)."""
    import torch

    b0, b1, b2 = p1 - p0, p2 - p1, p3 - p2
    n1 = torch.linalg.cross(b0, b1, dim=-1)
    n2 = torch.linalg.cross(b1, b2, dim=-1)
    m1 = torch.linalg.cross(n1, b1 / b1.norm(dim=-1, keepdim=True), dim=-1)
    return torch.atan2(-(m1 * n2).sum(dim=-1), (n1 * n2).sum(dim=-1))
