"""Residents imports as background jobs: the page uploads a file, gets a job at once and
watches its progress, instead of waiting minutes inside one request.

`import_job_start` checks the upload, keeps the file under the var directory, creates the job
and (once the transaction commits) runs it in a daemon thread of this process: `make demo`
runs gunicorn only, and forking from a web worker is unsafe, so the importer runs with
`parallel=False`. The thread has its own database connection, writes done/total to the job
row at most about once a second (a conditional UPDATE of those columns only), beats a
heartbeat while the importer is busy between batches, stores the report, deletes the file and
closes its connection. A job still active whose heartbeat stopped (its process was restarted
or killed) is marked failed by `import_job_reap`, which every read of a job calls first.

`import_job_cancel` ends a queued job at once; a running one is asked to stop, and its runner
stops at the importer's next progress call, which comes between two batches: each batch is
its own transaction, so what was written stays whole, and importing the file again updates
those rows instead of duplicating them. One active job per person is held by a constraint on
the table, not only by the check in `import_job_start`."""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connections, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.common.tables import MAX_BYTES
from yiwang.org.models import RoleKind
from yiwang.org.permissions import IMPORT_REGISTRY, has_permission
from yiwang.org.selectors import scope_for

from .importer import residents_import
from .models import ImportJob

logger = logging.getLogger(__name__)

# The reader's own limit: a larger file would only fail inside the job.
MAX_UPLOAD_BYTES = MAX_BYTES
SUFFIXES = (".csv", ".xlsx")
PROGRESS_EVERY = 1.0  # seconds between progress writes
HEARTBEAT_EVERY = 20.0  # seconds between heartbeats while the importer is between batches
STALE_AFTER = dt.timedelta(minutes=2)  # an active job silent this long has lost its process
RECENT = 20  # jobs listed on the import page

Status = ImportJob.Status
ACTIVE = sorted(ImportJob.ACTIVE_STATES)

# The threads this process started, by job id, so tests and shutdown code can wait for them.
# Only a convenience: whether a job runs is what its row says.
_threads: dict[int, threading.Thread] = {}
_threads_lock = threading.Lock()


class ImportInputError(ValueError):
    """The upload cannot be imported; the message says why, for the page."""

    field = "file"


class ImportJobStateError(ValueError):
    """The job cannot do that in its present state (e.g. cancel a finished job); the message
    says why, for the page."""


class _Cancelled(Exception):
    """Raised from the importer's progress callback once the job's cancel was requested; the
    runner catches it. `done` is how many rows the importer had got through."""

    def __init__(self, done: int):
        super().__init__(done)
        self.done = done


def _one_active_message() -> str:
    return _("您已有一个导入正在进行,请等它结束后再上传")


def _var_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def import_upload_check(upload_file) -> str:
    """The file's suffix when `upload_file` is a csv or xlsx that the importer can read, within
    the size limit; else ImportInputError with the reason. Reads only the file's head."""
    if upload_file is None:
        raise ImportInputError(_("请选择要导入的文件"))
    name = upload_file.name or ""
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":
        raise ImportInputError(_("不支持旧版 .xls 格式,请在 Excel 中另存为 .xlsx"))
    if suffix not in SUFFIXES:
        raise ImportInputError(
            _("不支持的文件类型 %(suffix)s,请上传 .xlsx 或 .csv 文件")
            % {"suffix": suffix or _("(无扩展名)")}
        )
    size = upload_file.size or 0
    if size == 0:
        raise ImportInputError(_("文件 %(name)s 是空的") % {"name": name})
    if size > MAX_UPLOAD_BYTES:
        raise ImportInputError(
            _("文件过大 (%(size)s MB),上限 %(limit)s MB,请拆分后导入")
            % {"size": size // 1024 // 1024, "limit": MAX_UPLOAD_BYTES // 1024 // 1024}
        )
    upload_file.seek(0)
    head = upload_file.read(8192)
    upload_file.seek(0)
    if suffix == ".xlsx" and not head.startswith(b"PK\x03\x04"):
        raise ImportInputError(_("文件 %(name)s 不是 Excel (xlsx) 文件") % {"name": name})
    # NUL bytes mean binary data, unless the text is UTF-16 (which the reader detects).
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if suffix == ".csv" and b"\x00" in head and not utf16:
        raise ImportInputError(
            _("文件 %(name)s 不是文本 CSV,请在 Excel 中另存为 CSV 或 xlsx") % {"name": name}
        )
    return suffix


def _store(upload_file, suffix: str) -> Path:
    folder = _var_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as out:
            for chunk in upload_file.chunks():
                out.write(chunk)
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def _sweep(older_than: dt.timedelta = dt.timedelta(days=1)) -> None:
    """Deletes uploads that no job holds on to any more, e.g. one whose job's transaction was
    rolled back after the file was stored."""
    folder = _var_dir()
    if not folder.is_dir():
        return
    cutoff = time.time() - older_than.total_seconds()
    old = {str(p) for p in folder.iterdir() if p.is_file() and p.stat().st_mtime < cutoff}
    if old:
        held = set(
            ImportJob.objects.filter(file_path__in=old, status__in=ACTIVE).values_list(
                "file_path", flat=True
            )
        )
        for path in old - held:
            _delete_file(path)


def _delete_file(path: str) -> None:
    if path:
        try:
            Path(path).unlink(missing_ok=True)
        except OSError:
            logger.warning("import job file %s could not be deleted", path, exc_info=True)


def import_job_start(*, actor, upload_file, source: str = "import", commit: bool = False):
    """Checks the upload (ImportInputError with a message for the page when it cannot be
    imported: nothing is stored then), keeps the file, creates a queued job and, once the
    transaction commits, runs it in a background thread. One active job per actor."""
    if not has_permission(actor, IMPORT_REGISTRY):
        raise PermissionDenied(IMPORT_REGISTRY)
    suffix = import_upload_check(upload_file)
    source = (source or "").strip()[:40] or "import"
    import_job_reap(actor=actor)
    if ImportJob.objects.filter(actor=actor, status__in=ACTIVE).exists():
        raise ImportInputError(_one_active_message())
    _sweep()
    path = _store(upload_file, suffix)
    now = timezone.now()
    try:
        # A savepoint: a refused insert must leave a caller's transaction usable.
        with transaction.atomic():
            job = ImportJob.objects.create(
                actor=actor,
                source=source,
                commit=bool(commit),
                file_name=Path(upload_file.name).name[:255],
                file_path=str(path),
                file_size=upload_file.size,
                heartbeat_at=now,
            )
    except IntegrityError:
        path.unlink(missing_ok=True)
        # Another upload of the same person passed the check above at the same instant and
        # got its job in first: the table's one-active-job constraint refused this one.
        if ImportJob.objects.filter(actor=actor, status__in=ACTIVE).exists():
            raise ImportInputError(_one_active_message()) from None
        raise
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    transaction.on_commit(lambda: _launch(job.id))
    return job


def _launch(job_id: int) -> None:
    global _atexit_registered
    thread = threading.Thread(
        target=import_job_run, args=(job_id,), name=f"import-job-{job_id}", daemon=True
    )
    with _threads_lock:
        _threads[job_id] = thread
        if not _atexit_registered:
            atexit.register(_abandon)
            _atexit_registered = True
    thread.start()


_atexit_registered = False


def _abandon() -> None:
    """At a clean exit of this process (a restart), its jobs' daemon threads die with it: say
    so on their rows now rather than after STALE_AFTER."""
    with _threads_lock:
        ids = list(_threads)
    if not ids:
        return
    try:
        active = ImportJob.objects.filter(id__in=ids, status__in=ACTIVE)
        paths = list(active.values_list("file_path", flat=True))
        active.update(
            status=Status.FAILED,
            error=_("导入被服务重启打断,请重新上传文件"),
            finished_at=timezone.now(),
            file_path="",
        )
        for path in paths:
            _delete_file(path)
    except Exception:  # noqa: BLE001 (the process is exiting; the heartbeat rule still applies)
        logger.warning("import jobs %s could not be marked failed at exit", ids, exc_info=True)


def import_job_wait(job_id: int, timeout: float | None = None) -> bool:
    """Waits for the thread this process runs job `job_id` in; True when it has ended (or
    this process runs no thread for it)."""
    with _threads_lock:
        thread = _threads.get(job_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def _heartbeat(job_id: int, stop: threading.Event) -> None:
    try:
        while not stop.wait(HEARTBEAT_EVERY):
            ImportJob.objects.filter(id=job_id, status=Status.RUNNING).update(
                heartbeat_at=timezone.now()
            )
    except Exception:  # noqa: BLE001 (a missed heartbeat must not stop the import)
        logger.warning("import job %s: heartbeat failed", job_id, exc_info=True)
    finally:
        connections.close_all()


def import_job_run(job_id: int) -> None:
    """Runs a queued job to its end, in the calling thread (normally the job's own). Claims
    the job with a conditional UPDATE, so a job runs at most once."""
    stop = threading.Event()
    path = ""
    try:
        now = timezone.now()
        claimed = ImportJob.objects.filter(id=job_id, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now, worker=_worker_id()
        )
        if not claimed:
            return
        job = ImportJob.objects.select_related("actor").get(id=job_id)
        path = job.file_path
        threading.Thread(
            target=_heartbeat, args=(job_id, stop), name=f"import-job-{job_id}-beat", daemon=True
        ).start()
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            # Called between batches, each committed whole: the one safe place to stop.
            if ImportJob.objects.filter(id=job_id, cancel_requested_at__isnull=False).exists():
                raise _Cancelled(done)
            at = time.monotonic()
            if done and at - last < PROGRESS_EVERY:
                return
            if done:  # the first word (the file's size, nothing done yet) does not hold up the next
                last = at
            ImportJob.objects.filter(id=job_id, status=Status.RUNNING).update(
                done_rows=done, total_rows=total, heartbeat_at=timezone.now()
            )

        try:
            report = residents_import(
                actor=job.actor,
                path=path,
                source=job.source,
                commit=job.commit,
                progress=progress,
                parallel=False,
            )
        except _Cancelled as cancelled:
            _finish(
                job_id,
                status=Status.CANCELLED,
                error=_cancel_message(commit=job.commit, done=cancelled.done),
                done_rows=cancelled.done,
            )
        except Exception as exc:  # noqa: BLE001 (any failure must end the job, with its reason)
            logger.exception("import job %s failed", job_id)
            message = _("导入中断:%(error)s") % {"error": str(exc) or type(exc).__name__}
            if job.commit:
                message += _(";中断前已写入的批次保留,修正后可重新导入 (不会产生重复记录)")
            _finish(job_id, status=Status.FAILED, error=message)
        else:
            _finish(
                job_id,
                status=Status.DONE,
                report=report.as_dict(),
                done_rows=report.total,
                total_rows=report.total,
            )
    except Exception:  # noqa: BLE001 (the job row itself could not be read or written)
        logger.exception("import job %s could not be run", job_id)
        try:
            _finish(job_id, status=Status.FAILED, error=_("导入任务无法运行,请重新上传"))
        except Exception:  # noqa: BLE001
            logger.exception("import job %s could not be marked failed", job_id)
    finally:
        stop.set()
        _delete_file(path)
        with _threads_lock:
            _threads.pop(job_id, None)
        connections.close_all()


def _finish(job_id: int, *, status: str, **fields) -> None:
    # A job reaped as stale meanwhile still gets its true outcome.
    ImportJob.objects.filter(id=job_id).exclude(status=Status.DONE).update(
        status=status, finished_at=timezone.now(), file_path="", **fields
    )


def import_job_reap(*, actor=None, job: ImportJob | None = None) -> int:
    """Marks failed the active jobs (of `actor`, or just `job`) whose heartbeat is older than
    STALE_AFTER: their process is gone. Deletes their files. Returns how many it marked."""
    cutoff = timezone.now() - STALE_AFTER
    if job is not None:
        if job.status not in ImportJob.ACTIVE_STATES or (
            job.heartbeat_at and job.heartbeat_at >= cutoff
        ):
            return 0
        stale = [job]
    else:
        qs = ImportJob.objects.filter(status__in=ACTIVE, heartbeat_at__lt=cutoff)
        if actor is not None:
            qs = qs.filter(actor=actor)
        stale = list(qs)
    message = _("导入进程已中断 (超过 %(minutes)d 分钟没有进展,可能是服务重启),请重新上传文件") % {
        "minutes": STALE_AFTER.seconds // 60
    }
    marked = 0
    for item in stale:
        changed = ImportJob.objects.filter(
            id=item.id, status=item.status, heartbeat_at__lt=cutoff
        ).update(status=Status.FAILED, error=message, finished_at=timezone.now(), file_path="")
        if changed:
            marked += 1
            _delete_file(item.file_path)
            if job is not None:
                job.refresh_from_db()
    return marked


def _may_see_all(actor) -> bool:
    return scope_for(actor).has_role(RoleKind.DISTRICT_ADMIN)


def _cancel_message(*, commit: bool, done: int) -> str:
    if not commit:
        return _("已取消:只检查,未写入任何数据")
    if not done:
        return _("已取消:尚未写入任何数据")
    # `done` counts the rows read, the bad ones too: only the good ones among them were written.
    return _(
        "已取消:前 %(done)s 行已处理 (其中有效的行已写入),其余未导入;"
        "重新导入同一文件不会产生重复记录"
    ) % {"done": f"{done:,}"}


def import_job_cancel(*, actor, job: ImportJob) -> ImportJob:
    """Cancels a queued or running job; `actor` must have started it or may see all jobs
    (PermissionDenied otherwise). A queued job ends cancelled at once and its file is deleted;
    a running one is asked to stop, and its runner ends it cancelled (and deletes the file) at
    the importer's next batch boundary, keeping the batches already written. Asking again
    while it stops is harmless. ImportJobStateError when the job has already ended. Returns
    the job as it now stands."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied
    if job.actor_id != actor.id and not _may_see_all(actor):
        raise PermissionDenied
    import_job_reap(job=job)
    now = timezone.now()
    # Conditional UPDATEs: the runner claiming the job, or the job ending, may race this.
    if ImportJob.objects.filter(id=job.id, status=Status.QUEUED).update(
        status=Status.CANCELLED,
        cancel_requested_at=now,
        finished_at=now,
        file_path="",
        error=_cancel_message(commit=job.commit, done=0),
    ):
        _delete_file(job.file_path)
    elif not ImportJob.objects.filter(id=job.id, status=Status.RUNNING).exists():
        job.refresh_from_db()
        raise ImportJobStateError(
            _("该导入已结束 (%(status)s),无法取消") % {"status": job.get_status_display()}
        )
    else:
        ImportJob.objects.filter(
            id=job.id, status=Status.RUNNING, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=now)
    job.refresh_from_db()
    return job


def import_job_access(*, actor, id: int) -> ImportJob:
    """The job, when `actor` started it or is a district admin; else 404 (without telling
    whether it exists). A stale active job comes back failed."""
    if actor is None or not actor.is_authenticated:
        raise Http404
    job = ImportJob.objects.filter(id=id).first()
    if job is None:
        raise Http404
    if job.actor_id != actor.id and not _may_see_all(actor):
        raise Http404
    import_job_reap(job=job)
    return job


def import_job_list(*, actor, limit: int = RECENT) -> list[ImportJob]:
    """The actor's own most recent jobs, newest first (stale ones shown failed)."""
    import_job_reap(actor=actor)
    return list(ImportJob.objects.filter(actor=actor).order_by("-created_at", "-id")[:limit])


def import_job_rate(job: ImportJob) -> float:
    """Rows per second so far (or over the whole run, once done)."""
    if job.status == Status.DONE and job.report:
        seconds = job.report.get("seconds") or 0
        return job.report.get("total", 0) / seconds if seconds else 0.0
    if not job.started_at or not job.done_rows:
        return 0.0
    end = job.finished_at or job.heartbeat_at or timezone.now()
    seconds = (end - job.started_at).total_seconds()
    return job.done_rows / seconds if seconds > 0 else 0.0


def import_job_progress_text(job: ImportJob) -> str:
    """What the page says about how far the job got: "已处理 12,000 / 100,000 行 · 每秒 8,000 行"."""
    if job.status == Status.QUEUED:
        return _("排队中……")
    if job.status == Status.CANCELLED:
        return _("已取消")
    if job.status == Status.RUNNING and job.cancel_requested_at:
        return _("正在取消,当前批次写完即停止……")
    if job.status == Status.RUNNING and not job.done_rows:
        return _("正在读取与检查文件……")
    if job.status == Status.FAILED:
        return _("导入失败")
    if job.status == Status.RUNNING and job.total_rows <= job.done_rows:
        # The reader could not tell how many rows the file has.
        text = _("已处理 %(done)s 行") % {"done": f"{job.done_rows:,}"}
    else:
        total = job.total_rows or job.done_rows
        text = _("已处理 %(done)s / %(total)s 行") % {
            "done": f"{job.done_rows:,}",
            "total": f"{total:,}",
        }
    rate = import_job_rate(job)
    if rate:
        text += " · " + _("每秒 %(rate)s 行") % {"rate": f"{round(rate):,}"}
    return text


def import_job_progress(job: ImportJob) -> dict:
    """The progress endpoint's answer."""
    return {
        "id": job.id,
        "status": job.status,
        "status_label": job.get_status_display(),
        "finished": job.is_finished,
        "done": job.done_rows,
        "total": job.total_rows,
        "rows_per_second": round(import_job_rate(job), 1),
        "text": import_job_progress_text(job),
        "error": job.error,
        "cancel_requested": job.cancel_requested_at is not None,
        "cancellable": import_job_cancellable(job),
    }


def import_job_cancellable(job: ImportJob) -> bool:
    """Whether the job can still be cancelled (the page shows its button then)."""
    return job.status in ImportJob.ACTIVE_STATES and job.cancel_requested_at is None
