"""Residents imports as background jobs, through the pages: the upload becomes a job, its page
shows the progress and then the report; only its actor (and district admins) see it; bad
uploads are refused with a message and leave nothing behind; a job whose process died shows
failed. The jobs run in real threads on their own connections, hence transactional tests."""

from __future__ import annotations

import datetime as dt
import os
import re
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.conftest import login
from tests.registry.conftest import finished, make_id, stored_files
from tests.web import conftest as web
from yiwang.registry import jobs
from yiwang.registry.models import ImportJob, Resident

# The shell's browser fixtures, shared rather than copied.
chromium_path = web.chromium_path
browser = web.browser
artifacts = web.artifacts

pytestmark = [pytest.mark.urls("tests.registry.urls"), pytest.mark.django_db(transaction=True)]

ID1 = make_id("19450312", "131")
ID2 = make_id("19900520", "242")
ID3 = make_id("19700101", "111")
BAD_CHECK = ID2[:17] + ("0" if ID2[17] != "0" else "1")

# Two good rows (2 and 5), three bad ones (3, 4, 6); GBK, as staff's Excel saves it.
CSV_ROWS = [
    "姓名,性别,身份证号,联系电话,住址",
    f"张三,男,{ID1},138 0013 8000,铁山路22号甲",
    f"钱七,女,{BAD_CHECK},,铁山路22号",
    f",男,{make_id('19800101', '133')},,人民路10号",
    f"王五,男,{ID3},13900139000,人民路30号",
    f"孙八,男,{ID3},,人民路30号",  # the same ID as row 5
]


def gbk_csv(name: str = "居民台账.csv", lines=CSV_ROWS) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\r\n".join(lines) + "\r\n").encode("gbk"))


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Uploads are kept under the var directory while their job runs: a private one here."""
    settings.VAR_DIR = tmp_path
    return tmp_path / "imports"


def upload(client, file, *, commit: bool, source: str = "import"):
    data = {"file": file, "source": source}
    if commit:
        data["commit"] = "1"
    return client.post("/registry/import/", data)


def job_id_of(response) -> int:
    assert response.status_code == 302, response.content.decode()[:2000]
    m = re.fullmatch(r"/registry/import/(\d+)/", response["Location"])
    assert m, response["Location"]
    return int(m.group(1))


def test_commit_runs_in_the_background_and_shows_the_report(client, street_staff, var_dir):
    login(client, street_staff)
    job_id = job_id_of(upload(client, gbk_csv(), commit=True))
    job = finished(job_id)
    assert job.status == ImportJob.Status.DONE, job.error
    assert job.actor == street_staff and job.commit and job.file_name == "居民台账.csv"
    assert job.started_at and job.finished_at and job.file_path == ""
    assert (job.done_rows, job.total_rows) == (5, 5)
    assert stored_files(var_dir) == []  # the upload is deleted once the job ends

    report = job.report
    assert report["committed"] and (report["total"], report["good"], report["bad"]) == (5, 2, 3)
    got = {(p["row"], p["column"]) for p in report["problems"]}
    assert {(3, "身份证号"), (4, "姓名"), (6, "身份证号")} <= got
    assert sorted(Resident.objects.values_list("name", flat=True)) == ["张三", "王五"]
    assert Resident.objects.get(id_number=ID1).phones == ["13800138000"]

    r = client.get(f"/registry/import/{job_id}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-finished="true"' in html and "已写入" in html
    assert "共 5 行:可导入 2,有问题 3;新增 2,更新 0,未变 0" in html
    assert "<td>3</td><td>身份证号</td><td>身份证号校验位错误" in html
    assert "<td>4</td><td>姓名</td>" in html and "<td>6</td><td>身份证号</td>" in html
    assert "第 2 行 [联系电话]" in html and "13800138000" in html  # the notes
    assert "已处理 5 / 5 行" in html

    # The import page lists the job.
    page = client.get("/registry/import/").content.decode()
    assert f'href="/registry/import/{job_id}/"' in page and "居民台账.csv" in page


def test_dry_run_reports_and_writes_nothing(client, street_staff):
    login(client, street_staff)
    job = finished(job_id_of(upload(client, gbk_csv(), commit=False)))
    assert job.status == ImportJob.Status.DONE and not job.commit
    assert not job.report["committed"] and job.report["bad"] == 3
    assert job.report["created"] == 2  # what a commit would create
    assert not Resident.objects.exists()
    html = client.get(f"/registry/import/{job.id}/").content.decode()
    assert "检查结果 (未写入)" in html and "<td>4</td><td>姓名</td>" in html


def test_progress_endpoint(client, street_staff):
    login(client, street_staff)
    job_id = job_id_of(upload(client, gbk_csv(), commit=False))
    finished(job_id)
    r = client.get(f"/registry/import/{job_id}/progress")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    data = r.json()
    assert data["status"] == "done" and data["finished"] is True
    assert (data["done"], data["total"]) == (5, 5)
    assert data["text"].startswith("已处理 5 / 5 行")


def test_a_running_job_shows_its_progress(client, street_staff):
    """The row as the job's thread leaves it between two progress writes."""
    now = timezone.now()
    job = ImportJob.objects.create(
        actor=street_staff,
        file_name="大表.csv",
        status=ImportJob.Status.RUNNING,
        done_rows=12_000,
        total_rows=100_000,
        started_at=now - dt.timedelta(seconds=2),
        heartbeat_at=now,
    )
    login(client, street_staff)
    data = client.get(f"/registry/import/{job.id}/progress").json()
    assert data["status"] == "running" and data["finished"] is False
    assert (data["done"], data["total"]) == (12_000, 100_000)
    assert data["text"].startswith("已处理 12,000 / 100,000 行 · 每秒 ")
    assert 5_000 <= data["rows_per_second"] <= 6_100
    html = client.get(f"/registry/import/{job.id}/").content.decode()
    assert 'data-finished="false"' in html
    assert (
        '<progress id="job-progress" data-testid="job-progress" max="100000" value="12000">' in html
    )
    assert "已处理 12,000 / 100,000 行" in html
    assert f'data-progress-url="/registry/import/{job.id}/progress"' in html


def test_a_running_job_of_unknown_length_says_rows_so_far(client, street_staff):
    """The reader gave no row count: done and total move together, and the page says only
    how many rows are done, with a bar that does not claim to be full."""
    now = timezone.now()
    job = ImportJob.objects.create(
        actor=street_staff,
        file_name="大表.xlsx",
        status=ImportJob.Status.RUNNING,
        done_rows=5_000,
        total_rows=5_000,
        started_at=now - dt.timedelta(seconds=1),
        heartbeat_at=now,
    )
    login(client, street_staff)
    assert (
        client.get(f"/registry/import/{job.id}/progress")
        .json()["text"]
        .startswith("已处理 5,000 行 · ")
    )
    html = client.get(f"/registry/import/{job.id}/").content.decode()
    assert '<progress id="job-progress" data-testid="job-progress" max="5000">' in html


def test_a_running_job_whose_process_is_gone_shows_failed(client, street_staff, var_dir):
    var_dir.mkdir(parents=True)
    left = var_dir / "left-behind.csv"
    left.write_bytes(b"x")
    job = ImportJob.objects.create(
        actor=street_staff,
        file_name="大表.csv",
        file_path=str(left),
        status=ImportJob.Status.RUNNING,
        done_rows=40_000,
        total_rows=100_000,
        started_at=timezone.now() - dt.timedelta(minutes=10),
        heartbeat_at=timezone.now() - dt.timedelta(minutes=9),
    )
    login(client, street_staff)
    data = client.get(f"/registry/import/{job.id}/progress").json()
    assert data["status"] == "failed" and data["finished"] is True
    assert "导入进程已中断" in data["error"]
    html = client.get(f"/registry/import/{job.id}/").content.decode()
    assert "失败" in html and "导入进程已中断" in html and "请重新上传文件" in html
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at and job.file_path == ""
    assert not left.exists()


def test_a_recent_running_job_is_not_failed(client, street_staff):
    job = ImportJob.objects.create(
        actor=street_staff,
        file_name="大表.csv",
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now() - dt.timedelta(minutes=10),
        heartbeat_at=timezone.now() - dt.timedelta(seconds=30),
    )
    login(client, street_staff)
    assert client.get(f"/registry/import/{job.id}/progress").json()["status"] == "running"


def test_only_the_actor_and_district_admins_see_a_job(
    client, street_staff, worker_a, leader, outsider, district_admin, admin_user
):
    login(client, street_staff)
    job_id = job_id_of(upload(client, gbk_csv(), commit=False))
    finished(job_id)
    for other in (worker_a, leader, outsider):
        login(client, other)
        assert client.get(f"/registry/import/{job_id}/").status_code == 404, other
        assert client.get(f"/registry/import/{job_id}/progress").status_code == 404, other
    login(client, worker_a)
    assert f"/registry/import/{job_id}/" not in client.get("/registry/import/").content.decode()
    for admin in (district_admin, admin_user):
        login(client, admin)
        assert client.get(f"/registry/import/{job_id}/").status_code == 200
        assert client.get(f"/registry/import/{job_id}/progress").json()["status"] == "done"
    assert client.get("/registry/import/999999/").status_code == 404
    client.logout()
    assert client.get(f"/registry/import/{job_id}/").status_code == 302  # to the login page


def test_import_needs_the_permission(client, leader):
    login(client, leader)
    assert client.get("/registry/import/").status_code == 403
    assert upload(client, gbk_csv(), commit=True).status_code == 403
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (None, "请选择要导入的文件"),
        (SimpleUploadedFile("空.csv", b""), "文件 空.csv 是空的"),
        (
            SimpleUploadedFile("a.pdf", b"%PDF-1.4"),
            "不支持的文件类型 .pdf,请上传 .xlsx 或 .csv 文件",
        ),
        (SimpleUploadedFile("noext", b"a,b"), "不支持的文件类型 (无扩展名)"),
        (SimpleUploadedFile("old.xls", b"\xd0\xcf\x11\xe0"), "不支持旧版 .xls 格式"),
        (SimpleUploadedFile("fake.xlsx", "姓名,住址\n".encode()), "不是 Excel (xlsx) 文件"),
        (SimpleUploadedFile("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00"), "不是文本 CSV"),
    ],
    ids=["no-file", "empty", "pdf", "no-suffix", "xls", "fake-xlsx", "binary-csv"],
)
def test_bad_uploads_are_refused_and_leave_nothing(client, street_staff, var_dir, file, message):
    login(client, street_staff)
    data = {"source": "import", "commit": "1"}
    if file is not None:
        data["file"] = file
    r = client.post("/registry/import/", data)
    html = r.content.decode()
    assert r.status_code == 400
    assert 'data-testid="form-errors"' in html and message in html
    assert not ImportJob.objects.exists() and not Resident.objects.exists()
    assert stored_files(var_dir) == []


def test_a_file_over_the_size_limit_is_refused(client, street_staff, var_dir, monkeypatch):
    assert jobs.MAX_UPLOAD_BYTES == 200 * 1024 * 1024  # the reader's own limit
    monkeypatch.setattr(jobs, "MAX_UPLOAD_BYTES", 2 * 1024 * 1024)
    login(client, street_staff)
    big = SimpleUploadedFile("big.csv", b"x" * (3 * 1024 * 1024))
    r = upload(client, big, commit=True)
    assert r.status_code == 400
    assert "文件过大 (3 MB),上限 2 MB,请拆分后导入" in r.content.decode()
    assert not ImportJob.objects.exists() and stored_files(var_dir) == []


def test_a_second_upload_waits_for_the_active_job(client, street_staff, var_dir):
    ImportJob.objects.create(
        actor=street_staff,
        file_name="大表.csv",
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    login(client, street_staff)
    r = upload(client, gbk_csv(), commit=True)
    assert r.status_code == 400 and "您已有一个导入正在进行" in r.content.decode()
    assert ImportJob.objects.count() == 1 and stored_files(var_dir) == []


def test_a_file_the_importer_cannot_read_ends_done_with_the_reason(client, street_staff):
    """Right suffix, wrong content: the job ends and its report says why, row 0 / 文件 or 表头."""
    login(client, street_staff)
    job = finished(job_id_of(upload(client, gbk_csv("x.csv", ["甲,乙,丙", "1,2,3"]), commit=True)))
    assert job.status == ImportJob.Status.DONE
    assert job.report["problems"][0]["column"] == "表头"
    html = client.get(f"/registry/import/{job.id}/").content.decode()
    assert "未找到必需的列" in html


def test_a_job_runs_once(street_staff):
    """A job already claimed (or finished) is not run again by a second call."""
    job = ImportJob.objects.create(
        actor=street_staff, file_name="a.csv", status=ImportJob.Status.DONE, report={"total": 1}
    )
    jobs.import_job_run(job.id)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.report == {"total": 1}


def test_left_over_uploads_are_swept(client, street_staff, worker_a, var_dir):
    """An upload no job holds (its job's transaction rolled back) goes with the next upload;
    another user's running job keeps its file."""
    var_dir.mkdir(parents=True)
    orphan, held = var_dir / "orphan.csv", var_dir / "held.csv"
    for path in (orphan, held):
        path.write_bytes(b"x")
        os.utime(path, (0, 0))
    ImportJob.objects.create(
        actor=worker_a,
        file_name="held.csv",
        file_path=str(held),
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    login(client, street_staff)
    job = finished(job_id_of(upload(client, gbk_csv(), commit=False)))
    assert job.status == ImportJob.Status.DONE
    assert not orphan.exists() and held.exists()


# The page in headless Chromium: the upload, the bar while the job runs, the report swapped in
# without a reload. Uses the browser fixtures of tests/web.


def big_csv(rows: int) -> bytes:
    """`rows` distinct people (valid IDs) in grid A1, and one bad row at the end."""
    lines = ["姓名,身份证号,住址"]
    start = dt.date(1950, 1, 1)
    for i in range(rows):
        birth = (start + dt.timedelta(days=i // 400)).strftime("%Y%m%d")
        lines.append(f"居民{i},{make_id(birth, f'{100 + i % 400:03d}')},铁山路22号甲")
    lines.append(f"缺号,{BAD_CHECK},铁山路22号")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


@pytest.mark.browser
def test_the_page_shows_the_bar_then_the_report(browser, live_server, street_staff, artifacts):
    # Enough rows that the job outlasts a few of the page's one-second progress checks.
    rows = 60_000
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors, texts = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/login/?next=/registry/import/")
        page.fill("#id_username", "street")
        page.fill("#id_password", "pw-street")
        page.click("[data-testid=login-submit]")
        page.wait_for_url(live_server.url + "/registry/import/")
        page.set_input_files(
            "input[name=file]",
            files=[{"name": "大台账.csv", "mimeType": "text/csv", "buffer": big_csv(rows)}],
        )
        page.click("#import-form button[type=submit]")
        page.wait_for_url(re.compile(r".*/registry/import/\d+/$"))
        job_url = page.url
        assert page.get_attribute("#import-job", "data-finished") == "false"
        page.wait_for_selector("#job-progress")
        page.screenshot(path=str(artifacts / "import_job_running.png"))
        # The bar moves while the job runs.
        for _ in range(600):
            if page.locator("[data-testid=import-report]").count():
                break
            # Read without waiting: the report may replace the status between two lines.
            text = page.evaluate(
                "() => (document.getElementById('job-status') || {}).textContent || ''"
            )
            if text and text not in texts:
                texts.append(text)
            page.wait_for_timeout(100)
        page.wait_for_selector("[data-testid=import-report]")
        page.screenshot(path=str(artifacts / "import_job_report.png"), full_page=True)
        assert page.url == job_url  # swapped in place, no navigation
        html = page.inner_html("#import-job")
        total = rows + 1
        assert f"共 {total} 行:可导入 {rows},有问题 1" in html
        assert f"<td>{total + 1}</td><td>身份证号</td>" in html
        assert any(t.startswith("已处理 ") and " / " in t for t in texts), texts
        page.goto("/registry/import/")
        page.screenshot(path=str(artifacts / "import_page.png"), full_page=True)
        assert page.locator(f"[data-testid=import-jobs] a[href='{urlsplit(job_url).path}']").count()
        assert errors == []
    finally:
        context.close()
    assert not Resident.objects.exists()  # a dry run


# -- the API ---------------------------------------------------------------------------------

API = "/api/v1/registry/residents/import-jobs"


def test_api_job_from_upload_to_report(client, street_staff, worker_b, var_dir):
    login(client, street_staff)
    r = client.post(API, {"file": gbk_csv(), "commit": "true"})
    assert r.status_code == 202, r.content
    job_id = r.json()["id"]
    assert finished(job_id).status == ImportJob.Status.DONE
    body = client.get(f"{API}/{job_id}").json()
    assert body["finished"] and body["status"] == "done"
    assert body["report"]["created"] == 2 and body["report"]["bad"] == 3
    assert {p["row"] for p in body["report"]["problems"]} == {3, 4, 6}
    assert Resident.objects.filter(id_number__in=[ID1, ID3]).count() == 2
    client.logout()
    login(client, worker_b)
    assert client.get(f"{API}/{job_id}").status_code == 404  # another's job stays hidden


def test_api_refuses_a_file_it_cannot_read_and_keeps_nothing(client, street_staff, var_dir):
    login(client, street_staff)
    r = client.post(API, {"file": SimpleUploadedFile("台账.xls", b"\xd0\xcf\x11\xe0")})
    assert r.status_code == 400 and "xlsx" in r.json()["detail"]["file"][0]
    assert ImportJob.objects.count() == 0 and stored_files(var_dir) == []
