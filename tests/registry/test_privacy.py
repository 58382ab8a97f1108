"""Scope isolation, masking, reveal and the access log, through the API: every persona's side.
Grid A1's worker must not list, search, view or export grid B1's people."""

import pytest

from tests.conftest import login
from yiwang.registry.models import AccessLog, Resident, ResidentLink
from yiwang.registry.services import resident_link_add

URL = "/api/v1/registry/residents"


def names(client, **params):
    r = client.get(URL, params)
    assert r.status_code == 200, r.content
    return sorted(i["name"] for i in r.json()["items"])


@pytest.mark.parametrize(
    "persona, visible",
    [
        ("leader", ["张三", "李四"]),
        ("admin_user", ["张三", "李四"]),
        ("street_staff", ["张三"]),
        ("community_staff", ["李四"]),
        ("worker_a", ["张三"]),
        ("worker_b", ["李四"]),
        ("department_staff", []),
        ("outsider", []),
    ],
)
def test_list_is_scoped(client, request, person_a, person_b, persona, visible):
    login(client, request.getfixturevalue(persona))
    assert names(client) == visible


def test_worker_a_cannot_search_view_or_export_grid_b(client, worker_a, person_a, person_b):
    login(client, worker_a)
    assert names(client, q="李四", purpose="visit") == []
    assert names(client, q=person_b.id_number, purpose="visit") == []
    assert names(client, grid_id=person_b.grid_id) == []
    assert client.get(f"{URL}/{person_b.id}").status_code == 404
    assert (
        client.post(
            f"{URL}/{person_b.id}/reveal", {"reason": "回访"}, "application/json"
        ).status_code
        == 404
    )
    assert (
        client.patch(f"{URL}/{person_b.id}", {"name": "x"}, "application/json").status_code == 404
    )
    assert client.post(f"{URL}/{person_b.id}/archive").status_code == 404
    r = client.get(f"{URL}/export", {"format": "csv", "purpose": "visit"})
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "张三" in text and "李四" not in text
    Resident.objects.get(id=person_b.id, name="李四", archived_at=None)


def test_anonymous_gets_401(client, person_a):
    assert client.get(URL).status_code == 401


def test_list_is_masked_by_default(client, worker_a, person_a):
    login(client, worker_a)
    item = client.get(URL).json()["items"][0]
    assert item["masked"]
    assert item["id_number"] == person_a.id_number[:4] + "*" * 10 + person_a.id_number[-4:]
    assert item["phones"] == ["138****8000"]
    card = client.get(f"{URL}/{person_a.id}").json()
    assert card["id_number"].count("*") == 10 and card["phones"] == ["138****8000"]
    assert card["tags"] == ["独居老人"]
    assert card["grid"]["code"] == "S01C0101"


def test_reveal_needs_permission_and_reason_and_is_logged(
    client, worker_a, department_staff, leader, person_a
):
    ResidentLink.objects.create(
        resident=person_a, department_id=department_staff.roles.get().department_id, ref="x"
    )
    login(client, worker_a)
    r = client.post(f"{URL}/{person_a.id}/reveal", {"reason": ""}, "application/json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = client.post(
        f"{URL}/{person_a.id}/reveal", {"reason": "上门走访核对身份"}, "application/json"
    )
    assert r.status_code == 200
    assert r.json() == {
        "id": person_a.id,
        "id_number": person_a.id_number,
        "phones": ["13800138000"],
    }
    log = AccessLog.objects.get(action="reveal")
    assert (log.actor, log.reason, log.record_count, log.object_id) == (
        worker_a,
        "上门走访核对身份",
        1,
        person_a.id,
    )
    # The leader sees the person but has no right to reveal.
    login(client, leader)
    assert (
        client.post(
            f"{URL}/{person_a.id}/reveal", {"reason": "看看"}, "application/json"
        ).status_code
        == 403
    )
    assert AccessLog.objects.filter(action="reveal").count() == 1


def test_department_sees_only_linked_people(client, tree, department_staff, person_a, person_b):
    login(client, department_staff)
    assert names(client) == []
    assert client.get(f"{URL}/{person_a.id}").status_code == 404
    resident_link_add(
        actor=None, resident=person_a, department=tree.chengguan, ref="SB20261130-000001"
    )
    assert names(client) == ["张三"]
    assert client.get(f"{URL}/{person_a.id}").status_code == 200
    assert client.get(f"{URL}/{person_b.id}").status_code == 404


def _log_count():
    return AccessLog.objects.count()


def test_every_read_writes_exactly_one_log_row(client, worker_a, person_a):
    login(client, worker_a)
    before = _log_count()
    client.get(URL)
    assert _log_count() == before + 1
    row = AccessLog.objects.latest("id")
    assert (row.action, row.record_count, row.actor) == ("list", 1, worker_a)

    client.get(URL, {"q": "张", "purpose": "visit"})
    assert _log_count() == before + 2
    row = AccessLog.objects.latest("id")
    assert (row.action, row.purpose, row.filter["q"]) == ("search", "visit", "张")

    client.get(f"{URL}/{person_a.id}")
    assert _log_count() == before + 3
    assert AccessLog.objects.latest("id").action == "view"

    r = client.get(f"{URL}/export", {"format": "xlsx", "purpose": "statistics"})
    assert r.status_code == 200
    b"".join(r.streaming_content)
    assert _log_count() == before + 4
    row = AccessLog.objects.latest("id")
    assert (row.action, row.record_count) == ("export", 1)

    client.post(f"{URL}/{person_a.id}/reveal", {"reason": "电话回访"}, "application/json")
    assert _log_count() == before + 5


def test_search_and_export_require_a_purpose(client, worker_a, person_a):
    login(client, worker_a)
    before = _log_count()
    r = client.get(URL, {"q": "张"})
    assert r.status_code == 400 and r.json()["field"] == "purpose"
    r = client.get(URL, {"q": "张", "purpose": "other"})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    assert client.get(f"{URL}/export", {"format": "csv"}).status_code == 400
    assert _log_count() == before


def test_list_of_many_is_one_row_with_the_count(client, leader, person_a, person_b):
    login(client, leader)
    client.get(URL)
    row = AccessLog.objects.latest("id")
    assert row.record_count == 2 and row.filter["total"] == 2


def test_export_carries_the_exporter_line_and_is_masked(client, worker_a, person_a):
    worker_a.first_name = "王五"
    worker_a.save(update_fields=["first_name"])
    login(client, worker_a)
    r = client.get(f"{URL}/export", {"format": "csv", "purpose": "visit"})
    lines = b"".join(r.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("导出人: 王五 (worker_a);导出时间: ")
    assert "已脱敏" in lines[0]
    assert lines[1].startswith("姓名,性别")
    assert "3702**********" in lines[2] and person_a.id_number not in lines[2]
    assert "138****8000" in lines[2]


def test_export_revealed_needs_reason(client, worker_a, person_a):
    login(client, worker_a)
    r = client.get(f"{URL}/export", {"format": "csv", "purpose": "visit", "reveal": True})
    assert r.status_code == 400
    r = client.get(
        f"{URL}/export", {"format": "csv", "purpose": "visit", "reason": "入户核查", "reveal": True}
    )
    assert person_a.id_number in b"".join(r.streaming_content).decode("utf-8-sig")
    assert AccessLog.objects.latest("id").filter["revealed"] is True


def test_export_needs_permission(client, leader, person_a):
    login(client, leader)
    assert client.get(f"{URL}/export", {"format": "csv", "purpose": "visit"}).status_code == 403


def test_access_log_is_for_auditors_only(client, auditor, admin_user, worker_a, person_a):
    login(client, worker_a)
    client.get(URL)
    for user in (worker_a, admin_user):
        login(client, user)
        assert client.get("/api/v1/registry/access-log").status_code == 403
    login(client, auditor)
    rows = client.get("/api/v1/registry/access-log").json()
    assert rows[0]["actor_name"] == "worker_a" and rows[0]["action"] == "list"


def test_access_log_is_append_only(worker_a, person_a):
    from yiwang.registry.models import AccessLogError
    from yiwang.registry.privacy import access_log_write

    row = access_log_write(actor=worker_a, action="list", record_count=1)
    row.record_count = 0
    with pytest.raises(AccessLogError):
        row.save()
    with pytest.raises(AccessLogError):
        row.delete()
