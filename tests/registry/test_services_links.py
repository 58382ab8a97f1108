"""Writes that link people to households and houses stay inside the actor's scope: a grid
worker cannot file a person into another grid's household or house, or make another grid's
person a head, whatever the page or API sends."""

import pytest
from django.core.exceptions import ValidationError

from tests.conftest import login
from yiwang.org.models import Building
from yiwang.registry import services
from yiwang.registry.models import Household, Resident

pytestmark = pytest.mark.urls("tests.registry.urls")


@pytest.fixture
def places(tree, person_a, person_b):
    bld_a = Building.objects.filter(grid=tree.grid_a1).order_by("id").first()
    bld_b = Building.objects.filter(grid=tree.grid_b1).order_by("id").first()
    house_a = services.house_create(actor=None, building_id=bld_a.id, unit="1", room="101")
    house_b = services.house_create(actor=None, building_id=bld_b.id, unit="1", room="301")
    hh_a = services.household_create(actor=None, number="A-1", building_id=bld_a.id)
    hh_b = services.household_create(actor=None, number="B-1", building_id=bld_b.id)
    return house_a, house_b, hh_a, hh_b


def test_resident_update_refuses_another_grids_household_and_house(worker_a, person_a, places):
    house_a, house_b, hh_a, hh_b = places
    for field, value in (("household_id", hh_b.id), ("house_id", house_b.id)):
        with pytest.raises(ValidationError) as exc:
            services.resident_update(actor=worker_a, resident=person_a, **{field: value})
        assert field in exc.value.message_dict
    person_a.refresh_from_db()
    assert person_a.household_id is None and person_a.house_id is None
    services.resident_update(
        actor=worker_a, resident=person_a, household_id=hh_a.id, house_id=house_a.id
    )
    person_a.refresh_from_db()
    assert (person_a.household_id, person_a.house_id) == (hh_a.id, house_a.id)


def test_resident_create_refuses_missing_or_archived_links(worker_a, places):
    _house_a, _house_b, hh_a, _hh_b = places
    services.household_archive(actor=None, household=hh_a)
    before = Resident.objects.count()
    for value in (hh_a.id, 999_999, "abc"):
        with pytest.raises(ValidationError) as exc:
            services.resident_create(
                actor=worker_a, name="王五", address="市北区铁山路22号甲", household_id=value
            )
        assert "household_id" in exc.value.message_dict
    assert Resident.objects.count() == before


def test_household_house_must_be_in_scope(worker_a, places):
    _house_a, house_b, hh_a, _hh_b = places
    with pytest.raises(ValidationError) as exc:
        services.household_update(actor=worker_a, household=hh_a, house_id=house_b.id)
    assert "house_id" in exc.value.message_dict
    hh_a.refresh_from_db()
    assert hh_a.house_id is None


def test_head_and_members_must_be_in_scope(worker_a, person_a, person_b, places):
    _house_a, _house_b, hh_a, hh_b = places
    with pytest.raises(ValidationError) as exc:
        services.household_set_head(actor=worker_a, household=hh_a, head=person_b)
    assert "head" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.household_add_member(
            actor=worker_a, household=hh_b, resident=person_a, relation="子"
        )
    assert "household" in exc.value.message_dict
    person_a.refresh_from_db()
    person_b.refresh_from_db()
    assert person_a.household_id is None and person_b.household_id is None
    assert Household.objects.get(id=hh_a.id).head_id is None
    services.household_set_head(actor=worker_a, household=hh_a, head=person_a)
    person_a.refresh_from_db()
    assert person_a.household_id == hh_a.id and person_a.relation_to_head == "户主"


def test_api_patch_cannot_reach_another_grids_household(client, worker_a, person_a, places):
    """The API's edit takes household links, checked by the service: another grid's household
    is refused with the field named, and nothing moves."""
    _house_a, _house_b, _hh_a, hh_b = places
    login(client, worker_a)
    r = client.patch(
        f"/api/v1/registry/residents/{person_a.id}",
        data={"household_id": hh_b.id},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["field"] == "household_id", r.content
    person_a.refresh_from_db()
    assert person_a.household_id is None


def test_pages_say_why_an_archived_household_takes_no_members(client, worker_a, person_a, places):
    _house_a, _house_b, hh_a, _hh_b = places
    services.household_archive(actor=None, household=hh_a)
    login(client, worker_a)
    for url, data in (
        (f"/registry/households/{hh_a.id}/set-head/", {"head": person_a.id}),
        (f"/registry/households/{hh_a.id}/members/", {"resident": person_a.id, "relation": "子"}),
    ):
        r = client.post(url, data)
        assert r.status_code == 400, (url, r.status_code)
    person_a.refresh_from_db()
    assert person_a.household_id is None
