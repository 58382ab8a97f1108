"""Resident import: encodings, xlsx quirks, idempotent re-import, and a row-level report for
each kind of bad input."""

import csv
import os

import pytest
from openpyxl import Workbook

from tests.registry.conftest import make_id
from yiwang.registry.importer import residents_import
from yiwang.registry.models import AccessLog, House, Household, ImportSource, Resident

HEADER = ["姓名", "性别", "身份证号", "联系电话", "住址", "户籍地", "民族", "政治面貌", "特殊人群"]
ID1 = make_id("19450312", "131")
ID2 = make_id("19900520", "242")
ID3 = make_id("20100101", "353")


def rows():
    return [
        [
            "张三",
            "男",
            ID1,
            "13800138000",
            "铁山路22号甲",
            "山东青岛",
            "汉族",
            "党员",
            "独居老人、高龄",
        ],
        [
            "李四",
            "女",
            ID2,
            "13900139000",
            "伊春路168号紫云台小区2号楼1单元301室",
            "",
            "汉族",
            "群众",
            "",
        ],
        [
            "王小五",
            "男",
            ID3,
            "",
            "伊春路168号紫云台小区2号楼1单元301室",
            "",
            "回族",
            "",
            "留守儿童",
        ],
    ]


def write_csv(path, data, encoding="utf-8", header=HEADER, preamble=()):
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        for line in preamble:
            w.writerow(line)
        w.writerow(header)
        w.writerows(data)
    return path


def write_xlsx(path, data, header=HEADER, preamble=()):
    wb = Workbook()
    ws = wb.active
    for line in preamble:
        ws.append(line)
    ws.append(header)
    for row in data:
        ws.append(row)
    wb.save(path)
    return path


def problems(report):
    return [(p.row, p.column, p.message) for p in report.problems]


def test_gbk_csv_imports(tree, tmp_path):
    path = write_csv(tmp_path / "people.csv", rows(), encoding="gbk")
    report = residents_import(actor=None, path=path, commit=True)
    assert report.ok, problems(report)
    assert report.encoding == "gb18030"
    assert (report.total, report.created, report.updated) == (3, 3, 0)
    zhang = Resident.objects.get(id_number=ID1)
    assert zhang.name == "张三" and zhang.gender == "M" and str(zhang.birth_date) == "1945-03-12"
    assert zhang.grid.code == "S01C0101" and zhang.is_party_member
    assert sorted(t.name for t in zhang.tags.all()) == ["独居老人", "高龄"]
    assert zhang.sources == ["import"] and zhang.field_sources["name"] == "import"
    li = Resident.objects.get(id_number=ID2)
    assert li.grid.code == "S02C0101" and li.house.room == "301" and li.house.unit == "1"
    assert Resident.objects.get(id_number=ID3).house_id == li.house_id
    assert House.objects.count() == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tree, tmp_path, encoding):
    path = write_csv(tmp_path / "people.csv", rows(), encoding=encoding)
    report = residents_import(actor=None, path=path, commit=True)
    assert report.ok and report.created == 3, problems(report)


def test_xlsx_with_chinese_headers_and_title_rows(tree, tmp_path):
    path = write_xlsx(tmp_path / "people.xlsx", rows(), preamble=[["小港社区居民台账"], []])
    report = residents_import(actor=None, path=path, commit=True)
    assert report.ok, problems(report)
    assert report.header_row == 3 and report.created == 3
    assert Resident.objects.count() == 3


def test_dry_run_is_default_and_writes_nothing(tree, tmp_path):
    path = write_csv(tmp_path / "people.csv", rows())
    report = residents_import(actor=None, path=path)
    assert report.ok and not report.committed and report.created == 3
    assert not Resident.objects.exists()


def test_importing_the_same_file_twice_changes_nothing(tree, tmp_path):
    path = write_xlsx(tmp_path / "people.xlsx", rows())
    residents_import(actor=None, path=path, commit=True)
    snapshot = list(Resident.objects.order_by("id").values())
    houses = House.objects.count()
    report = residents_import(actor=None, path=path, commit=True)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert list(Resident.objects.order_by("id").values()) == snapshot
    assert House.objects.count() == houses


def test_reimport_updates_and_remembers_the_source(tree, tmp_path):
    residents_import(actor=None, path=write_csv(tmp_path / "a.csv", rows()), commit=True)
    changed = rows()
    changed[0][3] = "+86 137 0000 0000"
    changed[0][5] = "山东青岛市北"
    report = residents_import(
        actor=None, path=write_csv(tmp_path / "b.csv", changed), source="minzheng", commit=True
    )
    assert (report.created, report.updated, report.unchanged) == (0, 3, 0)
    assert any("已规范为 13700000000" in p.message for p in report.notes)
    zhang = Resident.objects.get(id_number=ID1)
    assert zhang.phones == ["13800138000", "13700000000"]
    assert zhang.hukou_address == "山东青岛市北"
    assert zhang.field_sources["hukou_address"] == "minzheng"
    assert zhang.field_sources["name"] == "import"
    assert zhang.sources == ["import", "minzheng"]
    assert Resident.objects.count() == 3


def test_match_without_id_by_name_birth_and_address(tree, tmp_path):
    header = ["姓名", "出生日期", "住址", "联系电话"]
    data = [["赵六", "1950-06-01", "铁山路22号", "13600000000"]]
    residents_import(
        actor=None, path=write_csv(tmp_path / "a.csv", data, header=header), commit=True
    )
    data[0][3] = "13600000001"
    report = residents_import(
        actor=None, path=write_csv(tmp_path / "b.csv", data, header=header), commit=True
    )
    assert (report.created, report.updated) == (0, 1)
    assert Resident.objects.get().phones == ["13600000000", "13600000001"]


def test_households_by_number(tree, tmp_path):
    header = ["姓名", "身份证号", "住址", "户号", "与户主关系"]
    data = [
        ["李四", ID2, "伊春路168号紫云台小区2号楼1单元301室", "H001", "户主"],
        ["王小五", ID3, "伊春路168号紫云台小区2号楼1单元301室", "H001", "子"],
    ]
    report = residents_import(
        actor=None, path=write_csv(tmp_path / "h.csv", data, header=header), commit=True
    )
    assert report.ok, problems(report)
    household = Household.objects.get(number="H001")
    assert household.head.id_number == ID2
    assert sorted(household.members.values_list("relation_to_head", flat=True)) == ["子", "户主"]
    assert household.house.room == "301"


def test_mapping_saved_per_source(tree, tmp_path):
    header = ["人员姓名", "证件号", "家庭住址"]
    data = [["张三", ID1, "铁山路22号甲"]]
    path = write_csv(tmp_path / "m.csv", data, header=header)
    mapping = {"人员姓名": "name", "证件号": "id_number", "家庭住址": "address"}
    report = residents_import(actor=None, path=path, source="wjw", mapping=mapping, commit=True)
    assert report.ok and report.created == 1, problems(report)
    assert ImportSource.objects.get(name="wjw").column_map == mapping
    report = residents_import(actor=None, path=path, source="wjw", commit=True)
    assert report.unchanged == 1


def test_import_writes_one_access_log_row(tree, tmp_path, street_staff):
    before = AccessLog.objects.count()
    residents_import(
        actor=street_staff, path=write_csv(tmp_path / "a.csv", rows()[:1]), commit=True
    )
    assert AccessLog.objects.count() == before + 1
    assert AccessLog.objects.latest("id").action == "import"


# -- bad input -----------------------------------------------------------------------------


def test_bad_rows_are_reported_and_good_rows_applied(tree, tmp_path):
    bad_check = ID1[:17] + ("0" if ID1[17] != "0" else "1")
    body = "37020319990231123"
    from yiwang.registry.idcard import id_check_digit

    impossible = body + id_check_digit(body)
    data = [
        [
            "张三",
            "男",
            ID1,
            "138 0013 8000",
            "铁山路22号甲",
            "",
            "",
            "",
            "",
        ],  # row 2: good, normalised
        ["钱七", "男", bad_check, "", "铁山路22号", "", "", "", ""],  # row 3
        ["孙八", "男", impossible, "", "铁山路22号", "", "", "", ""],  # row 4
        ["张三", "男", ID1, "", "铁山路22号甲", "", "", "", ""],  # row 5: duplicate of row 2
        ["周九", "女", ID2, "", "火星路1号", "", "", "", ""],  # row 6: unknown address
        ["吴十", "男", ID3, "12345", "铁山路22号", "", "", "", ""],  # row 7: bad phone
        ["郑一", "女", ID3, "", "铁山路22号", "", "", "", ""],  # row 8: ID says male
        ["", "", "", "", "", "", "", "", ""],  # blank line: skipped silently
        ["冯二", "男", make_id("19700101", "111"), "", "铁山路22号", "", "", "", "不存在的标签"],
    ]
    path = write_csv(tmp_path / "bad.csv", data)
    report = residents_import(actor=None, path=path, commit=True)
    got = problems(report)
    assert (3, "身份证号", f"身份证号校验位错误 (应为 {ID1[17]})") in got
    assert (4, "身份证号", "身份证号中的出生日期 19990231 不存在") in got
    assert (5, "身份证号", "与第 2 行身份证号相同,同一人只导入一次") in got
    assert any(r == 6 and c == "住址" and "火星路" in m for r, c, m in got)
    assert any(r == 7 and c == "联系电话" for r, c, m in got)
    assert (8, "性别", "性别与身份证号不一致") in got
    assert any(r == 10 and c == "特殊人群" and "不存在的标签" in m for r, c, m in got)
    assert (report.total, report.good, report.bad) == (8, 1, 7)
    assert any(n.row == 2 and "13800138000" in n.message for n in report.notes)
    assert list(Resident.objects.values_list("name", flat=True)) == ["张三"]
    assert Resident.objects.get().phones == ["13800138000"]


def test_birth_date_and_gender_cross_checked(tree, tmp_path):
    header = ["姓名", "性别", "出生日期", "身份证号", "住址"]
    data = [
        ["张三", "女", "1945-03-12", ID1, "铁山路22号甲"],
        ["李四", "女", "1990-05-21", ID2, "铁山路22号"],
        ["王五", "男", "1990-02-30", "", "铁山路22号"],
    ]
    report = residents_import(actor=None, path=write_csv(tmp_path / "x.csv", data, header=header))
    got = problems(report)
    assert (2, "性别", "性别与身份证号不一致") in got
    assert (3, "出生日期", "出生日期 1990-05-21 与身份证号不一致") in got
    assert (4, "出生日期", "出生日期 1990-02-30 不存在") in got


def test_legacy_15_digit_number_is_upgraded_and_said(tree, tmp_path):
    header = ["姓名", "身份证号", "住址"]
    data = [["张三", "370203800101123", "铁山路22号"]]
    report = residents_import(
        actor=None, path=write_csv(tmp_path / "x.csv", data, header=header), commit=True
    )
    assert report.ok
    assert Resident.objects.get().id_number == make_id("19800101", "123")
    assert "15 位旧号已升级" in report.notes[0].message


def test_utf16_is_detected_and_said(tree, tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(rows()[0]) + "\n", encoding="utf-16")
    report = residents_import(actor=None, path=path)
    assert report.ok and report.created == 1
    assert any("utf_16" in n for n in report.file_notes)


def test_wrong_encoding_is_reported(tree, tmp_path):
    # A UTF-8 header over GBK rows: no one encoding reads it, and the header comes out garbled.
    path = tmp_path / "mixed.csv"
    with open(path, "wb") as f:
        f.write((",".join(HEADER) + "\n").encode("utf-8"))
        f.write((",".join(rows()[0]) + "\n").encode("gbk"))
        f.write(b"end\n")
    report = residents_import(actor=None, path=path)
    assert not report.ok and report.total == 0
    assert report.problems[0].column in ("表头", "文件")
    assert "编码" in report.problems[0].message


def test_header_not_on_line_one(tree, tmp_path):
    path = write_csv(
        tmp_path / "p.csv", rows(), preamble=[["市北区居民台账"], ["制表日期", "2026-11-30"], []]
    )
    report = residents_import(actor=None, path=path)
    assert report.ok and report.header_row == 4 and report.created == 3


def test_too_large_file(tree, tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.truncate(201 * 1024 * 1024)  # sparse: no disk used
    report = residents_import(actor=None, path=path)
    assert report.problems[0].column == "文件" and "文件过大" in report.problems[0].message
    os.unlink(path)


@pytest.mark.parametrize("parallel", [False, True])
def test_xlsx_merged_cells_blank_lines_and_formulas(tree, tmp_path, monkeypatch, parallel):
    # In the reader process (parallel), a forked process searches the sheet for formulas while
    # calamine loads it: here even for this small file.
    monkeypatch.setattr("yiwang.common.tables.ASIDE_FROM_BYTES", 0)
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "住址", "联系电话"])
    ws.append(["李四", ID2, "伊春路168号紫云台小区2号楼1单元301室", "13900139000"])
    ws.append(["王小五", ID3, None, "13900139001"])  # address merged down from row 2
    ws.append([None, None, None, None])  # blank line
    ws.append(["张三", ID1, "铁山路22号甲", '=A2&"x"'])  # formula, no cached value
    ws.merge_cells("C2:C3")
    wb.save(tmp_path / "m.xlsx")
    report = residents_import(actor=None, path=tmp_path / "m.xlsx", commit=True, parallel=parallel)
    assert problems(report) == [
        (5, "联系电话", "公式单元格没有计算结果,请在 Excel 中打开并保存,或复制后“粘贴为数值”再导入")
    ]
    assert "合并单元格" in report.file_notes[0]
    wang = Resident.objects.get(id_number=ID3)
    assert wang.address == "伊春路168号紫云台小区2号楼1单元301室" and wang.grid.code == "S02C0101"
    assert report.total == 3 and report.created == 2


def test_scoped_importer_cannot_touch_other_grids(tree, tmp_path, worker_a, person_b):
    report = residents_import(
        actor=worker_a, path=write_csv(tmp_path / "a.csv", rows()), commit=True
    )
    got = problems(report)
    assert any(r == 3 and c == "住址" and "管辖范围" in m for r, c, m in got)
    assert Resident.objects.get(id=person_b.id).name == "李四"
    # A row in their own grid naming grid B's person by ID number is refused, not applied.
    data = [["冒名", "女", ID2, "", "铁山路22号甲", "", "", "", ""]]
    report = residents_import(actor=worker_a, path=write_csv(tmp_path / "b.csv", data), commit=True)
    assert "管辖范围之外" in report.problems[0].message
    assert Resident.objects.get(id=person_b.id).name == "李四"


def test_import_needs_permission(tree, tmp_path, leader):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        residents_import(actor=leader, path=write_csv(tmp_path / "a.csv", rows()))


def test_import_through_the_api(client, tree, tmp_path, street_staff):
    from tests.conftest import login

    login(client, street_staff)
    path = write_csv(tmp_path / "a.csv", rows()[:1], encoding="gbk")
    with open(path, "rb") as f:
        r = client.post("/api/v1/registry/residents/import", {"file": f, "commit": "true"})
    assert r.status_code == 200, r.content
    assert r.json()["created"] == 1 and r.json()["committed"]
