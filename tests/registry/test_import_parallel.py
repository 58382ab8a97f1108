"""The import read and checked in a second process (as large files are) reports and writes
exactly what the one-process import does."""

from tests.registry.conftest import make_id
from tests.registry.test_importer import ID1, ID2, ID3, rows, write_csv, write_xlsx
from yiwang.registry.importer import residents_import
from yiwang.registry.models import Resident


def outcome(report):
    return (
        [(p.row, p.column, p.message) for p in report.problems],
        [(n.row, n.column, n.message) for n in report.notes],
        (report.total, report.good, report.bad, report.created, report.updated),
    )


def test_parallel_matches_serial_on_bad_rows(tree, tmp_path):
    bad_check = ID1[:17] + ("0" if ID1[17] != "0" else "1")
    data = [
        ["张三", "男", ID1, "138 0013 8000", "铁山路22号甲", "", "", "", ""],
        ["钱七", "男", bad_check, "", "铁山路22号", "", "", "", ""],
        ["张三", "男", ID1, "", "铁山路22号甲", "", "", "", ""],
        ["周九", "女", ID2, "", "火星路1号", "", "", "", ""],
        ["郑一", "女", ID3, "", "铁山路22号", "", "", "", ""],
        ["冯二", "男", make_id("19700101", "111"), "", "铁山路22号", "", "", "", "独居老人"],
        ["陈三", "女", make_id("19700202", "222"), "", "伊春路168号紫云台小区2号楼1单元302室"],
    ]
    path = write_csv(tmp_path / "bad.csv", data)
    serial = residents_import(actor=None, path=path, batch_size=2, parallel=False)
    parallel = residents_import(actor=None, path=path, batch_size=2, parallel=True)
    assert outcome(parallel) == outcome(serial)
    assert serial.bad == 4 and serial.created == 3
    committed = residents_import(actor=None, path=path, batch_size=2, parallel=True, commit=True)
    assert committed.created == 3 and committed.committed
    assert Resident.objects.count() == 3


def test_parallel_reimport_of_xlsx_is_idempotent(tree, tmp_path):
    path = write_xlsx(tmp_path / "people.xlsx", rows())
    first = residents_import(actor=None, path=path, commit=True, parallel=True, batch_size=1)
    snapshot = list(Resident.objects.order_by("id").values())
    again = residents_import(actor=None, path=path, commit=True, parallel=True, batch_size=1)
    assert (first.created, again.created, again.updated, again.unchanged) == (3, 0, 0, 3)
    assert list(Resident.objects.order_by("id").values()) == snapshot


def test_parallel_reports_an_unreadable_file_as_serial_does(tree, tmp_path):
    """The reader process opens the file itself: a file it cannot read, or one without the
    required columns, comes back as the one-process import reports it, and nothing is written."""
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a spreadsheet at all")
    headless = write_csv(tmp_path / "headless.csv", [["张三", "男"]], header=["名字", "性别"])
    for path in (fake, headless):
        serial = residents_import(actor=None, path=path, parallel=False, commit=True)
        parallel = residents_import(actor=None, path=path, parallel=True, commit=True)
        assert serial.problems and outcome(parallel) == outcome(serial)
        assert (parallel.encoding, parallel.columns) == (serial.encoding, serial.columns)
    assert Resident.objects.count() == 0
