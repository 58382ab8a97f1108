"""Registry fixtures: people in grid A1 and grid B1, an auditor, a district admin; and the
import-job tests' helpers."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from yiwang.org.models import RoleKind
from yiwang.org.services import role_grant
from yiwang.registry import jobs
from yiwang.registry.idcard import id_check_digit
from yiwang.registry.models import ImportJob
from yiwang.registry.services import resident_create


def make_id(birth: str = "19800101", seq: str = "123", region: str = "370203") -> str:
    """A valid 18-digit ID number: region, birth date (YYYYMMDD), sequence (odd = male)."""
    body = region + birth + seq
    return body + id_check_digit(body)


@pytest.fixture
def auditor(tree):
    user = get_user_model().objects.create_user(username="auditor", password="pw")
    role_grant(actor=None, user=user, kind=RoleKind.AUDITOR, node=tree.district)
    return user


@pytest.fixture
def person_a(tree):
    """Lives in grid A1 (铁山路22甲)."""
    return resident_create(
        actor=None,
        name="张三",
        id_number=make_id("19450312", "131"),
        phones=["13800138000"],
        address="市北区铁山路22号甲",
        tags=["独居老人"],
    )


@pytest.fixture
def person_b(tree):
    """Lives in grid B1 (紫云台小区 2 号楼)."""
    return resident_create(
        actor=None,
        name="李四",
        id_number=make_id("19900520", "242"),
        phones=["13900139000"],
        address="伊春路168号紫云台小区2号楼1单元301室",
    )


@pytest.fixture
def district_admin(tree):
    user = get_user_model().objects.create_user(username="district_admin", password="pw")
    role_grant(actor=None, user=user, kind=RoleKind.DISTRICT_ADMIN, node=tree.district)
    return user


def stored_files(var_dir) -> list:
    """The uploads an import-job test left under its var directory."""
    return sorted(var_dir.glob("*")) if var_dir.exists() else []


def finished(job_id: int) -> ImportJob:
    assert jobs.import_job_wait(job_id, timeout=60), "the import thread did not end"
    return ImportJob.objects.get(id=job_id)
