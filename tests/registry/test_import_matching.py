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


def test_an_import_into_an_empty_registry_still_matches_someone_added_meanwhile(tree, tmp_path):
    """Into an empty registry nobody is looked up by ID number and houses are remembered, not
    asked for; someone (or a room) added while the import runs is still matched, not
    duplicated, and the batch that meets them is written whole."""
    from yiwang.org.models import Building
    from yiwang.registry.models import House

    room = "伊春路168号紫云台小区2号楼1单元301室"
    header = ["姓名", "身份证号", "住址"]
    data = [[f"居民{i}", make_id("19500601", f"{i:03d}"), room] for i in range(1, 7)]
    path = write_csv(tmp_path / "a.csv", data, header=header)
    added = {}

    def progress(done, total):
        if done == 2 and not added:  # after the first batch: someone enters row 5 by hand
            building = Building.objects.get(id=Resident.objects.get(name="居民1").building_id)
            house = House.objects.get()
            added["person"] = Resident.objects.create(
                name="居民5", id_number=data[4][1], building=building, house=house
            )
            # and a second room of the same building, which row 6 then names
            added["house"] = House.objects.create(building=building, unit="1", room="302")

    data[5][2] = room.replace("301", "302")
    path = write_csv(tmp_path / "a.csv", data, header=header)
    report = residents_import(
        actor=None, path=path, commit=True, batch_size=2, parallel=False, progress=progress
    )
    assert (report.created, report.updated, report.bad) == (5, 1, 0), report.problems
    assert Resident.objects.count() == 6
    assert Resident.objects.get(name="居民5").id == added["person"].id
    assert Resident.objects.get(name="居民6").house_id == added["house"].id
    assert House.objects.count() == 2
    again = residents_import(actor=None, path=path, commit=True, batch_size=2)
    assert (again.created, again.unchanged) == (0, 6), again.problems
