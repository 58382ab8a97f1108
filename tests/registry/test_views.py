"""Registry pages: scope isolation, masking, reveal and the access log, through the pages."""

import pytest

from tests.conftest import login
from yiwang.registry.models import AccessLog

pytestmark = pytest.mark.urls("tests.registry.urls")


def test_list_page_is_scoped_and_masked(client, worker_a, person_a, person_b):
    login(client, worker_a)
    before = AccessLog.objects.count()
    r = client.get("/registry/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "张三" in html and "李四" not in html
    assert person_a.id_number not in html and "138****8000" in html
    assert AccessLog.objects.count() == before + 1
    assert AccessLog.objects.latest("id").channel == "web"


def test_page_search_needs_purpose_and_is_scoped(client, worker_a, person_a, person_b):
    login(client, worker_a)
    html = client.get("/registry/", {"q": "李四"}).content.decode()
    assert "请选择查询用途" in html
    html = client.get("/registry/", {"q": "李四", "purpose": "visit"}).content.decode()
    assert "没有符合条件的居民" in html


def test_card_page_scope_and_reveal(client, worker_a, person_a, person_b):
    login(client, worker_a)
    assert client.get(f"/registry/residents/{person_b.id}/").status_code == 404
    r = client.get(f"/registry/residents/{person_a.id}/")
    html = r.content.decode()
    assert r.status_code == 200 and person_a.id_number not in html
    assert "铁山路22甲号" in html and "小港第一网格" in html
    r = client.post(f"/registry/residents/{person_a.id}/reveal/", {"reason": "入户走访"})
    assert person_a.id_number in r.content.decode()
    assert AccessLog.objects.latest("id").action == "reveal"
    assert (
        client.post(f"/registry/residents/{person_b.id}/reveal/", {"reason": "x看看"}).status_code
        == 404
    )


def test_export_page_is_scoped_and_logged(client, worker_a, person_a, person_b):
    login(client, worker_a)
    r = client.get("/registry/export/", {"format": "csv", "purpose": "visit"})
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "张三" in text and "李四" not in text
    assert text.splitlines()[0].startswith("导出人: worker_a")
    assert AccessLog.objects.latest("id").action == "export"


def test_access_log_page_for_auditors_only(client, auditor, worker_a, person_a):
    login(client, worker_a)
    assert client.get("/registry/access-log/").status_code == 403
    login(client, auditor)
    assert client.get("/registry/access-log/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_import_page(client, street_staff, tmp_path, settings):
    from yiwang.registry import jobs

    settings.VAR_DIR = tmp_path
    login(client, street_staff)
    path = tmp_path / "a.csv"
    path.write_text("姓名,身份证号,住址\n张三,370203800101123,铁山路22号\n", encoding="gbk")
    with open(path, "rb") as f:
        r = client.post("/registry/import/", {"file": f, "source": "import"})
    assert r.status_code == 302
    job_id = int(r["Location"].rstrip("/").rsplit("/", 1)[1])
    assert jobs.import_job_wait(job_id, timeout=60)
    html = client.get(r["Location"]).content.decode()
    assert "检查结果" in html and "15 位旧号已升级" in html
