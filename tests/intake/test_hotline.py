"""The 12345 hotline feed: idempotence, routing by address to the street's squad, the file
drop, and replies pushed to a fake hotline receiver on loopback that fails, then recovers."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.utils import timezone

from yiwang.cases import services as s
from yiwang.intake.hotline import outbox_tick, sign
from yiwang.intake.models import HotlineTicket, Outbox

# The source document's call summaries.
LIU = {
    "ticket_no": "12345-20260812-0001",
    "called_at": "2026-08-12T07:20:00+08:00",
    "caller": "刘先生",
    "phone": "138 0000 1111",
    "address": "市北区伊春路168号紫云台小区",
    "content": "市北区伊春路168号紫云台小区门口早晨7点左右就有大量游商浮贩占道经营。"
    "希望合肥路街道办事处综合治理执法中队尽快清理整治,并答复。",
    "wants_reply": True,
}
WANG = {
    "ticket_no": "12345-20260812-0002",
    "called_at": "2026-08-12T09:05:00+08:00",
    "caller": "王先生",
    "phone": "13900002222",
    "address": "市北区铁山路22号甲小区后院",
    "content": "市北区铁山路22号甲小区后院卫生脏乱差,存在蚊虫鼠蚁孳生的问题,请责任部门尽快清理卫生,并答复。",
}


def post(client, key, data):
    return client.post(
        "/api/v1/intake/hotline", data, content_type="application/json", HTTP_X_API_KEY=key
    )


@pytest.fixture
def squad_b(tree):
    return tree.squad_b  # 合肥路街道综合行政执法中队


def test_ticket_becomes_a_case_routed_to_the_streets_squad(client, cat, api_key, tree, squad_b):
    r = post(client, api_key, LIU)
    assert r.status_code == 201, r.json()
    data = r.json()
    assert data["created"] and data["routed_to"] == "合肥路街道综合行政执法中队"
    ticket = HotlineTicket.objects.get(ticket_no=LIU["ticket_no"])
    case = ticket.case
    assert case.channel == "hotline" and case.category.name == "占道经营"
    assert case.grid == tree.grid_b1 and case.street == tree.street_b
    assert case.state == "dispatched" and case.department == squad_b
    assert case.reporter_phone == "13800001111"  # spaces normalised
    assert case.reported_at.isoformat().startswith("2026-08-12T07:20") or case.reported_at


def test_replayed_ticket_changes_nothing(client, cat, api_key, squad_b):
    first = post(client, api_key, LIU).json()
    again = post(client, api_key, LIU)
    assert again.status_code == 200
    assert again.json()["case_number"] == first["case_number"] and not again.json()["created"]
    assert HotlineTicket.objects.count() == 1


def test_category_department_wins_over_the_squad(client, cat, api_key, depts, tree):
    cat["SRHJ04"].department = depts["cg"]
    cat["SRHJ04"].save()
    data = post(client, api_key, WANG).json()
    assert data["routed_to"] == "区城市管理局"


def test_unplaceable_address_waits_visibly(client, cat, api_key, leader, squad_b):
    from tests.conftest import login

    bad = {**LIU, "ticket_no": "T-9", "address": "长江路8号"}
    data = post(client, api_key, bad).json()
    assert data["waiting_for_address"] and data["case_number"] is None
    assert "长江路" in data["problem"]
    login(client, leader)
    waiting = client.get("/api/v1/intake/hotline/waiting").json()
    assert [w["ticket_no"] for w in waiting] == ["T-9"]
    r = client.post(
        "/api/v1/intake/hotline/T-9/place",
        {"address": "伊春路168号紫云台小区"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["case_number"]


def test_hotline_needs_a_key_and_names_bad_fields(client, cat, api_key):
    assert post(client, "wrong", LIU).status_code == 401
    r = post(client, api_key, {**LIU, "called_at": "yesterday"})
    assert r.status_code == 400 and r.json()["field"] == "called_at"
    r = post(client, api_key, {k: v for k, v in LIU.items() if k != "content"})
    assert r.status_code == 400 and r.json()["field"] == "content"


def test_file_drop(cat, squad_b, tmp_path):
    from openpyxl import Workbook

    from yiwang.intake.hotline import tickets_import

    wb = Workbook()
    ws = wb.active
    ws.append(["12345热线工单导出"])
    ws.append(["工单编号", "来电时间", "来电人", "联系电话", "地址", "来电内容", "是否需要答复"])
    ws.append(
        [
            LIU["ticket_no"],
            "2026-08-12 07:20",
            "刘先生",
            "13800001111",
            LIU["address"],
            LIU["content"],
            "是",
        ]
    )
    ws.append(["X-2", "昨天", "王先生", "", WANG["address"], WANG["content"], "是"])
    ws.append(["X-3", "2026-08-12 10:00", "", "", "", "无地址", "否"])
    path = tmp_path / "hotline.xlsx"
    wb.save(path)
    dry = tickets_import(actor=None, path=path)
    assert dry.total == 3 and HotlineTicket.objects.count() == 0
    assert [(p[0], p[1]) for p in dry.problems] == [(4, "来电时间"), (5, "地址")]
    done = tickets_import(actor=None, path=path, commit=True)
    assert done.created == 1
    again = tickets_import(actor=None, path=path, commit=True)
    assert again.created == 0 and again.replayed == 1
    missing = tmp_path / "missing.csv"
    missing.write_text("工单编号,地址\nA,B\n", encoding="utf-8")
    report = tickets_import(actor=None, path=missing)
    assert report.problems and "来电时间" in report.problems[0][1]


class Receiver:
    """A fake hotline system on loopback: answers 503 `failures` times, then 200."""

    def __init__(self, failures: int):
        self.failures = failures
        self.received: list[tuple[dict, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                outer.received.append((json.loads(body), self.headers["X-Yiwang-Signature"]))
                outer.raw = body
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/replies"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(failures=3)
    yield r
    r.close()


def test_reply_is_pushed_back_with_backoff_until_acknowledged(
    transactional_db, client, cat, api_key, squad_b, receiver, tree
):
    from tests.cases.conftest import user
    from yiwang.org.models import RoleKind

    handler = user("squad_b_handler", RoleKind.DEPARTMENT_STAFF, squad_b)
    with override_settings(YIWANG_HOTLINE_REPLY_URL=receiver.url, YIWANG_HOTLINE_SECRET="s3cret"):
        number = post(client, api_key, LIU).json()["case_number"]
        from yiwang.cases.models import Case

        case = Case.objects.get(number=number)
        s.case_start(actor=handler, case=case)
        s.case_reply(
            actor=handler,
            case=case,
            reply="执法中队已对占道经营商户逐一上门引导,加大重点时段管控,人民路占道经营问题已得到整治。",
        )
        (item,) = Outbox.objects.all()
        assert item.status == "pending" and item.payload["ticket_no"] == LIU["ticket_no"]
        now = timezone.now()
        # The receiver is down: three failures, each retried later than the one before.
        delays = []
        for _ in range(3):
            assert outbox_tick(now=now) == {"sent": 0, "failed": 1}
            item.refresh_from_db()
            assert item.status == "failed" and "503" in item.last_error
            delays.append(item.next_attempt_at - now)
            assert outbox_tick(now=now) == {"sent": 0, "failed": 0}  # not due yet
            now = item.next_attempt_at
        assert delays[0] < delays[1] < delays[2]
        # An hour later it is back: delivered once, signed, nothing lost.
        assert outbox_tick(now=now + timedelta(hours=1)) == {"sent": 1, "failed": 0}
        item.refresh_from_db()
        assert item.status == "delivered" and item.attempts == 4
        ((payload, signature),) = receiver.received
        assert payload["reply"].endswith("已得到整治。") and payload["case_number"] == number
        assert signature == sign(receiver.raw, "s3cret")
        assert outbox_tick(now=now + timedelta(hours=2)) == {"sent": 0, "failed": 0}


def test_non_hotline_replies_owe_nothing(report, community_a_staff):
    case = report()
    s.case_accept(actor=community_a_staff, case=case)
    s.case_start(actor=community_a_staff, case=case)
    s.case_reply(actor=community_a_staff, case=case, reply="已处理")
    assert not Outbox.objects.exists()
