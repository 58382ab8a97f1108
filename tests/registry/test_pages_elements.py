"""Pages for households, houses, places and organisations: each page answers in scope and is
404 out of scope, writes go through the services (403 without the permission), bad input shows
the named field's error and writes nothing, and reads of people are logged."""

from __future__ import annotations

import pytest

from tests.conftest import login
from yiwang.org.models import Building
from yiwang.registry import services
from yiwang.registry.models import AccessLog, House, Household, Organization, Place, Resident

CREDIT_CODE = "91370203MA3C5XXX2L"  # a made-up code; its check character is computed below


def _credit_code() -> str:
    from yiwang.registry.idcard import credit_check_char

    body = CREDIT_CODE[:17]
    return body + credit_check_char(body)


def _building(road, number, building_no=""):
    return Building.objects.get(road=road, number=number, building_no=building_no)


@pytest.fixture
def elements(tree, person_a, person_b):
    """One of each kind in grid A1 and in grid B1; 张三 lives in house A and heads household A."""
    bld_a = _building("铁山路", "22甲")
    bld_b = _building("伊春路", "168", "2")
    house_a = services.house_create(actor=None, building_id=bld_a.id, unit="1", room="101")
    house_b = services.house_create(actor=None, building_id=bld_b.id, unit="1", room="301")
    household_a = services.household_create(
        actor=None, number="A-001", building_id=bld_a.id, house_id=house_a.id, head=person_a
    )
    household_b = services.household_create(
        actor=None, number="B-001", building_id=bld_b.id, house_id=house_b.id, head=person_b
    )
    services.resident_update(actor=None, resident=person_a, house_id=house_a.id)
    place_a = services.place_create(
        actor=None,
        kind="shop",
        name="小港便利店",
        building_id=bld_a.id,
        contact_phone="13700137000",
    )
    place_b = services.place_create(
        actor=None, kind="farmers_market", name="紫云台菜市场", building_id=bld_b.id
    )
    org_a = services.organization_create(
        actor=None, kind="property_company", name="小港物业", building_id=bld_a.id
    )
    org_b = services.organization_create(
        actor=None, kind="social", name="紫云志愿协会", building_id=bld_b.id
    )
    return {
        "households": (household_a, household_b),
        "houses": (house_a, house_b),
        "places": (place_a, place_b),
        "organizations": (org_a, org_b),
    }


KINDS = ("households", "houses", "places", "organizations")
LABELS = {
    "households": ("A-001", "B-001"),
    "houses": ("铁山路22甲号", "紫云台小区2号楼"),
    "places": ("小港便利店", "紫云台菜市场"),
    "organizations": ("小港物业", "紫云志愿协会"),
}


# -- scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_list_page_is_scoped(client, worker_a, elements, kind):
    login(client, worker_a)
    r = client.get(f"/registry/{kind}/")
    html = r.content.decode()
    mine, theirs = LABELS[kind]
    assert r.status_code == 200
    assert mine in html and theirs not in html
    assert 'data-testid="element-new"' in html  # grid workers keep their grid's ledger


@pytest.mark.parametrize("kind", KINDS)
def test_detail_edit_archive_pages_in_scope(client, worker_a, elements, kind):
    login(client, worker_a)
    a, _b = elements[kind]
    for page in ("", "edit/", "archive/"):
        r = client.get(f"/registry/{kind}/{a.id}/{page}")
        assert r.status_code == 200, page
    html = client.get(f"/registry/{kind}/{a.id}/").content.decode()
    assert LABELS[kind][0] in html and "小港第一网格" in html
    assert "/map/#grid=" in html or f"#grid={a.grid_id}" in html


@pytest.mark.parametrize("kind", KINDS)
def test_other_grids_elements_are_404(client, worker_a, elements, kind):
    login(client, worker_a)
    _a, b = elements[kind]
    for page in ("", "edit/", "archive/"):
        assert client.get(f"/registry/{kind}/{b.id}/{page}").status_code == 404, page
    assert client.post(f"/registry/{kind}/{b.id}/edit/", {"name": "x"}).status_code == 404
    assert client.post(f"/registry/{kind}/{b.id}/archive/").status_code == 404
    b.refresh_from_db()
    assert b.archived_at is None


@pytest.mark.parametrize("kind", KINDS)
def test_outsider_sees_nothing(client, outsider, elements, kind):
    login(client, outsider)
    a, _b = elements[kind]
    html = client.get(f"/registry/{kind}/").content.decode()
    assert LABELS[kind][0] not in html
    assert client.get(f"/registry/{kind}/{a.id}/").status_code == 404
    assert client.get(f"/registry/{kind}/new/").status_code == 403


def test_pages_need_login(client, elements):
    r = client.get("/registry/places/")
    assert r.status_code == 302 and "login" in r["Location"]


@pytest.mark.parametrize("kind", KINDS)
def test_leader_sees_all_but_may_not_write(client, leader, elements, kind):
    """The district leader reads the whole district, but manage_registry is not theirs."""
    login(client, leader)
    a, b = elements[kind]
    html = client.get(f"/registry/{kind}/").content.decode()
    assert all(label in html for label in LABELS[kind])
    assert 'data-testid="element-new"' not in html
    assert client.get(f"/registry/{kind}/{b.id}/").status_code == 200
    assert client.get(f"/registry/{kind}/new/").status_code == 403
    assert client.get(f"/registry/{kind}/{a.id}/edit/").status_code == 403
    assert client.post(f"/registry/{kind}/{a.id}/archive/").status_code == 403
    a.refresh_from_db()
    assert a.archived_at is None


def test_unknown_kind_and_absurd_ids_are_404(client, worker_a, tree):
    login(client, worker_a)
    assert client.get("/registry/buildingz/").status_code == 404
    huge = "9" * 25
    for kind in (*KINDS, "residents"):
        assert client.get(f"/registry/{kind}/{huge}/").status_code == 404, kind
        assert client.get(f"/registry/{kind}/{huge}/edit/").status_code == 404, kind


# -- lists: filters, counts, pagination ----------------------------------------------------


def test_place_list_filters(client, leader, elements, worker_a):
    services.place_create(actor=worker_a, kind="park", name="无名小公园")  # no address
    login(client, leader)
    html = client.get("/registry/places/", {"type": "shop"}).content.decode()
    assert "小港便利店" in html and "紫云台菜市场" not in html
    html = client.get("/registry/places/", {"q": "菜市"}).content.decode()
    assert "紫云台菜市场" in html and "小港便利店" not in html
    html = client.get("/registry/places/", {"grid_id": elements["places"][1].grid_id}).content
    assert "紫云台菜市场" in html.decode() and "小港便利店" not in html.decode()
    html = client.get("/registry/places/", {"needs_address": "1"}).content.decode()
    assert "无名小公园" in html and "小港便利店" not in html
    html = client.get("/registry/places/").content.decode()
    assert "待补地址 1 条" in html  # the queue's count
    assert "农贸市场 1" in html  # counts per kind


def test_household_and_house_lists_count_people(client, worker_a, elements, person_a):
    wife = services.resident_create(actor=worker_a, name="王五", address="市北区铁山路22号甲")
    services.household_add_member(
        actor=worker_a, household=elements["households"][0], resident=wife, relation="配偶"
    )
    gone = services.resident_create(actor=worker_a, name="赵七", address="市北区铁山路22号甲")
    services.household_add_member(
        actor=worker_a, household=elements["households"][0], resident=gone, relation="子"
    )
    services.resident_archive(actor=worker_a, resident=gone)
    login(client, worker_a)
    html = client.get("/registry/households/").content.decode()
    assert "<td>2</td>" in html  # 张三 and 王五; the archived member is not counted
    html = client.get("/registry/houses/").content.decode()
    assert "<td>1</td>" in html  # 张三 lives in house A


def test_list_filters_never_fail_on_junk(client, worker_a, elements):
    login(client, worker_a)
    for params in (
        {"grid_id": "abc"},
        {"grid_id": "99999999999999999999999"},
        {"page": "-3"},
        {"page": "x"},
        {"type": "nonsense"},
        {"q": "'; drop table"},
    ):
        assert client.get("/registry/places/", params).status_code == 200, params


def test_list_paginates(client, worker_a, tree):
    bld = _building("铁山路", "22")
    for i in range(55):
        services.place_create(actor=worker_a, kind="shop", name=f"店铺{i:02d}", building_id=bld.id)
    login(client, worker_a)
    html = client.get("/registry/places/").content.decode()
    assert "共 55 条" in html and "店铺00" in html and "店铺54" not in html
    assert "page=2" in html
    html = client.get("/registry/places/", {"page": "2"}).content.decode()
    assert "店铺54" in html and "店铺00" not in html


def test_archived_leave_the_list_and_show_with_filter(client, worker_a, elements):
    place_a = elements["places"][0]
    services.place_archive(actor=worker_a, place=place_a)
    login(client, worker_a)
    assert "小港便利店" not in client.get("/registry/places/").content.decode()
    html = client.get("/registry/places/", {"archived": "1"}).content.decode()
    assert "小港便利店" in html and "已归档" in html


# -- create ---------------------------------------------------------------------------------


def test_create_place_through_the_page(client, worker_a, tree):
    login(client, worker_a)
    bld = _building("人民路", "10")
    r = client.post(
        "/registry/places/new/",
        {
            "kind": "school",
            "name": "人民路小学",
            "building_id": str(bld.id),
            "contact_name": "王老师",
            "contact_phone": "0532-82828282",
        },
    )
    place = Place.objects.get(name="人民路小学")
    assert r.status_code == 302 and r["Location"] == f"/registry/places/{place.id}/"
    assert place.grid_id == tree.grid_a1.id and place.created_by_id == worker_a.id
    assert place.contact_phone == "0532-82828282" and place.kind == "school"
    html = client.get(r["Location"]).content.decode()
    assert "人民路小学" in html and "0532-82828282" not in html  # the phone is masked


def test_create_place_by_address_text(client, worker_a, tree):
    login(client, worker_a)
    client.post("/registry/places/new/", {"kind": "shop", "name": "铁山小卖部",
                                         "address": "市北区铁山路22号"})  # fmt: skip
    place = Place.objects.get(name="铁山小卖部")
    assert place.grid_id == tree.grid_a1.id and place.address_status == "resolved"


def test_create_organization_and_house_and_household(client, worker_a, tree):
    login(client, worker_a)
    bld = _building("铁山路", "22甲")
    r = client.post(
        "/registry/organizations/new/",
        {"kind": "enterprise", "name": "小港商贸", "credit_code": _credit_code()},
    )
    org = Organization.objects.get(name="小港商贸")
    assert r.status_code == 302 and org.credit_code == _credit_code()
    r = client.post(
        "/registry/houses/new/",
        {"building_id": str(bld.id), "unit": "2", "room": "502", "use": "residential",
         "occupancy": "tenant", "area_m2": "88.5", "tenant_name": "租户甲"},
    )  # fmt: skip
    house = House.objects.get(room="502")
    assert r.status_code == 302 and house.grid_id == tree.grid_a1.id and house.area_m2 == 88.5
    r = client.get(f"/registry/households/new/?house_id={house.id}")
    assert f'value="{house.id}"' in r.content.decode()
    r = client.post(
        "/registry/households/new/",
        {"number": "A-777", "building_id": str(bld.id), "house_id": str(house.id)},
    )
    household = Household.objects.get(number="A-777")
    assert r.status_code == 302 and household.house_id == house.id


def _assert_field_error(response, field, text=""):
    html = response.content.decode()
    assert response.status_code == 400
    assert f'data-field="{field}"' in html, html[html.find("<form") :][:3000]
    if text:
        assert text in html


@pytest.mark.parametrize(
    "kind, data, field, text",
    [
        ("places", {"kind": "shop", "name": ""}, "name", "名称不能为空"),
        ("places", {"kind": "bogus", "name": "x"}, "kind", ""),
        ("places", {"kind": "shop", "name": "x", "contact_phone": "12ab"}, "contact_phone", ""),
        ("places", {"kind": "shop", "name": "x", "lat": "north"}, "lat", ""),
        ("places", {"kind": "shop", "name": "x", "lat": "NaN", "lng": "1"}, "lat", ""),
        ("places", {"kind": "shop", "name": "x" * 101}, "name", ""),
        ("places", {"kind": "shop", "name": "x", "building_id": "abc"}, "building_id", ""),
        (
            "places",
            {"kind": "shop", "name": "x", "address": "伊春路168号紫云台小区2号楼"},
            "address",
            "管辖范围之外",
        ),
        (
            "organizations",
            {"kind": "enterprise", "name": "x", "credit_code": CREDIT_CODE[:17] + "0"},
            "credit_code",
            "",
        ),
        ("houses", {"address": "", "use": "residential", "occupancy": "unknown"}, "room", "室号"),
        (
            "houses",
            {"room": "1", "use": "castle", "occupancy": "unknown"},
            "use",
            "",
        ),
        (
            "houses",
            {"room": "1", "use": "residential", "occupancy": "unknown", "area_m2": "-5"},
            "area_m2",
            "",
        ),
        ("households", {"number": "X", "house_id": "99999999999999999999999"}, "house_id", ""),
    ],
)
def test_create_bad_input_names_the_field_and_writes_nothing(
    client, worker_a, tree, kind, data, field, text
):
    if kind == "organizations" and data.get("credit_code", "").endswith("0"):
        good = _credit_code()
        data = {**data, "credit_code": good[:17] + ("1" if good[17] != "1" else "2")}
    login(client, worker_a)
    counts = [m.objects.count() for m in (House, Household, Place, Organization)]
    r = client.post(f"/registry/{kind}/new/", data)
    _assert_field_error(r, field, text)
    assert [m.objects.count() for m in (House, Household, Place, Organization)] == counts


def test_household_cannot_point_at_another_grids_house(client, worker_a, elements):
    login(client, worker_a)
    house_b = elements["houses"][1]
    r = client.post("/registry/households/new/", {"number": "A-9", "house_id": str(house_b.id)})
    _assert_field_error(r, "house_id", "管辖范围")
    assert not Household.objects.filter(number="A-9").exists()


def test_building_out_of_scope_is_refused(client, worker_a, elements):
    login(client, worker_a)
    bld_b = _building("伊春路", "168", "1")
    html = client.get("/registry/places/new/").content.decode()
    assert "铁山路22甲号" in html and "紫云台小区1号楼" not in html  # only my buildings offered
    r = client.post(
        "/registry/places/new/", {"kind": "shop", "name": "越界", "building_id": str(bld_b.id)}
    )
    _assert_field_error(r, "building_id")
    assert not Place.objects.filter(name="越界").exists()


def test_duplicate_household_number_is_a_form_error(client, worker_a, elements):
    login(client, worker_a)
    r = client.post("/registry/households/new/", {"number": "A-001"})
    assert r.status_code == 400 and "与已有记录重复" in r.content.decode()
    assert Household.objects.filter(number="A-001").count() == 1


# -- edit -----------------------------------------------------------------------------------


def test_edit_place_changes_only_what_changed(client, worker_a, elements):
    place = elements["places"][0]
    login(client, worker_a)
    html = client.get(f"/registry/places/{place.id}/edit/").content.decode()
    assert "小港便利店" in html and "13700137000" not in html  # the phone is not shown in clear
    r = client.post(
        f"/registry/places/{place.id}/edit/",
        {"kind": "shop", "name": "小港便利店(新)", "building_id": str(place.building_id),
         "address": place.address, "contact_phone": ""},
    )  # fmt: skip
    assert r.status_code == 302
    place.refresh_from_db()
    assert place.name == "小港便利店(新)"
    assert place.contact_phone == "13700137000"  # blank keeps it
    assert place.grid_id is not None


def test_edit_bad_input_changes_nothing(client, worker_a, elements):
    org = elements["organizations"][0]
    login(client, worker_a)
    r = client.post(
        f"/registry/organizations/{org.id}/edit/",
        {"kind": "property_company", "name": "改名", "credit_code": "123"},
    )
    _assert_field_error(r, "credit_code", "18 位")
    org.refresh_from_db()
    assert org.name == "小港物业" and org.credit_code == ""


def test_edit_house_move_keeps_unit_and_room(client, worker_a, elements):
    house = elements["houses"][0]
    bld = _building("铁山路", "22")
    login(client, worker_a)
    r = client.post(
        f"/registry/houses/{house.id}/edit/",
        {"building_id": str(bld.id), "address": "", "unit": "1", "room": "101",
         "use": "commercial", "occupancy": "owner"},
    )  # fmt: skip
    assert r.status_code == 302
    house.refresh_from_db()
    assert (house.building_id, house.unit, house.room, house.use) == (
        bld.id,
        "1",
        "101",
        "commercial",
    )


def test_needs_address_queue_is_worked_through_the_edit_page(client, worker_a, worker_b, tree):
    """A place entered without a findable address waits in its author's queue until an edit
    places it; nobody else's grid worker sees it meanwhile."""
    login(client, worker_a)
    client.post("/registry/places/new/", {"kind": "park", "name": "街角花园", "address": "某处"})
    place = Place.objects.get(name="街角花园")
    assert place.grid_id is None and place.address_status == "needs_address"
    html = client.get("/registry/places/", {"needs_address": "1"}).content.decode()
    assert "街角花园" in html
    bld = _building("人民路", "10")
    r = client.post(
        f"/registry/places/{place.id}/edit/",
        {"kind": "park", "name": "街角花园", "address": "某处", "building_id": str(bld.id)},
    )
    assert r.status_code == 302
    place.refresh_from_db()
    assert place.grid_id == tree.grid_a1.id and place.address_status == "resolved"
    assert (
        "街角花园" not in client.get("/registry/places/", {"needs_address": "1"}).content.decode()
    )
    login(client, worker_b)
    assert client.get(f"/registry/places/{place.id}/").status_code == 404


def test_edit_cannot_move_into_another_grid(client, worker_a, elements):
    place = elements["places"][0]
    bld_b = _building("伊春路", "168", "2")
    login(client, worker_a)
    r = client.post(
        f"/registry/places/{place.id}/edit/",
        {"kind": "shop", "name": place.name, "address": "伊春路168号紫云台小区2号楼"},
    )
    _assert_field_error(r, "address", "管辖范围之外")
    place.refresh_from_db()
    assert place.building_id != bld_b.id and place.grid_id is not None


# -- archive --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_archive_asks_then_archives(client, worker_a, elements, kind):
    a, _b = elements[kind]
    login(client, worker_a)
    html = client.get(f"/registry/{kind}/{a.id}/archive/").content.decode()
    assert "确认归档" in html and 'method="post"' in html
    a.refresh_from_db()
    assert a.archived_at is None  # asking writes nothing
    if kind in ("households", "houses"):
        # 张三 still lives there (and household A is in house A): refused, said, nothing written.
        r = client.post(f"/registry/{kind}/{a.id}/archive/")
        assert r.status_code == 400
        assert "请先" in r.content.decode() and 'data-testid="archive-error"' in r.content.decode()
        a.refresh_from_db()
        assert a.archived_at is None
        person_a = Resident.objects.get(name="张三")
        services.resident_update(actor=None, resident=person_a, household_id=None, house_id=None)
        household_a = elements["households"][0]
        services.household_update(actor=None, household=household_a, house_id=None)
    r = client.post(f"/registry/{kind}/{a.id}/archive/")
    assert r.status_code == 302 and r["Location"] == f"/registry/{kind}/"
    a.refresh_from_db()
    assert a.archived_at is not None
    html = client.get(f"/registry/{kind}/{a.id}/").content.decode()
    assert "已归档" in html and 'data-testid="element-edit"' not in html


# -- households, houses: people on the page, and the log -------------------------------------


def test_household_page_lists_members_and_logs(client, worker_a, elements, person_a):
    household = elements["households"][0]
    login(client, worker_a)
    before = AccessLog.objects.count()
    html = client.get(f"/registry/households/{household.id}/").content.decode()
    assert f"/registry/residents/{person_a.id}/" in html and "户主" in html
    assert f"/registry/houses/{household.house_id}/" in html  # household → house
    assert person_a.id_number not in html
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.latest("id")
    assert (row.action, row.object_type, row.object_id, row.channel) == (
        "view",
        "household",
        household.id,
        "web",
    )


def test_household_add_member_and_set_head(client, worker_a, elements, person_a):
    household = elements["households"][0]
    wife = services.resident_create(actor=worker_a, name="王五", address="市北区铁山路22号甲")
    login(client, worker_a)
    r = client.post(
        f"/registry/households/{household.id}/members/",
        {"resident": str(wife.id), "relation": "配偶"},
    )
    assert r.status_code == 302
    wife.refresh_from_db()
    assert wife.household_id == household.id and wife.relation_to_head == "配偶"
    r = client.post(f"/registry/households/{household.id}/set-head/", {"head": str(wife.id)})
    assert r.status_code == 302
    household.refresh_from_db()
    wife.refresh_from_db()
    assert household.head_id == wife.id and wife.relation_to_head == "户主"


def test_household_member_from_another_grid_is_refused(
    client, worker_a, elements, person_a, person_b
):
    household = elements["households"][0]
    login(client, worker_a)
    r = client.post(
        f"/registry/households/{household.id}/members/",
        {"resident": str(person_b.id), "relation": "子"},
    )
    assert r.status_code == 400 and "管辖范围" in r.content.decode()
    person_b.refresh_from_db()
    assert person_b.household_id != household.id
    r = client.post(f"/registry/households/{household.id}/set-head/", {"head": str(person_b.id)})
    assert r.status_code == 400 and "本户在册成员" in r.content.decode()
    r = client.post(f"/registry/households/{household.id}/set-head/", {"head": "abc"})
    assert r.status_code == 400
    household.refresh_from_db()
    assert household.head_id == person_a.id


def test_household_member_pages_out_of_scope(client, worker_a, elements, person_b):
    household_b = elements["households"][1]
    login(client, worker_a)
    r = client.post(f"/registry/households/{household_b.id}/set-head/", {"head": person_b.id})
    assert r.status_code == 404
    r = client.post(f"/registry/households/{household_b.id}/members/", {"resident": person_b.id})
    assert r.status_code == 404


def test_house_page_lists_occupants_masked_and_logs(client, worker_a, elements, person_a):
    house = elements["houses"][0]
    login(client, worker_a)
    before = AccessLog.objects.count()
    html = client.get(f"/registry/houses/{house.id}/").content.decode()
    assert "张三" in html and "138****8000" in html and "13800138000" not in html
    assert "A-001" in html  # the household living there
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.latest("id")
    assert row.action == "list" and row.filter.get("house_id") == house.id
    assert row.record_count == 1 and row.channel == "web"


def test_resident_card_links_household_and_house(client, worker_a, elements, person_a):
    login(client, worker_a)
    html = client.get(f"/registry/residents/{person_a.id}/").content.decode()
    assert f"/registry/households/{elements['households'][0].id}/" in html
    assert f"/registry/houses/{elements['houses'][0].id}/" in html


def test_card_links_only_what_the_reader_may_open(client, department_staff, elements, person_a):
    """Department staff see a person linked to their work, not the grid's households."""
    from yiwang.registry.services import resident_link_add

    resident_link_add(actor=None, resident=person_a, department=department_staff_dept(), ref="X1")
    login(client, department_staff)
    html = client.get(f"/registry/residents/{person_a.id}/").content.decode()
    assert "A-001" in html
    assert f"/registry/households/{elements['households'][0].id}/" not in html
    assert f"/registry/houses/{elements['houses'][0].id}/" not in html
    assert client.get(f"/registry/households/{elements['households'][0].id}/").status_code == 404


def department_staff_dept():
    from yiwang.org.models import Department

    return Department.objects.get(code="CG")


def test_registry_tabs_and_navigation(client, worker_a, elements):
    login(client, worker_a)
    html = client.get("/registry/houses/").content.decode()
    assert 'data-testid="registry-tabs"' in html
    for url in ("/registry/households/", "/registry/places/", "/registry/organizations/"):
        assert f'href="{url}"' in html
    assert 'data-nav="registry" aria-current="page"' in html


def test_resident_count_unchanged_by_element_pages(client, worker_a, elements):
    """Element pages never write people."""
    n = Resident.objects.count()
    login(client, worker_a)
    for kind in KINDS:
        client.get(f"/registry/{kind}/")
    assert Resident.objects.count() == n
