"""The case pages through Django's test client: the desk queue and its scope, every action form,
conflicts (409) and field errors (400), escaping, the public report form, my reports with the
rating, and the reply wall with its review."""

from __future__ import annotations

import pytest
from django.urls import include, path

import yiwang.urls as root
from tests.cases.conftest import jpeg
from tests.conftest import centre, login
from yiwang.cases import services as s
from yiwang.cases import wall
from yiwang.cases.models import Assignment, Case, CaseEvent, WallPost
from yiwang.cases.states import Outcome, State
from yiwang.cases.urls import wall_patterns

# The case pages mounted as the project mounts them (cases/ and wall/), whether or not the
# project's urls.py includes them yet.
urlpatterns = [
    p for p in root.urlpatterns if getattr(p, "namespace", None) not in ("cases", "wall")
] + [path("cases/", include("yiwang.cases.urls")), path("wall/", include(wall_patterns))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def html(response) -> str:
    return response.content.decode()


def act(client, case, action, **fields):
    """Posts an action form the way the page does: prefixed fields and the case's version."""
    case.refresh_from_db()
    data = {f"{action}-expected_version": case.version}
    data.update({f"{action}-{k}": v for k, v in fields.items()})
    return client.post(f"/cases/{case.id}/actions/{action}/", data)


def state(case) -> str:
    case.refresh_from_db()
    return case.state


def closed_case(report, staff, worker, **kw):
    case = report(**kw)
    s.case_accept(actor=staff, case=case)
    s.case_start(actor=staff, case=case)
    s.case_reply(actor=staff, case=case, reply="已安排环卫人员清理。")
    s.case_verify(actor=worker, case=case, ok=True)
    return s.case_close(actor=staff, case=case, outcome=Outcome.SOLVED)


# -- queue and scope -------------------------------------------------------------------------


def test_queue_shows_only_visible_cases(client, report, worker_b, tree):
    a1 = report(title="小港第一网格的事")
    b1 = report(title="紫云第一网格的事", i=2)
    response = login(client, worker_b).get("/cases/")
    assert response.status_code == 200
    body = html(response)
    assert b1.number in body and "紫云第一网格的事" in body
    assert a1.number not in body and "小港第一网格的事" not in body
    assert client.get(f"/cases/{a1.id}/").status_code == 404
    assert client.post(f"/cases/{a1.id}/actions/accept/").status_code == 404
    assert client.get(f"/cases/{b1.id}/").status_code == 200


def test_outsider_sees_nothing_and_anonymous_must_log_in(client, report, outsider):
    case = report()
    assert client.get("/cases/").status_code == 302
    assert client.get(f"/cases/{case.id}/").status_code == 302
    login(client, outsider)
    response = client.get("/cases/")
    assert case.number not in html(response)
    assert 'data-testid="queue-empty"' in html(response)
    assert client.get(f"/cases/{case.id}/").status_code == 404


def test_queue_counts_filters_and_overdue_first(client, report, community_a_staff):
    late = report(title="超期的事")
    Case.objects.filter(id=late.id).update(is_overdue=True)
    other = report("SRHJ01", title="占道经营的事")
    s.case_accept(actor=community_a_staff, case=other)
    login(client, community_a_staff)
    response = client.get("/cases/")
    rows = [c.id for c in response.context["page"].object_list]
    assert rows[0] == late.id and other.id in rows
    assert response.context["overdue_count"] == 1
    chips = {c["state"]: c["n"] for c in response.context["chips"]}
    assert chips == {"reported": 1, "accepted": 1}
    only = client.get("/cases/", {"state": "accepted"}).context["page"].object_list
    assert [c.id for c in only] == [other.id]
    assert [c.id for c in client.get("/cases/", {"overdue": "on"}).context["page"]] == [late.id]
    assert [c.id for c in client.get("/cases/", {"q": "占道"}).context["page"]] == [other.id]
    found = client.get("/cases/", {"category": other.category_id}).context["page"].object_list
    assert [c.id for c in found] == [other.id]
    parent = client.get("/cases/", {"category": other.category.parent_id}).context["page"]
    assert {c.id for c in parent.object_list} == {late.id, other.id}
    # htmx asks for the results only.
    partial = client.get("/cases/", {"state": "reported"}, HTTP_HX_REQUEST="true")
    assert "<html" not in html(partial) and late.number in html(partial)


def test_department_sees_its_assignments_pending_check_in_first(
    client, report, street_staff, handlers, depts
):
    plain = report("SRHJ01", title="分办的事")
    s.case_accept(actor=street_staff, case=plain)
    s.case_dispatch(actor=street_staff, case=plain, lead=depts["cg"])
    joint = report("WZDJ01", title="联办的事")
    s.case_accept(actor=street_staff, case=joint)
    s.case_dispatch(actor=street_staff, case=joint, lead=depts["zj"], assists=[depts["cg"]])
    report(title="没派给城管的事")
    response = login(client, handlers["cg"]).get("/cases/")
    rows = list(response.context["page"].object_list)
    assert [c.id for c in rows] == [joint.id, plain.id]
    assert "待报到" in html(response)


# -- detail and actions ----------------------------------------------------------------------


def test_detail_shows_case_and_only_allowed_actions(client, report, community_a_staff, resident):
    case = report(description="门口堆了很多杂物\n第二行")
    response = login(client, community_a_staff).get(f"/cases/{case.id}/")
    body = html(response)
    assert response.status_code == 200
    assert case.number in body and "门口堆了很多杂物<br>第二行" in body
    actions = [f["action"] for f in response.context["action_forms"]]
    assert actions == ["accept", "reject", "escalate", "merge"]  # no 领办: not a leader
    assert "13800001111" in body  # handlers see the contact
    assert 'id="case-map"' in body and 'data-testid="timeline"' in body
    # The reporter sees the case but no desk actions.
    client.force_login(resident)
    response = client.get(f"/cases/{case.id}/")
    assert [f["action"] for f in response.context["action_forms"]] == []


def test_each_action_form_changes_state(client, report, community_a_staff, worker_a, resident):
    case = report()
    login(client, community_a_staff)
    response = act(client, case, "accept", note="已受理")
    assert response.status_code == 302 and state(case) == State.ACCEPTED
    assert "已完成“受理”" in html(client.get(response["Location"]))
    assert act(client, case, "start").status_code == 302 and state(case) == State.IN_PROGRESS
    assert act(client, case, "reply", reply="已安排清理").status_code == 302
    assert state(case) == State.REPLIED
    login(client, worker_a)
    assert act(client, case, "verify_fail", note="杂物仍在").status_code == 302
    assert state(case) == State.IN_PROGRESS
    login(client, community_a_staff)
    act(client, case, "reply", reply="已再次清理")
    login(client, worker_a)
    assert act(client, case, "verify", note="现场已干净").status_code == 302
    assert state(case) == State.VERIFIED
    login(client, community_a_staff)
    response = act(client, case, "close", outcome="solved", note="已清理完毕")
    assert response.status_code == 302 and state(case) == State.CLOSED
    assert case.outcome == Outcome.SOLVED
    assert act(client, case, "reopen", reason="群众再次反映").status_code == 302
    assert state(case) == State.REOPENED
    timeline = [e for e in client.get(f"/cases/{case.id}/").context["d"]["events"]]
    assert [e["action"] for e in timeline][-2:] == ["close", "reopen"]
    assert timeline[-1]["from_label"] == "已办结" and timeline[-1]["to_label"] == "已重办"


def test_dispatch_return_and_department_handling(
    client, report, community_a_staff, handlers, depts, worker_a
):
    case = report("SRHJ01", title="人民路占道经营")
    login(client, community_a_staff)
    act(client, case, "accept")
    response = act(client, case, "dispatch", lead=depts["zj"].id, note="请住建处理")
    assert response.status_code == 302 and state(case) == State.DISPATCHED
    assert case.department == depts["zj"]
    login(client, handlers["zj"])
    assert "return" in [
        f["action"] for f in client.get(f"/cases/{case.id}/").context["action_forms"]
    ]
    assert act(client, case, "return", reason="不属住建职责").status_code == 302
    assert state(case) == State.RETURNED
    login(client, community_a_staff)
    act(client, case, "dispatch", lead=depts["cg"].id)
    login(client, handlers["cg"])
    assert act(client, case, "start").status_code == 302 and state(case) == State.IN_PROGRESS
    # The reply form offers the category's templates, filled with the unit's name.
    detail = client.get(f"/cases/{case.id}/")
    reply_form = next(f for f in detail.context["action_forms"] if f["action"] == "reply")
    ((tid, _title, text),) = reply_form["form"].templates
    assert "区城市管理局" in text and "{unit}" not in text
    # Choosing a template and leaving the text empty replies with the template.
    assert act(client, case, "reply", template=str(tid)).status_code == 302
    case.refresh_from_db()
    assert case.state == State.REPLIED and case.reply == text


def test_joint_check_in_and_part_done(client, report, street_staff, handlers, depts):
    case = report("WZDJ01", title="楼顶违章搭建")
    login(client, street_staff)
    act(client, case, "accept")
    response = act(
        client, case, "dispatch", lead=depts["zj"].id, assists=[depts["cg"].id, depts["sthj"].id]
    )
    assert response.status_code == 302
    assert set(case.assignments.values_list("status", flat=True)) == {"pending"}
    body = html(client.get(f"/cases/{case.id}/"))
    assert body.count("待报到") >= 3
    login(client, handlers["cg"])
    assert act(client, case, "check_in").status_code == 302
    assert Assignment.objects.get(case=case, department=depts["cg"]).status == "checked_in"
    assert act(client, case, "part_done", note="已拆除违建部分").status_code == 302
    assert Assignment.objects.get(case=case, department=depts["cg"]).status == "done"
    # Checking in twice is a conflict, shown with its message.
    response = act(client, case, "check_in")
    assert response.status_code == 409 and "本部门已报到" in html(response)


def test_reject_as_duplicate_and_merge_ask_for_the_original(client, report, community_a_staff):
    original = report(title="原事件")
    dup = report(title="重复的事")
    other = report(title="又一件重复的事")
    login(client, community_a_staff)
    response = act(client, dup, "reject", reject_outcome="duplicate", reason="同一问题")
    assert response.status_code == 400 and "重复件须关联原事件" in html(response)
    response = act(
        client, dup, "reject", reject_outcome="duplicate", reason="同一问题", duplicate_of="SB0"
    )
    assert response.status_code == 400 and "未找到该编号的事件" in html(response)
    response = act(
        client,
        dup,
        "reject",
        reject_outcome="duplicate",
        reason="同一问题",
        duplicate_of=original.number,
    )
    assert response.status_code == 302 and state(dup) == State.REJECTED
    assert dup.duplicate_of == original
    assert act(client, other, "merge", duplicate_of=original.number).status_code == 302
    other.refresh_from_db()
    assert other.state == State.REJECTED and other.duplicate_of == original


def test_take_and_escalate(client, report, community_a_staff, street_a_leader):
    case = report()
    login(client, community_a_staff)
    response = act(client, case, "escalate")
    assert response.status_code == 400
    assert "上报理由:这个字段是必填项。" in html(response)
    assert state(case) == State.REPORTED
    assert act(client, case, "escalate", reason="社区无法处理").status_code == 302
    assert state(case) == State.ESCALATED and case.level == "street"
    login(client, street_a_leader)
    assert act(client, case, "take", note="我来领办").status_code == 302
    case.refresh_from_db()
    assert case.leader == street_a_leader


def test_close_before_reply_is_a_409_with_allowed_steps_and_changes_nothing(
    client, report, community_a_staff
):
    case = report()
    s.case_accept(actor=community_a_staff, case=case)
    s.case_start(actor=community_a_staff, case=case)
    case.refresh_from_db()
    before = (case.state, case.version, case.events.count())
    login(client, community_a_staff)
    response = act(client, case, "close", outcome="solved", note="办完了")
    assert response.status_code == 409
    body = html(response)
    assert 'data-testid="conflict"' in body
    assert "当前状态“办理中”不能办结" in body
    assert "可进行的操作:" in body and "答复" in body
    # The actions offered are those the state allows now.
    assert "reply" in [f["action"] for f in response.context["action_forms"]]
    case.refresh_from_db()
    assert (case.state, case.version, case.events.count()) == before
    assert case.outcome == "" and case.closed_at is None


def test_stale_version_is_a_409_and_htmx_gets_the_fragment(client, report, community_a_staff):
    case = report()
    login(client, community_a_staff)
    data = {"accept-expected_version": case.version - 1 if case.version > 1 else 99}
    response = client.post(f"/cases/{case.id}/actions/accept/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    body = html(response)
    assert "<html" not in body and 'id="case"' in body
    assert "已被他人更新" in body
    assert state(case) == State.REPORTED
    ok = act(client, case, "accept")
    assert ok.status_code == 302
    # htmx success answers with the updated case, timeline included.
    response = client.post(
        f"/cases/{case.id}/actions/start/",
        {"start-expected_version": Case.objects.get(id=case.id).version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'data-state="in_progress"' in html(response) and "已完成“开始办理”" in html(response)
    assert 'data-action="start"' in html(response)


def test_close_outcome_needs_reason_named_in_chinese(client, report, community_a_staff, worker_a):
    case = report()
    for step in ("accept", "start"):
        getattr(s, f"case_{step}")(actor=community_a_staff, case=case)
    s.case_reply(actor=community_a_staff, case=case, reply="已处理")
    s.case_verify(actor=worker_a, case=case, ok=True)
    login(client, community_a_staff)
    response = act(client, case, "close", outcome="not_ours")
    assert response.status_code == 400
    assert "结果说明:“非本单位职责”须说明原因" in html(response)
    response = act(client, case, "close", outcome="not_ours", note="属燃气公司")
    assert "请填写已移交的单位" in html(response)
    response = act(
        client, case, "close", outcome="not_ours", note="属燃气公司", transferred_to="燃气公司"
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.outcome == Outcome.NOT_OURS and case.transferred_to == "燃气公司"


def test_user_text_is_escaped(client, report, community_a_staff):
    case = report(
        title="<script>alert(1)</script>", description="<b>粗体</b><img src=x onerror=alert(2)>"
    )
    login(client, community_a_staff)
    for url in ("/cases/", f"/cases/{case.id}/"):
        body = html(client.get(url))
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    body = html(client.get(f"/cases/{case.id}/"))
    assert "<img src=x" not in body and "&lt;b&gt;粗体&lt;/b&gt;" in body


# -- report form -----------------------------------------------------------------------------


def report_data(cat, **kw):
    lat, lng = centre(0)
    data = {
        "category": cat["SRHJ04"].id,
        "title": "楼道堆满杂物",
        "description": "请尽快清理",
        "lat": f"{lat:.6f}",
        "lng": f"{lng:.6f}",
        "address": "",
        "reporter_name": "",
        "reporter_phone": "",
        "idempotency_key": "key-0001",
    }
    data.update(kw)
    return data


def test_report_form_renders_for_anyone(client, cat):
    response = client.get("/cases/new/")
    assert response.status_code == 200
    body = html(response)
    assert "问题类别" in body and "<optgroup" in body and 'id="report-map"' in body
    assert 'name="idempotency_key"' in body
    assert response.context["map_config"]["bounds"] is not None


def test_anonymous_report_and_idempotency(client, cat, tree):
    data = report_data(cat, photo=jpeg("scene.jpg"))
    response = client.post("/cases/new/", data)
    assert response.status_code == 302 and response["Location"] == "/cases/new/done/"
    case = Case.objects.get()
    assert case.reporter is None and case.grid == tree.grid_a1 and case.anonymous
    assert case.attachments.count() == 1
    done = client.get("/cases/new/done/")
    assert case.number in html(done)
    # The same form sent again (double tap, reload) makes no second case or photo.
    again = client.post("/cases/new/", report_data(cat, photo=jpeg("scene.jpg")))
    assert again.status_code == 302
    assert Case.objects.count() == 1 and case.attachments.count() == 1
    assert client.post("/cases/new/", report_data(cat, idempotency_key="key-2")).status_code == 302
    assert Case.objects.count() == 2


def test_signed_in_report_links_to_the_case(client, cat, resident):
    login(client, resident)
    client.post("/cases/new/", report_data(cat, reporter_name="刘先生"))
    case = Case.objects.get()
    assert case.reporter == resident and case.reporter_name == "刘先生"
    body = html(client.get("/cases/new/done/"))
    assert f"/cases/{case.id}/" in body
    assert client.get(f"/cases/{case.id}/").status_code == 200
    assert case.number in html(client.get("/cases/mine/"))


def test_non_image_upload_is_refused_with_a_field_message(client, cat):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("photo.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")
    response = client.post("/cases/new/", report_data(cat, photo=fake))
    assert response.status_code == 400
    body = html(response)
    assert "现场照片:文件不是有效的图片" in body
    assert 'data-field="photo"' in body
    assert Case.objects.count() == 0


def test_point_outside_the_district_keeps_what_was_typed(client, cat):
    response = client.post(
        "/cases/new/", report_data(cat, lat="36.2", lng="120.9", title="我输入的标题")
    )
    assert response.status_code == 400
    body = html(response)
    assert "该位置不在本区范围内" in body
    assert "位置:该位置不在本区范围内" in body
    assert 'value="我输入的标题"' in body and "请尽快清理" in body
    assert 'value="36.2"' in body and 'value="key-0001"' in body
    assert Case.objects.count() == 0


def test_no_place_at_all_is_named(client, cat):
    response = client.post("/cases/new/", report_data(cat, lat="", lng=""))
    assert response.status_code == 400
    assert "位置:请在地图上点选位置或填写地址" in html(response)
    response = client.post("/cases/new/", report_data(cat, category=cat["SRHJ"].id))
    assert "问题类别:" in html(response)


def test_nearby_suggests_open_cases_of_the_category(client, report, cat, resident):
    case = report(title="门口堆放杂物,电话13800001111")
    lat, lng = centre(0)
    params = {"category": cat["SRHJ04"].id, "lat": lat + 0.0001, "lng": lng}
    response = client.get("/cases/new/nearby/", params, HTTP_HX_REQUEST="true")
    body = html(response)
    assert case.number in body and "13800001111" not in body  # redacted for strangers
    assert f"/cases/{case.id}/" not in body
    login(client, resident)
    body = html(client.get("/cases/new/nearby/", params))
    assert f"/cases/{case.id}/" in body
    far = client.get("/cases/new/nearby/", {**params, "lat": lat + 0.004})
    assert case.number not in html(far)
    other = client.get("/cases/new/nearby/", {**params, "category": cat["SRHJ01"].id})
    assert case.number not in html(other)


# -- my reports ------------------------------------------------------------------------------


def test_my_reports_and_rating(client, report, community_a_staff, worker_a, resident):
    case = closed_case(report, community_a_staff, worker_a)
    open_case = report(title="还在办的事")
    login(client, resident)
    response = client.get("/cases/mine/")
    body = html(response)
    assert case.number in body and open_case.number in body
    assert "已安排环卫人员清理" in body and "已解决" in body
    assert body.count('data-testid="rate-form"') == 1
    url = f"/cases/mine/{case.id}/rate/"
    response = client.post(url, {f"r{case.id}-satisfaction": "unsatisfied"})
    assert response.status_code == 400 and "请说明不满意的原因" in html(response)
    response = client.post(
        url, {f"r{case.id}-satisfaction": "unsatisfied", f"r{case.id}-note": "杂物又堆上了"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == State.REOPENED and case.reopen_count == 1
    # Another resident's case cannot be rated.
    assert client.post(f"/cases/mine/{open_case.id}/rate/", {}).status_code in (400, 409)


def test_rating_twice_is_a_conflict(client, report, community_a_staff, worker_a, resident):
    case = closed_case(report, community_a_staff, worker_a)
    login(client, resident)
    url = f"/cases/mine/{case.id}/rate/"
    assert client.post(url, {f"r{case.id}-satisfaction": "satisfied"}).status_code == 302
    response = client.post(url, {f"r{case.id}-satisfaction": "basic"})
    assert response.status_code == 409 and "已评价" in html(response)
    assert 'data-testid="rate-form"' not in html(client.get("/cases/mine/"))


# -- reply wall ------------------------------------------------------------------------------


def test_wall_is_public_shows_only_published_and_never_a_phone(
    client, report, community_a_staff, worker_a, street_staff
):
    shown = closed_case(
        report,
        community_a_staff,
        worker_a,
        title="人民路占道经营",
        description="刘先生反映人民路占道经营严重,联系电话13800001111,住3单元502室。",
    )
    hidden = closed_case(report, community_a_staff, worker_a, title="尚未审核的事")
    post = wall.wall_propose(actor=community_a_staff, case=shown)
    wall.wall_review(actor=street_staff, post=post, approve=True)
    wall.wall_propose(actor=community_a_staff, case=hidden)
    response = client.get("/wall/")
    assert response.status_code == 200
    body = html(response)
    assert "■人民路占道经营问题已得到处理" in body
    assert "市民刘先生反映" in body and "已安排环卫人员清理" in body
    assert "尚未审核的事" not in body
    assert "13800001111" not in body and "1380000" not in body and "502室" not in body
    street = shown.street_id
    assert "人民路" in html(client.get("/wall/", {"street": street}))
    other = client.get("/wall/", {"street": shown.street_id + 1000})
    assert other.status_code == 200


def test_propose_from_detail_and_review(client, report, community_a_staff, worker_a, street_staff):
    case = closed_case(report, community_a_staff, worker_a, title="人民路占道经营")
    login(client, community_a_staff)
    body = html(client.get(f"/cases/{case.id}/"))
    assert 'data-testid="wall-propose"' in body
    response = client.post(f"/cases/{case.id}/wall/")
    assert response.status_code == 302
    post = WallPost.objects.get(case=case)
    assert post.status == WallPost.Status.PROPOSED
    # A community desk cannot review; the street can.
    assert 'data-testid="review-post"' not in html(client.get("/cases/wall/review/"))
    login(client, street_staff)
    page = client.get("/cases/wall/review/")
    assert 'data-testid="review-post"' in html(page)
    url = f"/cases/wall/review/{post.id}/"
    bad = client.post(
        url,
        {
            f"p{post.id}-summary": "市民反映,电话13912345678",
            f"p{post.id}-reply": "已处理",
            f"p{post.id}-decision": "approve",
        },
    )
    assert bad.status_code == 400 and "仍含有电话或身份证号" in html(bad)
    ok = client.post(
        url,
        {
            f"p{post.id}-summary": "市民刘先生反映:人民路有人占道经营。",
            f"p{post.id}-reply": "已得到整治。",
            f"p{post.id}-decision": "approve",
        },
    )
    assert ok.status_code == 302
    post.refresh_from_db()
    assert post.status == WallPost.Status.PUBLISHED and post.reply == "已得到整治。"
    client.logout()
    assert "已得到整治。" in html(client.get("/wall/"))


def test_events_are_unchanged_by_a_denied_action(client, report, worker_b):
    case = report(i=2)
    login(client, worker_b)
    before = CaseEvent.objects.filter(case=case).count()
    # The grid worker sees the case, but a community-level case is not theirs to accept.
    response = act(client, case, "accept")
    assert response.status_code == 403
    assert CaseEvent.objects.filter(case=case).count() == before
    assert state(case) == State.REPORTED
