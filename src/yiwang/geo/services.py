"""Imports and exports of the grids (GeoJSON) and the address base (csv/xlsx).

Imports are dry runs unless asked to commit, and all-or-nothing: everything is checked first, and either every row is written in
one transaction or nothing is, with a report that names each problem and where it is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from django.db import transaction

from yiwang.common.tables import TableError, read_table
from yiwang.org.models import Building, Community, District, Grid, Street
from yiwang.org.permissions import IMPORT_TREE, require_permission
from yiwang.org.services import (
    bump_address_version,
    community_create,
    grid_create,
    grid_update_boundary,
    register_index_reset,  # noqa: F401  (re-exported for callers that reset indexes)
    street_create,
)

from .geometry import GeometryError, polygon_from_geojson
from .models import Compound, Road
from .tiling import check_tiling


@dataclass
class Problem:
    where: str  # "feature 3", "row 12"
    field: str
    message: str
    lat: float | None = None
    lng: float | None = None

    def __str__(self):
        loc = f" @ {self.lat:.6f},{self.lng:.6f}" if self.lat is not None else ""
        return f"{self.where} [{self.field}] {self.message}{loc}"


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "committed": self.committed,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "problems": [p.__dict__ for p in self.problems],
        }


# -- grids ---------------------------------------------------------------------------------

GRID_PROPS = ("street", "community", "code", "name")


def grids_import(
    *,
    actor,
    data: str | bytes | dict,
    district: District,
    tolerance_m2: float = 10.0,
    dry_run: bool = True,
) -> ImportReport:
    """Imports a GeoJSON FeatureCollection of grids (properties: street, community, code, name;
    optional street_code, community_code). Streets and communities are created by name when
    new; grids are created or their boundary replaced by code. The grids in the file together
    with the district's other grids must tile without overlaps or gaps beyond the tolerance."""
    require_permission(actor, IMPORT_TREE)
    report = ImportReport()
    try:
        fc = json.loads(data) if isinstance(data, str | bytes) else data
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        report.problems.append(Problem("file", "json", f"不是有效的 JSON: {exc}"))
        return report
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection":
        report.problems.append(Problem("file", "type", "应为 GeoJSON FeatureCollection"))
        return report
    features = fc.get("features")
    if not isinstance(features, list) or not features:
        report.problems.append(Problem("file", "features", "features 为空"))
        return report
    report.total = len(features)
    parsed: list[tuple[dict, shapely.Geometry]] = []
    seen: dict[str, int] = {}
    for n, feature in enumerate(features, start=1):
        where = f"feature {n}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            report.problems.append(Problem(where, "type", "不是 GeoJSON Feature"))
            continue
        props = feature.get("properties") or {}
        missing = [p for p in GRID_PROPS if not str(props.get(p, "")).strip()]
        if missing:
            report.problems.append(Problem(where, ",".join(missing), "缺少属性"))
            continue
        code = str(props["code"]).strip()
        where = f"feature {n} ({code})"
        if code in seen:
            report.problems.append(Problem(where, "code", f"网格编码与 feature {seen[code]} 重复"))
            continue
        seen[code] = n
        try:
            geom = polygon_from_geojson(feature.get("geometry"))
        except GeometryError as exc:
            lat, lng = exc.where if exc.where else (None, None)
            report.problems.append(Problem(where, "geometry", str(exc), lat, lng))
            continue
        props = {k: str(v).strip() for k, v in props.items() if v is not None}
        parsed.append((props, geom))
    if report.problems:
        return report

    codes_in_file = {p["code"] for p, _ in parsed}
    others = [
        (code, shapely.geometry.shape(b))
        for code, b in Grid.objects.filter(street__district=district, boundary__isnull=False)
        .exclude(code__in=codes_in_file)
        .values_list("code", "boundary")
    ]
    district_geom = None
    if district.boundary:
        try:
            district_geom = polygon_from_geojson(district.boundary)
        except GeometryError:
            district_geom = None
    for problem in check_tiling(
        [(p["code"], g) for p, g in parsed] + others,
        district=district_geom,
        tolerance_m2=tolerance_m2,
    ):
        report.problems.append(
            Problem(problem.kind, "geometry", problem.message, problem.lat, problem.lng)
        )
    if report.problems or dry_run:
        return report

    with transaction.atomic():
        streets = {s.name: s for s in Street.objects.filter(district=district)}
        communities = {
            (c.street_id, c.name): c for c in Community.objects.filter(street__district=district)
        }
        existing = {g.code: g for g in Grid.objects.filter(code__in=codes_in_file)}
        for props, geom in parsed:
            street = streets.get(props["street"])
            if street is None:
                code = props.get("street_code") or f"{district.code}{len(streets) + 1:03d}"
                street = street_create(
                    actor=None, district=district, code=code, name=props["street"]
                )
                streets[street.name] = street
            community = communities.get((street.id, props["community"]))
            if community is None:
                n = sum(1 for k in communities if k[0] == street.id) + 1
                code = props.get("community_code") or f"{street.code}{n:03d}"
                community = community_create(
                    actor=None, street=street, code=code, name=props["community"]
                )
                communities[(street.id, community.name)] = community
            boundary = shapely.geometry.mapping(geom)
            boundary = json.loads(json.dumps(boundary))  # tuples → lists for JSON fields
            grid = existing.get(props["code"])
            if grid is None:
                grid_create(
                    actor=None,
                    community=community,
                    code=props["code"],
                    name=props["name"],
                    boundary=boundary,
                )
                report.created += 1
            else:
                if grid.community_id != community.id:
                    grid.community = community
                    grid.street_id = community.street_id
                    grid.name = props["name"]
                    grid.save(update_fields=["community", "street", "name"])
                grid_update_boundary(actor=None, grid=grid, boundary=boundary)
                report.updated += 1
        report.committed = True
    return report


def grids_export(*, district: District) -> dict:
    features = []
    for g in (
        Grid.objects.filter(street__district=district)
        .select_related("street", "community")
        .order_by("code")
    ):
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "street": g.street.name,
                    "street_code": g.street.code,
                    "community": g.community.name,
                    "community_code": g.community.code,
                    "code": g.code,
                    "name": g.name,
                },
                "geometry": g.boundary,
            }
        )
    return {"type": "FeatureCollection", "features": features}


# -- address base --------------------------------------------------------------------------

ROAD_COLUMNS = {
    "道路名称": "name",
    "name": "name",
    "等级": "kind",
    "kind": "kind",
    "别名": "aliases",
    "aliases": "aliases",
}
ROAD_KINDS = {label: value for value, label in Road.Kind.choices} | {v: v for v in Road.Kind.values}

BUILDING_COLUMNS = {
    "道路": "road",
    "road": "road",
    "门牌号": "number",
    "number": "number",
    "小区": "compound",
    "compound": "compound",
    "楼号": "building_no",
    "building_no": "building_no",
    "名称": "name",
    "name": "name",
    "纬度": "lat",
    "lat": "lat",
    "经度": "lng",
    "lng": "lng",
    "网格编码": "grid_code",
    "grid_code": "grid_code",
    "层数": "floors",
    "floors": "floors",
    "单元数": "units",
    "units": "units",
}


def _map_row(row: dict[str, str], columns: dict[str, str]) -> dict[str, str]:
    return {columns[k]: v for k, v in row.items() if k in columns}


def roads_import(*, actor, path: str | Path, dry_run: bool = True) -> ImportReport:
    require_permission(actor, IMPORT_TREE)
    report = ImportReport()
    try:
        table = read_table(path, expected_headers=set(ROAD_COLUMNS))
    except TableError as exc:
        report.problems.append(Problem("file", "file", str(exc)))
        return report
    if "name" not in {ROAD_COLUMNS.get(h) for h in table.headers}:
        report.problems.append(Problem(f"row {table.header_row}", "道路名称", "缺少必需的列"))
        return report
    rows = []
    names = set()
    for number, raw in table.rows:
        report.total += 1
        row = _map_row(raw, ROAD_COLUMNS)
        name = row.get("name", "")
        if not name:
            report.problems.append(Problem(f"row {number}", "道路名称", "为空"))
            continue
        if name in names:
            report.problems.append(Problem(f"row {number}", "道路名称", f"{name} 在文件中重复"))
            continue
        names.add(name)
        kind = ROAD_KINDS.get(row.get("kind") or "branch")
        if kind is None:
            report.problems.append(
                Problem(
                    f"row {number}",
                    "等级",
                    f"未知等级 {row.get('kind')!r},可选: 主干道/次干道/支路/背街小巷",
                )
            )
            continue
        aliases = [
            a
            for a in (row.get("aliases") or "").replace(",", ";").replace(",", ";").split(";")
            if a
        ]
        rows.append((name, kind, aliases))
    if report.problems or dry_run:
        return report
    with transaction.atomic():
        existing = {r.name: r for r in Road.objects.filter(name__in=names)}
        for name, kind, aliases in rows:
            road = existing.get(name)
            if road is None:
                Road.objects.create(name=name, kind=kind, aliases=aliases)
                report.created += 1
            elif (road.kind, road.aliases) != (kind, aliases):
                road.kind, road.aliases = kind, aliases
                road.save(update_fields=["kind", "aliases"])
                report.updated += 1
            else:
                report.unchanged += 1
        district = District.objects.order_by("id").first()
        if district:
            bump_address_version(district.id)
        report.committed = True
    _reset_indexes()
    return report


def _reset_indexes():
    from . import index, resolve

    index.reset()
    resolve.reset()


def buildings_import(*, actor, path: str | Path, dry_run: bool = True) -> ImportReport:
    """Buildings from csv/xlsx: 道路, 门牌号, 小区, 楼号, 名称, 纬度, 经度, optional 网格编码 (else
    the point decides the grid). Matched by road + number + compound + building number."""
    from .index import grid_index

    require_permission(actor, IMPORT_TREE)
    report = ImportReport()
    try:
        table = read_table(path, expected_headers=set(BUILDING_COLUMNS))
    except TableError as exc:
        report.problems.append(Problem("file", "file", str(exc)))
        return report
    mapped = {BUILDING_COLUMNS.get(h) for h in table.headers}
    for needed, label in (("road", "道路"), ("number", "门牌号"), ("lat", "纬度"), ("lng", "经度")):
        if needed not in mapped:
            report.problems.append(Problem(f"row {table.header_row}", label, "缺少必需的列"))
    if report.problems:
        return report
    grids = dict(Grid.objects.values_list("code", "id"))
    index = grid_index()
    roads = set(Road.objects.values_list("name", flat=True))
    clean: list[dict] = []
    keys: dict[tuple, int] = {}
    for number, raw in table.rows:
        report.total += 1
        row = _map_row(raw, BUILDING_COLUMNS)
        where = f"row {number}"
        bad = False
        for key, label in (("road", "道路"), ("number", "门牌号")):
            if not row.get(key):
                report.problems.append(Problem(where, label, "为空"))
                bad = True
        try:
            lat, lng = float(row.get("lat", "")), float(row.get("lng", ""))
        except ValueError:
            report.problems.append(Problem(where, "纬度/经度", "不是数字"))
            continue
        if bad:
            continue
        number_text = row["number"].removesuffix("号")
        if roads and row["road"] not in roads:
            report.problems.append(
                Problem(where, "道路", f"道路“{row['road']}”不在道路表中", lat, lng)
            )
            continue
        if row.get("grid_code"):
            grid_id = grids.get(row["grid_code"])
            if grid_id is None:
                report.problems.append(
                    Problem(where, "网格编码", f"未知网格编码 {row['grid_code']}")
                )
                continue
        else:
            located = index.locate(lat, lng)
            if not located.inside:
                report.problems.append(
                    Problem(
                        where,
                        "纬度/经度",
                        f"坐标不在任何网格内 (最近网格 {located.grid_code},相距 {located.distance_m} 米)",
                        lat,
                        lng,
                    )
                )
                continue
            grid_id = located.grid_id
        key = (
            row["road"],
            number_text,
            row.get("compound", ""),
            row.get("building_no", "").removesuffix("号楼"),
        )
        if key in keys:
            report.problems.append(Problem(where, "地址", f"与第 {keys[key]} 行地址重复"))
            continue
        keys[key] = number
        clean.append(
            {
                "road": key[0],
                "number": key[1],
                "compound": key[2],
                "building_no": key[3],
                "name": row.get("name", ""),
                "lat": lat,
                "lng": lng,
                "grid_id": grid_id,
                "floors": int(row["floors"]) if row.get("floors", "").isdigit() else None,
                "units": int(row["units"]) if row.get("units", "").isdigit() else None,
            }
        )
    if report.problems or dry_run:
        return report
    with transaction.atomic():
        existing = {
            (b.road, b.number, b.compound, b.building_no): b
            for b in Building.objects.filter(road__in={c["road"] for c in clean})
        }
        new = []
        for c in clean:
            key = (c["road"], c["number"], c["compound"], c["building_no"])
            b = existing.get(key)
            if b is None:
                new.append(Building(**c))
                continue
            changed = [f for f, v in c.items() if getattr(b, f) != v]
            if changed:
                for f in changed:
                    setattr(b, f, c[f])
                b.save(update_fields=changed)
                report.updated += 1
            else:
                report.unchanged += 1
        Building.objects.bulk_create(new, batch_size=2000)
        report.created = len(new)
        for name in {c["road"] for c in clean} - roads:
            Road.objects.get_or_create(name=name)
        district = District.objects.order_by("id").first()
        if district:
            bump_address_version(district.id)
        report.committed = True
    _reset_indexes()
    return report


BUILDING_EXPORT_HEADERS = ["道路", "门牌号", "小区", "楼号", "名称", "纬度", "经度", "网格编码"]


def buildings_export_rows():
    yield BUILDING_EXPORT_HEADERS
    qs = Building.objects.select_related("grid").order_by("road", "number", "building_no")
    for b in qs.iterator(chunk_size=5000):
        yield [b.road, b.number, b.compound, b.building_no, b.name, b.lat, b.lng, b.grid.code]


def compound_create(
    *, actor, name: str, road: Road, number: str, grid: Grid, aliases=()
) -> Compound:
    require_permission(actor, IMPORT_TREE)
    compound = Compound.objects.create(
        name=name, road=road, number=number, grid=grid, aliases=list(aliases)
    )
    bump_address_version(grid.street.district_id)
    _reset_indexes()
    return compound
