"""The resident API links people to households and houses the way the pages do: the ids go to
the services, which refuse another grid's, an archived or an unknown household or house with
an error naming the field, and write nothing then. In an edit, null clears a link and leaving
the field out keeps it."""

import pytest

from tests.conftest import login
from tests.registry.conftest import make_id
from yiwang.org.models import Building
from yiwang.registry import services
from yiwang.registry.models import Resident

pytestmark = pytest.mark.urls("tests.registry.urls")

API = "/api/v1/registry/residents"


@pytest.fixture
def places(tree, person_a, person_b):
    bld_a = Building.objects.filter(grid=tree.grid_a1).order_by("id").first()
    bld_b = Building.objects.filter(grid=tree.grid_b1).order_by("id").first()
    house_a = services.house_create(actor=None, building_id=bld_a.id, unit="1", room="101")
    house_b = services.house_create(actor=None, building_id=bld_b.id, unit="1", room="301")
    hh_a = services.household_create(actor=None, number="A-1", building_id=bld_a.id)
    hh_b = services.household_create(actor=None, number="B-1", building_id=bld_b.id)
    return house_a, house_b, hh_a, hh_b


def post(client, data):
    return client.post(API, data=data, content_type="application/json")


def patch(client, resident, data):
    return client.patch(f"{API}/{resident.id}", data=data, content_type="application/json")


def assert_refused(r, field):
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "invalid" and body["field"] == field, body
    assert body["message"]


def test_create_with_links_and_the_card_shows_them(client, worker_a, places):
    house_a, _house_b, hh_a, _hh_b = places
    login(client, worker_a)
    r = post(
        client,
        {
            "name": "王五",
            "id_number": make_id("19800101", "133"),
            "address": "市北区铁山路22号甲",
            "household_id": hh_a.id,
            "house_id": house_a.id,
            "relation_to_head": "户主",
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["household_id"], body["house_id"]) == (hh_a.id, house_a.id)
    resident = Resident.objects.get(id=body["id"])
    assert (resident.household_id, resident.house_id) == (hh_a.id, house_a.id)
    card = client.get(f"{API}/{resident.id}").json()
    assert card["household"] == {"id": hh_a.id, "label": str(hh_a)}
    assert card["house"] == {"id": house_a.id, "label": str(house_a)}
    assert (card["household_id"], card["house_id"]) == (hh_a.id, house_a.id)


def test_create_without_links_leaves_them_empty(client, worker_a, places):
    login(client, worker_a)
    r = post(client, {"name": "王五", "address": "市北区铁山路22号甲"})
    assert r.status_code == 201, r.content
    assert (r.json()["household_id"], r.json()["house_id"]) == (None, None)


@pytest.mark.parametrize("field", ["household_id", "house_id"])
def test_create_refuses_another_grids_archived_or_unknown_link(client, worker_a, places, field):
    house_a, house_b, hh_a, hh_b = places
    services.household_archive(actor=None, household=hh_a)
    services.house_archive(actor=None, house=house_a)
    other, archived = (hh_b, hh_a) if field == "household_id" else (house_b, house_a)
    login(client, worker_a)
    before = Resident.objects.count()
    for value in (other.id, archived.id, 999_999):
        r = post(client, {"name": "王五", "address": "市北区铁山路22号甲", field: value})
        assert_refused(r, field)
        assert "不在您的管辖范围内" in r.json()["message"]
    r = post(client, {"name": "王五", "address": "市北区铁山路22号甲", field: "abc"})
    assert_refused(r, field)  # not a number: the schema's own check, same shape
    assert Resident.objects.count() == before


def test_patch_sets_keeps_and_clears_links(client, worker_a, person_a, places):
    house_a, _house_b, hh_a, _hh_b = places
    login(client, worker_a)
    r = patch(client, person_a, {"household_id": hh_a.id, "house_id": house_a.id})
    assert r.status_code == 200, r.content
    assert (r.json()["household_id"], r.json()["house_id"]) == (hh_a.id, house_a.id)

    r = patch(client, person_a, {"workplace": "港务局"})  # links left out: kept
    assert r.status_code == 200, r.content
    person_a.refresh_from_db()
    assert (person_a.household_id, person_a.house_id) == (hh_a.id, house_a.id)

    r = patch(client, person_a, {"household_id": None})  # null: cleared, the house stays
    assert r.status_code == 200, r.content
    assert (r.json()["household_id"], r.json()["house_id"]) == (None, house_a.id)
    person_a.refresh_from_db()
    assert (person_a.household_id, person_a.house_id) == (None, house_a.id)
    assert person_a.field_sources.get("household_id") == "manual"


def test_patch_refuses_another_grids_link_and_changes_nothing(client, worker_a, person_a, places):
    house_a, house_b, hh_a, hh_b = places
    services.resident_update(
        actor=None, resident=person_a, household_id=hh_a.id, house_id=house_a.id
    )
    login(client, worker_a)
    for field, value in (("household_id", hh_b.id), ("house_id", house_b.id)):
        # With a valid change beside it: the refusal takes the whole edit back.
        r = patch(client, person_a, {"workplace": "港务局", field: value})
        assert_refused(r, field)
    person_a.refresh_from_db()
    assert (person_a.household_id, person_a.house_id) == (hh_a.id, house_a.id)
    assert person_a.workplace == ""


def test_only_those_who_see_the_person_may_link_them(
    client, worker_b, outsider, department_staff, person_a, places
):
    _house_a, house_b, _hh_a, hh_b = places
    for user in (worker_b, outsider, department_staff):
        login(client, user)
        r = patch(client, person_a, {"household_id": hh_b.id, "house_id": house_b.id})
        assert r.status_code in (403, 404), (user, r.status_code)
    person_a.refresh_from_db()
    assert (person_a.household_id, person_a.house_id) == (None, None)
