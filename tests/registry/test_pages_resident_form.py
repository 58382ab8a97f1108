"""Resident create and edit pages: through the services, in scope, with every bad input shown
next to its field and nothing written; the edit form never shows the clear ID and is logged."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.registry.conftest import make_id
from yiwang.registry import services
from yiwang.registry.models import AccessLog, Resident

GOOD = {
    "name": "赵六",
    "id_number": make_id("19520708", "357"),
    "phones": "13600136000",
    "address": "市北区铁山路22号甲",
    "residence_type": "registered",
    "tags": ["living_alone_elderly"],
    "ethnic_group": "汉族",
}


def test_list_offers_new_resident_to_those_who_may(client, worker_a, leader, tree):
    login(client, worker_a)
    assert 'data-testid="resident-new"' in client.get("/registry/").content.decode()
    assert client.get("/registry/residents/new/").status_code == 200
    login(client, leader)
    assert 'data-testid="resident-new"' not in client.get("/registry/").content.decode()
    assert client.get("/registry/residents/new/").status_code == 403
    assert client.post("/registry/residents/new/", GOOD).status_code == 403
    assert not Resident.objects.filter(name="赵六").exists()


def test_create_through_the_page(client, worker_a, tree):
    login(client, worker_a)
    r = client.post("/registry/residents/new/", GOOD)
    person = Resident.objects.get(name="赵六")
    assert r.status_code == 302 and r["Location"] == f"/registry/residents/{person.id}/"
    assert person.grid_id == tree.grid_a1.id and person.created_by_id == worker_a.id
    assert person.id_number == GOOD["id_number"] and person.phones == ["13600136000"]
    assert str(person.birth_date) == "1952-07-08" and person.gender == "M"
    assert [t.code for t in person.tags.all()] == ["living_alone_elderly"]
    assert person.residence_type == "registered" and person.sources == ["manual"]


def _bad(check_digit_wrong: str) -> str:
    good = make_id("19520708", "357")
    return good[:17] + ("0" if good[17] != "0" else "1")


@pytest.mark.parametrize(
    "change, field, text",
    [
        ({"id_number": _bad("x")}, "id_number", "校验"),
        ({"id_number": "12345"}, "id_number", ""),
        ({"id_number": "", "birth_date": "2020-13-45"}, "birth_date", "YYYY-MM-DD"),
        ({"id_number": "", "birth_date": "yesterday"}, "birth_date", ""),
        ({"birth_date": "1960-01-01"}, "birth_date", "不一致"),
        ({"gender": "F"}, "gender", "不一致"),
        ({"gender": "Q"}, "gender", ""),
        ({"tags": ["no_such_tag"]}, "tags", "未知标签"),
        ({"name": ""}, "name", "姓名不能为空"),
        ({"name": "名" * 41}, "name", ""),
        ({"phones": "call me"}, "phones", ""),
        ({"residence_type": "alien"}, "residence_type", ""),
        ({"household_id": "abc"}, "household_id", ""),
        ({"house_id": "99999999999999999999999"}, "house_id", ""),
        ({"house_id": "424242"}, "house_id", "管辖范围"),
        ({"address": "伊春路168号紫云台小区2号楼1单元301室"}, "address", "管辖范围之外"),
    ],
)
def test_create_bad_input_names_the_field_and_writes_nothing(
    client, worker_a, tree, change, field, text
):
    login(client, worker_a)
    n = Resident.objects.count()
    r = client.post("/registry/residents/new/", {**GOOD, **change})
    html = r.content.decode()
    assert r.status_code == 400
    assert f'data-field="{field}"' in html
    assert text in html
    assert Resident.objects.count() == n
    assert 'value="赵六"' in html or field == "name"  # what was typed is kept


def test_duplicate_id_number_is_a_field_error(client, worker_a, person_a):
    login(client, worker_a)
    n = Resident.objects.count()
    r = client.post(
        "/registry/residents/new/", {**GOOD, "name": "张三二", "id_number": person_a.id_number}
    )
    assert r.status_code == 400 and "该身份证号已登记" in r.content.decode()
    assert Resident.objects.count() == n


def test_household_of_another_grid_is_refused(client, worker_a, person_b):
    household_b = services.household_create(actor=None, number="B-1", head=person_b)
    login(client, worker_a)
    r = client.post("/registry/residents/new/", {**GOOD, "household_id": str(household_b.id)})
    assert r.status_code == 400 and 'data-field="household_id"' in r.content.decode()
    assert not Resident.objects.filter(name="赵六").exists()


# -- edit -----------------------------------------------------------------------------------


def test_card_has_edit_for_those_who_may(client, worker_a, leader, person_a):
    login(client, worker_a)
    html = client.get(f"/registry/residents/{person_a.id}/").content.decode()
    assert f"/registry/residents/{person_a.id}/edit/" in html
    login(client, leader)
    html = client.get(f"/registry/residents/{person_a.id}/").content.decode()
    assert f"/registry/residents/{person_a.id}/edit/" not in html
    before = AccessLog.objects.count()
    assert client.get(f"/registry/residents/{person_a.id}/edit/").status_code == 403
    assert AccessLog.objects.count() == before  # refused before anything was shown
    r = client.post(f"/registry/residents/{person_a.id}/edit/", {"name": "改"})
    assert r.status_code == 403
    person_a.refresh_from_db()
    assert person_a.name == "张三"


def test_edit_form_is_masked_and_logged(client, worker_a, person_a):
    login(client, worker_a)
    before = AccessLog.objects.count()
    r = client.get(f"/registry/residents/{person_a.id}/edit/")
    html = r.content.decode()
    assert r.status_code == 200 and 'value="张三"' in html
    assert person_a.id_number not in html and "13800138000" not in html
    assert "138****8000" in html  # as the placeholder
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.latest("id")
    assert (row.action, row.object_type, row.object_id, row.channel) == (
        "view",
        "resident",
        person_a.id,
        "web",
    )


def _form_of(person) -> dict:
    return {
        "name": person.name,
        "id_number": "",
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "phones": "",
        "address": person.address,
        "residence_type": person.residence_type,
        "hukou_address": person.hukou_address,
        "ethnic_group": person.ethnic_group,
        "tags": [t.code for t in person.tags.all()],
        "workplace": person.workplace,
        "relation_to_head": person.relation_to_head,
        "notes": person.notes,
    }


def test_edit_through_the_page(client, worker_a, person_a):
    login(client, worker_a)
    data = {**_form_of(person_a), "name": "张三丰", "tags": ["living_alone_elderly", "disabled"]}
    data["is_party_member"] = "on"
    r = client.post(f"/registry/residents/{person_a.id}/edit/", data)
    assert r.status_code == 302 and r["Location"] == f"/registry/residents/{person_a.id}/"
    person_a.refresh_from_db()
    assert person_a.name == "张三丰" and person_a.is_party_member
    assert person_a.id_number == make_id("19450312", "131")  # blank kept it
    assert person_a.phones == ["13800138000"]
    assert sorted(t.code for t in person_a.tags.all()) == ["disabled", "living_alone_elderly"]
    assert person_a.field_sources["name"] == "manual"


def test_edit_keeps_a_retired_tag(client, worker_a, person_a):
    from yiwang.registry.models import Tag

    Tag.objects.filter(code="living_alone_elderly").update(is_active=False)
    login(client, worker_a)
    html = client.get(f"/registry/residents/{person_a.id}/edit/").content.decode()
    assert 'value="living_alone_elderly"' in html
    data = {**_form_of(person_a), "notes": "复核"}
    assert client.post(f"/registry/residents/{person_a.id}/edit/", data).status_code == 302
    person_a.refresh_from_db()
    assert person_a.notes == "复核"
    assert [t.code for t in person_a.tags.all()] == ["living_alone_elderly"]


def test_edit_new_phone_and_id(client, worker_a, person_a):
    login(client, worker_a)
    new_id = make_id("19450312", "151")
    data = {**_form_of(person_a), "phones": "13700137000、0532-82828282", "id_number": new_id}
    r = client.post(f"/registry/residents/{person_a.id}/edit/", data)
    assert r.status_code == 302
    person_a.refresh_from_db()
    assert person_a.phones == ["13700137000", "0532-82828282"] and person_a.id_number == new_id


@pytest.mark.parametrize(
    "change, field",
    [
        ({"id_number": "370203194503121310"}, "id_number"),
        ({"birth_date": "1945-02-30"}, "birth_date"),
        ({"tags": ["nope"]}, "tags"),
        ({"name": "  "}, "name"),
        ({"address": "伊春路168号紫云台小区2号楼"}, "address"),
    ],
)
def test_edit_bad_input_changes_nothing(client, worker_a, person_a, change, field):
    login(client, worker_a)
    data = {**_form_of(person_a), "notes": "改过", **change}
    r = client.post(f"/registry/residents/{person_a.id}/edit/", data)
    assert r.status_code == 400 and f'data-field="{field}"' in r.content.decode()
    person_a.refresh_from_db()
    assert person_a.notes == "" and person_a.name == "张三" and person_a.grid_id is not None


def test_edit_out_of_scope_is_404(client, worker_a, person_b):
    login(client, worker_a)
    assert client.get(f"/registry/residents/{person_b.id}/edit/").status_code == 404
    r = client.post(f"/registry/residents/{person_b.id}/edit/", {"name": "改"})
    assert r.status_code == 404
    person_b.refresh_from_db()
    assert person_b.name == "李四"


def test_edit_puts_person_in_household(client, worker_a, person_a):
    household = services.household_create(actor=worker_a, number="A-5", address="铁山路22号甲")
    login(client, worker_a)
    data = {**_form_of(person_a), "household_id": str(household.id), "relation_to_head": "户主"}
    assert client.post(f"/registry/residents/{person_a.id}/edit/", data).status_code == 302
    person_a.refresh_from_db()
    assert person_a.household_id == household.id


# -- archive --------------------------------------------------------------------------------


def test_archive_asks_then_archives(client, worker_a, person_a):
    login(client, worker_a)
    html = client.get(f"/registry/residents/{person_a.id}/archive/").content.decode()
    assert "确认归档" in html
    person_a.refresh_from_db()
    assert person_a.archived_at is None
    r = client.post(f"/registry/residents/{person_a.id}/archive/")
    assert r.status_code == 302
    person_a.refresh_from_db()
    assert person_a.archived_at is not None
    assert "张三" not in client.get("/registry/").content.decode()


def test_archive_out_of_scope_or_without_permission(client, worker_a, leader, person_a, person_b):
    login(client, worker_a)
    assert client.get(f"/registry/residents/{person_b.id}/archive/").status_code == 404
    assert client.post(f"/registry/residents/{person_b.id}/archive/").status_code == 404
    login(client, leader)
    assert client.get(f"/registry/residents/{person_a.id}/archive/").status_code == 403
    assert client.post(f"/registry/residents/{person_a.id}/archive/").status_code == 403
    person_a.refresh_from_db()
    person_b.refresh_from_db()
    assert person_a.archived_at is None and person_b.archived_at is None
