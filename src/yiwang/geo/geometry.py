"""Small geometry helpers on WGS84 lng/lat: a local metric projection for areas and distances
inside one district (errors well under 1% at this size), and GeoJSON polygon checks."""

from __future__ import annotations

import math

import shapely
from shapely.validation import explain_validity

M_PER_DEG_LAT = 110_574.0


class GeometryError(ValueError):
    def __init__(self, message: str, *, where: tuple[float, float] | None = None):
        super().__init__(message)
        self.where = where


def m_per_deg_lng(lat: float) -> float:
    return 111_320.0 * math.cos(math.radians(lat))


def to_metres(geom, lat0: float):
    """Projects a lng/lat geometry to local metres around latitude lat0."""
    kx, ky = m_per_deg_lng(lat0), M_PER_DEG_LAT
    return shapely.transform(geom, lambda xy: xy * [kx, ky])


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    dy = (lat2 - lat1) * M_PER_DEG_LAT
    dx = (lng2 - lng1) * m_per_deg_lng((lat1 + lat2) / 2)
    return math.hypot(dx, dy)


def polygon_from_geojson(geometry) -> shapely.Geometry:
    """A valid Polygon/MultiPolygon from GeoJSON, or GeometryError naming what is wrong."""
    if not isinstance(geometry, dict):
        raise GeometryError("geometry 不是对象")
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"geometry.type 应为 Polygon 或 MultiPolygon,实为 {kind!r}")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise GeometryError("geometry.coordinates 为空或格式错误")
    try:
        geom = shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise GeometryError(f"坐标格式错误: {exc}") from None
    if geom.is_empty:
        raise GeometryError("多边形为空")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeometryError("坐标超出经纬度范围 (应为 [经度, 纬度], WGS84)")
    if not geom.is_valid:
        reason = explain_validity(geom)
        where = None
        if "[" in reason:
            try:
                x, y = reason[reason.index("[") + 1 : reason.index("]")].split()[:2]
                where = (float(y), float(x))
            except ValueError:
                where = None
        if "Self-intersection" in reason:
            raise GeometryError("多边形自相交", where=where)
        raise GeometryError(f"多边形无效: {reason}", where=where)
    return geom
