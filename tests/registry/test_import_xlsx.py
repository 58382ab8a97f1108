"""xlsx as staff make them: a table that does not start in A1, date cells, numbers typed as
numbers, inline strings (written by streaming writers), and files that are not xlsx at all."""

import datetime as dt

from openpyxl import Workbook

from tests.registry.conftest import make_id
from yiwang.registry.importer import residents_import
from yiwang.registry.models import Resident

ID1 = make_id("19450312", "131")
ID2 = make_id("19900520", "242")


def problems(report):
    return [(p.row, p.column, p.message) for p in report.problems]


def test_table_away_from_a1_keeps_row_numbers_and_columns(tree, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["B2"] = "小港社区居民台账"
    for col, value in zip("BCDE", ["姓名", "出生日期", "身份证号", "住址"], strict=True):
        ws[f"{col}4"] = value
    ws["B5"], ws["C5"], ws["D5"], ws["E5"] = "张三", dt.date(1945, 3, 12), ID1, "铁山路22号甲"
    ws["B7"], ws["C7"], ws["D7"], ws["E7"] = "李四", dt.date(1990, 5, 21), ID2, "铁山路22号"
    wb.save(tmp_path / "a.xlsx")
    report = residents_import(actor=None, path=tmp_path / "a.xlsx", commit=True)
    assert report.header_row == 4
    # Row 7 is row 7 of the sheet, and the date cell reads as a date.
    assert problems(report) == [(7, "出生日期", "出生日期 1990-05-21 与身份证号不一致")]
    zhang = Resident.objects.get()
    assert zhang.id_number == ID1 and zhang.birth_date == dt.date(1945, 3, 12)
    assert report.total == 2 and report.created == 1


def test_numbers_and_inline_strings(tree, tmp_path):
    wb = Workbook(write_only=True)  # writes inline strings, no shared-string table
    ws = wb.create_sheet("居民")
    ws.append(["姓名", "身份证号", "联系电话", "住址"])
    ws.append(["张三", ID1, 13800138000, "铁山路22号甲"])  # the phone typed as a number
    wb.save(tmp_path / "b.xlsx")
    report = residents_import(actor=None, path=tmp_path / "b.xlsx", commit=True)
    assert report.ok, problems(report)
    assert Resident.objects.get().phones == ["13800138000"]


def test_not_an_xlsx(tree, tmp_path):
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    report = residents_import(actor=None, path=path)
    assert problems(report) == [(0, "文件", "xlsx 文件已损坏或不是 Excel 文件")]
