"""Matching an import row to a person already known: a person first recorded without an ID
number is found again by name, birth date and address when a later file gives the number."""

from tests.registry.conftest import make_id
from tests.registry.test_importer import write_csv
from yiwang.registry.importer import residents_import
from yiwang.registry.models import Resident

ID = make_id("19500601", "131")


def test_person_without_id_gets_the_id_from_a_later_file(tree, tmp_path):
    header = ["姓名", "出生日期", "住址"]
    first = write_csv(tmp_path / "a.csv", [["赵六", "1950-06-01", "铁山路22号"]], header=header)
    residents_import(actor=None, path=first, commit=True)
    header = ["姓名", "身份证号", "住址", "联系电话"]
    data = [
        ["赵六", ID, "铁山路22号", "13600000000"],
        ["钱七", make_id("19500601", "151"), "铁山路22号", ""],  # same birth date, not him
    ]
    report = residents_import(
        actor=None, path=write_csv(tmp_path / "b.csv", data, header=header), commit=True
    )
    assert (report.created, report.updated) == (1, 1), report.problems
    zhao = Resident.objects.get(name="赵六")
    assert zhao.id_number == ID and zhao.phones == ["13600000000"]
    assert zhao.field_sources["id_number"] == "import"
    assert Resident.objects.count() == 2


def test_person_with_an_id_is_not_taken_for_a_namesake(tree, tmp_path):
    header = ["姓名", "身份证号", "住址"]
    other = make_id("19500601", "171")
    residents_import(
        actor=None,
        path=write_csv(tmp_path / "a.csv", [["赵六", other, "铁山路22号"]], header=header),
        commit=True,
    )
    report = residents_import(
        actor=None,
        path=write_csv(tmp_path / "b.csv", [["赵六", ID, "铁山路22号"]], header=header),
        commit=True,
    )
    assert report.created == 1 and Resident.objects.count() == 2


def test_names_that_need_quoting_are_matched_too(tree, tmp_path):
    """PostgreSQL gets the batch's names as one array: as literal text when no name needs
    quoting, else through the driver. A name with a comma or a quote goes the second way."""
    header = ["姓名", "出生日期", "住址"]
    names = ["阿依古丽·买买提", 'Anna "Li", Jr', "NULL", "张,三"]
    data = [[n, "1950-06-01", "铁山路22号"] for n in names]
    path = write_csv(tmp_path / "a.csv", data, header=header)
    assert residents_import(actor=None, path=path, commit=True).created == 4
    again = residents_import(actor=None, path=path, commit=True)
    assert (again.created, again.unchanged) == (0, 4), again.problems
    assert sorted(Resident.objects.values_list("name", flat=True)) == sorted(
        n.replace(" ", "") for n in names
    )
