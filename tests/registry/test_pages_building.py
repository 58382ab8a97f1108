"""The building page (楼院) and taking a member out of a household.

The building page completes person → household → house → building → grid: it answers in the
reader's scope and 404 outside it, shows counts and houses but no person, and every page that
names a building links to it. Removing a member goes through the service: the head leaves
last, a non-member or an out-of-scope person is refused with a named error, and nothing
changes on refusal."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.conftest import login
from yiwang.org.models import Building
from yiwang.registry import selectors, services
from yiwang.registry.models import AccessLog, Household, Resident


def _building(road, number, building_no=""):
    return Building.objects.get(road=road, number=number, building_no=building_no)


@pytest.fixture
def homes(tree, person_a, person_b):
    """Building A (铁山路22甲, grid A1): houses 101 and 102 (and an archived 103), household
    A-001 in 101 headed by 张三 with his wife 王五. Building B (紫云台小区2号楼, grid B1): house
    301 with household B-001 headed by 李四."""
    bld_a = _building("铁山路", "22甲")
    bld_b = _building("伊春路", "168", "2")
    house_a = services.house_create(actor=None, building_id=bld_a.id, unit="1", room="101")
    house_a2 = services.house_create(
        actor=None, building_id=bld_a.id, unit="1", room="102", occupancy="vacant"
    )
    gone = services.house_create(actor=None, building_id=bld_a.id, unit="1", room="103")
    services.house_archive(actor=None, house=gone)
    house_b = services.house_create(actor=None, building_id=bld_b.id, unit="1", room="301")
    household_a = services.household_create(
        actor=None, number="A-001", building_id=bld_a.id, house_id=house_a.id, head=person_a
    )
    household_b = services.household_create(
        actor=None, number="B-001", building_id=bld_b.id, house_id=house_b.id, head=person_b
    )
    services.resident_update(actor=None, resident=person_a, house_id=house_a.id)
    wife = services.resident_create(
        actor=None, name="王五", address="市北区铁山路22号甲", phones=["13600136000"]
    )
    services.household_add_member(actor=None, household=household_a, resident=wife, relation="配偶")
    services.resident_update(actor=None, resident=wife, house_id=house_a.id)
    place_a = services.place_create(
        actor=None, kind="shop", name="小港便利店", building_id=bld_a.id
    )
    org_a = services.organization_create(
        actor=None, kind="property_company", name="小港物业", building_id=bld_a.id
    )
    return {
        "bld_a": bld_a,
        "bld_b": bld_b,
        "house_a": house_a,
        "house_a2": house_a2,
        "gone": gone,
        "house_b": house_b,
        "household_a": household_a,
        "household_b": household_b,
        "wife": wife,
        "place_a": place_a,
        "org_a": org_a,
    }


def url(building) -> str:
    return f"/registry/buildings/{building.id}/"


# -- the building page: scope -------------------------------------------------------------


def test_building_page_in_scope(client, worker_a, homes, tree):
    login(client, worker_a)
    r = client.get(url(homes["bld_a"]))
    assert r.status_code == 200
    html = r.content.decode()
    assert "铁山路22甲号" in html and "22甲" in html
    assert "小港第一网格" in html and "小港社区" in html and "即墨路街道" in html
    assert f"/map/#grid={tree.grid_a1.id}" in html
    assert 'data-testid="registry-tabs"' in html


def test_worker_of_another_grid_gets_404(client, worker_a, worker_b, homes):
    login(client, worker_a)
    assert client.get(url(homes["bld_b"])).status_code == 404
    login(client, worker_b)
    assert client.get(url(homes["bld_a"])).status_code == 404
    assert client.get(url(homes["bld_b"])).status_code == 200


def test_outsider_and_department_staff_get_404(client, outsider, department_staff, homes):
    """Department staff see people linked to their work, never a grid's buildings, even
    though their department has a team member in grid A1."""
    for user in (outsider, department_staff):
        login(client, user)
        assert client.get(url(homes["bld_a"])).status_code == 404, user.username


def test_wider_scopes_see_their_buildings(client, leader, street_staff, community_staff, homes):
    login(client, leader)
    assert client.get(url(homes["bld_a"])).status_code == 200
    assert client.get(url(homes["bld_b"])).status_code == 200
    login(client, street_staff)  # street A
    assert client.get(url(homes["bld_a"])).status_code == 200
    assert client.get(url(homes["bld_b"])).status_code == 404
    login(client, community_staff)  # community B
    assert client.get(url(homes["bld_a"])).status_code == 404
    assert client.get(url(homes["bld_b"])).status_code == 200


def test_building_page_needs_login_and_real_ids(client, worker_a, homes):
    r = client.get(url(homes["bld_a"]))
    assert r.status_code == 302 and "login" in r["Location"]
    login(client, worker_a)
    assert client.get("/registry/buildings/999999/").status_code == 404
    assert client.get(f"/registry/buildings/{'9' * 25}/").status_code == 404
    assert client.get("/registry/buildings/abc/").status_code == 404


def test_building_access_selector(worker_a, worker_b, homes):
    assert selectors.building_access(actor=worker_a, id=homes["bld_a"].id) == homes["bld_a"]
    for actor, building in ((worker_a, "bld_b"), (worker_b, "bld_a")):
        with pytest.raises(Exception) as exc:
            selectors.building_access(actor=actor, id=homes[building].id)
        assert exc.typename == "Http404"
    assert selectors.building_visible(actor=worker_a, id=homes["bld_a"].id)
    assert not selectors.building_visible(actor=worker_a, id=homes["bld_b"].id)
    assert not selectors.building_visible(actor=worker_a, id=None)


# -- the building page: content -------------------------------------------------------------


def test_building_page_lists_live_houses_with_counts(client, worker_a, homes):
    login(client, worker_a)
    html = client.get(url(homes["bld_a"])).content.decode()
    assert f'href="/registry/houses/{homes["house_a"].id}/"' in html
    assert f'href="/registry/houses/{homes["house_a2"].id}/"' in html
    assert f"/registry/houses/{homes['gone'].id}/" not in html  # archived
    assert "空置" in html and "住宅" in html
    summary = selectors.building_summary(actor=worker_a, building=homes["bld_a"])
    assert [(h.room, h.people_count) for h in summary.houses] == [("101", 2), ("102", 0)]
    assert (summary.residents, summary.households) == (2, 1)
    assert 'data-testid="count-houses">2<' in html
    assert 'data-testid="count-households">1<' in html
    assert 'data-testid="count-residents">2<' in html


def test_building_counts_follow_archiving_and_houses(worker_a, homes):
    """A person counts when their row or their house is in the building; archived people
    and households do not count."""
    lodger = services.resident_create(actor=worker_a, name="钱八", house_id=homes["house_a2"].id)
    assert lodger.building_id is None  # no address typed: only the house ties them here
    summary = selectors.building_summary(actor=worker_a, building=homes["bld_a"])
    assert summary.residents == 3
    assert [h.people_count for h in summary.houses] == [2, 1]
    services.resident_archive(actor=worker_a, resident=lodger)
    assert selectors.building_summary(actor=worker_a, building=homes["bld_a"]).residents == 2
    empty = services.household_create(actor=worker_a, number="A-002", house_id=homes["house_a2"].id)
    assert selectors.building_summary(actor=worker_a, building=homes["bld_a"]).households == 2
    services.household_archive(actor=worker_a, household=empty)
    assert selectors.building_summary(actor=worker_a, building=homes["bld_a"]).households == 1


def test_building_page_shows_no_person_and_logs_nothing(client, worker_a, homes, person_a):
    login(client, worker_a)
    before = AccessLog.objects.count()
    html = client.get(url(homes["bld_a"])).content.decode()
    for secret in (person_a.id_number, "13800138000", "138****8000", "13600136000"):
        assert secret not in html
    for name in ("张三", "王五"):
        assert name not in html
    assert AccessLog.objects.count() == before  # counts only: no personal data read


# -- every page that names a building links to it ---------------------------------------------


def test_element_pages_link_to_the_building(client, worker_a, homes):
    login(client, worker_a)
    link = f'href="{url(homes["bld_a"])}"'
    for page in (
        f"/registry/houses/{homes['house_a'].id}/",
        f"/registry/households/{homes['household_a'].id}/",
        f"/registry/places/{homes['place_a'].id}/",
        f"/registry/organizations/{homes['org_a'].id}/",
    ):
        html = client.get(page).content.decode()
        assert link in html, page
        assert 'data-testid="building-link"' in html, page


def test_resident_card_links_to_the_building(client, worker_a, homes, person_a):
    login(client, worker_a)
    html = client.get(f"/registry/residents/{person_a.id}/").content.decode()
    assert f'href="{url(homes["bld_a"])}"' in html


def test_the_whole_path_from_person_to_grid(client, worker_a, homes, person_a, tree):
    """person → household → house → building → grid, following the links."""
    login(client, worker_a)
    card = client.get(f"/registry/residents/{person_a.id}/").content.decode()
    household = f"/registry/households/{homes['household_a'].id}/"
    assert household in card
    house = f"/registry/houses/{homes['house_a'].id}/"
    assert house in client.get(household).content.decode()
    assert url(homes["bld_a"]) in client.get(house).content.decode()
    assert f"/map/#grid={tree.grid_a1.id}" in client.get(url(homes["bld_a"])).content.decode()


def test_department_staff_card_shows_building_as_text(client, department_staff, homes, person_a):
    from yiwang.org.models import Department

    services.resident_link_add(
        actor=None, resident=person_a, department=Department.objects.get(code="CG"), ref="X1"
    )
    login(client, department_staff)
    html = client.get(f"/registry/residents/{person_a.id}/").content.decode()
    assert "铁山路22甲号" in html
    assert url(homes["bld_a"]) not in html


# -- removing a member from a household -------------------------------------------------------


def _remove(client, household, resident):
    return client.post(f"/registry/households/{household.id}/members/{resident.id}/remove/")


def test_household_page_offers_remove_per_member(client, worker_a, leader, homes, person_a):
    household, wife = homes["household_a"], homes["wife"]
    login(client, worker_a)
    html = client.get(f"/registry/households/{household.id}/").content.decode()
    for m in (person_a, wife):
        action = f"/registry/households/{household.id}/members/{m.id}/remove/"
        form = html[html.index(action) :]
        assert form.index("csrfmiddlewaretoken") < form.index("</form>")
    login(client, leader)  # reads, may not write: no buttons
    html = client.get(f"/registry/households/{household.id}/").content.decode()
    assert "/remove/" not in html


def test_remove_member(client, worker_a, homes):
    household, wife = homes["household_a"], homes["wife"]
    login(client, worker_a)
    r = _remove(client, household, wife)
    assert r.status_code == 302 and r["Location"] == f"/registry/households/{household.id}/"
    wife.refresh_from_db()
    assert wife.household_id is None and wife.relation_to_head == ""
    assert wife.field_sources["household_id"] == services.MANUAL_SOURCE
    assert wife.field_sources["relation_to_head"] == services.MANUAL_SOURCE
    assert wife.house_id == homes["house_a"].id  # still lives there; only the 户 changed
    html = client.get(f"/registry/households/{household.id}/").content.decode()
    assert f"/registry/residents/{wife.id}/" not in html


def test_head_cannot_leave_while_others_remain(client, worker_a, homes, person_a):
    household, wife = homes["household_a"], homes["wife"]
    login(client, worker_a)
    r = _remove(client, household, person_a)
    html = r.content.decode()
    assert r.status_code == 400
    assert 'data-testid="page-error"' in html and "请先变更户主" in html and "1 名成员" in html
    person_a.refresh_from_db()
    household.refresh_from_db()
    assert person_a.household_id == household.id and person_a.relation_to_head == "户主"
    assert household.head_id == person_a.id
    # Changing the head first, then the former head may leave.
    services.household_set_head(actor=worker_a, household=household, head=wife)
    assert _remove(client, household, person_a).status_code == 302
    person_a.refresh_from_db()
    assert person_a.household_id is None


def test_head_alone_may_leave_and_the_household_has_no_head(client, worker_a, homes, person_a):
    household, wife = homes["household_a"], homes["wife"]
    login(client, worker_a)
    assert _remove(client, household, wife).status_code == 302
    assert _remove(client, household, person_a).status_code == 302
    household.refresh_from_db()
    person_a.refresh_from_db()
    assert household.head_id is None and person_a.household_id is None
    services.household_archive(actor=worker_a, household=household)  # now empty: may close


def test_remove_someone_not_a_member_is_refused(client, worker_a, homes):
    household = homes["household_a"]
    stranger = services.resident_create(actor=worker_a, name="孙九", address="市北区铁山路22号甲")
    login(client, worker_a)
    r = _remove(client, household, stranger)
    assert r.status_code == 400 and "不是本户成员" in r.content.decode()
    r = client.post(f"/registry/households/{household.id}/members/999999/remove/")
    assert r.status_code == 400 and "管辖范围" in r.content.decode()
    with pytest.raises(ValidationError) as exc:
        services.household_remove_member(actor=worker_a, household=household, resident=stranger)
    assert "resident" in exc.value.message_dict


def test_remove_out_of_scope(client, worker_a, homes, person_b):
    household_a, household_b = homes["household_a"], homes["household_b"]
    login(client, worker_a)
    # Another grid's household: 404, as every page of it.
    assert _remove(client, household_b, person_b).status_code == 404
    # Another grid's person filed into this household by the system: refused, not removed.
    services.household_add_member(
        actor=None, household=household_a, resident=person_b, relation="子"
    )
    r = _remove(client, household_a, person_b)
    assert r.status_code == 400 and "管辖范围" in r.content.decode()
    person_b.refresh_from_db()
    assert person_b.household_id == household_a.id
    with pytest.raises(ValidationError):
        services.household_remove_member(actor=worker_a, household=household_a, resident=person_b)


def test_remove_without_permission(client, leader, outsider, homes):
    household, wife = homes["household_a"], homes["wife"]
    login(client, leader)
    assert _remove(client, household, wife).status_code == 403
    with pytest.raises(PermissionDenied):
        services.household_remove_member(actor=leader, household=household, resident=wife)
    login(client, outsider)
    assert _remove(client, household, wife).status_code == 404
    wife.refresh_from_db()
    assert wife.household_id == household.id and wife.relation_to_head == "配偶"


def test_remove_is_post_only(client, worker_a, homes):
    household, wife = homes["household_a"], homes["wife"]
    login(client, worker_a)
    r = client.get(f"/registry/households/{household.id}/members/{wife.id}/remove/")
    assert r.status_code == 405
    wife.refresh_from_db()
    assert wife.household_id == household.id


def test_remove_needs_csrf(worker_a, homes):
    from django.test import Client

    household, wife = homes["household_a"], homes["wife"]
    client = Client(enforce_csrf_checks=True)
    login(client, worker_a)
    assert _remove(client, household, wife).status_code == 403
    wife.refresh_from_db()
    assert wife.household_id == household.id


def test_remove_from_archived_household_is_refused(worker_a, homes):
    household, wife = homes["household_a"], homes["wife"]
    Household.objects.filter(id=household.id).update(archived_at="2026-01-01T00:00:00Z")
    household.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.household_remove_member(actor=worker_a, household=household, resident=wife)
    assert "household" in exc.value.message_dict
    assert Resident.objects.get(id=wife.id).household_id == household.id
