"""Open311 GeoReport v2: every endpoint in XML and JSON, shaped as the specification says."""

import json
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import LAT0, LNG0, centre
from yiwang.cases.models import Case
from yiwang.intake.models import ServiceAttribute

BASE = "/open311/v2"


def xml(response):
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    return ET.fromstring(response.content)


def js(response):
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


@pytest.fixture
def attribute(cat):
    return ServiceAttribute.objects.create(
        category=cat["SRHJ01"],
        code="time_of_day",
        datatype="singlevaluelist",
        required=True,
        description="通常出现在什么时段?",
        order=1,
        values=[{"key": "morning", "name": "早晨"}, {"key": "night", "name": "夜间"}],
    )


def test_discovery_both_formats(client, db):
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    for field in ("changeset", "contact", "key_service"):
        assert root.find(field).text
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.find("specification").text == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    assert endpoint.find("type").text == "production"
    data = js(client.get(f"{BASE}/discovery.json"))
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]


def test_services(client, cat, attribute):
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    services = {s.find("service_code").text: s for s in root.findall("service")}
    s = services["SRHJ01"]
    assert s.find("service_name").text == "占道经营"
    assert s.find("metadata").text == "true"
    assert s.find("type").text == "realtime"
    assert s.find("group").text == "市容环境"
    assert services["SRHJ04"].find("metadata").text == "false"
    assert "SRHJ" not in services  # groups are not services
    data = js(client.get(f"{BASE}/services.json"))
    assert {d["service_code"] for d in data} == set(services)
    assert set(data[0]) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }


def test_service_definition(client, cat, attribute):
    root = xml(client.get(f"{BASE}/services/SRHJ01.xml"))
    assert root.tag == "service_definition"
    assert root.find("service_code").text == "SRHJ01"
    a = root.find("attributes/attribute")
    assert a.find("variable").text == "true"
    assert a.find("code").text == "time_of_day"
    assert a.find("datatype").text == "singlevaluelist"
    assert a.find("required").text == "true"
    assert [v.find("key").text for v in a.findall("values/value")] == ["morning", "night"]
    data = js(client.get(f"{BASE}/services/SRHJ01.json"))
    assert data["attributes"][0]["values"][1] == {"key": "night", "name": "夜间"}
    missing = client.get(f"{BASE}/services/NOPE.json")
    assert missing.status_code == 404
    assert js(missing) == [{"code": 404, "description": "service_code NOPE not found"}]


def test_post_request_form_encoded(client, cat, api_key, tree):
    lat, lng = centre(2)
    r = client.post(
        f"{BASE}/requests.xml",
        {
            "api_key": api_key,
            "service_code": "SRHJ04",
            "lat": lat,
            "long": lng,
            "description": "市北区伊春路168号紫云台小区门口卫生死角",
            "first_name": "先生",
            "last_name": "刘",
            "phone": "13800001111",
            "email": "liu@example.com",
            "device_id": "dev-1",
            "account_id": "acc-9",
        },
    )
    assert r.status_code == 201
    root = xml(r)
    assert root.tag == "service_requests"
    req = root.find("request")
    number = req.find("service_request_id").text
    assert req.find("service_notice").text
    assert req.find("account_id").text == "acc-9"
    case = Case.objects.get(number=number)
    assert case.grid == tree.grid_b1 and case.reporter_name == "刘 先生"
    assert case.open311.email == "liu@example.com"


def test_post_with_address_and_attributes_json(client, cat, api_key, attribute):
    r = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": api_key,
            "service_code": "SRHJ01",
            "address_string": "伊春路168号紫云台小区",
            "attribute[time_of_day]": "morning",
            "description": "早晨7点左右就有大量游商浮贩占道经营",
        },
    )
    assert r.status_code == 201, r.content
    (item,) = js(r)
    assert set(item) == {"service_request_id", "service_notice", "account_id"}
    case = Case.objects.get(number=item["service_request_id"])
    assert case.open311.attributes == {"time_of_day": "morning"}


def test_post_json_body_and_multivalue(client, cat, api_key):
    ServiceAttribute.objects.create(
        category=cat["LLDW01"],
        code="kinds",
        datatype="multivaluelist",
        required=False,
        description="动物",
        values=[{"key": "dog", "name": "犬"}, {"key": "cat", "name": "猫"}],
    )
    lat, lng = centre(0)
    r = client.post(
        f"{BASE}/requests.json",
        json.dumps(
            {
                "api_key": api_key,
                "service_code": "LLDW01",
                "lat": lat,
                "long": lng,
                "attribute": {"kinds": ["dog", "cat"]},
            }
        ),
        content_type="application/json; charset=utf-8",
    )
    assert r.status_code == 201, r.content
    case = Case.objects.get(number=js(r)[0]["service_request_id"])
    assert case.open311.attributes == {"kinds": ["dog", "cat"]}


@pytest.mark.parametrize(
    "change, status, words",
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"service_code": "NOPE"}, 404, "service_code"),
        ({"service_code": ""}, 400, "service_code"),
        ({"lat": "", "long": ""}, 400, "location"),
        ({"lat": "abc"}, 400, "lat"),
        ({"lat": str(LAT0), "long": str(LNG0 - 0.05)}, 400, "location"),
        ({"service_code": "SRHJ01"}, 400, "attribute[time_of_day]"),
        ({"service_code": "SRHJ01", "attribute[time_of_day]": "noon"}, 400, "not in its list"),
        ({"description": "x" * 4001}, 400, "4000"),
        ({"jurisdiction_id": "elsewhere.gov"}, 404, "jurisdiction"),
    ],
)
def test_post_errors_are_spec_shaped(client, cat, api_key, attribute, change, status, words):
    lat, lng = centre(0)
    params = {"api_key": api_key, "service_code": "SRHJ04", "lat": lat, "long": lng, **change}
    for fmt in ("xml", "json"):
        r = client.post(f"{BASE}/requests.{fmt}", params)
        assert r.status_code == status, (fmt, r.content)
        if fmt == "xml":
            root = xml(r)
            assert root.tag == "errors"
            error = root.find("error")
            assert int(error.find("code").text) == status
            assert words in error.find("description").text
        else:
            data = js(r)
            assert data[0]["code"] == status and words in data[0]["description"]
    assert Case.objects.count() == 0


def test_malformed_bodies(client, cat, api_key):
    r = client.post(f"{BASE}/requests.json", "{oops", content_type="application/json")
    assert r.status_code == 400 and "JSON" in js(r)[0]["description"]
    r = client.post(f"{BASE}/requests.xml", "<request><a>", content_type="text/xml")
    assert r.status_code == 400 and "XML" in xml(r).find("error/description").text


def test_get_requests_and_one_request(client, report, community_a_staff, cat, depts):
    from yiwang.cases import services as s

    a = report("SRHJ01")
    b = report()
    s.case_accept(actor=community_a_staff, case=a)
    s.case_dispatch(actor=community_a_staff, case=a, lead=depts["cg"])
    root = xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    items = {r.find("service_request_id").text: r for r in root.findall("request")}
    assert set(items) == {a.number, b.number}
    ra = items[a.number]
    assert ra.find("status").text == "open"
    assert ra.find("agency_responsible").text == "区城市管理局"
    assert ra.find("service_code").text == "SRHJ01"
    assert ra.find("requested_datetime").text.endswith("+08:00")
    assert ra.find("expected_datetime").text
    assert float(ra.find("lat").text) == pytest.approx(a.lat)
    data = js(client.get(f"{BASE}/requests/{a.number}.json"))
    assert len(data) == 1 and data[0]["service_request_id"] == a.number
    expected = {
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "service_notice", "requested_datetime",
        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
        "long", "media_url",
    }  # fmt: skip
    assert set(data[0]) == expected
    assert client.get(f"{BASE}/requests/SB00000000-000000.json").status_code == 404


def test_get_requests_filters(client, report, community_a_staff, worker_a, cat):
    from yiwang.cases import services as s

    a, b = report("SRHJ01"), report()
    s.case_accept(actor=community_a_staff, case=b)
    s.case_start(actor=community_a_staff, case=b)
    s.case_reply(actor=community_a_staff, case=b, reply="已清理完毕")
    s.case_verify(actor=worker_a, case=b, ok=True)
    s.case_close(actor=community_a_staff, case=b, outcome="solved")

    def numbers(**params):
        return [r["service_request_id"] for r in js(client.get(f"{BASE}/requests.json", params))]

    assert numbers(status="closed") == [b.number]
    assert numbers(status="open") == [a.number]
    assert numbers(service_code="SRHJ01") == [a.number]
    assert sorted(numbers(service_request_id=f"{a.number},{b.number}", status="closed")) == sorted(
        [a.number, b.number]
    )  # the id list overrides the other parameters
    closed = js(client.get(f"{BASE}/requests/{b.number}.json"))[0]
    assert closed["status"] == "closed" and "已清理完毕" in closed["status_notes"]
    assert numbers(page_size=1, page=1) == [b.number]
    assert numbers(page_size=1, page=2) == [a.number]
    assert (
        numbers(start_date="2000-01-01T00:00:00+08:00", end_date="2000-02-01T00:00:00+08:00") == []
    )
    for bad in (
        {"start_date": "yesterday"},
        {"start_date": "2026-01-01T00:00:00"},  # no time zone
        {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"},
        {"status": "pending"},
        {"page_size": "5000"},
    ):
        r = client.get(f"{BASE}/requests.json", bad)
        assert r.status_code == 400, bad


def test_tokens(client, cat, api_key):
    lat, lng = centre(0)
    r = client.post(
        f"{BASE}/requests.json",
        {"api_key": api_key, "service_code": "SRHJ04", "lat": lat, "long": lng},
    )
    number = js(r)[0]["service_request_id"]
    token = Case.objects.get(number=number).open311.token
    root = xml(client.get(f"{BASE}/tokens/{token}.xml"))
    assert root.find("request/service_request_id").text == number
    assert root.find("request/token").text == token
    assert js(client.get(f"{BASE}/tokens/{token}.json")) == [
        {"service_request_id": number, "token": token}
    ]
    assert client.get(f"{BASE}/tokens/nope.json").status_code == 404


def test_unknown_format(client, db):
    r = client.get(f"{BASE}/services.csv")
    assert r.status_code == 404 and xml(r).tag == "errors"


def test_servicerequestupdates_both_directions(client, report, community_a_staff, api_key):
    from yiwang.cases import services as s

    case = report()
    s.case_accept(actor=community_a_staff, case=case)
    s.case_start(actor=community_a_staff, case=case)
    root = xml(client.get(f"{BASE}/servicerequestupdates.xml"))
    assert root.tag == "service_request_updates"
    updates = root.findall("request_update")
    assert [u.find("status").text for u in updates] == ["OPEN", "IN_PROGRESS"]
    assert all(u.find("service_request_id").text == case.number for u in updates)
    # A FixMyStreet front end forwards a resident's comment.
    r = client.post(
        f"{BASE}/servicerequestupdates.json",
        {
            "api_key": api_key,
            "service_request_id": case.number,
            "update_id": "fms-77",
            "status": "OPEN",
            "description": "今天早上又有人摆摊了",
            "first_name": "先生",
            "last_name": "刘",
        },
    )
    assert r.status_code == 200
    assert js(r)[0]["update_id"]
    assert case.events.filter(note="今天早上又有人摆摊了").exists()
    # Its own updates are not echoed back to it.
    statuses = [u["status"] for u in js(client.get(f"{BASE}/servicerequestupdates.json"))]
    assert statuses == ["OPEN", "IN_PROGRESS"]
    r = client.post(f"{BASE}/servicerequestupdates.json", {"service_request_id": case.number})
    assert r.status_code == 403


def test_rate_limit_per_key(client, cat, db):
    from django.core.cache import cache

    from yiwang.intake.keys import api_client_create

    cache.clear()
    _c, key = api_client_create(actor=None, name="慢速客户端", rate_per_minute=2)
    lat, lng = centre(0)
    params = {"api_key": key, "service_code": "SRHJ04", "lat": lat, "long": lng}
    codes = [client.post(f"{BASE}/requests.json", params).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
