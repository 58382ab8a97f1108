"""回音壁: anonymised summaries, review before publication, a public list with no login."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.conftest import login
from yiwang.cases import services as s
from yiwang.cases.models import WallPost
from yiwang.cases.states import Outcome
from yiwang.cases.wall import anonymous_name, redact, wall_propose, wall_review


@pytest.fixture
def closed_case(report, community_a_staff, worker_a):
    case = report(
        "SRHJ04",
        title="铁山路22号甲小区后院卫生脏乱差",
        description=(
            "刘建国反映:市北区铁山路22号甲小区后院卫生脏乱差,存在蚊虫鼠蚁孳生的问题,"
            "我住3号楼2单元501室,电话13812345678,身份证370203199001011234,请尽快清理并答复。"
        ),
        reporter_name="刘建国",
    )
    s.case_accept(actor=community_a_staff, case=case)
    s.case_start(actor=community_a_staff, case=case)
    s.case_reply(
        actor=community_a_staff,
        case=case,
        reply="接到市民反映的问题后,社区立即派人到现场查看,已安排环卫人员清理。",
    )
    s.case_verify(actor=worker_a, case=case, ok=True)
    return s.case_close(actor=community_a_staff, case=case, outcome=Outcome.SOLVED)


def test_redaction(closed_case):
    text = redact(closed_case.description, closed_case)
    assert "13812345678" not in text and "370203199001011234" not in text
    assert "刘建国" not in text and "刘某" in text
    assert "501" not in text
    assert "铁山路22号甲" in text  # the place of the problem stays


def test_anonymous_names(closed_case):
    closed_case.reporter_name = "刘先生"
    assert anonymous_name(closed_case) == "市民刘先生"
    closed_case.reporter_name = "王女士"
    assert anonymous_name(closed_case) == "市民王女士"
    closed_case.anonymous = True
    assert anonymous_name(closed_case) == "市民"


def test_propose_review_publish(client, closed_case, community_a_staff, street_staff, worker_a):
    post = wall_propose(actor=community_a_staff, case=closed_case)
    assert post.status == WallPost.Status.PROPOSED
    assert post.summary.startswith("市民刘某反映:")
    assert client.get("/api/v1/wall/").json() == []  # not before review
    with pytest.raises(PermissionDenied):
        wall_review(actor=worker_a, post=post, approve=True)  # a grid worker is no reviewer
    with pytest.raises(ValidationError):
        wall_review(actor=street_staff, post=post, approve=True, summary="电话 13900001111")
    post = wall_review(actor=street_staff, post=post, approve=True)
    data = client.get("/api/v1/wall/").json()  # no login
    assert len(data) == 1
    assert data[0]["reply"].startswith("接到市民反映的问题后")
    assert "13812345678" not in str(data)
    assert client.get("/api/v1/wall/", {"street_id": closed_case.street_id}).json() == data
    assert client.get("/api/v1/wall/", {"street_id": 999}).json() == []


def test_only_closed_cases_go_on_the_wall(report, community_a_staff):
    with pytest.raises(ValidationError):
        wall_propose(actor=community_a_staff, case=report())


def test_wall_api_propose_and_review(client, closed_case, community_a_staff, street_staff):
    login(client, community_a_staff)
    r = client.post(f"/api/v1/cases/{closed_case.id}/wall")
    assert r.status_code == 201
    post_id = r.json()["id"]
    login(client, street_staff)
    r = client.post(
        f"/api/v1/wall/{post_id}/review", {"approve": True}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["published_at"]
