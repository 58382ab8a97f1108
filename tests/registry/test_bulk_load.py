"""A bulk load (a district's first import) writes residents with their secondary indexes set
aside and builds the same indexes afterwards; uniqueness and matching hold throughout."""

import pytest
from django.db import IntegrityError, connection

from tests.registry.conftest import make_id
from tests.registry.test_importer import write_csv
from yiwang.registry.bulk import upkeep_deferred, upkeep_ensure
from yiwang.registry.importer import residents_import
from yiwang.registry.models import Resident
from yiwang.registry.services import resident_create

SECONDARY = {"resident_name_birth", "resident_birth"}


def indexes(table: str = "registry_resident") -> dict[str, str]:
    """A table's indexes (and on PostgreSQL its foreign keys) as the database holds them:
    name → definition."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s UNION ALL "
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [table, table],
            )
        else:
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
                [table],
            )
        return dict(cur.fetchall())


TABLES = ["registry_resident", "registry_house", "registry_resident_tags"]


def rows(n: int, start: int = 0):
    return [
        [f"批量{i}", "", make_id(f"1970{i % 12 + 1:02d}{i % 28 + 1:02d}", f"{i % 1000:03d}"),
         "", "铁山路22号", "", "", "", "高龄" if i % 4 == 0 else ""]
        for i in range(start, start + n)
    ]  # fmt: skip


def test_a_bulk_load_builds_the_same_indexes_and_imports_the_same(tree, tmp_path):
    before = indexes()
    assert SECONDARY <= set(before)
    others = {t: indexes(t) for t in TABLES}
    assert all(others.values())
    during = []

    def progress(done, total):
        if 0 < done < total:
            during.append(set(indexes()))
            assert not any("_fk_" in n for t in TABLES for n in indexes(t))  # PostgreSQL's
            assert "house_room_unique" in indexes("registry_house")

    path = write_csv(tmp_path / "first.csv", rows(9))
    report = residents_import(
        actor=None, path=path, commit=True, batch_size=4, bulk=True, progress=progress
    )
    assert report.created == 9 and not report.problems
    assert during, "the progress callback saw the load under way"
    for names in during:
        assert not (SECONDARY & names)  # set aside
        assert "resident_id_number_unique" in names  # never: it keeps people unique
        assert "resident_no_id_name_birth" in names  # the importer's lookup needs it
        assert not any("_fk_" in n for n in names)  # PostgreSQL's: checked once at the end
    assert indexes() == before
    assert {t: indexes(t) for t in TABLES} == others
    # The same file again, bulk or not: matched by ID number, nothing new.
    again = residents_import(actor=None, path=path, commit=True, batch_size=4, bulk=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 9)
    assert Resident.objects.count() == 9
    assert indexes() == before


def test_a_row_without_an_id_number_brings_the_indexes_back_first(tree, tmp_path):
    known = resident_create(
        actor=None, name="无证者", birth_date="1955-05-05", address="铁山路22号"
    )
    before = indexes()
    seen = []
    header = ["姓名", "性别", "身份证号", "联系电话", "住址", "户籍地", "民族", "政治面貌",
              "特殊人群", "出生日期"]  # fmt: skip
    data = [[*r, ""] for r in rows(3)] + [
        ["无证者", "", "", "13900000000", "铁山路22号", "", "", "", "", "1955-05-05"]
    ]
    path = write_csv(tmp_path / "mixed.csv", data, header=header)
    report = residents_import(
        actor=None,
        path=path,
        commit=True,
        batch_size=3,
        bulk=True,
        progress=lambda done, total: seen.append((done, set(indexes()))),
    )
    assert (report.created, report.updated) == (3, 1) and not report.problems
    first_batch = next(names for done, names in seen if done == 3)
    assert not (SECONDARY & first_batch)
    second_batch = next(names for done, names in seen if done == 4)
    assert SECONDARY <= second_batch  # built before the name and birth date were looked up
    known.refresh_from_db()
    assert known.phones == ["13900000000"]
    assert Resident.objects.filter(name="无证者").count() == 1
    assert indexes() == before


def test_an_error_inside_builds_the_indexes_again(tree):
    before = indexes()
    with pytest.raises(ValueError), upkeep_deferred(Resident) as make:
        assert not (SECONDARY & set(indexes()))
        assert callable(make)
        raise ValueError("stop")
    assert indexes() == before


def test_indexes_left_missing_by_a_killed_load_are_built_by_the_next_import(tree, tmp_path):
    before = indexes()
    with connection.cursor() as cur:  # what a process killed inside a bulk load leaves
        cur.execute('DROP INDEX "resident_birth"')
        cur.execute('DROP INDEX "resident_name_birth"')
    assert upkeep_ensure(Resident) == ["resident_birth", "resident_name_birth"]
    assert indexes() == before
    with connection.cursor() as cur:
        cur.execute('DROP INDEX "resident_birth"')
        if connection.vendor == "postgresql":
            fk = "registry_resident_grid_id_b19a263d_fk_org_grid_id"
            cur.execute(f'ALTER TABLE registry_resident DROP CONSTRAINT "{fk}"')
    path = write_csv(tmp_path / "small.csv", rows(2))
    report = residents_import(actor=None, path=path, commit=True, bulk=False)
    assert report.created == 2
    assert indexes() == before


def foreign_keys_checked() -> bool:
    if connection.vendor != "sqlite":
        return True  # PostgreSQL's are constraints, listed by indexes()
    with connection.cursor() as cur:
        cur.execute("PRAGMA foreign_keys")
        return bool(cur.fetchone()[0])


def test_outside_a_transaction_a_broken_reference_is_caught_at_the_end(
    transactional_db, tree, tmp_path
):
    """Committed batch by batch, as a real import is: the keys are not checked row by row
    during the load, and a row that came to point at nothing is named at the end."""
    before = {t: indexes(t) for t in TABLES}
    checked = []

    def progress(done, total):
        if 0 < done < total:
            checked.append(foreign_keys_checked())
            if len(checked) == 1:  # what no code path of ours does: raw SQL breaks a row
                with connection.cursor() as cur:
                    cur.execute(
                        "UPDATE registry_resident SET grid_id = 999999 "
                        "WHERE id = (SELECT MIN(id) FROM registry_resident)"
                    )

    path = write_csv(tmp_path / "broken.csv", rows(9))
    with pytest.raises(IntegrityError):
        residents_import(
            actor=None, path=path, commit=True, batch_size=4, bulk=True, progress=progress
        )
    assert checked and (connection.vendor != "sqlite" or not any(checked))
    assert foreign_keys_checked()
    # Every index and key is back (PostgreSQL's broken one as not yet valid, still binding
    # new rows); the other rows are in.
    for t in TABLES:
        assert set(indexes(t)) == set(before[t]), t
    assert Resident.objects.count() == 9
    # Mended, the key is valid again: the schema is as the other tests expect it.
    with connection.cursor() as cur:
        cur.execute("UPDATE registry_resident SET grid_id = NULL WHERE grid_id = 999999")
        if connection.vendor == "postgresql":
            fk = "registry_resident_grid_id_b19a263d_fk_org_grid_id"
            cur.execute(f'ALTER TABLE registry_resident VALIDATE CONSTRAINT "{fk}"')
    assert {t: indexes(t) for t in TABLES} == before


def test_outside_a_transaction_a_clean_load_ends_with_every_key_checked(
    transactional_db, tree, tmp_path
):
    before = {t: indexes(t) for t in TABLES}
    path = write_csv(tmp_path / "clean.csv", rows(9))
    report = residents_import(actor=None, path=path, commit=True, batch_size=4, bulk=True)
    assert report.created == 9
    assert foreign_keys_checked()
    assert {t: indexes(t) for t in TABLES} == before
