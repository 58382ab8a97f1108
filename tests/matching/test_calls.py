"""An open call (揭榜) from publication to evaluation, and the bad input around it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.matching import selectors as sel
from yiwang.matching import services as s
from yiwang.matching.errors import MatchConflict
from yiwang.matching.models import Application, OpenCall, ServiceRecord
from yiwang.registry.services import organization_create


@pytest.fixture
def partners(admin_user, tree):
    out = []
    for i, name in enumerate(["青岛暖阳社工服务中心", "市北红色物业联盟"]):
        org = organization_create(actor=admin_user, kind="social", name=name, address="铁山路22号")
        member = get_user_model().objects.create_user(f"partner{i}", password="pw")
        out.append(s.partner_join(actor=admin_user, organization=org, members=[member]))
    return out


def member(partner):
    return partner.members.get()


def test_an_open_call_from_publication_to_evaluation(street_staff, partners, tree, outsider):
    now = timezone.now()
    call = s.call_create(
        actor=street_staff,
        title="背街小巷环境整治",
        description="对辖区 12 条背街小巷进行环境整治与长效保洁",
        location="即墨路街道",
        budget="50000",
        criteria="有社区服务经验",
        apply_by=now + timedelta(days=7),
        deliver_by=(now + timedelta(days=30)).date(),
    )
    assert call.street_id == tree.street_a.id and call.status == OpenCall.Status.DRAFT
    assert call not in sel.call_list(actor=outsider)  # drafts are not public
    s.call_publish(actor=street_staff, call=call)
    assert call in sel.call_list(actor=None)
    first, second = partners
    app1 = s.call_apply(
        actor=member(first), call=call, partner=first, proposal="分三期实施", amount="48000"
    )
    app2 = s.call_apply(actor=member(second), call=call, partner=second, proposal="党员志愿者参与")
    with pytest.raises(ValidationError, match="已报名"):
        s.call_apply(actor=member(first), call=call, partner=first, proposal="再报一次")
    with pytest.raises(PermissionDenied):
        s.call_apply(actor=member(first), call=call, partner=second, proposal="冒名")
    with pytest.raises(PermissionDenied):
        s.call_choose(actor=outsider, call=call, applications=[app1])
    s.call_choose(
        actor=street_staff,
        call=call,
        applications=[app1],
        milestones=[("方案确认", None), ("整治完成", None)],
    )
    app1.refresh_from_db()
    app2.refresh_from_db()
    assert (app1.status, app2.status) == (Application.Status.CHOSEN, Application.Status.NOT_CHOSEN)
    steps = list(app1.milestones.order_by("id"))
    assert [m.title for m in steps] == ["方案确认", "整治完成"]
    with pytest.raises(ValidationError):
        s.milestone_accept(actor=street_staff, milestone=steps[0])  # nothing submitted yet
    for step in steps:
        s.milestone_submit(actor=member(first), milestone=step, evidence="已完成,见照片")
        s.milestone_accept(actor=street_staff, milestone=step)
    call.refresh_from_db()
    assert call.status == OpenCall.Status.DELIVERED
    with pytest.raises(ValidationError):
        s.call_evaluate(actor=street_staff, application=app1, score=7)
    s.call_evaluate(actor=street_staff, application=app1, score=5, note="效果明显")
    call.refresh_from_db()
    assert call.status == OpenCall.Status.EVALUATED
    record = ServiceRecord.objects.get(kind="open_call")
    assert record.organization_id == first.organization_id
    (row,) = [r for r in sel.partner_list() if r["partner"].id == first.id]
    assert row["chosen"] == 1 and row["score"] == 5.0
    assert [a.partner_id for a in sel.delivered_list()] == [first.id]


def test_applying_after_the_deadline_is_refused(street_staff, partners):
    call = s.call_create(
        actor=street_staff,
        title="社区花园认养",
        description="认养 3 处口袋公园",
        in_kind="场地与苗木",
        apply_by=timezone.now() + timedelta(days=1),
    )
    s.call_publish(actor=street_staff, call=call)
    partner = partners[0]
    with pytest.raises(MatchConflict, match="截止"):
        s.call_apply(
            actor=member(partner),
            call=call,
            partner=partner,
            proposal="我们来",
            now=timezone.now() + timedelta(days=2),
        )
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"title": ""}, "title"),
        ({"apply_by": "past"}, "apply_by"),
        ({"budget": "很多"}, "budget"),
        ({"budget": None, "in_kind": ""}, "budget"),
    ],
)
def test_bad_calls_name_the_field(street_staff, kw, field):
    args = {
        "title": "任务",
        "description": "内容",
        "budget": "1000",
        "apply_by": timezone.now() + timedelta(days=3),
    }
    args.update(kw)
    if args["apply_by"] == "past":
        args["apply_by"] = timezone.now() - timedelta(hours=1)
    with pytest.raises(ValidationError) as exc:
        s.call_create(actor=street_staff, **args)
    assert field in exc.value.message_dict
    assert not OpenCall.objects.exists()


def test_a_grid_worker_cannot_publish(worker_a):
    with pytest.raises(PermissionDenied):
        s.call_create(
            actor=worker_a,
            title="x",
            description="y",
            budget="1",
            apply_by=timezone.now() + timedelta(days=1),
        )
