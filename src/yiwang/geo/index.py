"""Point → grid over the district's grid polygons with a shapely STRtree.

Each process keeps its own index, keyed by the district's grid_version: the tree services bump
the version on every boundary change, and a process checks it at most every few seconds
(YIWANG_GRID_INDEX_CHECK_SECONDS), so several web and worker processes agree without sharing
memory. Changes made in this process reset the index at once."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings

from yiwang.org.models import District, Grid
from yiwang.org.services import register_index_reset

from .geometry import M_PER_DEG_LAT, m_per_deg_lng, to_metres


@dataclass(frozen=True)
class Located:
    grid_id: int | None
    grid_code: str | None
    grid_name: str | None
    inside: bool
    # For a point outside every grid: the nearest grid and how far it is.
    distance_m: float | None = None


class GridIndex:
    def __init__(self, key, grids: list[tuple[int, str, str, dict]]):
        self.key = key
        self.ids = np.array([g[0] for g in grids], dtype=np.int64)
        self.codes = [g[1] for g in grids]
        self.names = [g[2] for g in grids]
        self.geoms = np.array([shapely.geometry.shape(g[3]) for g in grids], dtype=object)
        for geom in self.geoms:
            shapely.prepare(geom)
        self.tree = shapely.STRtree(self.geoms)
        if len(self.geoms):
            self.lat0 = float(shapely.union_all(self.geoms).centroid.y)
        else:
            self.lat0 = 36.08
        self.kx, self.ky = m_per_deg_lng(self.lat0), M_PER_DEG_LAT

    def __len__(self):
        return len(self.ids)

    def _answer(self, i: int, inside: bool, distance_m: float | None = None) -> Located:
        return Located(
            int(self.ids[i]), self.codes[i], self.names[i], inside, distance_m=distance_m
        )

    def locate(self, lat: float, lng: float) -> Located:
        point = shapely.Point(lng, lat)
        hits = self.tree.query(point, predicate="intersects")
        if len(hits):
            # On a shared edge the lowest index wins, so answers are stable.
            return self._answer(int(hits.min()), True)
        if not len(self.ids):
            return Located(None, None, None, False)
        i = int(self.tree.nearest(point))
        local = to_metres(self.geoms[i], self.lat0)
        dist = shapely.distance(
            local, shapely.Point(lng * self.kx, lat * self.ky)
        )
        return self._answer(i, False, distance_m=round(float(dist), 1))

    def locate_many(self, lats, lngs) -> np.ndarray:
        """Grid ids for many points at once; -1 where a point is in no grid."""
        points = shapely.points(np.asarray(lngs, dtype=float), np.asarray(lats, dtype=float))
        src, dst = self.tree.query(points, predicate="intersects")
        out = np.full(len(points), -1, dtype=np.int64)
        # Reverse order so that, for a point on a shared edge, the lowest grid index is kept.
        order = np.lexsort((-dst, src))
        out[src[order]] = self.ids[dst[order]]
        return out


_lock = threading.Lock()
_state: dict = {"index": None, "checked": 0.0}


def _current_key():
    row = District.objects.order_by("id").values_list("id", "grid_version").first()
    return row or (None, 0)


def reset() -> None:
    with _lock:
        _state["index"] = None
        _state["checked"] = 0.0


register_index_reset(reset)


def grid_index() -> GridIndex:
    """This process's index, rebuilt when the grid set changed."""
    now = time.monotonic()
    index = _state["index"]
    if index is not None and now - _state["checked"] < settings.YIWANG_GRID_INDEX_CHECK_SECONDS:
        return index
    key = _current_key()
    if index is not None and index.key == key:
        _state["checked"] = now
        return index
    with _lock:
        grids = list(
            Grid.objects.filter(boundary__isnull=False)
            .order_by("id")
            .values_list("id", "code", "name", "boundary")
        )
        index = GridIndex(key, grids)
        _state["index"] = index
        _state["checked"] = time.monotonic()
    return index


def locate(lat: float, lng: float) -> Located:
    return grid_index().locate(lat, lng)


def locate_many(lats, lngs) -> np.ndarray:
    return grid_index().locate_many(lats, lngs)
