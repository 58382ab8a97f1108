"""Registry fixtures: people in grid A1 and grid B1, and an auditor."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from yiwang.org.models import RoleKind
from yiwang.org.services import role_grant
from yiwang.registry.idcard import id_check_digit
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
