"""Cancelling an import job, through the job's page and the API: a queued job ends at once; a
running one stops after the batch it is writing, keeping what it wrote (importing the file
again completes it without duplicates); a finished job cannot be cancelled; only the job's
owner and district admins may cancel it. And one active job per person, held by the
database even when two uploads arrive together. The jobs run in real threads on their own
connections, hence transactional tests."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from tests.conftest import login
from tests.registry.conftest import finished, make_id, stored_files
from yiwang.registry import jobs
from yiwang.registry.importer import FIRST_BATCH
from yiwang.registry.models import ImportJob, Resident

pytestmark = [pytest.mark.urls("tests.registry.urls"), pytest.mark.django_db(transaction=True)]

API = "/api/v1/registry/residents/import-jobs"
ONE_ACTIVE = "您已有一个导入正在进行,请等它结束后再上传"


def people_csv(rows: int) -> bytes:
    """`rows` distinct, valid people in grid A1."""
    lines = ["姓名,身份证号,住址"]
    start = dt.date(1950, 1, 1)
    for i in range(rows):
        birth = (start + dt.timedelta(days=i // 400)).strftime("%Y%m%d")
        lines.append(f"居民{i},{make_id(birth, f'{100 + i % 400:03d}')},铁山路22号甲")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def csv_file(rows: int = 3, name: str = "台账.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, people_csv(rows))


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Uploads are kept under the var directory while their job runs: a private one here."""
    settings.VAR_DIR = tmp_path
    return tmp_path / "imports"


def queued_job(actor, var_dir, *, commit=True, **fields) -> ImportJob:
    """A job as import_job_start leaves it before its thread claims it (no thread here)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / f"{actor.username}-{ImportJob.objects.count()}.csv"
    path.write_bytes(people_csv(3))
    return ImportJob.objects.create(
        actor=actor,
        file_name="台账.csv",
        file_path=str(path),
        file_size=path.stat().st_size,
        commit=commit,
        heartbeat_at=timezone.now(),
        **fields,
    )


def running_job(actor, **fields) -> ImportJob:
    """A job whose thread is busy in a batch (the row as that thread keeps it)."""
    now = timezone.now()
    return ImportJob.objects.create(
        actor=actor,
        file_name="大表.csv",
        commit=True,
        status=ImportJob.Status.RUNNING,
        done_rows=5_000,
        total_rows=30_000,
        started_at=now - dt.timedelta(seconds=1),
        heartbeat_at=now,
        **fields,
    )


# -- the page ------------------------------------------------------------------------------


def test_cancel_a_queued_job_from_its_page(street_staff, var_dir):
    job = queued_job(street_staff, var_dir)
    path = job.file_path
    client = Client(enforce_csrf_checks=True)
    login(client, street_staff)
    html = client.get(f"/registry/import/{job.id}/").content.decode()
    form = re.search(
        r'<form method="post" action="/registry/import/(\d+)/cancel" id="job-cancel"'
        r'[^>]*>.*?name="csrfmiddlewaretoken" value="([^"]+)"',
        html,
        re.S,
    )
    assert form and int(form.group(1)) == job.id, html
    assert "取消后,已写入的批次保留,其余行不再导入。" in html

    r = client.post(f"/registry/import/{job.id}/cancel", {"csrfmiddlewaretoken": form.group(2)})
    assert r.status_code == 302 and r["Location"] == f"/registry/import/{job.id}/"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and job.is_finished
    assert job.finished_at and job.cancel_requested_at and job.file_path == ""
    assert job.error == "已取消:尚未写入任何数据"
    assert stored_files(var_dir) == [] and path

    html = client.get(f"/registry/import/{job.id}/").content.decode()
    assert 'data-finished="true"' in html and 'data-testid="import-job-cancelled"' in html
    assert "已取消:尚未写入任何数据" in html and 'id="job-cancel"' not in html
    assert "已取消" in client.get("/registry/import/").content.decode()

    # The thread that would have run it finds nothing to claim.
    jobs.import_job_run(job.id)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and not Resident.objects.exists()


def test_cancel_needs_a_post_with_the_csrf_token(street_staff, var_dir):
    job = queued_job(street_staff, var_dir)
    client = Client(enforce_csrf_checks=True)
    login(client, street_staff)
    assert client.get(f"/registry/import/{job.id}/cancel").status_code == 405
    assert client.post(f"/registry/import/{job.id}/cancel").status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED and job.cancel_requested_at is None


def test_cancel_a_running_job_asks_its_thread_to_stop(client, street_staff):
    job = running_job(street_staff)
    login(client, street_staff)
    r = client.post(f"/registry/import/{job.id}/cancel")
    assert r.status_code == 302
    job.refresh_from_db()
    # The thread ends it at its next batch boundary; until then it is still running.
    assert job.status == ImportJob.Status.RUNNING and job.cancel_requested_at
    html = client.get(f"/registry/import/{job.id}/").content.decode()
    assert 'data-finished="false"' in html and 'id="job-cancel"' not in html
    assert "正在取消,当前批次写完即停止……" in html
    data = client.get(f"/registry/import/{job.id}/progress").json()
    assert data["cancel_requested"] is True and data["cancellable"] is False
    assert data["text"] == "正在取消,当前批次写完即停止……"
    assert "正在取消" in client.get("/registry/import/").content.decode()
    # Asking again changes nothing.
    first = job.cancel_requested_at
    assert client.post(f"/registry/import/{job.id}/cancel").status_code == 302
    job.refresh_from_db()
    assert job.cancel_requested_at == first


@pytest.mark.parametrize(
    "status", [ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.CANCELLED]
)
def test_a_finished_job_cannot_be_cancelled(client, street_staff, status):
    job = ImportJob.objects.create(
        actor=street_staff, file_name="a.csv", status=status, finished_at=timezone.now()
    )
    login(client, street_staff)
    r = client.post(f"/registry/import/{job.id}/cancel")
    assert r.status_code == 409
    html = r.content.decode()
    assert 'data-testid="form-errors"' in html and "该导入已结束" in html and "无法取消" in html
    r = client.post(f"{API}/{job.id}/cancel")
    assert r.status_code == 409
    assert r.json()["code"] == "conflict" and "无法取消" in r.json()["message"]
    job.refresh_from_db()
    assert job.status == status and job.cancel_requested_at is None


def test_a_stale_running_job_shows_failed_instead_of_cancelling(client, street_staff):
    job = running_job(street_staff)
    ImportJob.objects.filter(id=job.id).update(
        heartbeat_at=timezone.now() - dt.timedelta(minutes=9)
    )
    login(client, street_staff)
    r = client.post(f"{API}/{job.id}/cancel")
    assert r.status_code == 409 and "失败" in r.json()["message"]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


def test_only_the_owner_and_district_admins_may_cancel(
    client, street_staff, worker_a, leader, outsider, district_admin, admin_user, var_dir
):
    job = queued_job(street_staff, var_dir)
    for other in (worker_a, leader, outsider):
        login(client, other)
        assert client.post(f"/registry/import/{job.id}/cancel").status_code == 404, other
        assert client.post(f"{API}/{job.id}/cancel").status_code == 404, other
        job.refresh_from_db()
        assert job.status == ImportJob.Status.QUEUED and job.cancel_requested_at is None
    assert len(stored_files(var_dir)) == 1
    client.logout()
    assert client.post(f"/registry/import/{job.id}/cancel").status_code == 302  # to login
    assert client.post(f"{API}/{job.id}/cancel").status_code == 401
    for admin in (district_admin, admin_user):
        job = running_job(street_staff) if admin is admin_user else job
        login(client, admin)
        assert client.post(f"{API}/{job.id}/cancel").status_code == 200, admin
        job.refresh_from_db()
        assert job.cancel_requested_at is not None


def test_the_service_refuses_someone_else(worker_a, street_staff, var_dir):
    from django.core.exceptions import PermissionDenied

    job = queued_job(street_staff, var_dir)
    with pytest.raises(PermissionDenied):
        jobs.import_job_cancel(actor=worker_a, job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED


# -- the API -------------------------------------------------------------------------------


def test_api_cancel_a_queued_job(client, street_staff, var_dir):
    job = queued_job(street_staff, var_dir, commit=False)
    login(client, street_staff)
    r = client.post(f"{API}/{job.id}/cancel")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "cancelled" and body["finished"] is True
    assert body["status_label"] == "已取消" and body["cancellable"] is False
    assert body["error"] == "已取消:只检查,未写入任何数据"
    assert client.get(f"{API}/{job.id}").json()["report"] is None
    assert stored_files(var_dir) == []


def test_api_cancel_a_running_job(client, street_staff):
    job = running_job(street_staff)
    login(client, street_staff)
    body = client.post(f"{API}/{job.id}/cancel").json()
    assert body["status"] == "running" and body["cancel_requested"] is True
    assert body["finished"] is False


# -- the runner ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("commit", "message"),
    [(True, "已取消:尚未写入任何数据"), (False, "已取消:只检查,未写入任何数据")],
)
def test_the_runner_stops_at_its_first_progress_call(street_staff, var_dir, commit, message):
    """The cancel came before the importer's first word: it stops before any batch."""
    job = queued_job(street_staff, var_dir, commit=commit, cancel_requested_at=timezone.now())
    jobs.import_job_run(job.id)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and job.error == message
    assert job.done_rows == 0 and job.finished_at and job.file_path == ""
    assert job.report is None
    assert stored_files(var_dir) == [] and not Resident.objects.exists()


@pytest.mark.postgres
def test_a_running_import_stops_after_its_batch_and_reimport_completes(client, street_staff):
    """The cancel comes while the job writes its first batch (held by a lock on the residents
    table, so no timing is involved): that batch is written, the rest is not; importing the
    same file again writes the rest and duplicates nobody."""
    if connection.vendor != "postgresql":
        pytest.skip("holds a table lock from a second connection: runs in the PostgreSQL pass")
    rows = 15_000  # a first batch of FIRST_BATCH, then batches of 5,000
    first = FIRST_BATCH
    data = people_csv(rows)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("LOCK TABLE registry_resident IN SHARE MODE")
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        login(client, street_staff)
        r = client.post(API, {"file": SimpleUploadedFile("大表.csv", data), "commit": "true"})
        assert r.status_code == 202, r.content
        job_id = r.json()["id"]
        # Wait until the job's first batch is waiting for the lock.
        for _ in range(400):
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted"
                    " AND relation = 'registry_resident'::regclass"
                )
                if cur.fetchone()[0]:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the import never reached its first batch")
        r = client.post(f"{API}/{job_id}/cancel")
        assert r.status_code == 200 and r.json()["cancel_requested"] is True
    finally:
        release.set()
        holder.join(30)
    job = finished(job_id)
    assert job.status == ImportJob.Status.CANCELLED, job.error
    assert job.done_rows == first and job.report is None and job.file_path == ""
    assert job.error == (
        f"已取消:前 {first:,} 行已处理 (其中有效的行已写入),其余未导入;重新导入同一文件不会产生重复记录"
    )
    assert Resident.objects.count() == first
    html = client.get(f"/registry/import/{job_id}/").content.decode()
    assert f"前 {first:,} 行已处理" in html

    r = client.post(API, {"file": SimpleUploadedFile("大表.csv", data), "commit": "true"})
    assert r.status_code == 202, r.content
    again = finished(r.json()["id"])
    assert again.status == ImportJob.Status.DONE, again.error
    assert (again.report["created"], again.report["bad"]) == (rows - first, 0)
    assert Resident.objects.count() == rows
    assert Resident.objects.values("id_number").distinct().count() == rows


# -- one active job per person -------------------------------------------------------------


def test_the_table_refuses_a_second_active_job(street_staff, worker_a, var_dir):
    queued_job(street_staff, var_dir)
    with pytest.raises(IntegrityError), transaction.atomic():
        running_job(street_staff)
    # Another person's, and finished ones, are fine.
    running_job(worker_a)
    ImportJob.objects.create(
        actor=street_staff, file_name="b.csv", status=ImportJob.Status.CANCELLED
    )
    assert ImportJob.objects.filter(actor=street_staff).count() == 2


def test_starting_twice_refuses_the_second(street_staff, var_dir):
    """Both starts in one transaction: the first job's thread waits for the commit, so it is
    surely still active when the second start looks."""
    with transaction.atomic():
        first = jobs.import_job_start(actor=street_staff, upload_file=csv_file(), commit=True)
        with pytest.raises(jobs.ImportInputError, match=ONE_ACTIVE):
            jobs.import_job_start(actor=street_staff, upload_file=csv_file(), commit=True)
        assert len(stored_files(var_dir)) == 1
    assert finished(first.id).status == ImportJob.Status.DONE
    assert ImportJob.objects.count() == 1 and stored_files(var_dir) == []


@pytest.mark.postgres
def test_two_uploads_at_the_same_instant_one_job(street_staff, var_dir):
    """The second upload passes the check while the first's job is not yet committed; the
    table's constraint refuses its insert, and it gets the check's own refusal."""
    if connection.vendor != "postgresql":
        pytest.skip("needs two concurrent connections: runs in the PostgreSQL pass")
    inserted, commit_first = threading.Event(), threading.Event()
    out: dict = {}

    def first():
        try:
            with transaction.atomic():
                out["first"] = jobs.import_job_start(
                    actor=street_staff, upload_file=csv_file(), commit=True
                )
                inserted.set()
                commit_first.wait(30)
        except BaseException as exc:  # noqa: BLE001 (reported by the assertions below)
            out["first"] = exc
            inserted.set()
        finally:
            connection.close()

    def second():
        try:
            out["second"] = jobs.import_job_start(
                actor=street_staff, upload_file=csv_file(), commit=True
            )
        except BaseException as exc:  # noqa: BLE001
            out["second"] = exc
        finally:
            connection.close()

    a = threading.Thread(target=first)
    a.start()
    b = None
    try:
        assert inserted.wait(30) and isinstance(out["first"], ImportJob), out
        b = threading.Thread(target=second)
        b.start()
        # The second upload's file is stored after its check: once it is there, the check
        # has passed without seeing the first job, which is still uncommitted.
        for _ in range(400):
            if len(stored_files(var_dir)) == 2 or not b.is_alive():
                break
            time.sleep(0.05)
        assert len(stored_files(var_dir)) == 2 or "second" not in out, out
    finally:
        commit_first.set()
        a.join(30)
        if b is not None:
            b.join(30)
    assert isinstance(out["second"], jobs.ImportInputError), out
    assert str(out["second"]) == ONE_ACTIVE
    assert finished(out["first"].id).status == ImportJob.Status.DONE
    assert ImportJob.objects.count() == 1 and stored_files(var_dir) == []
