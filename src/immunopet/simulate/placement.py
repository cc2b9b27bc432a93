"""Where a lesion sits in the phantom: from its site and three uniform numbers to a centre (mm)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from immunopet.simulate.anatomy import Body

BONE_ANCHORS = ("upper_lumbar_spine", "thoracic_spine", "iliac_-1", "iliac_1")
#: Landmarks of the fixed organ VOIs that no lesion may touch, with a clearance radius (mm).
KEEP_CLEAR = {"aortic_arch": 28.0, "lumbar_marrow": 22.0}


def lesion_centre(body: Body, site: str, radius: float, u: Sequence[float]) -> tuple[float, float, float]:
    """Centre (phantom mm) of a lesion of ``radius`` at ``site``, placed by ``u`` in [0, 1)^3.

    Sites: ``lung``, ``liver``, ``lymph_node``, ``bone``, ``adrenal``, ``soft_tissue``,
    ``bladder_wall``; anything else is placed like ``soft_tissue``.
    """
    u0, u1, u2 = (float(v) for v in u)
    a, b, H, s = body.a, body.b, body.height, body.s
    lm = body.landmarks

    def inside(centre, semi):  # a point well inside an ellipsoid, leaving room for the lesion
        room = [max(0.0, 0.55 * (1.0 - radius / r)) for r in semi]
        w = (u1 - 0.5, u2 - 0.5, (2 * u0) % 1.0 - 0.5)
        return tuple(c + 2.0 * q * r * k for c, q, r, k in zip(centre, w, semi, room))

    if site == "lung":
        side = -1 if u0 < 0.5 else 1
        return inside(lm[f"lung_{side}"], (0.37 * a, 0.72 * b, 0.075 * H))
    if site == "liver":
        return inside(lm["liver"], (0.45 * a, 0.7 * b, 0.05 * H))
    if site == "lymph_node":
        nodes = sorted(k for k in lm if k.startswith("node_"))
        x, y, z = lm[nodes[int(u0 * len(nodes)) % len(nodes)]]
        return (x + (u1 - 0.5) * 10.0, y + (u2 - 0.5) * 10.0, z)
    if site == "bone":
        x, y, z = lm[BONE_ANCHORS[int(u0 * len(BONE_ANCHORS)) % len(BONE_ANCHORS)]]
        return (x, y, z + (u1 - 0.5) * 30.0 * s)
    if site == "adrenal":
        x, y, z = lm["adrenal_-1" if u0 < 0.5 else "adrenal_1"]
        return (x + (u1 - 0.5) * 16.0 * s, y, z + (u2 - 0.5) * 30.0 * s)
    if site == "bladder_wall":
        x, y, z = lm["bladder"]
        theta = np.pi * (0.25 + 1.5 * u0)
        return (x + 33 * s * np.cos(theta), y + 28 * s * np.sin(theta), z + (u1 - 0.5) * 20 * s)
    theta = 2.0 * np.pi * u0
    kx, ky = max(0.2, 1.0 - (radius + 5.0) / a), max(0.2, 1.0 - (radius + 5.0) / b)
    return (kx * a * np.cos(theta), ky * b * np.sin(theta), body.z(0.2 + 0.24 * u1))


def place_lesions(body: Body, sites: Sequence[str], radii: Sequence[float], placements: np.ndarray,
                  rng: np.random.Generator, *, tries: int = 30) -> list[tuple[float, float, float]]:
    """Centres for all lesions of a patient, re-drawing placements that would overlap earlier ones."""
    centres: list[tuple[float, float, float]] = []
    for site, radius, u in zip(sites, radii, placements):
        candidate = lesion_centre(body, site, radius, u)
        for _ in range(tries):
            clear = all(np.linalg.norm(np.subtract(candidate, c)) > radius + r + 3.0 for c, r in zip(centres, radii))
            clear = clear and all(np.linalg.norm(np.subtract(candidate, body.landmarks[name])) > radius + gap
                                  for name, gap in KEEP_CLEAR.items())
            if clear:
                break
            candidate = lesion_centre(body, site, radius, rng.uniform(0.0, 1.0, 3))
        centres.append(tuple(float(v) for v in candidate))  # type: ignore[arg-type]
    return centres
