"""A bulk import queues every person it writes for the index, even with the insert triggers
set aside for its batches (SQLite always, PostgreSQL in a bulk load), and leaves the triggers
as they were."""

import pytest
from django.db import connection, transaction

from tests.registry.conftest import make_id
from tests.registry.test_importer import write_csv
from yiwang.registry.importer import residents_import
from yiwang.registry.models import Resident, Tag
from yiwang.search.bulk import insert_triggers_off
from yiwang.search.index import flush
from yiwang.search.models import SearchQueue


def queued(kind="r") -> set[int]:
    return set(SearchQueue.objects.filter(kind=kind).values_list("ref_id", flat=True))


def triggers() -> list[tuple]:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":  # each one's text, and whether it is on
            cur.execute(
                "SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE NOT tgisinternal ORDER BY tgname"
            )
        else:
            cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        return cur.fetchall()


def rows(n: int):
    return [
        [f"测试{i}", "", make_id(f"1960{i % 12 + 1:02d}{i % 28 + 1:02d}", f"{i:03d}"), "",
         "铁山路22号", "", "", "", "独居老人" if i % 3 == 0 else ""]
        for i in range(n)
    ]  # fmt: skip


@pytest.mark.parametrize(("parallel", "bulk"), [(False, False), (True, False), (False, True)])
def test_every_imported_person_is_queued_and_found(tree, tmp_path, parallel, bulk):
    before = triggers()
    assert before
    path = write_csv(tmp_path / "people.csv", rows(7))
    report = residents_import(
        actor=None, path=path, commit=True, batch_size=3, parallel=parallel, bulk=bulk
    )
    assert report.created == 7 and not report.problems
    ids = set(Resident.objects.values_list("id", flat=True))
    assert queued() >= ids
    assert triggers() == before
    flush()
    assert not queued()  # the index took every one of them
    assert Resident.objects.get(name="测试3").tags.get() == Tag.objects.get(name="独居老人")


def test_the_triggers_queue_other_writes_after_an_import(tree, tmp_path):
    residents_import(actor=None, path=write_csv(tmp_path / "a.csv", rows(2)), commit=True)
    SearchQueue.objects.all().delete()
    person = Resident.objects.create(name="后来者", address="铁山路22号")
    person.tags.add(Tag.objects.get(name="高龄"))
    assert queued() == {person.id}
    assert SearchQueue.objects.count() == 2  # the person and their tag link


@pytest.mark.parametrize("postgres", [False, True])
def test_an_error_inside_leaves_the_triggers_whole(tree, postgres):
    before = triggers()
    tables = ["registry_resident", "registry_resident_tags"]
    with pytest.raises(ValueError), transaction.atomic():
        with insert_triggers_off(tables, postgres=postgres) as off:
            assert off == (connection.vendor == "sqlite" or postgres)
            if connection.vendor == "postgresql" and postgres:
                assert triggers() != before  # off, for now
            Resident.objects.create(name="不留")
            raise ValueError("stop")
    assert triggers() == before
    person = Resident.objects.create(name="留下")
    assert person.id in queued()
