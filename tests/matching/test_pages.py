"""The matching pages through Django's test client: each page for the persona it is for, the
scope guard (grid B's worker cannot open grid A's demand), first-accept-wins from the phone
page, bad input shown next to its field with nothing written, and open calls for visitors
and partners."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.conftest import login
from yiwang.matching import services as s
from yiwang.matching.models import (
    Application,
    Demand,
    Offer,
    OpenCall,
    Provider,
    ProviderAbsence,
)
from yiwang.registry.services import organization_create, resident_create

pytestmark = pytest.mark.django_db

LOCAL = "%Y-%m-%dT%H:%M"


def local(dt) -> str:
    return timezone.localtime(dt).strftime(LOCAL)


def html(response) -> str:
    return response.content.decode()


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def png() -> io.BytesIO:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    buf.seek(0)
    buf.name = "done.png"
    return buf


@pytest.fixture
def two_volunteers(make_provider):
    """Two verified volunteers of grid A1 with accounts (vol1, vol2; password "pw")."""
    return make_provider("张师傅", user=True), make_provider("李阿姨", user=True)


@pytest.fixture
def offered(post, worker_a, two_volunteers):
    demand = post()
    s.demand_offer(actor=worker_a, demand=demand, providers=list(two_volunteers))
    return demand


# -- the demand list ------------------------------------------------------------------------


def test_demand_list_shows_counts_rows_and_the_unmatched_reason(client, worker_a, post):
    # No provider offers the service: posting it keeps the reason on the demand.
    demand = post(urgency=Demand.Urgency.URGENT)
    response = login(client, worker_a).get(reverse("matching:demands"))
    assert response.status_code == 200
    page = html(response)
    assert 'data-count="unmatched"' in page
    assert response.context["counts"]["unmatched"] == 1
    assert [d.id for d in response.context["rows"]] == [demand.id]
    assert "暂无提供“上门理发”的已认证服务方" in page
    assert "紧急" in page
    assert 'href="/matching/demands/new/"' in page


def test_demand_list_filters_and_htmx_fragment(client, worker_a, post):
    post()
    login(client, worker_a)
    response = client.get(reverse("matching:demands") + "?status=done", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.templates[0].name == "matching/_demand_results.html"
    assert response.context["rows"] == []
    # Nonsense in the query string is ignored, never a 500.
    response = client.get(reverse("matching:demands") + "?status=x&service=abc&page=-3&street=1e9")
    assert response.status_code == 200


def test_demand_list_is_for_desk_staff(client, outsider, department_staff):
    assert login(client, outsider).get(reverse("matching:demands")).status_code == 403
    assert login(client, department_staff).get(reverse("matching:demands")).status_code == 403
    client.logout()
    assert client.get(reverse("matching:demands")).status_code == 302


def test_worker_b_cannot_open_or_act_on_grid_a_demand(client, worker_b, post, community_staff):
    demand = post()
    for user in (worker_b, community_staff):  # community B's staff: another community
        login(client, user)
        url = reverse("matching:demand_detail", args=[demand.id])
        assert client.get(url).status_code == 404
        response = client.post(reverse("matching:demand_cancel", args=[demand.id]), {"reason": "x"})
        assert response.status_code == 404
    demand.refresh_from_db()
    assert demand.status == Demand.Status.OPEN


# -- posting a demand -----------------------------------------------------------------------


def form(haircut, window, **extra):
    data = {
        "service": str(haircut.id),
        "window_start": local(window[0]),
        "window_end": local(window[1]),
        "urgency": "normal",
        "channel": "grid_worker",
        "description": "行动不便,需上门",
        "auto_next": "on",
    }
    data.update(extra)
    return data


def test_post_a_demand_by_name(client, worker_a, elder_a, haircut, window):
    login(client, worker_a)
    assert client.get(reverse("matching:demand_new")).status_code == 200
    response = client.post(reverse("matching:demand_new"), form(haircut, window, who="王秀英"))
    demand = Demand.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("matching:demand_detail", args=[demand.id])
    assert demand.resident == elder_a
    assert demand.window_start == window[0]
    assert demand.auto_next is True
    assert demand.description == "行动不便,需上门"


def test_several_residents_match_and_one_is_picked(client, worker_a, admin_user, haircut, window):
    first = resident_create(actor=admin_user, name="张桂芳", address="铁山路22号1单元101")
    resident_create(actor=admin_user, name="张桂芳", address="人民路10号")
    login(client, worker_a)
    response = client.post(reverse("matching:demand_new"), form(haircut, window, who="张桂芳"))
    assert response.status_code == 200
    assert len(response.context["choices"]) == 2
    assert 'data-testid="resident-choices"' in html(response)
    assert "找到 2 位居民,请选择一位" in html(response)
    assert not Demand.objects.exists()
    response = client.post(
        reverse("matching:demand_new"), form(haircut, window, who="张桂芳", resident=first.id)
    )
    assert response.status_code == 302
    assert Demand.objects.get().resident == first


def test_nobody_found_is_a_field_error(client, worker_a, elder_b, haircut, window):
    login(client, worker_a)
    # 刘桂兰 lives in grid B1: out of worker A's scope, so not found.
    response = client.post(reverse("matching:demand_new"), form(haircut, window, who="刘桂兰"))
    assert response.status_code == 200
    assert '<p class="field-error" data-field="resident">未找到“刘桂兰”' in html(response)
    response = client.post(reverse("matching:demand_new"), form(haircut, window))
    assert "请填写服务对象的姓名或身份证号" in html(response)
    assert not Demand.objects.exists()


def test_prefilled_resident_from_the_card(client, worker_a, worker_b, elder_a):
    url = reverse("matching:demand_new") + f"?resident={elder_a.id}"
    response = login(client, worker_a).get(url)
    assert response.status_code == 200
    assert response.context["resident"]["name"] == "王秀英"
    assert f'name="resident" value="{elder_a.id}"' in html(response)
    assert login(client, worker_b).get(url).status_code == 404


@pytest.mark.parametrize(
    "change, field, message",
    [
        ("reversed", "window_end", "期望结束须晚于期望开始"),
        ("garbage", "window_start", "时间格式不正确"),
        ("missing", "window_end", "请填写时间"),
        ("service", "service", "请选择服务项目"),
        ("urgency", "urgency", "未知的紧急程度"),
    ],
)
def test_bad_demand_input_is_shown_by_its_field(
    client, worker_a, elder_a, haircut, window, change, field, message
):
    data = form(haircut, window, who="王秀英")
    if change == "reversed":
        data["window_start"], data["window_end"] = data["window_end"], data["window_start"]
    elif change == "garbage":
        data["window_start"] = "2026-13-45T99:99"
    elif change == "missing":
        data["window_end"] = ""
    elif change == "service":
        data["service"] = "abc"
    elif change == "urgency":
        data["urgency"] = "whenever"
    response = login(client, worker_a).post(reverse("matching:demand_new"), data)
    assert response.status_code == 200
    assert f'data-field="{field}">{message}' in html(response)
    assert not Demand.objects.exists()


def test_posting_needs_the_right(client, department_staff, outsider):
    for user in (department_staff, outsider):
        assert login(client, user).get(reverse("matching:demand_new")).status_code == 403


# -- one demand: ranking, offers, completion, rating, cancelling ------------------------------


def test_demand_detail_ranks_and_offers_to_several(client, worker_a, post, two_volunteers):
    demand = post()
    login(client, worker_a)
    response = client.get(reverse("matching:demand_detail", args=[demand.id]))
    assert response.status_code == 200
    page = html(response)
    assert page.count('data-testid="candidate"') == 2
    assert "服务本网格" in page  # a reason, in green
    a, b = two_volunteers
    response = client.post(
        reverse("matching:demand_offer", args=[demand.id]), {"providers": [a.id, b.id, 99999]}
    )
    assert response.status_code == 302
    assert set(demand.offers.values_list("provider_id", flat=True)) == {a.id, b.id}
    demand.refresh_from_db()
    assert demand.status == Demand.Status.OFFERED
    page = html(client.get(reverse("matching:demand_detail", args=[demand.id])))
    assert page.count('data-status="pending"') == 2


def test_offer_without_a_choice_is_a_field_error(client, worker_a, post, two_volunteers):
    demand = post()
    response = login(client, worker_a).post(reverse("matching:demand_offer", args=[demand.id]))
    assert response.status_code == 200
    assert 'data-field="providers">请选择至少一个服务方' in html(response)
    assert not Offer.objects.exists()


def test_nobody_eligible_shows_the_reason(client, worker_a, post, meal):
    demand = post(service=meal)
    response = login(client, worker_a).get(reverse("matching:demand_detail", args=[demand.id]))
    assert response.status_code == 200
    assert 'data-testid="ranking-reason"' in html(response)
    assert response.context["ranking"].reason in html(response)


def test_desk_completes_and_rates(client, worker_a, offered, two_volunteers, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    s.offer_accept(actor=two_volunteers[0].user, offer=offered.offers.first())
    login(client, worker_a)
    url = reverse("matching:demand_complete", args=[offered.id])
    response = client.post(url, {"note": "已理发", "hours": "abc"})
    assert response.status_code == 200
    assert 'data-field="hours">请填写数字' in html(response)
    offered.refresh_from_db()
    assert offered.status == Demand.Status.MATCHED
    response = client.post(url, {"note": "已理发", "hours": "1.5", "photo": png()})
    assert response.status_code == 302
    offered.refresh_from_db()
    assert offered.status == Demand.Status.DONE
    assert offered.photo.name.startswith("matching/")

    rate = reverse("matching:demand_rate", args=[offered.id])
    response = client.post(rate, {"rating": "9"})
    assert response.status_code == 200
    assert 'data-field="rating">评价须为 1–5 分' in html(response)
    offered.refresh_from_db()
    assert offered.rating is None
    assert client.post(rate, {"rating": "5", "rating_note": "很满意"}).status_code == 302
    offered.refresh_from_db()
    assert offered.rating == 5
    page = html(client.get(reverse("matching:demand_detail", args=[offered.id])))
    assert "很满意" in page and "1.5" in page


def test_cancel_needs_a_reason(client, worker_a, post):
    demand = post()
    login(client, worker_a)
    url = reverse("matching:demand_cancel", args=[demand.id])
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 200
    assert 'data-field="reason">请填写取消原因' in html(response)
    demand.refresh_from_db()
    assert demand.status == Demand.Status.OPEN
    response = client.post(url, {"reason": "家属已安排"}, follow=True)
    assert flashed(response) == ["已取消需求"]
    demand.refresh_from_db()
    assert demand.status == Demand.Status.CANCELLED
    # Cancelled again: the world moved on; a message, not an error page.
    response = client.post(url, {"reason": "again"}, follow=True)
    assert response.status_code == 200
    assert flashed(response) == ["需求已取消,不能再操作"]


# -- the provider's phone page ----------------------------------------------------------------


def test_provider_page_accept_and_the_second_accept_is_told_it_is_taken(
    client, offered, two_volunteers
):
    a, b = two_volunteers
    offer_a = offered.offers.get(provider=a)
    offer_b = offered.offers.get(provider=b)

    login(client, a.user)
    response = client.get(reverse("matching:me"))
    assert response.status_code == 200
    page = html(response)
    assert page.count('data-testid="offer-card"') == 1
    assert "王**" in page and "王秀英" not in page  # masked before accepting
    assert "13800138000" not in page

    response = client.post(reverse("matching:offer_accept", args=[offer_a.id]), follow=True)
    assert response.status_code == 200
    offered.refresh_from_db()
    assert offered.status == Demand.Status.MATCHED
    assert offered.provider == a
    page = html(response)
    assert 'href="tel:13800138000"' in page
    assert "王秀英" in page and "铁山路22号3单元201" in page

    login(client, b.user)
    response = client.post(reverse("matching:offer_accept", args=[offer_b.id]), follow=True)
    assert response.status_code == 200
    assert flashed(response) == ["该需求已由其他服务方接单,感谢您的响应"]
    assert Offer.objects.filter(demand=offered, status=Offer.Status.ACCEPTED).count() == 1
    b.refresh_from_db()
    assert b.active_count == 0
    offered.refresh_from_db()
    assert offered.provider == a


def test_provider_cannot_answer_someone_elses_offer(client, offered, two_volunteers, outsider):
    offer_a = offered.offers.get(provider=two_volunteers[0])
    login(client, outsider)
    assert client.post(reverse("matching:offer_accept", args=[offer_a.id])).status_code == 404
    login(client, two_volunteers[1].user)
    assert client.post(reverse("matching:offer_decline", args=[offer_a.id])).status_code == 404
    offer_a.refresh_from_db()
    assert offer_a.status == Offer.Status.PENDING


def test_provider_declines(client, offered, two_volunteers):
    a = two_volunteers[0]
    offer = offered.offers.get(provider=a)
    login(client, a.user)
    response = client.post(
        reverse("matching:offer_decline", args=[offer.id]), {"reason": "当天有事"}, follow=True
    )
    assert flashed(response) == ["已婉拒,感谢您的答复"]
    offer.refresh_from_db()
    assert offer.status == Offer.Status.DECLINED
    assert offer.decline_reason == "当天有事"


def test_provider_completes_from_the_phone(client, offered, two_volunteers, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    a = two_volunteers[0]
    s.offer_accept(actor=a.user, offer=offered.offers.get(provider=a))
    login(client, a.user)
    page = html(client.get(reverse("matching:me")))
    assert 'accept="image/*" capture' in page
    url = reverse("matching:me_complete", args=[offered.id])
    response = client.post(url, {"hours": "30"})
    assert response.status_code == 200
    assert 'data-field="hours">须在 0.1–24 之间' in html(response)
    response = client.post(url, {"note": "理发完毕", "photo": png()}, follow=True)
    assert flashed(response) == ["已登记服务完成,辛苦了"]
    offered.refresh_from_db()
    assert offered.status == Demand.Status.DONE
    a.refresh_from_db()
    assert a.completed_count == 1
    assert response.context["providers"][0]["p"].completed_count == 1


def test_provider_edits_slots_and_overlaps_are_refused(client, two_volunteers):
    a = two_volunteers[0]
    login(client, a.user)
    url = reverse("matching:me_slots", args=[a.id])
    response = client.post(url, {"slots": "周一 09:00-12:00; 周一 11:00-13:00"})
    assert response.status_code == 200
    assert 'data-field="slots">时段重叠' in html(response)
    a.refresh_from_db()
    assert a.slots == []
    response = client.post(url, {"slots": "周一 09:00-12:00; 周三 14:00-17:00"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.slots == [[0, 540, 720], [2, 840, 1020]]
    assert "周三 14:00–17:00" in html(client.get(reverse("matching:me")))


def test_me_page_for_someone_who_is_no_provider(client, outsider):
    response = login(client, outsider).get(reverse("matching:me"))
    assert response.status_code == 200
    assert 'data-testid="not-provider"' in html(response)


# -- the resource list ----------------------------------------------------------------------


def test_provider_list_pending_first(client, community_staff, street_staff, make_provider, tree):
    verified = make_provider("老年服务队", areas=[("community", tree.community_b.id)])
    pending = make_provider("新志愿者", areas=[("grid", tree.grid_b1.id)], verified=False)
    response = login(client, community_staff).get(reverse("matching:providers"))
    assert response.status_code == 200
    ids = [row["p"].id for row in response.context["rows"]]
    assert ids == [pending.id, verified.id]
    assert "紫云社区" in html(response)
    # Street A's staff sees neither: both serve community B.
    response = login(client, street_staff).get(reverse("matching:providers"))
    assert response.status_code == 200
    assert response.context["rows"] == []


def test_register_a_provider(client, community_staff, tree, haircut, meal):
    login(client, community_staff)
    assert client.get(reverse("matching:provider_new")).status_code == 200
    vol = get_user_model().objects.create_user("xiaowang", password="pw")
    data = {
        "kind": "volunteer",
        "name": "王小明",
        "services": [haircut.id, meal.id],
        "areas": [f"grid:{tree.grid_b1.id}"],
        "radius_m": "0",
        "capacity": "2",
        "slots": "周二 09:00-11:00",
        "phone": "138 0013 8001",
        "username": "xiaowang",
    }
    response = client.post(reverse("matching:provider_new"), data)
    provider = Provider.objects.get(name="王小明")
    assert response.status_code == 302
    assert provider.user == vol
    assert provider.slots == [[1, 540, 660]]
    assert provider.verification == Provider.Verification.PENDING
    assert set(provider.services.all()) == {haircut, meal}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"slots": "周一 09:00-12:00, 周一 10:00-11:00"}, "slots"),
        ({"slots": "星期八 9点"}, "slots"),
        ({"services": []}, "services"),
        ({"areas": []}, "areas"),
        ({"capacity": "lots"}, "capacity"),
        ({"username": "nobody"}, "user"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_provider_input(client, community_staff, tree, haircut, change, field):
    data = {
        "kind": "volunteer",
        "name": "王小明",
        "services": [haircut.id],
        "areas": [f"grid:{tree.grid_b1.id}"],
        "capacity": "2",
    }
    data.update(change)
    response = login(client, community_staff).post(reverse("matching:provider_new"), data)
    assert response.status_code == 200
    assert f'data-field="{field}"' in html(response)
    assert not Provider.objects.exists()


def test_areas_outside_the_scope_are_refused(client, community_staff, tree, haircut):
    data = {"kind": "team", "name": "队", "services": [haircut.id]}
    data["areas"] = [f"grid:{tree.grid_a1.id}"]
    response = login(client, community_staff).post(reverse("matching:provider_new"), data)
    assert response.status_code == 200
    assert 'data-field="areas">服务范围超出您的管辖范围' in html(response)
    assert not Provider.objects.exists()


def test_provider_detail_verify_slots_and_absence(
    client, community_staff, worker_b, make_provider, tree
):
    provider = make_provider("新志愿者", areas=[("grid", tree.grid_b1.id)], verified=False)
    login(client, community_staff)
    url = reverse("matching:provider_detail", args=[provider.id])
    response = client.get(url)
    assert response.status_code == 200
    assert 'data-testid="verify"' in html(response)
    response = client.post(
        reverse("matching:provider_verify", args=[provider.id]), {"verification": "verified"}
    )
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.verification == Provider.Verification.VERIFIED

    absence = reverse("matching:provider_absence", args=[provider.id])
    now = timezone.now()
    response = client.post(
        absence,
        {"starts_at": local(now + timedelta(days=3)), "ends_at": local(now + timedelta(days=1))},
    )
    assert response.status_code == 200
    assert 'data-field="ends_at">结束时间须晚于开始时间' in html(response)
    response = client.post(absence, {"starts_at": "tomorrow", "ends_at": ""})
    assert response.status_code == 200
    assert 'data-field="starts_at">时间格式不正确' in html(response)
    assert not ProviderAbsence.objects.exists()
    response = client.post(
        absence,
        {
            "starts_at": local(now + timedelta(days=1)),
            "ends_at": local(now + timedelta(days=3)),
            "note": "外出",
        },
    )
    assert response.status_code == 302
    assert ProviderAbsence.objects.get().note == "外出"

    response = client.post(
        reverse("matching:provider_slots", args=[provider.id]), {"slots": "周五 08:00-07:00"}
    )
    assert response.status_code == 200
    assert 'data-field="slots">周五 08:00–07:00:结束时间须晚于开始时间' in html(response)

    # A grid worker cannot verify (no right): 403, and nothing changes.
    login(client, worker_b)
    response = client.post(
        reverse("matching:provider_verify", args=[provider.id]), {"verification": "suspended"}
    )
    assert response.status_code == 403
    provider.refresh_from_db()
    assert provider.verification == Provider.Verification.VERIFIED


def test_provider_out_of_scope_is_404(client, worker_a, make_provider, tree):
    provider = make_provider("紫云队", areas=[("grid", tree.grid_b1.id)])
    url = reverse("matching:provider_detail", args=[provider.id])
    assert login(client, worker_a).get(url).status_code == 404


# -- open calls -----------------------------------------------------------------------------


@pytest.fixture
def partner_member(tree, admin_user):
    user = get_user_model().objects.create_user("ngo", password="pw")
    org = organization_create(
        actor=admin_user,
        kind="social",
        name="紫云社工服务中心",
        address="伊春路168号紫云台小区1号楼",
    )
    partner = s.partner_join(actor=admin_user, organization=org, members=[user])
    return user, partner


def make_call(actor, *, now=None, **kw):
    now = now or timezone.now()
    call = s.call_create(
        actor=actor,
        title=kw.pop("title", "楼道微更新"),
        description="为紫云台小区 3 栋楼的楼道做微更新设计与施工。",
        apply_by=now + timedelta(days=7),
        budget="50000",
        now=now,
        **kw,
    )
    return s.call_publish(actor=actor, call=call, now=now)


def test_public_calls_list_works_without_login(client, community_staff, partner_member):
    call = make_call(community_staff)
    draft = s.call_create(
        actor=community_staff,
        title="草稿任务",
        description="x",
        apply_by=timezone.now() + timedelta(days=3),
        in_kind="场地",
    )
    response = client.get(reverse("matching:calls"))
    assert response.status_code == 200
    page = html(response)
    assert "楼道微更新" in page and "草稿任务" not in page
    assert 'data-testid="partners"' in page and "紫云社工服务中心" in page
    assert client.get(reverse("matching:call_detail", args=[call.id])).status_code == 200
    assert client.get(reverse("matching:call_detail", args=[draft.id])).status_code == 404
    # The unit sees its draft.
    login(client, community_staff)
    assert "草稿任务" in html(client.get(reverse("matching:calls")))
    assert client.get(reverse("matching:call_detail", args=[draft.id])).status_code == 200


def test_create_and_publish_a_call(client, community_staff):
    login(client, community_staff)
    assert client.get(reverse("matching:call_new")).status_code == 200
    apply_by = timezone.now() + timedelta(days=5)
    bad = {"title": "楼道微更新", "description": "内容", "apply_by": "soon", "budget": "1000"}
    response = client.post(reverse("matching:call_new"), bad)
    assert response.status_code == 200
    assert 'data-field="apply_by">时间格式不正确' in html(response)
    bad.update(apply_by=local(apply_by), budget="many")
    response = client.post(reverse("matching:call_new"), bad)
    assert 'data-field="budget">请填写数字' in html(response)
    assert not OpenCall.objects.exists()
    bad.update(budget="1000")
    response = client.post(reverse("matching:call_new"), bad)
    call = OpenCall.objects.get()
    assert response.status_code == 302
    assert call.status == OpenCall.Status.DRAFT
    assert call.community_id is not None
    response = client.post(reverse("matching:call_publish", args=[call.id]), follow=True)
    assert flashed(response)[-1] == "已发布,合作单位现在可以报名"
    call.refresh_from_db()
    assert call.status == OpenCall.Status.PUBLISHED


def test_call_new_needs_a_unit(client, worker_a, outsider):
    assert login(client, worker_a).get(reverse("matching:call_new")).status_code == 403
    assert login(client, outsider).get(reverse("matching:call_new")).status_code == 403


def test_partner_applies_and_unit_chooses_accepts_and_evaluates(
    client, community_staff, partner_member
):
    user, partner = partner_member
    call = make_call(community_staff)
    login(client, user)
    page = html(client.get(reverse("matching:call_detail", args=[call.id])))
    assert 'data-testid="form-apply"' in page
    url = reverse("matching:call_apply", args=[call.id])
    response = client.post(url, {"proposal": "", "amount": "1"})
    assert response.status_code == 200
    assert 'data-field="proposal">请填写实施方案' in html(response)
    response = client.post(url, {"proposal": "方案", "amount": "90000"})
    assert 'data-field="amount">报价超出预算' in html(response)
    assert not Application.objects.exists()
    assert client.post(url, {"proposal": "分三步实施", "amount": "45000"}).status_code == 302
    application = Application.objects.get()
    response = client.post(url, {"proposal": "again"}, follow=True)
    assert flashed(response)[-1] == "本单位已报名此任务"
    assert Application.objects.count() == 1

    login(client, community_staff)
    response = client.post(
        reverse("matching:call_choose", args=[call.id]),
        {
            "applications": [application.id],
            "milestones": "方案设计 2099-01-10\n施工完成 2099-13-01",
        },
    )
    assert response.status_code == 200
    assert 'data-field="milestones">第 2 行的日期不正确' in html(response)
    response = client.post(
        reverse("matching:call_choose", args=[call.id]),
        {"applications": [application.id], "milestones": "方案设计 2099-01-10"},
    )
    assert response.status_code == 302
    milestone = application.milestones.get()

    login(client, user)
    submit = reverse("matching:milestone_submit", args=[call.id, milestone.id])
    response = client.post(submit, {"evidence": ""})
    assert response.status_code == 200
    assert 'data-field="evidence">请填写完成情况或上传佐证材料' in html(response)
    assert client.post(submit, {"evidence": "设计稿已交"}).status_code == 302

    login(client, community_staff)
    accept = reverse("matching:milestone_accept", args=[call.id, milestone.id])
    assert client.post(accept).status_code == 302
    call.refresh_from_db()
    assert call.status == OpenCall.Status.DELIVERED
    evaluate = reverse("matching:call_evaluate", args=[call.id, application.id])
    response = client.post(evaluate, {"score": "9"})
    assert response.status_code == 200
    assert 'data-field="score">评价须为 1–5 分' in html(response)
    assert client.post(evaluate, {"score": "4", "note": "按时交付"}).status_code == 302
    call.refresh_from_db()
    assert call.status == OpenCall.Status.EVALUATED
    client.logout()
    page = html(client.get(reverse("matching:calls")))
    assert 'data-testid="delivered"' in page and "楼道微更新" in page


def test_apply_after_the_deadline_is_told(client, community_staff, partner_member):
    user, _partner = partner_member
    past = timezone.now() - timedelta(days=10)
    call = make_call(community_staff, now=past)
    login(client, user)
    page = html(client.get(reverse("matching:call_detail", args=[call.id])))
    assert 'data-testid="apply-closed"' in page
    response = client.post(
        reverse("matching:call_apply", args=[call.id]), {"proposal": "方案"}, follow=True
    )
    assert response.status_code == 200
    [message] = flashed(response)
    assert message.startswith("报名已于 ") and message.endswith(" 截止")
    assert not Application.objects.exists()


def test_only_members_apply(client, community_staff, outsider):
    call = make_call(community_staff)
    response = login(client, outsider).post(
        reverse("matching:call_apply", args=[call.id]), {"proposal": "方案"}
    )
    assert response.status_code == 403
    client.logout()
    response = client.post(reverse("matching:call_apply", args=[call.id]), {"proposal": "方案"})
    assert response.status_code == 302  # to the login page
    assert not Application.objects.exists()


# -- service records and navigation ---------------------------------------------------------


def test_records_table_and_export(client, worker_a, offered, two_volunteers):
    a = two_volunteers[0]
    s.offer_accept(actor=a.user, offer=offered.offers.get(provider=a))
    s.demand_complete(actor=worker_a, demand=offered, hours="2")
    login(client, worker_a)
    response = client.get(reverse("matching:records"))
    assert response.status_code == 200
    assert [r["name"] for r in response.context["rows"]] == ["张师傅"]
    # 王秀英 has no household in the registry: one service, no family counted.
    assert "服务 1 人次、0 户,共 2.0 小时" in html(response)
    response = client.get(reverse("matching:records") + "?by=provider&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == "服务方"
    assert values[2][:2] == ("张师傅", 1)
    response = client.get(reverse("matching:records") + "?start=2026-02-30&end=x&by=nonsense")
    assert response.status_code == 200
    assert 'data-field="start">日期格式不正确' in html(response)
    response = client.get(reverse("matching:records") + "?start=2026-03-01&end=2026-02-01")
    assert 'data-field="end">结束日期不能早于开始日期' in html(response)


def nav_keys(response) -> list[str]:
    return [item["key"] for item in response.context["nav_items"]]


def test_navigation_entries(client, worker_a, outsider, two_volunteers):
    keys = nav_keys(login(client, worker_a).get(reverse("matching:demands")))
    assert "demands" in keys and "calls" in keys and "my_service" not in keys
    keys = nav_keys(login(client, two_volunteers[0].user).get(reverse("matching:me")))
    assert "my_service" in keys and "demands" not in keys
    keys = nav_keys(login(client, outsider).get(reverse("matching:calls")))
    assert "calls" in keys and "my_service" not in keys
    client.logout()
    assert "calls" in nav_keys(client.get(reverse("matching:calls")))


def test_numbers_and_dates_that_are_not_are_field_errors(
    client, worker_a, community_staff, offered, two_volunteers, make_provider, tree
):
    """Not a 500: "NaN" as hours or budget, a year far outside this system's life."""
    a = two_volunteers[0]
    s.offer_accept(actor=a.user, offer=offered.offers.get(provider=a))
    login(client, a.user)
    for value in ("NaN", "Infinity", "一小时"):
        response = client.post(reverse("matching:me_complete", args=[offered.id]), {"hours": value})
        assert response.status_code == 200
        assert 'data-field="hours">请填写数字' in html(response)
    offered.refresh_from_db()
    assert offered.status == Demand.Status.MATCHED

    provider = make_provider("紫云队", areas=[("grid", tree.grid_b1.id)])
    login(client, community_staff)
    response = client.post(
        reverse("matching:provider_absence", args=[provider.id]),
        {"starts_at": "0001-01-01T00:00", "ends_at": "9999-12-31T23:59"},
    )
    assert response.status_code == 200
    assert 'data-field="starts_at">时间超出合理范围' in html(response)
    assert not ProviderAbsence.objects.exists()
    data = {
        "title": "t",
        "description": "d",
        "apply_by": local(timezone.now() + timedelta(days=2)),
        "budget": "NaN",
    }
    response = client.post(reverse("matching:call_new"), data)
    assert response.status_code == 200
    assert 'data-field="budget">请填写数字' in html(response)
    response = client.get(reverse("matching:records") + "?start=0001-01-01")
    assert response.status_code == 200
    assert 'data-field="start">日期超出合理范围' in html(response)
    assert not OpenCall.objects.exists()


@pytest.mark.parametrize(
    "persona", ["worker_a", "community_staff", "street_staff", "leader", "admin_user"]
)
def test_desk_pages_render_for_each_desk_persona(client, request, persona, tree):
    user = request.getfixturevalue(persona)
    login(client, user)
    for name in ("demands", "providers", "records", "calls", "me"):
        assert client.get(reverse(f"matching:{name}")).status_code == 200, name
    expected = 200 if persona != "leader" else 403  # a leader reads, posts nothing
    assert client.get(reverse("matching:demand_new")).status_code == expected
    assert client.get(reverse("matching:provider_new")).status_code == expected


def test_a_follow_up_call_becomes_a_demand_with_its_source(
    client, worker_a, elder_a, haircut, window
):
    from yiwang.outreach.models import CallTask, Campaign
    from yiwang.outreach.services import calltask_record

    campaign = Campaign.objects.create(title="独居老人回访", owner=worker_a, purpose="visit")
    task = CallTask.objects.create(
        campaign=campaign, resident=elder_a, grid=elder_a.grid, caller=worker_a
    )
    calltask_record(actor=worker_a, task=task, outcome="follow_up", note="需要上门理发")
    client.force_login(worker_a)
    html = client.get(f"/outreach/{campaign.id}/calls/").content.decode()
    link = f"/matching/demands/new/?resident={elder_a.id}&amp;channel=outreach&amp;source_ref=call-{task.id}"
    assert link in html
    r = client.post(
        "/matching/demands/new/",
        {
            "resident": elder_a.id,
            "service": haircut.id,
            "window_start": f"{window[0]:%Y-%m-%dT%H:%M}",
            "window_end": f"{window[1]:%Y-%m-%dT%H:%M}",
            "channel": "outreach",
            "source_ref": f"call-{task.id}",
        },
    )
    assert r.status_code == 302
    demand = Demand.objects.get()
    assert (demand.channel, demand.source_ref) == ("outreach", f"call-{task.id}")
