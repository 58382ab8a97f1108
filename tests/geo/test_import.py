"""Grid (GeoJSON) and address-base (csv/xlsx) imports: tiling checks, bad input, all-or-nothing."""

import json

import pytest
from openpyxl import Workbook

from tests.conftest import LAT0, LNG0, STEP, square
from yiwang.geo.services import buildings_export_rows, buildings_import, grids_export, grids_import
from yiwang.org.models import Building, Community, District, Grid, Street


def feature(code, geometry, street="辽宁路街道", community="贮水山社区", name=None):
    return {
        "type": "Feature",
        "properties": {
            "street": street,
            "community": community,
            "code": code,
            "name": name or code,
        },
        "geometry": geometry,
    }


def fc(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


@pytest.fixture
def empty_district(db):
    from yiwang.org.services import district_create

    return district_create(actor=None, code="370203", name="市北区")


def test_import_creates_streets_communities_grids(empty_district):
    report = grids_import(
        actor=None,
        data=fc(
            feature("G1", square(0)),
            feature("G2", square(1)),
            feature("G3", square(2), community="登州路社区"),
        ),
        district=empty_district,
        dry_run=False,
    )
    assert report.ok and report.committed, report.problems
    assert report.created == 3
    assert Street.objects.get().name == "辽宁路街道"
    assert set(Community.objects.values_list("name", flat=True)) == {"贮水山社区", "登州路社区"}
    assert Grid.objects.get(code="G3").community.name == "登州路社区"
    assert District.objects.get().grid_version >= 3


def test_dry_run_writes_nothing(empty_district):
    report = grids_import(
        actor=None, data=fc(feature("G1", square(0))), district=empty_district, dry_run=True
    )
    assert report.ok and not report.committed
    assert not Grid.objects.exists()


def test_overlap_is_reported_with_location_and_nothing_is_written(empty_district):
    shifted = {
        "type": "Polygon",
        "coordinates": [
            [
                [LNG0 + STEP / 2, LAT0],
                [LNG0 + 1.5 * STEP, LAT0],
                [LNG0 + 1.5 * STEP, LAT0 + STEP],
                [LNG0 + STEP / 2, LAT0 + STEP],
                [LNG0 + STEP / 2, LAT0],
            ]
        ],
    }
    report = grids_import(
        actor=None,
        data=fc(feature("G1", square(0)), feature("G2", shifted)),
        district=empty_district,
    )
    assert not report.ok
    (problem,) = report.problems
    assert problem.where == "overlap"
    assert "G1" in problem.message and "G2" in problem.message
    assert LNG0 + STEP / 2 <= problem.lng <= LNG0 + STEP
    assert not Grid.objects.exists() and not Street.objects.exists()


def test_gap_inside_the_union_is_reported(empty_district):
    # Three cells in an L around an empty fourth cell ... make a ring: 3×3 without the centre.
    cells = [(i, j) for i in range(3) for j in range(3) if (i, j) != (1, 1)]
    report = grids_import(
        actor=None,
        data=fc(*[feature(f"G{i}{j}", square(i, j)) for i, j in cells]),
        district=empty_district,
    )
    assert not report.ok
    (problem,) = report.problems
    assert problem.where == "gap"
    assert abs(problem.lat - (LAT0 + 1.5 * STEP)) < STEP / 2
    assert abs(problem.lng - (LNG0 + 1.5 * STEP)) < STEP / 2


def test_gap_against_district_boundary(empty_district):
    empty_district.boundary = {
        "type": "Polygon",
        "coordinates": [
            [
                [LNG0, LAT0],
                [LNG0 + 2 * STEP, LAT0],
                [LNG0 + 2 * STEP, LAT0 + STEP],
                [LNG0, LAT0 + STEP],
                [LNG0, LAT0],
            ]
        ],
    }
    empty_district.save()
    report = grids_import(actor=None, data=fc(feature("G1", square(0))), district=empty_district)
    assert [p.where for p in report.problems] == ["gap"]
    assert report.problems[0].lng > LNG0 + STEP


def test_slivers_under_tolerance_are_accepted(empty_district):
    eps = 1e-7  # ~1 cm overlap: digitising noise
    wide = {
        "type": "Polygon",
        "coordinates": [
            [
                [LNG0, LAT0],
                [LNG0 + STEP + eps, LAT0],
                [LNG0 + STEP + eps, LAT0 + STEP],
                [LNG0, LAT0 + STEP],
                [LNG0, LAT0],
            ]
        ],
    }
    report = grids_import(
        actor=None, data=fc(feature("G1", wide), feature("G2", square(1))), district=empty_district
    )
    assert report.ok, report.problems


def test_self_intersecting_polygon(empty_district):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [
                [LNG0, LAT0],
                [LNG0 + STEP, LAT0 + STEP],
                [LNG0 + STEP, LAT0],
                [LNG0, LAT0 + STEP],
                [LNG0, LAT0],
            ]
        ],
    }
    report = grids_import(
        actor=None,
        data=fc(feature("G1", square(3)), feature("BAD", bowtie)),
        district=empty_district,
    )
    (problem,) = report.problems
    assert "BAD" in problem.where and "自相交" in problem.message
    assert problem.lat == pytest.approx(LAT0 + STEP / 2)
    assert not Grid.objects.exists()


@pytest.mark.parametrize(
    "data, field, words",
    [
        ("{not json", "json", "JSON"),
        (json.dumps({"type": "Feature"}), "type", "FeatureCollection"),
        (json.dumps({"type": "FeatureCollection", "features": []}), "features", "为空"),
        (
            fc({"type": "Feature", "properties": {"code": "G1"}, "geometry": square(0)}),
            "street,community,name",
            "缺少",
        ),
        (fc(feature("G1", {"type": "Point", "coordinates": [120, 36]})), "geometry", "Polygon"),
        (fc(feature("G1", {"type": "Polygon", "coordinates": [[[1, 2]]]})), "geometry", "坐标"),
        (
            fc(
                feature(
                    "G1",
                    {"type": "Polygon", "coordinates": [[[500, 2], [501, 2], [501, 3], [500, 2]]]},
                )
            ),
            "geometry",
            "经纬度",
        ),
        (fc(feature("G1", square(0)), feature("G1", square(1))), "code", "重复"),
    ],
)
def test_bad_geojson_is_named(empty_district, data, field, words):
    report = grids_import(actor=None, data=data, district=empty_district)
    assert not report.ok
    assert report.problems[0].field == field
    assert words in report.problems[0].message
    assert not Grid.objects.exists()


def test_reimport_replaces_boundaries_and_export_round_trips(tree):
    exported = grids_export(district=tree.district)
    assert len(exported["features"]) == 4
    report = grids_import(
        actor=None, data=json.dumps(exported), district=tree.district, dry_run=False
    )
    assert report.ok and report.updated == 4 and report.created == 0


def test_import_checks_against_existing_grids(tree):
    report = grids_import(
        actor=None, data=fc(feature("NEW", square(0))), district=tree.district
    )  # lies on top of A1
    assert [p.where for p in report.problems] == ["overlap"]


def test_import_needs_permission(tree, worker_a):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        grids_import(actor=worker_a, data=fc(feature("X", square(9))), district=tree.district)


# -- buildings -----------------------------------------------------------------------------


def write_csv(path, text, encoding):
    path.write_bytes(text.encode(encoding))
    return path


def test_buildings_from_gbk_csv(tree, tmp_path):
    lat, lng = LAT0 + STEP / 2, LNG0 + 2.5 * STEP
    text = (
        "市北区楼院地址表\n"  # a title line above the header, as exports have
        "道路,门牌号,小区,楼号,名称,纬度,经度\n"
        f"伊春路,170号,紫云台小区,1,,{lat},{lng}\n"
        f"伊春路,170号,紫云台小区,2,,{lat + 0.001},{lng}\n"
        "\n"
        f"九江路,9,,,,{lat},{LNG0 + 3.5 * STEP}\n"
    )
    path = write_csv(tmp_path / "b.csv", text, "gbk")
    report = buildings_import(actor=None, path=path)
    assert report.ok and not report.committed
    assert report.total == 3
    report = buildings_import(actor=None, path=path, dry_run=False)
    assert report.committed and report.created == 3
    b = Building.objects.get(road="伊春路", number="170", building_no="2")
    assert b.grid == tree.grid_b1
    assert Building.objects.get(road="九江路", number="9").grid == tree.grid_b2
    again = buildings_import(actor=None, path=path, dry_run=False)
    assert again.created == 0 and again.unchanged == 3


def test_buildings_from_xlsx_with_grid_codes(tree, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["道路", "门牌号", "楼号", "纬度", "经度", "网格编码"])
    ws.append(["铁山路", 24, None, LAT0 + 0.004, LNG0 + 0.004, "S01C0101"])
    ws.append([None, None, None, None, None, None])
    ws.append(["铁山路", "26", "1", LAT0 + 0.005, LNG0 + 0.004, "S01C0101"])
    path = tmp_path / "b.xlsx"
    wb.save(path)
    report = buildings_import(actor=None, path=path, dry_run=False)
    assert report.committed and report.created == 2, report.problems
    assert Building.objects.get(road="铁山路", number="24").grid == tree.grid_a1


def test_building_rows_with_problems_write_nothing(tree, tmp_path):
    text = (
        "道路,门牌号,纬度,经度,网格编码\n"
        f"铁山路,30,{LAT0 + 0.005},{LNG0 + 0.005},\n"
        f"铁山路,31,abc,{LNG0},\n"
        f"铁山路,32,{LAT0 + 0.005},{LNG0 - 0.05},\n"
        f"铁山路,33,{LAT0 + 0.005},{LNG0 + 0.005},NOPE\n"
        f"长江路,1,{LAT0 + 0.005},{LNG0 + 0.005},\n"
        f"铁山路,30,{LAT0 + 0.005},{LNG0 + 0.005},\n"
        f",34,{LAT0 + 0.005},{LNG0 + 0.005},\n"
    )
    path = write_csv(tmp_path / "b.csv", text, "utf-8-sig")
    report = buildings_import(actor=None, path=path, dry_run=False)
    assert not report.committed
    got = [(p.where, p.field) for p in report.problems]
    assert got == [
        ("row 3", "纬度/经度"),
        ("row 4", "纬度/经度"),
        ("row 5", "网格编码"),
        ("row 6", "道路"),
        ("row 7", "地址"),
        ("row 8", "道路"),
    ]
    assert "最近网格 S01C0101" in report.problems[1].message
    assert not Building.objects.filter(road="铁山路", number="30").exists()


def test_missing_columns_and_bad_files(tree, tmp_path):
    path = write_csv(tmp_path / "b.csv", "道路,名称\n铁山路,x\n", "utf-8")
    report = buildings_import(actor=None, path=path)
    assert {p.field for p in report.problems} == {"门牌号", "纬度", "经度"}
    bad = tmp_path / "b.xlsx"
    bad.write_bytes(b"not a zip")
    assert "损坏" in buildings_import(actor=None, path=bad).problems[0].message
    old = tmp_path / "b.xls"
    old.write_bytes(b"x")
    assert ".xlsx" in buildings_import(actor=None, path=old).problems[0].message


def test_buildings_export(tree):
    rows = list(buildings_export_rows())
    assert rows[0][:2] == ["道路", "门牌号"]
    assert len(rows) == 1 + Building.objects.count()
