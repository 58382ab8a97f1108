"""The source document's story: search for people linked to an epidemic area, 54 found, the
calls split among 4 staff, outcomes recorded, progress right."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from tests.conftest import login
from yiwang.org.models import RoleKind
from yiwang.org.services import role_grant
from yiwang.outreach import services as s
from yiwang.outreach.models import CallTask
from yiwang.outreach.selectors import campaign_progress
from yiwang.registry.models import AccessLog, Resident
from yiwang.search import index


@pytest.fixture
def population(tree):
    grids = [tree.grid_a1, tree.grid_a2, tree.grid_b1, tree.grid_b2]
    for i in range(120):
        notes = "近期从武汉返回" if i % 2 == 0 and i < 108 else "常住"
        Resident.objects.create(
            name=f"居民{i:03d}",
            address=f"伊春路{i}号",
            notes=notes,
            grid=grids[i % 4],
            phones=[f"1380000{i:04d}"],
        )
    index.flush(limit=100_000)


def staff(n, tree):
    users = []
    for i in range(n):
        u = get_user_model().objects.create_user(username=f"caller{i}", first_name=f"接听员{i}")
        role_grant(actor=None, user=u, kind=RoleKind.COMMUNITY_STAFF, node=tree.community_a)
        users.append(u)
    return users


def test_54_people_split_among_4_callers(population, tree, leader):
    campaign = s.campaign_create(
        actor=leader, title="武汉返市人员摸排", purpose="outreach", query="武汉"
    )
    assert campaign.tasks.count() == 54
    callers = staff(4, tree)
    split = s.campaign_split(actor=leader, campaign=campaign, callers=callers)
    assert sorted(split.values()) == [13, 13, 14, 14]
    outcomes = ["reached", "reached", "not_reached", "wrong_number", "moved", "follow_up"]
    for caller in callers:
        for j, task in enumerate(CallTask.objects.filter(campaign=campaign, caller=caller)[:6]):
            s.calltask_record(actor=caller, task=task, outcome=outcomes[j])
    progress = campaign_progress(campaign)
    assert progress["total"] == 54
    assert progress["done"] == 4 * 5  # 未接通 stays open for a retry
    assert progress["by_outcome"]["reached"] == 8
    rows = {c["caller"]: c for c in progress["callers"]}
    assert rows["接听员0"]["done"] == 5 and rows["接听员0"]["not_reached"] == 1
    assert rows["接听员0"]["percent"] == round(100 * 5 / rows["接听员0"]["total"])
    # The retry: reached on the second try.
    retry = CallTask.objects.get(campaign=campaign, caller=callers[0], outcome="not_reached")
    s.calltask_record(actor=callers[0], task=retry, outcome="reached")
    retry.refresh_from_db()
    assert retry.attempts == 2 and campaign_progress(campaign)["done"] == 21


def test_split_by_grid(population, tree, leader, worker_a, worker_b):
    campaign = s.campaign_create(actor=leader, title="按网格", purpose="outreach", query="武汉")
    extra = staff(1, tree)[0]
    split = s.campaign_split(
        actor=leader, campaign=campaign, callers=[worker_a, worker_b, extra], by_grid=True
    )
    own_a = CallTask.objects.filter(campaign=campaign, caller=worker_a)
    assert own_a.exists() and set(own_a.values_list("grid_id", flat=True)) == {tree.grid_a1.id}
    assert sum(split.values()) == 54


def test_only_the_caller_or_owner_records(population, tree, leader, worker_b):
    campaign = s.campaign_create(actor=leader, title="x", purpose="outreach", query="武汉")
    task = campaign.tasks.first()
    with pytest.raises(PermissionDenied):
        s.calltask_record(actor=worker_b, task=task, outcome="reached")
    with pytest.raises(ValidationError):
        s.calltask_record(actor=leader, task=task, outcome="maybe")


def test_bad_campaigns(population, leader, worker_b):
    with pytest.raises(ValidationError) as exc:
        s.campaign_create(actor=leader, title="x", purpose="outreach", query="火星")
    assert "q" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        s.campaign_create(actor=leader, title="x", purpose="", query="武汉")
    assert "purpose" in exc.value.message_dict
    with pytest.raises(ValidationError):
        s.campaign_create(actor=leader, title=" ", purpose="outreach", query="武汉")
    # A grid worker's campaign holds only their grid's people.
    mine = s.campaign_create(actor=worker_b, title="本网格", purpose="outreach", query="武汉")
    assert set(mine.tasks.values_list("grid_id", flat=True)) == {
        Resident.objects.filter(grid__code="S02C0101").first().grid_id
    }


def test_pages(client, population, tree, leader):
    login(client, leader)
    r = client.get("/search/", {"q": "武汉", "purpose": "outreach"})
    assert r.status_code == 200 and "共 54 条" in r.content.decode()
    r = client.get("/search/", {"q": "武", "purpose": "outreach"})
    assert "两个字" in r.content.decode()
    r = client.post("/outreach/new/", {"title": "摸排", "q": "武汉", "purpose": "outreach"})
    assert r.status_code == 302
    campaign_url = r["Location"]
    callers = staff(4, tree)
    cid = int(campaign_url.strip("/").split("/")[-1])
    r = client.post(f"/outreach/{cid}/split/", {"callers": [c.id for c in callers], "by": "even"})
    assert r.status_code == 302
    html = client.get(campaign_url).content.decode()
    assert html.count('data-testid="caller-row"') == 4
    login(client, callers[0])
    before = AccessLog.objects.count()
    html = client.get(f"/outreach/{cid}/calls/").content.decode()
    assert 'href="tel:1380000' in html and AccessLog.objects.count() == before + 1
    task = CallTask.objects.filter(campaign_id=cid, caller=callers[0]).first()
    r = client.post(
        f"/outreach/{cid}/calls/{task.id}/", {"outcome": "reached"}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200 and "已联系" in r.content.decode()
    login(client, leader)
    r = client.get(f"/outreach/{cid}/export/")
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment")
