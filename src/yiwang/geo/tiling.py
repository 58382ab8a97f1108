"""Do the grids tile the district? Overlaps and gaps beyond a tolerance, with where they are."""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from .geometry import to_metres

SNAP_DEG = 1e-7


@dataclass
class TilingProblem:
    kind: str  # "overlap" | "gap"
    message: str
    lat: float
    lng: float
    area_m2: float
    codes: tuple[str, ...] = ()


def check_tiling(
    grids: list[tuple[str, shapely.Geometry]],
    *,
    district: shapely.Geometry | None = None,
    tolerance_m2: float = 10.0,
) -> list[TilingProblem]:
    """Overlaps between any two grids, holes inside their union and, when the district
    boundary is known, parts of the district no grid covers. Pieces below the tolerance
    (digitising slivers) are ignored."""
    if not grids:
        return []
    problems: list[TilingProblem] = []
    geoms = [g for _, g in grids]
    lat0 = shapely.union_all(geoms).centroid.y
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        inter = shapely.intersection(geoms[i], geoms[j])
        area = to_metres(inter, lat0).area
        if area > tolerance_m2:
            p = inter.representative_point()
            a, b = grids[i][0], grids[j][0]
            problems.append(
                TilingProblem(
                    "overlap",
                    f"网格 {a} 与 {b} 重叠约 {area:.0f} 平方米",
                    round(p.y, 6),
                    round(p.x, 6),
                    round(area, 1),
                    (a, b),
                )
            )
    # Snapped to ~1 cm so that edges shared up to floating-point noise leave no hairline crack
    # that would join a hole to the outside.
    union = shapely.union_all(geoms, grid_size=SNAP_DEG)
    pieces = []
    for poly in getattr(union, "geoms", [union]):
        pieces.extend(shapely.Polygon(ring) for ring in poly.interiors)
    if district is not None:
        rest = shapely.difference(district, union, grid_size=SNAP_DEG)
        pieces.extend(getattr(rest, "geoms", [rest]) if not rest.is_empty else [])
    for piece in pieces:
        area = to_metres(piece, lat0).area
        if area > tolerance_m2:
            p = piece.representative_point()
            problems.append(
                TilingProblem(
                    "gap",
                    f"约 {area:.0f} 平方米的区域不属于任何网格",
                    round(p.y, 6),
                    round(p.x, 6),
                    round(area, 1),
                )
            )
    return problems
